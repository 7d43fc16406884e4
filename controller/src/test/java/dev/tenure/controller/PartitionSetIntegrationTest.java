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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.PartitionSet;
import dev.tenure.controller.core.PartitionSets;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.zookeeper.ControllerPaths;
import dev.tenure.controller.zookeeper.PartitionSetRecord;
import dev.tenure.controller.zookeeper.PartitionStateRecord;
import dev.tenure.replicator.KeyValueMachine;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.zookeeper.ZooKeeperConfiguration;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partition sets created and deleted through the controller ({@link ControllerAdmin}), on a real ZooKeeper ensemble,
 * real sockets and files: three {@link ControllerNode}s that open their partitions through a {@link PartitionFactory}.
 */
@Tag("zookeeper")
@Timeout(180)
class PartitionSetIntegrationTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-sets/" + UUID.randomUUID();
    private final Map<String, ControllerNode> nodes = new LinkedHashMap<>();
    private final Map<String, CuratorFramework> clients = new HashMap<>();
    private final Map<String, Map<String, KeyValueMachine>> machines = new HashMap<>();
    private CuratorFramework adminClient;
    private ControllerAdmin admin;

    @AfterEach
    void closeAll() {
        if (admin != null) {
            admin.close();
        }
        nodes.values().forEach(n -> {
            try {
                n.close();
            } catch (RuntimeException e) {
                // closing what a test left
            }
        });
    }

    private ControllerNode start(String id) throws Exception {
        CuratorFramework client =
                zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(4000));
        Map<String, KeyValueMachine> mine = new java.util.concurrent.ConcurrentHashMap<>();
        machines.put(id, mine);
        ControllerNode node = ControllerNode.builder(client, clusterPath)
                .id(id)
                .dataDir(dataDir.resolve(id))
                .shutdownTimeout(Duration.ofSeconds(5))
                .partitionFactory((p, set) -> {
                    KeyValueMachine m = new KeyValueMachine();
                    mine.put(p, m);
                    return m;
                })
                .node(b -> b.threads(2, 2))
                .controller(c -> c.assignmentRetry(Duration.ofMillis(500)).rebalanceInterval(Duration.ZERO))
                .build();
        node.start();
        nodes.put(id, node);
        clients.put(id, client);
        return node;
    }

    private void startAll() throws Exception {
        for (String id : IDS) {
            start(id);
        }
        adminClient = zk.ensemble().newClient(zk.ensemble().clientBuilder());
        admin = ControllerAdmin.builder(adminClient, clusterPath).build();
        await(
                () -> controller() != null
                        && controller().controller().status().nodes().size() == 3,
                "a controller seeing 3 nodes");
    }

    private ControllerNode controller() {
        return nodes.values().stream()
                .filter(n -> n.controller().status().active())
                .findFirst()
                .orElse(null);
    }

    /** A node that dies: its session is closed under it and it stops without a controlled shutdown. */
    private void crash(String id) throws Exception {
        ControllerNode n = nodes.remove(id);
        clients.get(id).close();
        n.closeWithoutHandOver();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            TimeUnit.MILLISECONDS.sleep(20); // polling a condition, with a deadline
        }
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** Who leads each partition now: the node whose replica is in the LEADER role. */
    private Map<String, String> leaders() {
        Map<String, String> leaders = new HashMap<>();
        nodes.forEach((id, n) -> n.node().partitions().forEach((p, part) -> {
            if (part.replica().status().role() == Role.LEADER) {
                leaders.put(p, id);
            }
        }));
        return leaders;
    }

    /** Writes one entry to each partition of the set through its leader, and checks every replica applies it. */
    private void writeToEvery(ControllerAdmin.PartitionSetDescription set, String tag) throws Exception {
        for (Map.Entry<String, List<String>> ps : set.replicaSets().entrySet()) {
            String p = ps.getKey();
            String payload = p + "-" + tag;
            for (int attempt = 0; ; attempt++) {
                await(() -> leaders().containsKey(p), p + " is led");
                try {
                    get(nodes.get(leaders().get(p)).node().propose(p, payload.getBytes(StandardCharsets.UTF_8)));
                    break;
                } catch (ExecutionException e) {
                    assertTrue(attempt < 50, "no leader of " + p + " took " + payload + ": " + e);
                    TimeUnit.MILLISECONDS.sleep(50); // a change of leader in progress: ask again
                }
            }
            for (String id : ps.getValue()) {
                await(
                        () -> machines.get(id).containsKey(p)
                                && machines.get(id).get(p).applied().contains(payload),
                        id + " applied " + payload);
            }
        }
    }

    private static int spread(Map<String, Integer> counts) {
        int max = 0;
        int min = Integer.MAX_VALUE;
        for (String id : IDS) {
            max = Math.max(max, counts.getOrDefault(id, 0));
            min = Math.min(min, counts.getOrDefault(id, 0));
        }
        return max - min;
    }

    private boolean exists(String path) {
        try {
            return adminClient.checkExists().forPath(path) != null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aSetOfTwelvePartitionsOfThreeReplicasOnThreeNodesIsLedEverywhereWithLeadersSpreadEvenlyAndTakesWrites()
            throws Exception {
        startAll();
        ControllerAdmin.PartitionSetDescription d = get(admin.createPartitionSet("orders", 12, 3, Map.of("k", "v")));
        assertEquals(PartitionSets.Status.CREATED, d.status());
        assertTrue(d.everyPartitionLed());
        assertEquals(Map.of("k", "v"), d.set().settings());
        List<String> ids = new PartitionSet("orders", 12, 3, Map.of()).partitionIds();
        Map<String, Integer> named = new HashMap<>();
        d.states().values().forEach(s -> named.merge(s.leader().orElseThrow(), 1, Integer::sum));
        assertTrue(spread(named) <= 1, "leaders named in ZooKeeper: " + named);
        await(() -> leaders().keySet().containsAll(ids), "every partition led by a replica: " + leaders());
        Map<String, Integer> leading = new HashMap<>();
        leaders().values().forEach(n -> leading.merge(n, 1, Integer::sum));
        assertTrue(spread(leading) <= 1, "replicas leading: " + leading);
        for (ControllerNode n : nodes.values()) {
            assertTrue(n.node().partitions().keySet().containsAll(ids), n + " hosts every partition");
        }
        writeToEvery(d, "a");
        assertEquals(
                Map.of("orders", d.set()),
                Map.of("orders", get(admin.listPartitionSets()).get("orders").set()));
    }

    @Test
    void deletingASetClosesEveryReplicaAndRemovesItsDataAndZooKeeperNodes() throws Exception {
        startAll();
        ControllerAdmin.PartitionSetDescription orders = get(admin.createPartitionSet("orders", 6, 3, Map.of()));
        ControllerAdmin.PartitionSetDescription other = get(admin.createPartitionSet("other", 2, 2, Map.of()));
        List<String> ids = orders.set().partitionIds();
        writeToEvery(orders, "a");
        for (String id : IDS) {
            assertTrue(Files.exists(dataDir.resolve(id).resolve("partitions").resolve("orders-0")), id + " has data");
        }
        get(admin.deletePartitionSet("orders"));
        for (String id : IDS) {
            for (String p : ids) {
                assertFalse(nodes.get(id).node().partition(p).isPresent(), id + " closed " + p);
                assertFalse(
                        Files.exists(dataDir.resolve(id).resolve("partitions").resolve(p)), id + " deleted " + p);
            }
        }
        for (String p : ids) {
            assertFalse(exists(ControllerPaths.partition(clusterPath, p)), p + " is gone from ZooKeeper");
        }
        assertFalse(exists(ControllerPaths.partitionSet(clusterPath, "orders")));
        assertEquals(
                List.of("other"), List.copyOf(get(admin.listPartitionSets()).keySet()), "the other set stays");
        writeToEvery(other, "b");
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(admin.describe("orders")));
        assertTrue(e.getCause() instanceof NoSuchElementException, e.toString());
        assertEquals(
                6,
                get(admin.createPartitionSet("orders", 6, 3, Map.of())).states().size(),
                "the name is free");
    }

    @Test
    void aControllerThatTakesOfficeFinishesACreationItsPredecessorLeftHalfDone() throws Exception {
        // What a controller that died mid-creation leaves: the set recorded CREATING, 5 of its 9 partitions created.
        CuratorFramework seed = zk.ensemble().newClient(zk.ensemble().clientBuilder());
        PartitionSet set = new PartitionSet("half", 9, 3, Map.of());
        List<List<String>> placement =
                dev.tenure.controller.core.PartitionPlacement.place(IDS, 9, 3, Map.of(), Map.of(), 0);
        PartitionSets.SetRecord record = new PartitionSets.SetRecord(set, PartitionSets.Status.CREATING, placement);
        seed.create()
                .creatingParentsIfNeeded()
                .forPath(ControllerPaths.partitionSet(clusterPath, "half"), PartitionSetRecord.encode(record));
        for (int i = 0; i < 5; i++) {
            String p = set.partitionIds().get(i);
            seed.create()
                    .creatingParentsIfNeeded()
                    .withMode(CreateMode.PERSISTENT)
                    .forPath(
                            ControllerPaths.partition(clusterPath, p) + "/configuration",
                            ZooKeeperConfiguration.initialRecord(placement.get(i)));
            seed.create()
                    .forPath(
                            ControllerPaths.partitionState(clusterPath, p),
                            PartitionStateRecord.encode(PartitionState.initial(placement.get(i), 1)));
        }
        seed.close();
        startAll();
        await(
                () -> {
                    try {
                        ControllerAdmin.PartitionSetDescription d = get(admin.describe("half"));
                        return d.status() == PartitionSets.Status.CREATED && d.everyPartitionLed();
                    } catch (Exception e) {
                        return false;
                    }
                },
                "the set is created and every partition led");
        writeToEvery(get(admin.describe("half")), "a");
    }

    @Test
    void aControllerKilledDuringACreationLeavesTheNextControllerToFinishIt() throws Exception {
        startAll();
        String first = controller().toString();
        CompletableFuture<ControllerAdmin.PartitionSetDescription> creating =
                admin.createPartitionSet("orders", 12, 3, Map.of());
        await(() -> exists(ControllerPaths.partitionSet(clusterPath, "orders")), "the set is recorded");
        String dead = controller().node().id();
        crash(dead);
        ControllerAdmin.PartitionSetDescription d = get(creating);
        start(dead); // its replicas open once it is back
        assertTrue(d.everyPartitionLed());
        await(() -> controller() != null && !controller().toString().equals(first), "another controller");
        writeToEvery(d, "a");
    }

    @Test
    void aControllerThatTakesOfficeFinishesADeletionItsPredecessorLeftHalfDone() throws Exception {
        startAll();
        ControllerAdmin.PartitionSetDescription d = get(admin.createPartitionSet("orders", 6, 3, Map.of()));
        writeToEvery(d, "a");
        for (String id : IDS) {
            crash(id);
        }
        // What a controller that died mid-deletion leaves: the set DELETING, the replicas not told yet.
        int version = adminClient
                .checkExists()
                .forPath(ControllerPaths.partitionSet(clusterPath, "orders"))
                .getVersion();
        PartitionSets.SetRecord deleting = new PartitionSets.SetRecord(
                d.set(),
                PartitionSets.Status.DELETING,
                List.copyOf(d.replicaSets().values()));
        adminClient
                .setData()
                .withVersion(version)
                .forPath(ControllerPaths.partitionSet(clusterPath, "orders"), PartitionSetRecord.encode(deleting));
        for (String id : IDS) {
            start(id);
        }
        get(admin.deletePartitionSet("orders"));
        for (String id : IDS) {
            for (String p : d.set().partitionIds()) {
                assertFalse(
                        Files.exists(dataDir.resolve(id).resolve("partitions").resolve(p)), id + " deleted " + p);
            }
        }
        for (String p : d.set().partitionIds()) {
            assertFalse(exists(ControllerPaths.partition(clusterPath, p)), p + " is gone from ZooKeeper");
        }
    }

    @Test
    void aControllerKilledDuringADeletionLeavesTheNextControllerToFinishIt() throws Exception {
        startAll();
        ControllerAdmin.PartitionSetDescription d = get(admin.createPartitionSet("orders", 12, 3, Map.of()));
        writeToEvery(d, "a");
        CompletableFuture<Void> deleting = admin.deletePartitionSet("orders");
        await(
                () -> {
                    try {
                        return get(admin.describe("orders")).status() == PartitionSets.Status.DELETING;
                    } catch (Exception e) {
                        return true; // gone already
                    }
                },
                "the set is marked deleting");
        String dead = controller() == null ? "n1" : controller().node().id();
        crash(dead);
        start(dead); // the replicas it holds must be deleted too: the deletion waits for it
        get(deleting);
        for (String id : IDS) {
            for (String p : d.set().partitionIds()) {
                assertFalse(
                        Files.exists(dataDir.resolve(id).resolve("partitions").resolve(p)), id + " deleted " + p);
            }
        }
    }

    @Test
    void preferredLeaderElectionMovesEveryPartitionBackToItsPreferredReplica() throws Exception {
        startAll();
        ControllerAdmin.PartitionSetDescription d = get(admin.createPartitionSet("orders", 6, 3, Map.of()));
        nodes.get("n1").close(); // a controlled shutdown: n1's leaderships move
        nodes.remove("n1");
        start("n1");
        await(
                () -> controller() != null
                        && controller().controller().status().nodes().size() == 3,
                "n1 is back");
        get(admin.electPreferredLeaders(List.of()));
        ControllerAdmin.PartitionSetDescription after = get(admin.describe("orders"));
        after.states()
                .forEach((p, s) -> assertEquals(
                        d.replicaSets().get(p).get(0), s.leader().orElseThrow(), p + " led by its preferred replica"));
    }

    @Test
    void badInputIsRefusedWithAClearErrorAndWritesNothing() throws Exception {
        startAll();
        IllegalArgumentException name =
                assertThrows(IllegalArgumentException.class, () -> admin.createPartitionSet("a/b", 1, 1, Map.of()));
        assertTrue(name.getMessage().contains("invalid partition set name"), name.getMessage());
        assertThrows(IllegalArgumentException.class, () -> admin.createPartitionSet("", 1, 1, Map.of()));
        IllegalArgumentException zero =
                assertThrows(IllegalArgumentException.class, () -> admin.createPartitionSet("s", 0, 1, Map.of()));
        assertTrue(zero.getMessage().contains("partitions"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> admin.createPartitionSet("s", -3, 1, Map.of()));
        IllegalArgumentException rf =
                assertThrows(IllegalArgumentException.class, () -> admin.createPartitionSet("s", 3, 0, Map.of()));
        assertTrue(rf.getMessage().contains("replication factor"), rf.getMessage());
        ExecutionException tooMany =
                assertThrows(ExecutionException.class, () -> get(admin.createPartitionSet("s", 3, 4, Map.of())));
        assertTrue(tooMany.getCause() instanceof IllegalArgumentException, tooMany.toString());
        assertTrue(tooMany.getCause().getMessage().contains("above the 3 registered nodes"), tooMany.toString());
        get(admin.createPartitionSet("s", 3, 3, Map.of()));
        ExecutionException duplicate =
                assertThrows(ExecutionException.class, () -> get(admin.createPartitionSet("s", 3, 3, Map.of())));
        assertTrue(duplicate.getCause() instanceof IllegalStateException, duplicate.toString());
        assertTrue(duplicate.getCause().getMessage().contains("partition set s exists"), duplicate.toString());
        ExecutionException unknown =
                assertThrows(ExecutionException.class, () -> get(admin.deletePartitionSet("nope")));
        assertTrue(unknown.getCause() instanceof NoSuchElementException, unknown.toString());
        assertTrue(unknown.getCause().getMessage().contains("no partition set nope"), unknown.toString());
        assertThrows(ExecutionException.class, () -> get(admin.describe("nope")));
        assertEquals(List.of("s"), List.copyOf(get(admin.listPartitionSets()).keySet()), "nothing else was created");
        assertEquals(List.of(), adminClient.getChildren().forPath(ControllerPaths.createRequests(clusterPath)));
        admin.close();
        IllegalStateException closed =
                assertThrows(IllegalStateException.class, () -> admin.createPartitionSet("t", 1, 1, Map.of()));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        assertThrows(IllegalStateException.class, () -> admin.deletePartitionSet("s"));
        assertThrows(IllegalStateException.class, () -> admin.listPartitionSets());
    }
}
