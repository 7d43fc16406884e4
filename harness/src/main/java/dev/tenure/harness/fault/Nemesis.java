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
package dev.tenure.harness.fault;

import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.StatusProbe;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Injects one {@link FaultPlan.Fault} into a {@link FaultTarget} (verify's testbed) and heals it. The leader is
 * whoever {@link FaultTarget#leader()} names at injection time (a random replica if none does); a follower is another running
 * replica chosen at random; a ZooKeeper server other than the quorum leader likewise.
 *
 * <p>How long a fault is held before healing: past the session timeout (plus 2 s) for the faults whose point is
 * an expired session or a deposed leader (pause, cut from ZooKeeper, isolation); a third of the suspicion timeout,
 * or twice it (below the session timeout), for the pauses that probe fast failover; a few seconds for the others.
 *
 * <p>{@link FaultKind#WIPE_REPLICA} hits a follower of the leader {@link FaultTarget#leader()} names, never the
 * leader, and is not injected when no replica leads (its description says so). Its heal restarts the replica with an
 * empty data directory; {@link Injection#awaitCatchUp} then waits until the replica has applied the leader's commit
 * offset as of the restart, which the caller must do before the next fault: a replica that lost its disk counts
 * towards a new leader's majority of promises at once, so a second fault before it caught up could lose an entry
 * only the wiped replica and one other had (docs/replication.md, snapshot safety rule 6).
 *
 * <p>{@link FaultKind#REPLACE_REPLICA} also hits a follower and deletes its data, but brings it back through a
 * membership change instead of restarting it as it was: removed from the replica set, added back as a learner
 * (started empty then), made a voter again once caught up; its heal returns when that change is active, and {@link
 * Injection#awaitCatchUp} then waits as for a wipe.
 *
 * <p><b>Partitions.</b> When the replicas host several partitions ({@link FaultTarget#partitionLeaders()} says who
 * leads each), the leader a fault hits is the node that leads the most partitions at injection time, and a follower
 * another running node (which may lead some partitions itself); the description says how many partitions, and which,
 * the replica hit led, and {@link Injection#partitionsLedByTarget()} lists them, so that the caller can check that
 * their leadership moved.
 *
 * <p><b>The controller.</b> {@link FaultKind#KILL_CONTROLLER}, {@link FaultKind#PAUSE_CONTROLLER} and {@link
 * FaultKind#CUT_CONTROLLER_FROM_ZOOKEEPER} hit the node {@link FaultTarget#controller()} names at injection time, and
 * are not injected when none does (the description says so); {@link Injection#controller()} names it with its epoch.
 *
 * <p>Not thread-safe: the harness's one driving thread uses it.
 */
public final class Nemesis {
    /** A fault in place: what was done and how to undo it. */
    public interface Injection {
        /** What was done, for the log and the report. */
        String description();

        /** How long to leave it in place. */
        Duration hold();

        /** Undoes it (restarts, resumes, heals links); a no-op for faults that need no healing. */
        void heal() throws IOException, InterruptedException;

        /**
         * After {@link #heal()}: waits until what the fault left behind has recovered enough for the next fault, and
         * says what it saw; empty (at once) for the faults that leave nothing to wait for. For {@link
         * FaultKind#WIPE_REPLICA}: until the wiped replica has appended and applied the leader's commit offset as of
         * its restart.
         *
         * @throws TimeoutException naming the replica and its last status, if that does not happen within {@code
         *     timeout}
         */
        default Optional<CatchUp> awaitCatchUp(Duration timeout) throws InterruptedException, TimeoutException {
            return Optional.empty();
        }

        /**
         * The replica the fault hit (the one killed, paused, cut, isolated or expired); empty for the faults on
         * ZooKeeper servers, and for a wipe or replacement (whose victim the description names).
         */
        default Optional<String> target() {
            return Optional.empty();
        }

        /**
         * For replicas that host several partitions: each partition's leader when the fault was injected, by
         * partition id, in id order; empty for a single log and for the faults without a {@link #target()}.
         */
        default Map<String, StatusProbe.PartitionLeader> partitionLeaders() {
            return Map.of();
        }

        /** The partitions the {@link #target()} led when the fault was injected, in id order; empty if none. */
        default List<String> partitionsLedByTarget() {
            return target().map(t -> StatusProbe.ledBy(t, partitionLeaders())).orElse(List.of());
        }

        /**
         * For the faults aimed at the controller: the controller the fault hit, with its epoch at injection; empty for
         * the other faults and when none was known (nothing was injected then).
         */
        default Optional<StatusProbe.ControllerSeen> controller() {
            return Optional.empty();
        }

        /**
         * For {@link FaultKind#REASSIGN_PARTITION}: what was moved and how long each move took (complete once {@link
         * #heal()} returned); empty for the other faults and when nothing was moved.
         */
        default Optional<Reassignment> reassignment() {
            return Optional.empty();
        }
    }

    /**
     * How a wiped replica caught up.
     *
     * @param replica the wiped replica
     * @param leader the replica that led when it was restarted (whose commit offset it had to reach)
     * @param offset the leader's commit offset when the replica was restarted
     * @param leaderLogStart the leader's log start offset then, if its status says: above 0, an empty replica cannot
     *     catch up from the leader's log and must install a snapshot
     * @param took from the restart until the replica had applied {@code offset}
     * @param status the replica's status once it had
     */
    public record CatchUp(
            String replica,
            String leader,
            long offset,
            OptionalLong leaderLogStart,
            Duration took,
            StatusProbe.NodeStatus status) {
        @Override
        public String toString() {
            return replica + " caught up to " + leader + "'s commit offset " + offset + " in " + took.toMillis()
                    + " ms (log start " + text(status.logStartOffset()) + ", snapshot " + text(status.snapshotOffset())
                    + "; the leader's log started at " + text(leaderLogStart) + ")";
        }

        private static String text(OptionalLong value) {
            return value.isPresent() ? Long.toString(value.getAsLong()) : "?";
        }
    }

    private record Done(
            String description,
            Duration hold,
            Healer healer,
            Wipe wipe,
            Optional<String> target,
            Map<String, StatusProbe.PartitionLeader> partitionLeaders,
            Optional<StatusProbe.ControllerSeen> controller)
            implements Injection {
        Done(String description, Duration hold, Healer healer) {
            this(description, hold, healer, null);
        }

        Done(String description, Duration hold, Healer healer, Wipe wipe) {
            this(description, hold, healer, wipe, Optional.empty(), Map.of(), Optional.empty());
        }

        /** This injection, naming the replica it hit and the partitions' leaders at the time. */
        Done hitting(String replica, Map<String, StatusProbe.PartitionLeader> leaders) {
            return new Done(description, hold, healer, wipe, Optional.of(replica), leaders, controller);
        }

        /** This injection, naming the controller it hit. */
        Done onController(StatusProbe.ControllerSeen c) {
            return new Done(description, hold, healer, wipe, target, partitionLeaders, Optional.of(c));
        }

        @Override
        public void heal() throws IOException, InterruptedException {
            healer.heal();
        }

        @Override
        public Optional<CatchUp> awaitCatchUp(Duration timeout) throws InterruptedException, TimeoutException {
            return wipe == null ? Optional.empty() : Optional.of(wipe.awaitCatchUp(timeout));
        }
    }

    private interface Healer {
        void heal() throws IOException, InterruptedException;
    }

    private static final Duration SHORT_HOLD = Duration.ofSeconds(3);

    /**
     * For the membership requests of {@link FaultKind#REPLACE_REPLICA} and the reassignments of {@link
     * FaultKind#REASSIGN_PARTITION}; follows a follower's redirect (a {@code 307} keeps the method).
     */
    private static final java.net.http.HttpClient ADMIN = java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1)
            .followRedirects(java.net.http.HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private final FaultTarget bed;
    private final Duration pastSessionTimeout;
    private final Duration belowSuspicion;
    private final Duration aboveSuspicion;
    private final Random random;
    private final StatusProbe probe = new StatusProbe(Duration.ofSeconds(1), Duration.ofMillis(100));

    /**
     * A nemesis for {@code bed}; {@code sessionTimeout} is the ZooKeeper session timeout its faults wait out, and
     * {@code seed} drives its random choices.
     */
    public Nemesis(FaultTarget bed, Duration sessionTimeout, long seed) {
        this(bed, sessionTimeout, defaultSuspicion(sessionTimeout), seed);
    }

    /**
     * A nemesis for {@code bed} whose replicas suspect a silent leader after {@code suspicionTimeout} (fast
     * failover): {@link FaultKind#PAUSE_LEADER_BELOW_SUSPICION} holds a third of it, {@link
     * FaultKind#PAUSE_LEADER_ABOVE_SUSPICION} twice it, but at most the session timeout less 1 s (and then at least
     * the suspicion timeout plus 300 ms), so that the leader is deposed while its session lives.
     */
    public Nemesis(FaultTarget bed, Duration sessionTimeout, Duration suspicionTimeout, long seed) {
        this.bed = bed;
        this.pastSessionTimeout = sessionTimeout.plusSeconds(2);
        this.belowSuspicion = suspicionTimeout.dividedBy(3);
        Duration twice = suspicionTimeout.multipliedBy(2);
        Duration cap = sessionTimeout.minusSeconds(1);
        Duration above = twice.compareTo(cap) > 0 ? cap : twice;
        Duration least = suspicionTimeout.plusMillis(300);
        this.aboveSuspicion = above.compareTo(least) < 0 ? least : above;
        this.random = new Random(seed ^ 0x5DEECE66DL);
    }

    /** The library's default suspicion timeout for a session timeout: a third of it, within [300 ms, 5 s]. */
    static Duration defaultSuspicion(Duration sessionTimeout) {
        long ms = Math.max(300, Math.min(5_000, sessionTimeout.toMillis() / 3));
        return Duration.ofMillis(ms);
    }

    /**
     * Injects {@code fault}. For replicas that host several partitions ({@link FaultTarget#partitionLeaders()} not
     * empty), "the leader" is the node that leads the most partitions, read once, and the description names the
     * partitions the replica hit led.
     */
    public Injection inject(FaultPlan.Fault fault) throws IOException, InterruptedException {
        Map<String, StatusProbe.PartitionLeader> partitionLeaders =
                java.util.Collections.unmodifiableMap(new LinkedHashMap<>(bed.partitionLeaders()));
        if (fault.kind().onController()) {
            return injectOnController(fault.kind(), partitionLeaders);
        }
        if (fault.kind() == FaultKind.REASSIGN_PARTITION) {
            return reassign(partitionLeaders);
        }
        Optional<String> currentLeader =
                partitionLeaders.isEmpty() ? bed.leader() : StatusProbe.mostLeading(partitionLeaders, bed.ids());
        String leader = currentLeader.orElseGet(() -> pick(bed.ids()));
        String target = fault.kind().targeted() && !fault.onLeader() ? follower(leader) : leader;
        String who;
        if (partitionLeaders.isEmpty()) {
            who = target + (target.equals(leader) && currentLeader.isPresent() ? " (leader)" : " (follower)");
        } else {
            List<String> led = StatusProbe.ledBy(target, partitionLeaders);
            who = target
                    + (led.isEmpty()
                            ? " (leader of no partition)"
                            : " (leader of " + led.size() + (led.size() == 1 ? " partition: " : " partitions: ")
                                    + String.join(", ", led) + ")");
        }
        Done done = inject(fault, currentLeader, leader, target, who);
        return switch (fault.kind()) {
            case KILL_ZK_SERVER, KILL_ZK_LEADER, WIPE_REPLICA, REPLACE_REPLICA -> done;
            default -> done.hitting(target, partitionLeaders);
        };
    }

    /**
     * {@link FaultKind#REASSIGN_PARTITION}: a partition chosen from the seed among those {@code partitionLeaders}
     * names, shrunk to two replicas now and grown back by the heal; not injected when no partition is known, or when
     * its state cannot be read or the controller refuses the shrink (the description says why).
     */
    private Injection reassign(Map<String, StatusProbe.PartitionLeader> partitionLeaders)
            throws IOException, InterruptedException {
        String name = FaultKind.REASSIGN_PARTITION.wireName();
        if (partitionLeaders.isEmpty()) {
            return new Done(name + " not injected: no partition has a known leader", Duration.ZERO, () -> {});
        }
        List<String> ids = new ArrayList<>(partitionLeaders.keySet());
        String partition = ids.get(random.nextInt(ids.size()));
        Optional<com.fasterxml.jackson.databind.JsonNode> state = reassignState(partition);
        if (state.isEmpty()) {
            return new Done(
                    name + " not injected: no node showed partition " + partition + "'s state",
                    Duration.ZERO,
                    () -> {});
        }
        List<String> replicas = new ArrayList<>();
        state.get().path("replicas").forEach(r -> replicas.add(r.asText()));
        if (state.get().path("reassigning").asBoolean() || replicas.size() < 2) {
            return new Done(
                    name + " not injected: partition " + partition + " is " + state.get(), Duration.ZERO, () -> {});
        }
        String removed = replicas.get(random.nextInt(replicas.size()));
        List<String> shrunk = replicas.stream().filter(r -> !r.equals(removed)).toList();
        Reassign move = new Reassign(partition, replicas, removed, shrunk);
        Optional<String> refused = move.start(shrunk);
        if (refused.isPresent()) {
            return new Done(
                    name + " not injected: the controller refused to shrink partition " + partition + ": "
                            + refused.get(),
                    Duration.ZERO,
                    () -> {});
        }
        move.shrinkMillis = move.await(shrunk);
        return move;
    }

    /** How long each of a reassignment's moves may take before it is reported as not completed. */
    public static final Duration MOVE_WAIT = Duration.ofSeconds(60);

    /**
     * What a {@link FaultKind#REASSIGN_PARTITION} did: the partition, its replicas before, the one removed, and how
     * long each move took until the controller showed it completed. Immutable.
     *
     * @param partition the partition moved
     * @param replicas its replicas before, preferred leader first; the grow-back restores them in this order
     * @param removed the replica the shrink removed
     * @param shrinkMillis from the shrink's request until the controller showed it completed; empty if it did not
     *     within {@link #MOVE_WAIT}
     * @param growMillis likewise for the grow-back; empty if it did not complete, or was not started
     * @param problem why a move did not complete or was not started, if one did not
     */
    public record Reassignment(
            String partition,
            List<String> replicas,
            String removed,
            OptionalLong shrinkMillis,
            OptionalLong growMillis,
            Optional<String> problem) {
        /** Copies the lists. */
        public Reassignment {
            replicas = List.copyOf(replicas);
        }

        /** Whether both moves completed within their bounds. */
        public boolean completed() {
            return shrinkMillis.isPresent() && growMillis.isPresent();
        }

        @Override
        public String toString() {
            return "partition " + partition + " " + String.join(",", replicas) + " -> "
                    + String.join(
                            ",",
                            replicas.stream().filter(r -> !r.equals(removed)).toList()) + " in "
                    + text(shrinkMillis) + " -> " + String.join(",", replicas) + " in " + text(growMillis)
                    + problem.map(p -> " (" + p + ")").orElse("");
        }

        private static String text(OptionalLong ms) {
            return ms.isPresent() ? ms.getAsLong() + " ms" : "not completed";
        }
    }

    /** A reassignment in place: shrunk by {@link #reassign}, grown back by {@link #heal()}. */
    private final class Reassign implements Injection {
        private final String partition;
        private final List<String> replicas;
        private final String removed;
        private final List<String> shrunk;
        private OptionalLong shrinkMillis = OptionalLong.empty();
        private OptionalLong growMillis = OptionalLong.empty();
        private Optional<String> problem = Optional.empty();

        Reassign(String partition, List<String> replicas, String removed, List<String> shrunk) {
            this.partition = partition;
            this.replicas = List.copyOf(replicas);
            this.removed = removed;
            this.shrunk = shrunk;
        }

        @Override
        public String description() {
            return "reassigned partition " + partition + " from " + String.join(",", replicas) + " to "
                    + String.join(",", shrunk) + " (" + removed + " removed), "
                    + (shrinkMillis.isPresent()
                            ? "completed in " + shrinkMillis.getAsLong() + " ms"
                            : "NOT completed within " + MOVE_WAIT.toSeconds() + " s")
                    + "; the heal grows it back to " + String.join(",", replicas);
        }

        @Override
        public Duration hold() {
            return SHORT_HOLD;
        }

        /**
         * Grows the partition back to its former replicas, in their former order, and waits until that completed.
         * A shrink that had not completed is waited for again first (the controller refuses a second move while one
         * is in progress).
         */
        @Override
        public void heal() throws IOException, InterruptedException {
            if (shrinkMillis.isEmpty()) {
                OptionalLong late = await(shrunk);
                problem = Optional.of("the shrink did not complete within " + MOVE_WAIT.toSeconds() + " s"
                        + (late.isPresent() ? "; it did " + MOVE_WAIT.toSeconds() + " s later" : ", nor later"));
                if (late.isEmpty()) {
                    return;
                }
            }
            Optional<String> refused = start(replicas);
            if (refused.isPresent()) {
                problem = Optional.of(
                        problem.map(p -> p + "; ").orElse("") + "the grow-back was refused: " + refused.get());
                return;
            }
            growMillis = await(replicas);
            if (growMillis.isEmpty()) {
                problem = Optional.of(problem.map(p -> p + "; ").orElse("") + "the grow-back did not complete within "
                        + MOVE_WAIT.toSeconds() + " s");
            }
        }

        @Override
        public Optional<Reassignment> reassignment() {
            return Optional.of(new Reassignment(partition, replicas, removed, shrinkMillis, growMillis, problem));
        }

        /**
         * {@code POST /admin/reassign?partition=P&replicas=...} through each running node in turn until one answers
         * 200 (the others redirect to the controller); empty if one did, else the last answer.
         */
        Optional<String> start(List<String> target) throws InterruptedException {
            String last = "no node answered";
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (String id : bed.ids()) {
                    URI uri = bed.baseUrl(id)
                            .resolve(
                                    "/admin/reassign?partition=" + partition + "&replicas=" + String.join(",", target));
                    try {
                        java.net.http.HttpResponse<String> r = ADMIN.send(
                                java.net.http.HttpRequest.newBuilder(uri)
                                        .timeout(Duration.ofSeconds(15))
                                        .header("Content-Type", "application/json")
                                        .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                                        .build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 200) {
                            return Optional.empty();
                        }
                        last = "POST " + uri + " answered " + r.statusCode() + ": "
                                + r.body().strip();
                        if (r.statusCode() == 400) {
                            return Optional.of(last); // definite: a bad request, or another move in progress
                        }
                    } catch (IOException e) {
                        last = "POST " + uri + ": " + e;
                    }
                }
                Thread.sleep(200); // no controller known for the moment: ask again
            }
            return Optional.of(last);
        }

        /**
         * Waits (at most {@link #MOVE_WAIT}) until the controller shows the partition with {@code target} as its
         * replicas and no reassignment in progress; the milliseconds that took, or empty.
         */
        OptionalLong await(List<String> target) throws InterruptedException {
            long started = System.nanoTime();
            long deadline = started + MOVE_WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                Optional<com.fasterxml.jackson.databind.JsonNode> s = reassignState(partition);
                if (s.isPresent() && !s.get().path("reassigning").asBoolean()) {
                    List<String> now = new ArrayList<>();
                    s.get().path("replicas").forEach(r -> now.add(r.asText()));
                    if (now.equals(target)) {
                        return OptionalLong.of((System.nanoTime() - started) / 1_000_000);
                    }
                }
                Thread.sleep(100); // polling the controller's state of the partition
            }
            return OptionalLong.empty();
        }
    }

    /** {@code GET /admin/reassign?partition=P} through the first running node that answers 200; empty if none does. */
    private Optional<com.fasterxml.jackson.databind.JsonNode> reassignState(String partition)
            throws InterruptedException {
        for (String id : bed.ids()) {
            if (!bed.replica(id).isAlive()) {
                continue;
            }
            try {
                java.net.http.HttpResponse<String> r = ADMIN.send(
                        java.net.http.HttpRequest.newBuilder(
                                        bed.baseUrl(id).resolve("/admin/reassign?partition=" + partition))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return Optional.of(JSON.readTree(r.body()));
                }
            } catch (IOException e) {
                // this node does not answer now: ask the next
            }
        }
        return Optional.empty();
    }

    /** A fault aimed at the controller node: the one {@link FaultTarget#controller()} names now. */
    private Injection injectOnController(FaultKind kind, Map<String, StatusProbe.PartitionLeader> partitionLeaders)
            throws IOException, InterruptedException {
        Optional<StatusProbe.ControllerSeen> seen = bed.controller();
        if (seen.isEmpty()) {
            return new Done(
                    kind.wireName() + " not injected: no node says it is the controller", Duration.ZERO, () -> {});
        }
        StatusProbe.ControllerSeen c = seen.get();
        String target = c.node();
        List<String> led = StatusProbe.ledBy(target, partitionLeaders);
        String who = target + " (controller " + c
                + (led.isEmpty()
                        ? "; leader of no partition"
                        : "; leader of partition" + (led.size() == 1 ? " " : "s ") + String.join(", ", led))
                + ")";
        Done done;
        switch (kind) {
            case KILL_CONTROLLER -> {
                ChildProcess p = bed.replica(target);
                p.kill();
                done = new Done("SIGKILL " + who + ", pid " + p.pid(), SHORT_HOLD, () -> bed.startReplica(target));
            }
            case PAUSE_CONTROLLER -> {
                ChildProcess p = bed.replica(target);
                p.pause();
                done = new Done("SIGSTOP " + who, pastSessionTimeout, p::resume);
            }
            case CUT_CONTROLLER_FROM_ZOOKEEPER -> {
                bed.cutZooKeeper(target);
                done = new Done("cut " + who + " off from ZooKeeper", pastSessionTimeout, bed.links()::healAll);
            }
            default -> throw new IllegalArgumentException("not a fault on the controller: " + kind);
        }
        return done.hitting(target, partitionLeaders).onController(c);
    }

    private Done inject(FaultPlan.Fault fault, Optional<String> currentLeader, String leader, String target, String who)
            throws IOException, InterruptedException {
        switch (fault.kind()) {
            case KILL_REPLICA -> {
                ChildProcess p = bed.replica(target);
                p.kill();
                return new Done(
                        "SIGKILL replica " + who + ", pid " + p.pid(), SHORT_HOLD, () -> bed.startReplica(target));
            }
            case RESTART_REPLICA -> {
                ChildProcess p = bed.replica(target);
                p.kill(); // returns once it exited
                bed.startReplica(target); // at once: its session still lives
                return new Done(
                        "SIGKILL replica " + who + ", pid " + p.pid() + ", and start it again at once",
                        SHORT_HOLD,
                        () -> {});
            }
            case PAUSE_LEADER -> {
                ChildProcess p = bed.replica(target);
                p.pause();
                return new Done("SIGSTOP replica " + who, pastSessionTimeout, p::resume);
            }
            case PAUSE_LEADER_BELOW_SUSPICION, PAUSE_LEADER_ABOVE_SUSPICION -> {
                boolean above = fault.kind() == FaultKind.PAUSE_LEADER_ABOVE_SUSPICION;
                ChildProcess p = bed.replica(target);
                p.pause();
                return new Done(
                        "SIGSTOP replica " + who + (above ? ", longer" : ", shorter") + " than the suspicion timeout",
                        above ? aboveSuspicion : belowSuspicion,
                        p::resume);
            }
            case KILL_ZK_SERVER -> {
                int quorumLeader = bed.zooKeeperQuorumLeader();
                List<Integer> others = new ArrayList<>();
                for (int s = 1; s <= bed.zooKeeperServers(); s++) {
                    if (s != quorumLeader) {
                        others.add(s);
                    }
                }
                int server = others.get(random.nextInt(others.size()));
                bed.killZooKeeper(server);
                return new Done("SIGKILL ZooKeeper server " + server, SHORT_HOLD, () -> bed.restartZooKeeper(server));
            }
            case KILL_ZK_LEADER -> {
                int server = bed.zooKeeperQuorumLeader();
                bed.killZooKeeper(server);
                return new Done(
                        "SIGKILL ZooKeeper quorum leader, server " + server,
                        SHORT_HOLD,
                        () -> bed.restartZooKeeper(server));
            }
            case EXPIRE_SESSION -> {
                bed.expireSession(target);
                return new Done("expired the ZooKeeper session of replica " + who, SHORT_HOLD, () -> {});
            }
            case CUT_ZOOKEEPER -> {
                bed.cutZooKeeper(target);
                return new Done("cut replica " + who + " off from ZooKeeper", pastSessionTimeout, bed.links()::healAll);
            }
            case CUT_LEADER_FROM_FOLLOWERS -> {
                bed.cutReplication(target, bed.ids());
                return new Done(
                        "cut replica " + who + " off from the other replicas",
                        pastSessionTimeout,
                        bed.links()::healAll);
            }
            case ISOLATE_REPLICA -> {
                bed.cutZooKeeper(target);
                bed.cutReplication(target, bed.ids());
                return new Done("isolated replica " + who, pastSessionTimeout, bed.links()::healAll);
            }
            case WIPE_REPLICA, REPLACE_REPLICA -> {
                String name = fault.kind().wireName();
                if (currentLeader.isEmpty()) {
                    return new Done(
                            name + " not injected: no replica leads, so none is known to be a follower",
                            Duration.ZERO,
                            () -> {});
                }
                String victim = follower(leader);
                if (victim.equals(leader)) {
                    return new Done(
                            name + " not injected: leader " + leader + " has no running follower",
                            Duration.ZERO,
                            () -> {});
                }
                ChildProcess p = bed.replica(victim);
                p.kill();
                Path data = bed.dataDir(victim);
                deleteRecursively(data);
                Wipe wipe = new Wipe(victim, leader);
                String done =
                        "SIGKILL replica " + victim + " (follower), pid " + p.pid() + ", deleted its data directory";
                return fault.kind() == FaultKind.WIPE_REPLICA
                        ? new Done(done + " " + data, SHORT_HOLD, wipe::restart, wipe)
                        : new Done(
                                done + "; replaced it: removed from the replica set, added back empty as a learner,"
                                        + " made a voter again",
                                SHORT_HOLD,
                                wipe::replace,
                                wipe);
            }
            default -> throw new IllegalArgumentException("unknown fault " + fault);
        }
    }

    /** A wiped replica: restarted by the heal, then waited for. */
    private final class Wipe {
        private final String replica;
        private final String leaderAtWipe;
        private String leader;
        private long offset;
        private OptionalLong leaderLogStart = OptionalLong.empty();
        private long restartedAt;
        private boolean restarted;

        Wipe(String replica, String leaderAtWipe) {
            this.replica = replica;
            this.leaderAtWipe = leaderAtWipe;
        }

        /**
         * Reads the commit offset the replica must reach from the leader (the one named now, else the one at the
         * wipe; if neither answers, the highest commit offset any other replica reports), then restarts it.
         */
        void restart() throws IOException, InterruptedException {
            leader = bed.leader().orElse(leaderAtWipe);
            Optional<StatusProbe.NodeStatus> s = Optional.empty();
            // A few tries of one second each: a loaded machine can miss one request's deadline.
            for (int attempt = 0; attempt < 3 && s.isEmpty() && !leader.equals(replica); attempt++) {
                s = probe.status(leader, bed.baseUrl(leader));
            }
            if (s.isPresent()) {
                offset = s.get().commitOffset();
                leaderLogStart = s.get().logStartOffset();
            } else {
                Map<String, URI> others = new LinkedHashMap<>();
                bed.ids().stream().filter(id -> !id.equals(replica)).forEach(id -> others.put(id, bed.baseUrl(id)));
                offset = probe.statuses(others).values().stream()
                        .mapToLong(StatusProbe.NodeStatus::commitOffset)
                        .max()
                        .orElse(0);
            }
            restartedAt = System.nanoTime();
            bed.startReplica(replica);
            restarted = true;
        }

        /**
         * The replacement: asks the leader to remove the replica from the replica set, then to add it back; starts it
         * (empty) once the configuration lists it as a learner; returns once the change that makes it a voter again
         * is active. Each request goes to the replica that leads now (a follower would redirect it).
         */
        void replace() throws IOException, InterruptedException {
            membership("remove", Duration.ofMinutes(2));
            CompletableFuture<Void> add = CompletableFuture.runAsync(() -> {
                try {
                    membership("add", Duration.ofMinutes(3));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!isLearner()) {
                if (add.isDone() || System.nanoTime() > deadline) {
                    awaitQuietly(add);
                    throw new IOException("replica " + replica + " was not added as a learner within 60 s");
                }
                Thread.sleep(50); // polling the configuration the leader reports
            }
            restart();
            awaitQuietly(add);
        }

        private void awaitQuietly(CompletableFuture<Void> f) throws IOException, InterruptedException {
            try {
                f.get(4, java.util.concurrent.TimeUnit.MINUTES);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException(
                        "adding " + replica + " back failed: " + e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new IOException("adding " + replica + " back did not finish within 4 minutes", e);
            }
        }

        /** {@code POST /admin/members/OP?id=REPLICA} on the current leader; fails unless it answers 200. */
        private void membership(String op, Duration timeout) throws IOException, InterruptedException {
            String target = bed.leader().orElse(leaderAtWipe);
            URI uri = bed.baseUrl(target)
                    .resolve("/admin/members/" + op + "?id=" + replica + "&timeout_ms=" + timeout.toMillis());
            java.net.http.HttpResponse<String> r = ADMIN.send(
                    java.net.http.HttpRequest.newBuilder(uri)
                            .timeout(timeout.plusSeconds(30))
                            .header("Content-Type", "application/json") // the node takes no POST of another type
                            .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("POST " + uri + " answered " + r.statusCode() + ": "
                        + r.body().strip());
            }
        }

        private boolean isLearner() throws InterruptedException {
            String target = bed.leader().orElse(leaderAtWipe);
            try {
                java.net.http.HttpResponse<String> r = ADMIN.send(
                        java.net.http.HttpRequest.newBuilder(bed.baseUrl(target).resolve("/admin/members"))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200
                        && JSON.readTree(r.body()).path("learners").toString().contains("\"" + replica + "\"");
            } catch (IOException e) {
                return false; // the leader changing: ask again
            }
        }

        CatchUp awaitCatchUp(Duration timeout) throws InterruptedException, TimeoutException {
            if (!restarted) {
                throw new IllegalStateException("replica " + replica + " was wiped but not restarted: heal it first");
            }
            probe.awaitApplied(replica, bed.baseUrl(replica), offset, timeout);
            Duration took = Duration.ofNanos(System.nanoTime() - restartedAt);
            StatusProbe.NodeStatus status = probe.status(replica, bed.baseUrl(replica))
                    .orElseThrow(() -> new TimeoutException(
                            replica + " caught up to offset " + offset + " but then did not answer /status"));
            return new CatchUp(replica, leader, offset, leaderLogStart, took, status);
        }
    }

    /** Deletes {@code dir} and everything under it; a missing directory is already deleted. */
    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        if (Files.exists(dir)) {
            throw new IOException("could not delete " + dir);
        }
    }

    private String follower(String leader) {
        List<String> others = bed.ids().stream()
                .filter(id -> !id.equals(leader) && bed.replica(id).isAlive())
                .toList();
        return others.isEmpty() ? leader : pick(others);
    }

    private String pick(List<String> ids) {
        return ids.get(random.nextInt(ids.size()));
    }
}
