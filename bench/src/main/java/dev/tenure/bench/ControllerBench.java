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
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The controller section (issue 17): the controller's failover figures side by side with the per-partition elections,
 * in one run against the run's 3 ZooKeeper server processes. For each partition count ({@code
 * --controller-partitions}, 100 and 1,000) and each leadership mode ({@code --controller-modes}: {@code controller},
 * {@code election} — the library's default, with fast failover derived from the session — and optionally {@code
 * election-session}, fast failover off), three {@link NodeProcessMain} processes host the partitions (3 replicas each,
 * {@code preferredSpread}: partition {@code i}'s preferred leader is node {@code i mod 3}) and, per trial:
 *
 * <ol>
 *   <li><b>SIGKILL</b> of the node leading the most partitions (not the controller: that is the third part): per
 *       partition it led, the time from the signal until a surviving node leads it (role LEADER, seen by the node's
 *       10 ms watcher), and the ZooKeeper requests of the failover (below); the node is then started again;
 *   <li><b>SIGTERM</b> of the node leading the most partitions (not the controller), while every node's writer
 *       proposes to every partition it leads ({@code --controller-writes-per-s} over all partitions, one write in
 *       flight per partition): per partition the time until another node leads it, when the process exited, and how
 *       the writes that ended meanwhile ended (committed, refused with a definite error, unknown outcome); in
 *       controller mode SIGTERM is the controlled shutdown; the node is then started again;
 *   <li>controller mode only: <b>SIGKILL of the controller</b>'s node: the time until a surviving node is the active
 *       controller in a higher epoch (its watcher's first sample as active), and the partitions it led as in 1.
 * </ol>
 *
 * <p><b>ZooKeeper requests of a failover.</b> Each server's {@code srvr} answer before the signal and after the
 * window: {@code Received} (the requests its clients sent it, pings included, summed over the 3 servers) and the
 * quorum's {@code Zxid} (the transactions committed: each write, each {@code multi}, each session created or closed
 * counts one). The window runs from the signal until every partition the node led has a new leader and the node's
 * session is gone (session timeout + 1 s after a SIGKILL; its exit after a SIGTERM), plus {@code
 * --controller-zookeeper-tail-ms}; the same window for both modes. The rate of the idle window just before ({@code
 * --controller-idle-window-ms}: pings, the library's periodic checks) times the window's length is subtracted for the
 * net figure. Beside it, counted in the nodes: the surviving nodes' Curator-traced operations and, in controller mode,
 * the controller's state store requests ({@code Controller.zooKeeperRoundTrips}).
 *
 * <p>Before each fault the section waits until every partition is led by its preferred replica (the library's 2 s
 * rebalancing with elections; the controller's rebalance every {@code --controller-rebalance-ms} with a 0 % imbalance
 * threshold), so that each node leads a third. Every process is stopped at the end of its run (SIGTERM, then SIGKILL)
 * and its files deleted; every wait has a deadline.
 */
final class ControllerBench {
    static final List<String> SECTIONS = List.of("controller");
    static final List<String> MODES = List.of("controller", "election", "election-session");
    private static final List<String> NODES = PartitionsBench.NODES;
    private static final Duration LEADERS_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration QUIET_TIMEOUT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The section's settings.
     *
     * @param partitionCounts the partition counts, one set of runs each (100, 1,000)
     * @param modes the leadership modes, of {@link #MODES}
     * @param trials trials of each fault per run
     * @param sessionTimeoutMs the nodes' ZooKeeper session timeout
     * @param nodeHeap the node processes' heap (-Xmx and -Xms)
     * @param rebalanceMs the controller's rebalance interval
     * @param writesPerSecond the writers' rate over all partitions during a SIGTERM
     * @param zooKeeperTail how long a failover's ZooKeeper window goes on after the failover
     * @param idleWindow the idle window before each fault whose request rate is subtracted
     * @param quietRequestsPerSecond the ensemble's request rate (all servers) an idle window must not exceed before a
     *     fault
     * @param balanceTimeout how long to wait, before a fault, for every partition to be led by its preferred replica
     *     (after a hand-over that did not reach it, a node with elections waits 10 rebalance intervals before the next)
     */
    record Config(
            List<Integer> partitionCounts,
            List<String> modes,
            int trials,
            int sessionTimeoutMs,
            String nodeHeap,
            int rebalanceMs,
            int writesPerSecond,
            Duration zooKeeperTail,
            Duration idleWindow,
            int quietRequestsPerSecond,
            Duration balanceTimeout) {}

    private final ProcessBench b;
    private final Config c;
    private final ObjectNode result;

    ControllerBench(ProcessBench b, Config c, ObjectNode result) {
        this.b = b;
        this.c = c;
        this.result = result;
    }

    void run(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        ObjectNode o = result.putObject("controller");
        o.put("nodes", NODES.size());
        o.put("replication_factor", 3);
        o.put("session_timeout_ms", c.sessionTimeoutMs());
        o.put("node_heap", c.nodeHeap());
        o.put("trials", c.trials());
        o.put("rebalance_ms", c.rebalanceMs());
        o.put("writes_per_s", c.writesPerSecond());
        o.put("zookeeper_tail_ms", c.zooKeeperTail().toMillis());
        o.put("idle_window_ms", c.idleWindow().toMillis());
        o.put("quiet_requests_per_s", c.quietRequestsPerSecond());
        o.put("bound_ms", c.sessionTimeoutMs() + 1000L);
        ArrayNode runs = o.putArray("runs");
        int i = 0;
        for (int partitions : c.partitionCounts()) {
            List<String> order = new ArrayList<>(c.modes());
            if (i++ % 2 == 1) {
                Collections.reverse(order); // which mode goes first alternates with the partition count
            }
            for (String mode : order) {
                ObjectNode r = runs.addObject();
                r.put("mode", mode);
                r.put("partitions", partitions);
                r.put("load_average_start", ProcessBench.loadAverage());
                Path dir = root.resolve("controller-" + mode + "-" + partitions);
                try {
                    one(zk, dir, mode, partitions, r);
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    r.put("error", String.valueOf(e));
                    b.unclean();
                    b.say("controller: %s with %d partitions failed: %s", mode, partitions, e);
                } finally {
                    r.put("load_average_end", ProcessBench.loadAverage());
                    Benchmark.deleteRecursively(dir);
                }
            }
        }
        targets(o);
    }

    private static String options(String mode, int rebalanceMs) {
        return switch (mode) {
            case "controller" -> "leadership=controller,rebalance_ms=" + rebalanceMs + ",imbalance_pct=0";
            case "election" -> "leadership=election,fast_failover=on";
            case "election-session" -> "leadership=election,fast_failover=off";
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        };
    }

    private void one(ZooKeeperProcessEnsemble zk, Path dir, String mode, int partitions, ObjectNode r)
            throws Exception {
        b.say("controller: 3 node processes, %d partitions, leadership %s", partitions, mode);
        try (PartitionsBench.Nodes nodes = PartitionsBench.Nodes.start(
                zk.connectString(),
                dir,
                c.nodeHeap(),
                c.sessionTimeoutMs(),
                "/tenure-bench-controller-" + mode + "-" + partitions,
                partitions,
                options(mode, c.rebalanceMs()))) {
            startup(nodes, r.putObject("start"));
            ArrayNode kills = r.putArray("sigkill");
            ArrayNode terms = r.putArray("sigterm");
            ArrayNode controllerKills = r.putArray("controller_sigkill");
            boolean controller = mode.equals("controller");
            for (int t = 0; t < c.trials(); t++) {
                boolean last = t == c.trials() - 1;
                kills.add(fault(zk, nodes, Fault.SIGKILL, true, controller));
                terms.add(fault(zk, nodes, Fault.SIGTERM, controller || !last, controller));
                if (controller) {
                    controllerKills.add(fault(zk, nodes, Fault.CONTROLLER_SIGKILL, !last, controller));
                }
            }
            summarize(r);
        }
    }

    // ---- start ----

    private void startup(PartitionsBench.Nodes nodes, ObjectNode o) throws Exception {
        int p = nodes.partitions;
        long deadline = System.nanoTime() + LEADERS_TIMEOUT.toNanos();
        Map<String, JsonNode> leaders = nodes.leaders();
        long allLed = 0;
        ObjectNode spreadWhenAllLed = null;
        while (System.nanoTime() < deadline) {
            leaders = nodes.leaders();
            if (allLed == 0 && ledCount(leaders) == p) {
                allLed = System.currentTimeMillis();
                spreadWhenAllLed = spread(leaders);
            }
            if (PartitionsBench.balanced(leaders, p)) {
                break;
            }
            Thread.sleep(POLL.toMillis()); // polling the nodes' watchers, with a deadline
        }
        boolean balanced = PartitionsBench.balanced(leaders, p);
        o.put("all_led", allLed > 0);
        if (allLed > 0) {
            o.put("seconds_to_all_led", ProcessBench.round((allLed - nodes.launchedMillis) / 1e3));
            o.set("leaders_per_node_when_all_led", spreadWhenAllLed);
        }
        o.put("balanced", balanced);
        if (balanced) {
            o.put(
                    "seconds_to_preferred_leaders",
                    ProcessBench.round((System.currentTimeMillis() - nodes.launchedMillis) / 1e3));
        }
        o.set("leaders_per_node", spread(leaders));
        controllerOf(leaders).ifPresent(id -> o.put("controller", id));
        if (!balanced) {
            b.unclean();
        }
        b.say(
                "controller: %d partitions all led %.1f s after launch, by their preferred replicas after %.1f s;"
                        + " leaders per node %s",
                p,
                o.path("seconds_to_all_led").asDouble(-1),
                o.path("seconds_to_preferred_leaders").asDouble(-1),
                o.path("leaders_per_node"));
    }

    private static int ledCount(Map<String, JsonNode> leaders) {
        Set<String> led = new HashSet<>();
        leaders.values().forEach(l -> led.addAll(PartitionsBench.leading(l)));
        return led.size();
    }

    private static ObjectNode spread(Map<String, JsonNode> leaders) {
        ObjectNode s = JSON.createObjectNode();
        leaders.forEach((id, l) -> s.put(id, PartitionsBench.leading(l).size()));
        return s;
    }

    /** The node that says it is the active controller in the highest epoch, if any. */
    static Optional<String> controllerOf(Map<String, JsonNode> leaders) {
        String best = null;
        long epoch = 0;
        for (Map.Entry<String, JsonNode> e : leaders.entrySet()) {
            JsonNode ctl = e.getValue().path("controller");
            if (ctl.path("active").asBoolean(false) && ctl.path("epoch").asLong() > epoch) {
                best = e.getKey();
                epoch = ctl.path("epoch").asLong();
            }
        }
        return Optional.ofNullable(best);
    }

    private static long controllerEpoch(Map<String, JsonNode> leaders) {
        long epoch = 0;
        for (JsonNode l : leaders.values()) {
            epoch = Math.max(epoch, l.path("controller").path("epoch").asLong());
        }
        return epoch;
    }

    /** Waits (bounded) until every partition is led by its preferred replica; returns what the nodes said last. */
    private Map<String, JsonNode> awaitBalanced(PartitionsBench.Nodes nodes) throws Exception {
        long deadline = System.nanoTime() + c.balanceTimeout().toNanos();
        Map<String, JsonNode> leaders = nodes.leaders();
        while (!PartitionsBench.balanced(leaders, nodes.partitions) && System.nanoTime() < deadline) {
            Thread.sleep(POLL.toMillis()); // polling, with a deadline
            leaders = nodes.leaders();
        }
        return leaders;
    }

    // ---- faults ----

    enum Fault {
        SIGKILL,
        SIGTERM,
        CONTROLLER_SIGKILL
    }

    /**
     * One fault: waits until the leaders are spread as preferred, picks the victim, measures, then (if {@code
     * restart}) starts the victim again. After a SIGTERM of a node with the controller ({@code controller}), the
     * trial's {@code shutdown} object carries what the node's controlled shutdown took, as the node reported it
     * ({@link #shutdown}).
     */
    private ObjectNode fault(
            ZooKeeperProcessEnsemble zk,
            PartitionsBench.Nodes nodes,
            Fault fault,
            boolean restart,
            boolean controllerMode)
            throws Exception {
        ObjectNode o = JSON.createObjectNode();
        Map<String, JsonNode> leaders = awaitBalanced(nodes);
        o.put("balanced_before", PartitionsBench.balanced(leaders, nodes.partitions));
        Optional<String> controller = controllerOf(leaders);
        String victim;
        if (fault == Fault.CONTROLLER_SIGKILL) {
            if (controller.isEmpty()) {
                throw new IllegalStateException("no active controller among " + leaders.keySet());
            }
            victim = controller.get();
        } else {
            victim = null;
            for (String id : NODES) {
                if (controller.map(id::equals).orElse(false)) {
                    continue; // the controller's own failover is the third fault
                }
                if (victim == null
                        || PartitionsBench.leading(leaders.get(id)).size()
                                > PartitionsBench.leading(leaders.get(victim)).size()) {
                    victim = id;
                }
            }
        }
        Set<String> led = PartitionsBench.leading(leaders.get(victim));
        List<String> survivors = new ArrayList<>(NODES);
        survivors.remove(victim);
        long epochBefore = controllerEpoch(leaders);
        o.put("fault", fault.name());
        o.put("victim", victim);
        o.put("victim_led", led.size());
        o.put("controller_before", controller.orElse(""));
        o.put("controller_epoch_before", epochBefore);
        o.set("leaders_per_node_before", spread(leaders));
        for (String id : survivors) {
            nodes.post(id, "/watch?on=true", Duration.ofSeconds(5));
            nodes.post(id, "/leaders/reset", Duration.ofSeconds(5));
        }
        boolean writing = fault == Fault.SIGTERM;
        long intervalMs = Math.max(1, nodes.partitions * 1000L / c.writesPerSecond());
        if (writing) {
            for (String id : NODES) {
                nodes.post(id, "/writer?on=true&interval_ms=" + intervalMs, Duration.ofSeconds(5));
            }
            Thread.sleep(Math.max(1000, 2 * intervalMs)); // every partition has had writes before the fault
        }
        // The idle rate of requests, to subtract: pings and the library's periodic checks (with the writers on).
        // The idle rate of requests, to subtract (pings, the library's periodic checks, with the writers on), from a
        // quiet ensemble: the idle window is measured again until its rate is at most --controller-quiet-requests-per-s
        // (a node started again, or a previous run's clean-up, can keep the ensemble busy after the leaders are
        // spread), for at most QUIET_TIMEOUT.
        long quietStart = System.nanoTime();
        ZooKeeperCount idle0;
        ZooKeeperCount idle1;
        do {
            idle0 = ZooKeeperCount.sample(zk);
            Thread.sleep(c.idleWindow().toMillis());
            idle1 = ZooKeeperCount.sample(zk);
        } while (idle1.rate(idle0) > c.quietRequestsPerSecond()
                && System.nanoTime() - quietStart < QUIET_TIMEOUT.toNanos());
        o.put(
                "quiet_wait_ms",
                (System.nanoTime() - quietStart) / 1_000_000 - c.idleWindow().toMillis());
        o.put("quiet", idle1.rate(idle0) <= c.quietRequestsPerSecond());
        long[] nodeOpsBefore = nodeCounts(nodes, survivors);
        if (writing) {
            for (String id : NODES) {
                nodes.post(id, "/writer/reset", Duration.ofSeconds(5));
            }
        }
        ZooKeeperCount before = ZooKeeperCount.sample(zk);
        long signalMillis = System.currentTimeMillis();
        long signalNanos = System.nanoTime();
        b.say(
                "controller: %s of %s, which leads %d of %d partitions (controller %s)",
                fault == Fault.SIGTERM ? "SIGTERM" : "SIGKILL",
                victim,
                led.size(),
                nodes.partitions,
                controller.orElse("none"));
        if (fault == Fault.SIGTERM) {
            nodes.process(victim).terminate();
        } else {
            nodes.process(victim).kill();
        }
        // Until every partition the victim led has a new leader (and, for the controller, a new controller is active).
        long until = signalNanos
                + Duration.ofMillis(c.sessionTimeoutMs()).plusSeconds(60).toNanos();
        Map<String, JsonNode> after = new LinkedHashMap<>();
        Map<String, Long> first = Map.of();
        Optional<String> newController = Optional.empty();
        long movedNanos = -1;
        while (System.nanoTime() < until) {
            after.clear();
            for (String id : survivors) {
                after.put(id, nodes.get(id, "/leaders"));
            }
            first = PartitionsBench.firstLed(after);
            newController = controllerOf(after)
                    .filter(id -> after.get(id).path("controller").path("epoch").asLong() > epochBefore);
            boolean controllerDone = fault != Fault.CONTROLLER_SIGKILL || newController.isPresent();
            if (first.keySet().containsAll(led) && controllerDone) {
                movedNanos = System.nanoTime();
                break;
            }
            Thread.sleep(POLL.toMillis()); // polling, with a deadline
        }
        long exitMillis = -1;
        if (fault == Fault.SIGTERM) {
            try {
                int code = nodes.process(victim).awaitExit(Duration.ofSeconds(30));
                exitMillis = System.currentTimeMillis() - signalMillis;
                o.put("exit_code", code);
            } catch (java.util.concurrent.TimeoutException e) {
                b.unclean();
            }
            if (controllerMode) {
                Optional<JsonNode> report = nodeReport(
                        nodes.dataDir(victim),
                        nodes.logFile(victim),
                        NodeProcessMain.SHUTDOWN_FILE,
                        NodeProcessMain.SHUTDOWN_PREFIX);
                o.set("shutdown", shutdown(report, signalMillis));
                if (report.isEmpty()) {
                    b.unclean();
                }
            }
        }
        // The window ends once the failover is done and the victim's session is gone, plus the tail.
        long sessionGone = fault == Fault.SIGTERM
                ? signalNanos + Math.max(0, exitMillis) * 1_000_000L
                : signalNanos + (c.sessionTimeoutMs() + 1000L) * 1_000_000L;
        long windowEnd = Math.max(Math.max(movedNanos, sessionGone), System.nanoTime())
                + c.zooKeeperTail().toNanos();
        Thread.sleep(Math.max(0, (windowEnd - System.nanoTime()) / 1_000_000));
        ZooKeeperCount afterCount = ZooKeeperCount.sample(zk);
        long[] nodeOpsAfter = nodeCounts(nodes, survivors);

        List<Long> times = new ArrayList<>();
        for (String p : led) {
            Long t = first.get(p);
            if (t != null) {
                times.add(Math.max(0, t - signalMillis));
            }
        }
        Collections.sort(times);
        o.put("new_leaders", times.size());
        o.put("without_new_leader", led.size() - times.size());
        if (!times.isEmpty()) {
            o.put("p50_ms", PartitionsBench.percentile(times, 50));
            o.put("p90_ms", PartitionsBench.percentile(times, 90));
            o.put("max_ms", times.get(times.size() - 1));
            o.put("min_ms", times.get(0));
        }
        if (times.size() < led.size()) {
            b.unclean();
        }
        if (exitMillis >= 0) {
            o.put("process_exit_ms", exitMillis);
        }
        if (fault != Fault.SIGTERM) {
            // When the surviving nodes heard the victim's registration end (its session expired): the first step of
            // the failover, which the rest (the controller's writes and assignments, the promise rounds) follows.
            long heard = Long.MAX_VALUE;
            for (JsonNode n : after.values()) {
                long at = n.path("controller").path("node_lost_at_ms").asLong(0);
                if (at >= signalMillis) {
                    heard = Math.min(heard, at - signalMillis);
                }
            }
            if (heard != Long.MAX_VALUE) {
                o.put("registration_end_heard_ms", heard);
            }
            // The active controller's writes and assignments after it (its last round of writes).
            for (JsonNode n : after.values()) {
                JsonNode w = n.path("controller").path("last_write_round");
                if (w.path("started_at_ms").asLong(0) >= signalMillis) {
                    ObjectNode r = o.putObject("write_round");
                    r.put("partitions", w.path("partitions").asInt());
                    r.put("assignments", w.path("assignments").asInt());
                    r.put("started_ms", w.path("started_at_ms").asLong() - signalMillis);
                    r.put("written_ms", w.path("written_at_ms").asLong() - signalMillis);
                    r.put("sent_ms", w.path("sent_at_ms").asLong() - signalMillis);
                }
            }
        }
        if (fault == Fault.CONTROLLER_SIGKILL) {
            if (newController.isPresent()) {
                JsonNode ctl = after.get(newController.get()).path("controller");
                o.put("new_controller", newController.get());
                o.put("new_controller_epoch", ctl.path("epoch").asLong());
                o.put(
                        "new_controller_active_ms",
                        Math.max(0, ctl.path("active_since_ms").asLong() - signalMillis));
            } else {
                b.unclean();
            }
        }
        ObjectNode z = o.putObject("zookeeper");
        double windowS = (afterCount.atNanos - before.atNanos) / 1e9;
        double idleS = (idle1.atNanos - idle0.atNanos) / 1e9;
        double idleRate = idle1.requestsSince(idle0) / idleS;
        double idleTxRate = (idle1.zxidCounter - idle0.zxidCounter) / idleS;
        z.put("window_ms", Math.round(windowS * 1000));
        z.put("requests", afterCount.requestsSince(before));
        z.put("idle_requests_per_s", ProcessBench.round(idleRate));
        z.put("requests_net", Math.round(afterCount.requestsSince(before) - idleRate * windowS));
        boolean sameEpoch = afterCount.zxidEpoch == before.zxidEpoch && idle0.zxidEpoch == idle1.zxidEpoch;
        z.put("transactions", sameEpoch ? afterCount.zxidCounter - before.zxidCounter : -1);
        z.put("idle_transactions_per_s", ProcessBench.round(idleTxRate));
        z.put(
                "transactions_net",
                sameEpoch ? Math.round(afterCount.zxidCounter - before.zxidCounter - idleTxRate * windowS) : -1);
        double idleWriteRate = (idle1.writes - idle0.writes) / idleS;
        z.put("client_writes", afterCount.writes - before.writes);
        z.put("idle_client_writes_per_s", ProcessBench.round(idleWriteRate));
        z.put("client_writes_net", Math.round(afterCount.writes - before.writes - idleWriteRate * windowS));
        z.put("survivors_curator_operations", nodeOpsAfter[0] - nodeOpsBefore[0]);
        z.put("controller_round_trips", nodeOpsAfter[1] - nodeOpsBefore[1]);
        if (!led.isEmpty()) {
            z.put(
                    "requests_net_per_moved_partition",
                    ProcessBench.round(z.path("requests_net").asDouble() / led.size()));
        }

        if (writing) {
            o.set("writes", writes(nodes, victim, survivors, intervalMs));
        }
        b.say(
                "controller: %d of %d partitions got a new leader; p50 %d ms, max %d ms%s%s%s; ZooKeeper: %d requests (%d"
                        + " net of idle), %d client writes, %d transactions in %.1f s%s",
                times.size(),
                led.size(),
                o.path("p50_ms").asLong(-1),
                o.path("max_ms").asLong(-1),
                o.has("shutdown") ? "; " + o.path("shutdown").path("summary").asText() : "",
                o.has("registration_end_heard_ms")
                        ? "; its registration's end heard after "
                                + o.path("registration_end_heard_ms").asLong() + " ms (first new leader "
                                + o.path("min_ms").asLong(-1) + " ms; states written "
                                + o.path("write_round").path("started_ms").asLong(-1) + "–"
                                + o.path("write_round").path("written_ms").asLong(-1) + " ms, assignments sent "
                                + o.path("write_round").path("written_ms").asLong(-1) + "–"
                                + o.path("write_round").path("sent_ms").asLong(-1) + " ms)"
                        : "",
                fault == Fault.CONTROLLER_SIGKILL
                        ? "; new controller " + o.path("new_controller").asText("none") + " active after "
                                + o.path("new_controller_active_ms").asLong(-1) + " ms"
                        : "",
                z.path("requests").asLong(),
                z.path("requests_net").asLong(),
                z.path("client_writes").asLong(),
                z.path("transactions").asLong(),
                windowS,
                writing ? "; writes " + o.path("writes").path("summary") : "");

        if (restart) {
            if (nodes.process(victim).isAlive()) {
                nodes.process(victim).awaitExit(Duration.ofSeconds(30));
            }
            nodes.launch(victim);
            nodes.awaitControl(victim); // the next fault waits until the leaders are spread again
        }
        return o;
    }

    /** The surviving nodes' Curator-traced ZooKeeper operations and their controllers' state store requests. */
    private static long[] nodeCounts(PartitionsBench.Nodes nodes, List<String> ids) throws Exception {
        long curator = 0;
        long controller = 0;
        for (String id : ids) {
            JsonNode s = nodes.get(id, "/stats");
            for (JsonNode op : s.path("zookeeper_operations")) {
                curator += op.path("count").asLong();
            }
            controller += s.path("controller").path("round_trips").asLong();
        }
        return new long[] {curator, controller};
    }

    /**
     * The writes that ended between the signal and now: the survivors' writers and the victim's (its {@code WRITER}
     * line at exit); then, after the writers wrote every partition once more, how many partitions had a write
     * committed. Switches the writers off.
     */
    private ObjectNode writes(PartitionsBench.Nodes nodes, String victim, List<String> survivors, long intervalMs)
            throws Exception {
        ObjectNode w = JSON.createObjectNode();
        w.put("interval_ms_per_partition", intervalMs);
        List<JsonNode> counts = new ArrayList<>();
        for (String id : survivors) {
            counts.add(nodes.post(id, "/writer/reset", Duration.ofSeconds(5)));
        }
        Optional<JsonNode> victimCounts = nodeReport(
                nodes.dataDir(victim),
                nodes.logFile(victim),
                NodeProcessMain.Writer.FILE,
                NodeProcessMain.Writer.PREFIX);
        victimCounts.ifPresent(counts::add);
        w.put("victim_counts_read", victimCounts.isPresent());
        long committed = 0;
        long committedAfterRetry = 0;
        long retried = 0;
        long refusals = 0;
        long definite = 0;
        long unknown = 0;
        long other = 0;
        ObjectNode kinds = w.putObject("failures");
        ObjectNode refusedKinds = w.putObject("refusals_by_kind");
        for (JsonNode n : counts) {
            committed += n.path("committed").asLong();
            committedAfterRetry += n.path("committed_after_retry").asLong();
            retried += n.path("retried").asLong();
            for (Map.Entry<String, JsonNode> e : n.path("refused").properties()) {
                refusals += e.getValue().asLong();
                refusedKinds.put(
                        e.getKey(),
                        refusedKinds.path(e.getKey()).asLong() + e.getValue().asLong());
            }
            for (String k : List.of("definite", "unknown", "other")) {
                for (Map.Entry<String, JsonNode> e : n.path(k).properties()) {
                    long v = e.getValue().asLong();
                    ObjectNode byKind = kinds.withObjectProperty(k);
                    byKind.put(e.getKey(), byKind.path(e.getKey()).asLong() + v);
                    switch (k) {
                        case "definite" -> definite += v;
                        case "unknown" -> unknown += v;
                        default -> other += v;
                    }
                }
            }
        }
        w.put("committed", committed);
        w.put("committed_after_retry", committedAfterRetry);
        w.put("retried", retried);
        w.put("refusals", refusals);
        w.put("definite_failures", definite);
        w.put("unknown_outcomes", unknown);
        w.put("other_failures", other);
        Thread.sleep(2 * intervalMs + 500); // every partition is written once more, on its new leader
        Set<String> written = new HashSet<>();
        for (String id : survivors) {
            JsonNode n = nodes.post(id, "/writer?on=false", Duration.ofSeconds(5));
            n.path("written").forEach(p -> written.add(p.asText()));
        }
        w.put("partitions_written_after", written.size());
        w.put(
                "summary",
                String.format(
                        Locale.ROOT,
                        "%d committed (%d after a retry), %d refusals (%d writes retried), %d definite failures, %d"
                                + " unknown outcomes, %d other; %d of %d partitions written after",
                        committed,
                        committedAfterRetry,
                        refusals,
                        retried,
                        definite,
                        unknown,
                        other,
                        written.size(),
                        nodes.partitions));
        if (victimCounts.isEmpty()) {
            List<String> tail = new ArrayList<>();
            Path log = nodes.logFile(victim);
            if (Files.exists(log)) {
                List<String> all = Files.readAllLines(log);
                tail.addAll(all.subList(Math.max(0, all.size() - 15), all.size()));
            }
            b.say(
                    "controller: no WRITER line from %s in %s; its log ends with:%n  %s",
                    victim, log, String.join("\n  ", tail));
        }
        if (definite + other + unknown + refusals > 0 || !victimCounts.isPresent()) {
            b.say(
                    "controller: writes that did not commit at first during the SIGTERM: refusals %s; finally %s",
                    refusedKinds, kinds);
        }
        return w;
    }

    /**
     * What the stopped node reported of its controlled shutdown ({@link NodeProcessMain}'s {@code SHUTDOWN} line),
     * relative to the signal: {@code hook_ms} (when its shutdown hook started), {@code drained}, {@code drain_ms},
     * {@code still_in_flight} (drained partitions with proposals still in flight at the drain's end), {@code moved},
     * {@code move_ms} (asking the controller until it reported the leaderships moved), {@code left_leading}, {@code
     * taken_over} and {@code take_over_ms} (the drained partitions whose new leader took over before the node closed
     * them, and how long it waited for that), {@code close_ms} (closing the rest) and {@code closed_ms} (when the node was closed); the field "reported" false (and
     * nothing else) if no report came.
     */
    static ObjectNode shutdown(Optional<JsonNode> report, long signalMillis) {
        ObjectNode s = JSON.createObjectNode();
        boolean reported = report.isPresent() && report.get().path("reported").asBoolean(false);
        s.put("reported", reported);
        if (!reported) {
            s.put("summary", "no shutdown report from the node");
            return s;
        }
        JsonNode r = report.get();
        s.put("hook_ms", r.path("hook_started_at_ms").asLong() - signalMillis);
        s.put("drained", r.path("drained").asInt());
        s.put("drain_ms", r.path("drain_ms").asLong());
        s.put("still_in_flight", r.path("still_in_flight").asInt());
        s.put("moved", r.path("moved").asBoolean());
        s.put("move_ms", r.path("move_ms").asLong());
        s.put("left_leading", r.path("left_leading").asInt());
        s.put("taken_over", r.path("taken_over").asInt());
        s.put("take_over_ms", r.path("take_over_ms").asLong());
        s.put("close_ms", r.path("close_ms").asLong());
        s.put("closed_ms", r.path("closed_at_ms").asLong() - signalMillis);
        s.put(
                "summary",
                String.format(
                        Locale.ROOT,
                        "hook after %d ms, drained %d partitions in %d ms (%d still in flight), the controller %s in"
                                + " %d ms (%d left), %d taken over by their new leaders in %d ms, closed %d ms later",
                        s.path("hook_ms").asLong(),
                        s.path("drained").asInt(),
                        s.path("drain_ms").asLong(),
                        s.path("still_in_flight").asInt(),
                        s.path("moved").asBoolean() ? "moved its leaderships" : "did not report the move done",
                        s.path("move_ms").asLong(),
                        s.path("left_leading").asInt(),
                        s.path("taken_over").asInt(),
                        s.path("take_over_ms").asLong(),
                        s.path("close_ms").asLong()));
        return s;
    }

    /**
     * What a node's shutdown hook wrote to {@code DATA_DIR/<fileName>} when SIGTERM closed it (the file is then
     * deleted, so that a later trial does not read it again), else its line starting with {@code prefix} in its log;
     * empty if neither came within 5 s.
     */
    private static Optional<JsonNode> nodeReport(Path dataDir, Path log, String fileName, String prefix)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        Path file = dataDir.resolve(fileName);
        while (true) {
            if (Files.exists(file)) {
                JsonNode counts = JSON.readTree(Files.readString(file));
                Files.delete(file);
                return Optional.of(counts);
            }
            if (Files.exists(log)) {
                try (java.util.stream.Stream<String> lines = Files.lines(log)) {
                    Optional<String> line =
                            lines.filter(l -> l.startsWith(prefix)).findFirst();
                    if (line.isPresent()) {
                        return Optional.of(JSON.readTree(line.get().substring(prefix.length())));
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                return Optional.empty();
            }
            Thread.sleep(100); // the node's hook writes the file as it exits; bounded
        }
    }

    // ---- ZooKeeper's counters ----

    /**
     * The ensemble's counters at one moment, summed over the servers: {@code srvr}'s {@code Received} (every request
     * a client sent the server, pings and the four-letter words included), {@code mntr}'s {@code zk_cnt_updatelatency}
     * (the write requests of the server's own clients: ZooKeeper records a request's latency on the server it came
     * in through, and a write's only there; a {@code multi} is one; the servers' own requests, such as deleting empty
     * containers, are not counted), and the highest {@code Zxid} (epoch and counter: every transaction, the servers'
     * own included).
     */
    static final class ZooKeeperCount {
        final long received;
        final int servers;
        final long writes;
        final long zxidEpoch;
        final long zxidCounter;
        final long atNanos;

        private ZooKeeperCount(
                long received, int servers, long writes, long zxidEpoch, long zxidCounter, long atNanos) {
            this.received = received;
            this.servers = servers;
            this.writes = writes;
            this.zxidEpoch = zxidEpoch;
            this.zxidCounter = zxidCounter;
            this.atNanos = atNanos;
        }

        static ZooKeeperCount sample(ZooKeeperProcessEnsemble zk) throws IOException {
            long received = 0;
            long writes = 0;
            long zxid = -1;
            for (int s = 1; s <= zk.servers(); s++) {
                String answer = ZooKeeperProcessEnsemble.srvr(zk.clientPort(s), 2000)
                        .orElseThrow(() -> new IOException("a ZooKeeper server did not answer srvr"));
                received += field(answer, "Received:");
                zxid = Math.max(zxid, field(answer, "Zxid:"));
                writes += mntr(zk.clientPort(s), "zk_cnt_updatelatency");
            }
            return new ZooKeeperCount(
                    received, zk.servers(), writes, zxid >>> 32, zxid & 0xffffffffL, System.nanoTime());
        }

        /**
         * The requests the clients sent between {@code earlier} and this: the {@code Received} difference less this
         * class's own four-letter words, which the servers count too (each server got a {@code mntr} after {@code
         * earlier}'s {@code srvr} and this one's {@code srvr}).
         */
        long requestsSince(ZooKeeperCount earlier) {
            return received - earlier.received - 2L * servers;
        }

        /** Requests per second between {@code earlier} and this. */
        double rate(ZooKeeperCount earlier) {
            return requestsSince(earlier) / ((atNanos - earlier.atNanos) / 1e9);
        }

        /** One numeric field of a server's {@code mntr} answer. */
        private static long mntr(int clientPort, String key) throws IOException {
            String answer;
            try {
                answer = org.apache.zookeeper.client.FourLetterWordMain.send4LetterWord(
                        ZooKeeperProcessEnsemble.LOOPBACK, clientPort, "mntr", false, 2000);
            } catch (org.apache.zookeeper.common.X509Exception.SSLContextException e) {
                throw new IOException(e);
            }
            for (String line : answer.lines().toList()) {
                List<String> kv = com.google.common.base.Splitter.on('\t').splitToList(line);
                if (kv.size() == 2 && kv.get(0).equals(key)) {
                    return (long) Double.parseDouble(kv.get(1).strip());
                }
            }
            throw new IOException("no " + key + " in mntr's answer");
        }

        /** The number after {@code name} on its line of a {@code srvr} answer (hexadecimal after 0x). */
        static long field(String srvr, String name) throws IOException {
            for (String line : srvr.lines().map(String::strip).toList()) {
                if (line.startsWith(name)) {
                    String v = line.substring(name.length()).strip();
                    return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
                }
            }
            throw new IOException("no " + name + " in srvr's answer: " + srvr);
        }
    }

    // ---- summaries and targets ----

    private void summarize(ObjectNode r) {
        ObjectNode s = r.putObject("summary");
        for (String part : List.of("sigkill", "sigterm", "controller_sigkill")) {
            JsonNode trials = r.path(part);
            if (trials.isEmpty()) {
                continue;
            }
            ObjectNode p = s.putObject(part);
            List<Double> p50 = new ArrayList<>();
            List<Double> max = new ArrayList<>();
            List<Double> requests = new ArrayList<>();
            List<Double> transactions = new ArrayList<>();
            List<Double> raw = new ArrayList<>();
            List<Double> writes = new ArrayList<>();
            List<Double> controllerTrips = new ArrayList<>();
            List<Double> active = new ArrayList<>();
            List<Double> heard = new ArrayList<>();
            List<Double> heardToLast = new ArrayList<>();
            int without = 0;
            long definite = 0;
            long unknown = 0;
            long other = 0;
            long committed = 0;
            long committedAfterRetry = 0;
            long refusals = 0;
            int victimLed = 0;
            for (JsonNode t : trials) {
                p50.add(t.path("p50_ms").asDouble(Double.NaN));
                max.add(t.path("max_ms").asDouble(Double.NaN));
                requests.add(t.path("zookeeper").path("requests_net").asDouble());
                transactions.add(t.path("zookeeper").path("transactions_net").asDouble());
                raw.add(t.path("zookeeper").path("requests").asDouble());
                writes.add(t.path("zookeeper").path("client_writes").asDouble());
                controllerTrips.add(
                        t.path("zookeeper").path("controller_round_trips").asDouble());
                without += t.path("without_new_leader").asInt();
                victimLed = Math.max(victimLed, t.path("victim_led").asInt());
                if (t.has("new_controller_active_ms")) {
                    active.add(t.path("new_controller_active_ms").asDouble());
                }
                if (t.has("registration_end_heard_ms")) {
                    heard.add(t.path("registration_end_heard_ms").asDouble());
                    heardToLast.add(t.path("max_ms").asDouble()
                            - t.path("registration_end_heard_ms").asDouble());
                }
                if (t.has("writes")) {
                    definite += t.path("writes").path("definite_failures").asLong();
                    unknown += t.path("writes").path("unknown_outcomes").asLong();
                    other += t.path("writes").path("other_failures").asLong();
                    committed += t.path("writes").path("committed").asLong();
                    committedAfterRetry +=
                            t.path("writes").path("committed_after_retry").asLong();
                    refusals += t.path("writes").path("refusals").asLong();
                }
            }
            p.put("trials", trials.size());
            p.put("victim_led_max", victimLed);
            p.put("without_new_leader", without);
            p.put("p50_ms_median", median(p50));
            p.put("max_ms_max", maxOf(max));
            if (!heard.isEmpty()) {
                p.put("registration_end_heard_ms_median", median(heard));
                p.put("registration_end_heard_ms_max", maxOf(heard));
                p.put("heard_to_last_new_leader_ms_median", median(heardToLast));
                p.put("heard_to_last_new_leader_ms_max", maxOf(heardToLast));
            }
            p.put("max_ms_min", minOf(max));
            p.put("requests_net_median", median(requests));
            p.put("requests_net_min", minOf(requests));
            p.put("requests_net_max", maxOf(requests));
            p.put("transactions_net_median", median(transactions));
            p.put("requests_median", median(raw));
            p.put("requests_min", minOf(raw));
            p.put("requests_max", maxOf(raw));
            p.put("client_writes_median", median(writes));
            p.put("controller_round_trips_median", median(controllerTrips));
            p.put("controller_round_trips_max", maxOf(controllerTrips));
            if (!active.isEmpty()) {
                p.put("new_controller_active_ms_median", median(active));
                p.put("new_controller_active_ms_max", maxOf(active));
            }
            if (part.equals("sigterm")) {
                shutdownSummary(trials, p);
                p.put("writes_committed", committed);
                p.put("writes_committed_after_retry", committedAfterRetry);
                p.put("writes_refusals", refusals);
                p.put("writes_definite_failures", definite);
                p.put("writes_unknown_outcomes", unknown);
                p.put("writes_other_failures", other);
            }
        }
    }

    /**
     * The SIGTERM trials' process exits and, where the node reported its controlled shutdown, its phases: the
     * median and the largest drain, move and hook start, and the partitions still in flight at a drain's end, summed.
     */
    static void shutdownSummary(JsonNode trials, ObjectNode p) {
        List<Double> exit = new ArrayList<>();
        List<Double> hook = new ArrayList<>();
        List<Double> drain = new ArrayList<>();
        List<Double> move = new ArrayList<>();
        List<Double> takeOver = new ArrayList<>();
        List<Double> close = new ArrayList<>();
        int reports = 0;
        int notTakenOver = 0;
        int inFlight = 0;
        int notMoved = 0;
        for (JsonNode t : trials) {
            exit.add(t.path("process_exit_ms").asDouble(Double.NaN));
            JsonNode sd = t.path("shutdown");
            if (sd.path("reported").asBoolean(false)) {
                reports++;
                hook.add(sd.path("hook_ms").asDouble());
                drain.add(sd.path("drain_ms").asDouble());
                move.add(sd.path("move_ms").asDouble());
                takeOver.add(sd.path("take_over_ms").asDouble());
                close.add(sd.path("close_ms").asDouble());
                notTakenOver +=
                        sd.path("drained").asInt() - sd.path("taken_over").asInt();
                inFlight += sd.path("still_in_flight").asInt();
                notMoved += sd.path("moved").asBoolean() ? 0 : 1;
            }
        }
        p.put("process_exit_ms_median", median(exit));
        p.put("process_exit_ms_max", maxOf(exit));
        if (reports > 0) {
            p.put("shutdown_reports", reports);
            p.put("hook_ms_max", maxOf(hook));
            p.put("drain_ms_median", median(drain));
            p.put("drain_ms_max", maxOf(drain));
            p.put("still_in_flight_after_drain", inFlight);
            p.put("move_ms_median", median(move));
            p.put("move_ms_max", maxOf(move));
            p.put("moves_not_reported_done", notMoved);
            p.put("take_over_ms_median", median(takeOver));
            p.put("take_over_ms_max", maxOf(takeOver));
            p.put("not_taken_over_before_close", notTakenOver);
            p.put("close_ms_median", median(close));
            p.put("close_ms_max", maxOf(close));
        }
    }

    private static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values.stream().filter(x -> !x.isNaN()).toList());
        if (v.isEmpty()) {
            return -1;
        }
        Collections.sort(v);
        return ProcessBench.median(v);
    }

    private static double maxOf(List<Double> values) {
        return values.stream().filter(x -> !x.isNaN()).mapToDouble(x -> x).max().orElse(-1);
    }

    private static double minOf(List<Double> values) {
        return values.stream().filter(x -> !x.isNaN()).mapToDouble(x -> x).min().orElse(-1);
    }

    /** The run of {@code mode} with {@code partitions}, if it ran without error. */
    private static Optional<JsonNode> run(JsonNode o, String mode, int partitions) {
        for (JsonNode r : o.path("runs")) {
            if (r.path("mode").asText().equals(mode) && r.path("partitions").asInt() == partitions && !r.has("error")) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private void targets(ObjectNode o) {
        if (c.trials() == 0) {
            return; // the start only: no fault measured
        }
        ObjectNode t = o.putObject("targets");
        long bound = c.sessionTimeoutMs() + 1000L;
        int largest = Collections.max(c.partitionCounts());
        int smallest = Collections.min(c.partitionCounts());
        t.put("at_partitions", largest);
        for (String mode : c.modes()) {
            Optional<JsonNode> r = run(o, mode, largest);
            if (r.isEmpty()) {
                continue;
            }
            ObjectNode m = t.putObject(mode);
            JsonNode k = r.get().path("summary").path("sigkill");
            m.put(
                    "sigkill_every_partition_led_within_session_plus_1_s",
                    k.path("without_new_leader").asInt(1) == 0
                            && k.path("max_ms_max").asDouble(Double.MAX_VALUE) >= 0
                            && k.path("max_ms_max").asDouble(Double.MAX_VALUE) <= bound);
            Optional<JsonNode> small = run(o, mode, smallest);
            if (small.isPresent() && largest > smallest) {
                // The SIGKILL windows are of one length at every partition count (session timeout + 1 s + tail):
                // the requests in them, pings included, are compared as they are.
                double a = small.get()
                        .path("summary")
                        .path("sigkill")
                        .path("requests_median")
                        .asDouble();
                double z = k.path("requests_median").asDouble();
                double ratio = a > 0 ? z / a : -1;
                m.put("sigkill_requests_ratio", ProcessBench.round(ratio));
                m.put("partitions_ratio", ProcessBench.round((double) largest / smallest));
                m.put("sigkill_requests_grow_sublinearly", ratio > 0 && ratio < (double) largest / smallest);
            }
            JsonNode term = r.get().path("summary").path("sigterm");
            m.put(
                    "sigterm_all_moved_under_2_s",
                    term.path("without_new_leader").asInt(1) == 0
                            && term.path("max_ms_max").asDouble(Double.MAX_VALUE) >= 0
                            && term.path("max_ms_max").asDouble(Double.MAX_VALUE) < 2000);
            m.put(
                    "sigterm_no_write_failed_with_a_definite_error",
                    term.path("writes_definite_failures").asLong(1) == 0
                            && term.path("writes_other_failures").asLong(1) == 0);
            JsonNode ctl = r.get().path("summary").path("controller_sigkill");
            if (!ctl.isMissingNode()) {
                m.put(
                        "controller_failover_within_session_plus_1_s",
                        ctl.path("new_controller_active_ms_max").asDouble(Double.MAX_VALUE) >= 0
                                && ctl.path("new_controller_active_ms_max").asDouble(Double.MAX_VALUE) <= bound);
            }
        }
    }

    // ---- output ----

    static void print(JsonNode result, PrintWriter out) {
        if (!result.has("controller")) {
            return;
        }
        JsonNode o = result.path("controller");
        out.printf(
                Locale.ROOT,
                "%ncontroller vs elections (3 node processes, 3 replicas per partition, preferredSpread; session timeout"
                        + " %d ms, bound %d ms; %d trials; node heap %s; controller rebalance %d ms):%n",
                o.path("session_timeout_ms").asInt(),
                o.path("bound_ms").asLong(),
                o.path("trials").asInt(),
                o.path("node_heap").asText(),
                o.path("rebalance_ms").asInt());
        List<JsonNode> runs = new ArrayList<>();
        o.path("runs").forEach(runs::add);
        runs.sort((x, y) -> x.path("partitions").asInt() != y.path("partitions").asInt()
                ? Integer.compare(
                        x.path("partitions").asInt(), y.path("partitions").asInt())
                : Integer.compare(
                        MODES.indexOf(x.path("mode").asText()),
                        MODES.indexOf(y.path("mode").asText())));
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "  %-44s", ""));
        for (JsonNode r : runs) {
            header.append(String.format(
                    Locale.ROOT,
                    " | %22s",
                    r.path("mode").asText() + " " + r.path("partitions").asInt()));
        }
        out.println(header);
        row(
                out,
                runs,
                "all led / preferred leaders after launch (s)",
                r -> String.format(
                        Locale.ROOT,
                        "%.1f / %.1f",
                        r.path("start").path("seconds_to_all_led").asDouble(-1),
                        r.path("start").path("seconds_to_preferred_leaders").asDouble(-1)));
        if (o.path("trials").asInt() == 0) {
            return; // the start only
        }
        row(
                out,
                runs,
                "SIGKILL: partitions the node led (max)",
                r -> s(r, "sigkill").path("victim_led_max").asText());
        row(
                out,
                runs,
                "SIGKILL: new leader p50 (median) / p100 (max)",
                r -> String.format(
                        Locale.ROOT,
                        "%.0f / %.0f ms",
                        s(r, "sigkill").path("p50_ms_median").asDouble(-1),
                        s(r, "sigkill").path("max_ms_max").asDouble(-1)));
        row(
                out,
                runs,
                "SIGKILL: ZooKeeper requests (median, range)",
                r -> String.format(
                        Locale.ROOT,
                        "%.0f (%.0f-%.0f)",
                        s(r, "sigkill").path("requests_median").asDouble(-1),
                        s(r, "sigkill").path("requests_min").asDouble(-1),
                        s(r, "sigkill").path("requests_max").asDouble(-1)));
        row(
                out,
                runs,
                "SIGKILL: requests net of idle / client writes",
                r -> String.format(
                        Locale.ROOT,
                        "%.0f / %.0f",
                        s(r, "sigkill").path("requests_net_median").asDouble(-1),
                        s(r, "sigkill").path("client_writes_median").asDouble(-1)));
        row(
                out,
                runs,
                "SIGKILL: controller's own requests (median)",
                r -> String.format(
                        Locale.ROOT,
                        "%.0f",
                        s(r, "sigkill").path("controller_round_trips_median").asDouble(-1)));
        row(
                out,
                runs,
                "SIGTERM: partitions the node led (max)",
                r -> s(r, "sigterm").path("victim_led_max").asText());
        row(
                out,
                runs,
                "SIGTERM: moved p50 (median) / p100 (max)",
                r -> String.format(
                        Locale.ROOT,
                        "%.0f / %.0f ms",
                        s(r, "sigterm").path("p50_ms_median").asDouble(-1),
                        s(r, "sigterm").path("max_ms_max").asDouble(-1)));
        row(
                out,
                runs,
                "SIGTERM: drain / move (median; max) ms",
                r -> s(r, "sigterm").has("shutdown_reports")
                        ? String.format(
                                Locale.ROOT,
                                "%.0f / %.0f; %.0f / %.0f",
                                s(r, "sigterm").path("drain_ms_median").asDouble(-1),
                                s(r, "sigterm").path("move_ms_median").asDouble(-1),
                                s(r, "sigterm").path("drain_ms_max").asDouble(-1),
                                s(r, "sigterm").path("move_ms_max").asDouble(-1))
                        : "-");
        row(
                out,
                runs,
                "SIGTERM: in flight after drain / exit (max)",
                r -> String.format(
                        Locale.ROOT,
                        "%s / %.1f s",
                        s(r, "sigterm").has("shutdown_reports")
                                ? s(r, "sigterm")
                                        .path("still_in_flight_after_drain")
                                        .asText()
                                : "-",
                        s(r, "sigterm").path("process_exit_ms_max").asDouble(-1) / 1e3));
        row(
                out,
                runs,
                "SIGTERM: writes ok / definite / unknown / other",
                r -> String.format(
                        Locale.ROOT,
                        "%d/%d/%d/%d",
                        s(r, "sigterm").path("writes_committed").asLong(),
                        s(r, "sigterm").path("writes_definite_failures").asLong(),
                        s(r, "sigterm").path("writes_unknown_outcomes").asLong(),
                        s(r, "sigterm").path("writes_other_failures").asLong()));
        row(
                out,
                runs,
                "SIGTERM: refusals / committed after a retry",
                r -> String.format(
                        Locale.ROOT,
                        "%d / %d",
                        s(r, "sigterm").path("writes_refusals").asLong(),
                        s(r, "sigterm").path("writes_committed_after_retry").asLong()));
        row(
                out,
                runs,
                "SIGTERM: controller requests (median / max)",
                r -> String.format(
                        Locale.ROOT,
                        "%.0f / %.0f",
                        s(r, "sigterm").path("controller_round_trips_median").asDouble(-1),
                        s(r, "sigterm").path("controller_round_trips_max").asDouble(-1)));
        row(
                out,
                runs,
                "SIGTERM: ZooKeeper requests / client writes",
                r -> String.format(
                        Locale.ROOT,
                        "%.0f / %.0f",
                        s(r, "sigterm").path("requests_median").asDouble(-1),
                        s(r, "sigterm").path("client_writes_median").asDouble(-1)));
        row(
                out,
                runs,
                "controller SIGKILL: new controller active (max)",
                r -> s(r, "controller_sigkill").isMissingNode()
                        ? "-"
                        : String.format(
                                Locale.ROOT,
                                "%.0f ms",
                                s(r, "controller_sigkill")
                                        .path("new_controller_active_ms_max")
                                        .asDouble(-1)));
        row(
                out,
                runs,
                "controller SIGKILL: its partitions p100 (max)",
                r -> s(r, "controller_sigkill").isMissingNode()
                        ? "-"
                        : String.format(
                                Locale.ROOT,
                                "%.0f ms",
                                s(r, "controller_sigkill").path("max_ms_max").asDouble(-1)));
        row(
                out,
                runs,
                "controller SIGKILL: requests / client writes",
                r -> s(r, "controller_sigkill").isMissingNode()
                        ? "-"
                        : String.format(
                                Locale.ROOT,
                                "%.0f / %.0f",
                                s(r, "controller_sigkill")
                                        .path("requests_median")
                                        .asDouble(-1),
                                s(r, "controller_sigkill")
                                        .path("client_writes_median")
                                        .asDouble(-1)));
        for (JsonNode r : runs) {
            int n = 0;
            for (JsonNode t : r.path("sigterm")) {
                n++;
                JsonNode sd = t.path("shutdown");
                out.printf(
                        Locale.ROOT,
                        "  %s %d SIGTERM %d: moved p50 / p100 %d / %d ms, exit %.1f s%s; writes %d committed, %d"
                                + " definite, %d unknown%n",
                        r.path("mode").asText(),
                        r.path("partitions").asInt(),
                        n,
                        t.path("p50_ms").asLong(-1),
                        t.path("max_ms").asLong(-1),
                        t.path("process_exit_ms").asLong(-1) / 1e3,
                        sd.isMissingNode() ? "" : "; " + sd.path("summary").asText(),
                        t.path("writes").path("committed").asLong(),
                        t.path("writes").path("definite_failures").asLong(),
                        t.path("writes").path("unknown_outcomes").asLong());
            }
        }
        for (JsonNode r : runs) {
            if (r.has("error")) {
                out.printf(
                        Locale.ROOT,
                        "  %s %d failed: %s%n",
                        r.path("mode").asText(),
                        r.path("partitions").asInt(),
                        r.path("error").asText());
            }
        }
        out.printf(Locale.ROOT, "  targets: %s%n", o.path("targets"));
    }

    private static JsonNode s(JsonNode run, String part) {
        return run.path("summary").path(part);
    }

    private static void row(
            PrintWriter out, List<JsonNode> runs, String name, java.util.function.Function<JsonNode, String> cell) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-44s", name));
        for (JsonNode r : runs) {
            line.append(String.format(Locale.ROOT, " | %22s", r.has("error") ? "failed" : cell.apply(r)));
        }
        out.println(line);
    }
}
