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

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/** Prints a run as a table for people and as one {@code RESULT {json}} line for scripts. */
final class Report {
    /** Scripts find the JSON line by this prefix. */
    static final String RESULT_PREFIX = "RESULT ";

    private static final ObjectMapper JSON = new ObjectMapper();

    private Report() {}

    static void printTable(Results.Run run, PrintWriter out) {
        BenchConfig c = run.config();
        MachineFacts m = run.machine();
        String sync = c.unsafeNoFsync() ? "NO fsync (--unsafe-no-fsync, both sides)" : "fsync";
        out.println();
        out.println("Tenure vs ZooKeeper: replicated writes in one JVM on loopback");
        out.printf(
                "  tenure:    3 ZooKeeperReplicas (SegmentedLog, %s; Netty on 127.0.0.1); Replica.propose on the"
                        + " leader%n",
                sync);
        out.printf("  zookeeper: the same in-process 3-server ensemble; Curator setData in the background, %s%n", sync);
        out.printf(
                "  %d-byte values; per side and in-flight level: %s warm-up, %s measured%n",
                c.valueBytes(),
                seconds(c.warmup().toMillis()),
                seconds(c.duration().toMillis()));
        out.printf(
                Locale.ROOT,
                "  machine:   %d cores (%s), %s, max heap %.1f GiB, %s%n",
                m.cores(),
                m.cpu(),
                m.jvm(),
                m.maxHeapBytes() / (double) (1L << 30),
                m.os());
        out.printf("  data:      replicas on %s at %s%n", m.replicaFileSystem(), m.replicaDataDir());
        out.printf("             ZooKeeper on %s at %s%n", m.zooKeeperFileSystem(), m.zooKeeperDataDir());
        DiskProbe d = run.disk();
        out.printf(
                Locale.ROOT,
                "  disk:      %d-byte append+fsync p50 %.3f ms, p99 %.3f ms; overwrite+fdatasync p50 %.3f ms, p99 %.3f"
                        + " ms%n",
                c.valueBytes(),
                d.appendP50Micros() / 1000,
                d.appendP99Micros() / 1000,
                d.preallocP50Micros() / 1000,
                d.preallocP99Micros() / 1000);
        out.printf(
                Locale.ROOT,
                "  load:      1-minute load average %.2f before, %.2f after (%d cores)%s%n",
                run.loadAverageStart(),
                run.loadAverageEnd(),
                m.cores(),
                Math.max(run.loadAverageStart(), run.loadAverageEnd()) > m.cores()
                        ? ": OTHER WORK COMPETED FOR THE MACHINE, figures are noisy"
                        : "");
        out.printf("  baseline client connected to ZooKeeper server %s%n", run.zooKeeperClientServer());
        out.println();
        out.printf(
                "%9s  %-11s %10s %9s %9s %9s %9s %7s%n",
                "in-flight", "system", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors");
        for (Results.Level l : run.levels()) {
            row(out, l.inflight(), l.tenure());
            row(out, l.inflight(), l.zooKeeper());
            Results.Side t = l.tenure();
            Results.Side z = l.zooKeeper();
            out.printf(
                    Locale.ROOT,
                    "%9d  %-11s %9.2fx %8.2fx %8.2fx %8.2fx %8.2fx%n",
                    l.inflight(),
                    "tenure/zk",
                    l.throughputRatio(),
                    Results.Level.ratio(t.p50Micros(), z.p50Micros()),
                    Results.Level.ratio(t.p99Micros(), z.p99Micros()),
                    Results.Level.ratio(t.p999Micros(), z.p999Micros()),
                    Results.Level.ratio(t.maxMicros(), z.maxMicros()));
        }
        out.println("  (tenure/zk: above 1x is better for Tenure in ops/s, worse in latency)");
        out.printf("  replicas' applied offsets at the end: %s%n", run.tenureAppliedOffsets());
        for (Results.Level l : run.levels()) {
            for (Results.Side s : new Results.Side[] {l.tenure(), l.zooKeeper()}) {
                if (!s.clean()) {
                    out.printf(
                            "  WARNING %s at in-flight %d: %d ops, %d errors measured, %d outside; first: %s%n",
                            s.system(), l.inflight(), s.ops(), s.errors(), s.unmeasuredErrors(), s.firstError());
                }
            }
        }
        out.println();
        out.flush();
    }

    private static void row(PrintWriter out, int inflight, Results.Side s) {
        out.printf(
                Locale.ROOT,
                "%9d  %-11s %10.0f %9.3f %9.3f %9.3f %9.3f %7d%n",
                inflight,
                s.system(),
                s.opsPerSecond(),
                s.p50Micros() / 1000,
                s.p99Micros() / 1000,
                s.p999Micros() / 1000,
                s.maxMicros() / 1000,
                s.errors());
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? (millis / 1000) + " s" : String.format(Locale.ROOT, "%.3f s", millis / 1000.0);
    }

    /** The run as one line of JSON, prefixed with {@link #RESULT_PREFIX}. */
    static String resultLine(Results.Run run) {
        ObjectNode root = JSON.createObjectNode();
        root.put("benchmark", "tenure-vs-zookeeper-writes");
        BenchConfig c = run.config();
        ObjectNode config = root.putObject("config");
        ArrayNode levels = config.putArray("inflight");
        c.inflight().forEach(levels::add);
        config.put("warmup_s", c.warmup().toMillis() / 1000.0);
        config.put("duration_s", c.duration().toMillis() / 1000.0);
        config.put("value_bytes", c.valueBytes());
        config.put("fsync", !c.unsafeNoFsync());
        config.put("replicas", TenureCluster.IDS.size());
        config.put("zookeeper_servers", Benchmark.ZOOKEEPER_SERVERS);
        config.put("zookeeper_client_on", c.zooKeeperServer().name().toLowerCase(Locale.ROOT));
        MachineFacts m = run.machine();
        ObjectNode machine = root.putObject("machine");
        machine.put("cores", m.cores());
        machine.put("cpu", m.cpu());
        machine.put("jvm", m.jvm());
        machine.put("max_heap_bytes", m.maxHeapBytes());
        machine.put("os", m.os());
        machine.put("replica_fs", m.replicaFileSystem());
        machine.put("zookeeper_fs", m.zooKeeperFileSystem());
        DiskProbe d = run.disk();
        ObjectNode disk = root.putObject("disk");
        disk.put("writes", d.writes());
        number(disk, "append_fsync_p50_us", d.appendP50Micros());
        number(disk, "append_fsync_p99_us", d.appendP99Micros());
        number(disk, "prealloc_fdatasync_p50_us", d.preallocP50Micros());
        number(disk, "prealloc_fdatasync_p99_us", d.preallocP99Micros());
        number(machine, "load_average_start", run.loadAverageStart());
        number(machine, "load_average_end", run.loadAverageEnd());
        ArrayNode results = root.putArray("results");
        for (Results.Level l : run.levels()) {
            ObjectNode level = results.addObject();
            level.put("inflight", l.inflight());
            side(level.putObject("tenure"), l.tenure());
            side(level.putObject("zookeeper"), l.zooKeeper());
            number(level, "ratio_ops_per_s", l.throughputRatio());
        }
        ObjectNode applied = root.putObject("tenure_applied_offsets");
        for (Map.Entry<String, Long> e : run.tenureAppliedOffsets().entrySet()) {
            applied.put(e.getKey(), e.getValue());
        }
        root.put("zookeeper_client_server", run.zooKeeperClientServer());
        return RESULT_PREFIX + root;
    }

    private static void side(ObjectNode n, Results.Side s) {
        n.put("ops", s.ops());
        number(n, "ops_per_s", s.opsPerSecond());
        number(n, "p50_us", s.p50Micros());
        number(n, "p99_us", s.p99Micros());
        number(n, "p999_us", s.p999Micros());
        number(n, "max_us", s.maxMicros());
        n.put("errors", s.errors());
        n.put("unmeasured_errors", s.unmeasuredErrors());
        if (s.ioStallPercent() >= 0) {
            number(n, "io_stall_pct", s.ioStallPercent());
        }
        if (s.firstError() != null) {
            n.put("first_error", s.firstError());
        }
    }

    /** Three decimals; null when undefined (a ratio over zero). */
    private static void number(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) {
            n.put(key, Math.round(v * 1000) / 1000.0);
        } else {
            n.putNull(key);
        }
    }
}
