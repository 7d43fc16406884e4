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
package dev.tenure.checker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Checks the log positions ({@code epoch}, {@code offset}) the service reported for {@code ok} writes, cas and
 * deletes. Offsets are positions in the one replicated log shared by all keys. Stateless and thread-safe.
 *
 * <ul>
 *   <li>{@link Kind#DUPLICATE_POSITION}: two operations reported the same offset (whatever their epochs): one of
 *       them was acknowledged and later overwritten.
 *   <li>{@link Kind#REORDERED}: A completed before B was invoked but offset(A) &gt; offset(B): the log does not
 *       respect real time. (Equal offsets are reported once, as a duplicate.) Each B is reported once, against
 *       the earlier-completed operation with the highest offset.
 *   <li>{@link Kind#EPOCH_REGRESSED}: offset(A) &lt; offset(B) but epoch(A) &gt; epoch(B): epochs must not go down
 *       along the log. Each B is reported once, against the lower-offset operation with the highest epoch.
 * </ul>
 *
 * <p>Positions on reads, and operations without a position, are ignored. A cas that did not match takes a log
 * position in the service but reports none, so gaps between offsets are expected and not checked. Failure
 * behaviour: none; any well-formed {@link History} is checked in O(n log n).
 */
public final class PositionChecker {
    /** What is wrong with a pair of positions. */
    public enum Kind {
        /** Two operations report the same offset. */
        DUPLICATE_POSITION,
        /** An operation completed before another was invoked but has the higher offset. */
        REORDERED,
        /** A higher offset carries a lower epoch than an offset below it. */
        EPOCH_REGRESSED
    }

    /**
     * A pair of operations whose positions contradict each other.
     *
     * @param kind what is wrong
     * @param first the operation earlier in the log or in time
     * @param second the operation it contradicts
     * @param explanation for humans
     */
    public record PositionViolation(Kind kind, Operation first, Operation second, String explanation) {
        @Override
        public String toString() {
            return explanation;
        }
    }

    /** Checks every positioned operation of the history. */
    public List<PositionViolation> check(History history) {
        long origin = history.startTime();
        List<Operation> positioned = history.operations().stream()
                .filter(o -> o.isOk() && o.isMutation() && o.offset().isPresent())
                .toList();
        List<PositionViolation> out = new ArrayList<>();

        List<Operation> byOffset = positioned.stream()
                .sorted(Comparator.comparingLong(PositionChecker::offset).thenComparingInt(Operation::id))
                .toList();
        for (int i = 1; i < byOffset.size(); i++) {
            Operation a = byOffset.get(i - 1);
            Operation b = byOffset.get(i);
            if (offset(a) == offset(b)) {
                Operation first = firstOfOffset(byOffset, i);
                out.add(new PositionViolation(
                        Kind.DUPLICATE_POSITION,
                        first,
                        b,
                        "duplicate position: offset " + offset(b) + " reported by " + first.describe(origin)
                                + " and by " + b.describe(origin)));
            }
        }

        List<Operation> byCompletion = positioned.stream()
                .sorted(Comparator.comparingLong(Operation::completeTime))
                .toList();
        int j = 0;
        Operation highest = null;
        for (Operation b : positioned) { // invoke order
            while (j < byCompletion.size() && byCompletion.get(j).completeTime() < b.invokeTime()) {
                Operation a = byCompletion.get(j++);
                if (highest == null || offset(a) > offset(highest)) {
                    highest = a;
                }
            }
            if (highest != null && offset(highest) > offset(b)) {
                out.add(new PositionViolation(
                        Kind.REORDERED,
                        highest,
                        b,
                        "reordered: " + highest.describe(origin) + " completed before " + b.describe(origin)
                                + " was invoked, but has the higher offset"));
            }
        }

        Operation maxEpoch = null;
        int groupStart = 0;
        while (groupStart < byOffset.size()) {
            int groupEnd = groupStart;
            while (groupEnd < byOffset.size() && offset(byOffset.get(groupEnd)) == offset(byOffset.get(groupStart))) {
                groupEnd++;
            }
            for (int i = groupStart; i < groupEnd; i++) {
                Operation b = byOffset.get(i);
                if (maxEpoch != null && epoch(maxEpoch) > epoch(b)) {
                    out.add(new PositionViolation(
                            Kind.EPOCH_REGRESSED,
                            maxEpoch,
                            b,
                            "epoch regressed: " + b.describe(origin) + " has a higher offset than "
                                    + maxEpoch.describe(origin) + " but a lower epoch"));
                }
            }
            for (int i = groupStart; i < groupEnd; i++) {
                Operation b = byOffset.get(i);
                if (maxEpoch == null || epoch(b) > epoch(maxEpoch)) {
                    maxEpoch = b;
                }
            }
            groupStart = groupEnd;
        }
        return out;
    }

    private static Operation firstOfOffset(List<Operation> byOffset, int i) {
        int k = i;
        while (k > 0 && offset(byOffset.get(k - 1)) == offset(byOffset.get(i))) {
            k--;
        }
        return byOffset.get(k);
    }

    private static long offset(Operation o) {
        return o.offset().getAsLong();
    }

    private static long epoch(Operation o) {
        return o.epoch().getAsLong();
    }
}
