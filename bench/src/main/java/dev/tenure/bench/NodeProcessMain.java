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
import com.google.common.base.Splitter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tenure.controller.Controller;
import dev.tenure.controller.ControllerNode;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicationException;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.storage.WriteAheadLog;
import dev.tenure.replicator.zookeeper.ZooKeeperNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * One {@link ZooKeeperNode} as its own process, for the partitions section ({@link PartitionsBench}): the node hosts
 * partitions {@code p0 … p(N-1)} placed by {@link ZooKeeperNode.Placement#preferredSpread} over the given nodes
 * (those whose replica set includes it), with the library's defaults (files with fsync, Netty on 127.0.0.1, one
 * ZooKeeper session). A small control server on 127.0.0.1 lets the benchmark drive load <em>inside</em> this process
 * and read what it measures. Prints {@code CONTROL <port>} once serving, <em>before</em> it opens its partitions
 * (so that the benchmark can follow the start); SIGTERM closes the node in a shutdown hook, SIGKILL is the crash.
 *
 * <p>A watcher thread, while on, looks at every hosted partition's role every {@code watch_ms} (10 ms by default)
 * and notes, per partition, when this node was first seen leading it since the last reset ({@code first_led}) and
 * since when it leads it now ({@code led_since}), both in wall-clock milliseconds. It is switched off during the
 * idle windows, so that it does not count in the idle CPU.
 *
 * <p>Control endpoints (JSON answers): {@code GET /stats} (partitions opened, led, the transport's messages sent —
 * pings are not messages —, CPU time, heap, {@code /proc/self/io} write and read bytes, threads, replicas still
 * behind their commit); {@code GET /leaders}; {@code POST /leaders/reset}; {@code POST /watch?on=true|false};
 * {@code POST /gc} (collects, then answers the heap in use); {@code POST
 * /load?partitions=p0,p3&per_partition=&warmup_ms=&duration_ms=&value_bytes=} a closed loop of proposals with {@code
 * per_partition} in flight to each listed partition (which this node must lead), answered with its figures ({@code
 * side}, {@code outcome}); {@code POST /writer?on=true|false&interval_ms=N} a writer that proposes one 100-byte value
 * to every partition this node leads every {@code interval_ms} (one write in flight per partition), {@code GET
 * /writer} its counts since {@code POST /writer/reset}: committed (and of those, committed after a retry), refusals
 * (every one, by exception class), writes finally failed with a definite error once the retry budget was spent,
 * writes that ended with an unknown outcome, other failures, and how many partitions had a write committed (the
 * writer retries a refused write at the leader the refusal names: see {@link Writer}); {@code POST /propose?partition=}
 * proposes one value here and answers how it ended (the other nodes' writers retry through it; each node writes its
 * control server's port to {@code DATA_DIR/control-port} for them). On SIGTERM the
 * shutdown hook prints the writer's counts as one line {@code WRITER {json}} once the node is closed, and writes
 * them to {@code DATA_DIR/writer-counts.json}. With the controller it first writes what the controlled shutdown took
 * (the drain, the move, the close; {@link ControllerNode#shutdownReport}) to {@code DATA_DIR/shutdown.json} and
 * prints it as one line {@code SHUTDOWN {json}}.
 *
 * <p>With the option {@code leadership=controller} the node is a {@link ControllerNode} (docs/controller.md) instead
 * of a bare {@link ZooKeeperNode}: the same partitions, opened the same way, their leaders assigned by the cluster's
 * controller; SIGTERM is then its controlled shutdown. {@code GET /leaders} carries a {@code controller} object:
 * whether this node is the active controller, its epoch, since when (wall-clock ms, sampled by the watcher) and the
 * controller's ZooKeeper round trips ({@link Controller#zooKeeperRoundTrips()}).
 */
public final class NodeProcessMain {
    static final String READY_PREFIX = "CONTROL ";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Map<String, ZooKeeperNode.Partition> opened = new ConcurrentHashMap<>();
    private static final Map<String, Long> firstLed = new ConcurrentHashMap<>();
    private static final Map<String, Long> ledSince = new ConcurrentHashMap<>();
    private static volatile boolean watching = true;
    private static volatile long openStartedMillis;
    private static volatile long openedMillis;
    private static volatile int hosted;
    private static volatile String openFailure = "";
    /** With {@code leadership=controller}: the node; null with elections. */
    private static volatile ControllerNode controllerNode;
    /** Since when (wall-clock ms) the watcher has seen this node the active controller; 0 while it is not. */
    private static volatile long controllerActiveSince;

    private static final Writer writer = new Writer();
    /** The file in a node's data directory that holds its control server's port, for the other nodes' writers. */
    static final String CONTROL_PORT_FILE = "control-port";
    /** This node's id and the directory holding every node's data directory (set once serving). */
    private static volatile String selfId = "";

    private static volatile Path dataRoot;
    /** Curator's traced operations by name (e.g. {@code GetDataBuilderImpl-Foreground}): count and summed latency. */
    private static final Map<String, long[]> operations = new ConcurrentHashMap<>();

    /**
     * Counts the ZooKeeper operations Curator traces, by name. Curator does not trace the creates and existence
     * checks of {@code creatingParentsIfNeeded} (raw ZooKeeper calls), so those are not counted.
     */
    private static final class OperationCounter extends org.apache.curator.drivers.AdvancedTracerDriver {
        @Override
        public void addTrace(org.apache.curator.drivers.OperationTrace trace) {
            long[] c = operations.computeIfAbsent(trace.getName(), n -> new long[2]);
            synchronized (c) {
                c[0]++;
                c[1] += trace.getLatencyMs();
            }
        }

        @Override
        public void addEvent(org.apache.curator.drivers.EventTrace trace) {}
    }

    private NodeProcessMain() {}

    /**
     * Arguments: id nodes(comma-separated) zkConnect dataDir sessionTimeoutMs clusterPath partitions
     * replicationFactor [options], options being comma-separated {@code name=value} pairs: {@code open} ({@code all}:
     * every partition with one {@link ZooKeeperNode#openAll}, the default; {@code each}: one {@link ZooKeeperNode#open}
     * per partition on {@code open_threads} threads, as before {@code openAll} existed), {@code open_threads} (4),
     * {@code watch_ms} (10), {@code leadership} ({@code election}, the default, or {@code controller}), {@code
     * rebalance_ms} (with the controller: its rebalance interval, 2000), {@code imbalance_pct} (with the controller: its
     * imbalance threshold, 0), {@code fast_failover} (with elections: {@code on}, the library's default derived from
     * the session, or {@code off}), {@code end_previous_session} ({@code on}, the library's default, or {@code off}:
     * {@link ZooKeeperNode.Builder#endPreviousSession}).
     */
    public static void main(String[] args) throws Exception {
        String id = args[0];
        List<String> nodes = Arrays.asList(args[1].split(","));
        String zk = args[2];
        Path dataDir = Path.of(args[3]);
        int sessionTimeoutMs = Integer.parseInt(args[4]);
        String clusterPath = args[5];
        int partitions = Integer.parseInt(args[6]);
        int replicationFactor = Integer.parseInt(args[7]);
        int openThreads = 4;
        boolean openAll = true;
        long watchMillis = 10;
        boolean controller = false;
        long rebalanceMillis = 2000;
        double imbalancePercent = 0;
        boolean fastFailover = true;
        boolean endPreviousSession = true;
        for (String kv : Splitter.on(',').omitEmptyStrings().split(args.length > 8 ? args[8] : "")) {
            int eq = kv.indexOf('=');
            String name = eq < 0 ? kv : kv.substring(0, eq);
            String value = eq < 0 ? "" : kv.substring(eq + 1);
            switch (name) {
                case "open_threads" -> openThreads = Integer.parseInt(value);
                case "open" ->
                    openAll = switch (value) {
                        case "all" -> true;
                        case "each" -> false;
                        default -> throw new IllegalArgumentException("open must be all or each: " + kv);
                    };
                case "watch_ms" -> watchMillis = Long.parseLong(value);
                case "leadership" ->
                    controller = switch (value) {
                        case "controller" -> true;
                        case "election" -> false;
                        default ->
                            throw new IllegalArgumentException("leadership must be election or controller: " + kv);
                    };
                case "rebalance_ms" -> rebalanceMillis = Long.parseLong(value);
                case "imbalance_pct" -> imbalancePercent = Double.parseDouble(value);
                case "fast_failover" ->
                    fastFailover = switch (value) {
                        case "on" -> true;
                        case "off" -> false;
                        default -> throw new IllegalArgumentException("fast_failover must be on or off: " + kv);
                    };
                case "end_previous_session" ->
                    endPreviousSession = switch (value) {
                        case "on" -> true;
                        case "off" -> false;
                        default -> throw new IllegalArgumentException("end_previous_session must be on or off: " + kv);
                    };
                default -> throw new IllegalArgumentException("unknown option " + kv);
            }
        }

        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zk)
                .sessionTimeoutMs(sessionTimeoutMs)
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 2000))
                .ensembleTracker(false)
                .build();
        // The node's own lines (how long opening took, how long a controlled shutdown's drain took) at INFO;
        // everything else as logback.xml says.
        for (Class<?> c : List.of(ZooKeeperNode.class, ControllerNode.class)) {
            if (org.slf4j.LoggerFactory.getLogger(c) instanceof ch.qos.logback.classic.Logger l) {
                l.setLevel(ch.qos.logback.classic.Level.INFO);
            }
        }
        client.getZookeeperClient().setTracerDriver(new OperationCounter());
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("cannot reach ZooKeeper at " + zk);
        }
        ZooKeeperNode node;
        if (controller) {
            Duration rebalance = Duration.ofMillis(rebalanceMillis);
            double imbalance = imbalancePercent;
            ControllerNode cn = ControllerNode.builder(client, clusterPath)
                    .id(id)
                    .dataDir(dataDir)
                    .controller(c -> c.rebalanceInterval(rebalance).imbalanceThresholdPercent(imbalance))
                    .build();
            cn.start();
            controllerNode = cn;
            node = cn.node();
        } else {
            node = ZooKeeperNode.builder(client, clusterPath)
                    .id(id)
                    .dataDir(dataDir)
                    .fastFailover(
                            fastFailover
                                    ? dev.tenure.replicator.zookeeper.FastFailover.fromSessionTimeout()
                                    : dev.tenure.replicator.zookeeper.FastFailover.off())
                    .endPreviousSession(endPreviousSession)
                    .build();
            node.start();
        }

        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "bench-control");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/stats", ex -> ReplicaProcessMain.answer(ex, 200, stats(node)));
        server.createContext("/leaders", NodeProcessMain::leaders);
        server.createContext("/watch", ex -> {
            watching = Boolean.parseBoolean(
                    ReplicaProcessMain.query(ex.getRequestURI()).getOrDefault("on", "true"));
            ReplicaProcessMain.answer(ex, 200, JSON.createObjectNode().put("watching", watching));
        });
        server.createContext("/gc", ex -> ReplicaProcessMain.answer(ex, 200, gc()));
        server.createContext("/load", NodeProcessMain::load);
        server.createContext("/histogram", NodeProcessMain::histogram);
        server.createContext("/writer", NodeProcessMain::writer);
        server.createContext("/propose", NodeProcessMain::propose);
        server.start();
        selfId = id;
        dataRoot = dataDir.toAbsolutePath().getParent();
        // Where the other nodes' writers find this node's control server (a retry at the leader a refusal names).
        Path portTmp = dataDir.resolve(CONTROL_PORT_FILE + ".tmp");
        Files.createDirectories(dataDir);
        Files.writeString(portTmp, Integer.toString(server.getAddress().getPort()));
        Files.move(portTmp, dataDir.resolve(CONTROL_PORT_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);

        long period = watchMillis;
        Thread watcher = new Thread(() -> watch(period), "bench-watcher");
        watcher.setDaemon(true);
        watcher.start();
        Thread writerThread = new Thread(writer::run, "bench-writer");
        writerThread.setDaemon(true);
        writerThread.start();

        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            long hookStarted = System.currentTimeMillis();
                            ControllerNode cn = controllerNode;
                            if (cn != null) {
                                cn.close(); // the controlled shutdown: leaderships move first
                                shutdownReport(dataDir, hookStarted, cn);
                            } else {
                                node.close();
                            }
                            writer.on = false;
                            writer.awaitQuiet(Writer.RETRY_BUDGET.plusSeconds(1));
                            writer.abandonInFlight();
                            ObjectNode counts = writer.counts(System.currentTimeMillis());
                            try {
                                Path tmp = dataDir.resolve(Writer.FILE + ".tmp");
                                Files.writeString(tmp, counts.toString());
                                Files.move(
                                        tmp,
                                        dataDir.resolve(Writer.FILE),
                                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                            } catch (IOException e) {
                                System.err.println("cannot write the writer's counts: " + e);
                            }
                            System.out.println(Writer.PREFIX + counts);
                            System.out.flush();
                            server.stop(0);
                            client.close();
                        },
                        "node-shutdown"));
        System.out.println(READY_PREFIX + server.getAddress().getPort());
        System.out.flush();

        if (openAll) {
            openAll(node, nodes, partitions, replicationFactor);
        } else {
            open(node, nodes, partitions, replicationFactor, openThreads);
        }
        new CountDownLatch(1).await(); // serves until the JVM shuts down; the hook closes
    }

    /** Opens this node's partitions of the placement with one {@link ZooKeeperNode#openAll}. */
    private static void openAll(ZooKeeperNode node, List<String> nodes, int partitions, int rf)
            throws InterruptedException {
        List<List<String>> sets = ZooKeeperNode.Placement.preferredSpread(nodes, partitions, rf);
        StateMachine discard = (epoch, offset, payload) -> null; // measures replication, not an application
        List<ZooKeeperNode.PartitionSpec> mine = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            if (sets.get(i).contains(node.id())) {
                mine.add(new ZooKeeperNode.PartitionSpec("p" + i, sets.get(i), discard));
            }
        }
        hosted = mine.size();
        openStartedMillis = System.currentTimeMillis();
        List<java.util.concurrent.CompletableFuture<ZooKeeperNode.Partition>> opens = node.openAll(mine);
        for (java.util.concurrent.CompletableFuture<ZooKeeperNode.Partition> f : opens) {
            // Watched as soon as it is open (they complete in another order than the list's).
            java.util.concurrent.CompletableFuture<?> unused = f.thenAccept(p -> opened.put(p.id(), p));
        }
        for (java.util.concurrent.CompletableFuture<ZooKeeperNode.Partition> f : opens) {
            try {
                f.get(10, TimeUnit.MINUTES);
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                openFailure = String.valueOf(e);
                System.err.println("opening a partition failed: " + e);
            }
        }
        openedMillis = System.currentTimeMillis();
    }

    /** Opens this node's partitions of the placement, {@code threads} at a time. */
    private static void open(ZooKeeperNode node, List<String> nodes, int partitions, int rf, int threads)
            throws InterruptedException {
        List<List<String>> sets = ZooKeeperNode.Placement.preferredSpread(nodes, partitions, rf);
        StateMachine discard = (epoch, offset, payload) -> null; // measures replication, not an application
        List<String> mine = new ArrayList<>();
        List<List<String>> mineSets = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            if (sets.get(i).contains(node.id())) {
                mine.add("p" + i);
                mineSets.add(sets.get(i));
            }
        }
        hosted = mine.size();
        openStartedMillis = System.currentTimeMillis();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "bench-open");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> opens = new ArrayList<>();
            for (int i = 0; i < mine.size(); i++) {
                String p = mine.get(i);
                List<String> set = mineSets.get(i);
                opens.add(pool.submit(() -> {
                    opened.put(p, node.open(p, set, discard));
                    return null;
                }));
            }
            for (Future<?> f : opens) {
                try {
                    f.get(10, TimeUnit.MINUTES);
                } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                    openFailure = String.valueOf(e);
                    System.err.println("opening a partition failed: " + e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        openedMillis = System.currentTimeMillis();
    }

    /** Watcher thread: notes when this node leads each partition (see the class comment). Ends with the JVM. */
    private static void watch(long periodMillis) {
        while (!Thread.currentThread().isInterrupted()) {
            if (watching) {
                long now = System.currentTimeMillis();
                for (ZooKeeperNode.Partition p : opened.values()) {
                    if (p.replica().status().role() == Role.LEADER) {
                        firstLed.putIfAbsent(p.id(), now);
                        ledSince.putIfAbsent(p.id(), now);
                    } else {
                        ledSince.remove(p.id());
                    }
                }
                ControllerNode cn = controllerNode;
                if (cn != null) {
                    if (cn.controller().status().active()) {
                        if (controllerActiveSince == 0) {
                            controllerActiveSince = now;
                        }
                    } else {
                        controllerActiveSince = 0;
                    }
                }
            }
            try {
                // The watcher's period: a sampling interval, not a hand-off; 10 times longer while off, so that it
                // costs next to nothing in the idle windows.
                Thread.sleep(watching ? periodMillis : 10 * periodMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static ObjectNode stats(ZooKeeperNode node) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", node.id());
        o.put("pid", ProcessHandle.current().pid());
        o.put("hosted", hosted);
        o.put("opened", opened.size());
        o.put("open_failure", openFailure);
        o.put("jvm_start_ms", ManagementFactory.getRuntimeMXBean().getStartTime());
        o.put("open_started_ms", openStartedMillis);
        o.put("opened_ms", openedMillis);
        int leading = 0;
        int behind = 0;
        for (ZooKeeperNode.Partition p : opened.values()) {
            Replica.Status s = p.replica().status();
            leading += s.role() == Role.LEADER ? 1 : 0;
            behind += s.commitOffset() < s.logEndOffset() || s.appliedOffset() < s.commitOffset() ? 1 : 0;
        }
        o.put("leading", leading);
        o.put("behind", behind);
        o.put("messages_sent", node.messagesSent());
        o.put(
                "wal_forces",
                node.writeAheadLogStats().map(WriteAheadLog.Stats::forces).orElse(0L));
        o.put("connected_peers", node.connectedPeers());
        o.put("unknown_partition_messages", node.unknownPartitionMessages());
        o.set("controller", controllerJson());
        o.put("cpu_ns", processCpuNanos());
        o.put("jit_cpu_ns", JitActivity.ownCompilerCpuNanos());
        o.put("threads", ManagementFactory.getThreadMXBean().getThreadCount());
        o.put("node_threads", node.threads());
        o.put(
                "heap_used_bytes",
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        o.put("wchar", procSelfIo("wchar:"));
        o.put("rchar", procSelfIo("rchar:"));
        o.put("syscw", procSelfIo("syscw:"));
        o.put("now_ms", System.currentTimeMillis());
        o.set("thread_cpu_ns", threadCpu());
        ObjectNode ops = o.putObject("zookeeper_operations");
        new java.util.TreeMap<>(operations).forEach((name, c) -> {
            synchronized (c) {
                ops.putObject(name).put("count", c[0]).put("latency_ms_sum", c[1]);
            }
        });
        return o;
    }

    /** CPU time of this JVM's live threads, summed by name with trailing numbers dropped (pools as one). */
    private static ObjectNode threadCpu() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> byName = new java.util.TreeMap<>();
        for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t == null) {
                continue;
            }
            long ns = mx.getThreadCpuTime(t.getThreadId());
            if (ns > 0) {
                byName.merge(t.getThreadName().replaceAll("[-#_ ]?\\d+$", ""), ns, Long::sum);
            }
        }
        ObjectNode o = JSON.createObjectNode();
        byName.forEach(o::put);
        return o;
    }

    /** {@code GET /histogram}: the heap's largest classes after a full collection ({@code GC.class_histogram}). */
    private static void histogram(HttpExchange ex) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        try {
            Object text = ManagementFactory.getPlatformMBeanServer()
                    .invoke(
                            new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
                            "gcClassHistogram",
                            new Object[] {new String[0]},
                            new String[] {String[].class.getName()});
            ArrayNode lines = o.putArray("top");
            String[] all = String.valueOf(text).split("\n", 25);
            for (int i = 0; i < Math.min(all.length, 24); i++) {
                lines.add(all[i].strip());
            }
            ReplicaProcessMain.answer(ex, 200, o);
        } catch (javax.management.JMException | RuntimeException e) {
            o.put("error", String.valueOf(e));
            ReplicaProcessMain.answer(ex, 500, o);
        }
    }

    /** {@code GET /leaders}: what the watcher noted; {@code POST /leaders/reset}: forgets {@code first_led}. */
    private static void leaders(HttpExchange ex) throws IOException {
        if (ex.getRequestURI().getPath().equals("/leaders/reset")) {
            firstLed.clear();
        }
        ObjectNode o = JSON.createObjectNode();
        ArrayNode leading = o.putArray("leading");
        for (ZooKeeperNode.Partition p : opened.values()) {
            if (p.replica().status().role() == Role.LEADER) {
                leading.add(p.id());
            }
        }
        ObjectNode first = o.putObject("first_led");
        new java.util.TreeMap<>(firstLed).forEach(first::put);
        ObjectNode since = o.putObject("led_since");
        new java.util.TreeMap<>(ledSince).forEach(since::put);
        o.put("watching", watching);
        o.set("controller", controllerJson());
        o.put("now_ms", System.currentTimeMillis());
        ReplicaProcessMain.answer(ex, 200, o);
    }

    /** The prefix of the line with what a controlled shutdown took, printed once the node is closed. */
    static final String SHUTDOWN_PREFIX = "SHUTDOWN ";
    /** The file in the data directory the shutdown hook writes what a controlled shutdown took to. */
    static final String SHUTDOWN_FILE = "shutdown.json";

    /**
     * Writes what the controlled shutdown took ({@link ControllerNode#shutdownReport}) to {@code
     * DATA_DIR/shutdown.json} and prints it as one line {@code SHUTDOWN {json}}: the wall-clock times (ms) when the
     * shutdown hook started and when the node was closed, the drain (partitions drained, how long, how many still
     * had proposals in flight at its end), the move (whether the controller reported it done, how long it took,
     * partitions left), the wait for the new leaders' take-over (how many, how long) and how long closing the rest
     * took.
     */
    private static void shutdownReport(Path dataDir, long hookStarted, ControllerNode cn) {
        ObjectNode o = JSON.createObjectNode();
        o.put("hook_started_at_ms", hookStarted);
        o.put("closed_at_ms", System.currentTimeMillis());
        o.put("reported", cn.shutdownReport().isPresent());
        cn.shutdownReport()
                .ifPresent(r -> o.put("drained", r.drained())
                        .put("drain_ms", r.drainMillis())
                        .put("still_in_flight", r.stillInFlight())
                        .put("moved", r.moved())
                        .put("move_ms", r.moveMillis())
                        .put("left_leading", r.leftLeading())
                        .put("taken_over", r.takenOver())
                        .put("take_over_ms", r.takeOverMillis())
                        .put("close_ms", r.closeMillis()));
        try {
            Path tmp = dataDir.resolve(SHUTDOWN_FILE + ".tmp");
            Files.writeString(tmp, o.toString());
            Files.move(tmp, dataDir.resolve(SHUTDOWN_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            System.err.println("cannot write the shutdown report: " + e);
        }
        System.out.println(SHUTDOWN_PREFIX + o);
        System.out.flush();
    }

    /**
     * What this node knows of the controller: {@code mode} ({@code election} with nothing else, or {@code
     * controller}), {@code active}, {@code epoch} (this node's controller epoch if active, else the one of the
     * controller it knows), {@code controller} (the id of the controller it knows, or its own), {@code
     * active_since_ms}, {@code round_trips} (its state store's ZooKeeper requests), {@code terms_held}, {@code
     * live_nodes}, {@code highest_epoch}, {@code node_lost_at_ms} (when this node last heard a registration end).
     */
    private static ObjectNode controllerJson() {
        ObjectNode c = JSON.createObjectNode();
        ControllerNode cn = controllerNode;
        if (cn == null) {
            c.put("mode", "election");
            return c;
        }
        c.put("mode", "controller");
        Controller.Status s = cn.controller().status();
        c.put("active", s.active());
        if (s.active()) {
            c.put("controller", cn.node().id());
            c.put("epoch", s.controllerEpoch());
            c.put("live_nodes", s.nodes().size());
            c.put("shutting_down", s.shuttingDown().size());
        } else {
            cn.agent()
                    .knownController()
                    .ifPresent(k -> c.put("controller", k.id()).put("epoch", k.epoch()));
        }
        c.put("active_since_ms", controllerActiveSince);
        c.put("highest_epoch", cn.agent().highestControllerEpoch());
        c.put("round_trips", cn.controller().zooKeeperRoundTrips());
        c.put("terms_held", cn.controller().termsHeld());
        c.put("assignments_sent", cn.controller().assignmentsSent());
        c.put("node_lost_at_ms", cn.controller().lastNodeLostAtMillis());
        cn.controller()
                .lastWriteRound()
                .ifPresent(w -> c.putObject("last_write_round")
                        .put("started_at_ms", w.startedAtMillis())
                        .put("written_at_ms", w.writtenAtMillis())
                        .put("sent_at_ms", w.sentAtMillis())
                        .put("partitions", w.partitionsWritten())
                        .put("assignments", w.assignments()));
        return c;
    }

    /**
     * {@code POST /propose?partition=ID}: proposes one 100-byte value to this node's replica of the partition and
     * answers how it ended, once it has: {@code outcome} {@code committed}, {@code refused} (definitely not applied;
     * {@code leader}: the leader the refusal names, or ""), {@code unknown} (may have been applied, also when not ended
     * within 10 s) or {@code other} (not a {@link ReplicationException}); {@code kind}: the exception's class. 404 if
     * the partition is not hosted here. The other nodes' writers retry a refused write here.
     */
    private static void propose(HttpExchange ex) throws IOException {
        String id = ReplicaProcessMain.query(ex.getRequestURI()).getOrDefault("partition", "");
        ZooKeeperNode.Partition p = opened.get(id);
        if (p == null) {
            ReplicaProcessMain.answer(ex, 404, JSON.createObjectNode().put("error", "no partition " + id));
            return;
        }
        java.util.concurrent.CompletableFuture<?> f;
        try {
            f = p.replica().propose(writer.value);
        } catch (RuntimeException e) {
            f = java.util.concurrent.CompletableFuture.failedFuture(e);
        }
        java.util.concurrent.CompletableFuture<?> unused = f.orTimeout(10, TimeUnit.SECONDS)
                .whenComplete((c, e) -> {
                    ObjectNode o = JSON.createObjectNode();
                    Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                            ? e.getCause()
                            : e;
                    if (t == null) {
                        o.put("outcome", "committed");
                    } else if (t instanceof ReplicationException r) {
                        o.put("outcome", r.definitelyNotApplied() ? "refused" : "unknown");
                        o.put("leader", r.leaderHint());
                    } else if (t instanceof TimeoutException) {
                        o.put("outcome", "unknown");
                    } else {
                        o.put("outcome", "other");
                    }
                    o.put("kind", t == null ? "" : t.getClass().getSimpleName());
                    try {
                        ReplicaProcessMain.answer(ex, 200, o);
                    } catch (IOException | RuntimeException closed) {
                        // the asking writer went away
                    }
                });
    }

    /** {@code POST /writer?on=&interval_ms=}, {@code POST /writer/reset}, {@code GET /writer}: see the class comment. */
    private static void writer(HttpExchange ex) throws IOException {
        long now = System.currentTimeMillis();
        if (ex.getRequestURI().getPath().equals("/writer/reset")) {
            ReplicaProcessMain.answer(ex, 200, writer.reset(now));
            return;
        }
        if ("POST".equals(ex.getRequestMethod())) {
            Map<String, String> q = ReplicaProcessMain.query(ex.getRequestURI());
            if (q.containsKey("interval_ms")) {
                writer.intervalNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(1, Long.parseLong(q.get("interval_ms"))));
            }
            if (q.containsKey("on")) {
                writer.on = Boolean.parseBoolean(q.get("on"));
            }
        }
        ReplicaProcessMain.answer(ex, 200, writer.counts(now));
    }

    /**
     * Proposes one value to every partition this node leads every {@link #intervalNanos}, at most one write in flight
     * per partition, and counts how each write ended. Its thread is a daemon; a loop with a 5 ms pause.
     *
     * <p>A client with a Kafka producer's semantics: a write refused with a definite error ({@link
     * ReplicationException#definitelyNotApplied()}: not applied anywhere) is sent again — to the leader the refusal
     * names, else to the partition's next replica — after a back-off (20 ms, doubling up to 320 ms) within {@link
     * #RETRY_BUDGET} of its first proposal, through the other node's {@code POST /propose}; it counts as failed only
     * if it is still refused when the budget is spent. Every refusal on the way is counted too ({@code refused}, by
     * exception class), so nothing is hidden. A write whose outcome is unknown (it may have been applied) is never sent
     * again (that could apply it twice): it counts as unknown, as does a retry whose answer did not come back.
     */
    static final class Writer {
        static final String PREFIX = "WRITER ";
        /** The file in the data directory the shutdown hook writes the counts to. */
        static final String FILE = "writer-counts.json";
        /** How long after its first proposal a refused write may still be sent again. */
        static final Duration RETRY_BUDGET = Duration.ofSeconds(5);

        volatile boolean on;
        volatile long intervalNanos = TimeUnit.MILLISECONDS.toNanos(500);
        private final Map<String, Long> due = new ConcurrentHashMap<>();
        private final java.util.Set<String> inFlight = ConcurrentHashMap.newKeySet();
        final byte[] value = new byte[100];
        private final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        private final java.util.concurrent.ScheduledExecutorService retries =
                Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "bench-writer-retries");
                    t.setDaemon(true);
                    return t;
                });
        // Since the last reset:
        private final LongAdder proposed = new LongAdder();
        private final LongAdder committed = new LongAdder();
        private final LongAdder committedAfterRetry = new LongAdder();
        private final LongAdder retried = new LongAdder();
        private final Map<String, LongAdder> refused = new ConcurrentHashMap<>();
        private final Map<String, LongAdder> definite = new ConcurrentHashMap<>();
        private final Map<String, LongAdder> unknown = new ConcurrentHashMap<>();
        private final Map<String, LongAdder> other = new ConcurrentHashMap<>();
        private final java.util.Set<String> written = ConcurrentHashMap.newKeySet();
        private volatile long resetAtMillis = System.currentTimeMillis();
        private volatile long lastDefiniteMillis;

        /** How one attempt ended: {@code committed}, {@code refused}, {@code unknown} or {@code other}. */
        private record Result(String outcome, String kind, String leader) {
            static Result of(Throwable e) {
                Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause()
                        : e;
                if (t == null) {
                    return new Result("committed", "", "");
                }
                String kind = t.getClass().getSimpleName();
                if (t instanceof ReplicationException r) {
                    return new Result(r.definitelyNotApplied() ? "refused" : "unknown", kind, r.leaderHint());
                }
                return new Result("other", kind, "");
            }
        }

        void run() {
            while (!Thread.currentThread().isInterrupted()) {
                if (on) {
                    long now = System.nanoTime();
                    for (ZooKeeperNode.Partition p : opened.values()) {
                        String id = p.id();
                        if (now - due.getOrDefault(id, now) < 0
                                || inFlight.contains(id)
                                || p.replica().status().role() != Role.LEADER) {
                            continue;
                        }
                        due.put(id, now + intervalNanos);
                        inFlight.add(id);
                        proposed.increment();
                        attemptHere(p, now + RETRY_BUDGET.toNanos(), 0);
                    }
                }
                try {
                    // The writer's pacing, a sampling interval and not a hand-off: 5 ms while on (a partition that
                    // moves here is written within 5 ms of its leading), 50 ms while off (next to no idle CPU).
                    Thread.sleep(on ? 5 : 50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Proposes to this node's replica of {@code p}. */
        private void attemptHere(ZooKeeperNode.Partition p, long deadline, int attempt) {
            try {
                java.util.concurrent.CompletableFuture<?> unused = p.replica()
                        .propose(value)
                        .whenComplete((c, e) -> ended(p.id(), selfId, Result.of(e), deadline, attempt));
            } catch (RuntimeException e) {
                ended(p.id(), selfId, Result.of(e), deadline, attempt);
            }
        }

        /** Proposes through node {@code node}'s {@code POST /propose}. */
        private void attemptAt(String partition, String node, long deadline, int attempt) {
            ZooKeeperNode.Partition local = opened.get(partition);
            if (node.equals(selfId) && local != null) {
                attemptHere(local, deadline, attempt);
                return;
            }
            java.net.URI uri;
            try {
                String port = Files.readString(dataRoot.resolve(node).resolve(CONTROL_PORT_FILE))
                        .strip();
                uri = java.net.URI.create("http://127.0.0.1:" + port + "/propose?partition=" + partition);
            } catch (IOException | RuntimeException e) {
                ended(partition, node, new Result("refused", "NoControlServer", ""), deadline, attempt);
                return;
            }
            java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(uri)
                    .timeout(Duration.ofSeconds(12))
                    .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                    .build();
            java.util.concurrent.CompletableFuture<?> unused = http.sendAsync(
                            request, java.net.http.HttpResponse.BodyHandlers.ofString())
                    .whenComplete((response, e) -> {
                        Result r;
                        Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                                ? e.getCause()
                                : e;
                        if (t instanceof java.net.ConnectException) {
                            r = new Result("refused", "ConnectException", ""); // never sent: not applied
                        } else if (t != null) {
                            r = new Result("unknown", t.getClass().getSimpleName(), ""); // sent, no answer
                        } else if (response.statusCode() != 200) {
                            r = new Result("refused", "Http" + response.statusCode(), "");
                        } else {
                            try {
                                com.fasterxml.jackson.databind.JsonNode j = JSON.readTree(response.body());
                                r = new Result(
                                        j.path("outcome").asText("unknown"),
                                        j.path("kind").asText(""),
                                        j.path("leader").asText(""));
                            } catch (IOException bad) {
                                r = new Result("unknown", "MalformedAnswer", "");
                            }
                        }
                        ended(partition, node, r, deadline, attempt);
                    });
        }

        /** Attempt {@code attempt} of a write to {@code partition}, made at {@code at}, ended with {@code r}. */
        private void ended(String partition, String at, Result r, long deadline, int attempt) {
            switch (r.outcome()) {
                case "committed" -> {
                    committed.increment();
                    if (attempt > 0) {
                        committedAfterRetry.increment();
                    }
                    written.add(partition);
                }
                case "refused" -> {
                    refused.computeIfAbsent(r.kind(), k -> new LongAdder()).increment();
                    long now = System.nanoTime();
                    if (now - deadline < 0) {
                        if (attempt == 0) {
                            retried.increment();
                        }
                        String next = next(partition, at, r.leader());
                        long backoff = Math.min(320, 20L << Math.min(attempt, 4));
                        try {
                            java.util.concurrent.Future<?> unused = retries.schedule(
                                    () -> attemptAt(partition, next, deadline, attempt + 1),
                                    backoff,
                                    TimeUnit.MILLISECONDS);
                            return; // still in flight
                        } catch (java.util.concurrent.RejectedExecutionException stopped) {
                            // falls through: counted as failed
                        }
                    }
                    definite.computeIfAbsent(r.kind(), k -> new LongAdder()).increment();
                    lastDefiniteMillis = System.currentTimeMillis();
                }
                case "unknown" ->
                    unknown.computeIfAbsent(r.kind(), k -> new LongAdder()).increment();
                default -> other.computeIfAbsent(r.kind(), k -> new LongAdder()).increment();
            }
            inFlight.remove(partition);
        }

        /**
         * Where to send a refused write again: the leader the refusal named, if any and not the node that refused;
         * else the partition's replica after that node.
         */
        private static String next(String partition, String refusedAt, String leader) {
            if (!leader.isEmpty() && !leader.equals(refusedAt)) {
                return leader;
            }
            ZooKeeperNode.Partition p = opened.get(partition);
            List<String> replicas = p == null ? List.of(refusedAt) : p.replicas();
            int i = replicas.indexOf(refusedAt);
            return replicas.get((i + 1) % replicas.size());
        }

        /** Waits until no write is in flight (retries included), at most {@code timeout}. */
        void awaitQuiet(Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!inFlight.isEmpty() && System.nanoTime() - deadline < 0) {
                try {
                    Thread.sleep(10); // polling the writes in flight, with a deadline
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        /** Counts the writes still in flight as unknown outcomes ({@code InFlightAtExit}): the process is exiting. */
        void abandonInFlight() {
            int left = inFlight.size();
            if (left > 0) {
                unknown.computeIfAbsent("InFlightAtExit", k -> new LongAdder()).add(left);
            }
        }

        synchronized ObjectNode reset(long now) {
            ObjectNode before = counts(now);
            proposed.reset();
            committed.reset();
            committedAfterRetry.reset();
            retried.reset();
            refused.clear();
            definite.clear();
            unknown.clear();
            other.clear();
            written.clear();
            lastDefiniteMillis = 0;
            resetAtMillis = now;
            return before;
        }

        ObjectNode counts(long now) {
            ObjectNode o = JSON.createObjectNode();
            o.put("on", on);
            o.put("interval_ms", TimeUnit.NANOSECONDS.toMillis(intervalNanos));
            o.put("since_ms", resetAtMillis);
            o.put("now_ms", now);
            o.put("proposed", proposed.sum());
            o.put("committed", committed.sum());
            o.put("committed_after_retry", committedAfterRetry.sum());
            o.put("retried", retried.sum());
            o.put("retry_budget_ms", RETRY_BUDGET.toMillis());
            o.put("in_flight", inFlight.size());
            o.put("written_partitions", written.size());
            ArrayNode w = o.putArray("written");
            new java.util.TreeSet<>(written).forEach(w::add);
            o.put("last_definite_ms", lastDefiniteMillis);
            ObjectNode rf = o.putObject("refused");
            new java.util.TreeMap<>(refused).forEach((k, v) -> rf.put(k, v.sum()));
            ObjectNode d = o.putObject("definite");
            new java.util.TreeMap<>(definite).forEach((k, v) -> d.put(k, v.sum()));
            ObjectNode u = o.putObject("unknown");
            new java.util.TreeMap<>(unknown).forEach((k, v) -> u.put(k, v.sum()));
            ObjectNode x = o.putObject("other");
            new java.util.TreeMap<>(other).forEach((k, v) -> x.put(k, v.sum()));
            return o;
        }
    }

    @SuppressWarnings("SystemGc") // the point: the heap in use after a full collection, the live set
    private static ObjectNode gc() {
        System.gc();
        ObjectNode o = MemoryFacts.now().toJson();
        o.put(
                "heap_used_after_full_gc_bytes",
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        return o;
    }

    private static void load(HttpExchange ex) throws IOException {
        Map<String, String> q = ReplicaProcessMain.query(ex.getRequestURI());
        List<Replica> targets = new ArrayList<>();
        for (String p : Splitter.on(',').omitEmptyStrings().split(q.getOrDefault("partitions", ""))) {
            ZooKeeperNode.Partition partition = opened.get(p);
            if (partition == null) {
                ReplicaProcessMain.answer(ex, 404, JSON.createObjectNode().put("error", "no partition " + p));
                return;
            }
            targets.add(partition.replica());
        }
        int per = Integer.parseInt(q.getOrDefault("per_partition", "1"));
        Duration warmup = Duration.ofMillis(Long.parseLong(q.getOrDefault("warmup_ms", "0")));
        Duration duration = Duration.ofMillis(Long.parseLong(q.getOrDefault("duration_ms", "1000")));
        int valueBytes = Integer.parseInt(q.getOrDefault("value_bytes", "100"));
        if (targets.isEmpty() || per < 1) {
            ReplicaProcessMain.answer(ex, 400, JSON.createObjectNode().put("error", "nothing to load"));
            return;
        }
        ClosedLoop.Operation op = (w, value, done) ->
                ClosedLoop.completeWhenDone(targets.get(w / per).propose(value), done);
        try {
            ClosedLoop.Outcome outcome =
                    ClosedLoop.run(op, targets.size() * per, warmup, duration, valueBytes, Duration.ofSeconds(30));
            ObjectNode o = JSON.createObjectNode();
            o.set("side", SideJson.of(outcome));
            o.set("outcome", OutcomeJson.toJson(outcome));
            o.put("partitions", targets.size());
            o.put("inflight", targets.size() * per);
            ReplicaProcessMain.answer(ex, 200, o);
        } catch (TimeoutException e) {
            ReplicaProcessMain.answer(ex, 500, JSON.createObjectNode().put("error", e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ReplicaProcessMain.answer(ex, 500, JSON.createObjectNode());
        }
    }

    /** This process's CPU time (all threads, JIT and GC included), or -1. */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** A field of {@code /proc/self/io}, or -1 where there is none. */
    private static long procSelfIo(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
