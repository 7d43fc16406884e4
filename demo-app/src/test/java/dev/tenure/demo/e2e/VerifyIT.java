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
package dev.tenure.demo.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.demo.verify.EarlyAckVerifyMain;
import dev.tenure.harness.ChildJvm;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.fault.FaultKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * {@code java -jar demo-app.jar verify} as users run it: every fault kind of the standard profiles, on replicas that
 * snapshot and compact every few hundred entries (the snapshots profile), leaves a valid history, and every replica it
 * wipes comes back by a snapshot install; nodes that acknowledge writes without a majority (test code only) are caught, with
 * partitions and by the fast-failover profile; a run stopped with SIGTERM stops every
 * process it started; with 4 partitions, the nodes leading several are killed, paused and isolated, every partition
 * they led gets a new leader and every key's history is valid, and early acknowledgements are caught in the
 * partitions of the isolated node; with the controller, killing, pausing and cutting the controller each leaves a
 * new controller epoch, and every key is valid. Every run but the SIGTERM one (plaintext, {@code --transport-plaintext}) replicates
 * over mutual TLS through the TLS-terminating proxies, on authenticated ZooKeeper. Each run prints its seed first; on failure its output is in the assertion message. Processes
 * are found through the run's pid list ({@code pids.txt}).
 *
 * <p>Two lanes run side by side ({@link EveryFaultKind}): the run of every fault kind, and one after another the two
 * runs of the teeth. Their claims hold whatever the machine's speed (a valid history, every fault kind injected,
 * every wiped replica caught up, a violation caught, with deadlines of minutes and no bound on any time). The runs
 * whose claims depend on timing run apart from them, in three lanes of 4 clients each ({@link TimingBound}), the
 * SIGTERM run after the shortest. The runs that must be valid pace their clients at {@link #THINK_MS}.
 */
class VerifyIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * The clients' mean pause between operations in the runs that must be valid: 100 ms, twice {@code verify}'s
     * default (10 clients in the run of every fault kind, {@link #TIMING_CLIENTS} in the timing-bound ones). A run at the
     * default asks for about one core of this machine's two (9.4 CPU-s per
     * 10 s of a single-log run, against 6.7 at 100 ms: clients, proxies, nodes), so the lanes side by side starved each
     * other; at 100 ms each run still makes thousands of operations, concurrent on the same keys. The teeth runs keep
     * the default: more writes reach the node that must be caught.
     */
    private static final String THINK_MS = "100";
    /**
     * The clients of the timing-bound runs ({@link TimingBound}), at {@link #THINK_MS}: 4, so that three of those runs
     * side by side leave the machine headroom (a run's CPU follows its operations: 2.7 CPU-s per 10 s with one client,
     * 6.7 with ten). Their claims are about leaders and terms, which the clients only observe; the runs with ten clients
     * check the histories under the heaviest concurrency.
     */
    private static final String TIMING_CLIENTS = "4";

    private static final List<String> RUNS = List.of(
            "snapshots",
            "unsafe",
            "interrupted",
            "partitions",
            "unsafe-partitions",
            "controller",
            "fast-failover",
            "unsafe-fast-failover");

    @TempDir
    Path dir;

    private record Run(int exit, List<String> lines) {
        JsonNode result() throws IOException {
            for (String line : lines) {
                if (line.startsWith("RESULT ")) {
                    return JSON.readTree(line.substring("RESULT ".length()));
                }
            }
            throw new AssertionError("no RESULT line:\n" + this);
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n" + String.join("\n", lines);
        }
    }

    /**
     * {@code verify} over replicas that acknowledge writes without a majority: {@code EarlyAckVerifyMain} from the
     * test class path (the shipped jar has no way to turn off safety).
     */
    private static ChildProcess.Builder verifyWithEarlyAcks(Path work, String... args) throws IOException {
        List<String> arguments = new ArrayList<>(List.of("--dir", work.toString()));
        arguments.addAll(List.of(args));
        return ChildJvm.builder("verify-" + work.getFileName())
                .jvmOptions(List.of("-Xmx512m"))
                .mainClass(EarlyAckVerifyMain.class.getName())
                .arguments(arguments)
                .process()
                .logFile(work.resolveSibling(work.getFileName() + ".out"))
                .stopGrace(Duration.ofSeconds(60));
    }

    private static ChildProcess.Builder verify(Path work, String... args) throws IOException {
        List<String> arguments = new ArrayList<>(List.of("verify", "--dir", work.toString()));
        arguments.addAll(List.of(args));
        return ChildJvm.builder("verify-" + work.getFileName())
                .jvmOptions(List.of("-Xmx512m"))
                .jar(Path.of(System.getProperty("demo.jar")))
                .arguments(arguments)
                .process()
                .logFile(work.resolveSibling(work.getFileName() + ".out"))
                // SIGTERM first, so the harness's shutdown hook stops its processes; SIGKILL if it does not exit.
                .stopGrace(Duration.ofSeconds(60));
    }

    private Run run(Path work, long timeoutSeconds, String... args) throws Exception {
        return run(verify(work, args), timeoutSeconds);
    }

    private Run run(ChildProcess.Builder verify, long timeoutSeconds) throws Exception {
        Path log;
        OptionalInt exit;
        try (ChildProcess p = verify.start()) {
            log = p.logFile();
            exit = awaitExit(p, timeoutSeconds);
        }
        // Read once the process is gone: its log is complete.
        if (exit.isEmpty()) {
            throw new AssertionError("verify did not finish within " + timeoutSeconds + " s:\n"
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Run(exit.getAsInt(), Files.readAllLines(log, StandardCharsets.UTF_8));
    }

    /** The exit code, or empty if the process is still running after {@code timeoutSeconds}. */
    private static OptionalInt awaitExit(ChildProcess p, long timeoutSeconds) throws InterruptedException {
        try {
            return OptionalInt.of(p.awaitExit(Duration.ofSeconds(timeoutSeconds)));
        } catch (TimeoutException e) {
            return OptionalInt.empty();
        }
    }

    /**
     * The processes the run in {@code work} started (its pid list, which must exist: a run without one would make
     * every check of this kind pass) that are still alive.
     */
    private static List<ProcessHandle> aliveProcessesOf(Path work) throws IOException {
        Path pids = work.resolve("pids.txt");
        assertTrue(Files.exists(pids), "the run wrote no pid list: " + pids);
        return Files.readAllLines(pids).stream()
                .map(line ->
                        Long.parseLong(line.substring(line.indexOf(' ') + 1).trim()))
                .map(ProcessHandle::of)
                .flatMap(Optional::stream)
                .filter(ProcessHandle::isAlive)
                .toList();
    }

    /** Whatever a failed test left behind is stopped by its pid, so one failure does not leak into the next. */
    @AfterEach
    void stopLeftovers() throws IOException {
        for (String run : RUNS) {
            if (Files.exists(dir.resolve(run).resolve("pids.txt"))) {
                aliveProcessesOf(dir.resolve(run)).forEach(ProcessHandle::destroyForcibly);
            }
        }
    }

    /**
     * Every fault kind once on snapshotting replicas, and beside it {@link OneAfterAnother}: two lanes at the same time
     * (each is {@code CONCURRENT}; this class, like every other test here, runs alone). Failsafe enables JUnit's
     * parallel execution for this, three threads (demo-app's pom).
     */
    @Nested
    class EveryFaultKind {
        /**
         * Every fault kind of the standard profiles, once each, on replicas that snapshot every 200 entries with a
         * catch-up tail of 50 (the {@code snapshots} profile: the CI profile's faults with frequent snapshots and
         * compaction), so every recovery also meets snapshots. One second of normal operation between faults (the
         * default is 2): every fault kind is still injected into a live workload, and each wiped replica still catches
         * up before the next fault (the run waits for that). The seed puts the wipe seventh, after several leader
         * changes, when the leader's log no longer starts at 0, so the wiped replica can only come back by a snapshot
         * install. The replicas' default settings (every other profile's) run in every other run of this class.
         */
        @Test
        @Timeout(600)
        @Execution(ExecutionMode.CONCURRENT)
        void everyFaultKindOnSnapshottingReplicasLeavesAValidHistoryAndAWipedReplicaComesBackByASnapshotInstall()
                throws Exception {
            Path work = dir.resolve("snapshots");
            Run run = run(
                    work,
                    540,
                    "--profile",
                    "snapshots",
                    "--seed",
                    "20261126",
                    "--think-ms",
                    THINK_MS,
                    "--quiet-ms",
                    "1000");
            System.out.println(run);
            JsonNode result = assertValidWithEveryKind(work, run);
            assertEveryWipeCaughtUp(result, run);
            for (JsonNode w : result.get("wipes").get("caughtUp")) {
                // Not asserted: that the leader's log no longer started at 0 by then (leaderLogStartOffset). It
                // depends on the pace: at THINK_MS the leader may hold a snapshot yet not have deleted a whole segment
                // when the wiped replica catches up, and the catch-up tail, not the log start, is what sends a
                // snapshot.
                assertTrue(w.get("installs").asInt() >= 1, "came back by a snapshot install: " + w);
                assertTrue(w.get("logStartOffset").asLong() > 0, "its log starts at the snapshot: " + w);
                assertTrue(w.get("snapshotOffset").asLong() > 0, "it holds the snapshot: " + w);
            }
            assertEquals(
                    result.get("wipes").get("injected").asInt(),
                    result.get("wipes").get("byInstall").asInt(),
                    run.toString());
        }

        /**
         * Runs whose claims hold at any speed too, one after another beside the run of every fault kind: the teeth of
         * the safety checks (nodes acknowledging without a majority are caught over mutual TLS: with partitions, the
         * node leading the most isolated; and a single log under the fast-failover profile, the leader cut from its
         * followers).
         */
        @Nested
        @Execution(ExecutionMode.CONCURRENT)
        class OneAfterAnother {
            /**
             * The teeth with partitions: replicas that acknowledge without a majority, 4 partitions, the node leading the most
             * isolated. The run is INVALID, and the violations include the partitions the isolated node led.
             */
            @Test
            @Execution(ExecutionMode.SAME_THREAD)
            @Timeout(300)
            void withFourPartitionsAcknowledgingWithoutAMajorityIsCaughtInThePartitionsOfTheIsolatedNode()
                    throws Exception {
                Path work = dir.resolve("unsafe-partitions");
                Run run = run(
                        verifyWithEarlyAcks(
                                work,
                                "--partitions",
                                "4",
                                "--seed",
                                "11",
                                "--faults",
                                "isolate-replica",
                                "--target",
                                "leader"),
                        240);
                System.out.println(run);
                assertEquals(1, run.exit(), run.toString());
                JsonNode result = run.result();
                assertEquals("INVALID", result.get("verdict").asText(), run.toString());
                assertEquals("mtls", result.get("transport").asText(), run.toString());
                assertViolationFound(result, run);
                JsonNode isolated = result.get("partitionFaults").get(0);
                assertTrue(
                        isolated.get("partitionsLed").size() >= 2, "the isolated node led several partitions: " + run);
                List<String> led = new ArrayList<>();
                isolated.get("partitionsLed").forEach(p -> led.add(p.asText()));
                List<String> invalid = new ArrayList<>();
                result.get("invalidPartitions").forEach(p -> invalid.add(p.asText()));
                assertTrue(
                        invalid.stream().anyMatch(led::contains),
                        "a partition the isolated node led is invalid: " + invalid + " vs " + led + "\n" + run);
                assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped");
            }

            /**
             * The fast-failover profile's teeth: replicas that acknowledge without a majority, and twice the leader cut
             * off from its followers (not from ZooKeeper, so its session lives) for longer than the session timeout.
             * Only fast failover can move the leadership then: the followers suspect the leader, depose it and elect
             * another while the old one, still connected to ZooKeeper and to the clients, keeps acknowledging writes
             * alone in its old epoch; the next leader never had them: INVALID. The first cut moves the leadership, so
             * the run is caught at its first fault whatever the machine's speed; the earlier form of this run (the
             * leader paused past the suspicion timeout) caught the defect only if a request reached the deposed leader
             * in the moment between its waking and its learning of the new term, and stayed VALID in some runs.
             */
            @Test
            @Execution(ExecutionMode.SAME_THREAD)
            @Timeout(300)
            void aDeposedLeaderThatKeepsAcknowledgingIsCaughtByTheFastFailoverProfile() throws Exception {
                Path work = dir.resolve("unsafe-fast-failover");
                Run run = run(
                        verifyWithEarlyAcks(
                                work,
                                "--profile",
                                "fast-failover",
                                "--faults",
                                "cut-leader-from-followers",
                                "--duration-s",
                                "0",
                                "--min-faults",
                                "2",
                                "--seed",
                                "11",
                                "--quiet-ms",
                                "1000"),
                        240);
                System.out.println(run);
                assertEquals(1, run.exit(), run.toString());
                JsonNode result = run.result();
                assertEquals("INVALID", result.get("verdict").asText());
                assertEquals("mtls", result.get("transport").asText(), "caught over mutual TLS: " + run);
                assertTrue(result.get("fastFailover").get("enabled").asBoolean(), run.toString());
                JsonNode cuts = result.get("leaderFaults").get("cut-leader-from-followers");
                assertTrue(
                        cuts.get("leaderChanges").asInt() >= 1,
                        "fast failover deposed a leader whose session lived (only its links to the followers were"
                                + " cut): " + run);
                assertViolationFound(result, run);
                assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped");
            }
        }
    }

    /** The checker found at least one violation: a key not linearizable, a lost write or a position reported twice. */
    private static void assertViolationFound(JsonNode result, Run run) {
        int found = result.get("linearizabilityViolations").asInt()
                + result.get("lostWrites").asInt()
                + result.get("positionViolations").asInt();
        assertTrue(found > 0, "a violation was found: " + run);
    }

    /** Exit 0, a valid history of a real workload, every fault kind injected, every process of the run stopped. */
    private static JsonNode assertValidWithEveryKind(Path work, Run run) throws IOException {
        return assertValid(
                work,
                run,
                FaultKind.standard().stream().map(FaultKind::wireName).toList());
    }

    /** A valid run over mutual TLS with a real workload that injected each of {@code kinds} and stopped everything. */
    private static JsonNode assertValid(Path work, Run run, List<String> kinds) throws IOException {
        assertEquals(0, run.exit(), run.toString());
        JsonNode result = run.result();
        assertEquals("VALID", result.get("verdict").asText(), run.toString());
        assertEquals("mtls", result.get("transport").asText(), "replication over mutual TLS: " + run);
        assertEquals(0, result.get("lostWrites").asInt(), run.toString());
        List<String> injected = new ArrayList<>();
        result.get("faults").properties().forEach(f -> {
            assertTrue(f.getValue().asInt() >= 1, f.getKey() + " was not injected");
            injected.add(f.getKey());
        });
        assertEquals(
                kinds.stream().sorted().toList(), injected.stream().sorted().toList(), run.toString());
        assertTrue(result.get("operations").asInt() > 1000, "a real workload ran: " + result);
        assertTrue(Files.size(work.resolve("history.jsonl")) > 0);
        assertTrue(Files.readAllLines(work.resolve("pids.txt")).size() >= 6, "the pid list names every process");
        assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped");
        return result;
    }

    /** Every wipe was injected and its replica caught up to the leader's commit offset before the next fault. */
    private static void assertEveryWipeCaughtUp(JsonNode result, Run run) {
        JsonNode wipes = result.get("wipes");
        assertTrue(wipes.get("injected").asInt() >= 1, "a replica was wiped: " + run);
        assertEquals(0, wipes.get("notInjected").asInt(), run.toString());
        assertEquals(
                result.get("faults").get("wipe-replica").asInt(),
                wipes.get("injected").asInt());
        assertEquals(wipes.get("injected").asInt(), wipes.get("caughtUp").size());
        for (JsonNode w : wipes.get("caughtUp")) {
            assertTrue(w.get("offset").asLong() > 0, "it had entries to catch up on: " + w);
        }
    }

    /**
     * The runs whose claims depend on timing (fast failover within a session, a deposed leader still acknowledging, a
     * fault landing on the node leading several partitions, a restarted node answering with agreed leaders within 30 s
     * of a heal), apart from {@link EveryFaultKind}: three lanes side by side — fast failover, then the run stopped with
     * SIGTERM (which claims nothing about time, and is short); the controller; several partitions. Their clients are
     * {@link #TIMING_CLIENTS}, so the three runs together ask for less CPU than two runs of ten clients did.
     */
    @Nested
    class TimingBound {
        /** Fast failover, then the run stopped with SIGTERM. */
        @Nested
        @Execution(ExecutionMode.CONCURRENT)
        class FastFailoverThenSigterm {
            /**
             * {@code verify --profile fast-failover} with a 4 s session (suspicion timeout 1333 ms): the seed's four faults
             * are a SIGKILL of the leader, a SIGSTOP of the leader for 444 ms, one for 2666 ms, and another SIGKILL. Without
             * fast failover none of them could change the leader before 4 s; with it each kill and the long pause do (the
             * kills' median time to a new leader is under the session timeout; the long pause is deposed within its 2.7 s),
             * and the short pause does not. The history is valid, no write is lost.
             */
            @Test
            @Execution(ExecutionMode.SAME_THREAD)
            @Timeout(240)
            void
                    theFastFailoverProfileReplacesAKilledOrLongPausedLeaderWithinItsSessionKeepsABrieflyPausedOneAndIsValid()
                            throws Exception {
                Path work = dir.resolve("fast-failover");
                Run run = run(
                        work,
                        180,
                        "--profile",
                        "fast-failover",
                        "--seed",
                        "20261207",
                        "--duration-s",
                        "0",
                        "--min-faults",
                        "4",
                        "--think-ms",
                        THINK_MS,
                        "--clients",
                        TIMING_CLIENTS,
                        "--quiet-ms",
                        "1000");
                System.out.println(run);
                assertEquals(0, run.exit(), run.toString());
                JsonNode result = run.result();
                assertEquals("VALID", result.get("verdict").asText(), run.toString());
                assertEquals(0, result.get("lostWrites").asInt(), run.toString());
                assertTrue(result.get("operations").asInt() > 300, "a real workload ran: " + result);
                JsonNode ff = result.get("fastFailover");
                assertTrue(ff.get("enabled").asBoolean(), "the replicas' /status says fast failover is on: " + ff);
                assertEquals(1333, ff.get("suspicionTimeoutMs").asLong(), "a third of the 4 s session: " + ff);
                assertEquals(2, result.get("faults").get("kill-replica").asInt(), run.toString());
                assertEquals(
                        1,
                        result.get("faults").get("pause-leader-below-suspicion").asInt(),
                        run.toString());
                assertEquals(
                        1,
                        result.get("faults").get("pause-leader-above-suspicion").asInt(),
                        run.toString());
                JsonNode leaderFaults = result.get("leaderFaults");
                JsonNode kills = leaderFaults.get("kill-replica");
                assertEquals(2, kills.get("leaderChanges").asInt(), run.toString());
                assertEquals(2, kills.get("newLeaderSeen").asInt(), run.toString());
                assertTrue(
                        kills.get("newLeaderMsMedian").asLong() < 4000,
                        "a killed leader was replaced before its 4 s session could expire: " + kills);
                JsonNode longPause = leaderFaults.get("pause-leader-above-suspicion");
                assertEquals(
                        1, longPause.get("leaderChanges").asInt(), "deposed while its session lived: " + longPause);
                JsonNode shortPause = leaderFaults.get("pause-leader-below-suspicion");
                assertEquals(
                        0, shortPause.get("leaderChanges").asInt(), "a pause below the suspicion bound: " + shortPause);
                assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped");
            }

            @Test
            @Execution(ExecutionMode.SAME_THREAD)
            @Timeout(300)
            void aRunStoppedWithSigtermStopsEveryProcessItStarted() throws Exception {
                Path work = dir.resolve("interrupted");
                // The leader is SIGSTOPped at "fault 1:": the hardest moment to clean up.
                // Replication in plaintext here (--transport-plaintext): the old mode stays covered at no cost.
                try (ChildProcess p = verify(
                                work,
                                "--seed",
                                "5",
                                "--faults",
                                "pause-leader",
                                "--target",
                                "leader",
                                "--transport-plaintext")
                        .readyWhenOutputContains("fault 1:")
                        .start()) {
                    p.awaitReady(Duration.ofMinutes(2));
                    String seen = Files.readString(p.logFile(), StandardCharsets.UTF_8);
                    assertEquals(6, aliveProcessesOf(work).size(), "3 replicas and 3 ZooKeeper servers run: " + seen);
                    p.terminate(); // SIGTERM
                    p.awaitExit(Duration.ofMinutes(2)); // verify exits after SIGTERM
                }
                String seen =
                        Files.readString(work.resolveSibling(work.getFileName() + ".out"), StandardCharsets.UTF_8);
                assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped: " + seen);
            }
        }

        /** The controller. */
        @Nested
        @Execution(ExecutionMode.CONCURRENT)
        class Controller {
            /**
             * {@code verify --leadership controller --partitions 4}: the controller node is SIGKILLed, SIGSTOPped past the
             * session timeout and cut off from ZooKeeper, the node leading the most partitions is SIGKILLed, and a partition is
             * shrunk to two replicas and grown back to three through the controller, one fault each. The run is valid with no
             * lost write; after each fault on the controller every node names a controller in a higher epoch; each partition
             * the killed node led has a new leader term; both moves of the reassignment completed; no process is left.
             */
            @Test
            @Execution(ExecutionMode.SAME_THREAD)
            @Timeout(240)
            void withTheControllerEachFaultOnItIsFollowedByANewControllerEpochAndEveryKeyIsValid() throws Exception {
                Path work = dir.resolve("controller");
                Run run = run(
                        work,
                        200,
                        "--leadership",
                        "controller",
                        "--partitions",
                        "4",
                        "--seed",
                        "20261218",
                        "--faults",
                        "kill-controller,pause-controller,cut-controller-from-zookeeper,kill-replica,reassign-partition",
                        "--target",
                        "leader",
                        "--think-ms",
                        THINK_MS,
                        "--clients",
                        TIMING_CLIENTS,
                        "--quiet-ms",
                        "1000");
                System.out.println(run);
                assertEquals(0, run.exit(), run.toString());
                JsonNode result = run.result();
                assertEquals("VALID", result.get("verdict").asText(), run.toString());
                assertEquals("controller", result.get("leadership").asText(), run.toString());
                assertEquals("mtls", result.get("transport").asText(), run.toString());
                assertEquals(0, result.get("lostWrites").asInt(), run.toString());
                assertEquals(
                        0, result.get("leaderlessAfterHeal").asInt(), "every heal ended with agreed leaders: " + run);
                assertTrue(result.get("operations").asInt() > 300, "a real workload ran: " + result);
                for (String kind : List.of(
                        "kill-controller",
                        "pause-controller",
                        "cut-controller-from-zookeeper",
                        "kill-replica",
                        "reassign-partition")) {
                    assertEquals(1, result.get("faults").get(kind).asInt(), kind + ": " + run);
                }
                JsonNode moves = result.get("reassignments");
                assertEquals(0, moves.get("notInjected").asInt(), "the partition was moved: " + run);
                assertEquals(1, moves.get("completed").asInt(), "shrunk and grown back, each within its bound: " + run);
                JsonNode move = moves.get("moves").get(0);
                assertEquals(3, move.get("from").size(), move.toString());
                assertTrue(move.get("shrinkMs").isNumber() && move.get("growMs").isNumber(), move.toString());
                JsonNode controller = result.get("controller");
                assertEquals(3, controller.get("faults").asInt(), controller.toString());
                assertEquals(3, controller.get("faultsFollowedByNewEpoch").asInt(), controller.toString());
                assertTrue(controller.get("changes").asInt() >= 3, controller.toString());
                for (JsonNode f : result.get("controllerFaults")) {
                    String before = f.get("controllerBefore").asText();
                    String after = f.get("controllerAfter").asText();
                    assertTrue(f.get("newEpoch").asBoolean(), "a new controller epoch: " + f);
                    assertTrue(
                            Long.parseLong(after.substring(after.indexOf('@') + 1))
                                    > Long.parseLong(before.substring(before.indexOf('@') + 1)),
                            f.toString());
                }
                boolean killedTheMostLeading = false;
                for (JsonNode f : result.get("partitionFaults")) {
                    if (f.get("fault").asText().equals("kill-replica")) {
                        killedTheMostLeading = true;
                        assertTrue(f.get("partitionsLed").size() >= 2, "the node leading the most partitions: " + f);
                        assertEquals(
                                f.get("partitionsLed"), f.get("leadershipMoved"), "each of them had a new term: " + f);
                    }
                }
                assertTrue(killedTheMostLeading, run.toString());
                assertTrue(
                        run.lines().stream().anyMatch(l -> l.matches(".*controller r\\d@\\d+ -> r\\d@\\d+.*")),
                        "the fault log names the controller before and after: " + run);
                assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped");
            }
        }

        /** Several partitions. */
        @Nested
        @Execution(ExecutionMode.CONCURRENT)
        class Partitions {
            /**
             * {@code verify --partitions 4}: every replica hosts 4 partitions, so the node leading the most leads at least 2;
             * it is SIGKILLed, SIGSTOPped past the session timeout and isolated (ZooKeeper and replication links), one fault
             * each. The run is valid, checked partition by partition; every fault hit a node leading several partitions, and
             * each of those partitions had a new leader term after the heal.
             */
            @Test
            @Execution(ExecutionMode.SAME_THREAD)
            @Timeout(300)
            void
                    withFourPartitionsTheNodeLeadingSeveralIsKilledPausedAndIsolatedEachOfItsPartitionsMovesAndEveryKeyIsValid()
                            throws Exception {
                Path work = dir.resolve("partitions");
                Run run = run(
                        work,
                        240,
                        "--partitions",
                        "4",
                        "--seed",
                        "20261217",
                        "--faults",
                        "kill-replica,pause-leader,isolate-replica",
                        "--target",
                        "leader",
                        "--think-ms",
                        THINK_MS,
                        "--clients",
                        TIMING_CLIENTS,
                        "--quiet-ms",
                        "1000");
                System.out.println(run);
                assertEquals(0, run.exit(), run.toString());
                JsonNode result = run.result();
                assertEquals("VALID", result.get("verdict").asText(), run.toString());
                assertEquals("mtls", result.get("transport").asText(), run.toString());
                assertEquals(4, result.get("partitions").asInt(), run.toString());
                assertEquals(0, result.get("lostWrites").asInt(), run.toString());
                assertTrue(result.get("operations").asInt() > 300, "a real workload ran: " + result);
                for (String kind : List.of("kill-replica", "pause-leader", "isolate-replica")) {
                    assertEquals(1, result.get("faults").get(kind).asInt(), kind + ": " + run);
                }
                JsonNode partitionFaults = result.get("partitionFaults");
                assertEquals(3, partitionFaults.size(), run.toString());
                for (JsonNode f : partitionFaults) {
                    assertTrue(
                            f.get("partitionsLed").size() >= 2,
                            "the fault hit a node leading several partitions: " + f);
                    assertEquals(f.get("partitionsLed"), f.get("leadershipMoved"), "each of them had a new term: " + f);
                }
                int failovers = 0;
                for (JsonNode n : result.get("failovers")) {
                    failovers += n.asInt();
                }
                assertTrue(failovers >= 6, "leader changes counted per partition: " + result.get("failovers"));
                assertEquals(List.of(), aliveProcessesOf(work), "every process of the run was stopped");
            }
        }
    }
}
