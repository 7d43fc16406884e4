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
package dev.tenure.replicator.core;

import dev.tenure.controller.core.ControllerCore;
import dev.tenure.controller.core.LeaderAndReplicas;
import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.controller.core.NodeTerms;
import dev.tenure.controller.core.PartitionSet;
import dev.tenure.controller.core.PartitionSets;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.core.StateWrite;
import dev.tenure.controller.core.VersionedState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A deterministic, seeded simulation of the controller (issue 17) over the partitioned replication world: several
 * partitions ({@link Simulation#partition}) on overlapping replica sets of a few nodes, whose leaders come from one
 * elected controller instead of a per-partition election.
 *
 * <ul>
 *   <li><b>ZooKeeper</b> holds the nodes' registrations (ephemeral, each with a node epoch that is higher at every
 *       restart or session loss), the controller epoch node with its version, and per partition a state node with its
 *       version. A controller's write is a compare-and-set on the state's version, conditional on the controller epoch
 *       node's version (the fence); its outcome is Written, Conflict (the controller re-reads: {@code refreshed}),
 *       Fenced (the controller stops) or Unknown (the reply is lost, the write applied or not at random; the
 *       controller re-reads, or its client sends the same write again, which conflicts if the first one landed).
 *   <li><b>The controller</b> is a {@link ControllerCore} of some epoch running on a node. When that node crashes or
 *       loses its session, a later step elects another (the next controller epoch), which takes office with what it
 *       reads; a controller whose session was lost may go on as a <em>zombie</em> for a while: it still reads and
 *       decides, its writes come back Fenced, its requests already sent arrive late. It hears registrations come and go
 *       a step or more after they do, re-sends to nodes that did not acknowledge ({@code tellAgain}, as on a timer),
 *       runs preferred elections and rebalances now and then, and takes controlled shutdowns.
 *   <li><b>The nodes</b> receive the controller's batched requests through the network (delayed, reordered,
 *       duplicated, dropped), apply them with {@link NodeTerms} (keeping their highest controller epoch durably:
 *       it survives crashes and power loss) and tell their replicas {@code elected(E)}/{@code revoked(E)} exactly as
 *       {@link NodeTerms#leaderEpoch} says ({@link Simulation#lead}, {@link Simulation#revoke}); a replica that gives
 *       its term up tells its node ({@link Simulation.Host#steppedDown}), which never gives it that term again. A node
 *       crashes (the page cache survives), loses power (only what was synced survives), loses its ZooKeeper session,
 *       restarts, or shuts down in a controlled way (asks the controller until its leaderships moved, then stops).
 * </ul>
 *
 * <p>After every step: every partition's replication invariants ({@link Simulation#checkInvariants}), at most one
 * replica of a partition leading an epoch, and the controller's: a partition's state version and leader epoch never go
 * back in ZooKeeper; no two different leaders are ever named for one partition and leader epoch, in ZooKeeper or in
 * what a node takes or leads; a node never takes a term ZooKeeper never held; a node never leads an epoch given to a
 * previous registration of itself; a node's highest controller epoch never goes back (across crashes and power loss)
 * and it never takes a request of a lower controller epoch than one it took before. A violation throws {@link
 * AssertionError} with the seed and the last events.
 *
 * <p>With {@link #withPartitionSets}, admins ask for partition sets to be created and deleted, and the controllers
 * carry the requests out through {@link PartitionSets#decide} and {@link ControllerCore}'s creation and deletion
 * (docs/controller-simulation.md, "Partition sets"); a set's partitions join the world when their first state lands
 * in ZooKeeper and leave it when their nodes are removed.
 */
final class ControllerSimulation implements Simulation.Host {
    /** A defect the simulation can reintroduce, to show that its invariants catch it. */
    enum Defect {
        NONE,
        /**
         * ZooKeeper's state writes are neither fenced by the controller epoch node's version nor compare-and-set on
         * the state's version: the last writer wins, so a zombie controller's writes land (Kafka before KAFKA-6082,
         * without even the version check).
         */
        LAST_WRITER_WINS,
        /**
         * The nodes do not check registrations: they take a request addressed to a previous registration of
         * themselves, and lead a term whose state names a previous registration (Kafka before KIP-380's broker
         * epoch): a restarted node leads a term of its previous life.
         */
        IGNORES_REGISTRATION,
        /** The nodes keep their highest controller epoch without forcing it: a power loss takes it back. */
        FORGETS_CONTROLLER_EPOCH_AT_POWER_LOSS,
        /** The nodes do not check the controller epoch: they take a request of a lower epoch than the highest seen. */
        ACCEPTS_LOWER_CONTROLLER_EPOCH,
        /**
         * A reassignment's leader reports the joint configuration ready as soon as it leads it, before its epoch-start
         * entry is committed under both majorities: the controller writes the target alone while entries committed
         * by the original replicas may be on a minority of the target (docs/controller.md, "Reassignment").
         */
        REPORTS_JOINT_READY_BEFORE_IT_COMMITS,
        /**
         * The controller removes a deleted partition's ZooKeeper nodes as soon as it began deleting it, without waiting
         * for every replica to confirm it deleted its copy: a replica whose node was down, or whose request was lost,
         * keeps its files once the deletion is complete (docs/controller.md, fencing rule 10).
         */
        REMOVES_PARTITION_BEFORE_EVERY_REPLICA_DELETED
    }

    /** Probabilities of the controller-level faults (the replication faults are {@link Simulation.Faults}). */
    record Faults(
            double sessionLoss,
            double controllerSessionLoss,
            double zombie,
            double unknownOutcome,
            double controlledShutdown,
            double rebalance) {
        static final Faults DEFAULT = new Faults(0.004, 0.005, 0.6, 0.1, 0.01, 0.01);
    }

    /** What travels between the nodes. */
    private sealed interface Wire permits Replication, Assign, Ack, ShutdownAsk, ShutdownReply, Ready, Stop {
        String from();

        String to();
    }

    /** A partition's replication message. */
    private record Replication(Simulation partition, Message message) implements Wire {
        @Override
        public String from() {
            return message.from();
        }

        @Override
        public String to() {
            return message.to();
        }
    }

    /** The controller on node {@code from} sends {@code request} (LeaderAndReplicas) to its node. */
    private record Assign(String from, long requestId, LeaderAndReplicas request) implements Wire {
        @Override
        public String to() {
            return request.node();
        }
    }

    /** A node answers the controller of {@code controllerEpoch} on node {@code to}. */
    private record Ack(String from, String to, long controllerEpoch, long requestId, NodeTerms.Verdict result)
            implements Wire {}

    /** Node {@code from}, registered with {@code nodeEpoch}, asks the controller on {@code to} to let it stop. */
    private record ShutdownAsk(String from, String to, long nodeEpoch) implements Wire {}

    /** The controller's answer to a controlled shutdown. */
    private record ShutdownReply(String from, String to, long nodeEpoch, ControllerCore.ShutdownProgress progress)
            implements Wire {}

    /** A leader's report that its reassignment may take the next step ({@code ControlMessage.ChangeReady}). */
    private record Ready(
            String from, String to, long nodeEpoch, String partition, long leaderEpoch, long configurationVersion)
            implements Wire {}

    /** The controller asks node {@code to} to delete its replicas of {@code partitions} ({@code StopReplicas}). */
    private record Stop(
            String from, String to, long requestId, long controllerEpoch, long nodeEpoch, List<String> partitions)
            implements Wire {}

    /** A controller process: a core of some epoch on a node, fenced by the epoch node's version it was elected at. */
    private static final class Controller {
        final ControllerCore core;
        final String node;
        final int fenceVersion;
        boolean running = true;
        boolean zombie;
        /**
         * Per node, the requests not acknowledged yet: id to the step it was sent at (negative if it was a full one,
         * whose acknowledgement covers every request before it). A newer request's acknowledgement does not cover an
         * older one: a lost delta is not in it.
         */
        final Map<String, TreeMap<Long, Long>> unacknowledged = new TreeMap<>();
        /** Per node, the steps to wait for an acknowledgement before telling it again: doubled at every re-send. */
        final Map<String, Long> resendAfter = new TreeMap<>();
        /** The stop-replicas requests not acknowledged yet: id to the partitions named. */
        final Map<Long, List<String>> stopRequests = new HashMap<>();

        Controller(ControllerCore core, int fenceVersion) {
            this.core = core;
            this.node = core.self();
            this.fenceVersion = fenceVersion;
        }

        @Override
        public String toString() {
            return "controller " + node + "@" + core.controllerEpoch() + (zombie ? " (zombie)" : "");
        }
    }

    /** A write sent to ZooKeeper, its outcome not known yet. */
    private record ZkOp(Controller controller, StateWrite write, long issuedAt) {}

    /** A node: one process and one disk, hosting one replica of each partition whose replica set names it. */
    static final class Node {
        final String id;
        final List<Simulation> partitions = new ArrayList<>();
        boolean up = true;
        /** Bumped at every stop and start: a step-down reported by a previous process is not this one's. */
        int incarnation;
        /** The current registration's node epoch; 0 without one. */
        long nodeEpoch;

        NodeTerms terms;
        /** The epoch each partition's replica was told it leads. */
        final Map<String, Long> leading = new TreeMap<>();
        /** The highest controller epoch: in memory, in the page cache (survives a crash), on disk (survives all). */
        long highest;

        long cachedHighest;
        long durableHighest;
        /** The controller of the newest request taken (where a controlled shutdown is asked). */
        String controller;

        boolean shuttingDown;
        int shutdownAsks;

        Node(String id) {
            this.id = id;
            this.terms = new NodeTerms(id);
        }

        Simulation.Replica replicaOf(Simulation partition) {
            return partition.replicas.get(id);
        }
    }

    private final long seed;
    private final Random random;
    private final Simulation.Faults faults;
    private final Faults controllerFaults;
    private final Defect defect;
    private final Deque<String> trace = new ArrayDeque<>();

    final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<Node> nodeList = new ArrayList<>();
    final List<Simulation> partitions = new ArrayList<>();
    private final Map<String, Simulation> partitionsByName = new LinkedHashMap<>();
    /** The replica sets, preferred leader first, as the partitions are created. */
    private final Map<String, List<String>> replicaSets = new LinkedHashMap<>();

    private final List<Wire> network = new ArrayList<>();
    /** When node {@code a} last heard from node {@code b} ("a<b"). */
    private final Map<String, Long> lastHeard = new HashMap<>();

    // The simulated ZooKeeper.
    private long zkControllerEpoch;
    private int zkControllerEpochVersion;
    private long zkNodeEpochs;
    private final Map<String, NodeRegistration> zkRegistrations = new TreeMap<>();
    private final Map<String, VersionedState> zkStates = new TreeMap<>();
    /** Every term ZooKeeper ever held: partition, then leader epoch, to the state. */
    private final Map<String, Map<Long, PartitionState>> zkTerms = new TreeMap<>();

    /** The controller holding office (its session holds /controller), or null between two. */
    private Controller current;
    /** Every controller process still running: the current one and zombies. */
    private final List<Controller> controllers = new ArrayList<>();

    private final List<ZkOp> zkInFlight = new ArrayList<>();
    private long nextRequestId;

    /** Replicas' step-downs, applied by their node after the event: node, incarnation, partition, epoch. */
    private record StepDown(Node node, int incarnation, Simulation partition, long epoch) {}

    private final List<StepDown> stepDowns = new ArrayList<>();

    // World-side truth for the invariants, kept across the nodes' crashes.
    private final Map<String, Long> highestEverHeld = new HashMap<>();
    private final Map<String, Long> highestEverTaken = new HashMap<>();
    /** Who each partition and epoch was given to, as told to a replica: "node@nodeEpoch". */
    private final Map<String, Map<Long, String>> told = new HashMap<>();

    /**
     * Whether the controller-level invariants are checked; off, only the replication invariants (and one leader per
     * epoch among the replicas) are, to see what a defect does to the replicated logs themselves.
     */
    boolean checkControllerInvariants = true;

    private long now;
    private boolean calm;
    /** Steps run (the controller's re-send timer counts them). */
    private long steps;

    private static final long RESEND_AFTER_STEPS = 150;
    private static final int TRACE = Integer.getInteger("sim.trace", 80);

    int controllerElections;
    int controllerFailovers;
    int zombieControllers;
    int zombieWritesFenced;
    int zombieRequestsSent;
    int conflicts;
    int unknownOutcomes;
    int termsWritten;
    int leadersMoved;
    int staleControllerEpochRefused;
    int staleNodeEpochRefused;
    int assignmentsDropped;
    int assignmentsDuplicated;
    int assignmentsApplied;
    int tellAgains;
    int nodeCrashes;
    int nodePowerLosses;
    int sessionLosses;
    int controlledShutdowns;
    int controlledShutdownsTimedOut;
    int preferredMoves;
    int stepDownsReported;
    /** Reassignments the controller took, refused (bad or overlapping), and completed (written as the target alone). */
    int reassignmentsStarted;

    int reassignmentsRefused;
    int reassignmentsCompleted;
    int jointConfigurationsWritten;
    int readyReports;
    /** Probability of a step that asks the controller for a reassignment; 0 (the default) turns them off. */
    private double reassignRate;
    /** The epoch each partition's replica on a node asked to activate its joint configuration in: "p/node". */
    private final Map<String, Long> activationAsked = new HashMap<>();
    /**
     * In the calm: leaders that had given their term up (check-quorum), for which the node renewed its session so that
     * the controller gives a new term: {@link ControllerCore} hears of no give-up.
     */
    int calmRenewalsAfterAGiveUp;
    /**
     * In the calm: leaders stuck recovering (without check-quorum, a recovering leader that fetches from a replica that
     * died waits for it forever), for which the node renewed its session.
     */
    int calmRenewalsOfAStalledRecovery;

    private static final int STALLED_RECOVERY_STEPS = 5000;

    // Partition sets (withPartitionSets): the simulated ZooKeeper's sets and admin requests, and the world's view.
    /** Probability of a step that asks for a set's creation or deletion; 0 (the default) turns partition sets off. */
    private double setRate;
    /** The partition-set events' own random stream, so that the other schedules draw the same numbers as before. */
    private Random setRandom;

    private final Map<String, PartitionSets.Stored> zkSets = new TreeMap<>();
    private final Map<String, PartitionSets.CreateRequest> zkCreateRequests = new TreeMap<>();
    private final Set<String> zkDeleteRequests = new TreeSet<>();
    private int nextSetName;
    /** The partitions of sets, created in the world when their state landed in ZooKeeper. */
    private final Set<String> setPartitions = new TreeSet<>();
    /** Partitions whose ZooKeeper nodes were removed: no node may keep a replica of them. */
    private final Set<String> removedPartitions = new TreeSet<>();
    /** The event count when some controller first began deleting each partition. */
    private final Map<String, Long> deletionBegan = new HashMap<>();
    /** Per controller epoch and partition ("epoch/p"): the event count when that controller began deleting it. */
    private final Map<String, Long> deletingSince = new HashMap<>();
    /** The controller epoch that recorded each set (Create) or marked it deleting. */
    private final Map<String, Long> setStepBy = new HashMap<>();

    private long events;

    int setsAsked;
    int setsRecorded;
    int setsCreated;
    int setCreationsRefused;
    int deletionsAsked;
    int deletionsRefused;
    int setsMarkedDeleting;
    int setsDeleted;
    int setPartitionsCreated;
    int setPartitionsRemoved;
    int stopRequestsSent;
    int replicasDeleted;
    int setWritesFenced;
    int setWritesUnknown;
    int setConflicts;
    /** Sets marked created by a controller other than the one that recorded them. */
    int creationsFinishedByASuccessor;
    /** Sets removed by a controller other than the one that marked them deleting. */
    int deletionsFinishedByASuccessor;
    /** Terms written for a partition after some controller began deleting it (by one that had not read it yet). */
    int termsAfterDeletionBegan;

    /**
     * {@code partitionCount} partitions of 3 replicas each on {@code nodeCount} nodes; a first controller is elected
     * and creates them.
     */
    ControllerSimulation(long seed, int nodeCount, int partitionCount, Defect defect) {
        this(seed, nodeCount, partitionCount, Simulation.Faults.DEFAULT, Faults.DEFAULT, defect);
    }

    ControllerSimulation(
            long seed,
            int nodeCount,
            int partitionCount,
            Simulation.Faults faults,
            Faults controllerFaults,
            Defect defect) {
        this.seed = seed;
        this.random = new Random(seed);
        this.faults = faults;
        this.controllerFaults = controllerFaults;
        this.defect = defect;
        for (int i = 0; i < nodeCount; i++) {
            Node n = new Node("n" + i);
            nodes.put(n.id, n);
            nodeList.add(n);
        }
        for (int p = 0; p < partitionCount; p++) {
            List<String> all = new ArrayList<>(nodes.keySet());
            List<String> set = new ArrayList<>();
            while (set.size() < 3) {
                set.add(all.remove(random.nextInt(all.size()))); // drawn order: the first is the preferred leader
            }
            Simulation partition =
                    Simulation.partition("p" + p, set, seed, random, faults, Simulation.Defect.NONE, this, trace);
            partitions.add(partition);
            partitionsByName.put(partition.name, partition);
            replicaSets.put(partition.name, List.copyOf(set));
            for (String id : set) {
                nodes.get(id).partitions.add(partition);
            }
        }
        for (Node n : nodeList) {
            register(n);
        }
        electController();
        checkInvariants();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Running.

    /** Runs {@code steps} random steps with faults, checking every invariant after each. */
    void run(int steps) {
        for (int i = 0; i < steps; i++) {
            try {
                this.steps++;
                step();
                applyStepDowns();
            } catch (RuntimeException e) {
                throw failure("threw " + e, e);
            }
            checkInvariants();
        }
    }

    /**
     * Turns reassignments on: a fraction {@code rate} of the steps asks the controller to move a random partition to
     * another replica set (one replica replaced, one added or one removed; three or four replicas), and as many make a
     * node report its reassignments ready.
     */
    ControllerSimulation withReassignments(double rate) {
        this.reassignRate = rate;
        return this;
    }

    /**
     * Turns partition sets on: a fraction {@code rate} of the steps asks for a new set of one to three partitions of
     * three replicas (one in ten of six replicas, which is refused on five nodes) or for the deletion of a set (one
     * in ten of a set that does not exist), and twice as many make a controller read the sets and take the next steps
     * ({@link PartitionSets#decide}). These events draw from their own random stream.
     */
    ControllerSimulation withPartitionSets(double rate) {
        this.setRate = rate;
        this.setRandom = new Random(seed * 31 + 17);
        return this;
    }

    private void step() {
        if (setRate > 0) {
            double z = setRandom.nextDouble();
            if (z < setRate) {
                askForASetChange();
                return;
            }
            if (z < 3 * setRate) {
                reconcileSets(controllers.isEmpty() ? null : controllers.get(setRandom.nextInt(controllers.size())));
                return;
            }
        }
        if (reassignRate > 0) {
            double y = random.nextDouble();
            if (y < reassignRate) {
                reassign();
                return;
            }
            if (y < 2 * reassignRate) {
                reportReady(randomNode());
                return;
            }
        }
        double x = random.nextDouble();
        if (x < 0.40) {
            deliverSome();
            return;
        }
        x = (x - 0.40) / 0.60; // the rest of the step kinds, by weight
        if ((x -= 0.18) < 0) {
            syncOn(randomNode(), random.nextBoolean());
        } else if ((x -= 0.20) < 0) {
            tickOn(randomNode());
        } else if ((x -= 0.22) < 0) {
            proposeSomewhere();
        } else if ((x -= 0.03) < 0) {
            Simulation p = randomPartition();
            p.readBarrierOn(randomReplicaOf(p));
        } else if ((x -= 0.10) < 0) {
            completeZkOp();
        } else if ((x -= 0.06) < 0) {
            watch(randomController());
        } else if ((x -= 0.03) < 0) {
            controllerTimer(randomController());
        } else if ((x -= 0.04) < 0) {
            electController();
        } else if ((x -= faults.processCrash()) < 0) {
            crash(randomNode(), "process crash");
        } else if ((x -= faults.powerLoss()) < 0) {
            powerLoss(randomNode());
        } else if ((x -= controllerFaults.sessionLoss()) < 0) {
            sessionLoss(randomNode());
        } else if ((x -= controllerFaults.controllerSessionLoss()) < 0) {
            if (current != null) {
                sessionLoss(nodes.get(current.node));
            }
        } else if ((x -= 0.05) < 0) {
            restart(randomNode());
        } else if ((x -= 0.02) < 0) {
            zombieLearnsItLostOffice();
        } else if ((x -= controllerFaults.controlledShutdown()) < 0) {
            startControlledShutdown(randomNode());
        } else if ((x -= 0.03) < 0) {
            askAgainToShutDown();
        } else if ((x -= controllerFaults.rebalance()) < 0) {
            rebalance();
        } else if ((x -= 0.02) < 0) {
            Simulation p = randomPartition();
            p.takeSnapshot(randomReplicaOf(p));
        }
    }

    private void deliverSome() {
        if (network.isEmpty()) {
            return;
        }
        Wire w = network.remove(random.nextInt(network.size()));
        if (!calm && random.nextDouble() < faults.drop()) {
            record("drop " + describe(w));
            if (w instanceof Assign) {
                assignmentsDropped++;
            }
            return;
        }
        if (!calm && random.nextDouble() < faults.duplicate()) {
            network.add(w);
            if (w instanceof Assign) {
                assignmentsDuplicated++;
            }
        }
        deliver(w);
    }

    private void deliver(Wire w) {
        Node to = nodes.get(w.to());
        if (!to.up) {
            record("lost " + describe(w));
            return;
        }
        lastHeard.put(w.to() + "<" + w.from(), now);
        if (w instanceof Replication r) {
            r.partition().deliver(r.message());
        } else if (w instanceof Assign a) {
            onAssign(to, a);
        } else if (w instanceof Ack a) {
            Controller c = controllerOn(a.to(), a.controllerEpoch());
            TreeMap<Long, Long> waiting = c == null ? null : c.unacknowledged.get(a.from());
            List<String> stopped = c == null ? null : c.stopRequests.remove(a.requestId());
            if (stopped != null && a.result() == NodeTerms.Verdict.APPLY) {
                c.core.replicasDeleted(a.from(), stopped);
                record(c + " hears " + a.from() + " deleted its replicas of " + stopped);
            }
            if (waiting != null && a.result() == NodeTerms.Verdict.APPLY && waiting.containsKey(a.requestId())) {
                if (waiting.get(a.requestId()) < 0) {
                    waiting.headMap(a.requestId(), true).clear(); // a full request covers the ones before it
                } else {
                    waiting.remove(a.requestId());
                }
                c.resendAfter.remove(a.from());
            }
            if (stopped != null) {
                work(c);
            }
        } else if (w instanceof Stop s) {
            onStop(to, s);
        } else if (w instanceof ShutdownAsk s) {
            onShutdownAsk(s);
        } else if (w instanceof ShutdownReply s) {
            onShutdownReply(to, s);
        } else if (w instanceof Ready r) {
            Controller c = controllerOn(r.to());
            if (c != null && c.running) {
                c.core.changeReady(r.from(), r.nodeEpoch(), r.partition(), r.leaderEpoch(), r.configurationVersion());
                work(c);
            }
        }
    }

    private static String describe(Wire w) {
        if (w instanceof Replication r) {
            return r.partition().name + " " + r.message();
        }
        if (w instanceof Assign a) {
            LeaderAndReplicas r = a.request();
            return "assignment #" + a.requestId() + " of " + a.from() + "@" + r.controllerEpoch() + " to " + r.node()
                    + "@" + r.nodeEpoch() + (r.full() ? " (full)" : "") + " " + terms(r.partitions());
        }
        return w.toString();
    }

    private static String terms(Map<String, PartitionState> states) {
        StringBuilder s = new StringBuilder("{");
        states.forEach((p, st) -> s.append(s.length() == 1 ? "" : ", ")
                .append(p)
                .append('=')
                .append(st.leader().map(l -> l + "@" + st.leaderNodeEpoch()).orElse("-"))
                .append(" e")
                .append(st.leaderEpoch()));
        return s.append('}').toString();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The simulated ZooKeeper and the controllers.

    private void register(Node n) {
        n.nodeEpoch = ++zkNodeEpochs;
        NodeRegistration r = new NodeRegistration(n.id, n.nodeEpoch, n.id + ":9092");
        zkRegistrations.put(n.id, r);
        record("register " + n.id + "@" + n.nodeEpoch);
    }

    /** The node's registration ends (its session expired or it stopped); a controller on it loses office. */
    private void unregister(Node n, boolean processRuns) {
        NodeRegistration r = zkRegistrations.get(n.id);
        if (r != null && r.nodeEpoch() == n.nodeEpoch) {
            zkRegistrations.remove(n.id);
        }
        n.nodeEpoch = 0;
        if (current != null && current.node.equals(n.id)) {
            Controller old = current;
            current = null;
            if (processRuns && !calm && random.nextDouble() < controllerFaults.zombie()) {
                old.zombie = true;
                zombieControllers++;
                record(old + " lost its session and goes on as a zombie");
            } else {
                stop(old, processRuns ? "lost its session and resigns" : "died with its node");
            }
        }
        if (!processRuns) {
            for (Controller c : List.copyOf(controllers)) {
                if (c.node.equals(n.id)) {
                    stop(c, "died with its node");
                }
            }
        }
    }

    private void stop(Controller c, String why) {
        if (c.running) {
            c.running = false;
            controllers.remove(c);
            record(c + " stops: " + why);
        }
    }

    /** If no controller holds office: a registered node that runs wins the election and takes office. */
    void electController() {
        if (current != null) {
            return;
        }
        List<Node> candidates = new ArrayList<>();
        for (Node n : nodeList) {
            if (n.up && n.nodeEpoch != 0) {
                candidates.add(n);
            }
        }
        if (candidates.isEmpty()) {
            return;
        }
        Node n = candidates.get(random.nextInt(candidates.size()));
        zkControllerEpoch++;
        zkControllerEpochVersion++;
        Controller c = new Controller(new ControllerCore(n.id, zkControllerEpoch), zkControllerEpochVersion);
        if (controllerElections++ > 0) {
            controllerFailovers++;
        }
        current = c;
        controllers.add(c);
        record("elect " + c);
        c.core.takeOffice(List.copyOf(zkRegistrations.values()), List.copyOf(zkStates.values()));
        Map<String, List<String>> missing = new LinkedHashMap<>();
        replicaSets.forEach((p, set) -> {
            if (!zkStates.containsKey(p)) {
                missing.put(p, set); // the creation asked for, picked up by every new controller until done
            }
        });
        if (!missing.isEmpty()) {
            c.core.createPartitions(missing);
        }
        if (setRate > 0) {
            // As the real controller: the sets and the deletions in progress first, then its first writes and
            // requests, so that no partition being deleted is given a term or assigned (docs/controller.md, rule 14).
            reconcileSets(c);
        }
        work(c);
    }

    /** After every event of a controller: its writes go to ZooKeeper, its requests to the nodes. */
    private void work(Controller c) {
        if (!c.running || !nodes.get(c.node).up) {
            return;
        }
        for (StateWrite w : c.core.pendingWrites()) {
            zkInFlight.add(new ZkOp(c, w, ++events));
        }
        for (LeaderAndReplicas r : c.core.drainRequests()) {
            long id = ++nextRequestId;
            network.add(new Assign(c.node, id, r));
            c.unacknowledged.computeIfAbsent(r.node(), k -> new TreeMap<>()).put(id, r.full() ? -steps - 1 : steps);
            if (c.zombie) {
                zombieRequestsSent++;
            }
        }
        if (setRate > 0) {
            stopAndRemove(c);
        }
    }

    private Controller randomController() {
        return controllers.isEmpty() ? null : controllers.get(random.nextInt(controllers.size()));
    }

    private Controller controllerOn(String node, long controllerEpoch) {
        for (Controller c : controllers) {
            if (c.node.equals(node) && c.core.controllerEpoch() == controllerEpoch) {
                return c;
            }
        }
        return null;
    }

    /** The newest controller process running on {@code node}, or null. */
    private Controller controllerOn(String node) {
        Controller found = null;
        for (Controller c : controllers) {
            if (c.node.equals(node) && (found == null || c.core.controllerEpoch() > found.core.controllerEpoch())) {
                found = c;
            }
        }
        return found;
    }

    /** ZooKeeper answers one write in flight (in any order: partitions' writes are independent). */
    private void completeZkOp() {
        if (zkInFlight.isEmpty()) {
            return;
        }
        ZkOp op = zkInFlight.remove(random.nextInt(zkInFlight.size()));
        Controller c = op.controller();
        String p = op.write().partition();
        if (!c.running || (!calm && random.nextDouble() < controllerFaults.unknownOutcome())) {
            // The reply is lost (or nobody waits for it): the write reached ZooKeeper or not.
            boolean reached = random.nextBoolean();
            String outcome = reached ? zkWrite(c, op.write()) : "not applied";
            if (outcome.equals("written")) {
                landed(op);
            }
            record("write of " + p + " by " + c + ": outcome unknown (" + outcome + ")");
            if (c.running) {
                unknownOutcomes++;
                if (random.nextBoolean()) {
                    c.core.refreshed(p, Optional.ofNullable(zkStates.get(p)));
                    work(c);
                } else {
                    // The client sends the same write again after reconnecting: a conflict if the first one landed.
                    zkInFlight.add(op);
                }
            }
            return;
        }
        String outcome = zkWrite(c, op.write());
        record("write of " + p + " by " + c + ": " + outcome);
        if (outcome.equals("written")) {
            landed(op);
        }
        if (outcome.equals("fenced")) {
            if (c.zombie) {
                zombieWritesFenced++;
            }
            stop(c, "its write was fenced");
        } else if (outcome.equals("conflict")) {
            conflicts++;
            c.core.refreshed(p, Optional.ofNullable(zkStates.get(p)));
            work(c);
        } else {
            c.core.written(zkStates.get(p));
            work(c);
        }
    }

    /** Applies a write as ZooKeeper does: "written", "conflict" or "fenced". */
    private String zkWrite(Controller c, StateWrite w) {
        String p = w.partition();
        VersionedState known = zkStates.get(p);
        if (defect != Defect.LAST_WRITER_WINS) {
            if (c.fenceVersion != zkControllerEpochVersion) {
                return "fenced";
            }
            boolean matches = w.expectedVersion() == StateWrite.CREATE
                    ? known == null
                    : known != null && known.version() == w.expectedVersion();
            if (!matches) {
                return "conflict";
            }
        }
        VersionedState next = new VersionedState(p, w.state(), known == null ? 0 : known.version() + 1);
        if (known != null && checkControllerInvariants) {
            if (next.version() <= known.version()) {
                fail(p + "'s state version went back from " + known.version() + " to " + next.version());
            }
            if (next.state().leaderEpoch() < known.state().leaderEpoch()) {
                fail(p + "'s leader epoch went back in ZooKeeper from "
                        + known.state().leaderEpoch() + " to " + next.state().leaderEpoch() + " (written by " + c
                        + ")");
            }
        }
        PartitionState before = zkTerms.computeIfAbsent(p, k -> new TreeMap<>())
                .putIfAbsent(next.state().leaderEpoch(), next.state());
        if (checkControllerInvariants && before != null && !sameTerm(before, next.state())) {
            fail("two leaders named for " + p + " in leader epoch "
                    + next.state().leaderEpoch() + " in ZooKeeper: " + term(before) + " and " + term(next.state())
                    + " (written by " + c + ")");
        }
        if (known == null && !partitionsByName.containsKey(p)) {
            createInWorld(p, next.state().replicas());
        }
        zkStates.put(p, next);
        termsWritten++;
        if (w.writesConfiguration()) {
            // The configuration node, in the same transaction: the partition's configuration master.
            Simulation sp = partitionsByName.get(p);
            if (next.state().configurationVersion() > sp.master.version()) {
                sp.master = next.state().configuration();
            }
            if (next.state().joint()) {
                jointConfigurationsWritten++;
            } else if (!next.state().reassigning()
                    && known != null
                    && known.state().joint()) {
                reassignmentsCompleted++;
            }
        }
        if (known != null
                && known.state().leader().isPresent()
                && next.state().leader().isPresent()
                && !known.state().leader().equals(next.state().leader())) {
            leadersMoved++;
        }
        record(p + " := " + term(next.state()) + " e" + next.state().leaderEpoch() + " v" + next.version() + " by "
                + c);
        return "written";
    }

    private static boolean sameTerm(PartitionState a, PartitionState b) {
        return a.leader().equals(b.leader()) && a.leaderNodeEpoch() == b.leaderNodeEpoch();
    }

    private static String term(PartitionState s) {
        return s.leader().map(l -> l + "@" + s.leaderNodeEpoch()).orElse("no leader");
    }

    /** The controller's watch on the registrations fires: it hears one node's change (a step or more late). */
    private void watch(Controller c) {
        if (c == null || !nodes.get(c.node).up) {
            return;
        }
        Set<String> changed = new TreeSet<>();
        Map<String, NodeRegistration> known = c.core.liveNodes();
        known.forEach((id, r) -> {
            NodeRegistration z = zkRegistrations.get(id);
            if (z == null || z.nodeEpoch() != r.nodeEpoch()) {
                changed.add(id);
            }
        });
        zkRegistrations.forEach((id, r) -> {
            NodeRegistration k = known.get(id);
            if (k == null || k.nodeEpoch() < r.nodeEpoch()) {
                changed.add(id);
            }
        });
        if (changed.isEmpty()) {
            return;
        }
        String id = List.copyOf(changed).get(random.nextInt(changed.size()));
        NodeRegistration k = known.get(id);
        NodeRegistration z = zkRegistrations.get(id);
        if (k != null && (z == null || z.nodeEpoch() != k.nodeEpoch())) {
            record(c + " hears " + id + "@" + k.nodeEpoch() + " is lost");
            c.core.nodeLost(id, k.nodeEpoch());
        }
        if (z != null && (k == null || k.nodeEpoch() < z.nodeEpoch())) {
            record(c + " hears " + id + "@" + z.nodeEpoch() + " registered");
            c.core.nodeRegistered(z);
        }
        work(c);
    }

    /**
     * The controller's timer: a node that has a request not acknowledged, and none sent within {@link
     * #RESEND_AFTER_STEPS} (doubled at every re-send until an acknowledgement comes), is told everything again.
     */
    private void controllerTimer(Controller c) {
        if (c == null || c.unacknowledged.isEmpty()) {
            return;
        }
        c.unacknowledged.keySet().retainAll(c.core.liveNodes().keySet());
        for (Map.Entry<String, TreeMap<Long, Long>> e : List.copyOf(c.unacknowledged.entrySet())) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            long sentAt = Math.abs(e.getValue().lastEntry().getValue());
            String n = e.getKey();
            long after = c.resendAfter.getOrDefault(n, RESEND_AFTER_STEPS);
            if (steps - sentAt > after) {
                tellAgains++;
                c.resendAfter.put(n, Math.min(after * 2, 16 * RESEND_AFTER_STEPS));
                c.core.tellAgain(n);
            }
        }
        work(c);
    }

    /** A zombie learns its session is gone and stops. */
    private void zombieLearnsItLostOffice() {
        for (Controller c : List.copyOf(controllers)) {
            if (c.zombie) {
                stop(c, "it learnt its session expired");
                return;
            }
        }
    }

    /** A preferred-leader election of some partitions, or the automatic rebalance. */
    private void rebalance() {
        if (current == null) {
            return;
        }
        List<String> moving;
        if (random.nextBoolean()) {
            moving = current.core.rebalance(10);
            record(current + " rebalances: " + moving);
        } else {
            List<String> some = new ArrayList<>();
            for (String p : replicaSets.keySet()) {
                if (random.nextBoolean()) {
                    some.add(p);
                }
            }
            moving = current.core.electPreferred(some);
            record(current + " runs a preferred election of " + some + ": " + moving + " move");
        }
        preferredMoves += moving.size();
        work(current);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The nodes.

    private void onAssign(Node n, Assign a) {
        LeaderAndReplicas r = a.request();
        long nodeEpoch = defect == Defect.IGNORES_REGISTRATION ? r.nodeEpoch() : n.nodeEpoch;
        long highest = defect == Defect.ACCEPTS_LOWER_CONTROLLER_EPOCH ? 0 : n.highest;
        NodeTerms.Verdict v = n.terms.check(a.from(), r, nodeEpoch, highest);
        if (v != NodeTerms.Verdict.APPLY) {
            record(n.id + "@" + n.nodeEpoch + " refuses " + describe(a) + ": " + v + " (highest controller epoch "
                    + n.highest + ")");
            if (v == NodeTerms.Verdict.STALE_CONTROLLER_EPOCH) {
                staleControllerEpochRefused++;
            } else if (v == NodeTerms.Verdict.STALE_NODE_EPOCH) {
                staleNodeEpochRefused++;
            }
            network.add(new Ack(n.id, a.from(), r.controllerEpoch(), a.requestId(), v));
            return;
        }
        long taken = highestEverTaken.getOrDefault(n.id, 0L);
        if (checkControllerInvariants && r.controllerEpoch() < taken) {
            fail(n.id + " takes " + describe(a) + " after a request of controller epoch " + taken);
        }
        highestEverTaken.put(n.id, r.controllerEpoch());
        r.partitions().forEach((p, s) -> {
            PartitionState z = zkTerms.getOrDefault(p, Map.of()).get(s.leaderEpoch());
            if (checkControllerInvariants
                    && (z == null || !sameTerm(z, s) || !z.replicas().equals(s.replicas()))) {
                fail(n.id + " takes " + p + "'s " + term(s) + " in leader epoch " + s.leaderEpoch() + " from "
                        + describe(a) + ", but ZooKeeper held " + (z == null ? "no such term" : term(z))
                        + (z != null && !sameTerm(z, s) ? ": two leaders named for one epoch" : ""));
            }
        });
        if (r.controllerEpoch() > n.highest) {
            keepHighest(n, r.controllerEpoch());
        }
        record(n.id + "@" + n.nodeEpoch + " takes " + describe(a));
        assignmentsApplied++;
        n.controller = a.from();
        for (String p : n.terms.apply(r, a.requestId())) {
            update(n, p);
            if (!n.up) {
                return; // its process died telling a replica
            }
        }
        network.add(new Ack(n.id, a.from(), r.controllerEpoch(), a.requestId(), v));
    }

    /** The node keeps a higher controller epoch: durably (written and forced), unless the defect skips the force. */
    private void keepHighest(Node n, long epoch) {
        n.highest = epoch;
        n.cachedHighest = epoch;
        if (defect != Defect.FORGETS_CONTROLLER_EPOCH_AT_POWER_LOSS) {
            n.durableHighest = epoch;
        }
    }

    /** Tells {@code partition}'s replica on {@code n} the term {@link NodeTerms#leaderEpoch} says it leads. */
    private void update(Node n, String partition) {
        Simulation p = partitionsByName.get(partition);
        if (setPartitions.contains(partition) && !n.partitions.contains(p)) {
            if (n.leading.containsKey(partition) || n.terms.leaderEpoch(partition, n.nodeEpoch) != 0) {
                // A node that deleted its replica would open it again through its PartitionFactory: no controller
                // assigns a partition being deleted, and no late request undoes a request to delete a replica
                // (docs/controller.md, rules 13 and 14).
                fail(n.id + " holds a term of " + partition + ", whose replica it deleted");
            }
            n.leading.remove(partition);
            return;
        }
        Simulation.Replica r = n.replicaOf(p);
        long should;
        if (defect == Defect.IGNORES_REGISTRATION) {
            // The defect: the term is led whatever registration it was given to.
            should = n.terms
                    .state(partition)
                    .filter(s -> s.leaderNodeEpoch() != 0)
                    .map(s -> n.terms.leaderEpoch(partition, s.leaderNodeEpoch()))
                    .orElse(0L);
        } else {
            should = n.terms.leaderEpoch(partition, n.nodeEpoch);
        }
        long leading = n.leading.getOrDefault(partition, 0L);
        Optional<PartitionState> held = n.terms.state(partition);
        if (should == leading) {
            if (held.isPresent() && r != null) {
                p.configure(r, held.get().configuration()); // a newer configuration (or the same: ignored)
            }
            return;
        }
        if (leading != 0) {
            n.leading.remove(partition);
            p.revoke(r, leading);
            if (!n.up) {
                return;
            }
        }
        if (should != 0) {
            checkLeads(n, partition, should);
            String who = n.id + "@" + n.nodeEpoch;
            String before =
                    told.computeIfAbsent(partition, k -> new HashMap<>()).putIfAbsent(should, who);
            if (checkControllerInvariants && before != null && !before.equals(who) && !before.startsWith(n.id + "@")) {
                fail("two leaders of " + partition + " in epoch " + should + ": " + before + " and " + who);
            }
            n.leading.put(partition, should);
            if (held.isPresent() && held.get().leaderEpoch() == should) {
                p.lead(r, should, held.get().configuration()); // the configuration of that epoch
            } else {
                p.lead(r, should);
            }
        } else if (held.isPresent() && r != null) {
            p.configure(r, held.get().configuration());
        }
        if (held.isPresent() && !held.get().members().contains(n.id) && n.partitions.contains(p)) {
            // A state without this node: it closes its replica and deletes its data (never hosted again here).
            n.partitions.remove(p);
            p.close(r);
        }
    }

    /** {@code n} leads {@code partition} in {@code epoch}: ZooKeeper gave that term to n's current registration. */
    private void checkLeads(Node n, String partition, long epoch) {
        if (!checkControllerInvariants) {
            return;
        }
        PartitionState z = zkTerms.getOrDefault(partition, Map.of()).get(epoch);
        if (z == null || !z.leader().map(n.id::equals).orElse(false)) {
            fail(n.id + " leads " + partition + " in epoch " + epoch + ", which ZooKeeper gave to "
                    + (z == null ? "nobody" : term(z)) + ": two leaders named for one epoch");
        }
        if (z.leaderNodeEpoch() != n.nodeEpoch) {
            fail(n.id + " (registered as " + n.id + "@" + n.nodeEpoch + ") leads " + partition + " in epoch " + epoch
                    + ", which was given to its previous registration " + term(z));
        }
    }

    @Override
    public boolean activate(Simulation partition, String node, long epoch, Configuration joint) {
        activationAsked.put(partition.name + "/" + node, epoch);
        Node n = nodes.get(node);
        if (n.up) {
            reportReady(n, partition.name);
        }
        return true;
    }

    /** Asks the controller in office to move a random partition to another replica set. */
    private void reassign() {
        Controller c = current;
        if (c == null || !c.running || c.zombie) {
            return;
        }
        Simulation p = randomPartition();
        VersionedState vs = c.core.states().get(p.name);
        if (vs == null) {
            return;
        }
        List<String> target = new ArrayList<>(vs.state().replicas());
        List<String> outside = new ArrayList<>(nodes.keySet());
        outside.removeAll(target);
        int kind = random.nextInt(3);
        if (kind == 0 && !outside.isEmpty()) {
            target.set(random.nextInt(target.size()), outside.get(random.nextInt(outside.size())));
        } else if (kind == 1 && target.size() < 4 && !outside.isEmpty()) {
            target.add(outside.get(random.nextInt(outside.size())));
        } else if (target.size() > 3) {
            target.remove(random.nextInt(target.size()));
        } else {
            return;
        }
        java.util.Collections.shuffle(target, random);
        for (String id : target) {
            Node n = nodes.get(id);
            if (!n.partitions.contains(p) && p.replicas.containsKey(id)) {
                return; // a node whose copy was deleted does not join again in this model
            }
        }
        try {
            c.core.reassign(p.name, target);
        } catch (IllegalArgumentException e) {
            reassignmentsRefused++;
            record(c + " refuses to reassign " + p.name + " to " + target + ": " + e.getMessage());
            return;
        }
        reassignmentsStarted++;
        record(c + " reassigns " + p.name + " to " + target);
        for (String id : target) {
            Node n = nodes.get(id);
            if (!n.partitions.contains(p)) {
                // The node opens the partition once told (its factory): here its replica exists from now on.
                Simulation.Replica r = p.addReplica(id);
                n.partitions.add(p);
                if (n.up) {
                    p.restart(r);
                }
            }
        }
        work(c);
    }

    /** Node {@code n} reports every reassignment it leads that may take its next step. */
    private void reportReady(Node n) {
        for (String p : List.copyOf(n.leading.keySet())) {
            reportReady(n, p);
        }
    }

    /**
     * Node {@code n} reports the reassignment of {@code partition} ready if it leads the newest state it holds: in the
     * learning phase at once (the learners' catch-up is liveness only), in the joint phase once its replica asked to
     * activate the joint configuration in that epoch (with the defect, at once too).
     */
    private void reportReady(Node n, String partition) {
        Optional<PartitionState> held = n.terms.state(partition);
        if (!n.up || n.controller == null || held.isEmpty() || !held.get().reassigning()) {
            return;
        }
        PartitionState s = held.get();
        long leading = n.leading.getOrDefault(partition, 0L);
        if (leading == 0 || leading != s.leaderEpoch()) {
            return;
        }
        boolean ready = !s.joint()
                || defect == Defect.REPORTS_JOINT_READY_BEFORE_IT_COMMITS
                || activationAsked.getOrDefault(partition + "/" + n.id, 0L) == leading;
        if (ready) {
            readyReports++;
            network.add(new Ready(n.id, n.controller, n.nodeEpoch, partition, leading, s.configurationVersion()));
        }
    }

    @Override
    public void steppedDown(Simulation partition, String node, long epoch) {
        Node n = nodes.get(node);
        stepDownsReported++;
        stepDowns.add(new StepDown(n, n.incarnation, partition, epoch));
    }

    /** The nodes take note of their replicas' step-downs (the replica's {@code Leadership.stepDown}). */
    private void applyStepDowns() {
        while (!stepDowns.isEmpty()) {
            StepDown s = stepDowns.remove(0);
            Node n = s.node();
            if (n.up && n.incarnation == s.incarnation()) {
                n.terms.steppedDown(s.partition().name, s.epoch());
                update(n, s.partition().name);
            }
        }
    }

    /** The node loses its ZooKeeper session and registers again with a new node epoch: its terms are over. */
    void sessionLoss(Node n) {
        if (!n.up || n.nodeEpoch == 0) {
            return;
        }
        sessionLosses++;
        record("session loss " + n.id + "@" + n.nodeEpoch);
        unregister(n, true);
        register(n);
        n.shuttingDown = false; // asked under the previous registration
        for (String p : List.copyOf(n.terms.partitions())) {
            update(n, p);
            if (!n.up) {
                return;
            }
        }
        for (String p : List.copyOf(n.leading.keySet())) {
            update(n, p);
            if (!n.up) {
                return;
            }
        }
    }

    @Override
    public void send(Simulation partition, Message m) {
        Node from = nodes.get(m.from());
        if (!partition.replicas.containsKey(m.from()) || !from.up) {
            throw failure(
                    partition.name + " sent " + m + " from a replica it does not have or whose node is down", null);
        }
        network.add(new Replication(partition, m));
    }

    @Override
    public void dropMessagesTo(Simulation partition, String node) {
        network.removeIf(w -> w instanceof Replication r
                && r.partition() == partition
                && r.message().to().equals(node));
    }

    @Override
    public void processDied(Simulation partition, String node, String why) {
        crash(nodes.get(node), "its process died in " + partition.name + " (" + why + ")");
    }

    /** The node's process dies: every replica on it stops, its registration ends; the page cache survives. */
    void crash(Node n, String why) {
        if (!n.up) {
            return;
        }
        nodeCrashes++;
        goingDown(n, "crash " + n.id + ": " + why);
        for (Simulation p : n.partitions) {
            Simulation.Replica r = n.replicaOf(p);
            if (r.alive) {
                p.processCrash(r, "node " + n.id + " crashed");
            }
        }
    }

    /** The node loses power: every replica on it stops and what was not synced is gone. */
    void powerLoss(Node n) {
        nodePowerLosses++;
        goingDown(n, "power loss " + n.id + (n.up ? "" : " (already down)"));
        n.cachedHighest = n.durableHighest;
        for (Simulation p : n.partitions) {
            p.powerLoss(n.replicaOf(p));
        }
    }

    private void goingDown(Node n, String what) {
        record(what + (n.leading.isEmpty() ? "" : " (leading " + n.leading + ")"));
        boolean wasUp = n.up;
        n.up = false;
        n.incarnation++;
        n.leading.clear();
        n.shuttingDown = false;
        if (wasUp) {
            unregister(n, false);
        }
    }

    /** The node's process starts again: its replicas reopen their files, it reads its highest controller epoch. */
    void restart(Node n) {
        if (n.up) {
            return;
        }
        n.up = true;
        n.incarnation++;
        n.terms = new NodeTerms(n.id);
        n.leading.clear();
        n.controller = null;
        n.shutdownAsks = 0;
        n.highest = n.cachedHighest;
        record("restart " + n.id + " (highest controller epoch " + n.highest + ")");
        for (Simulation p : n.partitions) {
            if (!n.up) {
                return; // it died again while starting
            }
            p.restart(n.replicaOf(p));
        }
        if (n.up) {
            register(n);
        }
    }

    private void startControlledShutdown(Node n) {
        if (!n.up || n.nodeEpoch == 0 || n.shuttingDown || n.controller == null) {
            return;
        }
        for (Node o : nodeList) {
            if (o.shuttingDown) {
                return; // one at a time, as an operator rolls a cluster
            }
        }
        n.shuttingDown = true;
        n.shutdownAsks = 0;
        record(n.id + "@" + n.nodeEpoch + " asks for a controlled shutdown");
        askToShutDown(n);
    }

    private void askAgainToShutDown() {
        for (Node n : nodeList) {
            if (n.shuttingDown && n.up) {
                if (++n.shutdownAsks > 15) {
                    controlledShutdownsTimedOut++;
                    crash(n, "stops: its controlled shutdown timed out");
                } else {
                    askToShutDown(n);
                }
            }
        }
    }

    private void askToShutDown(Node n) {
        if (n.controller != null) {
            network.add(new ShutdownAsk(n.id, n.controller, n.nodeEpoch));
        }
    }

    private void onShutdownAsk(ShutdownAsk s) {
        Controller c = controllerOn(s.to());
        if (c == null) {
            return;
        }
        ControllerCore.ShutdownProgress progress = c.core.controlledShutdown(s.from(), s.nodeEpoch());
        record(c + ": controlled shutdown of " + s.from() + "@" + s.nodeEpoch() + ": " + progress);
        work(c);
        network.add(new ShutdownReply(c.node, s.from(), s.nodeEpoch(), progress));
    }

    private void onShutdownReply(Node n, ShutdownReply s) {
        if (!n.shuttingDown || s.nodeEpoch() != n.nodeEpoch) {
            return;
        }
        if (s.progress().accepted() && s.progress().movable() == 0) {
            controlledShutdowns++;
            crash(n, "stops after its controlled shutdown (" + s.progress() + ")");
            nodeCrashes--; // a stop, not a crash
        }
    }

    private void syncOn(Node n, boolean all) {
        if (!n.up || n.partitions.isEmpty()) {
            return;
        }
        if (all) {
            for (Simulation p : n.partitions) {
                p.sync(n.replicaOf(p));
            }
        } else {
            Simulation p = n.partitions.get(random.nextInt(n.partitions.size()));
            p.sync(n.replicaOf(p));
        }
    }

    /** Time moves on (1–20 ms over the number of partitions) and the node's timer ticks its replicas. */
    private void tickOn(Node n) {
        now += 1_000_000L * (1 + random.nextInt(20)) / partitions.size();
        for (Simulation p : partitions) {
            p.clock(now);
        }
        for (Node o : nodeList) {
            if (o != n && o.up && (calm || random.nextDouble() >= faults.drop())) {
                lastHeard.put(o.id + "<" + n.id, now);
            }
        }
        if (!n.up) {
            return;
        }
        for (Simulation p : n.partitions) {
            Simulation.Replica r = n.replicaOf(p);
            for (String peer : p.replicas.keySet()) {
                Long at = lastHeard.get(n.id + "<" + peer);
                if (!peer.equals(n.id) && at != null) {
                    p.heard(r, peer, at);
                }
            }
            p.tick(r);
        }
    }

    /** A client writes to a partition: mostly to the replica ZooKeeper names leader, else to any. */
    private void proposeSomewhere() {
        Simulation p = randomPartition();
        VersionedState s = zkStates.get(p.name);
        if (s != null && s.state().leader().isPresent() && random.nextDouble() < 0.7) {
            p.proposeOn(p.replicas.get(s.state().leader().get()));
        } else {
            p.proposeOn(randomReplicaOf(p));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Partition sets.

    /** An admin asks for a new set, or for a set's deletion (refused requests' reasons read and removed first). */
    private void askForASetChange() {
        zkCreateRequests.values().removeIf(q -> q.error().isPresent());
        if (setRandom.nextBoolean() || zkSets.isEmpty()) {
            String name = "s" + nextSetName++;
            int rf = setRandom.nextInt(10) == 0 ? 6 : 3;
            PartitionSet set = new PartitionSet(name, 1 + setRandom.nextInt(3), rf, Map.of());
            zkCreateRequests.put(name, new PartitionSets.CreateRequest(set, Optional.empty()));
            setsAsked++;
            record("admin asks to create " + set);
        } else {
            List<String> names = new ArrayList<>(zkSets.keySet());
            String name = setRandom.nextInt(10) == 0 ? "s" + nextSetName++ : names.get(setRandom.nextInt(names.size()));
            zkDeleteRequests.add(name);
            deletionsAsked++;
            record("admin asks to delete " + name);
        }
    }

    /**
     * Controller {@code c} reads the sets and the requests and takes the steps {@link PartitionSets#decide} gives
     * (its writes fenced as the state writes are), again until none writes, as {@code Controller.reconcileSets}.
     */
    private void reconcileSets(Controller c) {
        for (int round = 0; round < 5; round++) {
            if (c == null || !c.running || !nodes.get(c.node).up) {
                return;
            }
            for (ZkOp op : zkInFlight) {
                if (op.controller() == c) {
                    // The real controller writes states synchronously on its one event thread and re-reads every
                    // unknown outcome at once: it reads the sets only with no state write of its own in flight.
                    return;
                }
            }
            boolean wrote = false;
            List<PartitionSets.Action> actions = PartitionSets.decide(
                    Map.copyOf(zkSets),
                    Map.copyOf(zkCreateRequests),
                    Set.copyOf(zkDeleteRequests),
                    c.core.liveNodes(),
                    c.core.states(),
                    c.core.deleting());
            // As the real controller: every deletion in progress or about to be marked first, before a step that may
            // fail ends the round and before the next requests go out.
            for (PartitionSets.Action a : actions) {
                List<String> toDelete = a instanceof PartitionSets.DeletePartitions d
                        ? d.partitions()
                        : a instanceof PartitionSets.MarkDeleting m
                                ? m.record().set().partitionIds()
                                : List.of();
                if (!toDelete.isEmpty()) {
                    for (String p : toDelete) {
                        if (!c.core.deleting().contains(p) && c.core.states().containsKey(p)) {
                            events++;
                            deletionBegan.putIfAbsent(p, events);
                            deletingSince.putIfAbsent(c.core.controllerEpoch() + "/" + p, events);
                        }
                    }
                    c.core.deletePartitions(toDelete);
                    record(c + " deletes partitions " + toDelete);
                }
            }
            for (PartitionSets.Action a : actions) {
                if (a instanceof PartitionSets.CreatePartitions cp) {
                    try {
                        c.core.createPartitions(cp.replicaSets(), true);
                    } catch (IllegalArgumentException e) {
                        record(c + " cannot create partitions of " + cp.name() + ": " + e.getMessage());
                    }
                } else if (!(a instanceof PartitionSets.DeletePartitions)) { // those were taken above
                    String outcome = zkSetStep(c, a);
                    record(c + ": " + a + ": " + outcome);
                    if (outcome.equals("fenced")) {
                        if (c.zombie) {
                            zombieWritesFenced++;
                        }
                        setWritesFenced++;
                        stop(c, "its partition-set write was fenced");
                        return;
                    }
                    if (!outcome.equals("applied")) {
                        break; // read again and decide again, later
                    }
                    wrote = true;
                }
            }
            work(c);
            if (!wrote) {
                return;
            }
        }
    }

    /** A step of a set's creation or deletion, as the set store applies it: applied, conflict, unknown or fenced. */
    private String zkSetStep(Controller c, PartitionSets.Action a) {
        if (c.fenceVersion != zkControllerEpochVersion) {
            return "fenced";
        }
        if (!calm && random.nextDouble() < controllerFaults.unknownOutcome()) {
            setWritesUnknown++;
            if (random.nextBoolean()) {
                applySetStep(c, a);
            }
            return "unknown";
        }
        if (!applySetStep(c, a)) {
            setConflicts++;
            return "conflict";
        }
        return "applied";
    }

    /** Applies a set step to the simulated ZooKeeper; false if a node was not as expected (nothing changes). */
    private boolean applySetStep(Controller c, PartitionSets.Action a) {
        long epoch = c.core.controllerEpoch();
        if (a instanceof PartitionSets.Refuse r) {
            if (r.create()) {
                PartitionSets.CreateRequest q = zkCreateRequests.get(r.name());
                if (q == null) {
                    return false;
                }
                zkCreateRequests.put(r.name(), new PartitionSets.CreateRequest(q.set(), Optional.of(r.reason())));
                setCreationsRefused++;
            } else {
                if (!zkDeleteRequests.remove(r.name())) {
                    return false;
                }
                deletionsRefused++;
            }
        } else if (a instanceof PartitionSets.Create cr) {
            String name = cr.record().set().name();
            if (zkSets.containsKey(name) || !zkCreateRequests.containsKey(name)) {
                return false;
            }
            zkSets.put(name, new PartitionSets.Stored(cr.record(), 0));
            zkCreateRequests.remove(name);
            setStepBy.put(name, epoch);
            setsRecorded++;
        } else if (a instanceof PartitionSets.MarkCreated m) {
            String name = m.record().set().name();
            PartitionSets.Stored s = zkSets.get(name);
            if (s == null || s.version() != m.version()) {
                return false;
            }
            zkSets.put(name, new PartitionSets.Stored(m.record(), s.version() + 1));
            setsCreated++;
            if (setStepBy.getOrDefault(name, epoch) != epoch) {
                creationsFinishedByASuccessor++;
            }
        } else if (a instanceof PartitionSets.MarkDeleting m) {
            String name = m.record().set().name();
            PartitionSets.Stored s = zkSets.get(name);
            if (s == null || s.version() != m.version()) {
                return false;
            }
            zkSets.put(name, new PartitionSets.Stored(m.record(), s.version() + 1));
            zkDeleteRequests.remove(name);
            setStepBy.put(name, epoch);
            setsMarkedDeleting++;
        } else if (a instanceof PartitionSets.RemoveSet r) {
            PartitionSets.Stored s = zkSets.get(r.name());
            if (s == null || s.version() != r.version()) {
                return false;
            }
            for (String p : s.record().set().partitionIds()) {
                if (zkStates.containsKey(p)) {
                    fail("set " + r.name() + " removed while its partition " + p + " has a state");
                }
                checkGone(p);
            }
            zkSets.remove(r.name());
            setsDeleted++;
            if (setStepBy.getOrDefault(r.name(), epoch) != epoch) {
                deletionsFinishedByASuccessor++;
            }
        } else if (a instanceof PartitionSets.DropDeleteRequest d) {
            zkDeleteRequests.remove(d.name());
        } else {
            throw new IllegalStateException("not a ZooKeeper step: " + a);
        }
        return true;
    }

    /**
     * The controller sends its stop-replicas requests and removes the partitions whose every replica confirmed (with
     * the defect, every partition it is deleting), as {@code Controller.Term.stopAndRemove}.
     */
    private void stopAndRemove(Controller c) {
        for (Map.Entry<String, List<String>> e : c.core.drainStopRequests().entrySet()) {
            NodeRegistration r = c.core.liveNodes().get(e.getKey());
            if (r == null) {
                continue;
            }
            long id = ++nextRequestId;
            List<String> ps = List.copyOf(e.getValue());
            c.stopRequests.put(id, ps);
            network.add(new Stop(c.node, e.getKey(), id, c.core.controllerEpoch(), r.nodeEpoch(), ps));
            c.unacknowledged.computeIfAbsent(e.getKey(), k -> new TreeMap<>()).put(id, steps);
            stopRequestsSent++;
        }
        List<String> removable = defect == Defect.REMOVES_PARTITION_BEFORE_EVERY_REPLICA_DELETED
                ? List.copyOf(c.core.deleting())
                : c.core.removable();
        for (String p : removable) {
            if (c.fenceVersion != zkControllerEpochVersion) {
                setWritesFenced++;
                if (c.zombie) {
                    zombieWritesFenced++;
                }
                stop(c, "its removal of " + p + " was fenced");
                return;
            }
            boolean unknown = !calm && random.nextDouble() < controllerFaults.unknownOutcome();
            if (!unknown || random.nextBoolean()) {
                if (zkStates.remove(p) != null) {
                    removeFromWorld(p, c);
                }
            }
            if (unknown) {
                setWritesUnknown++;
                record("removal of " + p + " by " + c + ": outcome unknown");
            } else {
                c.core.removed(p);
            }
        }
    }

    /** Node {@code n} takes a stop-replicas request as an assignment (fenced alike), deletes, then acknowledges. */
    private void onStop(Node n, Stop s) {
        LeaderAndReplicas header =
                new LeaderAndReplicas(s.controllerEpoch(), s.from(), n.id, s.nodeEpoch(), false, Map.of());
        NodeTerms.Verdict v = n.terms.check(s.from(), header, n.nodeEpoch, n.highest);
        if (v != NodeTerms.Verdict.APPLY) {
            record(n.id + "@" + n.nodeEpoch + " refuses " + s + ": " + v);
            network.add(new Ack(n.id, s.from(), s.controllerEpoch(), s.requestId(), v));
            return;
        }
        long taken = highestEverTaken.getOrDefault(n.id, 0L);
        if (checkControllerInvariants && s.controllerEpoch() < taken) {
            fail(n.id + " takes " + s + " after a request of controller epoch " + taken);
        }
        highestEverTaken.put(n.id, s.controllerEpoch());
        if (s.controllerEpoch() > n.highest) {
            keepHighest(n, s.controllerEpoch());
        }
        n.controller = s.from();
        record(n.id + "@" + n.nodeEpoch + " takes " + s);
        n.terms.forget(s.partitions(), s.controllerEpoch(), s.requestId());
        for (String p : s.partitions()) {
            Simulation sp = partitionsByName.get(p);
            if (sp == null || !n.partitions.contains(sp)) {
                continue; // deleted already: counts as deleted
            }
            update(n, p);
            if (!n.up) {
                return;
            }
            n.partitions.remove(sp);
            sp.close(sp.replicas.get(n.id));
            replicasDeleted++;
        }
        network.add(new Ack(n.id, s.from(), s.controllerEpoch(), s.requestId(), v));
    }

    /** A set's partition got its first state: its replicas exist from now on (down on a node that is down). */
    private void createInWorld(String p, List<String> replicas) {
        Simulation sp = Simulation.partition(p, replicas, seed, random, faults, Simulation.Defect.NONE, this, trace);
        sp.clock(now);
        if (calm) {
            sp.calm();
        }
        partitions.add(sp);
        partitionsByName.put(p, sp);
        setPartitions.add(p);
        setPartitionsCreated++;
        for (String id : replicas) {
            Node n = nodes.get(id);
            n.partitions.add(sp);
            Simulation.Replica r = sp.replicas.get(id);
            if (n.up) {
                sp.restart(r); // opened at the current time
            } else {
                r.alive = false;
            }
        }
        record("partition " + p + " created on " + replicas);
    }

    /** A partition's ZooKeeper nodes were removed: its deletion is complete, so no node may keep its replica. */
    private void removeFromWorld(String p, Controller c) {
        checkGone(p);
        Simulation sp = partitionsByName.get(p);
        partitions.remove(sp);
        removedPartitions.add(p);
        setPartitionsRemoved++;
        network.removeIf(w -> w instanceof Replication r && r.partition() == sp);
        record("partition " + p + " removed from ZooKeeper by " + c);
    }

    private void checkGone(String p) {
        Simulation sp = partitionsByName.get(p);
        for (Node n : nodeList) {
            if (sp != null && n.partitions.contains(sp)) {
                fail(p + "'s deletion completed while node " + n.id + (n.up ? "" : " (down)")
                        + " keeps its replica and its files");
            }
        }
    }

    /** A state write landed: a controller that began deleting the partition before it decided it gives no new term. */
    private void landed(ZkOp op) {
        String p = op.write().partition();
        Long began = deletionBegan.get(p);
        if (began == null) {
            return;
        }
        termsAfterDeletionBegan++;
        Long own = deletingSince.get(op.controller().core.controllerEpoch() + "/" + p);
        if (own != null && op.issuedAt() > own) {
            fail(op.controller() + " wrote a new term of " + p + " after it began deleting it: "
                    + term(op.write().state()));
        }
    }

    /** Whether partition {@code p} belongs to a set being deleted in ZooKeeper, or is gone. */
    private boolean beingDeleted(String p) {
        if (removedPartitions.contains(p)) {
            return true;
        }
        if (!setPartitions.contains(p)) {
            return false;
        }
        PartitionSets.Stored s = PartitionSet.nameOf(p).map(zkSets::get).orElse(null);
        return s == null || s.record().status() == PartitionSets.Status.DELETING;
    }

    /**
     * Whether every set request was answered, every set is created, and every set being deleted waits only for a
     * replica on a node that is down.
     */
    private boolean setsSettled() {
        if (!zkDeleteRequests.isEmpty()
                || zkCreateRequests.values().stream().anyMatch(q -> q.error().isEmpty())) {
            return false;
        }
        for (PartitionSets.Stored s : zkSets.values()) {
            if (s.record().status() == PartitionSets.Status.CREATING) {
                return false;
            }
            if (s.record().status() == PartitionSets.Status.DELETING) {
                boolean waitsForADownNode = s.record().set().partitionIds().stream()
                        .filter(zkStates::containsKey)
                        .anyMatch(
                                p -> zkStates.get(p).state().replicas().stream().anyMatch(id -> !nodes.get(id).up));
                if (!waitsForADownNode) {
                    return false;
                }
            }
        }
        return true;
    }

    /** At the end of the calm: every created set's partitions are as placed, in ZooKeeper and in the world. */
    private void checkSets() {
        for (PartitionSets.Stored s : zkSets.values()) {
            if (s.record().status() != PartitionSets.Status.CREATED) {
                continue; // a deletion waiting for a node kept down
            }
            s.record().replicaSets().forEach((p, placed) -> {
                VersionedState vs = zkStates.get(p);
                Simulation sp = partitionsByName.get(p);
                if (vs == null || sp == null) {
                    fail("partition " + p + " of created set "
                            + s.record().set().name() + " has no state");
                }
                if (!vs.state().replicas().equals(placed)
                        || !vs.state().configuration().equals(sp.master)) {
                    fail(p + " was placed on " + placed + " but ZooKeeper holds "
                            + vs.state().replicas() + " under " + vs.state().configuration()
                            + " (the configuration master: " + sp.master + ")");
                }
                for (Node n : nodeList) {
                    if (n.partitions.contains(sp) != placed.contains(n.id)) {
                        fail(p + " was placed on " + placed + " but node " + n.id
                                + (n.partitions.contains(sp) ? " hosts it" : " does not host it"));
                    }
                }
            });
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The calm.

    /**
     * The faults stop: zombies stop, nodes in a controlled shutdown finish it, every node runs again but {@code
     * keptDown} of them (chosen by the seed), and calm steps run until every partition with a live majority has a
     * live leader, named by ZooKeeper, that committed a new write; fails if that takes more than {@code maxSteps}.
     *
     * @return the partitions that converged (those with a live majority)
     */
    List<Simulation> converge(int maxSteps, int keptDown) {
        calm = true;
        for (Simulation p : partitions) {
            p.calm();
        }
        for (Controller c : List.copyOf(controllers)) {
            if (c.zombie) {
                stop(c, "the calm: it learnt its session expired");
            }
        }
        for (Node n : nodeList) {
            if (n.shuttingDown) {
                crash(n, "stops: the calm ends its controlled shutdown");
                nodeCrashes--;
            }
        }
        List<Node> down = new ArrayList<>(nodeList);
        while (down.size() > keptDown) {
            down.remove(random.nextInt(down.size()));
        }
        for (Node n : nodeList) {
            if (down.contains(n)) {
                crash(n, "kept down in the calm");
            } else {
                restart(n);
            }
        }
        record("calm: " + down.stream().map(n -> n.id).toList() + " kept down");
        applyStepDowns();
        checkInvariants();
        List<Simulation> live = new ArrayList<>();
        Set<String> considered = new TreeSet<>();
        for (Simulation p : partitions) {
            considered.add(p.name);
            if (p.master.hasQuorum(id -> nodes.get(id).up) && !beingDeleted(p.name)) {
                live.add(p);
            }
        }
        Map<Simulation, Long> proposal = new HashMap<>();
        Map<Simulation, Long> proposedIn = new HashMap<>();
        Map<Simulation, Integer> stuck = new HashMap<>();
        List<Simulation> pending = new ArrayList<>(live);
        for (int i = 0; i < maxSteps && (!pending.isEmpty() || (setRate > 0 && !setsSettled())); i++) {
            try {
                steps++;
                calmStep();
                if (setRate > 0) {
                    // Partitions created meanwhile must converge too; those being deleted need not.
                    for (Simulation p : partitions) {
                        if (considered.add(p.name) && p.master.hasQuorum(id -> nodes.get(id).up)) {
                            live.add(p);
                            pending.add(p);
                        }
                    }
                    live.removeIf(p -> beingDeleted(p.name));
                    pending.removeIf(p -> beingDeleted(p.name));
                }
                applyStepDowns();
                for (Simulation p : List.copyOf(pending)) {
                    if (progress(p, proposal, proposedIn, stuck)) {
                        pending.remove(p);
                    }
                }
                applyStepDowns();
            } catch (RuntimeException e) {
                throw failure("threw " + e, e);
            }
            checkInvariants();
        }
        if (setRate > 0 && !setsSettled()) {
            fail("partition sets not settled within " + maxSteps + " calm steps: sets " + zkSets + ", create requests "
                    + zkCreateRequests + ", delete requests " + zkDeleteRequests);
        }
        if (!pending.isEmpty()) {
            fail("no convergence within " + maxSteps + " calm steps: "
                    + pending.stream().map(this::describe).toList() + "; " + current + " is "
                    + (current == null
                            ? ""
                            : current.core + " " + current.core.liveNodes().values()));
        }
        for (Simulation p : live) {
            p.acknowledged.forEach((id, offset) -> {
                Entry e = p.committed.get(offset);
                if (e == null || !new String(e.payload(), StandardCharsets.UTF_8).equals(p.proposals.get(id))) {
                    fail(p.name + ": acknowledged proposal " + id + " (" + p.proposals.get(id) + ") at " + offset
                            + " is not what is committed there: " + e);
                }
            });
        }
        checkSets();
        return live;
    }

    /** A partition as ZooKeeper, the controller and the nodes see it. */
    private String describe(Simulation p) {
        StringBuilder b = new StringBuilder(p.name + ": ZooKeeper "
                + Optional.ofNullable(zkStates.get(p.name))
                        .map(s -> term(s.state()) + " e" + s.state().leaderEpoch() + " v" + s.version())
                        .orElse("none"));
        if (current != null) {
            b.append(", ")
                    .append(current)
                    .append(" holds ")
                    .append(current.core.states().get(p.name));
        }
        for (String id : p.replicaSet()) {
            Node n = nodes.get(id);
            b.append("; ")
                    .append(id)
                    .append('@')
                    .append(n.nodeEpoch)
                    .append(n.up ? "" : " (down)")
                    .append(" holds ")
                    .append(n.terms
                            .state(p.name)
                            .map(s -> term(s) + " e" + s.leaderEpoch())
                            .orElse("nothing"))
                    .append(", leads ")
                    .append(n.leading.getOrDefault(p.name, 0L))
                    .append(", replica ")
                    .append(p.replicas.get(id).core);
        }
        return b.toString();
    }

    /** One partition in the calm: whether its ZooKeeper-named leader leads and acknowledged a new write. */
    private boolean progress(
            Simulation p,
            Map<Simulation, Long> proposal,
            Map<Simulation, Long> proposedIn,
            Map<Simulation, Integer> stuck) {
        VersionedState s = zkStates.get(p.name);
        if (s == null || s.state().leader().isEmpty()) {
            return false;
        }
        PartitionState st = s.state();
        Node n = nodes.get(st.leader().get());
        Simulation.Replica r = n.replicaOf(p);
        if (!n.up || n.nodeEpoch != st.leaderNodeEpoch()) {
            return false; // the controller will move it
        }
        if (r.core.role() == Role.LEADER && r.core.epoch() == st.leaderEpoch()) {
            stuck.remove(p);
            Long id = proposal.get(p);
            if (id != null && p.acknowledged.containsKey(id)) {
                record("calm: " + p.name + "'s leader " + n.id + " committed proposal " + id + " in epoch "
                        + st.leaderEpoch());
                return true;
            }
            if (id == null || proposedIn.get(p) != st.leaderEpoch()) {
                proposal.put(p, p.proposeOn(r));
                proposedIn.put(p, st.leaderEpoch());
            }
            return false;
        }
        // Neither case ends by itself: no event makes the controller give the partition a new term.
        boolean gaveUp = n.terms
                        .state(p.name)
                        .map(h -> h.leaderEpoch() == st.leaderEpoch())
                        .orElse(false)
                && n.terms.leaderEpoch(p.name, n.nodeEpoch) == 0;
        boolean stalled = r.core.role() == Role.RECOVERING && r.core.epoch() == st.leaderEpoch();
        int waited = stuck.merge(p, 1, Integer::sum);
        boolean forgotten = setRate > 0
                && current != null
                && n.terms.state(p.name).isEmpty()
                && n.partitions.contains(p)
                && Optional.ofNullable(current.core.liveNodes().get(n.id))
                        .map(k -> k.nodeEpoch() == n.nodeEpoch)
                        .orElse(false)
                && current.unacknowledged.getOrDefault(n.id, new TreeMap<>()).isEmpty()
                && network.stream().noneMatch(w -> w instanceof Assign a && a.to().equals(n.id));
        if (forgotten && waited > 200) {
            // Every request acknowledged, yet the leader holds no state of the partition: an old request (a stale
            // full assignment, reordered or duplicated) made it forget a newer one, which NodeTerms must never let
            // happen (docs/controller.md, rule 13).
            fail("calm: " + n.id + " holds no state of " + p.name + ", which it leads in ZooKeeper, and every"
                    + " request to it is acknowledged: the controller would never tell it again");
        }
        if ((gaveUp && waited > 50) || (stalled && waited > STALLED_RECOVERY_STEPS)) {
            // The node renews its session, so that the controller gives its partitions new terms.
            stuck.remove(p);
            if (gaveUp) {
                calmRenewalsAfterAGiveUp++;
            } else {
                calmRenewalsOfAStalledRecovery++;
            }
            record("calm: " + n.id + (gaveUp ? " gave up " : " is stuck recovering ") + p.name + "'s epoch "
                    + st.leaderEpoch() + ": it renews its session");
            sessionLoss(n);
        }
        return false;
    }

    private void calmStep() {
        electController();
        int k = random.nextInt(20);
        if (k < 9) {
            deliverSome();
        } else if (k < 13) {
            syncOn(randomNode(), true);
        } else if (k < 16) {
            tickOn(randomNode());
        } else if (k < 18) {
            completeZkOp();
        } else if (k < 19) {
            watch(current);
        } else {
            controllerTimer(current);
            if (reassignRate > 0) {
                reportReady(randomNode());
            }
            if (setRate > 0) {
                reconcileSets(current);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Invariants.

    void checkInvariants() {
        for (Simulation p : partitions) {
            p.checkInvariants();
            Map<Long, String> leaders = new HashMap<>();
            for (Simulation.Replica r : p.replicas.values()) {
                if (r.alive && r.core.role() == Role.LEADER) {
                    String other = leaders.put(r.core.epoch(), r.id);
                    if (other != null) {
                        fail(p.name + " has two leaders in epoch " + r.core.epoch() + ": " + other + " and " + r.id);
                    }
                }
            }
        }
        for (Node n : nodeList) {
            for (Simulation p : n.partitions) {
                if (removedPartitions.contains(p.name)) {
                    fail("node " + n.id + " keeps a replica of " + p.name + ", whose deletion completed");
                }
                if (n.replicaOf(p).alive != n.up && !n.replicaOf(p).removed) { // a removed replica stopped
                    fail("node " + n.id + " is " + (n.up ? "up" : "down") + " but its replica of " + p.name
                            + (n.up ? " is not running" : " runs"));
                }
            }
            if (!n.up || !checkControllerInvariants) {
                continue;
            }
            long ever = highestEverHeld.getOrDefault(n.id, 0L);
            if (n.highest < ever) {
                fail(n.id + "'s highest controller epoch went back from " + ever + " to " + n.highest);
            }
            highestEverHeld.put(n.id, n.highest);
            n.leading.forEach((p, epoch) -> {
                PartitionState z = zkTerms.getOrDefault(p, Map.of()).get(epoch);
                if (z == null || !z.leader().map(n.id::equals).orElse(false) || z.leaderNodeEpoch() != n.nodeEpoch) {
                    fail(n.id + "@" + n.nodeEpoch + " leads " + p + " in epoch " + epoch + ", which ZooKeeper gave to "
                            + (z == null ? "nobody" : term(z)));
                }
            });
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** The controller epoch ZooKeeper holds. */
    long controllerEpoch() {
        return zkControllerEpoch;
    }

    private Node randomNode() {
        return nodeList.get(random.nextInt(nodeList.size()));
    }

    private Simulation randomPartition() {
        return partitions.get(random.nextInt(partitions.size()));
    }

    private Simulation.Replica randomReplicaOf(Simulation p) {
        List<String> set = p.replicaSet();
        return p.replicas.get(set.get(random.nextInt(set.size())));
    }

    private void record(String event) {
        trace.addLast("t=" + now / 1_000_000 + "ms " + event);
        if (trace.size() > TRACE) {
            trace.removeFirst();
        }
    }

    void fail(String why) {
        throw failure(why, null);
    }

    private AssertionError failure(String why, Throwable cause) {
        return new AssertionError(
                "controller simulation seed=" + seed + " (defect " + defect + "): " + why + "\nlast events:\n  "
                        + String.join("\n  ", trace),
                cause);
    }
}
