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
 * A partition's state with the version of the ZooKeeper node that holds it: the version a compare-and-set write of
 * the next state must expect (as Kafka's partition state znode version). Immutable and thread-safe.
 *
 * @param partition the partition's id
 * @param state its state
 * @param version the version of its state node
 */
public record VersionedState(String partition, PartitionState state, int version) {
    /** Checks. */
    public VersionedState {
        Preconditions.checkNotNull(partition, "partition");
        Preconditions.checkNotNull(state, "state");
        Preconditions.checkArgument(version >= 0, "version must be >= 0, was %s", version);
    }
}
