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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.KeyValueMachine;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.testing.PausableTransport;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast failover on ZooKeeper (docs/replication.md, "Fast failover"): three replicas with real files and Netty on
 * loopback. A leader frozen with its ZooKeeper session alive (its replication traffic held in both directions, as a
 * stopped process's sockets would; its Curator client keeps the session) is deposed by the majority that lost it and
 * replaced well before its session could expire, with every acknowledged write kept; one follower cut off from a
 * healthy leader suspects it but never deposes it; with fast failover off nothing is suspected.
 */
@Tag("zookeeper")
class FastFailoverIntegrationTest {
    private static final List<String> IDS = List.of("r1", "r2", "r3");
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Long, so that only fast failover can explain a quick replacement of a leader whose session lives. */
    private static final int SESSION_MS = 10_000;

    private static final FastFailover FAST =
            FastFailover.of(Duration.ofMillis(600), Duration.ofMillis(500), Duration.ofSeconds(1));

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-ff/" + UUID.randomUUID();
    private final Map<String, ZooKeeperReplica> nodes = new LinkedHashMap<>();
    private final Map<String, KeyValueMachine> machines = new LinkedHashMap<>();
    private final Map<String, PausableTransport> pausable = new LinkedHashMap<>();
    private final List<CuratorFramework> clients = new ArrayList<>();

    private void startAll(FastFailover failover) throws Exception {
        for (String id : IDS) {
            CuratorFramework client =
                    zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(SESSION_MS));
            clients.add(client);
            KeyValueMachine machine = new KeyValueMachine();
            ZooKeeperReplica node = ZooKeeperReplica.builder(client, clusterPath)
                    .id(id)
                    .members(IDS)
                    .dataDir(dataDir.resolve(id))
                    .stateMachine(machine)
                    .fastFailover(failover)
                    .transportWrapper(t -> {
                        PausableTransport p = new PausableTransport(t);
                        pausable.put(id, p);
                        return p;
                    })
                    .build();
            node.start();
            nodes.put(id, node);
            machines.put(id, machine);
        }
    }

    @AfterEach
    void stop() {
        pausable.values().forEach(PausableTransport::resume);
        nodes.values().forEach(ZooKeeperReplica::close);
        clients.forEach(CuratorFramework::close);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void await(BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(what);
            }
            Thread.sleep(5); // polling status snapshots
        }
    }

    /** The replica leading with a committed epoch start and an epoch above {@code epoch}, or null. */
    private String leaderAbove(long epoch, String excluding) {
        for (Map.Entry<String, ZooKeeperReplica> e : nodes.entrySet()) {
            Replica.Status s = e.getValue().replica().status();
            if (!e.getKey().equals(excluding) && s.role() == Role.LEADER && s.epoch() > epoch && s.commitOffset() > 0) {
                return e.getKey();
            }
        }
        return null;
    }

    private String awaitLeader() throws Exception {
        await(() -> leaderAbove(0, "") != null, "a leader");
        return leaderAbove(0, "");
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
            List<String> expected = new ArrayList<>(acknowledged);
            expected.add("final");
            List<String> applied = machines.get(id).applied();
            assertEquals(
                    expected, applied.stream().filter(expected::contains).toList(), "acknowledged writes on " + id);
            assertEquals(machines.get(leader).applied(), applied, "same sequence as the leader on " + id);
        }
    }

    private List<String> suspicionsOf(long epoch) throws Exception {
        String electionPath = ZooKeeperRegistry.electionPath(clusterPath);
        String parent = FencedLeaderElection.suspicionsPath(electionPath) + "/" + String.format("%020d", epoch);
        CuratorFramework client = clients.get(0);
        return client.checkExists().forPath(parent) == null
                ? List.of()
                : client.getChildren().forPath(parent).stream().sorted().toList();
    }

    @Test
    void aFrozenLeaderWithALiveSessionIsReplacedWellBeforeTheSessionTimeoutAndNoAcknowledgedWriteIsLost()
            throws Exception {
        startAll(FAST);
        String leader = awaitLeader();
        assertEquals(Duration.ofMillis(600), nodes.get(leader).fastFailover().suspicionTimeout());
        List<String> acked = writeAll(leader, "a", 100);
        long epoch = nodes.get(leader).replica().status().epoch();
        long frozenAt = System.nanoTime();
        pausable.get(leader).pause(); // the process stops answering; its ZooKeeper session lives on
        await(() -> leaderAbove(epoch, leader) != null, "a new leader");
        String next = leaderAbove(epoch, leader);
        acked.addAll(writeAll(next, "b", 1));
        long tookMs = (System.nanoTime() - frozenAt) / 1_000_000;
        System.out.println("fast failover: a write committed by the new leader " + tookMs + " ms after the freeze"
                + " (session timeout " + SESSION_MS + " ms)");
        assertTrue(tookMs < SESSION_MS / 2, "replaced in " + tookMs + " ms, not well before the session timeout");
        acked.addAll(writeAll(next, "c", 100));

        pausable.get(leader).resume(); // the deposed leader wakes: it is fenced like any zombie and follows
        await(
                () -> nodes.get(leader).replica().status().role() == Role.FOLLOWER
                        && nodes.get(leader).replica().status().epoch()
                                >= nodes.get(next).replica().status().epoch(),
                "the deposed leader follows the new epoch");
        assertEveryReplicaApplied(acked, next);
        // It campaigns again: the next leader that steps down can hand over to it.
        await(() -> nodes.get(leader).discovery().participants().contains(leader), "the deposed leader rejoined");
    }

    @Test
    void aFollowerCutOffFromAHealthyLeaderSuspectsItButNeverDeposesIt() throws Exception {
        startAll(FAST);
        String leader = awaitLeader();
        long epoch = nodes.get(leader).replica().status().epoch();
        String cutOff =
                IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        pausable.get(cutOff).pause();
        await(
                () -> {
                    try {
                        return suspicionsOf(epoch).contains(cutOff);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                },
                "the cut-off follower records its suspicion");
        List<String> acked = new ArrayList<>();
        for (int round = 0; round < 10; round++) { // ten suspicion timeouts and more
            acked.addAll(writeAll(leader, "w" + round + "-", 10));
            Thread.sleep(300); // time passing is what is tested: the suspicion must not turn into a depose
        }
        Replica.Status s = nodes.get(leader).replica().status();
        assertEquals(Role.LEADER, s.role(), "the healthy leader still leads");
        assertEquals(epoch, s.epoch(), "no new epoch was minted");
        assertEquals(List.of(cutOff), suspicionsOf(epoch), "one suspicion, the cut-off follower's");
        pausable.get(cutOff).resume();
        await(
                () -> {
                    try {
                        return suspicionsOf(epoch).isEmpty();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                },
                "the suspicion is withdrawn once the follower hears the leader again");
        assertEveryReplicaApplied(acked, leader);
    }

    @Test
    void withFastFailoverOffAFrozenLeaderIsNeitherSuspectedNorDeposed() throws Exception {
        startAll(FastFailover.off());
        String leader = awaitLeader();
        assertFalse(nodes.get(leader).fastFailover().enabled());
        long epoch = nodes.get(leader).replica().status().epoch();
        pausable.get(leader).pause();
        Thread.sleep(3_000); // five times the suspicion timeout fast failover would use: nothing may happen
        assertEquals(List.of(), suspicionsOf(epoch));
        assertEquals(null, leaderAbove(epoch, leader), "no new leader while the frozen one's session lives");
        assertEquals(
                epoch, FencedLeaderElection.latestEpoch(clients.get(0), ZooKeeperRegistry.electionPath(clusterPath)));
    }
}
