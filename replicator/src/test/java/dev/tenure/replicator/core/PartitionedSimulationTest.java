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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: several partitions (replicated logs) on overlapping replica sets of the same nodes, sharing one simulated
 * network, one process and one disk per node (see {@link PartitionedSimulation}): node crashes and power losses take
 * down all of a node's partitions at once, and every single-log invariant holds for every partition after every step,
 * with the cross-partition checks. A failure names its seed: rerun it with {@code -Dsim.seed=SEED}. The mutation
 * tests show the invariants catch a defect in the partitioned world.
 */
@Tag("slow")
class PartitionedSimulationTest {
    private static final long BASE_SEED = Long.getLong("sim.seed", 20261216L);
    private static final int SCHEDULES = Integer.getInteger("sim.partitionedSchedules", 200);
    private static final int NODES = 5;
    private static final int PARTITIONS = 6;
    private static final int STEPS = 6000;
    private static final int FAST_FAILOVER_SCHEDULES = Integer.getInteger("sim.partitionedFastFailoverSchedules", 200);

    @Test
    void severalPartitionsOnOverlappingReplicaSetsHoldEveryInvariantUnderNodeCrashesAndPowerLoss() {
        long start = System.nanoTime();
        long committed = 0;
        long acknowledged = 0;
        long nodeCrashes = 0;
        long crashesInside = 0;
        long nodePowerLosses = 0;
        long multiLeaderFailures = 0;
        long leadersReplaced = 0;
        long linkCuts = 0;
        long elections = 0;
        long snapshots = 0;
        long installs = 0;
        long replicaCrashes = 0;
        long quorumLosses = 0;
        long quietTicks = 0;
        long walSyncs = 0;
        int schedules = Long.getLong("sim.seed") != null ? 1 : SCHEDULES;
        for (int i = 0; i < schedules; i++) {
            PartitionedSimulation sim = schedule(i, false);
            sim.run(STEPS);
            sim.converge(40_000);
            for (Simulation p : sim.partitions) {
                committed += p.committed.size();
                acknowledged += p.acknowledged.size();
                elections += p.elections;
                snapshots += p.snapshotsTaken;
                installs += p.snapshotsInstalled;
                replicaCrashes += p.processCrashes;
                quorumLosses += p.quorumLosses;
                quietTicks += p.quietLeaderTicks;
                walSyncs += p.walSyncs;
            }
            nodeCrashes += sim.nodeCrashes;
            crashesInside += sim.crashesFromInsideAPartition;
            nodePowerLosses += sim.nodePowerLosses;
            multiLeaderFailures += sim.multiLeaderFailures;
            leadersReplaced += sim.leadersReplaced;
            linkCuts += sim.linkCuts;
        }
        System.out.printf(
                "partitioned simulation: %d schedules of %d nodes and %d partitions from seed %d in %d ms; %d entries"
                        + " committed, %d proposals acknowledged, %d elections, %d node crashes (%d of them begun inside"
                        + " one partition's store; %d replica processes stopped), %d node power losses, %d of them taking down a node that led several partitions,"
                        + " %d leaders replaced after their node went down, %d link cuts, %d check-quorum step-downs,"
                        + " %d snapshots taken, %d installed, %d ticks of quiet leaders, %d syncs acknowledged through"
                        + " a node's write-ahead log%n",
                schedules,
                NODES,
                PARTITIONS,
                BASE_SEED,
                (System.nanoTime() - start) / 1_000_000,
                committed,
                acknowledged,
                elections,
                nodeCrashes,
                crashesInside,
                replicaCrashes,
                nodePowerLosses,
                multiLeaderFailures,
                leadersReplaced,
                linkCuts,
                quorumLosses,
                snapshots,
                installs,
                quietTicks,
                walSyncs);
        assertTrue(acknowledged > 0, "the schedules acknowledged nothing: they test nothing");
        assertTrue(nodeCrashes > 0 && nodePowerLosses > 0, "both node-level crash kinds must occur");
        assertTrue(crashesInside > 0, "no process died inside a partition's store, taking its node down");
        assertTrue(multiLeaderFailures > 0, "no node leading several partitions ever went down");
        assertTrue(leadersReplaced > 0, "no leader was replaced after its node went down");
        assertTrue(snapshots > 0 && installs > 0, "snapshots taken and installed");
        assertTrue(quietTicks > 0, "no leader ever went quiet: quiescence is not exercised");
        assertTrue(walSyncs > 0 || schedules == 1, "no sync went through a write-ahead log");
    }

    /**
     * The node hosting the most partitions leads every one of them and each acknowledges a write; then the node
     * crashes (its process, then in a second run its power): every partition it led gets a new leader on another
     * node, which still holds every entry committed before, commits a new write, and no acknowledged write is lost,
     * also after the node is back and everything has converged. Seeded: a faulty history comes first.
     */
    @Test
    void aNodeCrashMovesLeadershipOfEveryPartitionItLedWithNoAcknowledgedWriteLost() {
        int seeds = Long.getLong("sim.seed") != null ? 1 : 8;
        for (int i = 0; i < seeds; i++) {
            for (boolean powerLoss : new boolean[] {false, true}) {
                long seed = BASE_SEED + i;
                try {
                    leadershipMovesAfterACrash(seed, powerLoss);
                } catch (AssertionError e) {
                    throw new AssertionError(
                            "seed " + seed + (powerLoss ? " (power loss)" : " (process crash)") + ": " + e.getMessage(),
                            e);
                }
            }
        }
    }

    /**
     * Runs {@code sim} until it converges, makes its busiest node lead every partition it hosts (at least 2) and
     * writes to every partition through the leaders; returns that node, the victim of the crash scenarios.
     */
    private static PartitionedSimulation.Node busiestNodeLeadingAllItsPartitions(PartitionedSimulation sim) {
        sim.run(1500);
        sim.converge(40_000);
        PartitionedSimulation.Node victim = sim.busiestNode();
        assertTrue(victim.partitions.size() >= 2, sim.layout());
        for (Simulation p : victim.partitions) {
            p.elect(p.replicas.get(victim.id), true);
        }
        sim.writeAndAwait(sim.partitions, 20_000, victim.id);
        return victim;
    }

    private static void leadershipMovesAfterACrash(long seed, boolean powerLoss) {
        PartitionedSimulation sim = new PartitionedSimulation(seed, NODES, PARTITIONS, Simulation.Faults.DEFAULT);
        PartitionedSimulation.Node victim = busiestNodeLeadingAllItsPartitions(sim);
        List<Simulation> led = List.copyOf(victim.partitions);
        Map<Simulation, Map<Long, Entry>> committedBefore = new HashMap<>();
        Map<Simulation, Map<Long, Long>> acknowledgedBefore = new HashMap<>();
        for (Simulation p : sim.partitions) {
            if (led.contains(p)) {
                assertEquals(victim.id, p.lastElected, p.name + " is led by the victim");
                assertEquals(Role.LEADER, p.replicas.get(victim.id).core.role());
            }
            committedBefore.put(p, Map.copyOf(p.committed));
            acknowledgedBefore.put(p, Map.copyOf(p.acknowledged));
        }

        if (powerLoss) {
            sim.powerLoss(victim);
        } else {
            sim.crash(victim, "the scenario crashes the node leading " + led.size() + " partitions");
        }
        for (Simulation p : led) {
            assertTrue(!p.replicas.get(victim.id).alive, p.name + "'s replica on the victim went down with it");
        }
        sim.electWhereLeadersWereLost();
        Map<Simulation, Long> written = sim.writeAndAwait(led, 20_000);
        for (Simulation p : led) {
            Simulation.Replica leader = sim.leaderOf(p);
            assertNotEquals(victim.id, leader.id, p.name + " has a new leader");
            assertEquals(Role.LEADER, leader.core.role(), p.name + "'s new leader leads");
            assertTrue(p.acknowledged.containsKey(written.get(p)), p.name + "'s new leader acknowledged a write");
            for (Map.Entry<Long, Entry> c : committedBefore.get(p).entrySet()) {
                assertEquals(c.getValue(), p.committed.get(c.getKey()), p.name + " kept its committed entries");
                long offset = c.getKey();
                assertTrue(leader.core.commitOffset() > offset, p.name + "'s new leader committed past " + offset);
                if (offset >= leader.log.logStartOffset()) {
                    assertEquals(c.getValue(), leader.log.get(offset), p.name + "'s new leader holds " + offset);
                }
            }
            assertAcknowledgedCommitted(p, acknowledgedBefore.get(p));
        }

        sim.converge(40_000); // the victim comes back and catches up
        for (Simulation p : sim.partitions) {
            assertAcknowledgedCommitted(p, acknowledgedBefore.get(p));
            Simulation.Replica back = p.replicas.get(victim.id);
            if (back != null) {
                assertTrue(
                        back.alive
                                && back.core.commitOffset()
                                        >= committedBefore.get(p).size(),
                        p.name);
            }
        }
    }

    private static void assertAcknowledgedCommitted(Simulation p, Map<Long, Long> acknowledged) {
        for (Map.Entry<Long, Long> a : acknowledged.entrySet()) {
            Entry e = p.committed.get(a.getValue());
            assertTrue(e != null, p.name + ": acknowledged proposal " + a.getKey() + " lost");
            assertEquals(
                    p.proposals.get(a.getKey()),
                    new String(e.payload(), StandardCharsets.UTF_8),
                    p.name + ": acknowledged proposal " + a.getKey() + " at " + a.getValue());
        }
    }

    /** A message that reaches a partition from a node outside its replica set fails the invariants. */
    @Test
    void aPartitionHearsOnlyItsOwnReplicaSet() {
        PartitionedSimulation sim = new PartitionedSimulation(BASE_SEED, NODES, PARTITIONS, Simulation.Faults.NONE);
        Simulation p = sim.partitions.get(0);
        String outsider = sim.nodes.keySet().stream()
                .filter(n -> !p.replicas.containsKey(n))
                .findFirst()
                .orElseThrow();
        String member = p.replicaSet().get(0);
        AssertionError e =
                assertThrows(AssertionError.class, () -> p.deliver(new Message.NewEpoch(outsider, member, 1_000)));
        assertTrue(e.getMessage().contains("from outside its replica set"), e.getMessage());
        assertTrue(e.getMessage().contains("seed=" + BASE_SEED), e.getMessage());
    }

    /**
     * A network that delivers some messages to another partition hosted on the same two nodes (a transport routing by
     * node id alone) is caught: an entry proposed to one partition is appended to another's log, or another
     * invariant of the receiving partition breaks.
     */
    @Test
    void messagesDeliveredToAnotherPartitionOnTheSameNodesAreCaught() {
        int caught = firstCatch(
                Simulation.Defect.CROSSED_PARTITIONS,
                null,
                50,
                why -> why.contains("is appended to partition") || why.contains(" committed as "),
                sim -> {});
        assertTrue(caught >= 0, "50 schedules did not notice messages crossing partitions");
    }

    /**
     * Forged follower acknowledgements on one node only (every partition it leads commits without a majority) are
     * caught in each of the first 10 schedules, most of them by a partition's invariants (an offset committed as two
     * different entries); the others by the core's own guard (a replica of that node asked to truncate below its
     * commit offset) or by a partition that does not converge (its leader believes its followers hold what they never
     * received).
     */
    @Test
    void forgedAcknowledgementsOnOneNodeAreCaughtInEverySchedule() {
        int byInvariants = 0;
        for (int i = 0; i < 10; i++) {
            Catch c = firstCatch(
                    Simulation.Defect.FORGED_ACKS,
                    "n0",
                    i,
                    1,
                    false,
                    false,
                    why -> why.contains("committed as")
                            || why.contains("committed entries would be lost")
                            || why.contains("no convergence"),
                    sim -> {});
            assertTrue(c != null, "schedule " + i + " did not notice one node's forged acknowledgements");
            byInvariants += c.why().contains("committed as") ? 1 : 0;
        }
        assertTrue(byInvariants >= 5, byInvariants + " of 10 caught by the partitions' invariants");
    }

    /**
     * One node whose logs count what they read back at a restart as durable without forcing it (issue 12, defect 1)
     * loses, at a later power loss of that node, the unsynced entries of every partition it hosts; the invariants
     * catch a partition applying what is not durable.
     */
    @Test
    void oneNodeReadingItsLogsBackWithoutForcingIsCaught() {
        int caught = firstCatch(
                Simulation.Defect.OPEN_LOG_WITHOUT_FORCING,
                "n1",
                100,
                why -> why.contains("durable only below"),
                sim -> {});
        assertTrue(caught >= 0, "100 schedules did not notice one node's logs read back without forcing");
    }

    /**
     * The same defect with the disk check off: the failure must be one a client sees, a committed entry replaced by
     * another at its offset in one of the node's partitions, or an acknowledged write missing.
     */
    @Test
    void oneNodeReadingItsLogsBackWithoutForcingLosesACommittedEntryAndIsCaught() {
        int caught = firstCatch(
                Simulation.Defect.OPEN_LOG_WITHOUT_FORCING,
                "n1",
                300,
                why -> why.contains("committed as") || why.contains("acknowledged proposal"),
                sim -> sim.partitions.forEach(p -> p.checkApplyIsDurable = false));
        assertTrue(caught >= 0, "300 schedules did not lose a committed entry on one node's unforced logs");
    }

    /**
     * A node whose write-ahead log acknowledges a partition's sync before forcing (issue 16) loses, at a power loss of
     * that node, entries its partitions acknowledged as durable; the invariants catch a partition applying what is not
     * durable.
     */
    @Test
    void aWriteAheadLogThatAcknowledgesBeforeItsForceIsCaught() {
        Catch c = firstCatch(
                Simulation.Defect.WAL_ACK_BEFORE_FORCE,
                "n1",
                0,
                100,
                true,
                false,
                why -> why.contains("durable only below"),
                sim -> {});
        assertTrue(c != null, "100 schedules did not notice one node's write-ahead log acknowledging before forcing");
    }

    /**
     * A node whose replicas act on a promise recorded in the write-ahead log before the log was forced (instead of
     * holding their actions until it is) sends messages its durable promise does not cover: a promise lost at a power
     * loss after them would let the replica accept an older epoch it had refused. The invariant that no message
     * leaves a replica above its durable promise catches it.
     */
    @Test
    void aReplicaThatSendsBeforeItsPromiseIsDurableIsCaught() {
        Catch c = firstCatch(
                Simulation.Defect.SEND_BEFORE_PROMISE_DURABLE,
                "n1",
                0,
                100,
                true,
                false,
                why -> why.contains("above its durable promise"),
                sim -> {});
        assertTrue(c != null, "100 schedules did not notice one node sending before its promises were durable");
    }

    /**
     * Fast failover on nodes (docs/replication.md, "Fast failover"): every partition's followers suspect a silent
     * leader and count their node's hearings of the leader's node (its pings, any partition's messages) as hearing the
     * leader, as {@code ZooKeeperNode} reports them at every tick; the simulated ZooKeeper deposes a leader a majority
     * suspects. Under node crashes and power losses that take down a node's partitions at once, every invariant holds,
     * among them rule 1: a suspicion of the promised epoch's leader is withdrawn only on news, never on a hearing the
     * replica had already had when it suspected (the flap that kept 334 partitions from failing over).
     */
    @Test
    void withFastFailoverFollowersCountTheirNodesHearingsAndWithdrawSuspicionsOnlyOnNewsUnderNodeCrashes() {
        long deposes = 0;
        long suspicions = 0;
        long withdrawn = 0;
        long acknowledged = 0;
        long nodeCrashes = 0;
        long nodePowerLosses = 0;
        int schedules = Long.getLong("sim.seed") != null ? 1 : FAST_FAILOVER_SCHEDULES;
        for (int i = 0; i < schedules; i++) {
            PartitionedSimulation sim = schedule(i, true);
            sim.run(STEPS);
            sim.converge(40_000);
            for (Simulation p : sim.partitions) {
                deposes += p.deposes;
                suspicions += p.suspicionsReported;
                withdrawn += p.suspicionsWithdrawnOnNews;
                acknowledged += p.acknowledged.size();
            }
            nodeCrashes += sim.nodeCrashes;
            nodePowerLosses += sim.nodePowerLosses;
        }
        System.out.printf(
                "partitioned fast failover simulation: %d schedules from seed %d; %d suspicions, %d withdrawn on news,"
                        + " %d leaders deposed, %d node crashes, %d node power losses, %d proposals acknowledged%n",
                schedules, BASE_SEED, suspicions, withdrawn, deposes, nodeCrashes, nodePowerLosses, acknowledged);
        assertTrue(acknowledged > 0, "the schedules acknowledged nothing");
        assertTrue(deposes > 0, "no leader was deposed: fast failover went untested");
        assertTrue(withdrawn > 0, "no suspicion was withdrawn on news: the rule went untested");
        assertTrue(nodeCrashes > 0 && nodePowerLosses > 0, "both node-level crash kinds must occur");
    }

    /**
     * Fast failover alone moves a crashed node's partitions: the node hosting the most partitions leads every one of
     * them and each acknowledges a write; the node crashes (then, in a second run, loses power) and no election
     * notices the lost session — within a session timeout of the simulated clock (600 ms: the suspicion timeouts are
     * 60–300 ms, the minimum term up to 200 ms), the other replicas' suspicions depose the dead leader of every one
     * of them and a replica on another node leads; each then acknowledges a write, and no acknowledged write is lost.
     */
    @Test
    void withFastFailoverANodeCrashMovesEveryPartitionItLedBeforeTheSessionTimeout() {
        int seeds = Long.getLong("sim.seed") != null ? 1 : 8;
        long slowest = 0;
        for (int i = 0; i < seeds; i++) {
            for (boolean powerLoss : new boolean[] {false, true}) {
                long seed = BASE_SEED + i;
                try {
                    slowest = Math.max(slowest, deposedAfterACrash(seed, powerLoss));
                } catch (AssertionError e) {
                    throw new AssertionError(
                            "seed " + seed + (powerLoss ? " (power loss)" : " (process crash)") + ": " + e.getMessage(),
                            e);
                }
            }
        }
        System.out.printf(
                "fast failover after a node crash: %d seeds, both crash kinds; every partition led elsewhere within"
                        + " %d ms of the simulated clock at most%n",
                seeds, slowest / 1_000_000);
    }

    private static long deposedAfterACrash(long seed, boolean powerLoss) {
        PartitionedSimulation sim = new PartitionedSimulation(
                seed, NODES, PARTITIONS, Simulation.Faults.DEFAULT, Simulation.Defect.NONE, null, seed % 2 == 1, true);
        PartitionedSimulation.Node victim = busiestNodeLeadingAllItsPartitions(sim);
        List<Simulation> led = List.copyOf(victim.partitions);
        Map<Simulation, Map<Long, Long>> acknowledgedBefore = new HashMap<>();
        Map<Simulation, Integer> deposesBefore = new HashMap<>();
        for (Simulation p : sim.partitions) {
            acknowledgedBefore.put(p, Map.copyOf(p.acknowledged));
            deposesBefore.put(p, p.deposes);
        }

        if (powerLoss) {
            sim.powerLoss(victim);
        } else {
            sim.crash(victim, "the scenario crashes the node leading " + led.size() + " partitions");
        }
        long took = sim.awaitLeadersElsewhere(led, victim.id, 600_000_000L);

        assertTrue(took >= 0, "every partition the victim led is led elsewhere within the session timeout");
        for (Simulation p : led) {
            assertTrue(p.deposes > deposesBefore.get(p), p.name + "'s new leader came from a depose");
        }
        Map<Simulation, Long> written = sim.writeAndAwait(led, 20_000);
        for (Simulation p : led) {
            assertTrue(p.acknowledged.containsKey(written.get(p)), p.name + "'s new leader acknowledged a write");
            assertAcknowledgedCommitted(p, acknowledgedBefore.get(p));
        }
        sim.converge(40_000);
        for (Simulation p : sim.partitions) {
            assertAcknowledgedCommitted(p, acknowledgedBefore.get(p));
        }
        return took;
    }

    /**
     * Replicas whose cores take their node's last hearing of the leader's node for news however old (the flap before
     * rule 1 was fixed: reported at every tick, the dead leader's old hearing withdrew the suspicion raised at the
     * tick before) withdraw suspicions without news; rule 1's check catches it.
     */
    @Test
    void aCoreThatTakesOldNodeHearingsForNewsIsCaught() {
        Catch c = firstCatch(
                Simulation.Defect.CORE_TAKES_OLD_HEARINGS_FOR_NEWS,
                "n1",
                0,
                100,
                false,
                true,
                why -> why.contains("without news"),
                sim -> {});
        assertTrue(c != null, "100 schedules did not notice cores taking old hearings for news");
    }

    /**
     * Schedule {@code i} without defects; every other one syncs through one write-ahead log per node, as {@code
     * ZooKeeperNode} does by default.
     */
    private static PartitionedSimulation schedule(int i, boolean fastFailover) {
        return new PartitionedSimulation(
                BASE_SEED + i,
                NODES,
                PARTITIONS,
                Simulation.Faults.DEFAULT,
                Simulation.Defect.NONE,
                null,
                i % 2 == 1,
                fastFailover);
    }

    /** A schedule whose run failed an invariant, and the first line of its failure. */
    private record Catch(int schedule, String why) {}

    /**
     * Returns the first schedule (from 0) whose run with {@code defect} (on {@code node} only, or everywhere if null)
     * fails an invariant, or -1 if none; a failure that {@code expected} does not accept fails the test.
     */
    private static int firstCatch(
            Simulation.Defect defect,
            String node,
            int maxSchedules,
            Predicate<String> expected,
            Consumer<PartitionedSimulation> setUp) {
        Catch c = firstCatch(defect, node, 0, maxSchedules, false, false, expected, setUp);
        return c == null ? -1 : c.schedule();
    }

    /**
     * As above, from schedule {@code from}, {@code schedules} of them, with or without a write-ahead log per node and
     * fast failover; null if none failed.
     */
    private static Catch firstCatch(
            Simulation.Defect defect,
            String node,
            int from,
            int schedules,
            boolean writeAheadLog,
            boolean fastFailover,
            Predicate<String> expected,
            Consumer<PartitionedSimulation> setUp) {
        for (int i = from; i < from + schedules; i++) {
            try {
                // Inside: the first elections run as the simulation is built, and a defect may show there already.
                PartitionedSimulation sim = new PartitionedSimulation(
                        BASE_SEED + i,
                        NODES,
                        PARTITIONS,
                        Simulation.Faults.DEFAULT,
                        defect,
                        node,
                        writeAheadLog,
                        fastFailover);
                setUp.accept(sim);
                sim.run(STEPS);
                sim.converge(40_000);
            } catch (AssertionError caught) {
                String first = caught.getMessage().lines().findFirst().orElse("");
                System.out.println(
                        defect + (node == null ? "" : " on " + node) + " caught by schedule " + i + ": " + first);
                if (!expected.test(first)) {
                    throw new AssertionError(defect + ": schedule " + i + " failed otherwise than expected", caught);
                }
                assertTrue(first.contains("seed=" + (BASE_SEED + i)), "the failure names its seed: " + first);
                return new Catch(i, first);
            }
        }
        return null;
    }
}
