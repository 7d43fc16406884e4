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
package dev.tenure.replicator.storage;

import dev.tenure.replicator.core.Entry;
import java.util.List;

/**
 * The most recently appended entries of a log, in memory, so that replicating and applying what was just
 * written does not read it back from the files. Bounded by entry count and by payload bytes (its own bound, and
 * when it {@link #share}s a node's {@link TailBudget}, that budget's share too); holds a contiguous run of offsets
 * ending at the log end. Used on the log's event thread; thread-safe (each method holds the cache's monitor), since
 * a {@link TailBudget} trims it from the thread that opens another partition's log.
 */
final class TailCache {
    private static final int INITIAL_ENTRIES = 16;

    /** Starts small and doubles up to {@link #maxEntries}: a node hosting many idle logs holds little. */
    private Entry[] ring;

    private final int maxEntries;
    private final long maxBytes;
    private int head; // index of the oldest entry
    private int count;
    private long bytes;
    /** The node-wide budget this cache shares, or null. */
    private TailBudget budget;

    TailCache(int maxEntries, long maxBytes) {
        this.maxEntries = maxEntries;
        this.ring = new Entry[Math.min(maxEntries, INITIAL_ENTRIES)];
        this.maxBytes = maxBytes;
    }

    /** The offset of the oldest cached entry (meaningless when empty). */
    private long firstOffset() {
        return ring[head].offset();
    }

    /**
     * From now on, also keeps within {@code budget}'s share (registering with it, which trims the other caches that
     * share it); {@link #release} unregisters. Once.
     */
    void share(TailBudget budget) {
        synchronized (this) {
            if (this.budget != null) {
                throw new IllegalStateException("the tail cache shares a budget already");
            }
            this.budget = budget;
        }
        budget.register(this); // outside the monitor: it trims the other caches under theirs
        trimTo(budget.share());
    }

    /** Stops sharing a budget (the log closed); idempotent. */
    void release() {
        TailBudget b;
        synchronized (this) {
            b = budget;
        }
        if (b != null) {
            b.unregister(this);
        }
    }

    /** The bytes held, by {@link Entry#sizeInBytes()}. */
    synchronized long cachedBytes() {
        return bytes;
    }

    /** Evicts the oldest entries until at most {@code limit} bytes are held or one entry is left. */
    synchronized void trimTo(long limit) {
        while (bytes > limit && count > 1) {
            evictOldest();
        }
    }

    private long limit() {
        return budget == null ? maxBytes : Math.min(maxBytes, budget.share());
    }

    /** Appends entries that were just written at the log end. */
    synchronized void appended(List<Entry> entries) {
        long limit = limit();
        for (Entry e : entries) {
            if (count > 0 && e.offset() != firstOffset() + count) {
                clear(); // not contiguous: start over
            }
            if (count == ring.length) {
                if (ring.length < maxEntries) {
                    grow();
                } else {
                    evictOldest();
                }
            }
            ring[(head + count) % ring.length] = e;
            count++;
            bytes += e.sizeInBytes();
            while (bytes > limit && count > 1) {
                evictOldest();
            }
        }
    }

    /** Drops the cached entries at and after {@code newEnd}. */
    synchronized void truncated(long newEnd) {
        while (count > 0 && firstOffset() + count > newEnd) {
            int last = (head + count - 1) % ring.length;
            bytes -= ring[last].sizeInBytes();
            ring[last] = null;
            count--;
        }
    }

    /**
     * Adds to {@code batch} the cached entries from {@code from}, within the limits; returns false (adding
     * nothing) if {@code from} is not cached.
     */
    synchronized boolean read(long from, int maxEntries, long maxBytes, List<Entry> batch) {
        if (count == 0 || from < firstOffset() || from >= firstOffset() + count) {
            return false;
        }
        long taken = 0;
        for (long o = from; o < firstOffset() + count && batch.size() < maxEntries; o++) {
            Entry e = ring[(int) ((head + (o - firstOffset())) % ring.length)];
            taken += e.sizeInBytes();
            if (!batch.isEmpty() && taken > maxBytes) {
                break;
            }
            batch.add(e);
        }
        return true;
    }

    synchronized void clear() {
        while (count > 0) {
            evictOldest();
        }
        head = 0;
    }

    private void grow() {
        Entry[] bigger = new Entry[(int) Math.min(maxEntries, 2L * ring.length)];
        for (int i = 0; i < count; i++) {
            bigger[i] = ring[(head + i) % ring.length];
        }
        ring = bigger;
        head = 0;
    }

    private void evictOldest() {
        bytes -= ring[head].sizeInBytes();
        ring[head] = null;
        head = (head + 1) % ring.length;
        count--;
    }
}
