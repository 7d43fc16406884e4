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
package dev.tenure.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.LeaderAndReplicas;
import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.wire.ControlCodec;
import dev.tenure.controller.wire.ControlMessage;
import dev.tenure.replicator.Leadership;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.storage.FilePromiseStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** How a node applies, or refuses, the controller's assignments. */
@Timeout(30)
class NodeAgentTest {
    @TempDir
    Path dir;

    private final AtomicReference<Optional<NodeRegistration>> registration =
            new AtomicReference<>(Optional.of(new NodeRegistration("n1", 100, "127.0.0.1:1")));
    /** What the agent sent: "to|message". */
    private final BlockingQueue<String> sent = new LinkedBlockingQueue<>();
    /** What the partition's replica was told: "elected E" / "revoked E". */
    private final BlockingQueue<String> told = new LinkedBlockingQueue<>();

    private NodeAgent agent;
    /** What the replica host was told: the states changed, and the deletions asked for with their futures. */
    private final BlockingQueue<Map<String, Optional<PartitionState>>> hostStates = new LinkedBlockingQueue<>();

    private final BlockingQueue<Map.Entry<List<String>, java.util.concurrent.CompletableFuture<Void>>> deletions =
            new LinkedBlockingQueue<>();

    private final NodeAgent.ReplicaHost host = new NodeAgent.ReplicaHost() {
        @Override
        public void statesChanged(Map<String, Optional<PartitionState>> states) {
            hostStates.add(states);
        }

        @Override
        public java.util.concurrent.CompletableFuture<Void> deleteReplicas(List<String> partitions) {
            java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
            deletions.add(Map.entry(partitions, f));
            return f;
        }
    };

    private NodeAgent start() throws Exception {
        NodeAgent a = new NodeAgent(
                "n1",
                new FilePromiseStore(dir.resolve("controller-epoch")),
                registration::get,
                (to, body) -> {
                    try {
                        sent.add(to + "|" + ControlCodec.decode(body));
                    } catch (ControlCodec.MalformedControlMessageException e) {
                        throw new AssertionError(e);
                    }
                },
                host);
        a.start();
        Leadership l = a.forPartition("p", Configuration.initial(List.of("n1", "n2")));
        l.start(new Leadership.Events() {
            @Override
            public void elected(long epoch) {
                told.add("elected " + epoch);
            }

            @Override
            public void revoked(long epoch) {
                told.add("revoked " + epoch);
            }
        });
        return a;
    }

    @AfterEach
    void close() {
        if (agent != null) {
            agent.close();
        }
    }

    /** Request ids, increasing as a controller's are within its term. */
    private static final java.util.concurrent.atomic.AtomicLong REQUEST_IDS =
            new java.util.concurrent.atomic.AtomicLong();

    private static byte[] assign(long controllerEpoch, String controller, long nodeEpoch, PartitionState p) {
        return ControlCodec.encode(new ControlMessage.Assignment(
                REQUEST_IDS.incrementAndGet(),
                new LeaderAndReplicas(controllerEpoch, controller, "n1", nodeEpoch, false, Map.of("p", p))));
    }

    private static PartitionState led(String leader, long epoch, long leaderNodeEpoch) {
        return new PartitionState(List.of("n1", "n2"), Optional.of(leader), epoch, leaderNodeEpoch, 1);
    }

    private String nextTold() throws InterruptedException {
        return told.poll(10, TimeUnit.SECONDS);
    }

    @Test
    void theReplicaLeadsTheEpochOfTheNewestStateNamingItAndOnlyThat() throws Exception {
        agent = start();
        agent.receive("c", assign(5, "c", 100, led("n1", 3, 100)));
        assertEquals("elected 3", nextTold());
        agent.receive("c", assign(5, "c", 100, led("n1", 3, 100)));
        agent.receive("c", assign(5, "c", 100, led("n2", 2, 7)));
        agent.receive("c", assign(5, "c", 100, led("n2", 4, 7)));
        assertEquals("revoked 3", nextTold(), "an equal and an older epoch changed nothing; the newer one did");
        assertEquals(Optional.of("n2"), agent.states().get("p").leader());
        agent.receive("c", assign(5, "c", 100, led("n1", 5, 100)));
        assertEquals("elected 5", nextTold());
        waitFor(() -> agent.appliedCount() == 5); // every one applied, counting those that changed nothing
    }

    @Test
    void theControllerAndTheStatesOfTheNewestAppliedAssignmentAreKnownAndARefusedOneChangesNeither() throws Exception {
        agent = start();
        assertEquals(Optional.empty(), agent.knownController(), "none before the first assignment");
        assertEquals(Map.of(), agent.states());
        agent.receive("c", assign(5, "c", 100, led("n2", 4, 7)));
        waitFor(() -> agent.appliedCount() == 1);
        assertEquals(Optional.of(new NodeAgent.KnownController("c", 5)), agent.knownController());
        assertEquals(Map.of("p", led("n2", 4, 7)), agent.states());
        agent.receive("old", assign(4, "old", 100, led("n1", 9, 100)));
        waitFor(() -> agent.refusedCount() == 1);
        assertEquals(Optional.of(new NodeAgent.KnownController("c", 5)), agent.knownController());
        assertEquals(Map.of("p", led("n2", 4, 7)), agent.states());
    }

    @Test
    void anAssignmentOfAnOlderControllerEpochIsRefusedAndTheHighestEpochSurvivesARestart() throws Exception {
        agent = start();
        agent.receive("c", assign(7, "c", 100, led("n1", 1, 100)));
        assertEquals("elected 1", nextTold());
        agent.close();
        agent = start();
        assertEquals(7, agent.highestControllerEpoch(), "kept in its file");
        agent.receive("old", assign(6, "old", 100, led("n1", 9, 100)));
        waitFor(() -> sent.stream().anyMatch(s -> s.startsWith("old|") && s.contains("STALE_CONTROLLER_EPOCH")));
        assertEquals(1, agent.refusedCount());
        assertNull(told.poll(200, TimeUnit.MILLISECONDS), "nothing told from a stale controller");
    }

    @Test
    void anAssignmentForANewerRegistrationThanTheOneKnownIsLeftUnansweredAndTakenWhenSentAgainAfterTheRegistration()
            throws Exception {
        agent = start();
        registration.set(Optional.empty()); // the session was lost; the registrar has not registered again yet
        agent.registrationChanged();
        agent.receive("c", assign(5, "c", 102, led("n1", 3, 102)));
        assertNull(told.poll(300, TimeUnit.MILLISECONDS), "not applied");
        assertTrue(sent.stream().noneMatch(x -> x.startsWith("c|")), "not answered, so the controller sends it again");

        registration.set(Optional.of(new NodeRegistration("n1", 102, "127.0.0.1:1")));
        agent.registrationChanged();
        agent.receive("c", assign(5, "c", 102, led("n1", 3, 102)));
        assertEquals("elected 3", nextTold());
        waitFor(() -> sent.stream().anyMatch(x -> x.startsWith("c|") && x.contains("APPLIED")));
    }

    @Test
    void anAssignmentAddressedToThePreviousRegistrationIsRefused() throws Exception {
        agent = start();
        registration.set(Optional.of(new NodeRegistration("n1", 101, "127.0.0.1:1")));
        agent.registrationChanged();
        agent.receive("c", assign(5, "c", 100, led("n1", 3, 100)));
        waitFor(() -> sent.stream().anyMatch(s -> s.startsWith("c|") && s.contains("STALE_NODE_EPOCH")));
        assertEquals(1, agent.refusedCount());
        assertNull(told.poll(200, TimeUnit.MILLISECONDS));
    }

    @Test
    void aNewRegistrationEndsEveryTermOfThePreviousOneAndAStateForTheOldRegistrationIsNotLed() throws Exception {
        agent = start();
        agent.receive("c", assign(5, "c", 100, led("n1", 3, 100)));
        assertEquals("elected 3", nextTold());
        registration.set(Optional.of(new NodeRegistration("n1", 101, "127.0.0.1:1")));
        agent.registrationChanged();
        assertEquals("revoked 3", nextTold(), "a restarted session never continues a term");
        agent.receive("c", assign(5, "c", 101, led("n1", 4, 100)));
        assertNull(told.poll(200, TimeUnit.MILLISECONDS), "a term given to the previous registration is not led");
        agent.receive("c", assign(5, "c", 101, led("n1", 5, 101)));
        assertEquals("elected 5", nextTold());
    }

    @Test
    void anAssignmentFromANodeThatIsNotTheControllerItNamesIsRefused() throws Exception {
        agent = start();
        agent.receive("n2", assign(9, "c", 100, led("n1", 3, 100)));
        waitFor(() -> agent.refusedCount() == 1);
        assertEquals(0, agent.highestControllerEpoch());
        assertNull(told.poll(200, TimeUnit.MILLISECONDS));
    }

    @Test
    void anEpochTheReplicaSteppedDownFromIsNotGivenAgain() throws Exception {
        agent = start();
        Leadership l = agent.forPartition("q", Configuration.initial(List.of("n1")));
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        l.start(new Leadership.Events() {
            @Override
            public void elected(long epoch) {
                q.add("elected " + epoch);
            }

            @Override
            public void revoked(long epoch) {
                q.add("revoked " + epoch);
            }
        });
        PartitionState s = new PartitionState(List.of("n1"), Optional.of("n1"), 2, 100, 1);
        agent.receive(
                "c",
                ControlCodec.encode(new ControlMessage.Assignment(
                        1, new LeaderAndReplicas(3, "c", "n1", 100, false, Map.of("q", s)))));
        assertEquals("elected 2", q.poll(10, TimeUnit.SECONDS));
        l.stepDown(2);
        assertEquals("revoked 2", q.poll(10, TimeUnit.SECONDS));
        agent.receive(
                "c",
                ControlCodec.encode(new ControlMessage.Assignment(
                        2, new LeaderAndReplicas(3, "c", "n1", 100, true, Map.of("q", s)))));
        assertNull(q.poll(200, TimeUnit.MILLISECONDS));
    }

    @Test
    void aTermTheReplicaGaveUpIsReportedToTheControllerUntilANewStateArrives() throws Exception {
        agent = start();
        Leadership l = agent.forPartition("q", Configuration.initial(List.of("n1")));
        l.start(new Leadership.Events() {
            @Override
            public void elected(long epoch) {}

            @Override
            public void revoked(long epoch) {}
        });
        PartitionState s = new PartitionState(List.of("n1", "n2"), Optional.of("n1"), 6, 100, 1);
        agent.receive(
                "c",
                ControlCodec.encode(new ControlMessage.Assignment(
                        1, new LeaderAndReplicas(3, "c", "n1", 100, false, Map.of("q", s)))));
        l.stepDown(6);
        waitFor(() -> sent.stream()
                .anyMatch(m -> m.equals("c|TermEnded[node=n1, nodeEpoch=100, partition=q, leaderEpoch=6]")));
        sent.clear();
        waitFor(() -> sent.stream().anyMatch(m -> m.startsWith("c|TermEnded[")), "sent again a second later");
        PartitionState next = new PartitionState(List.of("n1", "n2"), Optional.of("n2"), 7, 5, 1);
        agent.receive(
                "c",
                ControlCodec.encode(new ControlMessage.Assignment(
                        2, new LeaderAndReplicas(3, "c", "n1", 100, false, Map.of("q", next)))));
        waitFor(() -> agent.appliedCount() == 2);
        sent.clear();
        assertNull(pollTermEnded(1_500), "no longer reported once the state moved on");
    }

    private String pollTermEnded(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            String m = sent.poll(50, TimeUnit.MILLISECONDS);
            if (m != null && m.contains("TermEnded")) {
                return m;
            }
        }
        return null;
    }

    @Test
    void aFullAssignmentOlderThanOneAlreadyTakenEndsNoTermAndForgetsNoState() throws Exception {
        agent = start();
        agent.receive(
                "c",
                ControlCodec.encode(new ControlMessage.Assignment(
                        10, new LeaderAndReplicas(5, "c", "n1", 100, false, Map.of("p", led("n1", 3, 100))))));
        assertEquals("elected 3", nextTold());
        // Request 9, a full assignment sent before p was created, arrives after request 10 (reordered or duplicated).
        agent.receive(
                "c",
                ControlCodec.encode(
                        new ControlMessage.Assignment(9, new LeaderAndReplicas(5, "c", "n1", 100, true, Map.of()))));
        waitFor(() -> sent.stream().anyMatch(m -> m.contains("requestId=9") && m.contains("APPLIED")));
        assertEquals(Map.of("p", led("n1", 3, 100)), agent.states(), "the state of p is still held");
        assertNull(told.poll(200, TimeUnit.MILLISECONDS), "the replica still leads epoch 3");
    }

    @Test
    void aMalformedMessageIsCountedAndChangesNothing() throws Exception {
        agent = start();
        agent.receive("c", new byte[] {1, 1, 0});
        agent.receive("c", new byte[0]);
        assertEquals(2, agent.malformedCount());
        assertNull(told.poll(200, TimeUnit.MILLISECONDS));
    }

    @Test
    void aControlledShutdownAsksTheControllerUntilItReportsNothingLeftToMove() throws Exception {
        agent = start();
        agent.receive("c", assign(5, "c", 100, led("n1", 3, 100)));
        assertEquals("elected 3", nextTold());
        var done = agent.controlledShutdown(Duration.ofMillis(50), Duration.ofSeconds(10));
        waitFor(() ->
                sent.stream().filter(s -> s.startsWith("c|ControlledShutdown[")).count() >= 2);
        agent.receive(
                "c", ControlCodec.encode(new ControlMessage.ControlledShutdownProgress(5, "n1", 100, true, 1, 1)));
        agent.receive(
                "c", ControlCodec.encode(new ControlMessage.ControlledShutdownProgress(5, "n1", 100, true, 1, 0)));
        assertEquals(0, done.get(10, TimeUnit.SECONDS).movable());
    }

    private static byte[] stop(long requestId, long controllerEpoch, String controller, List<String> partitions) {
        return ControlCodec.encode(
                new ControlMessage.StopReplicas(requestId, controllerEpoch, controller, "n1", 100, partitions));
    }

    @Test
    void theReplicaHostIsToldEveryStateTakenSoThatItCanOpenTheReplicasTheControllerAssigns() throws Exception {
        agent = start();
        agent.receive("c", assign(5, "c", 100, led("n2", 4, 7)));
        assertEquals(Map.of("p", Optional.of(led("n2", 4, 7))), hostStates.poll(10, TimeUnit.SECONDS));
        agent.receive("c", assign(5, "c", 100, led("n2", 4, 7)));
        agent.receive("c", assign(5, "c", 100, led("n1", 5, 100)));
        assertEquals(
                Map.of("p", Optional.of(led("n1", 5, 100))),
                hostStates.poll(10, TimeUnit.SECONDS),
                "a state equal to the one held changes nothing and is not told");
    }

    @Test
    void aStopReplicasRequestEndsTheTermAndIsAcknowledgedOnlyOnceTheHostDeletedTheReplicas() throws Exception {
        agent = start();
        agent.receive("c", assign(5, "c", 100, led("n1", 3, 100)));
        assertEquals("elected 3", nextTold());
        agent.receive("c", stop(42, 5, "c", List.of("p", "q")));
        assertEquals("revoked 3", nextTold(), "a replica being deleted leads no more");
        Map.Entry<List<String>, java.util.concurrent.CompletableFuture<Void>> d = deletions.poll(10, TimeUnit.SECONDS);
        assertEquals(List.of("p", "q"), d.getKey());
        assertEquals(Map.of(), agent.states(), "no state is held for a deleted replica");
        assertTrue(
                sent.stream().noneMatch(m -> m.contains("requestId=42")),
                "not acknowledged before the replicas are deleted: " + sent);
        d.getValue().complete(null);
        waitFor(() ->
                sent.stream().anyMatch(m -> m.startsWith("c|") && m.contains("requestId=42") && m.contains("APPLIED")));
    }

    @Test
    void aStopReplicasRequestThatTheHostCouldNotCarryOutIsNotAcknowledged() throws Exception {
        agent = start();
        agent.receive("c", stop(42, 5, "c", List.of("p")));
        deletions.poll(10, TimeUnit.SECONDS).getValue().completeExceptionally(new java.io.IOException("disk"));
        agent.receive("c", stop(43, 5, "c", List.of("p")));
        deletions.poll(10, TimeUnit.SECONDS).getValue().complete(null);
        waitFor(() -> sent.stream().anyMatch(m -> m.contains("requestId=43")));
        assertTrue(sent.stream().noneMatch(m -> m.contains("requestId=42")), "the failed one is sent again: " + sent);
    }

    @Test
    void aStopReplicasRequestOfAnOlderControllerOrAnotherSenderIsRefusedAndDeletesNothing() throws Exception {
        agent = start();
        agent.receive("c", assign(5, "c", 100, led("n1", 3, 100)));
        assertEquals("elected 3", nextTold());
        agent.receive("old", stop(7, 4, "old", List.of("p")));
        waitFor(() -> sent.stream().anyMatch(m -> m.startsWith("old|") && m.contains("STALE_CONTROLLER_EPOCH")));
        agent.receive("x", stop(8, 5, "c", List.of("p")));
        waitFor(() -> agent.refusedCount() == 2);
        assertNull(deletions.poll(200, TimeUnit.MILLISECONDS), "nothing deleted");
        assertEquals(Map.of("p", led("n1", 3, 100)), agent.states());
        assertNull(told.poll(10, TimeUnit.MILLISECONDS), "still leading");
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + ": not within 10 s");
            Thread.sleep(5); // polling what the agent sent
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not met within 10 s");
            Thread.sleep(5); // polling the agent's counters
        }
    }

    /** The leader's replica status the agent reads: leading {@code epoch}, with {@code n3}'s view as given. */
    private static Optional<dev.tenure.replicator.Replica.Status> leading(long epoch, boolean n3Promised, long n3Lag) {
        return Optional.of(new dev.tenure.replicator.Replica.Status(
                "n1",
                dev.tenure.replicator.core.Role.LEADER,
                epoch,
                "n1",
                10,
                10,
                10,
                List.of(
                        new dev.tenure.replicator.Replica.FollowerStatus("n2", true, 10, 0, 0),
                        new dev.tenure.replicator.Replica.FollowerStatus("n3", n3Promised, 0, n3Lag, 0)),
                null,
                0,
                dev.tenure.replicator.Replica.SnapshotStatus.NONE,
                dev.tenure.replicator.Replica.InstallStatus.NONE,
                Configuration.initial(List.of("n1", "n2"))));
    }

    /** The next ChangeReady the agent sent, skipping other messages; null if none within the timeout. */
    private String nextReady(long timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true) {
            String m = sent.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (m == null || m.contains("ChangeReady")) {
                return m;
            }
        }
    }

    @Test
    void aReassignmentsLeaderReportsTheLearningStepOnlyOnceItsLearnersCaughtUpAndTheJointStepOnlyOnceAskedToActivate()
            throws Exception {
        AtomicReference<Optional<dev.tenure.replicator.Replica.Status>> status =
                new AtomicReference<>(leading(6, false, 0));
        agent = start();
        agent.replicaStatus(p -> status.get());
        PartitionState learning = new PartitionState(List.of("n1", "n2"), Optional.of("n1"), 5, 100, 1)
                .reassignedTo(List.of("n1", "n2", "n3"))
                .nextTerm(new NodeRegistration("n1", 100, "127.0.0.1:1"), 1);
        agent.receive("c", assign(5, "c", 100, learning));
        assertEquals("elected 6", nextTold());
        assertEquals(null, nextReady(2), "n3 has not promised: nothing reported");
        status.set(leading(6, true, NodeAgent.CATCH_UP_ENTRIES + 1));
        assertEquals(null, nextReady(2), "n3 lags: nothing reported");
        status.set(leading(6, true, NodeAgent.CATCH_UP_ENTRIES));
        assertEquals(
                "c|" + new ControlMessage.ChangeReady("n1", 100, "p", 6, 1),
                nextReady(5),
                "caught up: reported (again every second until the state moves on)");

        PartitionState joint = learning.joined().nextTerm(new NodeRegistration("n1", 100, "127.0.0.1:1"), 1);
        agent.receive("c", assign(5, "c", 100, joint));
        assertEquals("revoked 6", nextTold());
        assertEquals("elected 7", nextTold());
        sent.clear();
        assertEquals(null, nextReady(2), "the joint step waits for the replica's activation request");
        agent.configurationMaster("p").activate(6, joint.configuration());
        assertEquals(null, nextReady(2), "a request of an older epoch is not this term's");
        agent.configurationMaster("p").activate(7, joint.configuration());
        assertEquals("c|" + new ControlMessage.ChangeReady("n1", 100, "p", 7, 2), nextReady(5));
    }
}
