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

/**
 * The log as the replication core sees it. Appends and truncations take effect at once for reads but are
 * durable only after the driver has synced the log (the core asks with {@link Action.SyncLog} and learns
 * of it through {@link ReplicaCore#logSynced}).
 *
 * <p>Called from the replica's event thread only. A method that throws stops the replica (fail-stop).
 */
public interface ReplicaLog {
    /** The offset the next appended entry gets. */
    long logEndOffset();

    /** The epoch history of the entries in {@code [0, logEndOffset())}. */
    EpochHistory epochHistory();

    /** The epoch of the entry at {@code offset}, or 0 if there is none. */
    default long epochAt(long offset) {
        return offset < 0 || offset >= logEndOffset() ? 0 : epochHistory().epochAt(offset);
    }

    /**
     * Appends entries, the first at {@link #logEndOffset()}, consecutive, with epochs not lower than the
     * last.
     */
    void append(List<Entry> entries);

    /** Removes the entries at and after {@code newEnd}. */
    void truncate(long newEnd);

    /** Up to {@code maxEntries} entries from {@code from}, at most {@code maxBytes} (at least one entry). */
    List<Entry> read(long from, int maxEntries, long maxBytes);

    /**
     * The first offset the log holds; the entries below it were compacted into a snapshot. The epoch history still
     * covers them. 0 for a log never compacted.
     */
    default long logStartOffset() {
        return 0;
    }

    /**
     * Deletes entries below {@code newStart}, durably before it returns, as far as the log's storage units allow
     * (a segmented log deletes whole segments only, so its start may stay lower). The epoch history is kept.
     *
     * @throws IllegalArgumentException if {@code newStart} is beyond the log end
     */
    default void compact(long newStart) {}

    /**
     * Replaces the whole log, durably before it returns, with an empty one that starts and ends at {@code offset}
     * and has {@code history} (an installed snapshot's): every entry is removed.
     */
    default void resetTo(long offset, EpochHistory history) {
        throw new UnsupportedOperationException("this log cannot be reset to a snapshot");
    }
}
