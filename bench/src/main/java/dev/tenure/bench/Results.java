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

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** The figures of one benchmark run. */
final class Results {
    private Results() {}

    /**
     * One side at one in-flight level. Latencies in microseconds.
     *
     * @param errors failed writes completed in the measured interval
     * @param unmeasuredErrors failed writes completed during warm-up or drain
     * @param firstError the first failure's text, or null
     */
    record Side(
            String system,
            long ops,
            double opsPerSecond,
            double p50Micros,
            double p99Micros,
            double p999Micros,
            double maxMicros,
            long errors,
            long unmeasuredErrors,
            String firstError,
            double ioStallPercent) {

        static Side of(String system, ClosedLoop.Outcome o) {
            Histogram h = o.latencies();
            return new Side(
                    system,
                    o.successes(),
                    o.opsPerSecond(),
                    micros(h.getValueAtPercentile(50)),
                    micros(h.getValueAtPercentile(99)),
                    micros(h.getValueAtPercentile(99.9)),
                    micros(h.getMaxValue()),
                    o.errors(),
                    o.unmeasuredErrors(),
                    o.firstError() == null ? null : o.firstError().toString(),
                    o.ioStallMicros() < 0
                            ? -1
                            : 100.0 * o.ioStallMicros() / (o.interval().toNanos() / 1000.0));
        }

        private static double micros(long nanos) {
            return nanos / 1000.0;
        }

        boolean clean() {
            return ops > 0 && errors == 0 && unmeasuredErrors == 0;
        }
    }

    /** Both sides at one in-flight level. */
    record Level(int inflight, Side tenure, Side zooKeeper) {
        /** Tenure's throughput over ZooKeeper's; above 1 means Tenure is faster. */
        double throughputRatio() {
            return ratio(tenure.opsPerSecond(), zooKeeper.opsPerSecond());
        }

        static double ratio(double a, double b) {
            return b == 0 ? Double.NaN : a / b;
        }
    }

    /**
     * A whole run.
     *
     * @param tenureAppliedOffsets each replica's applied offset at the end (all equal when the followers
     *     kept up)
     * @param zooKeeperClientServer the ZooKeeper server the baseline client was connected to, and its mode
     * @param disk the small-write latency of the replicas' disk, measured before the runs
     * @param loadAverageStart the system's 1-minute load average before the runs (negative if unknown): other
     *     processes on the machine compete for its cores and disk
     * @param loadAverageEnd the same after the runs
     */
    record Run(
            BenchConfig config,
            MachineFacts machine,
            DiskProbe disk,
            double loadAverageStart,
            double loadAverageEnd,
            List<Level> levels,
            Map<String, Long> tenureAppliedOffsets,
            String zooKeeperClientServer) {}
}
