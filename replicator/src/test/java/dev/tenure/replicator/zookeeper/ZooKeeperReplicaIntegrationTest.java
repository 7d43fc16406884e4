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

import dev.tenure.recipes.LeaderDiscovery;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.KeyValueMachine;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicationException;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.testing.PausableTransport;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import dev.tenure.testkit.ZooKeeperProxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicas with real files and the Netty transport on loopback, elected on an in-process 3-server
 * ZooKeeper ensemble: every acknowledged write survives a leader crash, a session expiry, and a leader
 * paused past its session timeout, whose late appends are refused.
 */
@Tag("zookeeper")
class ZooKeeperReplicaIntegrationTest {
    private static final List<String> IDS = List.of("r1", "r2", "r3");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-it/" + UUID.randomUUID();
    private final Map<String, ZooKeeperReplica> nodes = new LinkedHashMap<>();
    private final Map<String, KeyValueMachine> machines = new LinkedHashMap<>();
    private final Map<String, CuratorFramework> clients = new LinkedHashMap<>();
    private final Map<String, PausableTransport> pausable = new LinkedHashMap<>();
    private ZooKeeperProxy proxy;

    @BeforeEach
    void startReplicas() throws Exception {
        proxy = zk.ensemble().newProxy();
        for (String id : IDS) {
            startNode(id);
        }
    }

    private void startNode(String id) throws Exception {
        startNode(id, zk.ensemble().clientBuilder(proxyFor(id)));
    }

    private void startNode(String id, CuratorFrameworkFactory.Builder clientBuilder) throws Exception {
        CuratorFramework client = zk.ensemble().newClient(clientBuilder.sessionTimeoutMs(3000));
        KeyValueMachine machine = new KeyValueMachine();
        ZooKeeperReplica node = ZooKeeperReplica.builder(client, clusterPath)
                .id(id)
                .members(IDS)
                .dataDir(dataDir.resolve(id))
                .endpoint("http://" + id)
                .stateMachine(machine)
                .proposalTimeout(Duration.ofSeconds(10))
                .transportWrapper(t -> {
                    PausableTransport p = new PausableTransport(t);
                    pausable.put(id, p);
                    return p;
                })
                .build();
        node.start();
        nodes.put(id, node);
        machines.put(id, machine);
        clients.put(id, client);
    }

    @SuppressWarnings("UnusedVariable") // the id names the node at the call site; one proxy serves them all
    private ZooKeeperProxy proxyFor(String id) {
        return proxy; // one proxy for all; only tests that cut it care which node it serves
    }

    @AfterEach
    void stopReplicas() {
        nodes.values().forEach(ZooKeeperReplica::close);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private String awaitLeader(String... excluding) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (Map.Entry<String, ZooKeeperReplica> e : nodes.entrySet()) {
                if (List.of(excluding).contains(e.getKey())) {
                    continue;
                }
                Replica.Status s = e.getValue().replica().status();
                if (s.role() == Role.LEADER && s.commitOffset() > 0) {
                    return e.getKey();
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException("no leader among " + nodes.keySet());
    }

    private List<String> writeAll(String leader, String prefix, int n) throws Exception {
        List<CompletableFuture<Committed>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fs.add(nodes.get(leader).replica().propose(bytes(prefix + i)));
        }
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fs.get(i).get(30, TimeUnit.SECONDS);
            acked.add(prefix + i);
        }
        return acked;
    }

    private void assertEveryReplicaApplied(List<String> acknowledged, String leader) throws Exception {
        Committed last = nodes.get(leader).replica().propose(bytes("final")).get(30, TimeUnit.SECONDS);
        for (String id : nodes.keySet()) {
            nodes.get(id).replica().awaitApplied(last.offset() + 1).get(30, TimeUnit.SECONDS);
            List<String> applied = machines.get(id).applied();
            List<String> expected = new ArrayList<>(acknowledged);
            expected.add("final");
            assertEquals(
                    expected,
                    applied.stream().filter(expected::contains).toList(),
                    "every acknowledged write, once, in order, on " + id);
            assertEquals(machines.get(leader).applied(), applied, "same sequence as the leader on " + id);
        }
    }

    @Test
    void acknowledgedWritesSurviveALeaderCrashAndTheCrashedReplicaCatchesUpAfterRestart() throws Exception {
        String leader = awaitLeader();
        List<String> acked = writeAll(leader, "a", 100);
        nodes.remove(leader).close(); // the process is gone; its files stay
        clients.get(leader).close();
        String next = awaitLeader();
        assertTrue(!next.equals(leader));
        acked.addAll(writeAll(next, "b", 100));
        startNode(leader); // restarts from its files, catches up
        assertEveryReplicaApplied(acked, next);
    }

    @Test
    void leaderWhoseSessionExpiresStepsDownAndNoAcknowledgedWriteIsLost() throws Exception {
        String leader = awaitLeader();
        List<String> acked = writeAll(leader, "a", 50);
        long epoch = nodes.get(leader).replica().status().epoch();
        zk.ensemble().expireSession(clients.get(leader));
        String next = awaitLeaderWithEpochAbove(epoch);
        acked.addAll(writeAll(next, "b", 50));
        assertEveryReplicaApplied(acked, next);
    }

    private String awaitLeaderWithEpochAbove(long epoch) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (Map.Entry<String, ZooKeeperReplica> e : nodes.entrySet()) {
                Replica.Status s = e.getValue().replica().status();
                if (s.role() == Role.LEADER && s.epoch() > epoch && s.commitOffset() > 0) {
                    return e.getKey();
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException("no leader with an epoch above " + epoch);
    }

    @Test
    void leaderPausedPastItsSessionTimeoutHasItsLateAppendsRefusedAndAcknowledgesNothing() throws Exception {
        // Only the leader reaches ZooKeeper through the proxy, so cutting it pauses the leader alone.
        nodes.values().forEach(ZooKeeperReplica::close);
        nodes.clear();
        pausable.clear();
        String zombieId = "r1";
        startNodeDirect("r2");
        startNodeDirect("r3");
        startNode(zombieId); // through the proxy
        // Make r1 the leader: the others step down until it leads.
        String leader = awaitLeader();
        while (!leader.equals(zombieId)) {
            nodes.get(leader)
                    .election()
                    .stepDown(nodes.get(leader).election().currentToken().orElseThrow(), Duration.ofSeconds(5));
            leader = awaitLeader(leader);
        }
        List<String> acked = writeAll(zombieId, "a", 50);
        long epoch = nodes.get(zombieId).replica().status().epoch();

        pausable.get(zombieId).pause(); // its replication traffic waits in buffers
        long endBefore = nodes.get(zombieId).replica().status().logEndOffset();
        List<CompletableFuture<Committed>> zombieWrites = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            zombieWrites.add(nodes.get(zombieId).replica().propose(bytes("zombie" + i)));
        }
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (nodes.get(zombieId).replica().status().logEndOffset() < endBefore + 10) {
            assertTrue(System.nanoTime() < deadline, "zombie writes never reached the zombie's log");
            Thread.sleep(5); // polling a status snapshot
        }
        proxy.cut(); // and ZooKeeper cannot reach it: its session expires
        String next = awaitLeaderWithEpochAbove(epoch);
        acked.addAll(writeAll(next, "b", 50));

        pausable.get(zombieId).resume(); // the late epoch-N appends reach the followers now
        proxy.heal();
        for (CompletableFuture<Committed> f : zombieWrites) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
            assertFalse(((ReplicationException) e.getCause()).definitelyNotApplied(), "unknown, never failed");
        }
        assertEveryReplicaApplied(acked, next);
        for (String id : nodes.keySet()) {
            assertTrue(
                    machines.get(id).applied().stream().noneMatch(p -> p.startsWith("zombie")),
                    "a zombie write was applied on " + id);
        }
    }

    private void startNodeDirect(String id) throws Exception {
        startNode(id, zk.ensemble().clientBuilder());
    }

    @Test
    void followerWithAnEmptyDiskCatchesUpWhileWritesContinue() throws Exception {
        String leader = awaitLeader();
        List<String> acked = writeAll(leader, "a", 300);
        String follower =
                IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        nodes.remove(follower).close();
        clients.get(follower).close();
        deleteRecursively(dataDir.resolve(follower).toFile());
        startNode(follower);
        acked.addAll(writeAll(leader, "b", 100)); // not stalled by the catch-up
        assertEveryReplicaApplied(acked, leader);
    }

    @Test
    void aReplicaConfiguredWithAnotherMemberSetIsRefusedAtStart() throws Exception {
        awaitLeader();
        CuratorFramework client = zk.ensemble().newClient();
        ZooKeeperReplica wrong = ZooKeeperReplica.builder(client, clusterPath)
                .id("r1")
                .members(List.of("r1", "r2", "r4"))
                .dataDir(dataDir.resolve("wrong"))
                .stateMachine(new KeyValueMachine())
                .build();
        IllegalStateException e = assertThrows(IllegalStateException.class, wrong::start);
        assertTrue(e.getMessage().contains("replica set mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("r1,r2,r3") && e.getMessage().contains("r1,r2,r4"), e.getMessage());
        wrong.close();
    }

    @Test
    void discoveryShowsTheReplicationLeaderAndItsEpoch() throws Exception {
        String leader = awaitLeader();
        try (LeaderDiscovery d = new LeaderDiscovery(zk.ensemble().newClient(), clusterPath + "/leader")) {
            d.start();
            long epoch = nodes.get(leader).replica().status().epoch();
            assertEquals(
                    Optional.of(leader),
                    Optional.of(d.awaitLeader(l -> l.epoch() == epoch, WAIT).id()));
        }
    }

    @Test
    void aFollowersRefusalNamesTheLeaderAndTheEndpointItRegistered() throws Exception {
        String leader = awaitLeader();
        String follower =
                IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        ZooKeeperReplica f = nodes.get(follower);
        f.discovery().awaitLeader(l -> l.id().equals(leader), WAIT);
        assertEquals(Optional.of("http://" + leader), f.leader().map(l -> l.endpoint()));
        ExecutionException refused = assertThrows(
                ExecutionException.class, () -> f.replica().propose(bytes("x")).get(30, TimeUnit.SECONDS));
        ReplicationException.NotLeaderException e =
                assertInstanceOf(ReplicationException.NotLeaderException.class, refused.getCause());
        assertEquals(leader, e.leaderHint());
        assertEquals("http://" + leader, e.leaderEndpoint());
        assertTrue(e.definitelyNotApplied());
        assertTrue(e.getMessage().contains("http://" + leader), e.getMessage());
    }

    @Test
    void leaderClientSendsToTheLeaderAndAfterItsCrashToTheNextWithEveryWriteAppliedOnce() throws Exception {
        String leader = awaitLeader();
        String follower =
                IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        List<String> sentTo = new java.util.concurrent.CopyOnWriteArrayList<>();
        Map<String, ZooKeeperReplica> live = new java.util.concurrent.ConcurrentHashMap<>(nodes);
        // The application's client protocol, in process: the endpoint "http://ID" names replica ID; a closed one
        // refuses the connection, as a dead process's port does.
        LeaderClient<String, Long> client = LeaderClient.<String, Long>builder(
                        nodes.get(follower).discovery(), (l, value) -> {
                            String id = l.endpoint().substring("http://".length());
                            sentTo.add(id);
                            ZooKeeperReplica target = live.get(id);
                            if (target == null) {
                                return CompletableFuture.failedFuture(new java.net.ConnectException("refused: " + id));
                            }
                            return target.replica().propose(bytes(value)).thenApply(Committed::offset);
                        })
                .timeout(WAIT)
                .build();
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            client.propose("c" + i).toCompletableFuture().get(30, TimeUnit.SECONDS);
            acked.add("c" + i);
        }
        assertEquals(List.of(leader), sentTo.stream().distinct().toList(), "every proposal went to the leader");
        live.remove(leader);
        nodes.remove(leader).close();
        clients.get(leader).close();
        for (int i = 0; i < 10; i++) {
            client.propose("d" + i).toCompletableFuture().get(30, TimeUnit.SECONDS);
            acked.add("d" + i);
        }
        String next = awaitLeader();
        assertFalse(next.equals(leader));
        assertEquals(next, sentTo.get(sentTo.size() - 1), "the last proposals went to the new leader");
        assertEveryReplicaApplied(acked, next);
    }

    private static void deleteRecursively(java.io.File f) {
        java.io.File[] children = f.listFiles();
        if (children != null) {
            for (java.io.File c : children) {
                deleteRecursively(c);
            }
        }
        f.delete();
    }
}
