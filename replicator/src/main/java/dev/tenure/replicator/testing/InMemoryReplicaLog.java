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
package dev.tenure.replicator.testing;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.ReplicaLog;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ReplicaLog} in memory that models a file in the page cache: {@link #sync()} makes the current
 * content durable; after a process crash the content stays as it is (the page cache survives) and {@link
 * #reopen()} forces it, as {@code SegmentedLog.open} does; {@link #powerLoss()} reverts to the last synced
 * content (appends and truncations since then are lost). {@link #compact} and {@link #resetTo} are durable when
 * they return, as in {@code SegmentedLog}. For tests and simulations.
 *
 * <p>Not thread-safe, except {@link #epochHistory()}, {@link #logEndOffset()} and {@link #logStartOffset()}, which
 * any thread may read.
 */
public final class InMemoryReplicaLog implements ReplicaLog {
    /** Entries from {@link #start}. */
    private final List<Entry> entries = new ArrayList<>();

    private volatile long start;
    private volatile long end;
    private volatile EpochHistory history = EpochHistory.empty();
    /** The durable content: entries from {@link #durableStart}, with their history. */
    private final List<Entry> durable = new ArrayList<>();

    private long durableStart;
    private EpochHistory durableHistory = EpochHistory.empty();
    /** The lowest offset changed since the last sync. */
    private long dirtyFrom = Long.MAX_VALUE;

    @Override
    public long logEndOffset() {
        return end;
    }

    @Override
    public long logStartOffset() {
        return start;
    }

    @Override
    public EpochHistory epochHistory() {
        return history;
    }

    @Override
    public void append(List<Entry> batch) {
        long expected = end;
        long lastEpoch = history.lastEpoch();
        for (Entry e : batch) {
            if (e.offset() != expected++ || e.epoch() < lastEpoch) {
                throw new IllegalArgumentException("entry " + e + " does not follow " + end + "@" + lastEpoch);
            }
            lastEpoch = e.epoch();
        }
        dirtyFrom = Math.min(dirtyFrom, end);
        EpochHistory h = history;
        for (Entry e : batch) {
            h = h.withEntry(e.epoch(), e.offset());
            entries.add(e);
        }
        history = h;
        end = start + entries.size();
    }

    @Override
    public void truncate(long newEnd) {
        if (newEnd < start || newEnd > end) {
            throw new IllegalArgumentException(
                    "cannot truncate to " + newEnd + " a log holding [" + start + ", " + end + ")");
        }
        entries.subList((int) (newEnd - start), entries.size()).clear();
        history = history.truncatedTo(newEnd);
        end = newEnd;
        dirtyFrom = Math.min(dirtyFrom, newEnd);
    }

    @Override
    public List<Entry> read(long from, int maxEntries, long maxBytes) {
        if (from < start) {
            throw new IllegalArgumentException("offset " + from + " is below the log start " + start);
        }
        List<Entry> batch = new ArrayList<>();
        long bytes = 0;
        for (long o = from; o < end && batch.size() < maxEntries; o++) {
            Entry e = entries.get((int) (o - start));
            bytes += e.sizeInBytes();
            if (!batch.isEmpty() && bytes > maxBytes) {
                break;
            }
            batch.add(e);
        }
        return batch;
    }

    @Override
    public void compact(long newStart) {
        if (newStart > end) {
            throw new IllegalArgumentException("cannot compact to " + newStart + " a log ending at " + end);
        }
        if (newStart <= start) {
            return;
        }
        entries.subList(0, (int) (newStart - start)).clear();
        start = newStart;
        // Durably: the durable content loses the same prefix.
        if (newStart > durableStart) {
            int drop = (int) Math.min(durable.size(), newStart - durableStart);
            durable.subList(0, drop).clear();
            durableStart = newStart;
        }
    }

    @Override
    public void resetTo(long offset, EpochHistory h) {
        entries.clear();
        start = offset;
        end = offset;
        history = h;
        durable.clear();
        durableStart = offset;
        durableHistory = h;
        dirtyFrom = Long.MAX_VALUE;
    }

    /** Makes the current content durable; returns the durable end offset. */
    public long sync() {
        if (dirtyFrom != Long.MAX_VALUE) {
            long keepEnd = Math.max(durableStart, Math.min(dirtyFrom, durableStart + durable.size()));
            durable.subList((int) (keepEnd - durableStart), durable.size()).clear();
            for (long o = keepEnd; o < end; o++) {
                durable.add(entries.get((int) (o - start)));
            }
            durableHistory = history;
            dirtyFrom = Long.MAX_VALUE;
        }
        return end;
    }

    /**
     * Opens the log again after a process crash: what the page cache held is read back and forced before the log
     * is used, as {@code SegmentedLog.open} does.
     */
    public void reopen() {
        sync();
    }

    /**
     * Opens the log again without forcing what it finds: the content is read back and counts as clean, but only
     * the last synced content survives a later {@link #powerLoss()}. This is how {@code SegmentedLog.open} behaved
     * before it forced the records it found (issue 12, defect 1); the simulation reintroduces it to show that it
     * catches the acknowledged writes this loses.
     *
     * <p>For mutation tests only: this deliberately reintroduces that defect. A log meant to behave like a correct
     * {@code SegmentedLog} must use {@link #reopen()}.
     */
    public void reopenWithoutForcing() {
        dirtyFrom = Long.MAX_VALUE;
    }

    /** The end of the prefix that is durable and equal to the current content. */
    public long durablePrefix() {
        return Math.min(dirtyFrom, durableStart + durable.size());
    }

    /** The machine lost power: everything not synced is gone. */
    public void powerLoss() {
        entries.clear();
        entries.addAll(durable);
        start = durableStart;
        end = durableStart + durable.size();
        history = durableHistory.truncatedTo(end);
        dirtyFrom = Long.MAX_VALUE;
    }

    /** The entry at {@code offset}, which must be in {@code [logStartOffset(), logEndOffset())}. */
    public Entry get(long offset) {
        if (offset < start || offset >= end) {
            throw new IndexOutOfBoundsException("offset " + offset + " outside [" + start + ", " + end + ")");
        }
        return entries.get((int) (offset - start));
    }
}
