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
package dev.tenure.controller;

import dev.tenure.replicator.StateMachine;
import java.util.Optional;

/**
 * Makes the state machine of a partition that the controller assigns to a node which does not host it yet ({@link
 * ControllerNode.Builder#partitionFactory}), as Ratis's {@code StateMachine.Registry} maps a group to its state
 * machine: with a factory, a node opens every partition the controller names it a replica of, and closes and deletes
 * the replicas the controller takes away from it.
 *
 * <p>Called on the node's replica-host thread, one partition at a time; it must not block for long. Thread-safe
 * implementations are not needed: calls are never concurrent.
 */
@FunctionalInterface
public interface PartitionFactory {
    /**
     * A new state machine for {@code partition}.
     *
     * @param partition the partition's id
     * @param partitionSet the partition set it belongs to ({@link dev.tenure.controller.core.PartitionSet#nameOf}:
     *     the {@code NAME} of an id {@code NAME-index}), or empty for a partition whose id has no such form
     * @return the state machine the partition's replica on this node applies its committed entries to
     * @throws Exception if it cannot be made: the partition is not opened, and is tried again at the next assignment
     *     that names it
     */
    StateMachine newStateMachine(String partition, Optional<String> partitionSet) throws Exception;
}
