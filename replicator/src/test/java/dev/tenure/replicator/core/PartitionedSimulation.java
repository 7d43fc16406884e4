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

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic, seeded simulation of nodes that each host several replicated logs (partitions), issue 16. Each
 * partition is a {@link Simulation} of its own ({@link Simulation#partition}): its replica set (3 of the nodes,
 * drawn by the seed, so the sets overlap), its epochs and election with zombies, its logs, promise and snapshot
 * stores and state machines, and the invariants of the single-log simulation. What the partitions share is the
 * node-level world here:
 *
 * <ul>
 *   <li>one network between the nodes: every message travels in an {@link Envelope} naming the partition that sent
 *       it, and is delivered to that partition only (by construction: the envelope holds the partition, not an id to
 *       look up); its faults — drops, duplicates, reordering, cut links between two nodes, isolated nodes — hit
 *       every partition's messages on a link alike;
 *   <li>one process and one disk per node: a process crash takes down all of a node's partitions at once (also when
 *       the process dies inside one partition's promise or snapshot store), a power loss loses the unsynced data of
 *       all of them at once, and a restart brings them back together; a sync flushes one partition's log or all of
 *       the node's;
 *   <li>one clock; one "ZooKeeper": when a node goes down, the election notices (a step later) and elects a new
 *       leader in every partition the node led, each with its own epochs.
 * </ul>
 *
 * <p>After every step every partition's invariants hold (see {@link Simulation}), and across partitions: a partition
 * receives messages only from its own replica set, no entry proposed to one partition enters another partition's log
 * (payloads are tagged with their partition), and a node's partitions are all up or all down. A violation throws
 * {@link AssertionError} with the seed and the last events.
 */
final class PartitionedSimulation implements Simulation.Host {
    /** A message on the wire, with the partition it belongs to. */
    record Envelope(Simulation partition, Message message) {}

    /** A node: one process and one disk, hosting one replica of each partition whose replica set names it. */
    static final class Node {
        final String id;
        final List<Simulation> partitions = new ArrayList<>();
        boolean up = true;
        /** When it last went down (the simulated clock). */
        long downSince;

        Node(String id) {
            this.id = id;
        }

        Simulation.Replica replicaOf(Simulation partition) {
            return partition.replicas.get(id);
        }
    }

    /** With fast failover: longer than the longest suspicion timeout plus minimum term ({@link Simulation}). */
    private static final long SESSION_TIMEOUT_WITH_FAST_FAILOVER_NANOS = 600_000_000L;
    /**
     * With fast failover, a node that went down stays down at least this long in the random steps (a process takes
     * a while to come back), so that its peers stop hearing it for longer than some of their suspicion timeouts
     * (60–300 ms): otherwise its pings resume within a few milliseconds and no suspicion ever stands. (400 ms gave
     * more deposes but far fewer withdrawals to check, and fewer writes.)
     */
    private static final long RESTART_DELAY_WITH_FAST_FAILOVER_NANOS = 150_000_000L;

    private final long seed;
    /** Each node's partitions sync through one write-ahead log (see {@link Simulation#writeAheadLog}). */
    final boolean writeAheadLog;

    private final Random random;
    private final Simulation.Faults faults;
    private final Simulation.Defect defect;
    private final Deque<String> trace = new ArrayDeque<>();

    final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<Node> nodeList = new ArrayList<>();
    final List<Simulation> partitions = new ArrayList<>();
    private final List<Envelope> network = new ArrayList<>();
    /** When node {@code a} last heard from node {@code b} ("a<b"): any message, or a ping. */
    private final Map<String, Long> lastHeard = new HashMap<>();
    /** Cut links, "a|b" with a before b. */
    private final Set<String> cut = new HashSet<>();
    /** Partitions whose leader's node went down: the election will elect a new leader in each. */
    private final Set<Simulation> leaderLost = new LinkedHashSet<>();
    /** When each partition in {@link #leaderLost} lost its leader's node (the session's expiry counts from it). */
    private final Map<Simulation, Long> leaderLostAt = new HashMap<>();
    /**
     * How long the election takes to notice a lost node in the random steps: 0 (a step later) without fast failover;
     * with it, a session timeout longer than the suspicion timeouts, so that suspicions can depose first.
     */
    private final long sessionTimeoutNanos;
    /** How long a node that went down stays down in the random steps: 0 without fast failover. */
    private final long restartDelayNanos;

    private long now;
    private boolean calm;

    int nodeCrashes;
    /** Node crashes that began with a process dying inside one partition's promise or snapshot store. */
    int crashesFromInsideAPartition;

    int nodePowerLosses;
    /** Crashes or power losses that took down a node leading two partitions or more. */
    int multiLeaderFailures;
    /** Elections that replaced a leader whose node went down. */
    int leadersReplaced;

    int crossedDeliveries;
    int linkCuts;

    PartitionedSimulation(long seed, int nodeCount, int partitionCount, Simulation.Faults faults) {
        this(seed, nodeCount, partitionCount, faults, Simulation.Defect.NONE, null);
    }

    /**
     * {@code partitionCount} partitions of 3 replicas each on {@code nodeCount} nodes; each partition elects a first
     * leader. With a {@link Simulation.Defect} other than NONE, the invariants must catch it; {@code defectiveNode}
     * (if not null) limits it to the replicas on that node: one node's partitions are broken.
     */
    PartitionedSimulation(
            long seed,
            int nodeCount,
            int partitionCount,
            Simulation.Faults faults,
            Simulation.Defect defect,
            String defectiveNode) {
        this(seed, nodeCount, partitionCount, faults, defect, defectiveNode, false);
    }

    /** As above; with {@code writeAheadLog}, each node's partitions sync through one shared write-ahead log. */
    PartitionedSimulation(
            long seed,
            int nodeCount,
            int partitionCount,
            Simulation.Faults faults,
            Simulation.Defect defect,
            String defectiveNode,
            boolean writeAheadLog) {
        this(seed, nodeCount, partitionCount, faults, defect, defectiveNode, writeAheadLog, false);
    }

    /**
     * As above; with {@code fastFailover}, every partition runs fast failover ({@link Simulation#withFastFailover}):
     * followers suspect a silent leader, count their node's hearings of the leader's node (its pings, any
     * partition's message) as hearing the leader, and the simulated ZooKeeper deposes a leader a majority suspects.
     */
    PartitionedSimulation(
            long seed,
            int nodeCount,
            int partitionCount,
            Simulation.Faults faults,
            Simulation.Defect defect,
            String defectiveNode,
            boolean writeAheadLog,
            boolean fastFailover) {
        this.seed = seed;
        this.writeAheadLog = writeAheadLog;
        this.sessionTimeoutNanos = fastFailover ? SESSION_TIMEOUT_WITH_FAST_FAILOVER_NANOS : 0;
        this.restartDelayNanos = fastFailover ? RESTART_DELAY_WITH_FAST_FAILOVER_NANOS : 0;
        this.random = new Random(seed);
        this.faults = faults;
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
                set.add(all.remove(random.nextInt(all.size())));
            }
            set.sort(null);
            Simulation partition = Simulation.partition("p" + p, set, seed, random, faults, defect, this, trace);
            if (defectiveNode != null) {
                partition.withDefectOnlyOn(Set.of(defectiveNode));
            }
            partition.writeAheadLog = writeAheadLog;
            if (fastFailover) {
                partition.withFastFailover();
            }
            partitions.add(partition);
            for (String id : set) {
                nodes.get(id).partitions.add(partition);
            }
        }
        for (Simulation p : partitions) {
            List<Simulation.Replica> running = running(p); // a node may have died in an earlier partition's election
            if (!running.isEmpty()) {
                p.elect(running.get(random.nextInt(running.size())), true);
            }
        }
    }

    /** Runs {@code steps} random steps with faults, checking every invariant after each. */
    void run(int steps) {
        for (int i = 0; i < steps; i++) {
            try {
                step();
            } catch (RuntimeException e) {
                throw failure("a replica threw " + e, e);
            }
            checkInvariants();
        }
    }

    private void step() {
        double x = random.nextDouble();
        if (x < 0.40) {
            if (!network.isEmpty()) {
                Envelope e = network.remove(random.nextInt(network.size()));
                if (random.nextDouble() < faults.drop()) {
                    record("drop " + e.partition().name + " " + e.message());
                } else {
                    if (random.nextDouble() < faults.duplicate()) {
                        network.add(e);
                    }
                    deliver(e);
                }
            }
            return;
        }
        x = (x - 0.40) / 0.60; // the rest of the step kinds, by weight
        if ((x -= 0.22) < 0) {
            syncOn(randomNode(), random.nextBoolean());
        } else if ((x -= 0.25) < 0) {
            tickOn(randomNode());
        } else if ((x -= 0.30) < 0) {
            Simulation p = randomPartition();
            p.proposeOn(randomReplicaOf(p));
        } else if ((x -= 0.04) < 0) {
            Simulation p = randomPartition();
            p.readBarrierOn(randomReplicaOf(p));
        } else if ((x -= faults.processCrash()) < 0) {
            crash(randomNode(), "process crash");
        } else if ((x -= faults.powerLoss()) < 0) {
            powerLoss(randomNode());
        } else if ((x -= 0.06) < 0) {
            Node n = randomNode();
            if (now - n.downSince >= restartDelayNanos) {
                restart(n);
            }
        } else if ((x -= faults.election()) < 0) {
            Simulation p = randomPartition();
            Simulation.Replica r = randomReplicaOf(p);
            if (r.alive) {
                leaderLost.remove(p);
                leaderLostAt.remove(p);
                p.elect(r, random.nextDouble() >= faults.zombie());
            }
        } else if ((x -= 0.04) < 0) {
            electWhereSessionsExpired();
        } else if ((x -= faults.partition()) < 0) {
            Node a = randomNode();
            if (random.nextDouble() < 0.3) {
                for (Node b : nodeList) {
                    if (b != a) {
                        cut.add(link(a.id, b.id));
                    }
                }
                record("isolate " + a.id);
            } else {
                Node b = randomNode();
                if (a != b) {
                    cut.add(link(a.id, b.id));
                    record("cut " + link(a.id, b.id));
                }
            }
            linkCuts++;
        } else if ((x -= 0.03) < 0) {
            cut.clear();
            record("heal every link");
        } else if ((x -= 0.03) < 0) {
            Simulation p = randomPartition();
            p.takeSnapshot(randomReplicaOf(p));
        }
    }

    private void deliver(Envelope e) {
        Simulation p = e.partition();
        Message m = e.message();
        Node to = nodes.get(m.to());
        if (cut.contains(link(m.from(), m.to())) || !to.up) {
            record("lost " + p.name + " " + m);
            return;
        }
        lastHeard.put(m.to() + "<" + m.from(), now);
        if (defect == Simulation.Defect.CROSSED_PARTITIONS && random.nextDouble() < 0.1) {
            List<Simulation> others = new ArrayList<>();
            for (Simulation q : to.partitions) {
                if (q != p && q.replicas.containsKey(m.from())) {
                    others.add(q);
                }
            }
            if (!others.isEmpty()) {
                Simulation q = others.get(random.nextInt(others.size()));
                crossedDeliveries++;
                record("the defect: " + p.name + "'s " + m + " delivered to " + q.name);
                p = q;
            }
        }
        p.deliver(m);
    }

    @Override
    public void send(Simulation partition, Message m) {
        Node from = nodes.get(m.from());
        if (!partition.replicas.containsKey(m.from()) || !from.up) {
            throw failure(
                    partition.name + " sent " + m + " from a replica it does not have or whose node is down", null);
        }
        network.add(new Envelope(partition, m));
    }

    @Override
    public void dropMessagesTo(Simulation partition, String node) {
        network.removeIf(e -> e.partition() == partition && e.message().to().equals(node));
    }

    @Override
    public void processDied(Simulation partition, String node, String why) {
        Node n = nodes.get(node);
        if (n.up) {
            crashesFromInsideAPartition++;
        }
        crash(n, "its process died in " + partition.name + " (" + why + ")");
    }

    /** The node's process dies: every partition's replica on it stops at once; the page cache survives. */
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

    /** The node loses power: every partition's replica on it stops, and the unsynced data of all of them is gone. */
    void powerLoss(Node n) {
        nodePowerLosses++;
        goingDown(n, "power loss " + n.id + (n.up ? "" : " (already down)"));
        for (Simulation p : n.partitions) {
            p.powerLoss(n.replicaOf(p));
        }
    }

    private void goingDown(Node n, String what) {
        int led = 0;
        for (Simulation p : n.partitions) {
            Simulation.Replica r = n.replicaOf(p);
            if (n.id.equals(p.lastElected)) {
                leaderLost.add(p);
                leaderLostAt.putIfAbsent(p, now);
                if (r.alive && r.core.role() != Role.FOLLOWER) {
                    led++;
                }
            }
        }
        if (led >= 2) {
            multiLeaderFailures++;
        }
        record(what + (led > 0 ? " (leading " + led + " partitions)" : ""));
        if (n.up) {
            n.downSince = now;
        }
        n.up = false;
    }

    /** The node's process starts again: every partition's replica on it reopens its files. */
    void restart(Node n) {
        if (n.up) {
            return;
        }
        n.up = true;
        record("restart " + n.id);
        for (Simulation p : n.partitions) {
            if (!n.up) {
                return; // it died again while starting; the crash stopped the ones already started
            }
            p.restart(n.replicaOf(p));
        }
    }

    /**
     * The election notices the lost sessions: each partition whose leader's node went down gets a new leader among
     * its running replicas (a partition with none waits).
     */
    void electWhereLeadersWereLost() {
        electWhereLostBefore(Long.MAX_VALUE);
    }

    /** As {@link #electWhereLeadersWereLost}, for the partitions whose leader's node was lost a session timeout ago. */
    private void electWhereSessionsExpired() {
        electWhereLostBefore(now - sessionTimeoutNanos);
    }

    private void electWhereLostBefore(long lostBefore) {
        for (Simulation p : List.copyOf(leaderLost)) { // an election may take another node down
            List<Simulation.Replica> running = running(p);
            if (running.isEmpty() || leaderLostAt.getOrDefault(p, Long.MIN_VALUE) > lostBefore) {
                continue;
            }
            leaderLost.remove(p);
            leaderLostAt.remove(p);
            Simulation.Replica r = running.get(random.nextInt(running.size()));
            leadersReplaced++;
            p.elect(r, calm || random.nextDouble() >= faults.zombie());
        }
    }

    private List<Simulation.Replica> running(Simulation p) {
        List<Simulation.Replica> running = new ArrayList<>();
        for (String id : p.replicaSet()) {
            if (p.replicas.get(id).alive) {
                running.add(p.replicas.get(id));
            }
        }
        return running;
    }

    /** The node's disk flushes one partition's log that asked for it, or ({@code all}) every one that did. */
    private void syncOn(Node n, boolean all) {
        if (!n.up || n.partitions.isEmpty()) { // the seed may leave a node without a partition
            return;
        }
        if (writeAheadLog) {
            // The node's write-ahead log: a force covers every partition's appends at once; acknowledgements reach
            // the partitions afterwards, here or at a later step (a force may also find nothing to acknowledge yet).
            if (all || random.nextBoolean()) {
                for (Simulation p : n.partitions) {
                    p.walForced(n.replicaOf(p));
                }
            }
            for (Simulation p : n.partitions) {
                if (all || random.nextBoolean()) {
                    p.walDeliver(n.replicaOf(p));
                }
            }
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

    /**
     * Time moves on, and the node's timer ticks every partition it hosts. The clock moves 1–20 ms divided by the
     * number of partitions: each partition sends as many messages per millisecond as a log of its own, so the world
     * runs that many more steps per millisecond (otherwise the messages in flight would outgrow the deliveries and
     * every leader would lose its quorum to the simulation's slowness).
     */
    private void tickOn(Node n) {
        now += 1_000_000L * (1 + random.nextInt(20)) / partitions.size();
        for (Simulation p : partitions) {
            p.clock(now);
        }
        // The node's pings, if its process runs: every peer that is up and reachable hears from it (a lost ping is a
        // dropped one). A node that is down pings nobody: its peers' last hearing of it stays where it was.
        for (Node o : nodeList) {
            if (n.up && o != n && o.up && !cut.contains(link(n.id, o.id)) && random.nextDouble() >= faults.drop()) {
                lastHeard.put(o.id + "<" + n.id, now);
            }
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

    /**
     * Heals everything, restarts every node, elects a leader in every partition and runs without faults until every
     * partition's replicas have committed and applied its leader's whole log; fails if that takes more than {@code
     * maxSteps}.
     */
    void converge(int maxSteps) {
        calm = true;
        for (Simulation p : partitions) {
            p.calm();
        }
        cut.clear();
        for (Node n : nodeList) {
            restart(n);
        }
        leaderLost.clear();
        leaderLostAt.clear();
        for (Simulation p : partitions) {
            p.startConverging();
        }
        Set<Simulation> pending = new LinkedHashSet<>(partitions);
        for (int i = 0; i < maxSteps && !pending.isEmpty(); i++) {
            calmStep();
            checkInvariants();
            pending.removeIf(Simulation::convergedOrElectAgain);
        }
        if (!pending.isEmpty()) {
            pending.iterator().next().failToConverge(maxSteps);
        }
    }

    private void calmStep() {
        try {
            int k = random.nextInt(10);
            if (k < 5 && !network.isEmpty()) {
                deliver(network.remove(random.nextInt(network.size())));
            } else if (k < 8) {
                syncOn(randomNode(), true);
            } else {
                tickOn(randomNode());
            }
        } catch (RuntimeException e) {
            throw failure("a replica threw " + e, e);
        }
    }

    /**
     * Without faults: proposes a write on the current leader of each of {@code which} and runs calm steps until each
     * has acknowledged one (electing again, among the running replicas, where a leader gave up); returns the
     * acknowledged proposal of each. Nodes that are down stay down.
     */
    Map<Simulation, Long> writeAndAwait(Collection<Simulation> which, int maxSteps) {
        return writeAndAwait(which, maxSteps, null);
    }

    /** As above, electing {@code preferred} again (if it runs and is in the partition) where a leader gave up. */
    Map<Simulation, Long> writeAndAwait(Collection<Simulation> which, int maxSteps, String preferred) {
        Map<Simulation, Long> proposed = new LinkedHashMap<>();
        Map<Simulation, Long> done = new LinkedHashMap<>();
        for (int i = 0; i < maxSteps && done.size() < which.size(); i++) {
            for (Simulation p : which) {
                if (done.containsKey(p)) {
                    continue;
                }
                Long id = proposed.get(p);
                if (id != null && p.acknowledged.containsKey(id)) {
                    done.put(p, id);
                    continue;
                }
                Simulation.Replica leader = leaderOf(p);
                if (leader == null || !leader.alive || leader.core.role() == Role.FOLLOWER) {
                    List<Simulation.Replica> running = running(p);
                    Simulation.Replica favourite = preferred == null ? null : p.replicas.get(preferred);
                    leader = favourite != null && favourite.alive
                            ? favourite
                            : running.get(random.nextInt(running.size()));
                    p.elect(leader, true);
                    proposed.remove(p);
                }
                if (!proposed.containsKey(p)) {
                    proposed.put(p, p.proposeOn(leader));
                }
            }
            calmStep();
            checkInvariants();
        }
        if (done.size() < which.size()) {
            throw failure("no write acknowledged within " + maxSteps + " calm steps", null);
        }
        return done;
    }

    /** The replica the election last made leader of {@code p}, or null. */
    /**
     * Without faults and without elections on lost sessions — the simulated ZooKeeper's deposes (fast failover) are
     * the only elections — runs calm steps until every partition of {@code which} is led by a running replica not on
     * node {@code lost}, or until {@code withinNanos} of the simulated clock have passed. Returns the simulated time it
     * took, or -1 if some partition was still led from {@code lost} (or not at all) then.
     */
    long awaitLeadersElsewhere(Collection<Simulation> which, String lost, long withinNanos) {
        for (Simulation p : which) {
            p.calmWithDeposes();
        }
        long start = now;
        while (now - start <= withinNanos) {
            boolean all = true;
            for (Simulation p : which) {
                Simulation.Replica leader = leaderOf(p);
                all &= leader != null && leader.alive && !leader.id.equals(lost) && leader.core.role() == Role.LEADER;
            }
            if (all) {
                return now - start;
            }
            calmStep();
            checkInvariants();
        }
        return -1;
    }

    Simulation.Replica leaderOf(Simulation p) {
        return p.lastElected == null ? null : p.replicas.get(p.lastElected);
    }

    /** The node that hosts the most partitions (the first of them). */
    Node busiestNode() {
        Node best = nodeList.get(0);
        for (Node n : nodeList) {
            if (n.partitions.size() > best.partitions.size()) {
                best = n;
            }
        }
        return best;
    }

    /** The invariants of every partition, and that a node's partitions are all up or all down. */
    void checkInvariants() {
        for (Simulation p : partitions) {
            p.checkInvariants();
        }
        for (Node n : nodeList) {
            for (Simulation p : n.partitions) {
                if (n.replicaOf(p).alive != n.up) {
                    throw failure(
                            "node " + n.id + " is " + (n.up ? "up" : "down") + " but its replica of " + p.name
                                    + (n.up ? " is not running" : " runs"),
                            null);
                }
            }
        }
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

    private static String link(String a, String b) {
        return a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
    }

    /** The partitions and their replica sets, e.g. "p0=[n0, n2, n3] p1=[…]". */
    String layout() {
        StringBuilder s = new StringBuilder();
        for (Simulation p : partitions) {
            s.append(s.length() == 0 ? "" : " ").append(p.name).append('=').append(p.replicaSet());
        }
        return s.toString();
    }

    private void record(String event) {
        trace.addLast("t=" + now / 1_000_000 + "ms " + event);
        if (trace.size() > 60) {
            trace.removeFirst();
        }
    }

    private AssertionError failure(String why, Throwable cause) {
        return new AssertionError(
                "partitioned simulation seed=" + seed + ": " + why + "\nlast events:\n  " + String.join("\n  ", trace),
                cause);
    }
}
