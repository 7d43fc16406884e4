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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.KeyValueMachine;
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
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fast failover on nodes hosting partitions (one election per partition, docs/replication.md, "Fast failover"): idle,
 * quiet partitions whose leaders' nodes keep pinging are never suspected, and a node whose sockets die while its
 * ZooKeeper session lives loses the leadership of every partition it led well before the session could expire.
 */
@Tag("zookeeper")
class ZooKeeperNodeFastFailoverTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int SESSION_MS = 10_000;
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-nodes-ff/" + UUID.randomUUID();
    private final Map<String, ZooKeeperNode> nodes = new LinkedHashMap<>();
    private final List<CuratorFramework> clients = new ArrayList<>();
    private final Map<String, List<String>> layout = new LinkedHashMap<>();

    @AfterEach
    void closeNodes() {
        nodes.values().forEach(ZooKeeperNode::close);
        clients.forEach(CuratorFramework::close);
    }

    private void startNodes() throws Exception {
        for (int i = 0; i < 6; i++) {
            layout.put("p" + i, List.of(IDS.get(i % 3), IDS.get((i + 1) % 3), IDS.get((i + 2) % 3)));
        }
        for (String id : IDS) {
            CuratorFramework client =
                    zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(SESSION_MS));
            clients.add(client);
            ZooKeeperNode node = ZooKeeperNode.builder(client, clusterPath)
                    .id(id)
                    .dataDir(dataDir.resolve(id))
                    .threads(2, 2)
                    .rebalanceInterval(Duration.ofMillis(200))
                    .fastFailover(
                            FastFailover.of(Duration.ofMillis(800), Duration.ofMillis(500), Duration.ofSeconds(1)))
                    .build();
            node.start();
            nodes.put(id, node);
        }
        for (String id : IDS) {
            for (Map.Entry<String, List<String>> e : layout.entrySet()) {
                nodes.get(id).open(e.getKey(), e.getValue(), new KeyValueMachine());
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            TimeUnit.MILLISECONDS.sleep(5); // polling a condition, with a deadline
        }
    }

    private void awaitPreferredLeaders() throws InterruptedException {
        await(
                () -> layout.entrySet().stream()
                        .allMatch(e -> nodes.get(e.getValue().get(0)).leading().contains(e.getKey())),
                "every partition is led by its preferred node");
    }

    private Map<String, Long> epochs() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String p : layout.keySet()) {
            for (ZooKeeperNode n : nodes.values()) {
                if (n.leading().contains(p)) {
                    m.put(p, n.replica(p).status().epoch());
                }
            }
        }
        return m;
    }

    private void writeOneEverywhere(String prefix) throws Exception {
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (String p : layout.keySet()) {
            for (ZooKeeperNode n : nodes.values()) {
                if (n.leading().contains(p)) {
                    writes.add(n.propose(p, (prefix + p).getBytes(StandardCharsets.UTF_8)));
                }
            }
        }
        for (CompletableFuture<?> w : writes) {
            w.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    void quietPartitionsWhoseLeadersNodesKeepPingingAreNeverDeposed() throws Exception {
        startNodes();
        awaitPreferredLeaders();
        writeOneEverywhere("w");
        Map<String, Long> before = epochs();
        assertEquals(layout.size(), before.size());
        TimeUnit.MILLISECONDS.sleep(4_000); // five suspicion timeouts of idle partitions: time passing is the test
        assertEquals(before, epochs(), "no partition changed leader or epoch while idle");
    }

    @Test
    void aNodeWhoseSocketsDieWithItsSessionAliveLosesEveryPartitionItLedWellBeforeTheSessionTimeout() throws Exception {
        startNodes();
        awaitPreferredLeaders();
        writeOneEverywhere("a");
        ZooKeeperNode dying = nodes.get("n1");
        List<String> led = List.copyOf(dying.leading());
        assertEquals(2, led.size(), "n1 leads two partitions");
        Map<String, Long> before = epochs();
        long killedAt = System.nanoTime();
        dying.transport().close(); // its port refuses connections; its replicas, elections and session live on
        await(
                () -> led.stream()
                        .allMatch(p -> nodes.get("n2").leading().contains(p)
                                || nodes.get("n3").leading().contains(p)),
                "n1's partitions are led elsewhere");
        for (String p : led) {
            ZooKeeperNode next = nodes.get("n2").leading().contains(p) ? nodes.get("n2") : nodes.get("n3");
            assertTrue(next.replica(p).status().epoch() > before.get(p), p + " has a newer epoch");
            next.propose(p, ("b" + p).getBytes(StandardCharsets.UTF_8)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        long tookMs = (System.nanoTime() - killedAt) / 1_000_000;
        System.out.println("fast failover on nodes: " + led.size() + " partitions committed under new leaders " + tookMs
                + " ms after their node's sockets died (session timeout " + SESSION_MS + " ms)");
        assertTrue(tookMs < SESSION_MS / 2, "took " + tookMs + " ms");
    }
}
