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
/**
 * The controller's ZooKeeper layer: where its records live ({@link dev.tenure.controller.zookeeper.ControllerPaths}),
 * the text form of a partition's state ({@link dev.tenure.controller.zookeeper.PartitionStateRecord}), a node's
 * registration ({@link dev.tenure.controller.zookeeper.NodeRegistrar}), the controller's view of the registrations
 * ({@link dev.tenure.controller.zookeeper.LiveNodes}) and the fenced, pipelined reads and writes of partition states
 * ({@link dev.tenure.controller.zookeeper.PartitionStateStore}).
 *
 * <p>Under a cluster path {@code P}:
 *
 * <pre>
 * P/controller/...          the controller's FencedLeaderElection; its epoch is the controller epoch
 * P/nodes/ID                EPHEMERAL   node ID's registration; its czxid is the node epoch (KIP-380)
 * P/partitions/ID           PERSISTENT  partition ID
 * P/partitions/ID/state     PERSISTENT  its state, written only fenced by the controller epoch (KAFKA-6082)
 * </pre>
 *
 * <p>Nothing read from ZooKeeper is trusted: names and records are checked, and a malformed one is refused with a
 * message naming its path.
 */
package dev.tenure.controller.zookeeper;
