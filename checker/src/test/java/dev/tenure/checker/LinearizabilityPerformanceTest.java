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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.checker.Event.F;
import dev.tenure.checker.LinearizabilityChecker.KeyResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("slow")
class LinearizabilityPerformanceTest {
    private static final int OPERATIONS = 20_000;
    private static final Duration LIMIT = Duration.ofSeconds(30);

    private static final long SEED = 42;

    /** 10 processes, 20 keys, about 5 % info. */
    private static List<Event> simulate() {
        return new RegisterSimulation(SEED, 10, 20, 0.05).run(OPERATIONS);
    }

    @Test
    void twentyThousandOperationsOfALinearizableServiceAreJudgedValidWithinThirtySeconds() {
        History history = History.of(simulate());
        assertTrue(history.operations().size() >= OPERATIONS - 10, history.toString());
        long infos = history.operations().stream().filter(Operation::isInfo).count();
        assertTrue(infos > OPERATIONS / 40, "about 5% info: " + infos);

        long start = System.nanoTime();
        CheckReport report = HistoryChecker.create().check(history);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        System.out.printf(
                "checked %d operations (%d info) on %d keys in %d ms%n",
                history.operations().size(), infos, report.keysChecked(), took.toMillis());
        assertEquals(CheckReport.Verdict.VALID, report.verdict(), report.toString());
        assertTrue(took.compareTo(LIMIT) < 0, "took " + took);
    }

    @Test
    void oneCorruptedReadAmongTwentyThousandOperationsIsFound() {
        List<Event> events = new ArrayList<>(simulate());
        History valid = History.of(events);
        Corruption c = staleReadToCorrupt(valid);
        Event completion = events.get(c.read.completeLine() - 1);
        events.set(c.read.completeLine() - 1, completion.withValue(c.staleValue));
        History corrupted = History.of(events);

        long start = System.nanoTime();
        LinearizabilityChecker.Result result = LinearizabilityChecker.create().check(corrupted);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        System.out.printf(
                "found the corrupted read %s in %d ms%n", c.read.describe(valid.startTime()), took.toMillis());
        List<KeyResult> violations = result.violations();
        assertEquals(
                List.of(c.read.key()), violations.stream().map(KeyResult::key).toList(), result.toString());
        assertEquals(c.read.id(), violations.get(0).culprit().orElseThrow().id());
        assertTrue(result.unknown().isEmpty());
        assertTrue(took.compareTo(LIMIT) < 0, "took " + took);
    }

    private record Corruption(Operation read, String staleValue) {}

    /**
     * An ok read in the second half of the history and a value it cannot return: one written by an ok write that
     * another ok write or delete definitely overwrote before the read was invoked (values are unique).
     */
    private static Corruption staleReadToCorrupt(History h) {
        for (Map.Entry<String, List<Operation>> e : h.operationsByKey().entrySet()) {
            List<Operation> ops = e.getValue();
            for (Operation read : ops.subList(ops.size() / 2, ops.size())) {
                if (read.f() != F.READ || !read.isOk()) {
                    continue;
                }
                for (Operation overwrite : ops) {
                    if ((overwrite.f() != F.WRITE && overwrite.f() != F.DELETE)
                            || !overwrite.isOk()
                            || !overwrite.precedes(read)) {
                        continue;
                    }
                    for (Operation old : ops) {
                        if (old.f() == F.WRITE
                                && old.isOk()
                                && old.precedes(overwrite)
                                && !old.value().equals(read.value())) {
                            return new Corruption(read, old.value());
                        }
                    }
                }
            }
        }
        throw new AssertionError("no read to corrupt");
    }
}
