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
package dev.tenure.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import dev.tenure.testkit.ZooKeeperProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.SessionConnectionStateErrorPolicy;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fenced election's guarantees that depend on the Curator back end, run once per back end by {@link
 * FencedLeaderElectionTest} ({@code LeaderLatch}, with the guarantees that do not) and {@link
 * FencedLeaderElectionOnSelectorTest} ({@code LeaderSelector}): two test classes, so that the build's two test JVMs
 * share them. Each subclass names its back end in a static {@code backends()}.
 */
@Tag("zookeeper")
abstract class FencedLeaderElectionCases {
    static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers(Duration.ofSeconds(10));

    final List<FencedLeaderElection> elections = new ArrayList<>();
    String path;
    CuratorFramework observer;
    ElectionHistory history;

    @BeforeEach
    void setUp() throws Exception {
        path = "/tenure-test/" + UUID.randomUUID();
        observer = zk.ensemble().newClient();
        history = new ElectionHistory(path);
    }

    @AfterEach
    void tearDown() {
        elections.forEach(FencedLeaderElection::close);
        assertEquals(List.of(), history.violations(), "invariant violations");
    }

    ZooKeeperEnsemble ensemble() {
        return zk.ensemble();
    }

    FencedLeaderElection join(String id, ElectionBackend backend) throws Exception {
        return join(id, backend, ensemble().newClient(), SuspensionPolicy.REVOKE);
    }

    FencedLeaderElection join(String id, ElectionBackend backend, CuratorFramework client, SuspensionPolicy policy) {
        FencedLeaderElection e = FencedLeaderElection.builder(client, path)
                .participantId(id)
                .endpoint(id + ".example:7000")
                .backend(backend)
                .suspensionPolicy(policy)
                .listener(history.listenerFor(id, client))
                .retryBackoff(Duration.ofMillis(200))
                .build();
        elections.add(e);
        e.start();
        return e;
    }

    FencedLeaderElection leaderOf(List<FencedLeaderElection> es) {
        return es.stream()
                .filter(FencedLeaderElection::hasLeadership)
                .findFirst()
                .orElseThrow();
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(what);
            }
            Thread.sleep(10); // polling a condition that has no event to wait on
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void exactlyOneOfThreeParticipantsLeads(ElectionBackend backend) throws Exception {
        history.checkExclusive(true);
        List<FencedLeaderElection> es = List.of(join("a", backend), join("b", backend), join("c", backend));
        ElectionHistory.Event first = history.awaitAcquired(t -> true, WAIT);
        assertEquals(1, es.stream().filter(FencedLeaderElection::hasLeadership).count());
        FencedLeaderElection leader = leaderOf(es);
        assertEquals(first.participant(), leader.participantId());
        assertEquals(first.token(), leader.currentToken().orElseThrow());
        assertEquals(1, first.token().epoch(), "the first term on a new path has epoch 1");
        for (FencedLeaderElection e : es) {
            assertEquals(e == leader, e.isCurrent(first.token()));
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void fiftyHandOffsGiveStrictlyIncreasingEpochsAndNeverTwoHolders(ElectionBackend backend) throws Exception {
        history.checkExclusive(true);
        List<FencedLeaderElection> es = List.of(join("a", backend), join("b", backend), join("c", backend));
        LeadershipToken previous = history.awaitAcquired(t -> true, WAIT).token();
        for (int i = 0; i < 50; i++) {
            FencedLeaderElection leader = es.stream()
                    .filter(e -> e.participantId()
                            .equals(history.events()
                                    .get(history.events().size() - 1)
                                    .participant()))
                    .findFirst()
                    .orElseThrow();
            assertTrue(leader.stepDown(previous), "hand-off " + i + ": " + previous + " should be current");
            long before = previous.epoch();
            previous = history.awaitAcquired(t -> t.epoch() > before, WAIT).token();
            assertTrue(previous.epoch() > before);
        }
        assertTrue(history.maxEpoch() >= 51);
        assertEquals(1, es.stream().filter(FencedLeaderElection::hasLeadership).count());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void expiredLeaderIsRevokedAndItsTokenIsFenced(ElectionBackend backend) throws Exception {
        CuratorFramework leaderClient = ensemble().newClient();
        FencedLeaderElection a = join("a", backend, leaderClient, SuspensionPolicy.REVOKE);
        LeadershipToken old = a.awaitLeadership(WAIT);
        join("b", backend);
        join("c", backend);
        EpochFence fence = EpochFence.open(new InMemoryEpochStore(), path);
        fence.admit(old);

        ensemble().expireSession(leaderClient);

        ElectionHistory.Event revoked = history.awaitRevoked(old, WAIT);
        assertTrue(
                revoked.reason() == RevocationReason.SESSION_LOST
                        || revoked.reason() == RevocationReason.CONNECTION_SUSPENDED
                        || revoked.reason() == RevocationReason.DEPOSED,
                "revoked for " + revoked.reason());
        LeadershipToken next =
                history.awaitAcquired(t -> t.epoch() > old.epoch(), WAIT).token();
        fence.admit(next);
        assertFalse(a.isCurrent(old));
        assertThrows(FencedException.class, () -> fence.admit(old));
        assertThrows(
                FencedException.class,
                () -> FencedTransaction.commit(
                        leaderClient,
                        old,
                        List.of(leaderClient.transactionOp().create().forPath(path + "/x"))));
        assertNull(observer.checkExists().forPath(path + "/x"), "a fenced write must have no effect");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void killingTheLeadersZooKeeperServerEndsTheTermAndANewEpochFollows(ElectionBackend backend) throws Exception {
        CuratorFramework leaderClient = ensemble().newClient();
        FencedLeaderElection a = join("a", backend, leaderClient, SuspensionPolicy.REVOKE);
        LeadershipToken old = a.awaitLeadership(WAIT);
        join("b", backend);
        ensemble().killServer(ensemble().serverOf(leaderClient));
        history.awaitRevoked(old, WAIT);
        LeadershipToken next =
                history.awaitAcquired(t -> t.epoch() > old.epoch(), WAIT).token();
        assertTrue(next.epoch() > old.epoch());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void killingTheZooKeeperQuorumLeaderEndsTheTermAndANewEpochFollows(ElectionBackend backend) throws Exception {
        FencedLeaderElection a = join("a", backend);
        LeadershipToken old = a.awaitLeadership(WAIT);
        join("b", backend);
        ensemble().killQuorumLeader();
        // Every client is disconnected while the remaining servers elect a new quorum leader.
        history.awaitRevoked(old, WAIT);
        LeadershipToken next =
                history.awaitAcquired(t -> t.epoch() > old.epoch(), WAIT).token();
        assertTrue(next.epoch() > old.epoch());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void epochsKeepIncreasingAfterAllZooKeeperServersRestart(ElectionBackend backend) throws Exception {
        FencedLeaderElection a = join("a", backend);
        join("b", backend);
        LeadershipToken old = history.awaitAcquired(t -> true, WAIT).token();
        for (int i = 0; i < 3; i++) { // a few terms before the restart
            long before = old.epoch();
            FencedLeaderElection leader = elections.stream()
                    .filter(FencedLeaderElection::hasLeadership)
                    .findFirst()
                    .orElseThrow();
            leader.stepDown(leader.currentToken().orElseThrow());
            old = history.awaitAcquired(t -> t.epoch() > before, WAIT).token();
        }
        ensemble().stopAll();
        ensemble().restartAll();
        long before = old.epoch();
        LeadershipToken next =
                history.awaitAcquired(t -> t.epoch() > before, WAIT).token();
        assertTrue(next.epoch() > before, "epoch must not reset after a restart of every server");
        assertFalse(a.isCurrent(old));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void zombieLeaderCutOffPastItsSessionIsFencedEverywhere_revokeOnSuspend(ElectionBackend backend) throws Exception {
        zombieIsFenced(backend, SuspensionPolicy.REVOKE);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void zombieLeaderCutOffPastItsSessionIsFencedEverywhere_waitForLost(ElectionBackend backend) throws Exception {
        zombieIsFenced(backend, SuspensionPolicy.WAIT_FOR_LOST);
    }

    void zombieIsFenced(ElectionBackend backend, SuspensionPolicy policy) throws Exception {
        ZooKeeperProxy proxy = ensemble().newProxy();
        CuratorFramework zombieClient = ensemble()
                .newClient(ensemble()
                        .clientBuilder(proxy)
                        .sessionTimeoutMs(2000)
                        .connectionStateErrorPolicy(new SessionConnectionStateErrorPolicy()));
        FencedLeaderElection zombie = join("zombie", backend, zombieClient, policy);
        LeadershipToken old = zombie.awaitLeadership(WAIT);
        join("b", backend);
        EpochFence fence = EpochFence.open(new InMemoryEpochStore(), path);
        fence.admit(old);

        proxy.cut(); // the zombie's process keeps running, but cannot reach ZooKeeper
        LeadershipToken next =
                history.awaitAcquired(t -> t.epoch() > old.epoch(), WAIT).token();
        assertEquals("b", next.leaderId());
        fence.admit(next);

        proxy.heal();
        // Whatever the zombie believes right now, everything it touches refuses its token.
        assertThrows(FencedException.class, () -> fence.admit(old));
        assertThrows(
                FencedException.class,
                () -> FencedTransaction.commit(
                        zombieClient,
                        old,
                        List.of(zombieClient.transactionOp().create().forPath(path + "/x"))));
        assertThrows(
                FencedException.class,
                () -> zombie.fencedTransaction(
                        old, List.of(zombieClient.transactionOp().create().forPath(path + "/x"))));
        assertNull(observer.checkExists().forPath(path + "/x"), "a fenced write must have no effect");
        history.awaitRevoked(old, WAIT); // it notices eventually
        assertFalse(zombie.isCurrent(old));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void epochStaysMonotonicWhenTheContainerIsReapedOrTheElectionPathDeleted(ElectionBackend backend) throws Exception {
        FencedLeaderElection a = join("a", backend);
        LeadershipToken first = a.awaitLeadership(WAIT);
        a.close();
        // The servers reap the empty container (the check interval is shortened for these tests in the pom).
        await(() -> Boolean.FALSE.equals(exists(path + "/election")), "container " + path + "/election reaped");

        FencedLeaderElection b = join("b", backend);
        LeadershipToken second = b.awaitLeadership(WAIT);
        assertTrue(second.epoch() > first.epoch());
        b.close();
        // Deleted by hand, unless the servers reaped the empty container first.
        observer.delete().quietly().deletingChildrenIfNeeded().forPath(path + "/election");
        assertNull(observer.checkExists().forPath(path + "/election"));

        FencedLeaderElection c = join("c", backend);
        LeadershipToken third = c.awaitLeadership(WAIT);
        assertTrue(third.epoch() > second.epoch());
    }

    Boolean exists(String p) {
        try {
            return observer.checkExists().forPath(p) != null;
        } catch (Exception e) {
            return null;
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void steppedDownLeaderHandsOverAndRejoinsAfterTheDelay(ElectionBackend backend) throws Exception {
        history.checkExclusive(true);
        FencedLeaderElection a = join("a", backend);
        LeadershipToken first = a.awaitLeadership(WAIT);
        FencedLeaderElection b = join("b", backend);
        LeaderDiscovery discovery = new LeaderDiscovery(observer, path);
        discovery.start();
        try {
            await(() -> discovery.participants().size() == 2, "two participants");
            assertTrue(a.stepDown(first, Duration.ofMillis(500)));
            assertFalse(a.stepDown(first), "a token that is no longer current cannot step down again");
            assertEquals(
                    RevocationReason.STEPPED_DOWN,
                    history.awaitRevoked(first, WAIT).reason());
            LeadershipToken second = b.awaitLeadership(WAIT);
            assertTrue(second.epoch() > first.epoch());
            await(() -> discovery.participants().size() == 2, "a rejoined");
            assertEquals(List.of("b", "a"), discovery.participants());
            assertTrue(b.stepDown(second));
            LeadershipToken third = a.awaitLeadership(WAIT);
            assertTrue(third.epoch() > second.epoch());
        } finally {
            discovery.close();
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void closeReleasesPromptlyAndWaitsForLeadershipWorkToFinish(ElectionBackend backend) throws Exception {
        AtomicBoolean workFinished = new AtomicBoolean();
        CountDownLatch working = new CountDownLatch(1);
        FencedLeaderElection[] self = new FencedLeaderElection[1];
        FencedLeaderElection a = FencedLeaderElection.builder(ensemble().newClient(), path)
                .participantId("a")
                .backend(backend)
                .listener(new LeadershipListener() {
                    @Override
                    public void acquired(LeadershipToken token) throws Exception {
                        working.countDown();
                        // Leadership work: runs until the term ends, then finishes what it started.
                        self[0].revocation(token).toCompletableFuture().get();
                        Thread.sleep(300); // the work's own wind-down, e.g. flushing
                        workFinished.set(true);
                    }
                })
                .build();
        self[0] = a;
        a.start();
        assertTrue(working.await(30, TimeUnit.SECONDS));
        FencedLeaderElection b = join("b", backend);
        a.close();
        assertTrue(workFinished.get(), "close() returned before the leadership work finished");
        b.awaitLeadership(WAIT);
        a.close(); // idempotent
    }

    @ParameterizedTest
    @MethodSource("backends")
    void deposingTheCurrentEpochRemovesTheLeadersNodeAndTheNextParticipantLeadsWithAHigherEpoch(ElectionBackend backend)
            throws Exception {
        // A deposed leader may overlap the next one until it sees the newer epoch: that is what epochs fence.
        history.checkExclusive(false);
        FencedLeaderElection a = join("a", backend);
        LeadershipToken first = a.awaitLeadership(WAIT);
        FencedLeaderElection b = join("b", backend);
        LeaderDiscovery discovery = new LeaderDiscovery(observer, path);
        discovery.start();
        try {
            await(() -> discovery.participants().size() == 2, "two participants");
            assertTrue(FencedLeaderElection.depose(observer, path, first.epoch()));
            LeadershipToken second = b.awaitLeadership(WAIT);
            assertTrue(second.epoch() > first.epoch());
            assertEquals(
                    RevocationReason.SUPERSEDED,
                    history.awaitRevoked(first, WAIT).reason());
            assertFalse(a.isCurrent(first));
            await(() -> discovery.participants().equals(List.of("b", "a")), "the deposed leader rejoined, behind b");
            // It campaigns again like any participant: depose b, and a leads with a newer epoch still.
            assertTrue(FencedLeaderElection.depose(observer, path, second.epoch()));
            LeadershipToken third = a.awaitLeadership(WAIT);
            assertTrue(third.epoch() > second.epoch());
            assertEquals(
                    RevocationReason.SUPERSEDED,
                    history.awaitRevoked(second, WAIT).reason());
        } finally {
            discovery.close();
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void deposeAsyncAnswersAsDeposeDoesWithItsRequestsInTheBackground(ElectionBackend backend) throws Exception {
        history.checkExclusive(false); // a deposed leader may overlap the next until it sees the newer epoch
        FencedLeaderElection a = join("a", backend);
        LeadershipToken first = a.awaitLeadership(WAIT);
        FencedLeaderElection b = join("b", backend);
        LeaderDiscovery discovery = new LeaderDiscovery(observer, path);
        discovery.start();
        try {
            await(() -> discovery.participants().size() == 2, "two participants");
            assertFalse(
                    FencedLeaderElection.deposeAsync(observer, path, first.epoch() + 1)
                            .toCompletableFuture()
                            .get(30, TimeUnit.SECONDS),
                    "not minted yet");
            assertTrue(a.isCurrent(first));
            assertTrue(FencedLeaderElection.deposeAsync(observer, path, first.epoch())
                    .toCompletableFuture()
                    .get(30, TimeUnit.SECONDS));
            LeadershipToken second = b.awaitLeadership(WAIT);
            assertTrue(second.epoch() > first.epoch());
            assertEquals(
                    RevocationReason.SUPERSEDED,
                    history.awaitRevoked(first, WAIT).reason());
            assertFalse(
                    FencedLeaderElection.deposeAsync(observer, path, first.epoch())
                            .toCompletableFuture()
                            .get(30, TimeUnit.SECONDS),
                    "epoch 1 is no longer the latest");
            assertTrue(b.isCurrent(second));
            assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.deposeAsync(observer, path, 0));
        } finally {
            discovery.close();
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void deposingAnOldEpochIsRefusedAndNeverRemovesTheNewerLeader(ElectionBackend backend) throws Exception {
        history.checkExclusive(true);
        FencedLeaderElection a = join("a", backend);
        LeadershipToken first = a.awaitLeadership(WAIT);
        FencedLeaderElection b = join("b", backend);
        LeaderDiscovery discovery = new LeaderDiscovery(observer, path);
        discovery.start();
        try {
            await(() -> discovery.participants().size() == 2, "two participants");
            assertTrue(a.stepDown(first));
            LeadershipToken second = b.awaitLeadership(WAIT);
            await(() -> discovery.participants().size() == 2, "a rejoined");
            // The observer's server may lag behind the mint b's client saw: read once it has seen it.
            await(() -> epochVersionSeenByObserver() == second.epochNodeVersion(), "the observer sees b's mint");
            Stat epochBefore = observer.checkExists().forPath(path + "/epoch");
            List<String> nodesBefore = observer.getChildren().forPath(path + "/election");
            assertFalse(FencedLeaderElection.depose(observer, path, first.epoch()), "epoch 1 is no longer the latest");
            assertFalse(FencedLeaderElection.depose(observer, path, second.epoch() + 1), "not minted yet");
            assertEquals(nodesBefore, observer.getChildren().forPath(path + "/election"), "no node removed");
            assertEquals(
                    epochBefore.getVersion(),
                    observer.checkExists().forPath(path + "/epoch").getVersion());
            assertTrue(b.isCurrent(second));
            assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.depose(observer, path, 0));
        } finally {
            discovery.close();
        }
    }

    private int epochVersionSeenByObserver() {
        try {
            Stat stat = observer.checkExists().forPath(path + "/epoch");
            return stat == null ? -1 : stat.getVersion();
        } catch (Exception e) {
            return -1; // polled again
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void suspendedLeaderIsRevokedAtOnceAndLeadsAgainWithANewEpoch(ElectionBackend backend) throws Exception {
        ZooKeeperProxy proxy = ensemble().newProxy();
        CuratorFramework client = ensemble().newClient(ensemble().clientBuilder(proxy));
        FencedLeaderElection a = join("a", backend, client, SuspensionPolicy.REVOKE);
        LeadershipToken first = a.awaitLeadership(WAIT);
        // The listener's acquired() reads the epoch node; cut while that read is in flight, the revoked callback
        // would wait behind its retries (about 18 s), not the revocation itself.
        history.awaitChecked(first, WAIT);
        proxy.cut();
        assertEquals(
                RevocationReason.CONNECTION_SUSPENDED,
                history.awaitRevoked(first, WAIT).reason());
        assertFalse(a.isCurrent(first));
        proxy.heal();
        LeadershipToken second = a.awaitLeadership(WAIT);
        assertTrue(second.epoch() > first.epoch(), "re-acquisition after a reconnect mints a new epoch");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void waitForLostKeepsTheTermAcrossAShortSuspension(ElectionBackend backend) throws Exception {
        ZooKeeperProxy proxy = ensemble().newProxy();
        CuratorFramework client = ensemble()
                .newClient(ensemble()
                        .clientBuilder(proxy)
                        .sessionTimeoutMs(10_000)
                        .connectionStateErrorPolicy(new SessionConnectionStateErrorPolicy()));
        CountDownLatch suspended = new CountDownLatch(1);
        CountDownLatch reconnected = new CountDownLatch(1);
        client.getConnectionStateListenable().addListener((c, s) -> {
            if (s == ConnectionState.SUSPENDED) {
                suspended.countDown();
            } else if (s == ConnectionState.RECONNECTED) {
                reconnected.countDown();
            }
        });
        FencedLeaderElection a = join("a", backend, client, SuspensionPolicy.WAIT_FOR_LOST);
        LeadershipToken token = a.awaitLeadership(WAIT);
        proxy.cut();
        assertTrue(suspended.await(30, TimeUnit.SECONDS));
        assertTrue(a.isCurrent(token), "WAIT_FOR_LOST keeps the term while suspended");
        proxy.heal();
        assertTrue(reconnected.await(30, TimeUnit.SECONDS));
        a.fencedTransaction(token, List.of(client.transactionOp().create().forPath(path + "/still-leader")));
        assertTrue(a.isCurrent(token));
        assertEquals(1, history.events().size(), "no revocation: " + history.events());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void fencedTransactionAppliesOnlyWhileTheEpochIsCurrent(ElectionBackend backend) throws Exception {
        CuratorFramework client = ensemble().newClient();
        FencedLeaderElection a = join("a", backend, client, SuspensionPolicy.REVOKE);
        LeadershipToken first = a.awaitLeadership(WAIT);
        a.fencedTransaction(
                first,
                List.of(client.transactionOp().create().forPath(path + "/data", "1".getBytes(StandardCharsets.UTF_8))));
        FencedLeaderElection b = join("b", backend);
        assertTrue(a.stepDown(first, Duration.ofSeconds(60))); // b is the only candidate left
        LeadershipToken second = b.awaitLeadership(WAIT);
        FencedException e = assertThrows(
                FencedException.class,
                () -> FencedTransaction.commit(
                        client,
                        first,
                        List.of(client.transactionOp()
                                .setData()
                                .forPath(path + "/data", "2".getBytes(StandardCharsets.UTF_8)))));
        assertEquals(first.epoch(), e.presentedEpoch());
        assertEquals(second.epoch(), e.currentEpoch().orElseThrow());
        assertEquals("1", new String(observer.getData().forPath(path + "/data"), StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void corruptEpochNodeBlocksLeadershipUntilRepaired(ElectionBackend backend) throws Exception {
        observer.create()
                .creatingParentsIfNeeded()
                .forPath(path + "/epoch", "garbage".getBytes(StandardCharsets.UTF_8));
        FencedLeaderElection a = join("a", backend);
        await(() -> a.mintFailureCount() > 0, "a failed mint");
        assertFalse(a.hasLeadership());
        assertTrue(history.events().isEmpty(), "no listener hears acquired without a mint");
        observer.setData().forPath(path + "/epoch", new Records.EpochRecord(41, "", "", "", "").encode());
        LeadershipToken token = a.awaitLeadership(WAIT);
        assertEquals(42, token.epoch());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void epochNodeAtTheMaximumIsRefusedWithoutWrappingAndNobodyLeads(ElectionBackend backend) throws Exception {
        observer.create()
                .creatingParentsIfNeeded()
                .forPath(path + "/epoch", new Records.EpochRecord(Long.MAX_VALUE, "old", "", "", "").encode());
        Stat before = observer.checkExists().forPath(path + "/epoch");
        Duration backoff = Duration.ofMillis(200); // join's retry backoff
        try (LogCapture log = LogCapture.of(FencedLeaderElection.class)) {
            long start = System.nanoTime();
            FencedLeaderElection a = join("a", backend);
            await(() -> a.mintFailureCount() >= 3, "three refused mints");
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

            assertTrue(
                    elapsed.compareTo(backoff.multipliedBy(2)) >= 0,
                    "refused mints are retried after the backoff, not in a tight loop: 3 in " + elapsed);
            assertFalse(a.hasLeadership());
            assertTrue(history.events().isEmpty(), "no listener hears acquired: " + history.events());
            Stat after = new Stat();
            Records.EpochRecord onNode = Records.EpochRecord.decode(
                    observer.getData().storingStatIn(after).forPath(path + "/epoch"));
            assertEquals(Long.MAX_VALUE, onNode.epoch, "the epoch node is left as it was");
            assertEquals(before.getVersion(), after.getVersion(), "nothing was written to the epoch node");
            assertTrue(
                    log.errors().stream()
                            .flatMap(e -> LogCapture.throwableMessages(e).stream())
                            .anyMatch(m -> m.contains("epoch space of " + path + " is exhausted")
                                    && m.contains("new election path")),
                    "the error names the exhausted epoch space and what to do: " + log.errors());
        }
    }

    /**
     * A listener that records in the history and, while {@code throwsLeft} lasts, waits for {@code before}
     * and throws from {@code acquired}, noting the time of the last throw in {@code thrownAt}.
     */
    LeadershipListener throwingInAcquired(
            String id, CuratorFramework client, CountDownLatch before, AtomicInteger throwsLeft, AtomicLong thrownAt) {
        LeadershipListener recorded = history.listenerFor(id, client);
        return new LeadershipListener() {
            @Override
            public void acquired(LeadershipToken token) throws Exception {
                recorded.acquired(token);
                if (throwsLeft.getAndDecrement() > 0) {
                    before.await();
                    thrownAt.set(System.nanoTime());
                    throw new IllegalStateException("listener failure in " + token);
                }
            }

            @Override
            public void revoked(LeadershipToken token, RevocationReason reason) throws Exception {
                recorded.revoked(token, reason);
            }
        };
    }

    @ParameterizedTest
    @MethodSource("backends")
    void leaderWhoseListenerThrowsInAcquiredGivesUpAndAnotherLeadsWithAHigherEpoch(ElectionBackend backend)
            throws Exception {
        history.checkExclusive(true);
        CuratorFramework aClient = ensemble().newClient();
        CountDownLatch bQueued = new CountDownLatch(1);
        FencedLeaderElection a = FencedLeaderElection.builder(aClient, path)
                .participantId("a")
                .backend(backend)
                .listener(throwingInAcquired(
                        "a", aClient, bQueued, new AtomicInteger(Integer.MAX_VALUE), new AtomicLong()))
                .retryBackoff(Duration.ofMillis(200))
                .build();
        elections.add(a);
        a.start();
        LeadershipToken first = history.awaitAcquired(t -> true, WAIT).token();
        assertEquals("a", first.leaderId());
        join("b", backend);
        await(() -> children(path + "/election") == 2, "b queued behind a");
        bQueued.countDown(); // a's acquired throws now

        history.awaitRevoked(first, WAIT);
        LeadershipToken second =
                history.awaitAcquired(t -> t.epoch() > first.epoch(), WAIT).token();
        assertEquals("b", second.leaderId(), "a gave up its term and b took over");
        assertFalse(a.isCurrent(first));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void listenerThatThrowsInAcquiredIsRevokedAsListenerFailedLoggedAndRejoinsAfterTheBackoff(ElectionBackend backend)
            throws Exception {
        Duration backoff = Duration.ofMillis(300);
        CuratorFramework client = ensemble().newClient();
        AtomicLong thrownAt = new AtomicLong();
        try (LogCapture log = LogCapture.of(FencedLeaderElection.class)) {
            FencedLeaderElection a = FencedLeaderElection.builder(client, path)
                    .participantId("a")
                    .backend(backend)
                    .listener(throwingInAcquired("a", client, new CountDownLatch(0), new AtomicInteger(1), thrownAt))
                    .retryBackoff(backoff)
                    .build();
            elections.add(a);
            a.start();
            LeadershipToken first = history.awaitAcquired(t -> true, WAIT).token();

            ElectionHistory.Event revoked = history.awaitRevoked(first, WAIT);
            assertEquals(RevocationReason.LISTENER_FAILED, revoked.reason());
            assertEquals(
                    RevocationReason.LISTENER_FAILED,
                    a.revocation(first).toCompletableFuture().get());
            assertTrue(
                    log.errors().stream()
                            .anyMatch(e -> e.getFormattedMessage().contains("threw in acquired(" + first + ")")
                                    && LogCapture.throwableMessages(e)
                                            .equals(List.of(IllegalStateException.class.getName()
                                                    + ": listener failure in " + first))),
                    "logged at ERROR with the exception: " + log.errors());

            // It rejoins the election after the backoff and, alone, leads again with a new epoch.
            LeadershipToken second =
                    history.awaitAcquired(t -> t.epoch() > first.epoch(), WAIT).token();
            Duration away = Duration.ofNanos(System.nanoTime() - thrownAt.get());
            assertTrue(away.compareTo(backoff) >= 0, "rejoined " + away + " after the failure, before the backoff");
            assertEquals("a", second.leaderId());
            assertTrue(a.isCurrent(second));
        }
    }

    int children(String p) {
        try {
            return observer.getChildren().forPath(p).size();
        } catch (Exception e) {
            return -1;
        }
    }

    FencedLeaderElection joinWithPathsCreated(String id) throws Exception {
        CuratorFramework client = ensemble().newClient();
        FencedLeaderElection e = FencedLeaderElection.builder(client, path)
                .participantId(id)
                .listener(history.listenerFor(id, client))
                .retryBackoff(Duration.ofMillis(200))
                .pathsCreated()
                .build();
        elections.add(e);
        e.start();
        return e;
    }

    /** Waits until the election's line holds {@code count} latch nodes. */
    void awaitLatchNodes(int count, String what) throws Exception {
        await(
                () -> {
                    try {
                        return observer.getChildren()
                                        .forPath(path + "/election")
                                        .size()
                                == count;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                },
                what);
    }

    /** Creates a node beside the election path and returns the zxid of its creation. */
    long probe(String name) throws Exception {
        String p = path + "-probe-" + name;
        observer.create().creatingParentsIfNeeded().forPath(p);
        return observer.checkExists().forPath(p).getCzxid();
    }

    /** The parent of a ZooKeeper path. */
    static final class ZKPathsParent {
        static String of(String p) {
            return p.substring(0, p.lastIndexOf('/'));
        }
    }
}
