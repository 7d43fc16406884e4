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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.PartitionSets;
import dev.tenure.controller.wire.ControlCodec;
import dev.tenure.controller.wire.ControlMessage;
import dev.tenure.controller.zookeeper.ControllerPaths;
import dev.tenure.controller.zookeeper.NodeRegistrar;
import dev.tenure.controller.zookeeper.PartitionSetRecord;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a {@link Controller} sends when it takes office, on a real ZooKeeper ensemble, with registered nodes whose
 * control messages are captured instead of delivered (docs/controller.md, rule 14).
 */
@Tag("zookeeper")
@Timeout(120)
class ControllerTakingOfficeTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private final String clusterPath = "/tenure-office/" + UUID.randomUUID();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                // closing what a test left
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            TimeUnit.MILLISECONDS.sleep(20); // polling a condition, with a deadline
        }
    }

    private Controller controller(CuratorFramework client, String id, ConcurrentLinkedQueue<String> sent)
            throws Exception {
        Controller c = Controller.builder(client, clusterPath)
                .nodeId(id)
                .sender((to, body) -> {
                    try {
                        ControlMessage m = ControlCodec.decode(body);
                        if (m instanceof ControlMessage.Assignment a) {
                            sent.add(to + " assignment "
                                    + String.join(",", a.request().partitions().keySet()) + ",");
                        } else if (m instanceof ControlMessage.StopReplicas s) {
                            sent.add(to + " stop " + s.partitions());
                        }
                    } catch (ControlCodec.MalformedControlMessageException e) {
                        throw new AssertionError(e);
                    }
                })
                .assignmentRetry(Duration.ofSeconds(30))
                .rebalanceInterval(Duration.ZERO)
                .build();
        c.start();
        return c;
    }

    @Test
    void aControllerClosedWhileZooKeeperIsUnreachableClosesWithinSeconds() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        open.add(client);
        Controller c = controller(client, "c1", new ConcurrentLinkedQueue<>());
        open.add(c);
        await(() -> c.status().active(), "c1 in office");
        zk.ensemble().stopAll(); // restarted after the test
        await(() -> !client.getZookeeperClient().isConnected(), "the client is disconnected");
        long started = System.nanoTime();
        c.close(); // its thread's read of the partition sets waited for the connection: the whole 10 s of the close
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(tookMs < 3_000, "close took " + tookMs + " ms while ZooKeeper was down");
        assertFalse(c.status().active(), "out of office once closed");
    }

    @Test
    void aControllerTakingOfficeAssignsNoPartitionBeingDeleted() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        open.add(client);
        for (String id : IDS) {
            NodeRegistrar r = NodeRegistrar.builder(client, clusterPath)
                    .nodeId(id)
                    .endpoint("127.0.0.1:1")
                    .build();
            r.start();
            open.add(r);
        }
        Controller first = controller(client, "c1", new ConcurrentLinkedQueue<>());
        open.add(first);
        await(() -> first.status().active() && first.status().nodes().size() == 3, "c1 in office, seeing 3 nodes");
        ControllerAdmin admin = ControllerAdmin.builder(client, clusterPath).build();
        open.add(admin);
        ControllerAdmin.PartitionSetDescription d =
                admin.createPartitionSet("orders", 3, 3, Map.of()).get(60, TimeUnit.SECONDS);
        first.close();

        // What a controller that died as it began a deletion leaves: the set DELETING, no replica told yet (the
        // nodes could as well have deleted theirs, told by it).
        String setPath = ControllerPaths.partitionSet(clusterPath, "orders");
        int version = client.checkExists().forPath(setPath).getVersion();
        client.setData()
                .withVersion(version)
                .forPath(
                        setPath,
                        PartitionSetRecord.encode(new PartitionSets.SetRecord(
                                d.set(),
                                PartitionSets.Status.DELETING,
                                List.copyOf(d.replicaSets().values()))));

        ConcurrentLinkedQueue<String> sent = new ConcurrentLinkedQueue<>();
        Controller second = controller(client, "c2", sent);
        open.add(second);
        Set<String> deleting = new TreeSet<>(d.set().partitionIds());
        await(
                () -> IDS.stream().allMatch(n -> sent.stream().anyMatch(m -> m.startsWith(n + " stop "))),
                "every node asked to delete its replicas: " + sent);
        for (String m : sent) {
            if (m.contains(" assignment ")) {
                for (String p : deleting) {
                    assertTrue(
                            !m.contains(" " + p + ",") && !m.contains("," + p + ","),
                            "a partition being deleted was assigned: " + m + " (all sent: " + sent + ")");
                }
            }
        }
        assertEquals(3, sent.stream().filter(m -> m.contains(" stop ")).count(), "one request per node: " + sent);
    }
}
