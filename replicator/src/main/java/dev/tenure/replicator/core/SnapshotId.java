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

/**
 * Names a snapshot: the state after applying every entry below {@code offset}, whose last entry (at {@code offset -
 * 1}) has {@code epoch} (KIP-630's {@code SnapshotId{EndOffset, Epoch}}; Raft's last included index and term). Two
 * snapshots with the same id hold the same state: entries below a snapshot are committed, and one (epoch, offset)
 * names one entry and the whole prefix before it.
 *
 * <p>Immutable and thread-safe. The constructor throws {@link IllegalArgumentException} unless both are positive.
 *
 * @param offset the first offset not in the snapshot (> 0)
 * @param epoch the epoch of the entry at {@code offset - 1} (> 0)
 */
public record SnapshotId(long offset, long epoch) implements Comparable<SnapshotId> {
    /** Checks that offset and epoch are positive. */
    public SnapshotId {
        if (offset <= 0 || epoch <= 0) {
            throw new IllegalArgumentException("snapshot offset and epoch must be > 0, were " + offset + ", " + epoch);
        }
    }

    @Override
    public int compareTo(SnapshotId o) {
        int c = Long.compare(offset, o.offset);
        return c != 0 ? c : Long.compare(epoch, o.epoch);
    }

    @Override
    public String toString() {
        return epoch + ":" + offset;
    }
}
