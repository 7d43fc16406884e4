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
package dev.tenure.replicator.transport;

/**
 * Receives the control messages that reach a node ({@link NodeTransport#sendControl}), as {@link
 * PartitionRouter#controlInbound} hands them on: for a component beside the node, such as a controller or its node
 * agent.
 *
 * <p>Implementations must be thread-safe: the transport calls them on its threads, for different nodes concurrently.
 */
@FunctionalInterface
public interface ControlInbound {
    /**
     * Control message {@code body} arrived from node {@code fromNode}: the peer the transport authenticated on the
     * connection it came on (with mutual TLS, the id its certificate names), never a value the sender chose inside
     * the message. Called on a transport thread: it must only enqueue; calls for different nodes may come
     * concurrently. Messages from one node arrive in the order it sent them; any may be missing. The array is the
     * receiver's to keep. An exception thrown is logged and affects nothing else.
     */
    void control(String fromNode, byte[] body);
}
