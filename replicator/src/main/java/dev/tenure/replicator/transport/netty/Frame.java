/*
 * Copyright 2026 The Tenure authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package dev.tenure.replicator.transport.netty;

import dev.tenure.replicator.core.Message;

/**
 * What one frame carries: a handshake frame, a protocol message, a protocol message of a partition, or a node
 * transport's control message.
 */
sealed interface Frame {
    /** The connecting side's first frame: who it is, and whom it means to reach in which cluster. */
    record Hello(String clusterName, String fromReplicaId, String toReplicaId) implements Frame {}

    /** The accepting side's answer to an unacceptable {@link Hello}, sent just before it closes. */
    record HelloRejected(String reason) implements Frame {}

    /** "Still here": sent on a node transport's outbound connection that had nothing to write for a while. */
    record Ping() implements Frame {}

    /** A replication protocol message. */
    record Protocol(Message message) implements Frame {}

    /** A replication protocol message of one partition (a node transport's frame). */
    record Partitioned(String partition, Message message) implements Frame {}

    /**
     * An opaque control message of a node transport (at most {@link
     * dev.tenure.replicator.transport.NodeTransport#MAX_CONTROL_BYTES} bytes). It names no sender: the sender is
     * the connection's authenticated peer. The array is not copied: whoever makes a frame hands the array over.
     */
    // Never compared: receivers read the body.
    @SuppressWarnings("ArrayRecordComponent")
    record Control(byte[] body) implements Frame {}
}
