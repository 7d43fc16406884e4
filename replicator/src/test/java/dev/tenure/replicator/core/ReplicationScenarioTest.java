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

import static dev.tenure.replicator.core.ScriptedCluster.Outcome.COMMITTED;
import static dev.tenure.replicator.core.ScriptedCluster.Outcome.NOT_LEADER;
import static dev.tenure.replicator.core.ScriptedCluster.Outcome.OVERLOADED;
import static dev.tenure.replicator.core.ScriptedCluster.Outcome.PENDING;
import static dev.tenure.replicator.core.ScriptedCluster.Outcome.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message.Append;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.core.Message.Rejected;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The failure cases of {@code docs/replication.md}, one test each, named after the reference case they
 * reproduce (Kafka KIP-101/279/320, Raft figures 7 and 8, ZOOKEEPER-1154, fencing F1-F4).
 */
class ReplicationScenarioTest {

    private static void assertAllLogsEqual(ScriptedCluster c, String... ids) {
        List<String> first = c.node(ids[0]).entries();
        for (String id : ids) {
            assertEquals(first, c.node(id).entries(), "log of " + id);
        }
    }

    @Test
    void k1_acknowledgedEntryOnANewLeaderSurvivesAlthoughItsCommitOffsetLagged() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("b", 1);
        c.settle();
        long m1 = c.propose("b", "m1");
        c.settle();
        c.cut("b", "c"); // c misses m2
        long m2 = c.propose("b", "m2");
        // b learns a has m2 (the ack gets through), but a never hears the commit offset that includes m2.
        c.node("a").autoSync = true;
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m1));
        assertEquals(COMMITTED, c.outcomes.get(m2), "m2 acknowledged: durable on b and a");
        assertTrue(c.node("a").core.commitOffset() < c.node("b").core.commitOffset());
        c.powerLoss("a");
        c.restart("a"); // a's commit offset starts from zero again
        c.powerLoss("b");
        c.healAll();
        c.elect("a", 2);
        c.settle();
        long m3 = c.propose("a", "m3");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m3));
        assertEquals(List.of("1:", "1:m1", "1:m2", "2:", "2:m3"), c.node("a").entries());
        assertAllLogsEqual(c, "a", "c");
    }

    @Test
    void k2_divergentUncommittedTailIsTruncatedAndLogsEndIdentical() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        c.isolate("a");
        long m2 = c.propose("a", "m2"); // durable on a only
        c.settle();
        assertEquals(PENDING, c.outcomes.get(m2));
        c.powerLoss("a");
        c.powerLoss("b"); // b loses nothing it acknowledged
        c.restart("b");
        c.healAll();
        c.elect("b", 2);
        c.settle();
        long m3 = c.propose("b", "m3");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m3));
        long commitBefore = c.node("b").core.commitOffset();
        c.restart("a");
        c.tick(300); // b retries NewEpoch; a promises and is repaired
        assertAllLogsEqual(c, "a", "b", "c");
        assertEquals(List.of("1:", "1:m1", "2:", "2:m3"), c.node("a").entries());
        assertTrue(c.node("b").core.commitOffset() >= commitBefore, "offsets never go backwards");
    }

    @Test
    void k3_replicaWithAnAbandonedEpochTruncatesBackToTheEndOfTheEpochItShares() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        c.resign("a");
        c.elect("b", 2);
        // b collects promises, but its epoch-2 entries reach no one.
        c.settleDropping(m -> m instanceof Append && m.from().equals("b"));
        c.isolate("b");
        c.propose("b", "x1");
        c.propose("b", "x2");
        c.settle();
        assertEquals(List.of("1:", "1:m1", "2:", "2:x1", "2:x2"), c.node("b").entries());
        c.powerLoss("b");
        c.healAll();
        c.elect("a", 3);
        c.settle();
        c.propose("a", "m2");
        c.settle();
        c.restart("b");
        c.tick(300);
        assertAllLogsEqual(c, "a", "b", "c");
        assertEquals(List.of("1:", "1:m1", "3:", "3:m2"), c.node("b").entries());
    }

    @Test
    void leaderCutOffFromEveryFollowerGivesUpItsTermAfterTheCheckQuorumInterval() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        c.cut("a", "b"); // a keeps its election (its ZooKeeper session) but reaches no follower
        c.cut("a", "c");
        long stuck = c.propose("a", "while-cut");
        for (int i = 0; i < 95; i++) {
            c.tick(100);
        }
        assertEquals(Role.LEADER, c.node("a").core.role(), "within the 10 s interval it keeps leading");
        assertTrue(c.actionsOf("a", Action.QuorumLost.class).isEmpty());
        for (int i = 0; i < 10; i++) {
            c.tick(100);
        }
        assertEquals(Role.FOLLOWER, c.node("a").core.role());
        assertEquals(List.of(new Action.QuorumLost(1)), c.actionsOf("a", Action.QuorumLost.class));
        assertEquals(UNKNOWN, c.outcomes.get(stuck), "an entry in its log has an unknown outcome, never failed");
        // b and c reach each other: one of them leads the next epoch and the cluster goes on.
        c.elect("b", 2);
        c.settle();
        long next = c.propose("b", "m2");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(next));
        c.healAll();
        c.tick(300);
        assertAllLogsEqual(c, "a", "b", "c");
    }

    @Test
    void leaderHearingFromOneFollowerOfTwoKeepsItsTerm() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.cut("a", "b");
        for (int i = 0; i < 150; i++) {
            c.tick(100);
        }
        assertEquals(Role.LEADER, c.node("a").core.role(), "a and c are a majority");
        assertTrue(c.actionsOf("a", Action.QuorumLost.class).isEmpty());
        long m = c.propose("a", "m1");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m));
    }

    @Test
    void k4_deposedLeaderStopsOnAHigherEpochAndItsOldEpochNeverAdvancesCommit() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 4);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        c.isolate("a");
        long lost = c.propose("a", "during-partition");
        c.healAll();
        List<Message> stale = c.hold(m -> m.from().equals("a")); // nothing: a's sends were cut
        assertTrue(stale.isEmpty());
        c.cut("a", "b");
        c.cut("a", "c");
        c.elect("c", 5);
        c.settle();
        long commitOfB = c.node("b").core.commitOffset();
        // An epoch-4 append reaches b, which promised 5: refused, commit unchanged.
        c.node("b")
                .core
                .receive(
                        new Append(
                                "a",
                                "b",
                                4,
                                1,
                                4,
                                List.of(Entry.data(4, 2, "x".getBytes(StandardCharsets.UTF_8))),
                                3,
                                0),
                        0);
        assertEquals(commitOfB, c.node("b").core.commitOffset());
        assertTrue(c.node("b").core.takeActions().stream()
                .anyMatch(x -> x instanceof Action.Send s && s.message() instanceof Rejected r && r.epoch() == 5));
        // Any epoch-5 message reaching a (here an append) makes it stop leading at once.
        c.node("a").core.receive(new Append("c", "a", 5, -1, 0, List.of(), 0, 0), 0);
        assertEquals(Role.FOLLOWER, c.node("a").core.role());
        c.healAll();
        c.tick(300);
        assertFalse(c.actionsOf("a", Action.Fenced.class).isEmpty());
        assertEquals(UNKNOWN, c.outcomes.get(lost), "an entry in a deposed leader's log has an unknown outcome");
        assertAllLogsEqual(c, "a", "b", "c");
    }

    @Test
    void r1_raftFigure7_everyFollowerIsRepairedToTheLeadersLog() {
        ScriptedCluster c = new ScriptedCluster("leader", "a", "b", "c", "d", "e", "f");
        c.preload("leader", 6, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
        c.preload("a", 6, 1, 1, 1, 4, 4, 5, 5, 6, 6);
        c.preload("b", 6, 1, 1, 1, 4);
        c.preload("c", 6, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6);
        c.preload("d", 7, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7);
        c.preload("e", 4, 1, 1, 1, 4, 4, 4, 4);
        c.preload("f", 3, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3);
        List<String> leaderPrefix = c.node("leader").entries();
        c.elect("leader", 8);
        c.settle();
        c.propose("leader", "new");
        c.tick(300);
        c.tick(300);
        assertAllLogsEqual(c, "leader", "a", "b", "c", "d", "e", "f");
        assertEquals(leaderPrefix, c.node("f").entries().subList(0, leaderPrefix.size()));
        assertEquals(c.node("leader").core.logEndOffset(), c.node("f").core.commitOffset());
    }

    @Test
    void r2_raftFigure8_anOldEpochEntryOnAMajorityIsNotCommittedWithoutACurrentEpochEntry() {
        ScriptedCluster c = new ScriptedCluster("s1", "s2", "s3", "s4", "s5");
        c.elect("s1", 1);
        c.settle();
        c.propose("s1", "m1");
        c.settle();
        // Epoch 2: s1 gets x to s2 only.
        c.resign("s1");
        c.elect("s1", 2);
        c.settle();
        c.cut("s1", "s3");
        c.cut("s1", "s4");
        c.cut("s1", "s5");
        long x = c.propose("s1", "x");
        c.settle();
        assertEquals(PENDING, c.outcomes.get(x));
        c.powerLoss("s1");
        // Epoch 3: s5 leads with s3, s4, writes y only to itself, crashes.
        c.healAll();
        c.cut("s5", "s1");
        c.cut("s5", "s2");
        c.elect("s5", 3);
        c.settleDropping(m -> m instanceof Append && m.from().equals("s5"));
        c.isolate("s5");
        c.propose("s5", "y");
        c.settle();
        c.powerLoss("s5");
        // Epoch 4: s1 restarts and leads with s2, s3: x reaches s3 (a majority holds it) ...
        c.healAll();
        c.restart("s1");
        c.cut("s1", "s4");
        c.cut("s1", "s5");
        c.node("s3").autoSync = true;
        c.elect("s1", 4);
        // ... but the epoch-4 start entry is held back from s2 and s3.
        for (int i = 0; i < 50; i++) {
            List<Message> all = c.hold(m -> true);
            for (Message m : all) {
                if (m instanceof Append a && a.entries().stream().anyMatch(e -> e.epoch() == 4)) {
                    List<Entry> old =
                            a.entries().stream().filter(e -> e.epoch() < 4).toList();
                    if (!old.isEmpty()) {
                        c.deliver(new Append(
                                a.from(),
                                a.to(),
                                a.epoch(),
                                a.prevOffset(),
                                a.prevEpoch(),
                                old,
                                a.commitOffset(),
                                a.probe()));
                    }
                } else {
                    c.deliver(m);
                }
            }
            c.sync("s1");
            c.sync("s2");
            c.sync("s3");
        }
        long xOffset = 3;
        assertEquals("2:x", c.node("s3").entries().get((int) xOffset), "x is on s1, s2, s3");
        assertTrue(c.node("s1").core.commitOffset() <= xOffset, "x must not commit without an epoch-4 entry");
        assertNotEquals(COMMITTED, c.outcomes.get(x));
        // s1 crashes; s5 leads epoch 5 with s4 and s3... and overwrites x, which is legal: no one acknowledged it.
        c.powerLoss("s1");
        c.healAll();
        c.restart("s5");
        c.cut("s5", "s2");
        c.elect("s5", 5);
        c.settle();
        c.healAll();
        c.tick(300);
        assertFalse(c.node("s2").entries().contains("2:x"));
        assertAllLogsEqual(c, "s2", "s3", "s4", "s5");
    }

    @Test
    void r3_newLeaderOverwritesNewerUncommittedEntriesItDoesNotHave() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c", "d", "e");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        c.cut("a", "c");
        c.cut("a", "d");
        c.cut("a", "e");
        long m2 = c.propose("a", "m2"); // reaches b only: no majority
        c.settle();
        assertEquals(PENDING, c.outcomes.get(m2));
        c.powerLoss("a");
        c.healAll();
        c.cut("b", "c"); // c recovers from c, d, e
        c.cut("b", "d");
        c.cut("b", "e");
        c.elect("c", 2);
        c.settle();
        long m3 = c.propose("c", "m3");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m3));
        c.healAll();
        c.tick(300);
        assertEquals(List.of("1:", "1:m1", "2:", "2:m3"), c.node("b").entries());
        assertAllLogsEqual(c, "b", "c", "d", "e");
    }

    @Test
    void z1_aTailOfAnEpochOnlyOneReplicaLoggedIsTruncatedWhenItRejoins() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 6);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        c.resign("a");
        c.elect("a", 7);
        // Promises for 7 from b and c; a alone logs epoch 7.
        c.settleDropping(m -> m instanceof Append && m.from().equals("a"));
        c.isolate("a");
        c.propose("a", "lonely");
        c.settle();
        assertEquals(List.of("6:", "6:m1", "7:", "7:lonely"), c.node("a").entries());
        c.powerLoss("a");
        c.powerLoss("b");
        c.powerLoss("c");
        c.restart("b");
        c.restart("c");
        c.healAll();
        c.elect("b", 8);
        c.settle();
        c.propose("b", "m2");
        c.propose("b", "m3");
        c.settle();
        c.restart("a");
        c.tick(300);
        assertAllLogsEqual(c, "a", "b", "c");
        assertEquals(List.of("6:", "6:m1", "8:", "8:m2", "8:m3"), c.node("a").entries());
    }

    @Test
    void f1_pausedLeaderResumingAfterANewEpochHasEveryAppendRefusedAndAcknowledgesNothing() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        // a pauses (its messages wait), b leads epoch 2.
        c.isolate("a");
        long z1 = c.propose("a", "zombie-1");
        long z2 = c.propose("a", "zombie-2");
        c.cut("a", "b");
        c.healAll();
        c.cut("a", "b");
        c.cut("a", "c");
        c.elect("b", 2);
        c.settle();
        long m2 = c.propose("b", "m2");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m2));
        // a resumes and keeps appending with epoch 1.
        c.healAll();
        c.tick(300);
        assertEquals(UNKNOWN, c.outcomes.get(z1));
        assertEquals(UNKNOWN, c.outcomes.get(z2));
        assertTrue(c.actionsOf("a", Action.ProposalCommitted.class).stream()
                .noneMatch(p -> p.proposalId() == z1 || p.proposalId() == z2));
        assertEquals(Role.FOLLOWER, c.node("a").core.role());
        assertAllLogsEqual(c, "a", "b", "c");
        assertFalse(c.node("a").entries().contains("1:zombie-1"));
    }

    @Test
    void f2_delayedMessageOfAnOlderEpochIsRefusedAlsoAfterTheFollowerRestarts() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "m1");
        List<Message> delayed = c.hold(m -> m.to().equals("b") && m instanceof Append);
        assertFalse(delayed.isEmpty());
        c.settle();
        c.resign("a");
        c.elect("c", 2);
        c.settle();
        List<String> before = c.node("b").entries();
        c.powerLoss("b");
        c.restart("b");
        for (Message m : delayed) {
            c.deliver(m);
        }
        assertEquals(before, c.node("b").entries(), "the epoch-1 append changed nothing");
        assertEquals(2, c.node("b").core.epoch(), "the promise survived the restart");
        assertTrue(c.inflight.stream().anyMatch(m -> m instanceof Rejected r && r.to().equals("a")));
    }

    @Test
    void f3_twoSimultaneousLeadersNeverCommitConflictingEntries() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 5);
        c.elect("c", 6); // both believe they lead
        long fromA = c.propose("a", "from-a");
        long fromC = c.propose("c", "from-c");
        // b hears a first, then c.
        for (Message m : c.hold(m -> m.from().equals("a"))) {
            c.deliver(m);
        }
        c.settle();
        c.tick(300);
        assertEquals(Role.LEADER, c.node("c").core.role());
        assertEquals(Role.FOLLOWER, c.node("a").core.role());
        assertEquals(COMMITTED, c.outcomes.get(fromC));
        assertNotEquals(COMMITTED, c.outcomes.get(fromA), "a's epoch was fenced before it could commit");
        assertAllLogsEqual(c, "a", "b", "c");
    }

    @Test
    void f4_repeatedNewEpochForAnAlreadyPromisedEpochFromAnotherNodeIsRefused() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 3);
        c.settle();
        Promise before = c.node("b").promises.load();
        assertEquals(new Promise(3, "a"), before);
        c.node("b").core.receive(new NewEpoch("c", "b", 3), 0);
        assertEquals(before, c.node("b").promises.load());
        assertTrue(c.node("b").core.takeActions().stream()
                .anyMatch(x -> x instanceof Action.Send s
                        && s.message() instanceof Rejected r
                        && r.to().equals("c")
                        && r.promisedLeader().equals("a")));
    }

    @Test
    void f5_replicaWithOnlyAPromiseFloorRefusesOlderEpochsAndFollowsTheFloorEpochsLeader() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.preload("c", 5); // c lost its disk; the latest epoch minted is 5 (a promise without a leader)
        c.node("c").core.receive(new NewEpoch("b", "c", 4), 0); // a deposed leader of epoch 4
        assertEquals(new Promise(5, ""), c.node("c").promises.load(), "epoch 4 refused");
        c.elect("a", 5);
        c.settle();
        assertEquals(new Promise(5, "a"), c.node("c").promises.load(), "the leader of epoch 5 is followed");
        assertEquals(Role.LEADER, c.node("a").core.role(), "a refusal by the floor did not fence the leader");
        long m = c.propose("a", "m");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m));
        c.node("c").core.receive(new NewEpoch("b", "c", 5), 0); // another node claiming epoch 5 afterwards
        assertEquals(new Promise(5, "a"), c.node("c").promises.load());
    }

    @Test
    void newLeaderLackingCommittedEntriesFetchesThemFromTheMostUpToDateReplica() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.cut("a", "c");
        long m1 = c.propose("a", "m1");
        long m2 = c.propose("a", "m2");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m1));
        assertEquals(COMMITTED, c.outcomes.get(m2));
        assertEquals(List.of("1:"), c.node("c").entries());
        c.powerLoss("a");
        c.healAll();
        c.elect("c", 2);
        c.settle();
        assertEquals(List.of("1:", "1:m1", "1:m2", "2:"), c.node("c").entries());
        assertAllLogsEqual(c, "b", "c");
    }

    @Test
    void leaderCountsItselfTowardsCommitOnlyOnceItsOwnLogIsDurable() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.cut("a", "c");
        c.node("a").autoSync = false;
        long m = c.propose("a", "m");
        c.settle();
        assertEquals(PENDING, c.outcomes.get(m), "durable on b only: not a majority");
        c.sync("a");
        assertEquals(COMMITTED, c.outcomes.get(m));
    }

    @Test
    void followerReportsItsLogForANewEpochOnlyOnceTheLogIsDurable() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.node("b").autoSync = false;
        c.propose("a", "m");
        c.settle();
        assertTrue(c.node("b").core.logEndOffset() > c.node("b").core.durableOffset());
        c.resign("a");
        c.elect("c", 2);
        c.cut("b", "c");
        c.settle();
        c.healAll();
        for (Message m : c.hold(m -> true)) {
            c.deliver(m);
        }
        c.tick(300); // c resends NewEpoch to b
        c.node("c").core.tick(1_000_000_000L);
        for (Message m : c.hold(m -> m instanceof NewEpoch && m.to().equals("b"))) {
            c.deliver(m);
        }
        assertTrue(
                c.inflight.stream()
                        .noneMatch(
                                m -> m instanceof Message.EpochAck && m.from().equals("b")),
                "b acknowledged the epoch while its log was not durable");
        c.sync("b");
        assertTrue(c.inflight.stream()
                .anyMatch(m -> m instanceof Message.EpochAck e
                        && e.from().equals("b")
                        && e.logEnd() == c.node("b").core.durableOffset()));
    }

    @Test
    void proposalsOnAFollowerOrBeyondTheLimitFailDefinitely() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        long onFollower = c.propose("b", "x");
        assertEquals(NOT_LEADER, c.outcomes.get(onFollower));
        assertEquals("a", c.actionsOf("b", Action.ProposalFailed.class).get(0).leaderHint());
        c.isolate("a");
        for (int i = 0; i < 10_000; i++) {
            c.propose("a", "p" + i);
        }
        long overflow = c.propose("a", "overflow");
        assertEquals(OVERLOADED, c.outcomes.get(overflow));
    }

    @Test
    void readBarrierNeedsAMajorityConfirmingTheEpoch() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        c.isolate("a");
        c.node("a").core.readBarrier(42, 0);
        c.settle();
        assertTrue(c.actionsOf("a", Action.ReadReady.class).isEmpty(), "an isolated leader must not serve reads");
        c.healAll();
        c.tick(150); // the next heartbeat carries the read's probe
        List<Action.ReadReady> ready = c.actionsOf("a", Action.ReadReady.class);
        assertEquals(1, ready.size());
        assertEquals(c.node("a").core.commitOffset(), ready.get(0).readOffset());
        c.isolate("a");
        c.node("a").core.readBarrier(43, 0);
        c.cut("a", "b");
        c.healAll();
        c.cut("a", "b");
        c.cut("a", "c");
        c.elect("b", 2);
        c.settle();
        c.healAll();
        c.tick(300);
        assertTrue(c.actionsOf("a", Action.ReadFailed.class).stream().anyMatch(r -> r.readId() == 43));
    }
}
