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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The controller's one request to one node: the states of partitions the node hosts, sent after they were written to
 * ZooKeeper, batched (one request per node per change, however many partitions it carries). The node applies it only
 * if {@code controllerEpoch} is not below the highest controller epoch it has seen (kept on its disk) and {@code
 * nodeEpoch} is its current registration's; then each partition's state only if its leader epoch is newer than the
 * one the node knows (docs/controller.md, rules 4 and 5). Immutable and thread-safe.
 *
 * @param controllerEpoch the sending controller's epoch
 * @param controller the sending controller's node id
 * @param node the node it is addressed to
 * @param nodeEpoch the registration of {@code node} it is addressed to
 * @param full whether {@code partitions} holds every partition the node hosts (sent when a controller takes office
 *     and when a node registers), so the node can tell which of its leaderships are over
 * @param partitions partition id to state, in the controller's order
 */
public record LeaderAndReplicas(
        long controllerEpoch,
        String controller,
        String node,
        long nodeEpoch,
        boolean full,
        Map<String, PartitionState> partitions) {
    /** Checks and copies. */
    public LeaderAndReplicas {
        Preconditions.checkArgument(controllerEpoch > 0, "controllerEpoch must be > 0, was %s", controllerEpoch);
        PartitionState.checkNodeId(controller);
        PartitionState.checkNodeId(node);
        Preconditions.checkArgument(nodeEpoch > 0, "nodeEpoch must be > 0, was %s", nodeEpoch);
        partitions = Collections.unmodifiableMap(new LinkedHashMap<>(partitions));
    }
}
