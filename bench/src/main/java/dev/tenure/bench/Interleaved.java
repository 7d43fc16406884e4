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

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Two systems measured side by side on a noisy machine: instead of one long interval for one and then one for the
 * other, the measured time is cut into {@code rounds} slices per system, run alternately (A B, B A, A B, ...), so
 * that a spell of slow disk or stolen CPU falls on both systems alike rather than on whichever ran during it.
 *
 * <p>Each slice is a fresh closed loop: its first {@code settle} is not measured (the pipeline fills), the rest is.
 * The first slice of each system also runs the warm-up. What is reported per system is the slices merged (all
 * latencies in one histogram, throughput = all successes over all measured time) and, per round, the ratio of
 * A's throughput to B's in that round, whose median is robust to a round that a disturbance hit on one side only.
 * Before every slice, {@link CpuProbe} records how fast the CPU runs, and around it {@link JitActivity} how much CPU
 * the JIT compilers took. Not thread-safe; one run at a time.
 */
final class Interleaved {
    /** One measured slice of one system's load. */
    @FunctionalInterface
    interface Slice {
        /** Runs the load: {@code settle} unmeasured, then {@code interval} measured. */
        ClosedLoop.Outcome run(Duration settle, Duration interval) throws Exception;
    }

    /**
     * @param a system A's slices merged
     * @param b system B's slices merged
     * @param roundRatios A's throughput over B's in each round, in round order
     * @param cpuProbeMicrosA the {@link CpuProbe} reading before each of A's slices
     * @param cpuProbeMicrosB the same for B
     * @param jitPercentA the share of one core that the JIT compilers of all the benchmark's processes used during
     *     A's slices ({@link JitActivity}), or -1 where unknown
     * @param jitPercentB the same for B
     */
    record Result(
            ClosedLoop.Outcome a,
            ClosedLoop.Outcome b,
            List<Double> roundRatios,
            List<Double> cpuProbeMicrosA,
            List<Double> cpuProbeMicrosB,
            double jitPercentA,
            double jitPercentB) {
        /** The median of the per-round ratios. */
        double medianRatio() {
            List<Double> sorted = new ArrayList<>(roundRatios);
            Collections.sort(sorted);
            return ProcessBench.median(sorted);
        }

        /** A's merged throughput over B's merged throughput. */
        double totalRatio() {
            return b.opsPerSecond() == 0 ? Double.NaN : a.opsPerSecond() / b.opsPerSecond();
        }
    }

    private Interleaved() {}

    /**
     * Runs {@code rounds} rounds of one slice of A and one of B, {@code measured / rounds} measured each.
     *
     * @throws IllegalArgumentException if {@code rounds < 1} or the slices would be shorter than 100 ms
     */
    static Result run(Slice a, Slice b, int rounds, Duration warmup, Duration settle, Duration measured)
            throws Exception {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be at least 1, not " + rounds);
        }
        Duration slice = measured.dividedBy(rounds);
        if (slice.toMillis() < 100) {
            throw new IllegalArgumentException(
                    "slices of " + slice.toMillis() + " ms are too short: measure longer or in fewer rounds");
        }
        Side sa = new Side(a);
        Side sb = new Side(b);
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            Duration s = r == 0 ? warmup.plus(settle) : settle;
            ClosedLoop.Outcome oa;
            ClosedLoop.Outcome ob;
            if (r % 2 == 0) {
                oa = sa.run(s, slice);
                ob = sb.run(s, slice);
            } else {
                ob = sb.run(s, slice);
                oa = sa.run(s, slice);
            }
            ratios.add(ob.opsPerSecond() == 0 ? Double.NaN : oa.opsPerSecond() / ob.opsPerSecond());
        }
        return new Result(
                ClosedLoop.Outcome.merge(sa.outcomes),
                ClosedLoop.Outcome.merge(sb.outcomes),
                ratios,
                sa.probes,
                sb.probes,
                sa.jitPercent(),
                sb.jitPercent());
    }

    /** One system's slices and what was observed around them. */
    private static final class Side {
        final Slice slice;
        final List<ClosedLoop.Outcome> outcomes = new ArrayList<>();
        final List<Double> probes = new ArrayList<>();
        long jitNanos;
        long wallNanos;
        boolean jitKnown = true;

        Side(Slice slice) {
            this.slice = slice;
        }

        ClosedLoop.Outcome run(Duration settle, Duration interval) throws Exception {
            probes.add(CpuProbe.measureMicros());
            long jitBefore = JitActivity.compilerCpuNanos();
            long start = System.nanoTime();
            ClosedLoop.Outcome o = slice.run(settle, interval);
            long wall = System.nanoTime() - start;
            long jitAfter = JitActivity.compilerCpuNanos();
            if (jitBefore < 0 || jitAfter < 0) {
                jitKnown = false;
            } else {
                jitNanos += Math.max(0, jitAfter - jitBefore);
            }
            wallNanos += wall;
            outcomes.add(o);
            return o;
        }

        double jitPercent() {
            return jitKnown ? JitActivity.percentOfACore(0, jitNanos, wallNanos) : -1;
        }
    }
}
