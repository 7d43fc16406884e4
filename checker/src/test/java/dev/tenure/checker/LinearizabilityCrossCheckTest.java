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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.checker.Event.F;
import dev.tenure.checker.Event.Type;
import dev.tenure.checker.LinearizabilityChecker.KeyResult;
import dev.tenure.checker.LinearizabilityChecker.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The search with all its reductions agrees with the definition ({@link BruteForceRegister}) on thousands of small
 * random histories, and the stale-read check never reports a linearizable one.
 */
@Tag("slow")
class LinearizabilityCrossCheckTest {
    private static final int ROUNDS = Integer.getInteger("crossCheck.rounds", 10_000);
    private static final int MAX_OPERATIONS = Integer.getInteger("crossCheck.maxOperations", 24);
    private final LinearizabilityChecker checker = LinearizabilityChecker.create();

    @Test
    void verdictAgreesWithBruteForceOnSmallRandomHistories() {
        Random random = new Random(2024);
        int valid = 0;
        int invalid = 0;
        for (int round = 0; round < ROUNDS; round++) {
            int processes = 2 + random.nextInt(5);
            double infoRate = random.nextInt(4) * 0.15;
            int valuePool = random.nextInt(3) == 0 ? 2 + random.nextInt(3) : 0;
            List<Event> events = new RegisterSimulation(random.nextLong(), processes, 1, infoRate)
                    .valuePool(valuePool)
                    .run(4 + random.nextInt(MAX_OPERATIONS - 3));
            History h = History.of(mutate(events, random));
            List<Operation> ops = h.operationsByKey().get("k0");
            boolean expected = new BruteForceRegister(ops).linearizable();
            KeyResult r = checker.checkKey("k0", ops, h.startTime());
            assertEquals(
                    expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE,
                    r.verdict(),
                    () -> "history:\n"
                            + String.join(
                                    "\n",
                                    h.events().stream().map(Event::toString).toList()));
            ImpossibleReads.first(ops, h.startTime())
                    .ifPresent(f -> assertEquals(false, expected, () -> "the stale-read check is sound: " + f));
            if (expected) {
                valid++;
            } else {
                invalid++;
                assertPrefixUpToCulpritFails(h, r.culprit().orElseThrow());
            }
        }
        assertTrue(valid > ROUNDS / 5 && invalid > ROUNDS / 5, "valid " + valid + ", invalid " + invalid);
    }

    /**
     * The culprit's completion ends the smallest failing prefix: the operations invoked up to it (those still in
     * flight optional, those that later fail left out) have no linearization; up to the line before, they have.
     */
    private static void assertPrefixUpToCulpritFails(History h, Operation culprit) {
        List<Operation> ops = h.operationsByKey().get("k0");
        assertEquals(false, linearizable(ops, culprit.completeLine()), () -> "up to " + culprit + "\n" + dump(h));
        assertEquals(true, linearizable(ops, culprit.completeLine() - 1), () -> "before " + culprit + "\n" + dump(h));
    }

    private static boolean linearizable(List<Operation> ops, int lastLine) {
        List<Operation> prefix = new ArrayList<>();
        for (Operation o : ops) {
            if (o.invokeLine() > lastLine || (o.isFail())) {
                continue;
            }
            if (o.hasCompletion() && o.completeLine() > lastLine && o.isOk()) {
                o = new Operation(
                        o.id(),
                        o.process(),
                        o.f(),
                        o.key(),
                        o.f() == F.READ ? null : o.value(),
                        o.expected(),
                        Type.INFO,
                        o.invokeTime(),
                        Long.MAX_VALUE,
                        o.epoch(),
                        o.offset(),
                        o.invokeLine(),
                        0);
            }
            prefix.add(o);
        }
        return new BruteForceRegister(prefix).linearizable();
    }

    private static String dump(History h) {
        return String.join("\n", h.events().stream().map(Event::toString).toList());
    }

    /** Sometimes changes one event so that the history may no longer be linearizable. */
    private static List<Event> mutate(List<Event> events, Random random) {
        List<Event> out = new ArrayList<>(events);
        List<String> values = new ArrayList<>();
        values.add(null);
        for (Event e : events) {
            if (e.f() == F.WRITE && e.value() != null && !values.contains(e.value())) {
                values.add(e.value());
            }
        }
        int changes = random.nextInt(4);
        for (int c = 0; c < changes; c++) {
            int i = random.nextInt(out.size());
            Event e = out.get(i);
            if (e.type() == Type.INVOKE) {
                continue;
            }
            if (e.f() == F.READ && e.type() == Type.OK) {
                out.set(i, e.withValue(values.get(random.nextInt(values.size()))));
            } else if (e.type() == Type.OK && e.f() == F.WRITE) {
                out.set(
                        i,
                        new Event(
                                e.process(),
                                Type.FAIL,
                                e.f(),
                                e.key(),
                                e.value(),
                                e.expected(),
                                e.time(),
                                java.util.OptionalLong.empty(),
                                java.util.OptionalLong.empty()));
            } else if (e.type() == Type.INFO && e.f() != F.READ) {
                out.set(
                        i,
                        new Event(
                                e.process(),
                                Type.OK,
                                e.f(),
                                e.key(),
                                e.value(),
                                e.expected(),
                                e.time(),
                                java.util.OptionalLong.empty(),
                                java.util.OptionalLong.empty()));
            } else if (e.type() == Type.FAIL && e.f() == F.CAS) {
                out.set(
                        i,
                        new Event(
                                e.process(),
                                Type.OK,
                                e.f(),
                                e.key(),
                                e.value(),
                                e.expected(),
                                e.time(),
                                java.util.OptionalLong.empty(),
                                java.util.OptionalLong.empty()));
            }
        }
        return out;
    }

    @Test
    void bruteForceAgreesWithTheHandWrittenCases() {
        History stale = new TestHistory()
                .write(1, "k0", "a", 0, 10)
                .write(1, "k0", "b", 20, 30)
                .read(2, "k0", "a", 40, 50)
                .build();
        assertNotEquals(true, new BruteForceRegister(stale.operations()).linearizable());
    }
}
