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

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The bytes of recent entries that the logs of one node keep in memory together (each {@link SegmentedLog}'s tail
 * cache, which spares replication and apply reading back what was just written): each log opened with it ({@link
 * SegmentedLog#open(java.nio.file.Path, LogConfig, TailBudget)}, or a {@link WriteAheadLog}'s partition logs) may hold
 * an equal share, the total divided by the open logs, so that a node's memory for cached entries does not grow with
 * its number of partitions (a log's own bound, 16 MiB, times 1,000 partitions would be 16 GiB). A log that opens
 * shrinks every share, and the other logs are trimmed to the new share at once; a closed log gives its share back
 * (the others grow into it from their next append). The logs then hold at most the total plus one entry each (a log
 * keeps its newest entry whatever its size); what a log no longer holds it reads from its files. TiKV bounds its
 * entry caches node-wide the same way; Kafka leaves this to the page cache.
 *
 * <p>Thread-safe: logs of different partitions open, append and close on their own threads.
 */
public final class TailBudget {
    private final long totalBytes;
    /** Registered caches; guarded by this. */
    private final Set<TailCache> caches = new LinkedHashSet<>();

    private volatile long share;

    /**
     * A budget of {@code totalBytes} shared by the logs opened with it; 0 keeps only each log's newest entry.
     *
     * @throws IllegalArgumentException if {@code totalBytes} is negative
     */
    public TailBudget(long totalBytes) {
        Preconditions.checkArgument(totalBytes >= 0, "a tail budget must be at least 0 bytes, was %s", totalBytes);
        this.totalBytes = totalBytes;
        this.share = totalBytes;
    }

    /** The bytes one registered cache may hold now. */
    long share() {
        return share;
    }

    /** The budget's total. */
    public long totalBytes() {
        return totalBytes;
    }

    /** Adds {@code cache}, shrinking every share, and trims every other cache to the new share before returning. */
    void register(TailCache cache) {
        List<TailCache> others;
        long now;
        synchronized (this) {
            caches.add(cache);
            now = totalBytes / caches.size();
            share = now;
            others = new ArrayList<>(caches);
        }
        for (TailCache c : others) {
            if (c != cache) {
                c.trimTo(now);
            }
        }
    }

    /** Removes {@code cache} (a closed log's): the others' shares grow from their next append. Idempotent. */
    synchronized void unregister(TailCache cache) {
        if (caches.remove(cache)) {
            share = totalBytes / Math.max(1, caches.size());
        }
    }

    /** The bytes the open logs keep now, by {@link dev.tenure.replicator.core.Entry#sizeInBytes()}. */
    public long cachedBytes() {
        List<TailCache> all;
        synchronized (this) {
            all = new ArrayList<>(caches);
        }
        long sum = 0;
        for (TailCache c : all) {
            sum += c.cachedBytes();
        }
        return sum;
    }

    /** The number of caches registered. */
    synchronized int caches() {
        return caches.size();
    }
}
