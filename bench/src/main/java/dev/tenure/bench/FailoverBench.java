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
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.harness.StatusProbe;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Failover of a leader replica process (issue 20), each part with its own three {@link ReplicaProcessMain} processes
 * and the failover session timeout ({@code --failover-session-timeout-ms}, 3 s):
 *
 * <ul>
 *   <li>{@code failover}: SIGKILL of the leader with fast failover on (the library's default, derived from the
 *       session) and off (the leader is replaced when its session expires), two replica sets side by side, their
 *       trials alternating (which set goes first alternates too); then SIGTERM (a hand-off) on the set with fast
 *       failover on. Each figure is the time from the signal until a write proposed on one of the two survivors
 *       commits; the killed replica then restarts with its data and catches up, and the next trial waits {@link
 *       #SETTLE} more so that every follower's promise is older than the minimum term.
 *   <li>{@code pause}: SIGSTOP of the leader for each of {@code --pause-ms} then SIGCONT, with fast failover's
 *       suspicion timeout (and minimum term, back-off) {@code --pause-suspicion-ms}: whether the leadership changed,
 *       from the replicas' status (epoch and leader before the stop and after an observation window of the
 *       suspicion timeout plus 2 s), and the suspicions raised. The leader is idle: its followers hear only its
 *       heartbeats, the longest silence a pause can add to.
 *   <li>{@code steady} (only when asked): writes at {@code --steady-inflight} in the leader's process for {@code
 *       --steady-s}, with fast failover as the library's default; the leader changes (terms begun and epochs
 *       minted), suspicions and the write figures.
 * </ul>
 */
final class FailoverBench {
    /** Sections of this class not run by default. */
    static final List<String> SECTIONS = List.of("steady");

    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(60);
    /** After a replica set is whole again, before the next fault: longer than any minimum term used here. */
    static final Duration SETTLE = Duration.ofSeconds(2);

    /**
     * The settings.
     *
     * @param sessionTimeoutMs the replicas' ZooKeeper session timeout in these sections
     * @param pauseSuspicionMs the pause section's suspicion timeout, minimum term and back-off
     * @param pauseMs the pauses, each for {@code pauseTrials} trials
     * @param pauseTrials trials of each pause
     * @param steady how long the steady run writes
     * @param steadyInflight writes in flight in the steady run
     */
    record Config(
            int sessionTimeoutMs,
            int pauseSuspicionMs,
            List<Integer> pauseMs,
            int pauseTrials,
            Duration steady,
            int steadyInflight) {}

    private final ProcessBench b;
    private final ProcessBench.Config cfg;
    private final Config fc;
    private final ObjectNode result;

    FailoverBench(ProcessBench b, ProcessBench.Config cfg, ObjectNode result) {
        this.b = b;
        this.cfg = cfg;
        this.fc = cfg.failover();
        this.result = result;
    }

    private ReplicaProcesses start(ZooKeeperProcessEnsemble zk, Path root, String name, String fastFailover)
            throws Exception {
        List<String> ids = List.of(name + "1", name + "2", name + "3");
        ReplicaProcesses set = ReplicaProcesses.start(
                ids,
                zk.connectString(),
                root.resolve("failover-" + name),
                fc.sessionTimeoutMs(),
                cfg.fsync(),
                cfg.replicaHeap(),
                "/tenure-bench-failover-" + name,
                "fast_failover=" + fastFailover);
        try {
            set.awaitLeader(LEADER_TIMEOUT);
            return set;
        } catch (Exception | Error e) {
            set.close();
            throw e;
        }
    }

    // ---- failover: SIGKILL on and off, SIGTERM ----

    void failover(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        ObjectNode o = result.putObject("failover");
        o.put("session_timeout_ms", fc.sessionTimeoutMs());
        o.put("settle_before_fault_ms", SETTLE.toMillis());
        b.say(
                "failover: two sets of 3 replica processes (fast failover on, off), session timeout %d ms",
                fc.sessionTimeoutMs());
        try (ReplicaProcesses on = start(zk, root, "fon", "on");
                ReplicaProcesses off = start(zk, root, "foff", "off")) {
            o.put("on_settings", settings(on));
            o.put("off_settings", settings(off));
            Map<String, List<Trial>> kills = new LinkedHashMap<>();
            kills.put("on", new ArrayList<>());
            kills.put("off", new ArrayList<>());
            for (int i = 0; i < cfg.failoverTrials(); i++) {
                List<String> order = i % 2 == 0 ? List.of("on", "off") : List.of("off", "on");
                for (String which : order) {
                    Trial t = trial(which.equals("on") ? on : off, "SIGKILL");
                    kills.get(which).add(t);
                    b.say(
                            "failover SIGKILL, fast failover %s, trial %d: leader %s, first committed write after %.0f"
                                    + " ms (survivors' suspicions %d)",
                            which, i + 1, t.leader, t.ms, t.suspicions);
                }
            }
            List<Trial> terms = new ArrayList<>();
            for (int i = 0; i < cfg.failoverTrials(); i++) {
                Trial t = trial(on, "SIGTERM");
                terms.add(t);
                b.say(
                        "failover SIGTERM trial %d: leader %s, first committed write after %.0f ms",
                        i + 1, t.leader, t.ms);
            }
            summary(o.putObject("sigkill_fast_failover_on"), kills.get("on"));
            summary(o.putObject("sigkill_fast_failover_off"), kills.get("off"));
            summary(o.putObject("sigterm"), terms);
        }
    }

    private record Trial(String leader, double ms, long suspicions) {}

    private static String settings(ReplicaProcesses set) throws Exception {
        return set.status(set.ids().get(0)).json().path("fastFailover").asText();
    }

    private Trial trial(ReplicaProcesses set, String kind) throws Exception {
        String leader = set.awaitLeader(LEADER_TIMEOUT);
        List<String> survivors =
                set.ids().stream().filter(id -> !id.equals(leader)).toList();
        long suspicionsBefore = suspicions(set, survivors);
        ReplicaProcesses.Node l = set.node(leader);
        long start = System.nanoTime();
        if (kind.equals("SIGKILL")) {
            l.process.kill();
        } else {
            l.process.terminate();
        }
        double ms = firstCommittedWrite(set, survivors, start) / 1e6;
        long suspicions = suspicions(set, survivors) - suspicionsBefore;
        l.process.awaitExit(Duration.ofSeconds(30));
        set.launch(leader);
        set.awaitReady(leader);
        String newLeader = set.awaitLeader(LEADER_TIMEOUT);
        long commit = set.status(newLeader).commitOffset();
        set.awaitApplied(leader, commit, Duration.ofMinutes(1));
        Thread.sleep(SETTLE.toMillis());
        return new Trial(leader, ms, suspicions);
    }

    /** The suspicions the replicas {@code ids} have raised since they started. */
    private static long suspicions(ReplicaProcesses set, List<String> ids) throws Exception {
        long n = 0;
        for (String id : ids) {
            n += set.status(id).json().path("leaderSuspicions").asLong();
        }
        return n;
    }

    /** Nanoseconds from {@code start} until a write commits on one of {@code survivors}. */
    private long firstCommittedWrite(ReplicaProcesses set, List<String> survivors, long start) throws Exception {
        long deadline = start
                + TimeUnit.MILLISECONDS.toNanos(fc.sessionTimeoutMs())
                + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (String id : survivors) {
                try {
                    ReplicaProcesses.Answer a = set.call(id, "POST", "/write?timeout_ms=3000", Duration.ofSeconds(5));
                    if (a.code() == 200) {
                        return System.nanoTime() - start;
                    }
                } catch (java.io.IOException e) {
                    // that replica is not answering: try the other
                }
            }
            Thread.sleep(2); // the survivors answer "not the leader" at once; ask again shortly
        }
        throw new TimeoutException("no write committed on " + survivors + " within a minute after the session timeout");
    }

    private static void summary(ObjectNode k, List<Trial> trials) {
        List<Double> times = new ArrayList<>(trials.stream().map(Trial::ms).toList());
        Collections.sort(times);
        k.put("trials", times.size());
        if (times.isEmpty()) {
            return;
        }
        k.put("median_ms", ProcessBench.round(ProcessBench.median(times)));
        k.put("max_ms", ProcessBench.round(times.get(times.size() - 1)));
        k.put("min_ms", ProcessBench.round(times.get(0)));
        k.put(
                "trials_with_suspicions",
                trials.stream().filter(t -> t.suspicions > 0).count());
        k.putPOJO("all_ms", trials.stream().map(t -> ProcessBench.round(t.ms)).toList());
    }

    // ---- pause: SIGSTOP / SIGCONT of the leader ----

    void pause(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        ObjectNode o = result.putObject("pause");
        o.put("session_timeout_ms", fc.sessionTimeoutMs());
        o.put("suspicion_ms", fc.pauseSuspicionMs());
        Duration window = Duration.ofMillis(fc.pauseSuspicionMs()).plusSeconds(2);
        o.put("observed_after_resume_ms", window.toMillis());
        b.say(
                "pause: 3 replica processes, suspicion timeout %d ms, session timeout %d ms",
                fc.pauseSuspicionMs(), fc.sessionTimeoutMs());
        ArrayNode pauses = o.putArray("pauses");
        try (ReplicaProcesses set = start(zk, root, "p", Integer.toString(fc.pauseSuspicionMs()))) {
            o.put("settings", settings(set));
            for (int pauseMs : fc.pauseMs()) {
                ObjectNode p = pauses.addObject();
                p.put("pause_ms", pauseMs);
                ArrayNode trials = p.putArray("trials");
                int changed = 0;
                for (int i = 0; i < fc.pauseTrials(); i++) {
                    String leader = set.awaitLeader(LEADER_TIMEOUT);
                    Thread.sleep(SETTLE.toMillis());
                    Map<String, StatusProbe.NodeStatus> before = statuses(set);
                    ReplicaProcesses.Node l = set.node(leader);
                    long stop = System.nanoTime();
                    l.process.pause();
                    try {
                        Thread.sleep(pauseMs);
                    } finally {
                        l.process.resume();
                    }
                    double stoppedMs = (System.nanoTime() - stop) / 1e6;
                    Thread.sleep(window.toMillis());
                    String leaderAfter = set.awaitLeader(LEADER_TIMEOUT);
                    Map<String, StatusProbe.NodeStatus> after = statuses(set);
                    long epochBefore = before.get(leader).epoch();
                    long epochAfter = after.get(leaderAfter).epoch();
                    boolean change = !leader.equals(leaderAfter) || epochBefore != epochAfter;
                    long suspicions = 0;
                    long terms = 0;
                    for (String id : set.ids()) {
                        suspicions += after.get(id)
                                        .json()
                                        .path("leaderSuspicions")
                                        .asLong()
                                - before.get(id).json().path("leaderSuspicions").asLong();
                        terms += after.get(id).json().path("termsLed").asLong()
                                - before.get(id).json().path("termsLed").asLong();
                    }
                    changed += change ? 1 : 0;
                    ObjectNode t = trials.addObject();
                    t.put("stopped_ms", ProcessBench.round(stoppedMs));
                    t.put("leader_before", leader);
                    t.put("epoch_before", epochBefore);
                    t.put("leader_after", leaderAfter);
                    t.put("epoch_after", epochAfter);
                    t.put("changed", change);
                    t.put("suspicions", suspicions);
                    t.put("terms_begun", terms);
                    b.say(
                            "pause %d ms (stopped %.0f ms), trial %d: leader %s epoch %d -> leader %s epoch %d%s;"
                                    + " suspicions %d",
                            pauseMs,
                            stoppedMs,
                            i + 1,
                            leader,
                            epochBefore,
                            leaderAfter,
                            epochAfter,
                            change ? " CHANGED" : "",
                            suspicions);
                }
                p.put("trials_n", fc.pauseTrials());
                p.put("leadership_changed", changed);
            }
        }
    }

    private static Map<String, StatusProbe.NodeStatus> statuses(ReplicaProcesses set) throws Exception {
        Map<String, StatusProbe.NodeStatus> m = new LinkedHashMap<>();
        for (String id : set.ids()) {
            m.put(id, set.status(id));
        }
        return m;
    }

    // ---- steady: writes for a long time, leader changes counted ----

    void steady(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        ObjectNode o = result.putObject("steady");
        o.put("session_timeout_ms", fc.sessionTimeoutMs());
        o.put("inflight", fc.steadyInflight());
        o.put("seconds", fc.steady().toMillis() / 1000.0);
        try (ReplicaProcesses set = start(zk, root, "st", "on")) {
            o.put("settings", settings(set));
            String leader = set.awaitLeader(LEADER_TIMEOUT);
            Thread.sleep(SETTLE.toMillis());
            Map<String, StatusProbe.NodeStatus> before = statuses(set);
            b.say(
                    "steady: %d in flight on %s for %d s (fast failover %s)",
                    fc.steadyInflight(),
                    leader,
                    fc.steady().toSeconds(),
                    o.path("settings").asText());
            ObjectNode load = set.load(
                    leader,
                    "kind=write&inflight=" + fc.steadyInflight() + "&warmup_ms=0&duration_ms="
                            + fc.steady().toMillis() + "&value_bytes=" + cfg.valueBytes(),
                    fc.steady().plusMinutes(2));
            String leaderAfter = set.awaitLeader(LEADER_TIMEOUT);
            Map<String, StatusProbe.NodeStatus> after = statuses(set);
            long suspicions = 0;
            long terms = 0;
            for (String id : set.ids()) {
                suspicions += after.get(id).json().path("leaderSuspicions").asLong()
                        - before.get(id).json().path("leaderSuspicions").asLong();
                terms += after.get(id).json().path("termsLed").asLong()
                        - before.get(id).json().path("termsLed").asLong();
            }
            o.put("leader_before", leader);
            o.put("epoch_before", before.get(leader).epoch());
            o.put("leader_after", leaderAfter);
            o.put("epoch_after", after.get(leaderAfter).epoch());
            o.put("leader_changes", terms);
            o.put(
                    "epochs_minted",
                    after.get(leaderAfter).epoch() - before.get(leader).epoch());
            o.put("suspicions", suspicions);
            o.set("writes", load.get("side"));
            if (!ReplicaProcesses.cleanLoad(load)) {
                b.unclean();
            }
            b.say(
                    "steady: %d leader changes, %d suspicions; %.0f writes/s, %d errors",
                    terms,
                    suspicions,
                    load.path("side").path("ops_per_s").asDouble(),
                    load.path("side").path("errors").asLong());
        }
    }

    static void print(JsonNode result, PrintWriter out) {
        if (result.has("failover")) {
            JsonNode f = result.path("failover");
            out.printf(
                    Locale.ROOT,
                    "%nfailover to the first committed write (session timeout %d ms; on: %s):%n",
                    f.path("session_timeout_ms").asInt(),
                    f.path("on_settings").asText());
            for (String k : List.of("sigkill_fast_failover_on", "sigkill_fast_failover_off", "sigterm")) {
                JsonNode x = f.path(k);
                out.printf(
                        Locale.ROOT,
                        "  %-26s %3d trials: median %6.0f ms, p100 %6.0f ms, min %6.0f ms%n",
                        k.replace('_', ' '),
                        x.path("trials").asInt(),
                        x.path("median_ms").asDouble(),
                        x.path("max_ms").asDouble(),
                        x.path("min_ms").asDouble());
            }
        }
        if (result.has("pause")) {
            JsonNode p = result.path("pause");
            out.printf(
                    Locale.ROOT,
                    "%nleader paused (SIGSTOP, SIGCONT), suspicion timeout %d ms, session timeout %d ms:%n",
                    p.path("suspicion_ms").asInt(),
                    p.path("session_timeout_ms").asInt());
            for (JsonNode x : p.path("pauses")) {
                out.printf(
                        Locale.ROOT,
                        "  %5d ms pause: leadership changed in %d of %d trials%n",
                        x.path("pause_ms").asInt(),
                        x.path("leadership_changed").asInt(),
                        x.path("trials_n").asInt());
            }
        }
        if (result.has("steady")) {
            JsonNode s = result.path("steady");
            out.printf(
                    Locale.ROOT,
                    "%nsteady run, %d in flight for %.0f s (%s): %d leader changes, %d suspicions; %.0f writes/s,"
                            + " %d errors%n",
                    s.path("inflight").asInt(),
                    s.path("seconds").asDouble(),
                    s.path("settings").asText(),
                    s.path("leader_changes").asLong(),
                    s.path("suspicions").asLong(),
                    s.path("writes").path("ops_per_s").asDouble(),
                    s.path("writes").path("errors").asLong());
        }
    }
}
