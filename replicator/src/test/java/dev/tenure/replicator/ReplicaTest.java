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
package dev.tenure.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.ReplicationException.NotLeaderException;
import dev.tenure.replicator.ReplicationException.OutcomeUnknownException;
import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.core.PromiseStore;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.testing.InMemoryNetwork;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import dev.tenure.replicator.transport.Transport;
import dev.tenure.replicator.transport.netty.NettyTransport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The replica driver with leadership driven by hand: one suite, run over the in-memory network and over
 * the Netty transport on loopback.
 */
class ReplicaTest {
    private static final List<String> IDS = List.of("r0", "r1", "r2");

    /** The transports the suite runs over. */
    enum Net {
        IN_MEMORY,
        NETTY
    }

    private final InMemoryNetwork memory = new InMemoryNetwork();
    private final CutLinks network = new CutLinks();
    private final Map<String, InetSocketAddress> addresses = new ConcurrentHashMap<>();
    private final Map<String, Replica> replicas = new LinkedHashMap<>();
    private final Map<String, ManualLeadership> leadership = new LinkedHashMap<>();
    private final Map<String, KeyValueMachine> machines = new LinkedHashMap<>();
    private long maxPendingProposalBytes = Replica.DEFAULT_MAX_PENDING_PROPOSAL_BYTES;
    private java.util.function.Function<String, PromiseStore> promiseStores = id -> new InMemoryPromiseStore();
    /** Every message each replica sent, in order. */
    private final Map<String, List<Message>> sent = new ConcurrentHashMap<>();

    private void start(Net net) throws Exception {
        for (String id : IDS) {
            InMemoryReplicaLog log = new InMemoryReplicaLog();
            ManualLeadership l = new ManualLeadership();
            KeyValueMachine m = new KeyValueMachine();
            NettyTransport netty = null;
            Transport transport;
            if (net == Net.NETTY) {
                netty = NettyTransport.builder()
                        .plaintext()
                        .selfId(id)
                        .clusterName("replica-test")
                        .members(IDS)
                        .bindAddress(new InetSocketAddress("127.0.0.1", 0))
                        .peerDirectory(peer -> Optional.ofNullable(addresses.get(peer)))
                        .build();
                transport = netty;
            } else {
                transport = memory.transport(id);
            }
            Replica r = Replica.builder()
                    .config(CoreConfig.builder(id, IDS).build())
                    .log(
                            log,
                            () -> {
                                long end = log.sync();
                                return new Synced(end, end == 0 ? 0 : log.epochAt(end - 1));
                            },
                            true)
                    .promises(promiseStores.apply(id))
                    .transport(recording(id, network.wrap(transport)))
                    .leadership(l)
                    .stateMachine(m)
                    .proposalTimeout(Duration.ofSeconds(5))
                    .maxPendingProposalBytes(maxPendingProposalBytes)
                    .build();
            r.start();
            if (netty != null) {
                addresses.put(id, netty.boundAddress());
            }
            replicas.put(id, r);
            leadership.put(id, l);
            machines.put(id, m);
        }
    }

    /** {@code inner}, noting every message {@code id} sends in {@link #sent}. */
    private Transport recording(String id, Transport inner) {
        List<Message> out = java.util.Collections.synchronizedList(new ArrayList<>());
        sent.put(id, out);
        return new Transport() {
            @Override
            public void start(java.util.function.Consumer<Message> inbound) throws Exception {
                inner.start(inbound);
            }

            @Override
            public void send(Message m) {
                out.add(m);
                inner.send(m);
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    private List<Message> sentBy(String id) {
        synchronized (sent.get(id)) {
            return List.copyOf(sent.get(id));
        }
    }

    /**
     * A {@link DeferredPromiseStore} whose promises become durable when the test opens its gate (or fail to, when it
     * breaks it).
     */
    private static final class GatedPromiseStore implements DeferredPromiseStore {
        private volatile Promise promise = Promise.NONE;
        final java.util.concurrent.CountDownLatch syncAsked = new java.util.concurrent.CountDownLatch(1);
        private final CompletableFuture<Void> gate = new CompletableFuture<>();

        @Override
        public Promise load() {
            return promise;
        }

        @Override
        public void store(Promise p) {
            promise = p;
        }

        @Override
        public CompletableFuture<Void> syncAsync() {
            syncAsked.countDown();
            return gate.thenApply(v -> null);
        }

        void open() {
            gate.complete(null);
        }

        void fail(Exception e) {
            gate.completeExceptionally(e);
        }
    }

    @Test
    void aReplicaWhosePromiseIsNotDurableYetSendsAndAppliesNothingUntilItIs() throws Exception {
        Map<String, GatedPromiseStore> gated = Map.of("r1", new GatedPromiseStore(), "r2", new GatedPromiseStore());
        promiseStores = id -> gated.containsKey(id) ? gated.get(id) : new InMemoryPromiseStore();
        start(Net.IN_MEMORY);
        leadership.get("r0").elect(1);
        for (Map.Entry<String, GatedPromiseStore> g : gated.entrySet()) {
            assertTrue(
                    g.getValue().syncAsked.await(10, TimeUnit.SECONDS),
                    g.getKey() + " stored epoch 1's promise and waits for its durability");
            assertEquals(List.of(), sentBy(g.getKey()), g.getKey() + " answers nothing before then");
        }
        assertFalse(replicas.get("r0").status().role() == Role.LEADER, "no follower answered: r0 cannot lead");
        gated.get("r2").open();
        awaitRole("r0", Role.LEADER);
        assertTrue(sentBy("r2").stream().anyMatch(m -> m.epoch() == 1), "r2 answered once its promise was durable");
        Committed c = get(replicas.get("r0").propose(bytes("x")));
        get(replicas.get("r2").awaitApplied(c.offset() + 1));
        assertEquals(List.of(), sentBy("r1"), "r1's promise is still not durable: it sent nothing");
        assertEquals(0, replicas.get("r1").appliedOffset(), "and applied nothing");
        gated.get("r1").open();
        get(replicas.get("r1").awaitApplied(c.offset() + 1));
        assertEquals("applied x at " + c.offset(), c.result());
    }

    @Test
    void aReplicaWhosePromiseCannotBeMadeDurableStops() throws Exception {
        GatedPromiseStore broken = new GatedPromiseStore();
        promiseStores = id -> id.equals("r1") ? broken : new InMemoryPromiseStore();
        start(Net.IN_MEMORY);
        leadership.get("r0").elect(1);
        assertTrue(broken.syncAsked.await(10, TimeUnit.SECONDS));
        broken.fail(new java.io.IOException("the disk is gone"));
        awaitRole("r1", Role.FAILED);
        assertTrue(
                replicas.get("r1").status().failure().contains("could not be made durable"),
                replicas.get("r1").status().toString());
        assertEquals(List.of(), sentBy("r1"), "it acted on nothing it could not make durable");
        awaitRole("r0", Role.LEADER); // r0 and r2 are a majority
    }

    @AfterEach
    void stop() {
        replicas.values().forEach(Replica::close);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private void awaitRole(String id, Role role) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (replicas.get(id).status().role() != role) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(
                        id + " did not become " + role + ": " + replicas.get(id).status());
            }
            Thread.sleep(5); // polling a status snapshot
        }
    }

    @ParameterizedTest
    @EnumSource(Net.class)
    void committedProposalsAreAppliedInTheSameOrderEverywhere(Net net) throws Exception {
        start(net);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        List<CompletableFuture<Committed>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            futures.add(replicas.get("r0").propose(bytes("v" + i)));
        }
        long lastOffset = 0;
        for (int i = 0; i < futures.size(); i++) {
            Committed c = get(futures.get(i));
            assertEquals(1, c.epoch());
            assertTrue(c.offset() > lastOffset, "offsets increase in proposal order");
            lastOffset = c.offset();
            assertEquals("applied v" + i + " at " + c.offset(), c.result());
        }
        for (String id : IDS) {
            get(replicas.get(id).awaitApplied(lastOffset + 1));
            assertEquals(machines.get("r0").applied(), machines.get(id).applied(), "state machine of " + id);
        }
        assertEquals(200, machines.get("r1").applied().size());
        Replica.Status status = replicas.get("r0").status();
        assertEquals(Role.LEADER, status.role());
        assertEquals(2, status.followers().size());
    }

    @ParameterizedTest
    @EnumSource(Net.class)
    void followersRefuseProposalsNamingTheLeaderAndLeaderServesLinearizableReads(Net net) throws Exception {
        start(net);
        leadership.get("r1").elect(3);
        awaitRole("r1", Role.LEADER);
        Committed c = get(replicas.get("r1").propose(bytes("x")));
        // A majority (r1 and one follower) committed x; r2 names the leader once it has promised r1's epoch.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!replicas.get("r2").status().leader().equals("r1")) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(
                        "r2 did not promise r1's epoch: " + replicas.get("r2").status());
            }
            Thread.sleep(5); // polling a status snapshot
        }
        ExecutionException e = assertThrows(
                ExecutionException.class, () -> get(replicas.get("r2").propose(bytes("y"))));
        NotLeaderException notLeader = assertInstanceOf(NotLeaderException.class, e.getCause());
        assertEquals("r1", notLeader.leaderHint());
        assertTrue(notLeader.definitelyNotApplied());
        long readOffset = get(replicas.get("r1").readBarrier());
        assertTrue(readOffset > c.offset());
        assertTrue(replicas.get("r1").appliedOffset() >= readOffset);
        ExecutionException r = assertThrows(
                ExecutionException.class, () -> get(replicas.get("r0").readBarrier()));
        assertInstanceOf(NotLeaderException.class, r.getCause());
    }

    @ParameterizedTest
    @EnumSource(Net.class)
    void failoverKeepsEveryAcknowledgedProposalAndTheOldLeadersInFlightOnesAreUnknownNotFailed(Net net)
            throws Exception {
        start(net);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            get(replicas.get("r0").propose(bytes("a" + i)));
            acknowledged.add("a" + i);
        }
        network.isolate("r0", IDS);
        CompletableFuture<Committed> stranded = replicas.get("r0").propose(bytes("stranded"));
        leadership.get("r0").revoke(1); // the election noticed
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(stranded));
        OutcomeUnknownException unknown = assertInstanceOf(OutcomeUnknownException.class, e.getCause());
        assertFalse(unknown.definitelyNotApplied());
        leadership.get("r1").elect(2);
        awaitRole("r1", Role.LEADER);
        for (int i = 0; i < 20; i++) {
            get(replicas.get("r1").propose(bytes("b" + i)));
            acknowledged.add("b" + i);
        }
        network.healAll();
        Committed last = get(replicas.get("r1").propose(bytes("last")));
        acknowledged.add("last");
        for (String id : IDS) {
            get(replicas.get(id).awaitApplied(last.offset() + 1));
            assertEquals(acknowledged, machines.get(id).applied(), "every acknowledged write, in order, on " + id);
        }
    }

    @ParameterizedTest
    @EnumSource(Net.class)
    void aHandOffCommitsTheProposalsInFlightAndRefusesLaterOnesNamingTheSuccessorUntilANewerTerm(Net net)
            throws Exception {
        start(net);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        List<CompletableFuture<Committed>> inFlight = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            inFlight.add(replicas.get("r0").propose(bytes("v" + i)));
        }
        assertTrue(get(replicas.get("r0").handOff("r1", Duration.ofSeconds(10))), "drained");
        for (CompletableFuture<Committed> f : inFlight) {
            assertTrue(f.isDone(), "every proposal made before the hand-off has its outcome when it completes");
            try {
                f.join();
            } catch (java.util.concurrent.CompletionException e) {
                // queued but not yet taken when the hand-off began: refused, never unknown
                NotLeaderException refused = assertInstanceOf(NotLeaderException.class, e.getCause());
                assertEquals("r1", refused.leaderHint());
            }
        }
        ExecutionException later = assertThrows(
                ExecutionException.class, () -> get(replicas.get("r0").propose(bytes("later"))));
        NotLeaderException refused = assertInstanceOf(NotLeaderException.class, later.getCause());
        assertEquals("r1", refused.leaderHint(), "the refusal names the successor");
        assertTrue(refused.definitelyNotApplied());
        // The term ends (the source revokes it) and the successor leads: the old leader still names it.
        leadership.get("r0").revoke(1);
        leadership.get("r1").elect(2);
        awaitRole("r1", Role.LEADER);
        Committed there = get(replicas.get("r1").propose(bytes("at the successor")));
        ExecutionException again = assertThrows(
                ExecutionException.class, () -> get(replicas.get("r0").propose(bytes("again"))));
        assertEquals(
                "r1",
                assertInstanceOf(NotLeaderException.class, again.getCause()).leaderHint());
        // A newer term of the old leader ends the hand-off.
        leadership.get("r1").revoke(2);
        leadership.get("r0").elect(3);
        awaitRole("r0", Role.LEADER);
        Committed back = get(replicas.get("r0").propose(bytes("back")));
        assertTrue(back.offset() > there.offset());
        assertFalse(replicas.get("r0").handingOff());
    }

    @Test
    void aTakeOverCompletesOnceTheOldLeaderFollowsANewerLeaderThatCommittedInItsEpochAndFailsIfTheReplicaCloses()
            throws Exception {
        start(Net.IN_MEMORY);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        get(replicas.get("r0").propose(bytes("before")));
        assertTrue(get(replicas.get("r0").handOff("r1", Duration.ofSeconds(10))), "drained");
        CompletableFuture<Long> takenOver = replicas.get("r0").awaitTakeOver(1);
        CompletableFuture<Long> later = replicas.get("r0").awaitTakeOver(2);
        assertFalse(takenOver.isDone(), "r0 still leads epoch 1");
        leadership.get("r0").revoke(1);
        leadership.get("r1").elect(2);
        assertEquals(2L, get(takenOver), "r0 follows r1's epoch 2 once r1 committed in it");
        Committed there = get(replicas.get("r1").propose(bytes("at the successor")));
        get(replicas.get("r0").awaitApplied(there.offset() + 1));
        assertFalse(later.isDone(), "no leader of an epoch above 2 yet");
        CompletableFuture<Long> never = replicas.get("r0").awaitTakeOver(5);
        replicas.get("r0").close();
        ExecutionException closed = assertThrows(ExecutionException.class, () -> get(never));
        assertInstanceOf(IllegalStateException.class, closed.getCause());
        assertInstanceOf(
                IllegalStateException.class,
                assertThrows(ExecutionException.class, () -> get(later)).getCause());
        ExecutionException afterClose = assertThrows(
                ExecutionException.class, () -> get(replicas.get("r0").awaitTakeOver(1)));
        assertInstanceOf(IllegalStateException.class, afterClose.getCause(), "use after close fails clearly");
    }

    @Test
    void aHandOffWhoseProposalsCannotCommitInTimeReportsItAndLeavesThemOpen() throws Exception {
        start(Net.IN_MEMORY);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        Committed first = get(replicas.get("r0").propose(bytes("first")));
        network.isolate("r0", IDS);
        CompletableFuture<Committed> stranded = replicas.get("r0").propose(bytes("stranded"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (replicas.get("r0").status().logEndOffset() <= first.offset() + 1) {
            assertTrue(System.nanoTime() < deadline, "the stranded proposal is appended");
            Thread.sleep(5); // polling a status snapshot (refreshed every tick)
        }
        assertFalse(get(replicas.get("r0").handOff("r1", Duration.ofMillis(200))), "not drained in 200 ms");
        assertFalse(stranded.isDone(), "still open: its outcome is not known yet");
        leadership.get("r0").revoke(1);
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(stranded));
        assertInstanceOf(OutcomeUnknownException.class, e.getCause());
    }

    @ParameterizedTest
    @EnumSource(Net.class)
    void leaderFencedByANewerEpochStepsDownFromItsElection(Net net) throws Exception {
        start(net);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        get(replicas.get("r0").propose(bytes("a")));
        network.isolate("r0", IDS);
        leadership.get("r1").elect(2); // r0 is a zombie: its election never told it
        awaitRole("r1", Role.LEADER);
        CompletableFuture<Committed> zombie = replicas.get("r0").propose(bytes("zombie"));
        network.healAll();
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(zombie));
        assertFalse(((ReplicationException) e.getCause()).definitelyNotApplied());
        awaitRole("r0", Role.FOLLOWER);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (leadership.get("r0").stepDowns.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5); // polling the recorded step-downs
        }
        assertEquals(List.of(1L), leadership.get("r0").stepDowns);
    }

    @Test
    void aFloodOfProposalsIsRefusedAsOverloadedInsteadOfQueuedWithoutBound() throws Exception {
        start(Net.IN_MEMORY);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        network.isolate("r0", IDS); // nothing commits, so everything stays pending
        List<CompletableFuture<Committed>> fs = new ArrayList<>();
        for (int i = 0; i < 12_000; i++) {
            fs.add(replicas.get("r0").propose(bytes("p" + i)));
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(fs.get(fs.size() - 1)));
        ReplicationException overloaded =
                assertInstanceOf(ReplicationException.OverloadedException.class, e.getCause());
        assertTrue(overloaded.definitelyNotApplied());
    }

    @Test
    void pendingProposalsAreBoundedByTheirBytesAndTheBoundIsFreedWhenTheyComplete() throws Exception {
        maxPendingProposalBytes = 1_000;
        start(Net.IN_MEMORY);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        network.isolate("r0", IDS); // nothing commits, so both stay pending
        Replica r0 = replicas.get("r0");
        CompletableFuture<Committed> first = r0.propose(new byte[400]);
        CompletableFuture<Committed> second = r0.propose(new byte[400]);
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(r0.propose(new byte[400])));
        ReplicationException overloaded =
                assertInstanceOf(ReplicationException.OverloadedException.class, e.getCause());
        assertTrue(overloaded.definitelyNotApplied());
        assertTrue(overloaded.getMessage().contains("1000 payload bytes"), overloaded.getMessage());
        assertFalse(first.isDone() || second.isDone(), "the first two were accepted and wait for a majority");
        network.healAll();
        // Whatever their outcome (committed, or unknown if the leader lost its term meanwhile), their bytes are freed.
        for (CompletableFuture<Committed> f : List.of(first, second)) {
            try {
                get(f);
            } catch (ExecutionException done) {
                assertFalse(done.getCause() instanceof ReplicationException.OverloadedException);
            }
        }
        try {
            get(r0.propose(new byte[900]));
        } catch (ExecutionException after) {
            assertFalse(after.getCause() instanceof ReplicationException.OverloadedException, after.toString());
        }
    }

    @Test
    void useBeforeStartOrAfterCloseFailsClearly() throws Exception {
        start(Net.IN_MEMORY);
        Replica r = replicas.get("r2");
        r.close();
        r.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(r.propose(bytes("x"))));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertThrows(IllegalStateException.class, r::start);
    }

    @Test
    void aPayloadLargerThanTheLimitIsRefusedAtOnceAndNothingIsProposed() throws Exception {
        start(Net.IN_MEMORY);
        leadership.get("r0").elect(1);
        awaitRole("r0", Role.LEADER);
        long end = replicas.get("r0").status().logEndOffset();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> replicas.get("r0").propose(new byte[Replica.DEFAULT_MAX_PAYLOAD_BYTES + 1]));
        assertTrue(e.getMessage().contains("larger than"), e.getMessage());
        Committed c = get(replicas.get("r0").propose(bytes("small")));
        assertEquals(end, c.offset(), "the refused payload took no offset");
    }
}
