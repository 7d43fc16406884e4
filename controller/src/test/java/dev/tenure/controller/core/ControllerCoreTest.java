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
package dev.tenure.controller.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What {@link ControllerCore} decides. */
class ControllerCoreTest {
    private static final NodeRegistration N1 = new NodeRegistration("n1", 10, "127.0.0.1:1");
    private static final NodeRegistration N2 = new NodeRegistration("n2", 20, "127.0.0.1:2");
    private static final NodeRegistration N3 = new NodeRegistration("n3", 30, "127.0.0.1:3");

    private static VersionedState led(String p, List<String> replicas, NodeRegistration leader, long epoch, int v) {
        return new VersionedState(
                p, new PartitionState(replicas, Optional.of(leader.node()), epoch, leader.nodeEpoch(), 1), v);
    }

    /** Applies every pending write as written (version + 1, or 0 for a create) and returns them. */
    private static List<StateWrite> writeAll(ControllerCore core) {
        List<StateWrite> writes = core.pendingWrites();
        for (StateWrite w : writes) {
            core.written(new VersionedState(w.partition(), w.state(), w.expectedVersion() + 1));
        }
        return writes;
    }

    private static ControllerCore core(List<NodeRegistration> live, List<VersionedState> states) {
        ControllerCore core = new ControllerCore("n1", 2);
        core.takeOffice(live, states);
        return core;
    }

    @Test
    void theLostLeadersPartitionsGetANewTermLedByTheFirstLiveReplicaInAssignmentOrder() {
        ControllerCore core = core(
                List.of(N1, N2, N3),
                List.of(
                        led("a", List.of("n1", "n2", "n3"), N1, 4, 7),
                        led("b", List.of("n2", "n1", "n3"), N2, 1, 0),
                        led("c", List.of("n3", "n2", "n1"), N1, 9, 3)));
        assertEquals(List.of(), core.pendingWrites(), "every leader is live and current");
        core.drainRequests();
        core.nodeLost("n1", 10);
        List<StateWrite> writes = core.pendingWrites();
        assertEquals(2, writes.size(), writes.toString());
        StateWrite a = writes.get(0);
        assertEquals("a", a.partition());
        assertEquals(Optional.of("n2"), a.state().leader());
        assertEquals(5, a.state().leaderEpoch());
        assertEquals(20, a.state().leaderNodeEpoch());
        assertEquals(2, a.state().controllerEpoch());
        assertEquals(7, a.expectedVersion());
        StateWrite c = writes.get(1);
        assertEquals(Optional.of("n3"), c.state().leader(), "c's first replica n3 is live");
        assertEquals(10, c.state().leaderEpoch());
    }

    @Test
    void aReplicaThatANewStateNoLongerNamesIsToldThatStateSoThatItDeletesItsReplica() {
        ControllerCore core = core(List.of(N1, N2, N3), List.of(led("a", List.of("n1", "n2", "n3"), N1, 4, 7)));
        core.drainRequests();
        core.refreshed("a", Optional.of(led("a", List.of("n1", "n2"), N1, 5, 8)));
        assertEquals(List.of(), core.pendingWrites());
        List<LeaderAndReplicas> requests = core.drainRequests();
        LeaderAndReplicas toN3 = requests.stream()
                .filter(r -> r.node().equals("n3"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("n3 not told: " + requests));
        assertEquals(List.of("n1", "n2"), toN3.partitions().get("a").replicas());
    }

    @Test
    void aLossEventOfAnOlderRegistrationIsIgnored() {
        ControllerCore core = core(List.of(N1, N2), List.of(led("a", List.of("n1", "n2"), N1, 1, 0)));
        core.nodeLost("n1", 9);
        assertEquals(List.of(), core.pendingWrites());
        assertTrue(core.liveNodes().containsKey("n1"));
        core.nodeRegistered(new NodeRegistration("n1", 5, "x:1"));
        assertEquals(10, core.liveNodes().get("n1").nodeEpoch(), "an older registration does not replace a newer one");
    }

    @Test
    void aLeaderThatRegistersAgainLosesItsTermEvenWhenItLeadsTheNextOne() {
        ControllerCore core = core(List.of(N1, N2), List.of(led("a", List.of("n1", "n2"), N1, 3, 2)));
        core.drainRequests();
        NodeRegistration bounced = new NodeRegistration("n1", 11, "127.0.0.1:1");
        core.nodeRegistered(bounced);
        List<StateWrite> writes = writeAll(core);
        assertEquals(1, writes.size());
        PartitionState next = writes.get(0).state();
        assertEquals(Optional.of("n1"), next.leader(), "n1 is still the first live replica");
        assertEquals(4, next.leaderEpoch(), "but in a new term: the restarted process never runs the old one");
        assertEquals(11, next.leaderNodeEpoch());
        List<LeaderAndReplicas> requests = core.drainRequests();
        LeaderAndReplicas toN1 =
                requests.stream().filter(r -> r.node().equals("n1")).findFirst().orElseThrow();
        assertTrue(toN1.full(), "a node that registered is told every partition it hosts");
        assertEquals(11, toN1.nodeEpoch(), "addressed to its new registration");
        assertEquals(next, toN1.partitions().get("a"));
    }

    @Test
    void withoutALiveReplicaThePartitionGetsATermWithoutALeaderAndTheFirstReplicaBackLeadsIt() {
        ControllerCore core = core(List.of(N1, N2), List.of(led("a", List.of("n1", "n2"), N1, 3, 2)));
        core.nodeLost("n2", 20);
        core.nodeLost("n1", 10);
        List<StateWrite> writes = writeAll(core);
        assertEquals(Optional.empty(), writes.get(0).state().leader());
        assertEquals(4, writes.get(0).state().leaderEpoch(), "the lost leader's term is over for every reader");
        assertEquals(List.of(), core.drainRequests(), "nobody is live to tell");
        core.nodeRegistered(new NodeRegistration("n2", 21, "x:2"));
        writes = writeAll(core);
        assertEquals(Optional.of("n2"), writes.get(0).state().leader());
        assertEquals(5, writes.get(0).state().leaderEpoch());
    }

    @Test
    void controlledShutdownMovesEveryLeadershipAnotherReplicaCanTakeAndReportsProgress() {
        ControllerCore core = core(
                List.of(N1, N2, N3),
                List.of(
                        led("a", List.of("n1", "n2"), N1, 1, 0),
                        led("b", List.of("n1", "n3"), N1, 1, 0),
                        led("c", List.of("n1"), N1, 1, 0),
                        led("d", List.of("n2", "n1"), N2, 1, 0)));
        ControllerCore.ShutdownProgress first = core.controlledShutdown("n1", 10);
        assertEquals(new ControllerCore.ShutdownProgress(true, 3, 2), first);
        List<StateWrite> writes = writeAll(core);
        assertEquals(
                List.of("a", "b"), writes.stream().map(StateWrite::partition).toList(), "c has nobody else");
        assertEquals(new ControllerCore.ShutdownProgress(true, 1, 0), core.controlledShutdown("n1", 10));
        assertEquals(
                new ControllerCore.ShutdownProgress(false, 0, 0),
                core.controlledShutdown("n1", 9),
                "a request of an older registration is refused");
        core.nodeLost("n2", 20);
        List<StateWrite> after = writeAll(core);
        assertEquals(
                List.of("a", "d"), after.stream().map(StateWrite::partition).toList(), "both were led by n2");
        after.forEach(w -> assertEquals(Optional.empty(), w.state().leader(), "n1 is shutting down: " + w));
    }

    @Test
    void aLeaderThatGaveUpItsTermIsReplacedByAnotherEligibleReplicaAndAReportOfAnotherTermIsIgnored() {
        ControllerCore core = core(
                List.of(N1, N2, N3),
                List.of(led("a", List.of("n1", "n2", "n3"), N1, 4, 0), led("b", List.of("n1"), N1, 2, 0)));
        core.termEnded("n1", 10, "a", 3);
        core.termEnded("n1", 9, "a", 4);
        core.termEnded("n2", 20, "a", 4);
        assertEquals(List.of(), core.pendingWrites(), "another term, another registration, another node: ignored");
        core.termEnded("n1", 10, "a", 4);
        core.termEnded("n1", 10, "b", 2);
        List<StateWrite> writes = writeAll(core);
        assertEquals(Optional.of("n2"), writes.get(0).state().leader(), "another replica takes it");
        assertEquals(5, writes.get(0).state().leaderEpoch());
        assertEquals(Optional.of("n1"), writes.get(1).state().leader(), "b has no other replica: a new term on n1");
        assertEquals(3, writes.get(1).state().leaderEpoch());
        assertEquals(List.of(), writeAll(core), "settled");
    }

    @Test
    void aShuttingDownNodeIsNotChosenUntilItRegistersAgain() {
        ControllerCore core = core(List.of(N1, N2), List.of(led("a", List.of("n2", "n1"), N2, 1, 0)));
        core.controlledShutdown("n1", 10);
        core.nodeLost("n2", 20);
        List<StateWrite> writes = writeAll(core);
        assertEquals(Optional.empty(), writes.get(0).state().leader(), "n1 is shutting down");
        core.nodeRegistered(new NodeRegistration("n1", 12, "x:1"));
        assertEquals(Optional.of("n1"), writeAll(core).get(0).state().leader());
    }

    @Test
    void aNewControllerFinishesAFailoverItsPredecessorLeftHalfDone() {
        // n3 died; the previous controller moved a but not b before it stopped.
        ControllerCore core = core(
                List.of(N1, N2),
                List.of(led("a", List.of("n3", "n1"), N1, 6, 4), led("b", List.of("n3", "n2"), N3, 5, 3)));
        List<StateWrite> writes = writeAll(core);
        assertEquals(1, writes.size());
        assertEquals("b", writes.get(0).partition());
        assertEquals(Optional.of("n2"), writes.get(0).state().leader());
        assertEquals(6, writes.get(0).state().leaderEpoch());
        assertEquals(2, writes.get(0).state().controllerEpoch(), "written under the new controller's epoch");
    }

    @Test
    void aPartitionHasOneWriteInFlightAndAnEventMeanwhileIsDecidedOnceItsOutcomeIsKnown() {
        ControllerCore core = core(List.of(N1, N2, N3), List.of(led("a", List.of("n1", "n2", "n3"), N1, 1, 0)));
        core.nodeLost("n1", 10);
        List<StateWrite> first = core.pendingWrites();
        assertEquals(Optional.of("n2"), first.get(0).state().leader());
        core.nodeLost("n2", 20);
        assertEquals(List.of(), core.pendingWrites(), "the first write is still in flight");
        core.written(new VersionedState("a", first.get(0).state(), 1));
        List<StateWrite> second = core.pendingWrites();
        assertEquals(Optional.of("n3"), second.get(0).state().leader());
        assertEquals(3, second.get(0).state().leaderEpoch());
        assertEquals(1, second.get(0).expectedVersion());
    }

    @Test
    void aConflictIsDecidedAgainFromTheStateReadBack() {
        ControllerCore core = core(List.of(N1, N2), List.of(led("a", List.of("n1", "n2"), N1, 1, 0)));
        core.nodeLost("n1", 10);
        assertEquals(1, core.pendingWrites().size());
        // Someone else (a newer write of ours that we had lost track of) already moved it to n2 in epoch 2.
        core.refreshed("a", Optional.of(led("a", List.of("n1", "n2"), N2, 2, 1)));
        assertEquals(List.of(), core.pendingWrites(), "the state read back is already right");
        assertEquals(Optional.of("n2"), core.states().get("a").state().leader());
    }

    @Test
    void oneRequestPerNodeCarriesEveryPartitionThatChanged() {
        List<VersionedState> states = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            states.add(led("p" + i, List.of("n1", "n2", "n3"), N1, 1, 0));
        }
        ControllerCore core = core(List.of(N1, N2, N3), states);
        core.drainRequests();
        core.nodeLost("n1", 10);
        assertEquals(1000, writeAll(core).size());
        List<LeaderAndReplicas> requests = core.drainRequests();
        assertEquals(
                List.of("n2", "n3"),
                requests.stream().map(LeaderAndReplicas::node).toList());
        for (LeaderAndReplicas r : requests) {
            assertEquals(1000, r.partitions().size());
            assertFalse(r.full());
            assertEquals(2, r.controllerEpoch());
        }
        assertEquals(List.of(), core.drainRequests(), "drained");
    }

    @Test
    void createdPartitionsAreLedByTheirFirstLiveReplicaAndCreatingThemAgainIsANoOp() {
        ControllerCore core = core(List.of(N2, N3), List.of());
        Map<String, List<String>> sets = new LinkedHashMap<>();
        sets.put("x", List.of("n1", "n2", "n3"));
        sets.put("y", List.of("n3", "n1", "n2"));
        core.createPartitions(sets);
        List<StateWrite> writes = writeAll(core);
        assertEquals(StateWrite.CREATE, writes.get(0).expectedVersion());
        assertEquals(Optional.of("n2"), writes.get(0).state().leader(), "n1 is not registered");
        assertEquals(1, writes.get(0).state().leaderEpoch());
        assertEquals(Optional.of("n3"), writes.get(1).state().leader());
        core.createPartitions(sets);
        assertEquals(List.of(), core.pendingWrites());
        assertThrows(
                IllegalArgumentException.class,
                () -> core.createPartitions(Map.of("x", List.of("n2", "n1", "n3"))),
                "another replica set");
        assertThrows(IllegalArgumentException.class, () -> core.createPartitions(Map.of("z", List.of("n1", "n1"))));
    }

    @Test
    void preferredLeaderElectionAndRebalanceMoveLeadershipBackOnlyPastTheThreshold() {
        List<VersionedState> states = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            // n1 is preferred for all ten; n2 leads i < 1 at first.
            states.add(led("p" + i, List.of("n1", "n2"), i < 1 ? N2 : N1, 1, 0));
        }
        ControllerCore core = core(List.of(N1, N2), states);
        assertEquals(List.of(), core.rebalance(10), "1 of 10 led elsewhere is 10%: not above the threshold");
        core.nodeLost("n1", 10);
        writeAll(core);
        core.nodeRegistered(new NodeRegistration("n1", 13, "x:1"));
        assertEquals(List.of(), writeAll(core), "a returning node does not take leadership back by itself");
        assertEquals(10, core.rebalance(10).size());
        List<StateWrite> back = writeAll(core);
        assertEquals(10, back.size());
        back.forEach(w -> assertEquals(Optional.of("n1"), w.state().leader()));
        assertEquals(List.of(), core.rebalance(10));
        assertEquals(List.of(), core.electPreferred(List.of("p0", "unknown")), "already led by n1; unknown ignored");
    }

    @Test
    void usingTheCoreBeforeTakingOfficeOrTakingOfficeTwiceIsRefused() {
        ControllerCore core = new ControllerCore("n1", 1);
        assertThrows(IllegalStateException.class, () -> core.nodeLost("n2", 1));
        core.takeOffice(List.of(), List.of());
        assertThrows(IllegalStateException.class, () -> core.takeOffice(List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new ControllerCore("n1", 0));
    }

    /**
     * Over seeded random event sequences, with writes completing, conflicting or coming back unknown: every write a
     * partition gets is one leader epoch above the state it replaces, names a live registration or no leader, and the
     * view's leader epochs never go backwards.
     */
    @Test
    void overRandomEventsEveryWriteIsTheNextTermOfTheStateItReplaces() {
        for (long seed = 1; seed <= 200; seed++) {
            Random random = new Random(seed);
            List<String> ids = List.of("n1", "n2", "n3", "n4");
            Map<String, Long> epochs = new LinkedHashMap<>();
            List<NodeRegistration> regs = new ArrayList<>();
            for (String id : ids) {
                epochs.put(id, 1L);
                regs.add(new NodeRegistration(id, 1, "x:1"));
            }
            List<VersionedState> states = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                List<String> replicas = new ArrayList<>(ids);
                java.util.Collections.shuffle(replicas, random);
                states.add(new VersionedState("p" + i, PartitionState.initial(replicas.subList(0, 3), 1), 0));
            }
            ControllerCore core = new ControllerCore("n1", 3);
            core.takeOffice(regs, states);
            Map<String, Long> highest = new LinkedHashMap<>();
            for (int step = 0; step < 300; step++) {
                String node = ids.get(random.nextInt(ids.size()));
                switch (random.nextInt(5)) {
                    case 0 -> core.nodeLost(node, epochs.get(node));
                    case 1 -> {
                        epochs.merge(node, 1L, Long::sum);
                        core.nodeRegistered(new NodeRegistration(node, epochs.get(node), "x:1"));
                    }
                    case 2 -> core.controlledShutdown(node, epochs.get(node));
                    case 3 -> core.rebalance(random.nextInt(50));
                    default -> {}
                }
                for (StateWrite w : core.pendingWrites()) {
                    VersionedState before = core.states().get(w.partition());
                    String why = "seed " + seed + " step " + step + ": " + w + " replacing " + before;
                    assertEquals(before.version(), w.expectedVersion(), why);
                    assertEquals(before.state().leaderEpoch() + 1, w.state().leaderEpoch(), why);
                    w.state().leader().ifPresent(l -> {
                        assertTrue(core.liveNodes().containsKey(l), why);
                        assertEquals(
                                core.liveNodes().get(l).nodeEpoch(), w.state().leaderNodeEpoch(), why);
                    });
                    int outcome = random.nextInt(10);
                    if (outcome < 8) {
                        core.written(new VersionedState(w.partition(), w.state(), w.expectedVersion() + 1));
                    } else {
                        core.refreshed(w.partition(), Optional.of(before)); // a conflict or an unknown outcome
                    }
                }
                for (VersionedState s : core.states().values()) {
                    long h = highest.getOrDefault(s.partition(), 0L);
                    assertTrue(s.state().leaderEpoch() >= h, "seed " + seed + ": epoch went backwards: " + s);
                    highest.put(s.partition(), s.state().leaderEpoch());
                }
                core.drainRequests();
            }
        }
    }

    private static final NodeRegistration N4 = new NodeRegistration("n4", 40, "127.0.0.1:4");

    @Test
    void aReassignmentGoesThroughLearnersThenTheJointConfigurationThenTheTargetEachStepANewTermOnTheLeadersReport() {
        ControllerCore core = core(List.of(N1, N2, N3, N4), List.of(led("a", List.of("n1", "n2", "n3"), N1, 4, 7)));
        core.drainRequests();
        core.reassign("a", List.of("n2", "n3", "n4"));
        List<StateWrite> w1 = writeAll(core);
        assertEquals(1, w1.size());
        PartitionState learning = w1.get(0).state();
        assertTrue(w1.get(0).writesConfiguration(), "the configuration node is written in the same transaction");
        assertEquals(List.of("n1", "n2", "n3"), learning.replicas(), "the voters do not change yet");
        assertEquals(List.of("n4"), learning.learners());
        assertEquals(Optional.of("n1"), learning.leader(), "the leader keeps leading, in a new term");
        assertEquals(5, learning.leaderEpoch());
        assertEquals(1, learning.configurationVersion());
        List<LeaderAndReplicas> told = core.drainRequests();
        assertTrue(
                told.stream()
                        .anyMatch(r -> r.node().equals("n4") && r.partitions().containsKey("a")),
                "the learner's node is told it hosts the partition");

        assertEquals(List.of(), writeAll(core), "nothing more until the leader reports its learners caught up");
        core.changeReady("n2", 20, "a", 5, 1);
        core.changeReady("n1", 10, "a", 4, 1);
        core.changeReady("n1", 10, "a", 5, 0);
        core.changeReady("n1", 11, "a", 5, 1);
        assertEquals(List.of(), writeAll(core), "a report from another node, term, configuration or registration");
        core.changeReady("n1", 10, "a", 5, 1);
        PartitionState joint = writeAll(core).get(0).state();
        assertEquals(List.of("n2", "n3", "n4"), joint.replicas());
        assertEquals(List.of("n1", "n2", "n3"), joint.previousReplicas());
        assertEquals(Optional.of("n1"), joint.leader(), "a previous voter may lead the joint epoch");
        assertEquals(6, joint.leaderEpoch());
        assertEquals(2, joint.configurationVersion());

        core.changeReady("n1", 10, "a", 6, 2);
        List<StateWrite> w3 = writeAll(core);
        PartitionState done = w3.get(0).state();
        assertEquals(List.of("n2", "n3", "n4"), done.replicas());
        assertFalse(done.reassigning());
        assertEquals(Optional.of("n2"), done.leader(), "the removed leader hands over to the first target replica");
        assertEquals(7, done.leaderEpoch());
        assertEquals(3, done.configurationVersion());
        LeaderAndReplicas toN1 = core.drainRequests().stream()
                .filter(r -> r.node().equals("n1"))
                .findFirst()
                .orElseThrow();
        assertEquals(done, toN1.partitions().get("a"), "the removed replica is told the state without it");
        core.tellAgain("n1");
        assertFalse(
                core.drainRequests().stream()
                        .filter(r -> r.node().equals("n1"))
                        .anyMatch(r -> r.partitions().containsKey("a")),
                "and is no longer told it hosts it");
        assertEquals(List.of(), writeAll(core));
    }

    @Test
    void aControllerThatTakesOfficeInTheMiddleOfAReassignmentFinishesIt() {
        PartitionState learning = new PartitionState(List.of("n1", "n2", "n3"), Optional.of("n1"), 4, 10, 1)
                .reassignedTo(List.of("n2", "n3", "n4"))
                .nextTerm(N1, 1);
        ControllerCore next = core(List.of(N1, N2, N3, N4), List.of(new VersionedState("a", learning, 3)));
        assertEquals(List.of(), writeAll(next), "the state is what it should be until the leader reports");
        next.changeReady("n1", 10, "a", 5, 1);
        PartitionState joint = writeAll(next).get(0).state();
        assertTrue(joint.joint());
        ControllerCore third = core(List.of(N2, N3, N4), List.of(new VersionedState("a", joint, 4)));
        PartitionState failedOver = writeAll(third).get(0).state();
        assertEquals(Optional.of("n2"), failedOver.leader(), "the joint leader's node is gone: a target replica leads");
        assertTrue(failedOver.joint(), "still joint: the new leader must commit under both majorities first");
        third.changeReady("n2", 20, "a", failedOver.leaderEpoch(), failedOver.configurationVersion());
        PartitionState done = writeAll(third).get(0).state();
        assertFalse(done.reassigning());
        assertEquals(List.of("n2", "n3", "n4"), done.replicas());
    }

    @Test
    void aLearnerIsNeverChosenToLead() {
        PartitionState learning = new PartitionState(List.of("n1", "n2", "n3"), Optional.of("n1"), 4, 10, 1)
                .reassignedTo(List.of("n4", "n2", "n3"));
        ControllerCore core = core(List.of(N4), List.of(new VersionedState("a", learning, 3)));
        PartitionState next = writeAll(core).get(0).state();
        assertEquals(Optional.empty(), next.leader(), "n4 is live but only a learner");
    }

    @Test
    void everyBadReassignmentIsRefusedNamingWhatIsWrongAndChangesNothing() {
        ControllerCore core = core(List.of(N1, N2, N3, N4), List.of(led("a", List.of("n1", "n2", "n3"), N1, 4, 7)));
        core.drainRequests();
        assertRefused(core, "b", List.of("n2"), "unknown partition b");
        assertRefused(core, "a", List.of(), "empty");
        assertRefused(core, "a", List.of("n2", "n2"), "names a node twice");
        assertRefused(core, "a", List.of("n2", "n9"), "not registered: [n9]");
        assertRefused(core, "a", List.of("n2", "a,b"), "must be at most 255 characters");
        assertEquals(List.of(), writeAll(core), "nothing was started");
        core.reassign("a", List.of("n1", "n2", "n3")); // the replicas it has: nothing to do
        assertEquals(List.of(), writeAll(core));
        core.reassign("a", List.of("n2", "n3", "n4"));
        assertRefused(core, "a", List.of("n1", "n3", "n4"), "is in progress");
        core.reassign("a", List.of("n2", "n3", "n4")); // the same again: nothing new
        assertEquals(1, writeAll(core).size());
        assertRefused(core, "a", List.of("n1", "n3", "n4"), "is in progress");
        core.reassign("a", List.of("n2", "n3", "n4"));
        assertEquals(List.of(), writeAll(core));
    }

    private static void assertRefused(ControllerCore core, String p, List<String> target, String says) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> core.reassign(p, target));
        assertTrue(e.getMessage().contains(says), e.getMessage() + " should say " + says);
    }
}
