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

import static dev.tenure.checker.LinearizabilityChecker.Verdict.LINEARIZABLE;
import static dev.tenure.checker.LinearizabilityChecker.Verdict.NOT_LINEARIZABLE;
import static dev.tenure.checker.LinearizabilityChecker.Verdict.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.checker.Event.F;
import dev.tenure.checker.Event.Type;
import dev.tenure.checker.LinearizabilityChecker.KeyResult;
import dev.tenure.checker.LinearizabilityChecker.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {
    private final LinearizabilityChecker checker = LinearizabilityChecker.create();

    private KeyResult check(TestHistory h, String key) {
        return checker.check(h.build()).keys().get(key);
    }

    private Verdict verdict(TestHistory h) {
        return check(h, "k").verdict();
    }

    @Test
    void sequentialHistoryOfEveryOperationIsLinearizable() {
        TestHistory h = new TestHistory()
                .read(1, "k", null, 0, 10)
                .write(1, "k", "a", 20, 30)
                .read(2, "k", "a", 40, 50)
                .cas(1, "k", "a", "b", 60, 70, Type.OK)
                .read(2, "k", "b", 80, 90)
                .delete(1, "k", 100, 110)
                .read(2, "k", null, 120, 130)
                .cas(1, "k", null, "c", 140, 150, Type.OK)
                .read(2, "k", "c", 160, 170);
        KeyResult r = check(h, "k");
        assertEquals(LINEARIZABLE, r.verdict(), r.explanation());
        assertEquals(9, r.operations());
    }

    @Test
    void readsOfConcurrentWritesMaySeeEitherValue() {
        TestHistory base = new TestHistory().write(1, "k", "a", 0, 100).write(2, "k", "b", 10, 90);
        // during the writes, one read sees a and an overlapping one sees b
        assertEquals(LINEARIZABLE, verdict(base.read(3, "k", "a", 20, 30).read(4, "k", "b", 25, 35)));
        for (String last : new String[] {"a", "b"}) {
            TestHistory h = new TestHistory()
                    .write(1, "k", "a", 0, 100)
                    .write(2, "k", "b", 10, 90)
                    .read(3, "k", last, 110, 120)
                    .read(4, "k", last, 130, 140);
            assertEquals(LINEARIZABLE, verdict(h), "final value " + last);
        }
    }

    @Test
    void readsMayNotFlipBackToAValueOverwrittenOnce() {
        // a and b are concurrent, but once a read saw b after a, a cannot come back: each value is written once
        TestHistory h = new TestHistory()
                .write(1, "k", "a", 0, 100)
                .write(2, "k", "b", 0, 100)
                .read(3, "k", "a", 10, 20)
                .read(3, "k", "b", 30, 40)
                .read(3, "k", "a", 50, 60);
        KeyResult r = check(h, "k");
        assertEquals(NOT_LINEARIZABLE, r.verdict());
        assertEquals(50, r.culprit().orElseThrow().invokeTime());
    }

    @Test
    void staleReadAfterACompletedWriteIsAViolationExplainedByTheWritesAroundIt() {
        TestHistory h = new TestHistory()
                .write(1, "k", "a", 0, 10)
                .write(1, "k", "b", 20, 30)
                .read(2, "k", "a", 40, 50);
        KeyResult r = check(h, "k");
        assertEquals(NOT_LINEARIZABLE, r.verdict());
        Operation culprit = r.culprit().orElseThrow();
        assertEquals(F.READ, culprit.f());
        assertEquals("a", culprit.value());
        assertTrue(r.explanation().contains("returned \"a\""), r.explanation());
        assertTrue(r.explanation().contains("held a value no read returns (such as \"b\")"), r.explanation());
        assertTrue(r.explanation().contains("stale"), r.explanation());
        assertEquals(
                List.of("a", "b", "a"),
                r.involved().stream().map(Operation::value).toList());
    }

    @Test
    void readOfAValueNeverWrittenIsAViolation() {
        TestHistory h = new TestHistory().write(1, "k", "a", 0, 10).read(2, "k", "zzz", 20, 30);
        KeyResult r = check(h, "k");
        assertEquals(NOT_LINEARIZABLE, r.verdict());
        assertTrue(r.explanation().contains("No write or cas on k ever wrote \"zzz\""), r.explanation());
    }

    @Test
    void readOfAValueWrittenOnlyLaterIsAViolation() {
        TestHistory h = new TestHistory().read(2, "k", "a", 0, 10).write(1, "k", "a", 20, 30);
        KeyResult r = check(h, "k");
        assertEquals(NOT_LINEARIZABLE, r.verdict());
        assertTrue(r.explanation().contains("written only after it completed"), r.explanation());
    }

    @Test
    void casTakesEffectOnlyWhenTheExpectedValueMatches() {
        assertEquals(
                LINEARIZABLE,
                verdict(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .cas(1, "k", "a", "b", 20, 30, Type.OK)
                        .read(2, "k", "b", 40, 50)));
        assertEquals(
                LINEARIZABLE,
                verdict(new TestHistory().cas(1, "k", null, "b", 0, 10, Type.OK).read(2, "k", "b", 20, 30)),
                "expected null matches an absent key");
        KeyResult wrongExpectation =
                check(new TestHistory().write(1, "k", "a", 0, 10).cas(1, "k", "x", "b", 20, 30, Type.OK), "k");
        assertEquals(NOT_LINEARIZABLE, wrongExpectation.verdict());
        assertEquals(F.CAS, wrongExpectation.culprit().orElseThrow().f());
        assertTrue(wrongExpectation.explanation().contains("expected \"x\""), wrongExpectation.explanation());
    }

    @Test
    void failedCasLeavesTheRegisterUnchanged() {
        assertEquals(
                LINEARIZABLE,
                verdict(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .cas(1, "k", "x", "b", 20, 30, Type.FAIL)
                        .read(2, "k", "a", 40, 50)));
        assertEquals(
                NOT_LINEARIZABLE,
                verdict(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .cas(1, "k", "a", "b", 20, 30, Type.FAIL)
                        .read(2, "k", "b", 40, 50)));
    }

    @Test
    void deleteMakesTheKeyReadAsAbsent() {
        assertEquals(
                LINEARIZABLE,
                verdict(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .delete(1, "k", 20, 30)
                        .read(2, "k", null, 40, 50)));
        assertEquals(
                NOT_LINEARIZABLE,
                verdict(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .delete(1, "k", 20, 30)
                        .read(2, "k", "a", 40, 50)));
    }

    @Test
    void infoWriteMayTakeEffectAnyTimeAfterItsInvoke() {
        TestHistory h = new TestHistory()
                .write(1, "k", "a", 0, 10)
                .write(2, "k", "b", 20, 30, Type.INFO)
                .read(3, "k", "a", 40, 50)
                .write(4, "k", "c", 60, 70)
                .read(3, "k", "c", 80, 90)
                .read(3, "k", "b", 100, 110) // b took effect long after its info, after c
                .read(3, "k", "b", 120, 130);
        KeyResult r = check(h, "k");
        assertEquals(LINEARIZABLE, r.verdict(), r.explanation());
    }

    @Test
    void infoWriteThatNeverTookEffectIsLeftOut() {
        TestHistory h = new TestHistory()
                .write(1, "k", "a", 0, 10)
                .write(2, "k", "b", 20, 30, Type.INFO)
                .read(3, "k", "a", 40, 50)
                .read(3, "k", "a", 60, 70);
        KeyResult r = check(h, "k");
        assertEquals(LINEARIZABLE, r.verdict());
        assertEquals(3, r.searched(), "the unobserved info write is removed before the search");
    }

    @Test
    void observedInfoWriteIsLeftOutWhenNothingAfterItNeedsIt() {
        // b is read once, concurrently with its write; the info cas of b is never needed afterwards
        TestHistory h = new TestHistory()
                .write(1, "k", "b", 0, 10, Type.INFO)
                .cas(2, "k", "b", "c", 5, 15, Type.INFO)
                .read(3, "k", null, 20, 30)
                .read(3, "k", "b", 40, 50)
                .read(3, "k", "b", 60, 70);
        assertEquals(LINEARIZABLE, verdict(h));
    }

    @Test
    void infoCasTakesEffectOnlyIfItsExpectedValueMatches() {
        assertEquals(
                LINEARIZABLE,
                verdict(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .cas(2, "k", "a", "b", 20, 30, Type.INFO)
                        .read(3, "k", "b", 40, 50)));
        assertEquals(
                NOT_LINEARIZABLE,
                verdict(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .cas(2, "k", "x", "b", 20, 30, Type.INFO)
                        .read(3, "k", "b", 40, 50)));
    }

    @Test
    void neverCompletedInvokeIsTreatedAsInfo() {
        History h = new TestHistory()
                .write(1, "k", "a", 0, 10)
                .event(Event.invoke(2, F.WRITE, "k", "b", 20))
                .read(3, "k", "b", 40, 50)
                .build();
        assertTrue(checker.check(h).isLinearizable());
        assertEquals(Type.INFO, h.operations().get(1).outcome());
    }

    @Test
    void readOfAFailedWriteIsAViolation() {
        KeyResult r = check(
                new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .write(2, "k", "b", 20, 30, Type.FAIL)
                        .read(3, "k", "b", 40, 50),
                "k");
        assertEquals(NOT_LINEARIZABLE, r.verdict());
        assertTrue(r.explanation().contains("only by operations that failed"), r.explanation());
    }

    @Test
    void equalTimestampsCountAsConcurrent() {
        // the read is invoked at the nanosecond the write completes: it may still precede the write
        assertEquals(
                LINEARIZABLE,
                verdict(new TestHistory().write(1, "k", "a", 0, 10).read(2, "k", null, 10, 20)));
        assertEquals(
                NOT_LINEARIZABLE,
                verdict(new TestHistory().write(1, "k", "a", 0, 10).read(2, "k", null, 11, 20)));
    }

    @Test
    void keysAreCheckedIndependently() {
        History h = new TestHistory()
                .write(1, "x", "a", 0, 10)
                .write(2, "y", "a", 0, 10)
                .read(1, "x", "a", 20, 30)
                .read(2, "y", null, 20, 30)
                .build();
        LinearizabilityChecker.Result r = checker.check(h);
        assertEquals(LINEARIZABLE, r.keys().get("x").verdict());
        assertEquals(NOT_LINEARIZABLE, r.keys().get("y").verdict());
        assertEquals(List.of("y"), r.violations().stream().map(KeyResult::key).toList());
        assertTrue(!r.isLinearizable());
    }

    @Test
    void exceedingTheStepBudgetReportsUnknownRatherThanAVerdict() {
        TestHistory h = new TestHistory();
        for (int i = 0; i < 50; i++) {
            h.write(1, "k", "v" + i, i * 10L, i * 10L + 5);
        }
        LinearizabilityChecker tight =
                LinearizabilityChecker.builder().maxStepsPerKey(20).build();
        KeyResult r = tight.check(h.build()).keys().get("k");
        assertEquals(UNKNOWN, r.verdict());
        assertTrue(r.explanation().startsWith("unknown (budget exceeded)"), r.explanation());
    }

    /** Concurrent writes v0..v(n-1), then after all of them reads of v0 and then v1: impossible, not obviously. */
    private static TestHistory concurrentWritesThenTwoFinalValues(int writes) {
        TestHistory h = new TestHistory();
        for (int i = 0; i < writes; i++) {
            h.write(i, "k", "v" + i, 0, 1000);
        }
        return h.read(99, "k", "v0", 2000, 2001).read(99, "k", "v1", 2002, 2003);
    }

    @Test
    void exceedingTheTimeBudgetReportsUnknown() {
        long[] now = {0};
        LinearizabilityChecker slowClock = LinearizabilityChecker.builder()
                .clock(() -> now[0] += 100_000_000) // each reading is 100 ms later
                .maxTimePerKey(Duration.ofMillis(500))
                .build();
        KeyResult r = slowClock
                .check(concurrentWritesThenTwoFinalValues(14).build())
                .keys()
                .get("k");
        assertEquals(UNKNOWN, r.verdict());
        assertTrue(r.explanation().contains("500 ms"), r.explanation());
    }

    @Test
    void exceedingTheBudgetStillReportsAReadNoWriteExplains() {
        TestHistory h = new TestHistory();
        for (int i = 0; i < 30; i++) {
            h.write(1, "k", "v" + i, i * 10L, i * 10L + 5);
        }
        h.read(2, "k", "v3", 400, 410);
        LinearizabilityChecker tight =
                LinearizabilityChecker.builder().maxStepsPerKey(5).build();
        KeyResult r = tight.check(h.build()).keys().get("k");
        assertEquals(NOT_LINEARIZABLE, r.verdict());
        assertEquals("v3", r.culprit().orElseThrow().value());
        assertTrue(r.explanation().contains("\"v3\" was overwritten before it was invoked"), r.explanation());
        assertTrue(r.explanation().contains("stale-read check"), r.explanation());
    }

    @Test
    void manyConcurrentWritesAreRefutedExhaustivelyThanksToMemoisation() {
        KeyResult r = check(concurrentWritesThenTwoFinalValues(12), "k");
        assertEquals(NOT_LINEARIZABLE, r.verdict());
        assertEquals("v1", r.culprit().orElseThrow().value());
        // 2^12 sets of writes x 13 values, not 12! orders
        assertTrue(r.steps() < 1_000_000, "steps " + r.steps());
    }

    @Test
    void longHistoryIsCheckedOnASmallStack() throws Exception {
        List<Event> events = new ArrayList<>();
        long t = 0;
        for (int i = 0; i < 25_000; i++) {
            Event w = Event.invoke(1, F.WRITE, "k", "v" + i, t++);
            events.add(w);
            events.add(w.completion(Type.OK, t++));
            Event r = Event.invoke(2, F.READ, "k", null, t++);
            events.add(r);
            events.add(r.completion(Type.OK, t++).withValue("v" + i));
        }
        History h = History.of(events);
        // a recursive search would need one frame per linearized operation: 50,000 frames do not fit in 256 KB
        KeyResult[] result = new KeyResult[1];
        Thread small =
                new Thread(null, () -> result[0] = checker.check(h).keys().get("k"), "small-stack", 256 * 1024);
        small.start();
        small.join();
        assertEquals(LINEARIZABLE, result[0].verdict());
        assertEquals(50_000, result[0].searched());
    }
}
