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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * The process-mode benchmark: a 3-server ZooKeeper ensemble as three processes, Tenure replicas as separate
 * processes ({@link ReplicaProcessMain}, load driven inside the leader's process through its control server),
 * the ZooKeeper baseline from this process through Curator, and the demo application's HTTP API as shipped
 * ({@code demo-app.jar node} processes). Sections run in a fixed order and can be picked with {@code --sections};
 * everything started is stopped and every file written is deleted at the end.
 */
final class ProcessBench {
    /** The sections run by default. */
    static final List<String> ALL_SECTIONS =
            List.of("writes", "reads", "sizes", "replicas", "catchup", "failover", "pause", "http");

    /** What {@code --sections} accepts: the default sections, the snapshot sections and "snapshots" for all four. */
    static final List<String> KNOWN_SECTIONS = java.util.stream.Stream.of(
                    ALL_SECTIONS,
                    SnapshotBench.SECTIONS,
                    MembershipBench.SECTIONS,
                    PartitionsBench.SECTIONS,
                    FailoverBench.SECTIONS,
                    ControllerBench.SECTIONS,
                    List.of("snapshots"))
            .flatMap(List::stream)
            .toList();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
    /**
     * The ZooKeeper servers' {@code tickTime}: session timeouts from 1 s are allowed, and a session expires at most
     * one tick after its timeout (the servers check expiry in tick-sized buckets), which bounds crash failover at
     * the session timeout plus half a second plus the election (the servers clamp a session timeout to 2 to 20
     * ticks); the write path does not depend on it.
     */
    static final Duration ZOOKEEPER_TICK = Duration.ofMillis(500);

    /** The unmeasured start of every interleaved slice but the first: a fresh closed loop fills its pipeline. */
    static final Duration SETTLE = Duration.ofMillis(300);

    /**
     * What to run.
     *
     * @param sections which sections, from {@link #ALL_SECTIONS}
     * @param inflight in-flight levels of the write comparison (library API and ZooKeeper)
     * @param httpInflight in-flight levels of the HTTP writes
     * @param valueSizes value sizes of the size sweep, at 64 in flight
     * @param failoverTrials failover trials of each kind (SIGKILL with fast failover on, off; SIGTERM)
     * @param sessionTimeoutMs the replicas' ZooKeeper session timeout (but in the failover, pause and steady
     *     sections: {@link FailoverBench.Config#sessionTimeoutMs})
     * @param replicaHeap the replica processes' heap (-Xmx and -Xms)
     * @param demoJar the demo application's shaded jar
     * @param chart where to write a PNG chart, or null
     * @param catchup how long to write 64 KiB values while a follower is away, before it catches up
     * @param rounds how many alternating slices of each system make one compared point ({@link Interleaved})
     * @param jitWarmup how long each system runs unmeasured load right after its processes start, so that their JIT
     *     compilers are done before the first measured point
     * @param httpPipelinedConnections the connections over which the HTTP point at 64 in flight is measured again
     *     with pipelining (0: not measured)
     * @param snapshots the snapshot sections' settings
     * @param membershipHistoryBytes the history the membership section writes before it replaces a follower
     * @param membershipBefore how long the membership section measures the writes before the change (after {@code
     *     jitWarmup} unmeasured)
     * @param partitions the partitions section's settings
     * @param failover the failover, pause and steady sections' settings
     * @param controller the controller section's settings
     */
    record Config(
            Set<String> sections,
            List<Integer> inflight,
            List<Integer> httpInflight,
            List<Integer> valueSizes,
            Duration warmup,
            Duration duration,
            int valueBytes,
            Path dataDir,
            boolean fsync,
            int failoverTrials,
            int sessionTimeoutMs,
            String replicaHeap,
            Path demoJar,
            Path chart,
            Duration catchup,
            int rounds,
            Duration jitWarmup,
            int httpPipelinedConnections,
            SnapshotBench.Config snapshots,
            long membershipHistoryBytes,
            Duration membershipBefore,
            PartitionsBench.Config partitions,
            FailoverBench.Config failover,
            ControllerBench.Config controller) {}

    private final Config cfg;
    private final PrintWriter progress;
    private final ObjectNode result = JSON.createObjectNode();
    private boolean clean = true;
    /** The fastest {@link CpuProbe} reading of the run: the machine at full speed. */
    private double fastestCpuProbe = Double.MAX_VALUE;

    private ProcessBench(Config cfg, PrintWriter progress) {
        this.cfg = cfg;
        this.progress = progress;
    }

    /** Runs the benchmark; returns the RESULT object (with "clean": false if any operation failed). */
    static ObjectNode run(Config cfg, PrintWriter progress, PrintWriter out) throws Exception {
        Path root = cfg.dataDir() == null
                ? Files.createTempDirectory("tenure-bench-")
                : Files.createTempDirectory(Files.createDirectories(cfg.dataDir()), "tenure-bench-");
        ProcessBench b = new ProcessBench(cfg, progress);
        try {
            b.runAll(root);
        } finally {
            Benchmark.deleteRecursively(root);
        }
        b.result.put("clean", b.clean);
        b.print(out);
        if (cfg.chart() != null) {
            Chart.write(b.result, cfg.chart());
            out.println("chart written to " + cfg.chart());
        }
        return b.result;
    }

    /** Marks the run as not clean: an operation failed or a figure is not what it claims to be. */
    void unclean() {
        clean = false;
    }

    void say(String format, Object... args) {
        progress.printf(Locale.ROOT, format + "%n", args);
        progress.flush();
    }

    private void runAll(Path root) throws Exception {
        MachineFacts machine = MachineFacts.collect(root);
        DiskProbe disk = DiskProbe.measure(root, cfg.valueBytes());
        ObjectNode c = result.putObject("config");
        c.put("mode", "processes");
        c.putPOJO("sections", cfg.sections());
        c.putPOJO("inflight", cfg.inflight());
        c.putPOJO("http_inflight", cfg.httpInflight());
        c.putPOJO("value_sizes", cfg.valueSizes());
        c.put("warmup_s", cfg.warmup().toMillis() / 1000.0);
        c.put("duration_s", cfg.duration().toMillis() / 1000.0);
        c.put("value_bytes", cfg.valueBytes());
        c.put("fsync", cfg.fsync());
        c.put("session_timeout_ms", cfg.sessionTimeoutMs());
        c.put("replica_heap", cfg.replicaHeap());
        c.put("zookeeper_tick_ms", ZOOKEEPER_TICK.toMillis());
        ObjectNode m = result.putObject("machine");
        m.put("cores", machine.cores());
        m.put("cpu", machine.cpu());
        m.put("jvm", machine.jvm());
        m.put("os", machine.os());
        m.put("data_fs", machine.replicaFileSystem());
        m.put("load_average_start", loadAverage());
        m.put("disk_append_fsync_p50_us", disk.appendP50Micros());
        m.put("disk_append_fsync_p99_us", disk.appendP99Micros());
        m.put("disk_append_fdatasync_p50_us", disk.appendDatasyncP50Micros());
        m.put("disk_append_fdatasync_p99_us", disk.appendDatasyncP99Micros());
        m.put("disk_overwrite_fdatasync_p50_us", disk.preallocP50Micros());
        m.put("disk_overwrite_fdatasync_p99_us", disk.preallocP99Micros());
        say(
                "load average %.2f on %d cores; disk: append+fsync p50 %.3f ms",
                loadAverage(), machine.cores(), disk.appendP50Micros() / 1000);

        say("starting 3 ZooKeeper server processes");
        try (ZooKeeperProcessEnsemble zk = startZooKeeper(root.resolve("zookeeper"))) {
            // HTTP first, then the writes with the baseline: both before the sections that write and delete
            // gigabytes (value sizes, catch-up), after which this VM's disk can stall for minutes.
            if (cfg.sections().contains("http")) {
                http(zk, root);
            }
            boolean threeReplicaSections = cfg.sections().stream()
                    .anyMatch(
                            s -> List.of("writes", "reads", "sizes", "catchup").contains(s));
            if (threeReplicaSections) {
                say("starting 3 Tenure replica processes (heap %s)", cfg.replicaHeap());
                try (ReplicaProcesses tenure = ReplicaProcesses.start(
                        List.of("r1", "r2", "r3"),
                        zk.connectString(),
                        root.resolve("tenure3"),
                        cfg.sessionTimeoutMs(),
                        cfg.fsync(),
                        cfg.replicaHeap(),
                        "/tenure-bench")) {
                    tenure.awaitLeader(LEADER_TIMEOUT);
                    if (cfg.sections().contains("writes")) {
                        writes(zk, tenure);
                    }
                    if (cfg.sections().contains("reads")) {
                        reads(tenure);
                    }
                    if (cfg.sections().contains("sizes")) {
                        sizes(tenure);
                    }
                    if (cfg.sections().contains("catchup")) {
                        catchup(tenure);
                    }
                }
            }
            FailoverBench failover = new FailoverBench(this, cfg, result);
            if (cfg.sections().contains("failover")) {
                failover.failover(zk, root);
            }
            if (cfg.sections().contains("pause")) {
                failover.pause(zk, root);
            }
            if (cfg.sections().contains("steady")) {
                failover.steady(zk, root);
            }
            SnapshotBench snapshots = new SnapshotBench(this, cfg, result);
            // The throughput comparison first, before the sections that write and delete gigabytes.
            if (cfg.sections().contains("snapwrites")) {
                snapshots.snapshotWrites(zk, root);
            }
            if (cfg.sections().contains("soak")) {
                snapshots.soak(zk, root);
            }
            if (cfg.sections().contains("install")) {
                snapshots.install(zk, root);
            }
            if (cfg.sections().contains("restart")) {
                snapshots.restart(zk, root);
            }
            if (cfg.sections().contains("membership")) {
                new MembershipBench(this, cfg, result, cfg.membershipHistoryBytes()).run(zk, root);
            }
            if (cfg.sections().contains("replicas")) {
                fiveReplicas(zk, root);
            }
            if (cfg.sections().contains("partitions")) {
                new PartitionsBench(this, cfg, result).run(zk, root);
            }
            if (cfg.sections().contains("controller")) {
                new ControllerBench(this, cfg.controller(), result).run(zk, root);
            }
        }
        result.withObjectProperty("machine").put("load_average_end", loadAverage());
        if (fastestCpuProbe < Double.MAX_VALUE) {
            result.withObjectProperty("machine").put("cpu_probe_fastest_us", round(fastestCpuProbe));
        }
    }

    /**
     * Three ZooKeeper server processes on 127.0.0.1, each with its data under {@code dir}, fsync as configured,
     * serving once this returns; the baseline writes into them and the replicas are elected on them.
     */
    private ZooKeeperProcessEnsemble startZooKeeper(Path dir) throws Exception {
        ZooKeeperProcessEnsemble zk = ZooKeeperProcessEnsemble.builder(dir)
                .servers(3)
                .tickTime(ZOOKEEPER_TICK)
                .initLimit(20)
                .syncLimit(10)
                // ZooKeeper's default, 20 ticks: a longer client session timeout is clamped to it.
                .maxSessionTimeout(ZOOKEEPER_TICK.multipliedBy(20))
                .forceSync(cfg.fsync())
                .maxClientConnections(0)
                .heap("512m")
                .serverLogLevel("WARN")
                .startTimeout(LEADER_TIMEOUT)
                .build();
        zk.start();
        return zk;
    }

    // ---- writes: library API vs ZooKeeper, and the leader's memory ----

    private ObjectNode tenureLoad(
            ReplicaProcesses t,
            String leader,
            String kind,
            int inflight,
            int valueBytes,
            Duration warmup,
            Duration duration)
            throws Exception {
        return tenureLoad(t, leader, kind, inflight, valueBytes, warmup, duration, true);
    }

    private ObjectNode tenureLoad(
            ReplicaProcesses t,
            String leader,
            String kind,
            int inflight,
            int valueBytes,
            Duration warmup,
            Duration duration,
            boolean resetPeaks)
            throws Exception {
        ObjectNode answer = t.load(
                leader,
                "kind=" + kind + "&inflight=" + inflight + "&warmup_ms=" + warmup.toMillis() + "&duration_ms="
                        + duration.toMillis() + "&value_bytes=" + valueBytes + "&reset_peaks=" + resetPeaks,
                Duration.ofMillis(warmup.toMillis() + duration.toMillis() + DRAIN_TIMEOUT.toMillis() + 10_000));
        if (!ReplicaProcesses.cleanLoad(answer)) {
            clean = false;
        }
        return answer;
    }

    /** A Curator client of the quorum leader (the baseline's best case), started and connected. */
    static CuratorFramework zooKeeperClient(ZooKeeperProcessEnsemble zk, int server) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(ZooKeeperProcessEnsemble.LOOPBACK + ":" + zk.clientPort(server))
                .sessionTimeoutMs(30_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .ensembleTracker(false)
                .build();
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            client.close();
            throw new TimeoutException("cannot connect to ZooKeeper server " + server);
        }
        return client;
    }

    private void writes(ZooKeeperProcessEnsemble zk, ReplicaProcesses tenure) throws Exception {
        int zkLeader = zk.quorumLeader();
        ArrayNode levels = result.putArray("writes");
        try (CuratorFramework client = zooKeeperClient(zk, zkLeader)) {
            int maxInflight = Collections.max(cfg.inflight());
            ZooKeeperWrites zkWrites = new ZooKeeperWrites(client, "/zookeeper-bench", Math.max(64, maxInflight));
            result.put("zookeeper_client_server", zkLeader + " of 3 (the quorum leader)");
            String first = tenure.awaitLeader(LEADER_TIMEOUT);
            jitWarmup(
                    "library API writes, 64 in flight",
                    (settle, interval) -> OutcomeJson.fromJson(
                            tenureLoad(tenure, first, "write", 64, cfg.valueBytes(), settle, interval)
                                    .path("outcome")));
            jitWarmup("ZooKeeper writes, 64 in flight", closedLoop(zkWrites, 64));
            for (int n : cfg.inflight()) {
                String leader = tenure.awaitLeader(LEADER_TIMEOUT);
                say(
                        "writes, %d in flight: tenure (library API in %s's process) and zookeeper (Curator setData),"
                                + " %d alternating rounds",
                        n, leader, cfg.rounds());
                List<ObjectNode> answers = new ArrayList<>();
                Interleaved.Result r = interleave(
                        (settle, interval) -> {
                            // Heap peaks are reset by the level's first slice only: the last answer covers them all.
                            ObjectNode a = tenureLoad(
                                    tenure, leader, "write", n, cfg.valueBytes(), settle, interval, answers.isEmpty());
                            answers.add(a);
                            return OutcomeJson.fromJson(a.path("outcome"));
                        },
                        closedLoop(zkWrites, n));
                ObjectNode level = levels.addObject();
                level.put("inflight", n);
                compared(level, "tenure", "zookeeper", r);
                if (n == 64 || (n == maxInflight && !cfg.inflight().contains(64))) {
                    ObjectNode mem = result.putObject("memory");
                    mem.put("inflight", n);
                    mem.put("leader", leader);
                    mem.set("leader_under_load", answers.get(answers.size() - 1).get("memory"));
                    ObjectNode followers = mem.putObject("followers_after_load");
                    for (String id : tenure.ids()) {
                        if (!id.equals(leader)) {
                            followers.set(id, tenure.get(id, "/memory", Duration.ofSeconds(5)));
                        }
                    }
                }
            }
        }
    }

    /** A closed loop of {@code op} with {@code inflight} writers as one slice of an interleaved comparison. */
    private Interleaved.Slice closedLoop(ClosedLoop.Operation op, int inflight) {
        return (settle, interval) -> ClosedLoop.run(op, inflight, settle, interval, cfg.valueBytes(), DRAIN_TIMEOUT);
    }

    /** {@code a} against {@code b} in the configured alternating rounds. */
    Interleaved.Result interleave(Interleaved.Slice a, Interleaved.Slice b) throws Exception {
        return Interleaved.run(a, b, cfg.rounds(), cfg.warmup(), SETTLE, cfg.duration());
    }

    /**
     * Puts the two sides of an interleaved comparison into {@code level}: each side's merged figures with its median
     * CPU probe, the median of the per-round throughput ratios ({@code ratio_ops_per_s}, the figure the targets are
     * judged by), every round's ratio, and the ratio of the merged throughputs.
     */
    void compared(ObjectNode level, String a, String b, Interleaved.Result r) {
        Results.Side sa = Results.Side.of(a, r.a());
        Results.Side sb = Results.Side.of(b, r.b());
        clean &= sa.clean() && sb.clean();
        level.set(a, observed(SideJson.of(sa), r.cpuProbeMicrosA(), r.jitPercentA()));
        level.set(b, observed(SideJson.of(sb), r.cpuProbeMicrosB(), r.jitPercentB()));
        level.put("ratio_ops_per_s", round(r.medianRatio()));
        ArrayNode rounds = level.putArray("ratio_rounds");
        r.roundRatios().forEach(x -> rounds.add(round(x)));
        level.put("ratio_total", round(r.totalRatio()));
    }

    private ObjectNode observed(ObjectNode side, List<Double> probes, double jitPercent) {
        List<Double> sorted = new ArrayList<>(probes);
        Collections.sort(sorted);
        fastestCpuProbe = Math.min(fastestCpuProbe, sorted.get(0));
        side.put("cpu_probe_us", round(median(sorted)));
        if (jitPercent >= 0) {
            side.put("jit_pct", Math.round(jitPercent * 10) / 10.0);
        }
        return side;
    }

    /**
     * Runs a load for {@link Config#jitWarmup} (the slice's settle time; its 100 ms measured interval is ignored),
     * unmeasured: the processes that just started compile their hot paths now rather than during the first measured
     * points. Failures make the run unclean.
     */
    void jitWarmup(String what, Interleaved.Slice load) throws Exception {
        if (cfg.jitWarmup().isZero()) {
            return;
        }
        say("JIT warm-up, not measured: %s for %d s", what, cfg.jitWarmup().toSeconds());
        long before = JitActivity.compilerCpuNanos();
        long start = System.nanoTime();
        ClosedLoop.Outcome o = load.run(cfg.jitWarmup(), Duration.ofMillis(100));
        double jit = JitActivity.percentOfACore(before, JitActivity.compilerCpuNanos(), System.nanoTime() - start);
        if (o.errors() + o.unmeasuredErrors() > 0) {
            clean = false;
            say(
                    "JIT warm-up of %s: %d operations failed, first: %s",
                    what, o.errors() + o.unmeasuredErrors(), o.firstError());
        }
        ObjectNode w = result.withArray("jit_warmup").addObject();
        w.put("what", what);
        w.put("seconds", cfg.jitWarmup().toSeconds());
        if (jit >= 0) {
            w.put("jit_pct", Math.round(jit * 10) / 10.0);
        }
    }

    private void reads(ReplicaProcesses tenure) throws Exception {
        String leader = tenure.awaitLeader(LEADER_TIMEOUT);
        say("linearizable read barriers, 64 in flight, library API in %s's process", leader);
        ObjectNode t = tenureLoad(tenure, leader, "read", 64, cfg.valueBytes(), cfg.warmup(), cfg.duration());
        result.putObject("reads_library").put("inflight", 64).set("linearizable", t.get("side"));
    }

    private void sizes(ReplicaProcesses tenure) throws Exception {
        ArrayNode sizes = result.putArray("value_sizes");
        for (int size : cfg.valueSizes()) {
            String leader = tenure.awaitLeader(LEADER_TIMEOUT);
            say("writes of %d-byte values, 64 in flight", size);
            ObjectNode t = tenureLoad(tenure, leader, "write", 64, size, cfg.warmup(), cfg.duration());
            ObjectNode s = sizes.addObject();
            s.put("value_bytes", size);
            s.put("inflight", 64);
            s.set("tenure", t.get("side"));
            s.put("mb_per_s", round(t.path("side").path("ops_per_s").asDouble() * size / 1e6));
        }
    }

    // ---- catch-up from an empty disk ----

    private void catchup(ReplicaProcesses tenure) throws Exception {
        String leader = tenure.awaitLeader(LEADER_TIMEOUT);
        String follower = tenure.ids().stream()
                .filter(id -> !id.equals(leader))
                .findFirst()
                .orElseThrow();
        say(
                "catch-up: stopping %s and emptying its disk, writing 64 KiB values for %d s",
                follower, cfg.catchup().toSeconds());
        ReplicaProcesses.Node f = tenure.node(follower);
        f.process.terminate();
        f.process.awaitExit(Duration.ofSeconds(30));
        Benchmark.deleteRecursively(f.dataDir);
        ObjectNode fill = tenureLoad(tenure, leader, "write", 16, 64 * 1024, Duration.ZERO, cfg.catchup());
        long target = tenure.status(leader).logEndOffset();
        long bytes = tenure.dataBytes(leader);
        long launched = System.nanoTime();
        tenure.launch(follower);
        tenure.awaitReady(follower);
        long ready = System.nanoTime();
        Duration took = tenure.awaitApplied(follower, target, Duration.ofMinutes(5));
        double seconds = took.toNanos() / 1e9;
        ObjectNode o = result.putObject("catchup");
        o.put("follower", follower);
        o.put("entries", target);
        o.put("log_bytes", bytes);
        o.put("seconds_from_replica_start", round(seconds));
        o.put("seconds_from_process_launch", round((System.nanoTime() - launched) / 1e9));
        o.put("process_start_s", round((ready - launched) / 1e9));
        o.put("mb_per_s", round(bytes / 1e6 / seconds));
        o.set("fill", fill.get("side"));
        say("catch-up: %d entries, %.1f MB in %.2f s: %.1f MB/s", target, bytes / 1e6, seconds, bytes / 1e6 / seconds);
    }

    // ---- five replicas ----

    private void fiveReplicas(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        say("starting 5 Tenure replica processes");
        try (ReplicaProcesses five = ReplicaProcesses.start(
                List.of("s1", "s2", "s3", "s4", "s5"),
                zk.connectString(),
                root.resolve("tenure5"),
                cfg.sessionTimeoutMs(),
                cfg.fsync(),
                cfg.replicaHeap(),
                "/tenure-bench-5")) {
            ArrayNode levels = result.putArray("replicas_5");
            for (int n : List.of(1, 64, 256)) {
                String leader = five.awaitLeader(LEADER_TIMEOUT);
                say("5 replicas, %d in flight", n);
                ObjectNode t = tenureLoad(five, leader, "write", n, cfg.valueBytes(), cfg.warmup(), cfg.duration());
                ObjectNode l = levels.addObject();
                l.put("inflight", n);
                l.set("tenure", t.get("side"));
            }
        }
    }

    // ---- HTTP API of the demo application ----

    private void http(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        if (!Files.isRegularFile(cfg.demoJar())) {
            say("http: %s not found (build demo-app first); skipped", cfg.demoJar());
            result.put("http_skipped", "no " + cfg.demoJar());
            clean = false;
            return;
        }
        say("starting 3 demo-app node processes (%s)", cfg.demoJar());
        try (DemoNodes demo = DemoNodes.start(
                cfg.demoJar(),
                List.of("n1", "n2", "n3"),
                zk.connectString(),
                root.resolve("demo"),
                cfg.sessionTimeoutMs(),
                cfg.replicaHeap())) {
            String leader = demo.awaitLeader(LEADER_TIMEOUT);
            String follower = demo.ids().stream()
                    .filter(id -> !id.equals(leader))
                    .findFirst()
                    .orElseThrow();
            int readers = 64;
            int writers = Math.max(readers, Collections.max(cfg.httpInflight()));
            ArrayNode writes = result.putArray("http_writes");
            int zkLeader = zk.quorumLeader();
            try (CuratorFramework client = zooKeeperClient(zk, zkLeader);
                    AsyncHttpLoad toLeader = new AsyncHttpLoad(demo.url(leader), writers);
                    AsyncHttpLoad readLeader = new AsyncHttpLoad(demo.url(leader), readers);
                    AsyncHttpLoad toFollower = new AsyncHttpLoad(demo.url(follower), readers)) {
                ZooKeeperWrites zkWrites = new ZooKeeperWrites(client, "/zookeeper-bench", writers);
                jitWarmup("HTTP PUTs, 64 in flight", closedLoop(toLeader.puts("/kv/bench-"), 64));
                jitWarmup("ZooKeeper writes, 64 in flight", closedLoop(zkWrites, 64));
                for (int n : cfg.httpInflight()) {
                    say(
                            "HTTP PUT to the leader %s and zookeeper (Curator setData), %d in flight, %d alternating"
                                    + " rounds",
                            leader, n, cfg.rounds());
                    Interleaved.Result r =
                            interleave(closedLoop(toLeader.puts("/kv/bench-"), n), closedLoop(zkWrites, n));
                    ObjectNode l = writes.addObject();
                    l.put("inflight", n);
                    compared(l, "tenure_http", "zookeeper", r);
                }
                if (cfg.httpPipelinedConnections() > 0) {
                    httpPipelined(demo.url(leader), zkWrites, 64, cfg.httpPipelinedConnections());
                }
                seedKeys(toLeader, readers);
                say(
                        "HTTP GET, %d in flight: linearizable on the leader, local on the leader and on a follower",
                        readers);
                Results.Side lin = gets(readLeader, "?consistency=linearizable", readers);
                Results.Side localLeader = gets(readLeader, "?consistency=local", readers);
                Results.Side localFollower = gets(toFollower, "?consistency=local", readers);
                clean &= lin.clean() && localLeader.clean() && localFollower.clean();
                ObjectNode r = result.putObject("http_reads");
                r.put("inflight", readers);
                r.set("linearizable_leader", SideJson.of(lin));
                r.set("local_leader", SideJson.of(localLeader));
                r.set("local_follower", SideJson.of(localFollower));
            }
        }
    }

    /**
     * HTTP PUTs with {@code inflight} writers over {@code connections} connections, pipelined (as ZooKeeper's client
     * multiplexes its requests over one session), against ZooKeeper at the same level, interleaved.
     */
    private void httpPipelined(java.net.URI leaderUrl, ZooKeeperWrites zkWrites, int inflight, int connections)
            throws Exception {
        try (AsyncHttpLoad pipelined = new AsyncHttpLoad(leaderUrl, inflight, connections)) {
            say(
                    "HTTP PUT pipelined over %d connections and zookeeper, %d in flight, %d alternating rounds",
                    connections, inflight, cfg.rounds());
            Interleaved.Result r =
                    interleave(closedLoop(pipelined.puts("/kv/bench-"), inflight), closedLoop(zkWrites, inflight));
            ObjectNode l = result.putObject("http_writes_pipelined");
            l.put("inflight", inflight);
            l.put("connections", connections);
            compared(l, "tenure_http", "zookeeper", r);
        }
    }

    // ---- output ----

    private void print(PrintWriter out) {
        out.println();
        out.println(
                "Tenure benchmark (process mode): every replica and every ZooKeeper server is its own JVM on 127.0.0.1");
        JsonNode m = result.path("machine");
        out.printf(
                Locale.ROOT,
                "  machine: %d cores (%s), %s, %s, data on %s%n  disk p50 (100 B): append+fsync %.3f ms,"
                        + " append+fdatasync %.3f ms, overwrite+fdatasync %.3f ms%n",
                m.path("cores").asInt(),
                m.path("cpu").asText(),
                m.path("jvm").asText(),
                m.path("os").asText(),
                m.path("data_fs").asText(),
                m.path("disk_append_fsync_p50_us").asDouble() / 1000,
                m.path("disk_append_fdatasync_p50_us").asDouble() / 1000,
                m.path("disk_overwrite_fdatasync_p50_us").asDouble() / 1000);
        out.printf(
                Locale.ROOT,
                "  load average %.2f before, %.2f after; fsync %s; %d-byte values; %s s warm-up, %s s measured per point;"
                        + " replica heap %s%n",
                m.path("load_average_start").asDouble(),
                m.path("load_average_end").asDouble(),
                cfg.fsync() ? "on" : "OFF",
                cfg.valueBytes(),
                cfg.warmup().toMillis() / 1000.0,
                cfg.duration().toMillis() / 1000.0,
                cfg.replicaHeap());
        out.printf(
                Locale.ROOT,
                "  compared points: %d alternating rounds per system; cpu x = the time a fixed CRC-32C took before"
                        + " that system's slices (median) over the run's fastest (%.0f us): 1.0 is full speed; jit%% = CPU"
                        + " of all the processes' JIT compilers during those slices, in %% of one core%n",
                cfg.rounds(),
                m.path("cpu_probe_fastest_us").asDouble());
        for (JsonNode w : result.path("jit_warmup")) {
            out.printf(
                    Locale.ROOT,
                    "  JIT warm-up before measuring: %s for %d s (JIT compilers %.0f%% of a core)%n",
                    w.path("what").asText(),
                    w.path("seconds").asInt(),
                    w.path("jit_pct").asDouble(-1));
        }
        String head = String.format(
                Locale.ROOT,
                "%-34s %9s %9s %9s %9s %9s %7s %9s %6s %5s",
                "what",
                "ops/s",
                "p50 ms",
                "p99 ms",
                "p99.9 ms",
                "max ms",
                "errors",
                "io stall%",
                "cpu x",
                "jit%");
        out.println();
        out.println(head);
        for (JsonNode l : result.path("writes")) {
            int n = l.path("inflight").asInt();
            row(out, "write lib API, " + n + " in flight", l.path("tenure"));
            row(out, "write ZooKeeper, " + n + " in flight", l.path("zookeeper"));
            ratioRow(out, "  tenure / zookeeper", l);
        }
        for (JsonNode l : result.path("http_writes")) {
            int n = l.path("inflight").asInt();
            row(out, "write HTTP, " + n + " in flight", l.path("tenure_http"));
            row(out, "write ZooKeeper, " + n + " (with HTTP)", l.path("zookeeper"));
            ratioRow(out, "  HTTP / zookeeper", l);
        }
        if (result.has("http_writes_pipelined")) {
            JsonNode l = result.path("http_writes_pipelined");
            int n = l.path("inflight").asInt();
            row(out, "write HTTP, " + n + " over " + l.path("connections").asInt() + " conns", l.path("tenure_http"));
            row(out, "write ZooKeeper, " + n + " (with HTTP)", l.path("zookeeper"));
            ratioRow(out, "  HTTP pipelined / zookeeper", l);
        }
        if (result.has("reads_library")) {
            row(
                    out,
                    "read barrier lib API, 64 in flight",
                    result.path("reads_library").path("linearizable"));
        }
        if (result.has("http_reads")) {
            JsonNode r = result.path("http_reads");
            row(out, "GET linearizable (leader), 64", r.path("linearizable_leader"));
            row(out, "GET local (leader), 64", r.path("local_leader"));
            row(out, "GET local (follower), 64", r.path("local_follower"));
        }
        for (JsonNode s : result.path("value_sizes")) {
            row(out, "write " + s.path("value_bytes").asInt() + " B values, 64", s.path("tenure"));
            out.printf(Locale.ROOT, "%-34s %8.1f MB/s%n", "", s.path("mb_per_s").asDouble());
        }
        for (JsonNode l : result.path("replicas_5")) {
            row(out, "write 5 replicas, " + l.path("inflight").asInt() + " in flight", l.path("tenure"));
        }
        if (result.has("catchup")) {
            JsonNode c = result.path("catchup");
            out.printf(
                    Locale.ROOT,
                    "%ncatch-up from an empty disk: %d entries, %.1f MB in %.2f s = %.1f MB/s (after a %.1f s process start)%n",
                    c.path("entries").asLong(),
                    c.path("log_bytes").asLong() / 1e6,
                    c.path("seconds_from_replica_start").asDouble(),
                    c.path("mb_per_s").asDouble(),
                    c.path("process_start_s").asDouble());
        }
        SnapshotBench.print(result, out);
        MembershipBench.print(result, out);
        PartitionsBench.print(result, out);
        FailoverBench.print(result, out);
        ControllerBench.print(result, out);
        if (result.has("memory")) {
            JsonNode mem = result.path("memory");
            JsonNode lm = mem.path("leader_under_load");
            out.printf(
                    Locale.ROOT,
                    "%nmemory of the leader under %d in flight: heap peak %.0f MiB, after GC %.0f MiB, max %.0f MiB; RSS peak"
                            + " %.0f MiB; GC %d collections, %d ms%n",
                    mem.path("inflight").asInt(),
                    mib(lm.path("heap_peak_used_bytes")),
                    mib(lm.path("heap_after_gc_bytes")),
                    mib(lm.path("heap_max_bytes")),
                    mib(lm.path("rss_peak_bytes")),
                    lm.path("gc_count").asLong(),
                    lm.path("gc_ms").asLong());
        }
        out.println();
        out.println(Report.RESULT_PREFIX + result);
        out.flush();
    }

    private static double mib(JsonNode bytes) {
        return bytes.asLong() / (double) (1 << 20);
    }

    /**
     * Writes keys {@code bench-0} to {@code bench-(readers-1)} once each, so that every reader's key exists even
     * when the PUT levels had fewer writers than there are readers.
     */
    private static void seedKeys(AsyncHttpLoad load, int readers) throws Exception {
        List<CompletableFuture<Throwable>> puts = new ArrayList<>();
        for (int w = 0; w < readers; w++) {
            CompletableFuture<Throwable> done = new CompletableFuture<>();
            load.puts("/kv/bench-").start(w, new byte[] {1}, done::complete);
            puts.add(done);
        }
        for (CompletableFuture<Throwable> done : puts) {
            Throwable failure = done.get(30, TimeUnit.SECONDS);
            if (failure != null) {
                throw new IllegalStateException("cannot write the keys the GETs read", failure);
            }
        }
    }

    /** A closed loop of HTTP GETs of the keys the PUTs wrote, {@code readers} in flight. */
    private Results.Side gets(AsyncHttpLoad load, String query, int readers) throws Exception {
        return Results.Side.of(
                "get",
                ClosedLoop.run(
                        load.gets("/kv/bench-", query), readers, cfg.warmup(), cfg.duration(), 1, DRAIN_TIMEOUT));
    }

    /** The median of the rounds' ratios, their range, and the ratio of the merged throughputs. */
    private static void ratioRow(PrintWriter out, String what, JsonNode level) {
        List<Double> rounds = new ArrayList<>();
        level.path("ratio_rounds").forEach(r -> rounds.add(r.asDouble()));
        out.printf(
                Locale.ROOT,
                "%-34s %8.2fx  median of %d rounds (%.2f-%.2fx); merged %.2fx%n",
                what,
                level.path("ratio_ops_per_s").asDouble(),
                rounds.size(),
                rounds.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN),
                rounds.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
                level.path("ratio_total").asDouble());
    }

    private void row(PrintWriter out, String what, JsonNode s) {
        out.printf(
                Locale.ROOT,
                "%-34s %9.0f %9.3f %9.3f %9.3f %9.3f %7d %9s %6s %5s%n",
                what,
                s.path("ops_per_s").asDouble(),
                s.path("p50_us").asDouble() / 1000,
                s.path("p99_us").asDouble() / 1000,
                s.path("p999_us").asDouble() / 1000,
                s.path("max_us").asDouble() / 1000,
                s.path("errors").asLong() + s.path("unmeasured_errors").asLong(),
                s.has("io_stall_pct")
                        ? String.format(
                                Locale.ROOT, "%.1f", s.path("io_stall_pct").asDouble())
                        : "-",
                s.has("cpu_probe_us") && fastestCpuProbe < Double.MAX_VALUE
                        ? String.format(
                                Locale.ROOT, "%.1f", s.path("cpu_probe_us").asDouble() / fastestCpuProbe)
                        : "-",
                s.has("jit_pct")
                        ? String.format(Locale.ROOT, "%.0f", s.path("jit_pct").asDouble())
                        : "-");
    }

    static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
