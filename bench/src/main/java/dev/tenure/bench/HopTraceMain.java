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

import dev.tenure.replicator.Replica;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.trace.WriteTrace;
import dev.tenure.replicator.trace.WriteTrace.Point;
import dev.tenure.testkit.ZooKeeperEnsemble;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where one write's latency goes, hop by hop (issue 20): three replicas in this process (as {@link TenureCluster}
 * assembles them: files with fdatasync, Netty on 127.0.0.1), writes one at a time on the leader, and the stamps of
 * {@link WriteTrace} joined by offset into the steps of each write's path, with the median and 90th percentile of
 * each step over the traced writes. Run with the probe on:
 *
 * <pre>
 * java -Dtenure.writeTrace=true -cp bench/target/bench.jar dev.tenure.bench.HopTraceMain [writes] [warm-up seconds]
 * </pre>
 *
 * <p>The replicas share this process (one JVM, one clock): the figures are the threads' hand-offs and the work
 * between them, on the same two cores as the process-mode benchmark, not that benchmark's own figures.
 */
public final class HopTraceMain {
    private HopTraceMain() {}

    public static void main(String[] args) throws Exception {
        if (!WriteTrace.ENABLED) {
            System.err.println("run with -Dtenure.writeTrace=true");
            System.exit(2);
        }
        int writes = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int warmupSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        PrintStream out = System.out;
        Path root = Files.createTempDirectory("tenure-hops");
        out.printf(Locale.ROOT, "load average %.2f%n", Benchmark.loadAverage());
        DiskProbe disk = DiskProbe.measure(root, 100);
        out.printf(
                Locale.ROOT,
                "disk append+fdatasync p50 %.1f us p99 %.1f us%n",
                disk.appendDatasyncP50Micros(),
                disk.appendDatasyncP99Micros());
        LogConfig logConfig =
                LogConfig.builder().syncPolicy(LogConfig.SyncPolicy.FSYNC).build();
        try (ZooKeeperEnsemble zk = ZooKeeperEnsemble.builder().servers(3).build()) {
            zk.start();
            try (TenureCluster tenure = TenureCluster.start(zk, root.resolve("tenure"), logConfig)) {
                Replica leader = tenure.awaitLeader(Duration.ofSeconds(60));
                byte[] value = new byte[100];
                long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds);
                while (System.nanoTime() < warmEnd) {
                    leader.propose(value).get(10, TimeUnit.SECONDS);
                }
                WriteTrace.reset();
                long[] total = new long[writes];
                for (int i = 0; i < writes; i++) {
                    long t0 = System.nanoTime();
                    leader.propose(value).get(10, TimeUnit.SECONDS);
                    total[i] = System.nanoTime() - t0;
                }
                Arrays.sort(total);
                out.printf(
                        Locale.ROOT,
                        "%d writes one at a time on %s: p50 %.1f us, p90 %.1f us; load average %.2f%n",
                        writes,
                        leader.id(),
                        total[writes / 2] / 1e3,
                        total[writes * 9 / 10] / 1e3,
                        Benchmark.loadAverage());
                report(out, leader.id(), WriteTrace.stamps());
            }
        } finally {
            Benchmark.deleteRecursively(root);
        }
        System.exit(0);
    }

    /** One step of a write's path: from one stamp to the next. */
    private record Step(String name, List<Long> nanos) {}

    static void report(PrintStream out, String leader, List<WriteTrace.Stamp> stamps) {
        // offset -> "replica/point" -> earliest nanos
        Map<Long, Map<String, Long>> byOffset = new HashMap<>();
        for (WriteTrace.Stamp s : stamps) {
            byOffset.computeIfAbsent(s.offset(), k -> new HashMap<>())
                    .merge(s.replica() + "/" + s.point(), s.nanos(), Math::min);
        }
        Map<String, Step> steps = new LinkedHashMap<>();
        int leaderSyncLast = 0;
        int complete = 0;
        for (Map<String, Long> w : byOffset.values()) {
            Long proposed = w.get(leader + "/" + Point.PROPOSED);
            Long done = w.get(leader + "/" + Point.COMPLETED);
            if (proposed == null || done == null) {
                continue;
            }
            // The follower whose acknowledgement reached the leader first: the one the commit waited for.
            String f = null;
            long firstAck = Long.MAX_VALUE;
            for (Map.Entry<String, Long> e : w.entrySet()) {
                if (e.getKey().startsWith(leader + "<") && e.getKey().endsWith("/" + Point.ACK_RECEIVED)) {
                    if (e.getValue() < firstAck) {
                        firstAck = e.getValue();
                        f = e.getKey().substring(leader.length() + 1, e.getKey().indexOf('/'));
                    }
                }
            }
            if (f == null) {
                continue;
            }
            String lf = leader + ">" + f;
            String fl = f + ">" + leader;
            String[][] path = {
                {"caller -> leader event thread", leader + "/PROPOSED", leader + "/TAKEN"},
                {"leader core + log append", leader + "/TAKEN", leader + "/APPENDED"},
                {"leader event -> transport thread, encode", leader + "/APPENDED", lf + "/WRITTEN"},
                {"loopback TCP + follower read, decode", lf + "/WRITTEN", f + "<" + leader + "/RECEIVED"},
                {"follower transport -> event thread", f + "<" + leader + "/RECEIVED", f + "<" + leader + "/HANDLED"},
                {"follower core + append -> sync start", f + "<" + leader + "/HANDLED", f + "/SYNC_START"},
                {"follower fdatasync", f + "/SYNC_START", f + "/SYNC_END"},
                {"follower core -> ack written", f + "/SYNC_END", fl + "/WRITTEN"},
                {"loopback TCP + leader read, decode", fl + "/WRITTEN", leader + "<" + f + "/ACK_RECEIVED"},
                {
                    "leader transport -> event thread",
                    leader + "<" + f + "/ACK_RECEIVED",
                    leader + "<" + f + "/ACK_HANDLED"
                },
                {"leader ack handled -> committed", leader + "<" + f + "/ACK_HANDLED", leader + "/COMMITTED"},
                {"leader event -> apply thread", leader + "/COMMITTED", leader + "/APPLY_START"},
                {"apply + complete the future", leader + "/APPLY_START", leader + "/COMPLETED"},
                {"(parallel) leader appended -> sync start", leader + "/APPENDED", leader + "/SYNC_START"},
                {"(parallel) leader fdatasync", leader + "/SYNC_START", leader + "/SYNC_END"},
                {"(parallel) leader sync end -> event thread", leader + "/SYNC_END", leader + "/SYNC_HANDLED"},
            };
            boolean ok = true;
            for (String[] p : path) {
                if (!w.containsKey(p[1]) || !w.containsKey(p[2])) {
                    ok = false;
                }
            }
            if (!ok) {
                continue;
            }
            complete++;
            for (String[] p : path) {
                steps.computeIfAbsent(p[0], k -> new Step(k, new ArrayList<>()))
                        .nanos()
                        .add(w.get(p[2]) - w.get(p[1]));
            }
            steps.computeIfAbsent("total: proposed -> completed", k -> new Step(k, new ArrayList<>()))
                    .nanos()
                    .add(done - proposed);
            Long leaderSynced = w.get(leader + "/SYNC_HANDLED");
            if (leaderSynced != null && leaderSynced > w.get(leader + "<" + f + "/ACK_HANDLED")) {
                leaderSyncLast++;
            }
        }
        out.printf(Locale.ROOT, "%d writes traced end to end%n", complete);
        out.printf(Locale.ROOT, "%-46s %9s %9s%n", "step", "p50 us", "p90 us");
        for (Step s : steps.values()) {
            long[] v = s.nanos().stream().mapToLong(Long::longValue).sorted().toArray();
            if (v.length == 0) {
                continue;
            }
            out.printf(
                    Locale.ROOT,
                    "%-46s %9.1f %9.1f%n",
                    s.name(),
                    v[v.length / 2] / 1e3,
                    v[Math.min(v.length - 1, v.length * 9 / 10)] / 1e3);
        }
        out.printf(
                Locale.ROOT,
                "the leader's own sync was handled after the first acknowledgement in %d of %d writes%n",
                leaderSyncLast,
                complete);
    }
}
