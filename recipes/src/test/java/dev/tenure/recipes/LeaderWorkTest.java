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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lambda API: {@link FencedLeaderElection.Builder#leader(LeaderWork)} with a per-term {@link LeaderTerm}, the
 * term lasting while the work runs, interruption on revocation, {@link FencedLeaderElection#leadership()}, and the
 * bounded {@code close} and {@code stepDown}.
 */
@Tag("zookeeper")
class LeaderWorkTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk =
            ZooKeeperEnsembleExtension.of(dev.tenure.testkit.ZooKeeperEnsemble.builder()
                    .servers(1)
                    .sessionTimeout(Duration.ofSeconds(10))); // one server: no quorum needed

    private final List<FencedLeaderElection> elections = new ArrayList<>();
    private String path;
    private CuratorFramework client;

    @BeforeEach
    void setUp() throws Exception {
        path = "/tenure-test/" + UUID.randomUUID();
        client = zk.ensemble().newClient();
        client.create().creatingParentsIfNeeded().forPath(path + "-data", new byte[0]);
    }

    @AfterEach
    void tearDown() {
        elections.forEach(FencedLeaderElection::close);
    }

    private FencedLeaderElection started(FencedLeaderElection e) {
        elections.add(e);
        e.start();
        return e;
    }

    private static LeadershipToken get(CompletionStage<LeadershipToken> s) throws Exception {
        return s.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private byte[] data() throws Exception {
        return client.getData().forPath(path + "-data");
    }

    @Test
    void theTenLineEmbeddingLeadsWithFencedWritesAndTheNextLeaderTakesOverWhenItCloses() throws Exception {
        CuratorFramework c = zk.ensemble().newClient();
        // --- docs/recipes.md's embedding: ten lines ---
        FencedLeaderElection election = FencedLeaderElection.builder(c, path)
                .leader(term -> {
                    while (term.isCurrent()) {
                        byte[] mark = ("epoch " + term.epoch()).getBytes(StandardCharsets.UTF_8);
                        term.fencedTransaction(c.transactionOp().setData().forPath(path + "-data", mark));
                        Thread.sleep(50); // the leader's pace: a write every 50 ms
                    }
                })
                .build();
        election.start();
        // --- end ---
        elections.add(election);
        LeadershipToken first = get(election.leadership());
        awaitData("epoch " + first.epoch());

        CuratorFramework c2 = zk.ensemble().newClient();
        FencedLeaderElection next = started(FencedLeaderElection.builder(c2, path)
                .participantId("next")
                .leader(term -> {
                    c2.setData().forPath(path + "-data", ("next " + term.epoch()).getBytes(StandardCharsets.UTF_8));
                    term.awaitRevocation();
                })
                .build());
        assertTrue(election.close(WAIT), "the work returned once its term ended");
        LeadershipToken second = get(next.leadership());
        assertTrue(second.epoch() > first.epoch());
        awaitData("next " + second.epoch());
        assertThrows(
                FencedException.class,
                () -> FencedTransaction.commit(
                        c, first, List.of(c.transactionOp().setData().forPath(path + "-data", new byte[] {1}))),
                "the old term's token is fenced in ZooKeeper");
        assertThrows(
                IllegalStateException.class, () -> election.fencedTransaction(first, List.of()), "use after close");
    }

    private void awaitData(String expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!new String(data(), StandardCharsets.UTF_8).equals(expected)) {
            assertTrue(System.nanoTime() < deadline, "data never became " + expected);
            Thread.sleep(10); // polling ZooKeeper for the leader's write
        }
    }

    @Test
    void workThatReturnsGivesTheTermUpAndAnotherParticipantLeadsWithAHigherEpoch() throws Exception {
        LinkedBlockingQueue<LeadershipToken> terms = new LinkedBlockingQueue<>();
        FencedLeaderElection quick =
                started(FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                        .participantId("quick")
                        .leader(term -> terms.add(term.token()))
                        .retryBackoff(Duration.ofSeconds(30)) // rejoins late: the other one leads next
                        .build());
        LeadershipToken first = terms.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        FencedLeaderElection patient =
                started(FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                        .participantId("patient")
                        .leader(LeaderTerm::awaitRevocation)
                        .build());
        LeadershipToken second = get(patient.leadership());
        assertTrue(second.epoch() > first.epoch());
        assertFalse(quick.isCurrent(first), "the term ended when its work returned");
        assertEquals(
                RevocationReason.STEPPED_DOWN,
                quick.revocation(first).toCompletableFuture().get());
    }

    @Test
    void withInterruptOnRevocationTheWorkIsInterruptedWhenItsSessionExpires() throws Exception {
        CuratorFramework c = zk.ensemble().newClient();
        CountDownLatch working = new CountDownLatch(1);
        AtomicReference<Throwable> ended = new AtomicReference<>();
        CountDownLatch returned = new CountDownLatch(1);
        FencedLeaderElection e = started(FencedLeaderElection.builder(c, path)
                .leader(term -> {
                    working.countDown();
                    try {
                        new LinkedBlockingQueue<>().take(); // work that only an interrupt ends
                    } catch (InterruptedException interrupted) {
                        ended.set(interrupted);
                        throw interrupted;
                    } finally {
                        returned.countDown();
                    }
                })
                .interruptOnRevocation(true)
                .build());
        LeadershipToken token = get(e.leadership());
        assertTrue(working.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        zk.ensemble().expireSession(c);
        assertTrue(returned.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the work was interrupted");
        assertTrue(ended.get() instanceof InterruptedException);
        RevocationReason reason = e.revocation(token).toCompletableFuture().get();
        assertTrue(reason != RevocationReason.LISTENER_FAILED, "an interrupt on revocation is no failure: " + reason);
    }

    @Test
    void aBoundedCloseReturnsFalseWhenTheWorkIgnoresItsRevocationAndTheNextLeaderIsNotHeldUp() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FencedLeaderElection stubborn =
                started(FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                        .participantId("stubborn")
                        .leader(term -> {
                            while (!release.await(10, TimeUnit.MILLISECONDS)) {
                                // ignores term.isCurrent(): only the fence protects the data from it
                            }
                        })
                        .build());
        LeadershipToken first = get(stubborn.leadership());
        FencedLeaderElection next =
                started(FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                        .participantId("next")
                        .leader(LeaderTerm::awaitRevocation)
                        .build());
        try {
            long start = System.nanoTime();
            assertFalse(stubborn.close(Duration.ofMillis(300)), "the work still runs");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "close returned within its bound");
            assertFalse(stubborn.isCurrent(first));
            assertTrue(get(next.leadership()).epoch() > first.epoch(), "the node was released");
        } finally {
            release.countDown();
        }
    }

    @Test
    void aBoundedStepDownReleasesTheNodeWhileTheWorkStillRuns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        FencedLeaderElection stubborn =
                started(FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                        .participantId("stubborn")
                        .leader(term -> {
                            while (!release.await(10, TimeUnit.MILLISECONDS)) {
                                // ignores its revocation
                            }
                        })
                        .build());
        LeadershipToken first = get(stubborn.leadership());
        FencedLeaderElection next =
                started(FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                        .participantId("next")
                        .leader(LeaderTerm::awaitRevocation)
                        .build());
        try {
            assertTrue(stubborn.stepDown(first, Duration.ofSeconds(30), Duration.ofMillis(300)));
            assertTrue(get(next.leadership()).epoch() > first.epoch());
        } finally {
            release.countDown();
        }
    }

    @Test
    void leadershipFailsClearlyOnceTheElectionIsClosed() throws Exception {
        FencedLeaderElection e =
                FencedLeaderElection.builder(zk.ensemble().newClient(), path).build();
        CompletionStage<LeadershipToken> pending = e.leadership();
        e.close();
        ExecutionException failed = assertThrows(
                ExecutionException.class, () -> pending.toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertTrue(failed.getCause() instanceof IllegalStateException, failed.toString());
        assertThrows(
                ExecutionException.class,
                () -> e.leadership().toCompletableFuture().get());
    }

    @Test
    void aListenerAndLeaderWorkTogetherOrAnInterruptWithoutWorkAreRefused() throws Exception {
        CuratorFramework c = zk.ensemble().newClient();
        assertThrows(
                IllegalArgumentException.class,
                () -> FencedLeaderElection.builder(c, path)
                        .listener(new LeadershipListener() {})
                        .leader(LeaderTerm::awaitRevocation)
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> FencedLeaderElection.builder(c, path)
                        .interruptOnRevocation(true)
                        .build());
        FencedLeaderElection defaults = FencedLeaderElection.builder(c, path).build();
        assertTrue(defaults.participantId().contains("@"), "pid@host by default: " + defaults.participantId());
        defaults.close();
    }
}
