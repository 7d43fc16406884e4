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
package dev.tenure.replicator;

/**
 * When this node last heard from the node of each other replica, on the replica's clock: what a node that hosts many
 * partitions learns from any message or coalesced heartbeat of a peer node, once for all its partitions. A quiet
 * leader ({@link dev.tenure.replicator.core.CoreConfig#quiesce()}) counts it for check-quorum. Must be thread-safe and
 * cheap: it is read on the replica's event thread.
 */
@FunctionalInterface
public interface PeerLiveness {
    /** When the node of {@code replicaId} was last heard from, or {@link Long#MIN_VALUE} if never. */
    long lastHeardNanos(String replicaId);
}
