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
package dev.tenure.replicator.core;

import java.util.List;
import java.util.Objects;

/**
 * What a snapshot file's header says of it.
 *
 * <p>Immutable and thread-safe: the members are copied. The constructor throws {@link IllegalArgumentException} if the
 * history does not end at the snapshot or the size is not positive.
 *
 * @param id the snapshot's id
 * @param history the epoch history of the log up to the snapshot ({@code [0, id.offset())}), so that a replica whose
 *     log starts at the snapshot still compares its log with others' below that point
 * @param members the replica set the snapshot was taken in
 * @param sizeBytes the size of the snapshot file, header and checksum included: what an install transfers
 */
public record SnapshotMeta(SnapshotId id, EpochHistory history, List<String> members, long sizeBytes) {
    /** Copies the members and checks the history and the size. */
    public SnapshotMeta {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(history, "history");
        members = List.copyOf(members);
        if (history.epochAt(id.offset() - 1) != id.epoch()) {
            throw new IllegalArgumentException("snapshot " + id + " does not end its history " + history);
        }
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("snapshot size must be > 0, was " + sizeBytes);
        }
    }
}
