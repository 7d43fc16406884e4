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
import com.google.common.base.Splitter;
import dev.tenure.harness.ChildJvm;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.curator.framework.CuratorFramework;

/**
 * The partitions section (issue 16): three {@link NodeProcessMain} processes, each one {@link
 * dev.tenure.replicator.zookeeper.ZooKeeperNode}, host {@code P} partitions of 3 replicas placed by {@code
 * Placement.preferredSpread} (partition {@code i}'s preferred leader is node {@code i mod 3}), against the run's
 * ZooKeeper ensemble, on 127.0.0.1. In one run:
 *
 * <ol>
 *   <li>a small set ({@code --partitions-small}, 10) started, then idle: messages, CPU, heap — the baseline the idle
 *       figures of the large set are compared with;
 *   <li>the large set ({@code --partitions}, 1,000): the time from launching the processes until every partition has
 *       had a leader and until every partition is led by its preferred replica; then idle for {@code
 *       --partitions-idle-s}: each node's CPU (% of one core), messages sent ({@code ZooKeeperNode.messagesSent}: the
 *       transport's replication messages; the 1 s pings on idle connections are frames, not messages, and are not
 *       counted), bytes written by the process ({@code /proc/PID/io} wchar: sockets, and also the process's log
 *       file), leader changes, and the heap in use after a full collection;
 *   <li>aggregate writes (the library API inside the leaders' processes, fsync on, 100-byte values): 100 partitions
 *       with 1 write in flight each against 1 partition with 100 in flight; 16 partitions with 16 each against 1
 *       partition with 256; 16 × 16 against ZooKeeper directly at 256 (Curator setData), each pair in alternating
 *       rounds ({@link Interleaved}), after unmeasured JIT warm-ups of 16 × 16 and of both sides of the first pair;
 *   <li>SIGKILL of the node leading the most partitions (a third): per partition, the time from the signal until a
 *       surviving node leads it (role LEADER: elected, recovered, taking writes), seen by each node's watcher every
 *       10 ms: p50, p90, p99, max, against the session timeout plus 2 s.
 * </ol>
 *
 * With {@code --partitions-startup-only}, only the large set's start (2.): the time to leaders, the percentiles of
 * when partitions were first led, and each node's ZooKeeper requests by kind (Curator's trace), CPU by thread and
 * opening log lines — for working on the start without the six minutes of the rest. With {@code
 * --partitions-failover-only}, the large set's start and its failover (4.), nothing else; with {@code
 * --partitions-writes-only}, its start and the write comparisons (3.).
 *
 * <p>Every process is stopped at the end of its part (SIGTERM, then SIGKILL), and every loop has a deadline.
 */
final class PartitionsBench {
    static final List<String> SECTIONS = List.of("partitions");
    static final List<String> NODES = List.of("n1", "n2", "n3");
    private static final int REPLICATION_FACTOR = 3;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration LEADERS_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The section's settings.
     *
     * @param partitions the large set's partitions (the 1,000)
     * @param smallPartitions the small set's, for the idle comparison (10)
     * @param idle each idle window
     * @param settle the wait before each idle window, once every replica has its whole log committed
     * @param sessionTimeoutMs the nodes' ZooKeeper session timeout
     * @param nodeHeap the node processes' heap (-Xmx and -Xms)
     * @param startupOnly only the large set's start (time to leaders), nothing else
     * @param failoverOnly only the large set's start and the SIGKILL of its busiest node
     * @param writesOnly only the large set's start and the write comparisons
     * @param restartKilled in the failover, start the killed node again right after the SIGKILL (its data directory
     *     kept), as a supervisor would
     * @param nodeOptions {@link NodeProcessMain}'s options for the large set in a run of one part only
     */
    record Config(
            int partitions,
            int smallPartitions,
            Duration idle,
            Duration settle,
            int sessionTimeoutMs,
            String nodeHeap,
            boolean startupOnly,
            boolean failoverOnly,
            boolean writesOnly,
            boolean restartKilled,
            String nodeOptions) {}

    private final ProcessBench b;
    private final ProcessBench.Config cfg;
    private final Config pc;
    private final ObjectNode result;

    PartitionsBench(ProcessBench b, ProcessBench.Config cfg, ObjectNode result) {
        this.b = b;
        this.cfg = cfg;
        this.pc = cfg.partitions();
        this.result = result;
    }

    void run(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        long maxSessionMs = ProcessBench.ZOOKEEPER_TICK.multipliedBy(20).toMillis();
        if (pc.sessionTimeoutMs() > maxSessionMs) {
            // The ensemble would clamp it, and every bound below would be computed from a timeout nobody has.
            throw new IllegalArgumentException("--partitions-session-timeout-ms " + pc.sessionTimeoutMs()
                    + " is above the bench ensemble's maximum session timeout, " + maxSessionMs + " ms (20 ticks)");
        }
        ObjectNode o = result.putObject("partitions");
        o.put("nodes", NODES.size());
        o.put("replication_factor", REPLICATION_FACTOR);
        o.put("session_timeout_ms", pc.sessionTimeoutMs());
        o.put("node_heap", pc.nodeHeap());
        o.put("idle_s", pc.idle().toMillis() / 1000.0);
        o.put("settle_s", pc.settle().toMillis() / 1000.0);
        o.put("startup_only", pc.startupOnly());
        if (pc.startupOnly() || pc.failoverOnly() || pc.writesOnly()) {
            b.say(
                    "partitions: 3 node processes with %d partitions, %s only",
                    pc.partitions(), pc.startupOnly() ? "start" : pc.failoverOnly() ? "failover" : "writes");
            try (Nodes large = Nodes.start(
                    zk.connectString(),
                    root.resolve("partitions-large"),
                    pc.nodeHeap(),
                    pc.sessionTimeoutMs(),
                    "/tenure-bench-partitions",
                    pc.partitions(),
                    pc.nodeOptions())) {
                o.put("node_options", pc.nodeOptions());
                startup(large, zk, o.putObject("large"));
                if (pc.failoverOnly()) {
                    failover(large, o.putObject("failover"));
                } else if (pc.writesOnly()) {
                    writes(zk, large, o.putObject("writes"));
                }
            }
            return;
        }
        b.say(
                "partitions: 3 node processes with %d partitions, idle %d s",
                pc.smallPartitions(), pc.idle().toSeconds());
        try (Nodes small = Nodes.start(
                zk.connectString(),
                root.resolve("partitions-small"),
                pc,
                "/tenure-bench-partitions-small",
                pc.smallPartitions())) {
            ObjectNode s = o.putObject("small");
            startup(small, zk, s);
            idle(small, zk, s);
        }
        b.say("partitions: 3 node processes with %d partitions", pc.partitions());
        try (Nodes large = Nodes.start(
                zk.connectString(),
                root.resolve("partitions-large"),
                pc,
                "/tenure-bench-partitions",
                pc.partitions())) {
            ObjectNode l = o.putObject("large");
            startup(large, zk, l);
            idle(large, zk, l);
            writes(zk, large, o.putObject("writes"));
            failover(large, o.putObject("failover"));
        }
        targets(o);
    }

    // ---- start ----

    /** Waits until every partition has had a leader, then until each is led by its preferred replica. */
    private void startup(Nodes nodes, ZooKeeperProcessEnsemble zk, ObjectNode o) throws Exception {
        int p = nodes.partitions;
        long[] zkBefore = zooKeeperCpuTicks(zk);
        long deadline = System.nanoTime() + LEADERS_TIMEOUT.toNanos();
        Map<String, JsonNode> leaders = nodes.leaders();
        while (firstLed(leaders).size() < p && System.nanoTime() < deadline) {
            Thread.sleep(200); // polling the nodes' watchers, with a deadline
            leaders = nodes.leaders();
        }
        Map<String, Long> first = firstLed(leaders);
        long[] zkAfter = zooKeeperCpuTicks(zk);
        if (zkBefore != null && zkAfter != null) {
            ArrayNode zkCpu = o.putArray("zookeeper_cpu_s_until_all_led");
            for (int i = 0; i < zkBefore.length; i++) {
                zkCpu.add(ProcessBench.round((zkAfter[i] - zkBefore[i]) / 100.0)); // clock ticks of 10 ms
            }
        }
        o.put("partitions", p);
        o.put("all_led", first.size() == p);
        o.put("led", first.size());
        List<Long> ledAfter = new ArrayList<>();
        first.values().forEach(t -> ledAfter.add(t - nodes.launchedMillis));
        Collections.sort(ledAfter);
        if (!ledAfter.isEmpty()) {
            o.putObject("first_led_ms_after_launch")
                    .put("p10", percentile(ledAfter, 10))
                    .put("p50", percentile(ledAfter, 50))
                    .put("p90", percentile(ledAfter, 90))
                    .put("p99", percentile(ledAfter, 99))
                    .put("max", ledAfter.get(ledAfter.size() - 1));
        }
        if (first.size() == p) {
            long allLed = Collections.max(first.values());
            o.put("seconds_to_all_led", ProcessBench.round((allLed - nodes.launchedMillis) / 1e3));
        } else {
            b.unclean();
        }
        boolean balanced = balanced(leaders, p);
        while (!balanced && System.nanoTime() < deadline) {
            Thread.sleep(200); // polling, with a deadline
            leaders = nodes.leaders();
            balanced = balanced(leaders, p);
        }
        o.put("balanced", balanced);
        if (balanced) {
            long last = 0;
            for (Map.Entry<String, JsonNode> e : leaders.entrySet()) {
                for (Map.Entry<String, JsonNode> since :
                        e.getValue().path("led_since").properties()) {
                    last = Math.max(last, since.getValue().asLong());
                }
            }
            o.put("seconds_to_preferred_leaders", ProcessBench.round((last - nodes.launchedMillis) / 1e3));
        }
        ObjectNode opened = o.putObject("nodes");
        long openedAll = 0;
        for (String id : NODES) {
            JsonNode s = nodes.get(id, "/stats");
            openedAll = Math.max(openedAll, s.path("opened_ms").asLong());
            opened.putObject(id)
                    .put("hosted", s.path("hosted").asInt())
                    .put("opened", s.path("opened").asInt())
                    .put(
                            "seconds_to_ready",
                            ProcessBench.round((s.path("open_started_ms").asLong() - nodes.launchedMillis) / 1e3))
                    .put(
                            "seconds_to_opened",
                            ProcessBench.round((s.path("opened_ms").asLong() - nodes.launchedMillis) / 1e3))
                    .put("leading", s.path("leading").asInt())
                    .put("node_threads", s.path("node_threads").asInt())
                    .put("open_failure", s.path("open_failure").asText())
                    .put("cpu_s", ProcessBench.round(s.path("cpu_ns").asLong() / 1e9))
                    .put("jit_cpu_s", ProcessBench.round(s.path("jit_cpu_ns").asLong() / 1e9))
                    .set("zookeeper_operations", s.path("zookeeper_operations"));
            ArrayNode openLog = ((ObjectNode) opened.get(id)).putArray("open_log");
            Path logFile = nodes.logs.resolve("node-" + id + ".log");
            if (Files.exists(logFile)) {
                try (java.util.stream.Stream<String> lines = Files.lines(logFile)) {
                    lines.filter(l -> l.contains("partitions in") || l.contains("ZooKeeper part of opening"))
                            .forEach(openLog::add);
                }
            }
            ObjectNode threads = ((ObjectNode) opened.get(id)).putObject("cpu_s_by_thread");
            List<Map.Entry<String, JsonNode>> groups =
                    new ArrayList<>(s.path("thread_cpu_ns").properties());
            groups.sort(
                    (x, y) -> Long.compare(y.getValue().asLong(), x.getValue().asLong()));
            for (Map.Entry<String, JsonNode> g : groups.subList(0, Math.min(8, groups.size()))) {
                threads.put(g.getKey(), ProcessBench.round(g.getValue().asLong() / 1e9));
            }
            if (!s.path("open_failure").asText().isEmpty()) {
                b.unclean();
            }
        }
        o.put("seconds_to_all_opened", ProcessBench.round((openedAll - nodes.launchedMillis) / 1e3));
        StringBuilder cpu = new StringBuilder();
        for (Map.Entry<String, JsonNode> n : opened.properties()) {
            cpu.append(cpu.length() == 0 ? "" : ", ")
                    .append(n.getKey())
                    .append(String.format(
                            Locale.ROOT,
                            " %.1f s (JIT %.1f s)",
                            n.getValue().path("cpu_s").asDouble(),
                            n.getValue().path("jit_cpu_s").asDouble()));
        }
        b.say(
                "partitions: %d partitions all led %.1f s after launching the nodes (opened after %.1f s), led by"
                        + " their preferred replicas after %.1f s; the nodes' CPU by then: %s",
                p,
                o.path("seconds_to_all_led").asDouble(-1),
                o.path("seconds_to_all_opened").asDouble(-1),
                o.path("seconds_to_preferred_leaders").asDouble(-1),
                cpu);
    }

    /** Each partition's earliest {@code first_led} over the nodes. */
    static Map<String, Long> firstLed(Map<String, JsonNode> leaders) {
        Map<String, Long> first = new HashMap<>();
        for (JsonNode l : leaders.values()) {
            for (Map.Entry<String, JsonNode> e : l.path("first_led").properties()) {
                first.merge(e.getKey(), e.getValue().asLong(), Math::min);
            }
        }
        return first;
    }

    /** Whether every partition is led by its preferred replica, and by it only. */
    static boolean balanced(Map<String, JsonNode> leaders, int partitions) {
        int led = 0;
        for (Map.Entry<String, JsonNode> e : leaders.entrySet()) {
            for (JsonNode p : e.getValue().path("leading")) {
                if (!preferred(p.asText()).equals(e.getKey())) {
                    return false;
                }
                led++;
            }
        }
        return led == partitions;
    }

    private static String preferred(String partition) {
        return NODES.get(Integer.parseInt(partition.substring(1)) % NODES.size());
    }

    static Set<String> leading(JsonNode leaders) {
        Set<String> s = new TreeSet<>();
        leaders.path("leading").forEach(p -> s.add(p.asText()));
        return s;
    }

    // ---- idle ----

    private void idle(Nodes nodes, ZooKeeperProcessEnsemble zk, ObjectNode o) throws Exception {
        for (String id : NODES) {
            nodes.post(id, "/watch?on=false", Duration.ofSeconds(5));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        boolean caughtUp = false;
        while (!caughtUp && System.nanoTime() < deadline) {
            caughtUp = true;
            for (String id : NODES) {
                caughtUp &= nodes.get(id, "/stats").path("behind").asInt() == 0;
            }
            if (!caughtUp) {
                Thread.sleep(100); // polling, with a deadline
            }
        }
        Thread.sleep(pc.settle().toMillis()); // the partitions quiesce
        Map<String, JsonNode> before = new LinkedHashMap<>();
        Map<String, Set<String>> leadersBefore = new LinkedHashMap<>();
        for (String id : NODES) {
            before.put(id, nodes.get(id, "/stats"));
            leadersBefore.put(id, leading(nodes.get(id, "/leaders")));
        }
        long[] zkBefore = zooKeeperCpuTicks(zk);
        long start = System.nanoTime();
        Thread.sleep(pc.idle().toMillis()); // the idle window
        double seconds = (System.nanoTime() - start) / 1e9;
        long[] zkAfter = zooKeeperCpuTicks(zk);
        ObjectNode per = o.putObject("idle");
        per.put("seconds", ProcessBench.round(seconds));
        double maxCpu = 0;
        long maxHeap = 0;
        long messages = 0;
        long wchar = 0;
        int changed = 0;
        for (String id : NODES) {
            JsonNode a = before.get(id);
            JsonNode z = nodes.get(id, "/stats");
            Set<String> leadersAfter = leading(nodes.get(id, "/leaders"));
            double cpuPct = 100.0
                    * (z.path("cpu_ns").asLong() - a.path("cpu_ns").asLong())
                    / ((z.path("now_ms").asLong() - a.path("now_ms").asLong()) * 1e6);
            long sent =
                    z.path("messages_sent").asLong() - a.path("messages_sent").asLong();
            long written = z.path("wchar").asLong() - a.path("wchar").asLong();
            Set<String> diff = new HashSet<>(leadersBefore.get(id));
            diff.removeAll(leadersAfter);
            Set<String> gained = new HashSet<>(leadersAfter);
            gained.removeAll(leadersBefore.get(id));
            changed += diff.size() + gained.size();
            ObjectNode threads = JSON.createObjectNode();
            List<Map.Entry<String, JsonNode>> groups =
                    new ArrayList<>(z.path("thread_cpu_ns").properties());
            groups.sort((x, y) -> Long.compare(
                    y.getValue().asLong()
                            - a.path("thread_cpu_ns").path(y.getKey()).asLong(),
                    x.getValue().asLong()
                            - a.path("thread_cpu_ns").path(x.getKey()).asLong()));
            for (Map.Entry<String, JsonNode> g : groups.subList(0, Math.min(8, groups.size()))) {
                long ns = g.getValue().asLong()
                        - a.path("thread_cpu_ns").path(g.getKey()).asLong();
                threads.put(g.getKey(), ProcessBench.round(100.0 * ns / (seconds * 1e9)));
            }
            long benchNs = 0; // the benchmark's own threads in the node process: its watcher and control server
            long javaNs = 0; // every Java thread; the rest of the process's CPU is the JVM's own (compilers, GC, VM)
            for (Map.Entry<String, JsonNode> g : groups) {
                javaNs += g.getValue().asLong()
                        - a.path("thread_cpu_ns").path(g.getKey()).asLong();
                if (g.getKey().startsWith("bench-") || g.getKey().startsWith("HTTP-Dispatcher")) {
                    benchNs += g.getValue().asLong()
                            - a.path("thread_cpu_ns").path(g.getKey()).asLong();
                }
            }
            double benchPct = 100.0 * benchNs / (seconds * 1e9);
            // The JIT compilers' share: compiles left over from the start land in the window now and then.
            double jitPct = 100.0
                    * (z.path("jit_cpu_ns").asLong() - a.path("jit_cpu_ns").asLong())
                    / (seconds * 1e9);
            JsonNode gc = nodes.post(id, "/gc", Duration.ofSeconds(30));
            long heap = gc.path("heap_used_after_full_gc_bytes").asLong();
            maxCpu = Math.max(maxCpu, cpuPct);
            maxHeap = Math.max(maxHeap, heap);
            messages += sent;
            wchar += written;
            per.putObject(id)
                    .put("cpu_pct", ProcessBench.round(cpuPct))
                    .put("bench_threads_cpu_pct", ProcessBench.round(benchPct))
                    .put("jit_cpu_pct", ProcessBench.round(jitPct))
                    .put("java_threads_cpu_pct", ProcessBench.round(100.0 * javaNs / (seconds * 1e9)))
                    .put("messages", sent)
                    .put("messages_per_s", ProcessBench.round(sent / seconds))
                    .put("bytes_written_per_s", ProcessBench.round(written / seconds))
                    .put(
                            "write_syscalls_per_s",
                            ProcessBench.round(
                                    (z.path("syscw").asLong() - a.path("syscw").asLong()) / seconds))
                    .put("leading", leadersAfter.size())
                    .put("heap_after_full_gc_bytes", heap)
                    .put("heap_max_bytes", gc.path("heap_max_bytes").asLong())
                    .put("rss_bytes", gc.path("rss_bytes").asLong())
                    .put("threads", z.path("threads").asInt())
                    .put("node_threads", z.path("node_threads").asInt())
                    .put("connected_peers", z.path("connected_peers").asInt())
                    .set("cpu_pct_by_thread", threads);
        }
        per.set("heap_histogram_n1", nodes.get("n1", "/histogram").path("top"));
        per.put("max_cpu_pct", ProcessBench.round(maxCpu));
        per.put("max_heap_after_full_gc_bytes", maxHeap);
        per.put("messages_per_s", ProcessBench.round(messages / seconds));
        // Every partition has a replica on each of the 3 nodes: each node sends to both others, 3 pairs in all.
        per.put("messages_per_s_per_node_pair", ProcessBench.round(messages / seconds / 3));
        per.put("bytes_written_per_s_per_node", ProcessBench.round(wchar / seconds / NODES.size()));
        per.put("leader_changes", changed);
        if (zkBefore != null && zkAfter != null) {
            ArrayNode zkCpu = per.putArray("zookeeper_cpu_pct");
            for (int i = 0; i < zkBefore.length; i++) {
                // /proc/PID/stat counts in clock ticks of 10 ms (USER_HZ 100)
                zkCpu.add(ProcessBench.round((zkAfter[i] - zkBefore[i]) * 10.0 / (seconds * 1000) * 100));
            }
        }
        b.say(
                "partitions: idle %d partitions for %.0f s: CPU max %.2f%% of a core, heap after GC max %.1f MiB,"
                        + " %.2f messages/s per node pair, %d leader changes",
                nodes.partitions, seconds, maxCpu, maxHeap / (double) (1 << 20), messages / seconds / 3, changed);
    }

    /** Each ZooKeeper server's CPU time in clock ticks (utime + stime of /proc/PID/stat), or null if unreadable. */
    static long[] zooKeeperCpuTicks(ZooKeeperProcessEnsemble zk) {
        try {
            long[] ticks = new long[3];
            for (int i = 0; i < 3; i++) {
                String stat = Files.readString(Path.of("/proc/" + zk.pid(i + 1) + "/stat"));
                List<String> f = Splitter.on(' ').splitToList(stat.substring(stat.lastIndexOf(')') + 2));
                ticks[i] = Long.parseLong(f.get(11)) + Long.parseLong(f.get(12));
            }
            return ticks;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    // ---- writes ----

    private void writes(ZooKeeperProcessEnsemble zk, Nodes nodes, ObjectNode o) throws Exception {
        int many = Math.min(100, nodes.partitions);
        int wide = Math.min(16, nodes.partitions);
        int widePer = 16;
        List<String> manyIds = ids(many);
        List<String> wideIds = ids(wide);
        List<String> one = List.of("p0");
        o.put("value_bytes", cfg.valueBytes());
        o.put("fsync", true);
        int zkLeader = zk.quorumLeader();
        try (CuratorFramework client = ProcessBench.zooKeeperClient(zk, zkLeader)) {
            ZooKeeperWrites zkWrites = new ZooKeeperWrites(client, "/zookeeper-bench-partitions", wide * widePer);
            b.jitWarmup(
                    "partitions: " + wide + " partitions x " + widePer + " in flight", spread(nodes, wideIds, widePer));
            // Both shapes of the first comparison too: they run other code (one entry per message, or many), and
            // C2 compiling one side's methods during the measured rounds took up to 90 % of a core.
            b.jitWarmup("partitions: " + many + " partitions x 1 in flight", spread(nodes, manyIds, 1));
            b.jitWarmup("partitions: 1 partition x " + many + " in flight", spread(nodes, one, many));
            b.say("partitions: writes, %d partitions x 1 in flight against 1 partition x %d", many, many);
            NodeCost manyCost = new NodeCost();
            NodeCost oneCost = new NodeCost();
            Interleaved.Result r1 =
                    b.interleave(spread(nodes, manyIds, 1, manyCost), spread(nodes, one, many, oneCost));
            ObjectNode l1 = o.putObject("many_vs_one");
            l1.put("partition_count", many).put("per_partition", 1).put("one_partition_inflight", many);
            b.compared(l1, "partitions", "one_partition", r1);
            manyCost.put((ObjectNode) l1.get("partitions"), r1.a());
            oneCost.put((ObjectNode) l1.get("one_partition"), r1.b());
            b.say(
                    "partitions: %d x 1: %.0f writes/s; 1 x %d: %.0f writes/s; ratio %.2f",
                    many, r1.a().opsPerSecond(), many, r1.b().opsPerSecond(), r1.medianRatio());

            b.say(
                    "partitions: writes, %d partitions x %d in flight against 1 partition x %d",
                    wide, widePer, wide * widePer);
            NodeCost wideCost = new NodeCost();
            NodeCost oneWideCost = new NodeCost();
            Interleaved.Result r2 = b.interleave(
                    spread(nodes, wideIds, widePer, wideCost), spread(nodes, one, wide * widePer, oneWideCost));
            ObjectNode l2 = o.putObject("wide_vs_one");
            l2.put("partition_count", wide).put("per_partition", widePer).put("one_partition_inflight", wide * widePer);
            b.compared(l2, "partitions", "one_partition", r2);
            wideCost.put((ObjectNode) l2.get("partitions"), r2.a());
            oneWideCost.put((ObjectNode) l2.get("one_partition"), r2.b());

            b.say(
                    "partitions: writes, %d partitions x %d in flight against ZooKeeper at %d",
                    wide, widePer, wide * widePer);
            Interleaved.Slice zkSlice = (settle, interval) ->
                    ClosedLoop.run(zkWrites, wide * widePer, settle, interval, cfg.valueBytes(), DRAIN_TIMEOUT);
            Interleaved.Result r3 = b.interleave(spread(nodes, wideIds, widePer), zkSlice);
            ObjectNode l3 = o.putObject("wide_vs_zookeeper");
            l3.put("partition_count", wide).put("per_partition", widePer).put("zookeeper_inflight", wide * widePer);
            l3.put("zookeeper_client_server", zkLeader + " of 3 (the quorum leader)");
            b.compared(l3, "partitions", "zookeeper", r3);
            b.say(
                    "partitions: %d x %d: %.0f writes/s, 1 x %d: %.0f writes/s, ZooKeeper: %.0f writes/s",
                    wide,
                    widePer,
                    r2.a().opsPerSecond(),
                    wide * widePer,
                    r2.b().opsPerSecond(),
                    r3.b().opsPerSecond());
        }
    }

    private static List<String> ids(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("p" + i);
        }
        return ids;
    }

    /**
     * A slice of closed loops, {@code per} in flight to each of {@code partitions}, each loop in the process of the
     * partition's leader, all at once; their figures combined as one concurrent interval.
     */
    private Interleaved.Slice spread(Nodes nodes, List<String> partitions, int per) {
        return spread(nodes, partitions, per, null);
    }

    /**
     * {@link #spread(Nodes, List, int)}, adding the node processes' CPU and replication messages during each measured
     * interval to {@code cost} (when not null).
     */
    private Interleaved.Slice spread(Nodes nodes, List<String> partitions, int per, NodeCost cost) {
        return (settle, interval) -> {
            Map<String, List<String>> byLeader = nodes.leadersOf(partitions, Duration.ofSeconds(30));
            long timeoutMs = settle.toMillis() + interval.toMillis() + DRAIN_TIMEOUT.toMillis() + 10_000;
            List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
            for (Map.Entry<String, List<String>> e : byLeader.entrySet()) {
                answers.add(nodes.postAsync(
                        e.getKey(),
                        "/load?partitions=" + String.join(",", e.getValue()) + "&per_partition=" + per
                                + "&warmup_ms=" + settle.toMillis() + "&duration_ms=" + interval.toMillis()
                                + "&value_bytes=" + cfg.valueBytes(),
                        Duration.ofMillis(timeoutMs)));
            }
            if (cost != null) {
                // The loads measure from the end of their settle time to the end of their interval, each from when
                // its node got the request (a few milliseconds after this): the window read here is the same one,
                // to within those milliseconds. The sleeps time a measurement window; nothing waits on them.
                Thread.sleep(settle.toMillis());
                long[] start = NodeCost.read(nodes);
                Thread.sleep(interval.toMillis());
                long[] end = NodeCost.read(nodes);
                cost.add(end[0] - start[0], end[1] - start[1], end[2] - start[2]);
            }
            List<ClosedLoop.Outcome> outcomes = new ArrayList<>();
            for (CompletableFuture<JsonNode> a : answers) {
                JsonNode answer = a.get(timeoutMs + 5_000, TimeUnit.MILLISECONDS);
                if (!answer.has("outcome")) {
                    throw new IllegalStateException("a load failed: " + answer);
                }
                outcomes.add(OutcomeJson.fromJson(answer.path("outcome")));
            }
            return concurrent(outcomes);
        };
    }

    /**
     * What the three node processes spent during one side's measured intervals, summed over its rounds: their CPU
     * (every thread of the process, the load generator included, read from {@code /stats}), the replication
     * messages they sent and their write-ahead logs' forces, so that each side's cost per write can be set beside its
     * throughput. Not thread-safe: one slice at a time adds to it.
     */
    static final class NodeCost {
        private long cpuNanos;
        private long messages;
        private long forces;

        /** The nodes' CPU nanoseconds, messages sent and write-ahead log forces so far, summed: {cpu, messages, forces}. */
        static long[] read(Nodes nodes) throws IOException, InterruptedException {
            long cpu = 0;
            long messages = 0;
            long forces = 0;
            for (String id : NODES) {
                JsonNode s = nodes.get(id, "/stats");
                cpu += s.path("cpu_ns").asLong();
                messages += s.path("messages_sent").asLong();
                forces += s.path("wal_forces").asLong();
            }
            return new long[] {cpu, messages, forces};
        }

        void add(long cpuNanos, long messages, long forces) {
            this.cpuNanos += cpuNanos;
            this.messages += messages;
            this.forces += forces;
        }

        /** Puts the cost per write of {@code outcome} (this side's measured writes) into {@code side}. */
        void put(ObjectNode side, ClosedLoop.Outcome outcome) {
            long writes = outcome.successes();
            if (writes == 0) {
                return;
            }
            side.put("node_cpu_us_per_write", Math.round(cpuNanos / 1e3 / writes * 10) / 10.0);
            side.put("messages_per_write", Math.round(messages * 100.0 / writes) / 100.0);
            side.put("wal_forces_per_write", Math.round(forces * 1000.0 / writes) / 1000.0);
        }
    }

    /** Outcomes of loads that ran at the same time, as one: histograms and counts added, the longest interval. */
    static ClosedLoop.Outcome concurrent(List<ClosedLoop.Outcome> parts) {
        Histogram all = new Histogram(3);
        long errors = 0;
        long unmeasured = 0;
        Duration interval = Duration.ZERO;
        Throwable first = null;
        long io = 0;
        for (ClosedLoop.Outcome o : parts) {
            all.add(o.latencies());
            errors += o.errors();
            unmeasured += o.unmeasuredErrors();
            interval = o.interval().compareTo(interval) > 0 ? o.interval() : interval;
            first = first == null ? o.firstError() : first;
            io = io < 0 || o.ioStallMicros() < 0 ? -1 : Math.max(io, o.ioStallMicros()); // the same machine
        }
        return new ClosedLoop.Outcome(all, errors, unmeasured, interval, first, io);
    }

    // ---- failover ----

    private void failover(Nodes nodes, ObjectNode o) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Map<String, JsonNode> leaders = nodes.leaders();
        while (!balanced(leaders, nodes.partitions) && System.nanoTime() < deadline) {
            Thread.sleep(200); // polling, with a deadline
            leaders = nodes.leaders();
        }
        o.put("balanced_before", balanced(leaders, nodes.partitions));
        String victim = NODES.get(0);
        for (String id : NODES) {
            if (leading(leaders.get(id)).size() > leading(leaders.get(victim)).size()) {
                victim = id;
            }
        }
        Set<String> ledByVictim = leading(leaders.get(victim));
        List<String> survivors = new ArrayList<>(NODES);
        survivors.remove(victim);
        Map<String, Set<String>> survivorsBefore = new LinkedHashMap<>();
        for (String id : survivors) {
            nodes.post(id, "/watch?on=true", Duration.ofSeconds(5));
            nodes.post(id, "/leaders/reset", Duration.ofSeconds(5));
            survivorsBefore.put(id, leading(leaders.get(id)));
        }
        Thread.sleep(100); // the watchers note what the survivors lead now
        b.say(
                "partitions: SIGKILL of %s, which leads %d of %d partitions",
                victim, ledByVictim.size(), nodes.partitions);
        long killedAt = System.currentTimeMillis();
        nodes.processes.get(victim).kill(); // returns once it exited
        o.put("restarted", pc.restartKilled());
        if (pc.restartKilled()) {
            nodes.launch(victim); // at once, as a supervisor would: its ZooKeeper session still lives
        }
        long until = System.nanoTime()
                + Duration.ofMillis(pc.sessionTimeoutMs()).plusSeconds(60).toNanos();
        Map<String, Long> first = new HashMap<>();
        Map<String, JsonNode> after = new LinkedHashMap<>();
        while (System.nanoTime() < until) {
            after.clear();
            for (String id : survivors) {
                after.put(id, nodes.get(id, "/leaders"));
            }
            first = firstLed(after);
            if (first.keySet().containsAll(ledByVictim)) {
                break;
            }
            Thread.sleep(100); // polling, with a deadline
        }
        List<Long> times = new ArrayList<>();
        for (String p : ledByVictim) {
            Long t = first.get(p);
            if (t != null) {
                times.add(Math.max(0, t - killedAt));
            }
        }
        Collections.sort(times);
        long bound = pc.sessionTimeoutMs() + 2000L;
        long within = times.stream().filter(t -> t <= bound).count();
        int disturbed = 0;
        for (String id : survivors) {
            Set<String> now = leading(after.get(id));
            for (String p : survivorsBefore.get(id)) {
                if (!now.contains(p)) {
                    disturbed++;
                }
            }
        }
        o.put("victim", victim);
        o.put("victim_led", ledByVictim.size());
        o.put("new_leaders", times.size());
        o.put("without_new_leader", ledByVictim.size() - times.size());
        o.put("session_timeout_ms", pc.sessionTimeoutMs());
        o.put("bound_ms", bound);
        o.put("within_bound", within);
        o.put("others_that_lost_their_leader", disturbed);
        // Who took the victim's partitions first, and how the survivors' shares settle after the hand-overs along
        // each partition's order of succession (docs/partitions.md, "Leadership per partition").
        ObjectNode takenBy = o.putObject("first_taken_by");
        Map<String, Long> firstAt = first;
        for (String id : survivors) {
            JsonNode mine = after.get(id).path("first_led");
            long took = ledByVictim.stream()
                    .filter(p ->
                            mine.has(p) && Long.valueOf(mine.path(p).asLong()).equals(firstAt.get(p)))
                    .count();
            takenBy.put(id, took);
        }
        long settleUntil = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Map<String, Integer> shares = new LinkedHashMap<>();
        long settledAfter = -1;
        while (true) {
            for (String id : survivors) {
                shares.put(id, leading(nodes.get(id, "/leaders")).size());
            }
            int most = Collections.max(shares.values());
            int least = Collections.min(shares.values());
            if (most - least <= 1
                    && shares.values().stream().mapToInt(Integer::intValue).sum() == nodes.partitions) {
                settledAfter = System.currentTimeMillis() - killedAt;
                break;
            }
            if (System.nanoTime() > settleUntil) {
                break;
            }
            Thread.sleep(200); // polling, with a deadline
        }
        ObjectNode leadingAfter = o.putObject("leading_after");
        shares.forEach(leadingAfter::put);
        o.put("even_after_ms", settledAfter);
        if (!times.isEmpty()) {
            o.put("min_ms", times.get(0));
            o.put("p50_ms", percentile(times, 50));
            o.put("p90_ms", percentile(times, 90));
            o.put("p99_ms", percentile(times, 99));
            o.put("max_ms", times.get(times.size() - 1));
        }
        if (times.size() < ledByVictim.size()) {
            b.unclean();
        }
        b.say(
                "partitions: %d of %d partitions led by %s got a new leader; p50 %d ms, p90 %d ms, p99 %d ms, max %d ms"
                        + " (session timeout %d ms); %d within %d ms",
                times.size(),
                ledByVictim.size(),
                victim,
                o.path("p50_ms").asLong(-1),
                o.path("p90_ms").asLong(-1),
                o.path("p99_ms").asLong(-1),
                o.path("max_ms").asLong(-1),
                pc.sessionTimeoutMs(),
                within,
                bound);
        b.say(
                "partitions: first taken by %s; the survivors lead %s%s",
                takenBy,
                leadingAfter,
                settledAfter < 0 ? ", not even within 30 s" : ", even " + settledAfter + " ms after the kill");
    }

    /** The nearest-rank percentile of sorted values. */
    static long percentile(List<Long> sorted, double q) {
        int rank = (int) Math.ceil(q / 100 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    // ---- targets ----

    private static void targets(ObjectNode o) {
        ObjectNode t = o.putObject("targets");
        JsonNode large = o.path("large");
        JsonNode small = o.path("small");
        t.put(
                "all_led_within_30_s",
                large.path("all_led").asBoolean()
                        && large.path("seconds_to_all_led").asDouble() < 30);
        t.put("idle_cpu_under_5_pct", large.path("idle").path("max_cpu_pct").asDouble(100) < 5);
        t.put(
                "idle_heap_under_256_mib",
                large.path("idle").path("max_heap_after_full_gc_bytes").asLong(Long.MAX_VALUE) < 256L << 20);
        double smallRate =
                small.path("idle").path("messages_per_s_per_node_pair").asDouble();
        double largeRate =
                large.path("idle").path("messages_per_s_per_node_pair").asDouble();
        // "does not grow": within 1 message/s per pair of the small set's rate
        t.put("idle_messages_do_not_grow", largeRate <= smallRate + 1);
        t.put(
                "many_vs_one_at_least_0_7",
                o.path("writes").path("many_vs_one").path("ratio_ops_per_s").asDouble() >= 0.7);
        // "Aggregate writes at 256 in flight over 16 partitions: at least the single-partition figure (no loss from
        // partitioning)": 16 partitions x 16 against 1 partition x 256, the median of the rounds' ratios.
        t.put(
                "wide_vs_one_at_least_1",
                o.path("writes").path("wide_vs_one").path("ratio_ops_per_s").asDouble() >= 1.0);
        JsonNode f = o.path("failover");
        t.put(
                "failover_within_session_plus_2_s",
                f.path("without_new_leader").asInt(1) == 0
                        && f.path("max_ms").asLong(Long.MAX_VALUE)
                                <= f.path("bound_ms").asLong());
    }

    // ---- output ----

    static void print(JsonNode result, PrintWriter out) {
        if (!result.has("partitions")) {
            return;
        }
        JsonNode o = result.path("partitions");
        out.printf(
                Locale.ROOT,
                "%npartitions (3 node processes, 3 replicas each, preferredSpread; session timeout %d ms; node heap %s):%n",
                o.path("session_timeout_ms").asInt(),
                o.path("node_heap").asText());
        for (String set : List.of("small", "large")) {
            JsonNode s = o.path(set);
            JsonNode i = s.path("idle");
            out.printf(
                    Locale.ROOT,
                    "  %5d partitions: all led %.1f s after launch (opened %.1f s), preferred leaders %.1f s; idle %.0f s:"
                            + " CPU max %.2f%% of a core, heap after full GC max %.1f MiB, %.2f messages/s per node pair"
                            + " (pings not counted), %.0f bytes/s written per node, %d leader changes; ZooKeeper CPU %s %%%n",
                    s.path("partitions").asInt(),
                    s.path("seconds_to_all_led").asDouble(-1),
                    s.path("seconds_to_all_opened").asDouble(-1),
                    s.path("seconds_to_preferred_leaders").asDouble(-1),
                    i.path("seconds").asDouble(),
                    i.path("max_cpu_pct").asDouble(),
                    i.path("max_heap_after_full_gc_bytes").asLong() / (double) (1 << 20),
                    i.path("messages_per_s_per_node_pair").asDouble(),
                    i.path("bytes_written_per_s_per_node").asDouble(),
                    i.path("leader_changes").asInt(),
                    i.path("zookeeper_cpu_pct"));
            for (String id : NODES) {
                JsonNode n = i.path(id);
                out.printf(
                        Locale.ROOT,
                        "        %s: CPU %.2f%% (the benchmark's threads %.2f%%, the JIT compilers %.2f%%), %.2f messages/s,"
                                + " %.0f bytes written/s, heap"
                                + " after GC %.1f MiB, RSS %.0f MiB, leads %d, %d threads (%d the node's); busiest threads"
                                + " %% of a core: %s%n",
                        id,
                        n.path("cpu_pct").asDouble(),
                        n.path("bench_threads_cpu_pct").asDouble(),
                        n.path("jit_cpu_pct").asDouble(),
                        n.path("messages_per_s").asDouble(),
                        n.path("bytes_written_per_s").asDouble(),
                        n.path("heap_after_full_gc_bytes").asLong() / (double) (1 << 20),
                        n.path("rss_bytes").asLong() / (double) (1 << 20),
                        n.path("leading").asInt(),
                        n.path("threads").asInt(),
                        n.path("node_threads").asInt(),
                        n.path("cpu_pct_by_thread"));
            }
        }
        JsonNode w = o.path("writes");
        for (String k : List.of("many_vs_one", "wide_vs_one", "wide_vs_zookeeper")) {
            JsonNode l = w.path(k);
            if (l.isMissingNode()) {
                continue;
            }
            String other = l.has("zookeeper") ? "zookeeper" : "one_partition";
            int otherInflight = l.has("zookeeper")
                    ? l.path("zookeeper_inflight").asInt()
                    : l.path("one_partition_inflight").asInt();
            out.printf(
                    Locale.ROOT,
                    "  writes %d partitions x %d: %.0f/s (p50 %.1f ms, p99 %.1f ms) vs %s %d in flight: %.0f/s (p50 %.1f ms,"
                            + " p99 %.1f ms): ratio %.2f (median of %d rounds), %d errors%s%n",
                    l.path("partition_count").asInt(),
                    l.path("per_partition").asInt(),
                    l.path("partitions").path("ops_per_s").asDouble(),
                    l.path("partitions").path("p50_us").asDouble() / 1000,
                    l.path("partitions").path("p99_us").asDouble() / 1000,
                    other.equals("zookeeper") ? "ZooKeeper" : "1 partition",
                    otherInflight,
                    l.path(other).path("ops_per_s").asDouble(),
                    l.path(other).path("p50_us").asDouble() / 1000,
                    l.path(other).path("p99_us").asDouble() / 1000,
                    l.path("ratio_ops_per_s").asDouble(),
                    l.path("ratio_rounds").size(),
                    l.path("partitions").path("errors").asLong()
                            + l.path(other).path("errors").asLong(),
                    l.path(other).has("node_cpu_us_per_write")
                            ? String.format(
                                    Locale.ROOT,
                                    "; per write: the nodes' CPU %.0f vs %.0f us, messages %.2f vs %.2f, write-ahead log"
                                            + " forces %.3f vs %.3f",
                                    l.path("partitions")
                                            .path("node_cpu_us_per_write")
                                            .asDouble(),
                                    l.path(other).path("node_cpu_us_per_write").asDouble(),
                                    l.path("partitions")
                                            .path("messages_per_write")
                                            .asDouble(),
                                    l.path(other).path("messages_per_write").asDouble(),
                                    l.path("partitions")
                                            .path("wal_forces_per_write")
                                            .asDouble(),
                                    l.path(other).path("wal_forces_per_write").asDouble())
                            : "");
        }
        JsonNode f = o.path("failover");
        out.printf(
                Locale.ROOT,
                "  SIGKILL of %s leading %d partitions: new leaders for %d; p50 %d ms, p90 %d ms, p99 %d ms, max %d ms;"
                        + " %d within session timeout + 2 s (%d ms); other partitions that lost their leader: %d%n",
                f.path("victim").asText(),
                f.path("victim_led").asInt(),
                f.path("new_leaders").asInt(),
                f.path("p50_ms").asLong(-1),
                f.path("p90_ms").asLong(-1),
                f.path("p99_ms").asLong(-1),
                f.path("max_ms").asLong(-1),
                f.path("within_bound").asLong(),
                f.path("bound_ms").asLong(),
                f.path("others_that_lost_their_leader").asInt());
        out.printf(
                Locale.ROOT,
                "  … first taken by %s; then the survivors lead %s (even %s)%n",
                f.path("first_taken_by"),
                f.path("leading_after"),
                f.path("even_after_ms").asLong(-1) < 0
                        ? "not within 30 s"
                        : f.path("even_after_ms").asLong() + " ms after the kill");
        out.printf(Locale.ROOT, "  targets: %s%n", o.path("targets"));
    }

    // ---- the node processes ----

    /** Three node processes, driven over their control servers. {@link #close()} stops each (SIGTERM, SIGKILL). */
    static final class Nodes implements AutoCloseable {
        final Map<String, ChildProcess> processes = new LinkedHashMap<>();
        final Map<String, URI> control = new LinkedHashMap<>();
        final int partitions;
        long launchedMillis;
        Path logs;
        private final Map<String, Integer> launches = new HashMap<>();
        private final Map<String, Path> logFiles = new HashMap<>();
        private String zkConnect;
        private Path root;
        private String heap;
        private int sessionTimeoutMs;
        private String clusterPath;
        private String options;
        private final HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

        private Nodes(int partitions) {
            this.partitions = partitions;
        }

        static Nodes start(String zkConnect, Path root, Config pc, String clusterPath, int partitions)
                throws Exception {
            return start(zkConnect, root, pc.nodeHeap(), pc.sessionTimeoutMs(), clusterPath, partitions, "");
        }

        /**
         * Launches the 3 node processes at once and waits for each one's control server.
         *
         * @param options {@link NodeProcessMain}'s options ({@code name=value,...}), the same for every node
         */
        static Nodes start(
                String zkConnect,
                Path root,
                String heap,
                int sessionTimeoutMs,
                String clusterPath,
                int partitions,
                String options)
                throws Exception {
            Nodes n = new Nodes(partitions);
            n.zkConnect = zkConnect;
            n.root = root;
            n.heap = heap;
            n.sessionTimeoutMs = sessionTimeoutMs;
            n.clusterPath = clusterPath;
            n.options = options;
            try {
                n.logs = Files.createDirectories(root.resolve("logs"));
                n.launchedMillis = System.currentTimeMillis();
                for (String id : NODES) {
                    n.launch(id);
                }
                for (String id : NODES) {
                    n.awaitControl(id);
                }
                return n;
            } catch (Exception | Error e) {
                n.close();
                throw e;
            }
        }

        /**
         * Starts node {@code id}'s process (again, after it exited: with the same data directory), its output into
         * {@code logs/node-ID.log} the first time and {@code logs/node-ID-N.log} the {@code N}th; {@link
         * #awaitControl} waits for it.
         */
        void launch(String id) throws IOException {
            int launch = launches.merge(id, 1, Integer::sum);
            Path log = logs.resolve("node-" + id + (launch == 1 ? "" : "-" + launch) + ".log");
            logFiles.put(id, log);
            processes.put(
                    id,
                    ChildJvm.builder("node-" + id)
                            .jvmOptions(List.of("-Xmx" + heap, "-Xms" + heap, "-Djava.net.preferIPv4Stack=true"))
                            .mainClass(NodeProcessMain.class.getName())
                            .arguments(List.of(
                                    id,
                                    String.join(",", NODES),
                                    zkConnect,
                                    root.resolve(id).toString(),
                                    Integer.toString(sessionTimeoutMs),
                                    clusterPath,
                                    Integer.toString(partitions),
                                    Integer.toString(REPLICATION_FACTOR),
                                    options))
                            .process()
                            .logFile(log)
                            .readyPrefix(NodeProcessMain.READY_PREFIX)
                            .start());
        }

        /** Waits until node {@code id}'s latest process serves its control server. */
        void awaitControl(String id) throws Exception {
            int port = Integer.parseInt(processes.get(id).awaitReady(START_TIMEOUT));
            control.put(id, URI.create("http://127.0.0.1:" + port));
        }

        /** Node {@code id}'s data directory. */
        Path dataDir(String id) {
            return root.resolve(id);
        }

        /** The log file of node {@code id}'s latest process. */
        Path logFile(String id) {
            return logFiles.get(id);
        }

        JsonNode get(String id, String path) throws IOException, InterruptedException {
            return call(id, "GET", path, Duration.ofSeconds(10));
        }

        JsonNode post(String id, String path, Duration timeout) throws IOException, InterruptedException {
            return call(id, "POST", path, timeout);
        }

        private JsonNode call(String id, String method, String path, Duration timeout)
                throws IOException, InterruptedException {
            HttpResponse<byte[]> r =
                    http.send(request(id, method, path, timeout), HttpResponse.BodyHandlers.ofByteArray());
            return JSON.readTree(r.body());
        }

        CompletableFuture<JsonNode> postAsync(String id, String path, Duration timeout) {
            return http.sendAsync(request(id, "POST", path, timeout), HttpResponse.BodyHandlers.ofByteArray())
                    .thenApply(r -> {
                        try {
                            return JSON.readTree(r.body());
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
        }

        private HttpRequest request(String id, String method, String path, Duration timeout) {
            return HttpRequest.newBuilder(control.get(id).resolve(path))
                    .timeout(timeout)
                    .method(method, HttpRequest.BodyPublishers.noBody())
                    .build();
        }

        /** {@code GET /leaders} of every running node. */
        Map<String, JsonNode> leaders() throws IOException, InterruptedException {
            Map<String, JsonNode> m = new LinkedHashMap<>();
            for (String id : NODES) {
                if (processes.get(id).isAlive()) {
                    m.put(id, get(id, "/leaders"));
                }
            }
            return m;
        }

        /** The partitions grouped by the running node that leads each, once every one has a leader. */
        Map<String, List<String>> leadersOf(List<String> wanted, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Map<String, List<String>> byLeader = new LinkedHashMap<>();
                int found = 0;
                for (Map.Entry<String, JsonNode> e : leaders().entrySet()) {
                    Set<String> led = leading(e.getValue());
                    for (String p : wanted) {
                        if (led.contains(p)) {
                            byLeader.computeIfAbsent(e.getKey(), k -> new ArrayList<>())
                                    .add(p);
                            found++;
                        }
                    }
                }
                if (found == wanted.size()) {
                    return byLeader;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no leader for some of " + wanted + " within " + timeout);
                }
                Thread.sleep(50); // polling, with a deadline
            }
        }

        @Override
        public void close() {
            ChildProcess.closeAll(List.copyOf(processes.values()));
        }

        /** Node {@code id}'s latest process. */
        ChildProcess process(String id) {
            return processes.get(id);
        }
    }
}
