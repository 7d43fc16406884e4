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

import dev.tenure.replicator.ReplicationException.ReplicaFailedException;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.zookeeper.ZooKeeperReplica;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicas with real files and the Netty transport on loopback, elected on an in-process ZooKeeper
 * ensemble, where one replica cannot do its job: it was elected while its replication links were cut, or its
 * state machine throws. It must get out of the way (issue 12, defects 2 and 6).
 */
@Tag("zookeeper")
class ReplicaFailureIntegrationTest {
    private static final List<String> IDS = List.of("r1", "r2", "r3");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-failure-it/" + UUID.randomUUID();
    private final Map<String, ZooKeeperReplica> nodes = new LinkedHashMap<>();
    private final Map<String, ThrowingMachine> machines = new LinkedHashMap<>();
    private final Map<String, AtomicReference<Throwable>> failures = new LinkedHashMap<>();
    private final CutLinks links = new CutLinks();

    /** Records applied payloads; once armed, throws on the n-th entry it applies after arming. */
    static final class ThrowingMachine implements StateMachine {
        private final List<String> applied = new ArrayList<>();
        private final AtomicInteger throwOnNth = new AtomicInteger(-1);

        @Override
        public synchronized Object apply(long epoch, long offset, byte[] payload) {
            if (throwOnNth.get() > 0 && throwOnNth.decrementAndGet() == 0) {
                throw new IllegalArgumentException("cannot apply the entry at offset " + offset);
            }
            applied.add(new String(payload, StandardCharsets.UTF_8));
            return offset;
        }

        void throwOnNth(int n) {
            throwOnNth.set(n);
        }

        synchronized List<String> applied() {
            return List.copyOf(applied);
        }
    }

    private void startNode(String id) throws Exception {
        CuratorFramework client =
                zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(3000));
        ThrowingMachine machine = new ThrowingMachine();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        ZooKeeperReplica node = ZooKeeperReplica.builder(client, clusterPath)
                .id(id)
                .members(IDS)
                .dataDir(dataDir.resolve(id))
                .endpoint("http://" + id)
                .stateMachine(machine)
                .tuning(c -> c.checkQuorum(Duration.ofSeconds(1)))
                .transportWrapper(links::wrap)
                .listener(new ReplicaListener() {
                    @Override
                    public void failed(Throwable reason) {
                        failure.set(reason);
                    }
                })
                .build();
        nodes.put(id, node);
        machines.put(id, machine);
        failures.put(id, failure);
        node.start();
    }

    @AfterEach
    void stopReplicas() {
        nodes.values().forEach(ZooKeeperReplica::close);
    }

    private String await(Predicate<Replica.Status> condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (Map.Entry<String, ZooKeeperReplica> e : nodes.entrySet()) {
                if (condition.test(e.getValue().replica().status())) {
                    return e.getKey();
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        List<Replica.Status> all = new ArrayList<>();
        nodes.values().forEach(n -> all.add(n.replica().status()));
        throw new TimeoutException("no replica is " + what + ": " + all);
    }

    private static boolean leading(Replica.Status s) {
        return s.role() == Role.LEADER && s.commitOffset() > 0;
    }

    @Test
    void replicaElectedWithItsLinksCutGivesUpAndTheOtherTwoElectOneOfThem() throws Exception {
        links.isolate("r1", IDS);
        startNode("r1"); // alone in the election: elected, but it can reach no peer
        await(s -> s.id().equals("r1") && s.role() == Role.RECOVERING, "r1 recovering");
        startNode("r2");
        startNode("r3");
        String leader = await(ReplicaFailureIntegrationTest::leading, "leading");
        assertTrue(List.of("r2", "r3").contains(leader), "the leader is " + leader);
        Committed c = nodes.get(leader)
                .replica()
                .propose("x".getBytes(StandardCharsets.UTF_8))
                .get(30, TimeUnit.SECONDS);
        assertTrue(c.offset() > 0);
        assertFalse(leading(nodes.get("r1").replica().status()));
    }

    @Test
    void stateMachineThatThrowsStopsItsReplicaAndAnotherLeads() throws Exception {
        for (String id : IDS) {
            startNode(id);
        }
        String leader = await(ReplicaFailureIntegrationTest::leading, "leading");
        Replica replica = nodes.get(leader).replica();
        CompletableFuture<Long> pendingWait = replica.awaitApplied(1_000_000); // waiting when the replica fails
        machines.get(leader).throwOnNth(5);
        List<CompletableFuture<Committed>> writes = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(20);
        for (int i = 0; i < 20; i++) {
            CompletableFuture<Committed> f = replica.propose(("w" + i).getBytes(StandardCharsets.UTF_8));
            CompletableFuture<Committed> unused = f.whenComplete((r, e) -> done.countDown());
            writes.add(f);
        }
        assertTrue(done.await(30, TimeUnit.SECONDS), "proposals still pending on the failed replica");
        for (int i = 0; i < writes.size(); i++) {
            if (i < 4) {
                writes.get(i).get(); // applied before the state machine threw
                continue;
            }
            ExecutionException e = assertThrows(ExecutionException.class, writes.get(i)::get);
            ReplicaFailedException rf = assertInstanceOf(ReplicaFailedException.class, e.getCause());
            if (i == 4) {
                // Committed (the followers applied it) but not applied here: never reported as not applied.
                assertFalse(rf.definitelyNotApplied(), "the entry the state machine threw on");
            }
        }
        assertEquals(4, machines.get(leader).applied().size(), "applied after the throw");

        Replica.Status s = replica.status();
        assertEquals(Role.FAILED, s.role());
        assertTrue(s.failure().contains("state machine threw"), s.failure());
        assertTrue(replica.failure().isPresent());
        assertTrue(failures.get(leader).get() != null, "the listener was told");
        CompletableFuture<Committed> late = replica.propose("late".getBytes(StandardCharsets.UTF_8));
        ExecutionException e = assertThrows(ExecutionException.class, late::get);
        assertTrue(assertInstanceOf(ReplicaFailedException.class, e.getCause()).definitelyNotApplied());

        for (CompletableFuture<Long> wait :
                List.of(pendingWait, replica.readBarrier(), replica.awaitApplied(1_000_000))) {
            ExecutionException w = assertThrows(ExecutionException.class, () -> wait.get(10, TimeUnit.SECONDS));
            assertTrue(
                    assertInstanceOf(ReplicaFailedException.class, w.getCause()).definitelyNotApplied());
        }

        String next = await(st -> !st.id().equals(leader) && leading(st), "leading in its place");
        Replica.Status ns = nodes.get(next).replica().status();
        assertTrue(ns.epoch() > s.epoch(), "a new epoch: " + ns.epoch() + " after " + s.epoch());
        nodes.get(next)
                .replica()
                .propose("after".getBytes(StandardCharsets.UTF_8))
                .get(30, TimeUnit.SECONDS);
    }
}
