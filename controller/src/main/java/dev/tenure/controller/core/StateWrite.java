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
 * One compare-and-set write of a partition's state: {@code state} replaces the state node's content if the node is
 * still at {@code expectedVersion}, or creates it when {@code expectedVersion} is {@link #CREATE}. Always sent fenced
 * by the controller's epoch. Immutable and thread-safe.
 *
 * @param partition the partition's id
 * @param state the new state
 * @param expectedVersion the state node's version the write expects, or {@link #CREATE}
 * @param writesConfiguration whether the same transaction writes the partition's configuration node {@code
 *     P/partitions/ID/configuration} too: on a {@link #CREATE} it is created with the partition's node (its replica
 *     set at version 0, as the controller does for the partitions of a partition set; a partition opened by a node
 *     has its configuration already); on an update it is set to the state's configuration (a reassignment step,
 *     docs/controller.md, "Reassignment")
 */
public record StateWrite(String partition, PartitionState state, int expectedVersion, boolean writesConfiguration) {
    /** The expected version of a write that creates the partition's state node. */
    public static final int CREATE = -1;

    /** Checks. */
    public StateWrite {
        Preconditions.checkNotNull(partition, "partition");
        Preconditions.checkNotNull(state, "state");
        Preconditions.checkArgument(
                expectedVersion >= CREATE, "expectedVersion must be >= -1, was %s", expectedVersion);
    }

    /** A write that writes no configuration. */
    public StateWrite(String partition, PartitionState state, int expectedVersion) {
        this(partition, state, expectedVersion, false);
    }
}
