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
package dev.tenure.replicator.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeaderDiscovery;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.ReplicationException;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link LeaderClient} on a real election: it sends to the discovered leader's endpoint, retries definite refusals
 * (at the leader a refusal names, at once), and never retries a failure that may have been applied.
 */
@Tag("zookeeper")
class LeaderClientTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private final String path = "/leader-client/" + UUID.randomUUID();
    private CuratorFramework client;
    private FencedLeaderElection election;
    private LeaderDiscovery discovery;

    @BeforeEach
    void electALeaderAtEndpointA() throws Exception {
        client = zk.ensemble().newClient();
        election = FencedLeaderElection.builder(client, path)
                .participantId("a")
                .endpoint("a:1")
                .leader(term -> term.awaitRevocation())
                .build();
        election.start();
        election.leadership().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        discovery = new LeaderDiscovery(client, path);
        discovery.start();
        discovery.awaitLeader(l -> l.id().equals("a"), WAIT);
    }

    @AfterEach
    void close() {
        discovery.close();
        election.close(WAIT);
    }

    private static <R> R get(java.util.concurrent.CompletionStage<R> s) throws Exception {
        return s.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void aProposalGoesToTheDiscoveredLeadersEndpoint() throws Exception {
        List<String> sentTo = new CopyOnWriteArrayList<>();
        LeaderClient<String, String> c = LeaderClient.<String, String>builder(discovery, (l, p) -> {
                    sentTo.add(l.endpoint());
                    return CompletableFuture.completedFuture(p + "@" + l.id());
                })
                .build();
        assertEquals("x@a", get(c.propose("x")));
        assertEquals(List.of("a:1"), sentTo);
    }

    @Test
    void aRefusalNamingAnotherLeaderIsRetriedThereAtOnce() throws Exception {
        List<String> sentTo = new CopyOnWriteArrayList<>();
        LeaderClient<String, String> c = LeaderClient.<String, String>builder(discovery, (l, p) -> {
                    sentTo.add(l.endpoint());
                    if (l.endpoint().equals("a:1")) { // a stepped down in this story and names b
                        return CompletableFuture.failedFuture(new ReplicationException.NotLeaderException("b", "b:2"));
                    }
                    return CompletableFuture.completedFuture("ok at " + l.id());
                })
                .backoff(Duration.ofSeconds(5), Duration.ofSeconds(5)) // a pause would time the test out
                .build();
        assertEquals("ok at b", get(c.propose("x")));
        assertEquals(List.of("a:1", "b:2"), sentTo);
    }

    @Test
    void definiteRefusalsAndRefusedConnectionsAreRetriedUntilOneSucceeds() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        LeaderClient<String, String> c = LeaderClient.<String, String>builder(discovery, (l, p) -> {
                    int n = attempts.incrementAndGet();
                    if (n == 1) {
                        return CompletableFuture.failedFuture(new ConnectException("connection refused"));
                    }
                    if (n == 2) {
                        return CompletableFuture.failedFuture(new ReplicationException.OverloadedException("a"));
                    }
                    return CompletableFuture.completedFuture("third");
                })
                .backoff(Duration.ofMillis(1), Duration.ofMillis(5))
                .build();
        assertEquals("third", get(c.propose("x")));
        assertEquals(3, attempts.get());
    }

    @Test
    void anOutcomeThatMayHaveBeenAppliedIsNeverRetried() throws Exception {
        for (Throwable maybeApplied : List.of(
                new ReplicationException.OutcomeUnknownException("leadership ended", "a"),
                new IOException("connection reset after the request was written"),
                new TimeoutException("no answer"))) {
            AtomicInteger attempts = new AtomicInteger();
            LeaderClient<String, String> c = LeaderClient.<String, String>builder(discovery, (l, p) -> {
                        attempts.incrementAndGet();
                        return CompletableFuture.failedFuture(maybeApplied);
                    })
                    .backoff(Duration.ofMillis(1), Duration.ofMillis(5))
                    .build();
            ExecutionException e = assertThrows(ExecutionException.class, () -> get(c.propose("x")));
            assertEquals(maybeApplied, e.getCause());
            assertEquals(1, attempts.get(), "sent once: " + maybeApplied);
            assertFalse(LeaderClient.isDefinitelyNotApplied(e), "reported as possibly applied: " + maybeApplied);
        }
    }

    @Test
    void whenTheTimeoutPassesBetweenDefiniteRefusalsTheLastRefusalIsReported() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        LeaderClient<String, String> c = LeaderClient.<String, String>builder(discovery, (l, p) -> {
                    attempts.incrementAndGet();
                    return CompletableFuture.failedFuture(new ReplicationException.NotLeaderException(""));
                })
                .timeout(Duration.ofMillis(200))
                .backoff(Duration.ofMillis(5), Duration.ofMillis(20))
                .build();
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(c.propose("x")));
        assertInstanceOf(ReplicationException.NotLeaderException.class, e.getCause());
        assertTrue(LeaderClient.isDefinitelyNotApplied(e), "the caller learns nothing was applied");
        assertTrue(attempts.get() > 1, "retried before giving up: " + attempts.get());
    }

    @Test
    void withNoLeaderNothingIsSentAndTheProposalTimesOut() throws Exception {
        try (LeaderDiscovery empty = new LeaderDiscovery(client, path + "-nobody")) {
            empty.start();
            AtomicInteger attempts = new AtomicInteger();
            LeaderClient<String, String> c = LeaderClient.<String, String>builder(empty, (LeaderInfo l, String p) -> {
                        attempts.incrementAndGet();
                        return CompletableFuture.completedFuture("sent");
                    })
                    .timeout(Duration.ofMillis(200))
                    .backoff(Duration.ofMillis(5), Duration.ofMillis(20))
                    .build();
            ExecutionException e = assertThrows(ExecutionException.class, () -> get(c.propose("x")));
            assertInstanceOf(TimeoutException.class, e.getCause());
            assertEquals(0, attempts.get());
        }
    }

    @Test
    void badSettingsAreRefusedWithAMessage() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> LeaderClient.builder(discovery, (l, p) -> CompletableFuture.completedFuture(p))
                        .timeout(Duration.ZERO));
        assertTrue(e.getMessage().contains("timeout"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> LeaderClient.builder(discovery, (l, p) -> CompletableFuture.completedFuture(p))
                        .backoff(Duration.ofSeconds(1), Duration.ofMillis(1)));
        assertThrows(NullPointerException.class, () -> LeaderClient.builder(discovery, null));
    }
}
