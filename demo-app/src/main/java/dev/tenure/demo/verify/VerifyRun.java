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
package dev.tenure.demo.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.checker.History;
import dev.tenure.checker.HistoryChecker;
import dev.tenure.checker.HistoryReader;
import dev.tenure.checker.HistoryWriter;
import dev.tenure.harness.NodeLauncher;
import dev.tenure.harness.StatusProbe;
import dev.tenure.harness.fault.FaultKind;
import dev.tenure.harness.fault.FaultPlan;
import dev.tenure.harness.fault.Nemesis;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeoutException;

/**
 * One verification run: starts the {@link Testbed}, runs the {@link Workload} while the {@link Nemesis} injects
 * the {@link FaultPlan}'s faults one after another (each healed before the next), heals everything, reads every
 * key, stops every process, and checks the recorded history with the {@link HistoryChecker}.
 *
 * <p>Every process started is stopped when the run ends, whether it passes, fails or throws ({@link #call()}
 * closes the testbed in a {@code finally}); {@link #abort()} does the same from another thread (a shutdown hook).
 * Not thread-safe otherwise: call {@link #call()} once.
 */
final class VerifyRun {
    /**
     * The settings of a run.
     *
     * @param dir working directory: logs, data, {@code history.jsonl}
     * @param seed seeds the fault plan, the targets and the clients' choices
     * @param kinds the fault kinds to inject
     * @param target who targeted faults hit
     * @param minFaults at least this many faults (at least one per kind)
     * @param duration keep injecting faults until this much time has passed since the first one
     * @param clients concurrent clients
     * @param keys size of the key space
     * @param meanThinkTime each client's mean pause between operations
     * @param requestTimeout each HTTP exchange's timeout
     * @param sessionTimeout the replicas' ZooKeeper session timeout
     * @param quietTime normal operation between a heal and the next fault
     * @param nodeMainClass the main class every replica process runs: the demo's ({@link
     *     NodeLauncher#DEMO_MAIN_CLASS}); the harness's own tests run a deliberately broken node from their class
     *     path to show that the checker catches it
     * @param nodeArguments more {@code node} arguments every replica gets (the profile's, such as snapshot
     *     thresholds)
     * @param partitions the partitions every replica hosts ({@code node --partitions P}); 1 for the single log
     * @param plaintextReplication replication in plaintext rather than over mutual TLS
     * @param suspicionTimeout the replicas' fast failover suspicion timeout (the node's default, derived from the
     *     session timeout); zero when the replicas run with fast failover off (and with the controller)
     * @param controller whether the replicas run with {@code --leadership controller}: the controller, not each
     *     partition's election, assigns the leaders; the run then follows the controller and its epoch
     */
    record Settings(
            Path dir,
            long seed,
            List<FaultKind> kinds,
            FaultPlan.Target target,
            int minFaults,
            Duration duration,
            int clients,
            int keys,
            Duration meanThinkTime,
            Duration requestTimeout,
            Duration sessionTimeout,
            Duration quietTime,
            String nodeMainClass,
            List<String> nodeArguments,
            int partitions,
            boolean plaintextReplication,
            Duration suspicionTimeout,
            boolean controller) {
        Settings {
            Objects.requireNonNull(suspicionTimeout, "suspicionTimeout");
            Objects.requireNonNull(dir, "dir");
            kinds = List.copyOf(kinds);
            if (kinds.isEmpty()) {
                throw new IllegalArgumentException("at least one fault kind is needed");
            }
            if (clients < 1 || keys < 1) {
                throw new IllegalArgumentException("--clients and --keys must be >= 1");
            }
            Objects.requireNonNull(nodeMainClass, "nodeMainClass");
            nodeArguments = List.copyOf(nodeArguments);
            if (partitions < 1 || partitions > dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS) {
                throw new IllegalArgumentException("--partitions must be 1.."
                        + dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS + ", was " + partitions);
            }
            if (controller && partitions < 2) {
                throw new IllegalArgumentException("the controller needs --partitions 2 or more");
            }
        }
    }

    /**
     * One injected fault, timed on the history's clock ({@link System#nanoTime()}), so that it lines up with the
     * events around it.
     *
     * @param kind its kind
     * @param description what was done
     * @param start when it was injected
     * @param healed when it was healed
     * @param catchUp for a wipe: how the wiped replica caught up (empty for other faults, or if none was wiped)
     * @param installs for a wipe: the snapshot installs the wiped replica logged between its restart and its
     *     catch-up
     * @param target the replica the fault hit, if it hit one ({@link Nemesis.Injection#target()})
     * @param leadersBefore with several partitions: each partition's leader when the fault was injected (empty for
     *     the single log and for faults without a target)
     * @param leadersAfter with several partitions: each partition's agreed leader after the heal (empty if none was
     *     agreed on within the wait, and for the single log)
     * @param controllerBefore with the controller: the controller when the fault was injected (for a fault aimed at
     *     it, the one it hit), if one was known
     * @param controllerAfter with the controller: the controller every running node named after the heal (for a
     *     fault aimed at it, in a higher epoch than the one it hit), if one was within the wait
     * @param reassignment for {@link FaultKind#REASSIGN_PARTITION}: what was moved and how long each move took
     *     (empty for the other faults, and when nothing was moved)
     */
    record Injected(
            FaultKind kind,
            String description,
            long start,
            long healed,
            Optional<Nemesis.CatchUp> catchUp,
            long installs,
            Optional<String> target,
            Map<String, StatusProbe.PartitionLeader> leadersBefore,
            Map<String, StatusProbe.PartitionLeader> leadersAfter,
            Optional<StatusProbe.ControllerSeen> controllerBefore,
            Optional<StatusProbe.ControllerSeen> controllerAfter,
            Optional<Nemesis.Reassignment> reassignment) {
        Injected {
            Objects.requireNonNull(reassignment, "reassignment");
            Objects.requireNonNull(catchUp, "catchUp");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(controllerBefore, "controllerBefore");
            Objects.requireNonNull(controllerAfter, "controllerAfter");
            leadersBefore = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(leadersBefore));
            leadersAfter = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(leadersAfter));
        }

        /** The partitions the target led when the fault was injected, in id order. */
        List<String> led() {
            return target.map(t -> StatusProbe.ledBy(t, leadersBefore)).orElse(List.of());
        }

        /**
         * The partitions the target led whose leadership moved: after the heal, their agreed leader leads a higher
         * epoch (a new term, on another node or, after a hand-back, on the same one).
         */
        List<String> moved() {
            return led().stream()
                    .filter(p -> leadersAfter.containsKey(p)
                            && leadersAfter.get(p).epoch()
                                    > leadersBefore.get(p).epoch())
                    .toList();
        }

        /** {@code P (r1@3 -> r2@7)} for each partition the target led. */
        String movements() {
            List<String> parts = new ArrayList<>();
            for (String p : led()) {
                StatusProbe.PartitionLeader after = leadersAfter.get(p);
                parts.add(p + " (" + leadersBefore.get(p) + " -> " + (after == null ? "?" : after.toString()) + ")");
            }
            return String.join(", ", parts);
        }

        /** Whether a controller was known after the heal in a higher epoch than before the fault. */
        boolean newControllerEpoch() {
            return controllerBefore.isPresent()
                    && controllerAfter.isPresent()
                    && controllerAfter.get().epoch() > controllerBefore.get().epoch();
        }

        /** {@code controller r2@3 -> r1@4}, {@code ?} for one not known; empty without the controller. */
        String controllerMovement() {
            if (controllerBefore.isEmpty() && controllerAfter.isEmpty()) {
                return "";
            }
            return "controller " + controllerBefore.map(Object::toString).orElse("?") + " -> "
                    + controllerAfter.map(Object::toString).orElse("?");
        }

        /** A wiped replica that installed a snapshot before it caught up. */
        boolean cameBackByInstall() {
            return catchUp.isPresent() && installs > 0;
        }

        /** The JSON line of {@code faults.jsonl}. */
        ObjectNode toJson() {
            ObjectNode n = new ObjectMapper().createObjectNode();
            n.put("fault", kind.wireName());
            n.put("description", description);
            n.put("start", start);
            n.put("healed", healed);
            catchUp.ifPresent(c -> n.set("caughtUp", catchUpJson()));
            if (!leadersBefore.isEmpty()) {
                partitionJson(n);
            }
            if (controllerBefore.isPresent() || controllerAfter.isPresent()) {
                controllerJson(n);
            }
            reassignment.ifPresent(r -> n.set("reassignment", reassignmentJson(r)));
            return n;
        }

        /**
         * {@code partition}, {@code from}, {@code removed}, {@code shrinkMs} and {@code growMs} (null for a move that
         * did not complete within its bound), {@code completed}, and {@code problem} (null if none).
         */
        static ObjectNode reassignmentJson(Nemesis.Reassignment r) {
            ObjectNode n = new ObjectMapper().createObjectNode();
            n.put("partition", r.partition());
            ArrayNode from = n.putArray("from");
            r.replicas().forEach(from::add);
            n.put("removed", r.removed());
            putOffset(n, "shrinkMs", r.shrinkMillis());
            putOffset(n, "growMs", r.growMillis());
            n.put("completed", r.completed());
            n.put("problem", r.problem().orElse(null));
            return n;
        }

        /** Adds {@code controllerBefore}, {@code controllerAfter} ({@code NODE@EPOCH} or null) and {@code newEpoch}. */
        ObjectNode controllerJson(ObjectNode n) {
            n.put("controllerBefore", controllerBefore.map(Object::toString).orElse(null));
            n.put("controllerAfter", controllerAfter.map(Object::toString).orElse(null));
            n.put("newEpoch", newControllerEpoch());
            return n;
        }

        /** Adds {@code target}, {@code partitionsLed} and {@code leadershipMoved} (partition ids) to {@code n}. */
        ObjectNode partitionJson(ObjectNode n) {
            n.put("target", target.orElse(null));
            ArrayNode ledJson = n.putArray("partitionsLed");
            led().forEach(ledJson::add);
            ArrayNode movedJson = n.putArray("leadershipMoved");
            moved().forEach(movedJson::add);
            return n;
        }

        /** The wiped replica's catch-up: replica, offset, time, installs, log start and snapshot offsets. */
        ObjectNode catchUpJson() {
            Nemesis.CatchUp c = catchUp.orElseThrow();
            ObjectNode n = new ObjectMapper().createObjectNode();
            n.put("replica", c.replica());
            n.put("leader", c.leader());
            n.put("offset", c.offset());
            n.put("millis", c.took().toMillis());
            n.put("installs", installs);
            putOffset(n, "logStartOffset", c.status().logStartOffset());
            putOffset(n, "snapshotOffset", c.status().snapshotOffset());
            putOffset(n, "leaderLogStartOffset", c.leaderLogStart());
            return n;
        }

        private static void putOffset(ObjectNode n, String field, OptionalLong value) {
            if (value.isPresent()) {
                n.put(field, value.getAsLong());
            } else {
                n.putNull(field);
            }
        }
    }

    /**
     * What became of the leadership across one fault that hit the leader of a single log: who led before, whether and
     * when another replica was first seen leading a higher epoch, and who led after the heal.
     *
     * @param kind the fault
     * @param leader the leader the fault hit
     * @param epochBefore its epoch when the fault was injected
     * @param newLeaderMillis from the injection until another replica's {@code /status} first said it led a higher
     *     epoch, polled every 50 ms while the fault was held (for a kill, also after the restart until the session
     *     timeout plus 2 s from the kill); empty if none did meanwhile
     * @param newLeader that replica, or empty
     * @param leaderAfter the agreed leader after the heal, or empty if none was agreed on within the wait
     * @param epochAfter its epoch (0 if none)
     */
    record LeaderChange(
            FaultKind kind,
            String leader,
            long epochBefore,
            OptionalLong newLeaderMillis,
            Optional<String> newLeader,
            Optional<String> leaderAfter,
            long epochAfter) {
        /** Whether the leader after the heal leads a newer epoch than the one the fault hit: a leader change. */
        boolean changed() {
            return epochAfter > epochBefore;
        }

        ObjectNode toJson() {
            ObjectNode n = new ObjectMapper().createObjectNode();
            n.put("fault", kind.wireName());
            n.put("leader", leader + "@" + epochBefore);
            if (newLeaderMillis.isPresent()) {
                n.put("newLeaderMs", newLeaderMillis.getAsLong());
                n.put("newLeader", newLeader.orElse(null));
            } else {
                n.putNull("newLeaderMs");
                n.putNull("newLeader");
            }
            n.put("leaderAfterHeal", leaderAfter.map(l -> l + "@" + epochAfter).orElse(null));
            n.put("changed", changed());
            return n;
        }

        @Override
        public String toString() {
            return kind.wireName() + " on " + leader + "@" + epochBefore + ": "
                    + (newLeaderMillis.isPresent()
                            ? "new leader " + newLeader.orElse("?") + " after " + newLeaderMillis.getAsLong() + " ms"
                            : "no other leader seen")
                    + "; after the heal "
                    + leaderAfter.map(l -> l + "@" + epochAfter).orElse("none agreed")
                    + (changed() ? " (leader changed)" : " (no leader change)");
        }
    }

    /**
     * What a run found.
     *
     * @param report the checker's report (by partition with several)
     * @param partitions the partitions every replica hosted (1: the single log)
     * @param failovers with several partitions: for each partition, how many times its epoch was seen to have gone up
     *     between two looks at its leader (before each fault, after each heal, at the end): the leader changes
     *     observed, at least one per term that survived until a look
     * @param faults the faults injected, in order
     * @param leaderlessAfterHeal how many times no leader was agreed on within 30 s of a heal
     * @param history the history file
     * @param historyStart the time of the history's first event (the origin of the times the report prints)
     * @param elapsed the whole run
     * @param leaderChanges for a single log: each fault that hit the leader, and what became of the leadership
     * @param fastFailover the replicas' {@code fastFailover} as their {@code /status} reported it at the start
     *     (null if none said)
     * @param controller whether the replicas ran with the controller
     * @param controllers with the controller: the agreed controller at each look (at the start, before each fault,
     *     after each heal, at the end), in order, where one was agreed on
     */
    record Result(
            RunReport report,
            int partitions,
            Map<String, Integer> failovers,
            List<Injected> faults,
            int leaderlessAfterHeal,
            Path history,
            long historyStart,
            Duration elapsed,
            List<LeaderChange> leaderChanges,
            com.fasterxml.jackson.databind.JsonNode fastFailover,
            boolean controller,
            List<StatusProbe.ControllerSeen> controllers) {
        /** Faults injected by kind (every kind of the run listed, zero included). */
        Map<FaultKind, Integer> faultsByKind() {
            return faultsByKind(FaultKind.standard());
        }

        /** Faults injected by kind: {@code kinds} listed, zero included, and any other kind injected. */
        Map<FaultKind, Integer> faultsByKind(List<FaultKind> kinds) {
            Map<FaultKind, Integer> counts = new EnumMap<>(FaultKind.class);
            for (FaultKind k : kinds) {
                counts.put(k, 0);
            }
            faults.forEach(f -> counts.merge(f.kind(), 1, Integer::sum));
            return counts;
        }

        /** The wipes that were injected (each waited for until its replica caught up), in order. */
        List<Injected> wipes() {
            return faults.stream()
                    .filter(f ->
                            f.kind() == FaultKind.WIPE_REPLICA && f.catchUp().isPresent())
                    .toList();
        }

        /** The replacements that were injected (each waited for until its replica caught up), in order. */
        List<Injected> replacements() {
            return faults.stream()
                    .filter(f ->
                            f.kind() == FaultKind.REPLACE_REPLICA && f.catchUp().isPresent())
                    .toList();
        }

        /** The reassignments that were started ({@link FaultKind#REASSIGN_PARTITION}), in order. */
        List<Nemesis.Reassignment> reassignments() {
            return faults.stream().flatMap(f -> f.reassignment().stream()).toList();
        }

        /** The faults aimed at the controller, in order. */
        List<Injected> controllerFaults() {
            return faults.stream().filter(f -> f.kind().onController()).toList();
        }

        /** How many looks found the controller in a higher epoch than the look before: a lower bound of its changes. */
        int controllerChanges() {
            int changes = 0;
            for (int i = 1; i < controllers.size(); i++) {
                if (controllers.get(i).epoch() > controllers.get(i - 1).epoch()) {
                    changes++;
                }
            }
            return changes;
        }

        /** The summary's controller line. */
        String controllerText() {
            List<Injected> onController = controllerFaults();
            return (controllers.isEmpty()
                            ? "none agreed on"
                            : controllers.get(0) + " at the start, " + controllers.get(controllers.size() - 1)
                                    + " at the end")
                    + "; " + controllerChanges() + " controller change(s) seen (a higher epoch than at the previous"
                    + " look); faults on the controller: " + onController.size() + ", followed by a new controller"
                    + " epoch: "
                    + onController.stream().filter(Injected::newControllerEpoch).count();
        }

        /** {@link #leaderChanges} by fault kind, in kind order. */
        Map<FaultKind, List<LeaderChange>> leaderChangesByKind() {
            Map<FaultKind, List<LeaderChange>> byKind = new EnumMap<>(FaultKind.class);
            leaderChanges.forEach(c ->
                    byKind.computeIfAbsent(c.kind(), k -> new ArrayList<>()).add(c));
            return byKind;
        }

        /** The times to a new leader seen, ascending (the lower median is the middle one). */
        static List<Long> newLeaderTimes(List<LeaderChange> changes) {
            return changes.stream()
                    .filter(c -> c.newLeaderMillis().isPresent())
                    .map(c -> c.newLeaderMillis().getAsLong())
                    .sorted()
                    .toList();
        }

        /** A fault with its times relative to the history's start, as the checker's report prints them. */
        String describe(Injected f) {
            String moved = f.led().isEmpty()
                    ? ""
                    : "; leadership of " + f.moved().size() + " of its "
                            + f.led().size() + " moved: " + f.movements();
            String ctl = f.controllerMovement().isEmpty() ? "" : "; " + f.controllerMovement();
            return String.format(
                    "t=%.0fms..%.0fms %s%s%s",
                    (f.start() - historyStart) / 1e6, (f.healed() - historyStart) / 1e6, f.description(), moved, ctl);
        }

        ObjectNode toJson(Settings settings) {
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = json.createObjectNode();
            root.put("seed", settings.seed());
            root.put("verdict", report.verdict().name());
            root.put("operations", report.operations());
            root.put("partitions", partitions);
            root.put("transport", settings.plaintextReplication() ? "plaintext" : "mtls");
            root.put("leadership", controller ? "controller" : "election");
            if (controller) {
                ObjectNode c = root.putObject("controller");
                c.put("first", controllers.isEmpty() ? null : controllers.get(0).toString());
                c.put(
                        "last",
                        controllers.isEmpty()
                                ? null
                                : controllers.get(controllers.size() - 1).toString());
                c.put("changes", controllerChanges());
                c.put("faults", controllerFaults().size());
                c.put(
                        "faultsFollowedByNewEpoch",
                        controllerFaults().stream()
                                .filter(Injected::newControllerEpoch)
                                .count());
            } else {
                root.putNull("controller");
            }
            ObjectNode moves = root.putObject("reassignments");
            moves.put(
                    "notInjected",
                    faultsByKind(settings.kinds()).getOrDefault(FaultKind.REASSIGN_PARTITION, 0)
                            - reassignments().size());
            moves.put(
                    "completed",
                    reassignments().stream()
                            .filter(Nemesis.Reassignment::completed)
                            .count());
            ArrayNode moveList = moves.putArray("moves");
            reassignments().forEach(r -> moveList.add(Injected.reassignmentJson(r)));
            ArrayNode controllerFaultsJson = root.putArray("controllerFaults");
            controllerFaults()
                    .forEach(f -> controllerFaultsJson.add(f.controllerJson(
                            json.createObjectNode().put("fault", f.kind().wireName()))));
            ArrayNode invalid = root.putArray("invalidPartitions");
            if (partitions > 1) {
                report.byPartition().forEach((p, r) -> {
                    if (r.verdict() == dev.tenure.checker.CheckReport.Verdict.INVALID) {
                        invalid.add(p);
                    }
                });
            }
            ObjectNode failoverJson = root.putObject("failovers");
            failovers.forEach(failoverJson::put);
            ArrayNode partitionFaults = root.putArray("partitionFaults");
            faults.stream()
                    .filter(f -> !f.leadersBefore().isEmpty())
                    .forEach(f -> partitionFaults.add(f.partitionJson(
                            json.createObjectNode().put("fault", f.kind().wireName()))));
            root.put("elapsedSeconds", elapsed.toMillis() / 1000.0);
            ObjectNode byKind = root.putObject("faults");
            faultsByKind(settings.kinds()).forEach((k, n) -> byKind.put(k.wireName(), n));
            if (fastFailover != null) {
                root.set("fastFailover", fastFailover);
            } else {
                root.putNull("fastFailover");
            }
            ObjectNode leadership = root.putObject("leaderFaults");
            leaderChangesByKind().forEach((kind, changes) -> {
                ObjectNode k = leadership.putObject(kind.wireName());
                k.put("faults", changes.size());
                k.put(
                        "leaderChanges",
                        changes.stream().filter(LeaderChange::changed).count());
                List<Long> times = newLeaderTimes(changes);
                k.put("newLeaderSeen", times.size());
                if (times.isEmpty()) {
                    k.putNull("newLeaderMsMedian");
                    k.putNull("newLeaderMsMax");
                } else {
                    k.put("newLeaderMsMedian", times.get((times.size() - 1) / 2));
                    k.put("newLeaderMsMax", times.get(times.size() - 1));
                }
            });
            ArrayNode changeList = root.putArray("leaderChanges");
            leaderChanges.forEach(c -> changeList.add(c.toJson()));
            root.put("linearizabilityViolations", report.linearizabilityViolations());
            root.put("unknownKeys", report.unknownKeys());
            root.put("lostWrites", report.lostWrites());
            root.put("positionViolations", report.positionViolations());
            root.put("leaderlessAfterHeal", leaderlessAfterHeal);
            ObjectNode wiped = root.putObject("wipes");
            wiped.put("injected", wipes().size());
            wiped.put("notInjected", faultsByKind().get(FaultKind.WIPE_REPLICA) - wipes().size());
            wiped.put(
                    "byInstall",
                    wipes().stream().filter(Injected::cameBackByInstall).count());
            ArrayNode caughtUp = wiped.putArray("caughtUp");
            wipes().forEach(w -> caughtUp.add(w.catchUpJson()));
            ObjectNode replaced = root.putObject("replacements");
            replaced.put("injected", replacements().size());
            replaced.put(
                    "notInjected",
                    faultsByKind().get(FaultKind.REPLACE_REPLICA)
                            - replacements().size());
            ArrayNode replacedCaughtUp = replaced.putArray("caughtUp");
            replacements().forEach(w -> replacedCaughtUp.add(w.catchUpJson()));
            root.put("checkMillis", report.elapsed().toMillis());
            root.put("history", history.toString());
            ArrayNode list = root.putArray("faultLog");
            faults.forEach(f -> list.add(describe(f)));
            return root;
        }
    }

    private static final Duration LEADER_WAIT = Duration.ofSeconds(30);
    private static final Duration FINAL_LEADER_WAIT = Duration.ofSeconds(90);
    /** How long a fault waits for the partitions' leaderships to settle on their preferred leaders. */
    private static final Duration SETTLE_WAIT = Duration.ofSeconds(20);

    private static final Duration FINAL_READ_BUDGET = Duration.ofSeconds(60);
    /** How long a wiped replica may take to catch up before the run gives up (exit code 2). */
    private static final Duration CATCH_UP_WAIT = Duration.ofMinutes(2);

    private static final List<String> IDS = List.of("r1", "r2", "r3");

    private final Settings settings;
    private final PrintStream out;
    private final Testbed bed;
    private final Failovers failovers;
    /** With the controller: the controller at each look that agreed on one, consecutive repeats left out. */
    private final List<StatusProbe.ControllerSeen> controllers = new ArrayList<>();
    /** With several partitions: each partition's leader at the last agreed look ({@link #awaitLeaders}). */
    private Map<String, StatusProbe.PartitionLeader> lastLeaders = Map.of();

    VerifyRun(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
        this.failovers = new Failovers(settings.partitions());
        this.bed = new Testbed(
                settings.dir(),
                IDS,
                (int) settings.sessionTimeout().toMillis(),
                settings.nodeMainClass(),
                settings.nodeArguments(),
                settings.partitions(),
                settings.plaintextReplication());
    }

    /** Stops every process and proxy of the run; safe from any thread, idempotent. */
    void abort() {
        bed.close();
    }

    /**
     * Runs it.
     *
     * @throws TimeoutException if the system never elects a leader at the start, or not after the final heal
     * @throws IOException if a process cannot be started or the history cannot be written
     */
    Result call() throws IOException, InterruptedException, TimeoutException {
        long start = System.nanoTime();
        Path historyFile = settings.dir().resolve("history.jsonl");
        List<Injected> injected = new ArrayList<>();
        List<LeaderChange> leaderChanges = new ArrayList<>();
        com.fasterxml.jackson.databind.JsonNode fastFailover = null;
        int leaderless = 0;
        try {
            say("starting 3 ZooKeeper servers and replicas r1, r2, r3 (session timeout "
                    + settings.sessionTimeout().toMillis() + " ms"
                    + (partitioned() ? ", " + settings.partitions() + " partitions each" : "")
                    + (settings.plaintextReplication()
                            ? "; replication in plaintext"
                            : "; replication over mutual TLS, through TLS-terminating proxies")
                    + "; ZooKeeper with a digest credential) in "
                    + settings.dir());
            bed.start();
            String leader = bed.awaitFirstLeader(FINAL_LEADER_WAIT);
            fastFailover = fastFailoverOf(bed.statuses());
            say("fast failover "
                    + (fastFailover == null
                            ? "not reported by the replicas"
                            : fastFailover.path("enabled").asBoolean()
                                    ? "on: suspicion "
                                            + fastFailover
                                                    .path("suspicionTimeoutMs")
                                                    .asLong()
                                            + " ms, minimum term "
                                            + fastFailover.path("minimumTermMs").asLong()
                                            + " ms, back-off "
                                            + fastFailover
                                                    .path("deposeBackoffMs")
                                                    .asLong() + " ms"
                                    : settings.controller()
                                            ? "off: the controller moves a dead or frozen leader's partitions when"
                                                    + " its session expires"
                                            : "off: a dead or frozen leader is replaced when its session expires"));
            if (partitioned()) {
                leader = awaitLeaders(FINAL_LEADER_WAIT);
                if (settings.controller()) {
                    say("controller "
                            + lookAtController(-1, FINAL_LEADER_WAIT)
                                    .orElseThrow(() -> new TimeoutException(
                                            "no controller agreed on by every replica at the start")));
                }
                say("leaders of the " + settings.partitions() + " partitions: " + describe(lastLeaders) + "; "
                        + settings.clients() + " clients on " + settings.keys() + " keys, each sent to a random"
                        + " replica, which redirects it to its partition's leader");
            } else {
                say("leader " + leader + "; " + settings.clients() + " clients on " + settings.keys() + " keys");
            }
            try (HistoryWriter history = HistoryWriter.create(historyFile);
                    java.io.Writer faultLog = java.nio.file.Files.newBufferedWriter(
                            settings.dir().resolve("faults.jsonl"), java.nio.charset.StandardCharsets.UTF_8)) {
                Workload workload = new Workload(
                        bed.urls(),
                        settings.clients(),
                        settings.keys(),
                        settings.seed(),
                        history,
                        settings.requestTimeout(),
                        settings.meanThinkTime());
                workload.start();
                try {
                    Thread.sleep(settings.quietTime().toMillis()); // normal operation before the first fault
                    FaultPlan plan = new FaultPlan(settings.seed(), settings.kinds(), settings.target());
                    Duration suspicion = settings.suspicionTimeout().isZero()
                            ? dev.tenure.replicator.zookeeper.FastFailover.suspicionFor(settings.sessionTimeout())
                            : settings.suspicionTimeout();
                    Nemesis nemesis = new Nemesis(bed, settings.sessionTimeout(), suspicion, settings.seed());
                    long faultsStart = System.nanoTime();
                    int planned =
                            Math.max(settings.minFaults(), settings.kinds().size());
                    Iterator<FaultPlan.Fault> faults = plan.faults();
                    for (int i = 0;
                            i < planned
                                    || System.nanoTime() - faultsStart
                                            < settings.duration().toNanos();
                            i++) {
                        FaultPlan.Fault fault = faults.next();
                        if (partitioned()) {
                            settleLeaders();
                        }
                        Optional<StatusProbe.NodeStatus> leaderBefore =
                                partitioned() ? Optional.empty() : leaderStatus(bed.statuses());
                        Optional<StatusProbe.ControllerSeen> controllerBefore = Optional.empty();
                        if (settings.controller()) {
                            // A fault on the controller hits the one every node names, so that it hits one in office.
                            controllerBefore =
                                    fault.kind().onController() ? lookAtController(-1, LEADER_WAIT) : bed.controller();
                        }
                        long at = System.nanoTime();
                        Nemesis.Injection injection = nemesis.inject(fault);
                        if (injection.controller().isPresent()) {
                            controllerBefore = injection.controller();
                        }
                        failovers.observe(injection.partitionLeaders());
                        say(String.format(
                                "fault %d: %s for %d ms (%d operations so far)",
                                i + 1, injection.description(), injection.hold().toMillis(), workload.operations()));
                        boolean onLeader = leaderBefore.isPresent()
                                && injection
                                        .target()
                                        .equals(Optional.of(leaderBefore.get().id()));
                        NewLeaderWatch watch = new NewLeaderWatch(leaderBefore.orElse(null), at);
                        if (onLeader) {
                            // Held as long, but watching for another replica to lead a newer epoch meanwhile.
                            watch.until(at + injection.hold().toNanos(), false);
                        } else {
                            Thread.sleep(injection.hold().toMillis()); // the fault stays in place this long
                        }
                        injection.heal();
                        long healed = System.nanoTime();
                        if (onLeader
                                && (fault.kind() == FaultKind.KILL_REPLICA
                                        || fault.kind() == FaultKind.RESTART_REPLICA)) {
                            // The killed leader restarts slowly: go on watching until its session would have expired.
                            watch.until(
                                    at
                                            + settings.sessionTimeout()
                                                    .plusSeconds(2)
                                                    .toNanos(),
                                    true);
                        }
                        Map<String, StatusProbe.PartitionLeader> after = Map.of();
                        try {
                            String next = awaitLeaders(LEADER_WAIT);
                            after = lastLeaders;
                            say("  healed; "
                                    + (partitioned() ? "leaders " + describe(after) : "leader " + next) + " after "
                                    + (System.nanoTime() - healed) / 1_000_000 + " ms");
                        } catch (TimeoutException e) {
                            leaderless++;
                            say("  healed; " + e.getMessage());
                        }
                        if (onLeader) {
                            Optional<StatusProbe.NodeStatus> l = leaderStatus(bed.statuses());
                            LeaderChange change = new LeaderChange(
                                    fault.kind(),
                                    leaderBefore.get().id(),
                                    leaderBefore.get().epoch(),
                                    watch.millis,
                                    watch.leader,
                                    l.map(StatusProbe.NodeStatus::id),
                                    l.map(StatusProbe.NodeStatus::epoch).orElse(0L));
                            leaderChanges.add(change);
                            say("  " + change);
                        }
                        // A wiped replica must catch up before the next fault (docs/verification.md).
                        Optional<Nemesis.CatchUp> caughtUp;
                        try {
                            caughtUp = injection.awaitCatchUp(CATCH_UP_WAIT);
                        } catch (TimeoutException e) {
                            throw new TimeoutException("a wiped replica did not catch up: " + e.getMessage());
                        }
                        long installs = caughtUp.isPresent()
                                ? bed.snapshotInstallsSinceStart(caughtUp.get().replica())
                                : 0;
                        caughtUp.ifPresent(c -> say("  " + c + "; snapshot installs logged: " + installs));
                        Optional<StatusProbe.ControllerSeen> controllerAfter = Optional.empty();
                        if (settings.controller()) {
                            // After a fault on the controller: a controller in a higher epoch, named by every node.
                            long above = fault.kind().onController() && controllerBefore.isPresent()
                                    ? controllerBefore.get().epoch()
                                    : -1;
                            controllerAfter = lookAtController(above, LEADER_WAIT);
                            say("  controller "
                                    + controllerBefore.map(Object::toString).orElse("?") + " -> "
                                    + controllerAfter
                                            .map(Object::toString)
                                            .orElse("none agreed within " + LEADER_WAIT));
                        }
                        Injected done = new Injected(
                                fault.kind(),
                                injection.description(),
                                at,
                                healed,
                                caughtUp,
                                installs,
                                injection.target(),
                                injection.partitionLeaders(),
                                after,
                                controllerBefore,
                                controllerAfter,
                                injection.reassignment());
                        done.reassignment().ifPresent(r -> say("  moved " + r));
                        if (!done.led().isEmpty()) {
                            say("  leadership of " + done.moved().size() + " of the "
                                    + done.led().size()
                                    + " partitions " + done.target().orElseThrow() + " led moved: "
                                    + done.movements());
                        }
                        injected.add(done);
                        faultLog.write(done.toJson() + "\n");
                        faultLog.flush();
                        Thread.sleep(settings.quietTime().toMillis()); // normal operation between faults
                    }
                    bed.healEverything();
                    String last = awaitLeaders(FINAL_LEADER_WAIT);
                    Thread.sleep(settings.quietTime().toMillis()); // writes after the last heal
                    workload.stop();
                    say("stopped the clients after " + workload.operations() + " operations; reading every key from "
                            + last);
                    last = awaitLeaders(FINAL_LEADER_WAIT);
                    if (partitioned()) {
                        say("leaders at the end: " + describe(lastLeaders) + "; leader changes observed per"
                                + " partition: " + failovers.counts());
                    }
                    if (settings.controller()) {
                        say("controller at the end: "
                                + lookAtController(-1, FINAL_LEADER_WAIT)
                                        .map(Object::toString)
                                        .orElse("none agreed on"));
                    }
                    List<String> unread =
                            workload.finalReads(settings.clients(), URI.create(bed.url(last)), FINAL_READ_BUDGET);
                    if (!unread.isEmpty()) {
                        throw new TimeoutException("final reads failed for keys " + unread);
                    }
                } finally {
                    workload.stop();
                }
            }
        } finally {
            bed.close();
        }
        say("stopped every process; checking " + historyFile);
        History history = HistoryReader.read(historyFile);
        RunReport report = RunReport.check(history, settings.partitions());
        return new Result(
                report,
                settings.partitions(),
                failovers.counts(),
                injected,
                leaderless,
                historyFile,
                history.startTime(),
                Duration.ofNanos(System.nanoTime() - start),
                leaderChanges,
                fastFailover,
                settings.controller(),
                List.copyOf(controllers));
    }

    /**
     * With the controller: waits until every running replica names one controller in an epoch above {@code
     * aboveEpoch}, which says it is active ({@link Testbed#awaitController}), and notes it in {@link #controllers};
     * empty if none is within {@code timeout} (said, not hidden).
     */
    private Optional<StatusProbe.ControllerSeen> lookAtController(long aboveEpoch, Duration timeout)
            throws InterruptedException {
        try {
            StatusProbe.ControllerSeen c = bed.awaitController(aboveEpoch, timeout);
            if (controllers.isEmpty()
                    || !controllers.get(controllers.size() - 1).equals(c)) {
                controllers.add(c);
            }
            return Optional.of(c);
        } catch (TimeoutException e) {
            say("  " + e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Watches the replicas' {@code /status} every 50 ms for another replica than the one a fault hit leading a newer
     * epoch, and notes when it first does. Not thread-safe: the run's thread uses it.
     */
    private final class NewLeaderWatch {
        private final StatusProbe.NodeStatus before;
        private final long injectedAt;
        OptionalLong millis = OptionalLong.empty();
        Optional<String> leader = Optional.empty();

        NewLeaderWatch(StatusProbe.NodeStatus before, long injectedAt) {
            this.before = before;
            this.injectedAt = injectedAt;
        }

        /**
         * Polls until {@code deadline} ({@link System#nanoTime()}); with {@code stopWhenSeen}, only until a new leader
         * was seen.
         */
        void until(long deadline, boolean stopWhenSeen) throws InterruptedException {
            while (System.nanoTime() < deadline && !(stopWhenSeen && leader.isPresent())) {
                if (leader.isEmpty()) {
                    Optional<StatusProbe.NodeStatus> l = leaderStatus(bed.statuses());
                    if (l.isPresent()
                            && !l.get().id().equals(before.id())
                            && l.get().epoch() > before.epoch()) {
                        millis = OptionalLong.of((System.nanoTime() - injectedAt) / 1_000_000);
                        leader = Optional.of(l.get().id());
                    }
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left > 0) {
                    Thread.sleep(Math.min(50, left)); // polling the replicas' /status
                }
            }
        }
    }

    /** Among {@code statuses}, the status of the replica that says it leads the highest epoch, if any. */
    private static Optional<StatusProbe.NodeStatus> leaderStatus(Map<String, StatusProbe.NodeStatus> statuses) {
        return StatusProbe.leaderOf(statuses).map(statuses::get);
    }

    /** The first {@code fastFailover} object among {@code statuses}, or null if none reports one. */
    private static com.fasterxml.jackson.databind.JsonNode fastFailoverOf(
            Map<String, StatusProbe.NodeStatus> statuses) {
        for (StatusProbe.NodeStatus s : statuses.values()) {
            com.fasterxml.jackson.databind.JsonNode f = s.json().get("fastFailover");
            if (f != null && f.isObject()) {
                return f;
            }
        }
        return null;
    }

    private boolean partitioned() {
        return settings.partitions() > 1;
    }

    /**
     * Waits for an agreed leader ({@link Testbed#awaitLeader}); with several partitions, for an agreed leader of every
     * partition, which it keeps in {@link #lastLeaders} and counts in {@link #failovers}, and returns the node that
     * leads the most.
     */
    private String awaitLeaders(Duration timeout) throws InterruptedException, TimeoutException {
        if (!partitioned()) {
            return bed.awaitLeader(timeout);
        }
        lastLeaders = bed.awaitPartitionLeaders(timeout);
        failovers.observe(lastLeaders);
        return StatusProbe.mostLeading(lastLeaders, IDS).orElseThrow();
    }

    /**
     * Before a fault with several partitions: waits (at most {@link #SETTLE_WAIT}) until every partition is led by
     * its preferred leader, so that a fault aimed at the node leading the most hits one whose leaderships are spread
     * as placed, not one caught in the middle of its rebalancing hand-overs (where a snapshot of who leads what
     * undercounts). Leadership that does not settle in time is reported, and the fault goes ahead.
     */
    private void settleLeaders() throws InterruptedException {
        try {
            lastLeaders = bed.awaitPreferredLeaders(SETTLE_WAIT);
            failovers.observe(lastLeaders);
        } catch (TimeoutException e) {
            say("  leadership did not settle before the fault: " + e.getMessage());
        }
    }

    /** {@code 0=r1@3, 1=r2@2, ...} */
    private static String describe(Map<String, StatusProbe.PartitionLeader> leaders) {
        List<String> parts = new ArrayList<>();
        leaders.forEach((p, l) -> parts.add(p + "=" + l));
        return String.join(", ", parts);
    }

    /**
     * The leader changes of each partition seen by looking at its leader now and then: a look that finds a higher
     * epoch than the previous look counts one. Terms that begin and end between two looks are not counted, so the
     * counts are a lower bound. Not thread-safe: the run's thread uses it.
     */
    static final class Failovers {
        private final Map<String, Long> epochs = new LinkedHashMap<>();
        private final Map<String, Integer> counts = new LinkedHashMap<>();

        Failovers(int partitions) {
            if (partitions > 1) {
                for (int i = 0; i < partitions; i++) {
                    counts.put(dev.tenure.demo.kv.Partitioning.id(i), 0);
                }
            }
        }

        /** Notes each partition's leader's epoch; counts those above the previous look. */
        void observe(Map<String, StatusProbe.PartitionLeader> leaders) {
            leaders.forEach((p, l) -> {
                Long before = epochs.get(p);
                if (before != null && l.epoch() > before) {
                    counts.merge(p, 1, Integer::sum);
                }
                if (before == null || l.epoch() > before) {
                    epochs.put(p, l.epoch());
                }
            });
        }

        /** The counts so far, by partition id (empty for a single log). */
        Map<String, Integer> counts() {
            return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(counts));
        }
    }

    private void say(String line) {
        out.println("[verify] " + line);
        out.flush();
    }
}
