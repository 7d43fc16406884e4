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
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Finds acknowledged writes that the final reads of the history do not show. Stateless and thread-safe.
 *
 * <p>The final reads of a key are its {@code ok} reads invoked after the completion of every write, cas and delete
 * on the key that did not fail (an {@code info} one counts by the time it was given up on; one never completed
 * leaves the key without final reads). The harness ends each run with such reads, after every fault has healed.
 *
 * <p>For each {@code ok} write, cas or delete W on the key that no other {@code ok} mutation definitely follows
 * (none was invoked after W completed), and each final read R: if R returned something other than W's value
 * (absent for a delete), the value R returned must come from a mutation M ≠ W that could be linearized after W
 * and before R — one that did not fail and did not complete before W was invoked — that produces it. If there is no
 * such M, W is reported lost. The report is sound: in every linearization W precedes R and the last mutation
 * before R is at or after W, so R can only return W's value or one such M produced. Only the value read is
 * considered (not, say, whether a cas could have matched), so the check errs towards not reporting; the
 * {@link LinearizabilityChecker} sees everything, this checker names the write. An {@code info} mutation counts as
 * possibly after W whenever it was invoked before R completed, since it may take effect at any time.
 *
 * <p>Failure behaviour: none; any well-formed {@link History} is checked. Each lost write is reported once, with
 * the first final read that shows it.
 */
public final class LostWriteChecker {
    /**
     * An acknowledged mutation a final read does not show.
     *
     * @param key the key
     * @param write the acknowledged write, cas or delete
     * @param finalRead the final read that returned something else
     * @param explanation for humans
     */
    public record LostWrite(String key, Operation write, Operation finalRead, String explanation) {
        @Override
        public String toString() {
            return explanation;
        }
    }

    /** Checks every key. */
    public List<LostWrite> check(History history) {
        List<LostWrite> lost = new ArrayList<>();
        for (Map.Entry<String, List<Operation>> e : history.operationsByKey().entrySet()) {
            checkKey(e.getKey(), e.getValue(), history.startTime(), lost);
        }
        return lost;
    }

    private static void checkKey(String key, List<Operation> ops, long origin, List<LostWrite> out) {
        List<Operation> mutations =
                ops.stream().filter(o -> o.isMutation() && !o.isFail()).toList();
        if (mutations.isEmpty()) {
            return;
        }
        long lastCompletion =
                mutations.stream().mapToLong(Operation::completeTime).max().getAsLong();
        List<Operation> finalReads = ops.stream()
                .filter(o -> o.f() == Event.F.READ && o.isOk() && o.invokeTime() > lastCompletion)
                .toList();
        if (finalReads.isEmpty()) {
            return;
        }
        long lastOkInvoke = mutations.stream()
                .filter(Operation::isOk)
                .mapToLong(Operation::invokeTime)
                .max()
                .orElse(Long.MIN_VALUE);
        for (Operation w : mutations) {
            if (!w.isOk() || w.completeTime() < lastOkInvoke) {
                continue; // not acknowledged, or an acknowledged mutation definitely follows it
            }
            for (Operation r : finalReads) {
                if (!w.precedes(r) || Objects.equals(r.value(), w.result())) {
                    continue;
                }
                // Another operation than w itself: identity, as the list holds each operation once.
                @SuppressWarnings("ReferenceEquality")
                boolean explained = mutations.stream()
                        .anyMatch(m ->
                                m != w && !m.precedes(w) && !r.precedes(m) && Objects.equals(m.result(), r.value()));
                if (!explained) {
                    out.add(new LostWrite(
                            key,
                            w,
                            r,
                            "lost write on " + key + ": " + w.describe(origin) + " was acknowledged, but the final "
                                    + r.describe(origin) + " and no operation that could follow the "
                                    + w.f().wireName() + " produces " + Operation.quote(r.value())));
                    break;
                }
            }
        }
    }
}
