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
 * written does not read it back from the files. Bounded by entry count and by payload bytes; holds a
 * contiguous run of offsets ending at the log end. Not thread-safe: used on the log's event thread.
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

    TailCache(int maxEntries, long maxBytes) {
        this.maxEntries = maxEntries;
        this.ring = new Entry[Math.min(maxEntries, INITIAL_ENTRIES)];
        this.maxBytes = maxBytes;
    }

    /** The offset of the oldest cached entry (meaningless when empty). */
    private long firstOffset() {
        return ring[head].offset();
    }

    /** Appends entries that were just written at the log end. */
    void appended(List<Entry> entries) {
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
            while (bytes > maxBytes && count > 1) {
                evictOldest();
            }
        }
    }

    /** Drops the cached entries at and after {@code newEnd}. */
    void truncated(long newEnd) {
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
    boolean read(long from, int maxEntries, long maxBytes, List<Entry> batch) {
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

    void clear() {
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
