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
 * @param configurationChanged whether the write changes the partition's configuration: then the same transaction
 *     writes the configuration to the node {@code P/partitions/ID/configuration} too (docs/controller.md,
 *     "Reassignment")
 */
public record StateWrite(String partition, PartitionState state, int expectedVersion, boolean configurationChanged) {
    /** The expected version of a write that creates the partition's state node. */
    public static final int CREATE = -1;

    /** Checks. */
    public StateWrite {
        Preconditions.checkNotNull(partition, "partition");
        Preconditions.checkNotNull(state, "state");
        Preconditions.checkArgument(
                expectedVersion >= CREATE, "expectedVersion must be >= -1, was %s", expectedVersion);
        Preconditions.checkArgument(
                !configurationChanged || expectedVersion != CREATE,
                "a created state has the configuration it was read with");
    }

    /** A write that leaves the configuration as it is. */
    public StateWrite(String partition, PartitionState state, int expectedVersion) {
        this(partition, state, expectedVersion, false);
    }
}
