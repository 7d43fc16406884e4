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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A cheap, sound check for reads (and cas expectations) that no linearization explains, used when the full search
 * of a key runs out of budget. Stateless; not a public API.
 *
 * <p>An {@code ok} read X of value v is explained only if some operation P that did not fail and produces v (a
 * write of v, a cas to v, a delete or the initial state for absent) can be the last mutation before X. P cannot be
 * if X completed before P was invoked, or if some {@code ok} mutation M was invoked after P completed and completed
 * before X was invoked: M then lies between P and X in every linearization. If no P remains, the history is not
 * linearizable. The same holds for the expected value of an {@code ok} cas. Runs in O(n log n) per key plus the
 * producers of each value read.
 */
final class ImpossibleReads {
    /** An observer no producer explains, why, and the operations that show it. */
    record Finding(Operation observer, String reason, List<Operation> involved) {}

    private final List<Operation> okMutations; // by invoke time
    private final long[] invokeTimes;
    private final int[] suffixMinComplete; // index into okMutations of the earliest completion at or after i

    private ImpossibleReads(List<Operation> ops) {
        okMutations = ops.stream()
                .filter(o -> o.isMutation() && o.isOk())
                .sorted(Comparator.comparingLong(Operation::invokeTime))
                .toList();
        int m = okMutations.size();
        invokeTimes = new long[m];
        suffixMinComplete = new int[m + 1];
        suffixMinComplete[m] = -1;
        for (int i = m - 1; i >= 0; i--) {
            invokeTimes[i] = okMutations.get(i).invokeTime();
            int best = suffixMinComplete[i + 1];
            suffixMinComplete[i] = best < 0
                            || okMutations.get(i).completeTime()
                                    <= okMutations.get(best).completeTime()
                    ? i
                    : best;
        }
    }

    /** The impossible observer that completes first, if any. */
    static Optional<Finding> first(List<Operation> ops, long origin) {
        return new ImpossibleReads(ops).find(ops, origin);
    }

    private Optional<Finding> find(List<Operation> ops, long origin) {
        Map<String, List<Operation>> producers = new HashMap<>(); // null key: absent
        for (Operation o : ops) {
            if (o.isMutation() && !o.isFail()) {
                producers.computeIfAbsent(o.result(), k -> new ArrayList<>()).add(o);
            }
        }
        List<Operation> observers = ops.stream()
                .filter(o -> o.isOk() && (o.f() == Event.F.READ || o.f() == Event.F.CAS))
                .sorted(Comparator.comparingLong(Operation::completeTime))
                .toList();
        for (Operation x : observers) {
            String v = x.f() == Event.F.READ ? x.value() : x.expected();
            String verb = x.f() == Event.F.READ ? "returned " : "expected ";
            // Another operation than x itself: identity, as the lists hold each operation once.
            @SuppressWarnings("ReferenceEquality")
            List<Operation> candidates = producers.getOrDefault(v, List.of()).stream()
                    .filter(p -> p != x)
                    .toList();
            if (v == null) {
                Operation killer = between(Long.MIN_VALUE, x.invokeTime());
                if (killer == null) {
                    continue; // the initial state explains it
                }
                if (explained(x, candidates)) {
                    continue;
                }
                List<Operation> involved = new ArrayList<>(List.of(killer, x));
                return Optional.of(new Finding(
                        x,
                        "it " + verb + "absent, but " + killer.describe(origin)
                                + " completed before it was invoked, and "
                                + (candidates.isEmpty()
                                        ? "no delete on the key could come after that"
                                        : "every delete was overwritten before it was invoked"),
                        involved));
            }
            if (explained(x, candidates)) {
                continue;
            }
            List<Operation> involved = new ArrayList<>();
            String reason;
            if (candidates.isEmpty()) {
                List<Operation> failed = ops.stream()
                        .filter(o -> o.isMutation() && o.isFail() && v.equals(o.result()))
                        .toList();
                involved.addAll(failed.stream().limit(3).toList());
                reason = failed.isEmpty()
                        ? "no operation ever wrote " + Operation.quote(v)
                        : Operation.quote(v) + " was written only by operations that failed (definitely not applied)";
            } else if (candidates.stream().allMatch(x::precedes)) {
                involved.addAll(candidates.stream().limit(3).toList());
                reason = Operation.quote(v) + " was written only after it completed";
            } else {
                Operation last = candidates.stream()
                        .filter(p -> !x.precedes(p))
                        .max(Comparator.comparingLong(Operation::invokeTime))
                        .orElseThrow();
                Operation killer = between(last.intervalEnd(), x.invokeTime());
                involved.add(last);
                involved.add(killer);
                reason = Operation.quote(v) + " was overwritten before it was invoked: " + killer.describe(origin)
                        + " came after every write of it (the last: " + last.describe(origin) + ")";
            }
            involved.add(x);
            return Optional.of(new Finding(x, "it " + verb + Operation.quote(v) + ", but " + reason, involved));
        }
        return Optional.empty();
    }

    /** Whether some producer can be the last mutation before {@code x}. */
    private boolean explained(Operation x, List<Operation> producers) {
        for (Operation p : producers) {
            if (x.precedes(p)) {
                continue;
            }
            if (p.isInfo() || between(p.completeTime(), x.invokeTime()) == null) {
                return true;
            }
        }
        return false;
    }

    /** An ok mutation invoked after {@code after} that completed before {@code before}, or null. */
    private Operation between(long after, long before) {
        int lo = 0;
        int hi = invokeTimes.length;
        while (lo < hi) { // first index with invokeTime > after
            int mid = (lo + hi) >>> 1;
            if (invokeTimes[mid] > after) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        int best = suffixMinComplete[lo];
        return best >= 0 && okMutations.get(best).completeTime() < before ? okMutations.get(best) : null;
    }
}
