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

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;

/**
 * The epochs of a log and the offset at which each starts (Kafka's leader epoch cache): a step function
 * from offset to epoch. Two logs whose histories agree below an offset hold the same entries below it, so
 * comparing histories finds where logs diverge without reading them (KIP-101/279).
 *
 * <p>Immutable; every change returns a new history.
 */
public final class EpochHistory {
    /** One epoch and its first offset. */
    public record Start(long epoch, long startOffset) {}

    private static final EpochHistory EMPTY = new EpochHistory(List.of());

    private final List<Start> starts;

    private EpochHistory(List<Start> starts) {
        this.starts = starts;
    }

    /** The history of an empty log. */
    public static EpochHistory empty() {
        return EMPTY;
    }

    /**
     * A history from its epoch starts.
     *
     * @throws IllegalArgumentException unless epochs strictly increase and start offsets strictly increase
     */
    public static EpochHistory of(List<Start> starts) {
        for (int i = 1; i < starts.size(); i++) {
            Start a = starts.get(i - 1);
            Start b = starts.get(i);
            if (b.epoch() <= a.epoch() || b.startOffset() <= a.startOffset()) {
                throw new IllegalArgumentException("epoch history must strictly increase: " + starts);
            }
        }
        if (!starts.isEmpty()
                && (starts.get(0).startOffset() < 0 || starts.get(0).epoch() <= 0)) {
            throw new IllegalArgumentException("epoch history starts must be positive: " + starts);
        }
        return new EpochHistory(List.copyOf(starts));
    }

    /** The epoch starts, in increasing order. */
    public List<Start> starts() {
        return starts;
    }

    /** True if it has no epoch start. */
    public boolean isEmpty() {
        return starts.isEmpty();
    }

    /** The last epoch, or 0 for an empty history. */
    public long lastEpoch() {
        return starts.isEmpty() ? 0 : starts.get(starts.size() - 1).epoch();
    }

    /**
     * The epoch of the entry at {@code offset}, or 0 if the offset precedes every epoch start. A binary search: a log
     * is asked this on every sync and append, and its history grows by one start per leader change.
     */
    public long epochAt(long offset) {
        int lo = 0;
        int hi = starts.size() - 1;
        long epoch = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Start s = starts.get(mid);
            if (s.startOffset() <= offset) {
                epoch = s.epoch();
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return epoch;
    }

    /** This history with an entry of {@code epoch} appended at {@code offset}. */
    public EpochHistory withEntry(long epoch, long offset) {
        long last = lastEpoch();
        if (epoch == last) {
            return this;
        }
        if (epoch < last) {
            throw new IllegalArgumentException("epoch " + epoch + " after epoch " + last);
        }
        if (!starts.isEmpty() && offset <= starts.get(starts.size() - 1).startOffset()) {
            throw new IllegalArgumentException("epoch " + epoch + " cannot start at " + offset + " in " + this);
        }
        List<Start> next = new ArrayList<>(starts);
        next.add(new Start(epoch, offset));
        return new EpochHistory(Collections.unmodifiableList(next));
    }

    /** This history for a log truncated to end at {@code logEnd} (epochs starting at or after it drop). */
    public EpochHistory truncatedTo(long logEnd) {
        int keep = 0;
        while (keep < starts.size() && starts.get(keep).startOffset() < logEnd) {
            keep++;
        }
        return keep == starts.size() ? this : new EpochHistory(List.copyOf(starts.subList(0, keep)));
    }

    /**
     * The length of the longest common prefix of two logs, given their histories and ends: the first offset
     * at which their epochs differ, capped by the shorter log.
     */
    public static long commonPrefix(EpochHistory a, long aEnd, EpochHistory b, long bEnd) {
        long limit = Math.min(aEnd, bEnd);
        TreeSet<Long> points = new TreeSet<>();
        points.add(0L);
        a.starts.forEach(s -> points.add(s.startOffset()));
        b.starts.forEach(s -> points.add(s.startOffset()));
        for (long p : points) {
            if (p >= limit) {
                break;
            }
            if (a.epochAt(p) != b.epochAt(p)) {
                return p;
            }
        }
        return limit;
    }

    /** Orders logs by how up to date they are: the higher last epoch first, then the longer log. */
    public static int compareUpToDate(EpochHistory a, long aEnd, EpochHistory b, long bEnd) {
        int c = Long.compare(a.lastEpoch(), b.lastEpoch());
        return c != 0 ? c : Long.compare(aEnd, bEnd);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EpochHistory && ((EpochHistory) o).starts.equals(starts);
    }

    @Override
    public int hashCode() {
        return starts.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (Start s : starts) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(s.epoch()).append('@').append(s.startOffset());
        }
        return sb.append(']').toString();
    }
}
