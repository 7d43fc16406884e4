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
package dev.tenure.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class InterleavedTest {
    /** A slice that "measured" {@code ops} operations of {@code latencyMicros} each and records when it ran. */
    private static Interleaved.Slice fake(String name, List<String> calls, long... opsPerRound) {
        int[] round = {0};
        return (settle, interval) -> {
            calls.add(name + " settle=" + settle.toMillis() + " interval=" + interval.toMillis());
            Histogram h = new Histogram(3);
            long ops = opsPerRound[round[0]++];
            for (long i = 0; i < ops; i++) {
                h.recordValue(1_000 * (i + 1));
            }
            return new ClosedLoop.Outcome(h, 0, 0, interval, null, 10);
        };
    }

    @Test
    void slicesAlternateWithTheOrderSwappedEveryRoundAndOnlyTheFirstOfEachSystemWarmsUp() throws Exception {
        List<String> calls = new ArrayList<>();
        Interleaved.run(
                fake("a", calls, 1, 1, 1, 1),
                fake("b", calls, 1, 1, 1, 1),
                4,
                Duration.ofSeconds(2),
                Duration.ofMillis(300),
                Duration.ofSeconds(4));

        assertEquals(
                List.of(
                        "a settle=2300 interval=1000",
                        "b settle=2300 interval=1000",
                        "b settle=300 interval=1000",
                        "a settle=300 interval=1000",
                        "a settle=300 interval=1000",
                        "b settle=300 interval=1000",
                        "b settle=300 interval=1000",
                        "a settle=300 interval=1000"),
                calls);
    }

    @Test
    void theRatioIsTheMedianOfTheRoundsSoOneDisturbedRoundDoesNotMoveIt() throws Exception {
        List<String> calls = new ArrayList<>();
        // B collapses in round 2 (a disturbance on its side only): the merged ratio moves, the median does not.
        Interleaved.Result r = Interleaved.run(
                fake("a", calls, 400, 400, 400),
                fake("b", calls, 100, 2, 100),
                3,
                Duration.ZERO,
                Duration.ZERO,
                Duration.ofSeconds(3));

        assertEquals(List.of(4.0, 200.0, 4.0), r.roundRatios());
        assertEquals(4.0, r.medianRatio(), 1e-9);
        assertEquals(1200.0 / 202.0, r.totalRatio(), 1e-9);
        assertEquals(3, r.cpuProbeMicrosA().size());
        assertEquals(3, r.cpuProbeMicrosB().size());
        assertTrue(
                r.cpuProbeMicrosA().stream().allMatch(p -> p > 0),
                r.cpuProbeMicrosA().toString());
    }

    @Test
    void theMergedOutcomeHoldsEverySliceLatencyCountAndInterval() throws Exception {
        List<String> calls = new ArrayList<>();
        Interleaved.Result r = Interleaved.run(
                fake("a", calls, 3, 5),
                fake("b", calls, 7, 11),
                2,
                Duration.ZERO,
                Duration.ZERO,
                Duration.ofSeconds(2));

        assertEquals(8, r.a().successes());
        assertEquals(18, r.b().successes());
        assertEquals(Duration.ofSeconds(2), r.a().interval());
        assertEquals(4.0, r.a().opsPerSecond(), 1e-9);
        assertEquals(5_000.0, (double) r.a().latencies().getMaxValue(), 5.0);
        assertEquals(20, r.a().ioStallMicros());
        assertNull(r.a().firstError());
    }

    @Test
    void mergingKeepsTheFirstFailureAndAnUnknownIoStallStaysUnknown() {
        Histogram empty = new Histogram(3);
        RuntimeException first = new RuntimeException("first");
        ClosedLoop.Outcome merged = ClosedLoop.Outcome.merge(List.of(
                new ClosedLoop.Outcome(empty, 0, 0, Duration.ofSeconds(1), null, 5),
                new ClosedLoop.Outcome(empty, 2, 1, Duration.ofSeconds(1), first, -1),
                new ClosedLoop.Outcome(empty, 1, 0, Duration.ofSeconds(1), new RuntimeException("later"), 5)));

        assertEquals(3, merged.errors());
        assertEquals(1, merged.unmeasuredErrors());
        assertEquals(first, merged.firstError());
        assertEquals(-1, merged.ioStallMicros());
        assertThrows(IllegalArgumentException.class, () -> ClosedLoop.Outcome.merge(List.of()));
    }

    @Test
    void slicesTooShortOrNoRoundsAreRefusedBeforeAnythingRuns() {
        List<String> calls = new ArrayList<>();
        IllegalArgumentException shortSlices = assertThrows(
                IllegalArgumentException.class,
                () -> Interleaved.run(
                        fake("a", calls, 1),
                        fake("b", calls, 1),
                        20,
                        Duration.ZERO,
                        Duration.ZERO,
                        Duration.ofSeconds(1)));
        assertTrue(shortSlices.getMessage().contains("too short"), shortSlices.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> Interleaved.run(
                        fake("a", calls, 1),
                        fake("b", calls, 1),
                        0,
                        Duration.ZERO,
                        Duration.ZERO,
                        Duration.ofSeconds(1)));
        assertEquals(List.of(), calls);
    }
}
