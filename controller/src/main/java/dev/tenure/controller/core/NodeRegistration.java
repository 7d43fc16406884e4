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
package dev.tenure.controller.core;

import com.google.common.base.Preconditions;

/**
 * One registration of a node: its id, its <em>node epoch</em> — new for every registration (the ZooKeeper
 * transaction id that created the registration node, as Kafka's broker epoch of KIP-380) — and the endpoint its
 * peers reach it at. A node restarted, or back with a new ZooKeeper session, registers again with a higher node
 * epoch; requests and reports of the previous registration are refused. Immutable and thread-safe.
 *
 * @param node the node's id
 * @param nodeEpoch the registration's epoch, above 0
 * @param endpoint {@code HOST:PORT} of the node's replication listener
 */
public record NodeRegistration(String node, long nodeEpoch, String endpoint) {
    /** Checks. */
    public NodeRegistration {
        PartitionState.checkNodeId(node);
        Preconditions.checkArgument(nodeEpoch > 0, "nodeEpoch must be > 0, was %s", nodeEpoch);
        Preconditions.checkNotNull(endpoint, "endpoint");
    }
}
