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

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The faults the harness injects. Each is healed before the next one starts. Immutable and thread-safe. */
public enum FaultKind {
    /** SIGKILL a replica (the leader or a follower); restart it from its files after a while. */
    KILL_REPLICA(true),
    /**
     * SIGKILL a replica and start it again at once from its files, as a supervisor would, long before its ZooKeeper
     * session could expire: the restarted process ends its previous run's session at start, which takes that run's
     * election nodes away (docs/partitions.md, "A node that comes back"). Only when named ({@code --faults}): not in
     * {@link #standard()}, so that the standard profiles keep their schedules and their time.
     */
    RESTART_REPLICA(true),
    /** SIGSTOP the leader for longer than the session timeout, then SIGCONT it: a zombie that wakes up. */
    PAUSE_LEADER(false),
    /** SIGKILL a ZooKeeper server that is not the quorum leader; restart it later. */
    KILL_ZK_SERVER(false),
    /** SIGKILL the ZooKeeper quorum leader; restart it later. */
    KILL_ZK_LEADER(false),
    /** Expire a replica's ZooKeeper session (the leader's or a follower's) from the server side. */
    EXPIRE_SESSION(true),
    /** Cut a replica (the leader or a follower) off from ZooKeeper only, past the session timeout. */
    CUT_ZOOKEEPER(true),
    /** Cut the leader off from its followers only; everyone keeps ZooKeeper. */
    CUT_LEADER_FROM_FOLLOWERS(false),
    /** Isolate a replica (the leader or a follower) entirely: ZooKeeper and replication, past the session timeout. */
    ISOLATE_REPLICA(true),
    /**
     * SIGKILL a follower, delete its whole data directory (log, snapshots, promise), restart it with the same id and
     * arguments: a replica that lost its disk comes back empty and must catch up (by a snapshot install once the
     * leader's log no longer starts at 0). Always a follower, never the leader; the nemesis waits for it to catch up
     * before the next fault.
     */
    WIPE_REPLICA(false),
    /**
     * SIGKILL a follower and delete its data directory, then replace it through a membership change (issue 15): ask
     * the leader to remove it from the replica set ({@code POST /admin/members/remove}), then to add it back ({@code
     * POST /admin/members/add}), start it empty once it is a learner, and wait until the change that makes it a voter
     * again is active — the safe way back for a replica that lost its disk. Always a follower; the nemesis waits for it
     * to catch up before the next fault.
     */
    REPLACE_REPLICA(false),
    /**
     * SIGSTOP the leader for a third of the replicas' fast failover suspicion timeout, then SIGCONT it: a pause (a GC
     * pause) too short to be suspected; it should cost no leader change. Only in the {@code fast-failover} profile,
     * unless named.
     */
    PAUSE_LEADER_BELOW_SUSPICION(false),
    /**
     * SIGSTOP the leader for twice the suspicion timeout, but less than the ZooKeeper session timeout, then SIGCONT
     * it: a majority suspects it and deposes it while its session lives, and it wakes up as a fenced zombie with
     * requests in flight. Only in the {@code fast-failover} profile, unless named.
     */
    PAUSE_LEADER_ABOVE_SUSPICION(false),
    /**
     * SIGKILL the controller node (the node whose {@code /status} says it is the active controller, docs/controller.md)
     * and restart it from its files: its registration and its office end when its session expires or the restarted
     * process ends that session, whichever comes first, and another node takes office in a higher controller epoch. Only with replicas run with {@code --leadership controller}.
     */
    KILL_CONTROLLER(false),
    /**
     * SIGSTOP the controller node past the session timeout, then SIGCONT it: another node takes office while it is
     * frozen, and it wakes up as a zombie controller whose writes and requests must be refused (fencing rules 1 and 4).
     * Only with the controller.
     */
    PAUSE_CONTROLLER(false),
    /**
     * Cut the controller node off from ZooKeeper only, past the session timeout: it loses its office and its
     * registration while it still reaches the other nodes. Only with the controller.
     */
    CUT_CONTROLLER_FROM_ZOOKEEPER(false),
    /**
     * Move a partition's replicas through the controller ({@code POST /admin/reassign} on any node, docs/controller.md
     * "Reassignment") while the clients run: shrink a partition chosen from the seed to two replicas (one of its three,
     * chosen likewise, removed), wait until the move completed, then grow it back to its three replicas in their
     * former order, and wait again; each wait is bounded, and a move that does not complete in it is reported. Aimed
     * at no node: nothing is killed or cut. Only with the controller.
     */
    REASSIGN_PARTITION(false);

    /** Kinds injected only when named: not in {@link #standard()}. */
    private static final List<FaultKind> NAMED_ONLY_KINDS = List.of(RESTART_REPLICA);

    /** The kinds tied to fast failover's suspicion timeout, left out of the other profiles unless named. */
    private static final List<FaultKind> SUSPICION_KINDS =
            List.of(PAUSE_LEADER_BELOW_SUSPICION, PAUSE_LEADER_ABOVE_SUSPICION);

    /** The kinds aimed at the controller node, for replicas run with the controller only. */
    private static final List<FaultKind> CONTROLLER_KINDS =
            List.of(KILL_CONTROLLER, PAUSE_CONTROLLER, CUT_CONTROLLER_FROM_ZOOKEEPER);

    /** The kinds for replicas run with the controller only: those aimed at the controller node, and reassignment. */
    private static final List<FaultKind> CONTROLLER_MODE_KINDS =
            List.of(KILL_CONTROLLER, PAUSE_CONTROLLER, CUT_CONTROLLER_FROM_ZOOKEEPER, REASSIGN_PARTITION);

    private final boolean targeted;

    FaultKind(boolean targeted) {
        this.targeted = targeted;
    }

    /**
     * Every kind but those tied to fast failover's suspicion timeout ({@link #PAUSE_LEADER_BELOW_SUSPICION}, {@link
     * #PAUSE_LEADER_ABOVE_SUSPICION}), those for replicas run with the controller ({@link #controllerMode()}) and
     * {@link #RESTART_REPLICA} (named only): what
     * the {@code ci}, {@code soak} and {@code snapshots} profiles inject, in declaration order.
     */
    public static List<FaultKind> standard() {
        return Arrays.stream(values())
                .filter(k -> !SUSPICION_KINDS.contains(k)
                        && !CONTROLLER_MODE_KINDS.contains(k)
                        && !NAMED_ONLY_KINDS.contains(k))
                .toList();
    }

    /**
     * The kinds for replicas run with the controller only, in declaration order: those aimed at the controller node
     * ({@link #controller()}) and {@link #REASSIGN_PARTITION}.
     */
    public static List<FaultKind> controllerMode() {
        return CONTROLLER_MODE_KINDS;
    }

    /** True if the fault needs replicas run with the controller ({@link #controllerMode()}). */
    public boolean needsController() {
        return CONTROLLER_MODE_KINDS.contains(this);
    }

    /**
     * The kinds aimed at the controller node ({@link #KILL_CONTROLLER}, {@link #PAUSE_CONTROLLER}, {@link
     * #CUT_CONTROLLER_FROM_ZOOKEEPER}), in declaration order: for replicas run with the controller only.
     */
    public static List<FaultKind> controller() {
        return CONTROLLER_KINDS;
    }

    /** True if the fault hits the controller node. */
    public boolean onController() {
        return CONTROLLER_KINDS.contains(this);
    }

    /** True if the fault hits either the leader or a follower, chosen per injection. */
    public boolean targeted() {
        return targeted;
    }

    /** The name on the command line and in reports, e.g. {@code kill-replica}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Parses a wire name.
     *
     * @throws IllegalArgumentException naming the valid names
     */
    public static FaultKind parse(String name) {
        for (FaultKind k : values()) {
            if (k.wireName().equals(name.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown fault '" + name + "'; one of: "
                + Arrays.stream(values()).map(FaultKind::wireName).collect(Collectors.joining(", ")));
    }
}
