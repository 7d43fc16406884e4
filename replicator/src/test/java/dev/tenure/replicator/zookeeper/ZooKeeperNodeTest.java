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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.recipes.LeaderDiscovery;
import dev.tenure.recipes.PreviousSession;
import dev.tenure.replicator.KeyValueMachine;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes hosting many partitions over real files, real sockets on loopback and an in-process ZooKeeper ensemble:
 * each partition commits only its own writes, leaders spread, pass down each partition's order of succession and
 * come back to their preferred replicas, a node's
 * crash moves the leadership of every partition it led without losing an acknowledged write, and idle partitions
 * stay quiet.
 */
@Tag("zookeeper")
class ZooKeeperNodeTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-nodes/" + UUID.randomUUID();
    private final Map<String, ZooKeeperNode> nodes = new LinkedHashMap<>();
    /** Each node's state machine of each partition: node -> partition -> machine. */
    private final Map<String, Map<String, KeyValueMachine>> machines = new HashMap<>();

    @AfterEach
    void closeNodes() {
        nodes.values().forEach(ZooKeeperNode::close);
    }

    private ZooKeeperNode startNode(String id, Map<String, List<String>> layout) throws Exception {
        CuratorFramework client =
                zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(4000));
        ZooKeeperNode node = ZooKeeperNode.builder(client, clusterPath)
                .id(id)
                .dataDir(dataDir.resolve(id))
                .threads(2, 2)
                .rebalanceInterval(Duration.ofMillis(200))
                .tuning(t -> t.checkQuorum(Duration.ofSeconds(2)))
                .build();
        node.start();
        nodes.put(id, node);
        Map<String, KeyValueMachine> mine = new java.util.concurrent.ConcurrentHashMap<>();
        machines.put(id, mine);
        // Opened 4 at a time, as a node starting many partitions would.
        java.util.concurrent.ExecutorService opener = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<?>> opens = new ArrayList<>();
            for (Map.Entry<String, List<String>> e : layout.entrySet()) {
                if (e.getValue().contains(id)) {
                    KeyValueMachine m = new KeyValueMachine();
                    mine.put(e.getKey(), m);
                    opens.add(opener.submit(() -> node.open(e.getKey(), e.getValue(), m)));
                }
            }
            for (java.util.concurrent.Future<?> f : opens) {
                f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            opener.shutdownNow();
        }
        return node;
    }

    /**
     * Starts nodes {@code ids} with {@code partitions} partitions of 3 replicas; returns their layout once each is
     * led by its preferred replica.
     */
    private Map<String, List<String>> startLedByTheirPreferredReplicas(List<String> ids, int partitions)
            throws Exception {
        Map<String, List<String>> layout = layout(ids, partitions, 3);
        for (String id : ids) {
            startNode(id, layout);
        }
        awaitPreferredLeaders(layout);
        return layout;
    }

    private static Map<String, List<String>> layout(List<String> nodeIds, int partitions, int replicationFactor) {
        Map<String, List<String>> layout = new LinkedHashMap<>();
        List<List<String>> sets = ZooKeeperNode.Placement.preferredSpread(nodeIds, partitions, replicationFactor);
        for (int i = 0; i < partitions; i++) {
            layout.put("p" + i, sets.get(i));
        }
        return layout;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            TimeUnit.MILLISECONDS.sleep(10); // polling a condition, with a deadline
        }
    }

    /** The running node leading {@code partition}, once exactly one does. */
    private ZooKeeperNode leaderOf(String partition) throws InterruptedException {
        await(
                () -> nodes.values().stream()
                                .filter(n -> n.leading().contains(partition))
                                .count()
                        == 1,
                "one node leads " + partition + ": " + leaders());
        return nodes.values().stream()
                .filter(n -> n.leading().contains(partition))
                .findFirst()
                .orElseThrow();
    }

    /**
     * Waits until every partition is led by its preferred replica: after that no hand-over moves a leader, so a write
     * meets no change of leader unless the test makes one.
     */
    private void awaitPreferredLeaders(Map<String, List<String>> layout) throws InterruptedException {
        await(
                () -> layout.entrySet().stream().allMatch(e -> {
                    ZooKeeperNode preferred = nodes.get(e.getValue().get(0));
                    return preferred != null && preferred.leading().contains(e.getKey());
                }),
                "every partition is led by its preferred replica: " + leaders());
    }

    private Map<String, Set<String>> leaders() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        for (ZooKeeperNode n : nodes.values()) {
            m.put(n.id(), n.leading());
        }
        return m;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Writes {@code count} values to every partition through its leader; returns what each acknowledged. */
    private Map<String, List<String>> writeEverywhere(Map<String, List<String>> layout, String prefix, int count)
            throws Exception {
        Map<String, List<String>> acknowledged = new LinkedHashMap<>();
        for (String p : layout.keySet()) {
            ZooKeeperNode leader = leaderOf(p);
            List<CompletableFuture<?>> writes = new ArrayList<>();
            List<String> values = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String v = prefix + "-" + p + "-" + i;
                values.add(v);
                writes.add(leader.partition(p).orElseThrow().replica().propose(bytes(v)));
            }
            for (CompletableFuture<?> w : writes) {
                w.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            acknowledged.put(p, values);
        }
        return acknowledged;
    }

    @Test
    void partitionsOnOverlappingReplicaSetsCommitOnlyTheirOwnWritesOverOneConnectionPerNodePair() throws Exception {
        List<String> ids = List.of("n1", "n2", "n3", "n4");
        // {n1,n2,n3}, {n2,n3,n4}, {n3,n4,n1}, {n4,n1,n2}, {n1,n3,n4}, {n2,n4,n1}, {n3,n1,n2}, {n4,n2,n3}
        Map<String, List<String>> layout = layout(ids, 8, 3);
        for (String id : ids) {
            startNode(id, layout);
        }
        awaitPreferredLeaders(layout);
        Map<String, List<String>> acknowledged = writeEverywhere(layout, "w", 5);
        for (Map.Entry<String, List<String>> e : layout.entrySet()) {
            String p = e.getKey();
            for (String id : e.getValue()) {
                KeyValueMachine m = machines.get(id).get(p);
                await(() -> m.applied().size() == 5, id + " applies the 5 writes of " + p + ": " + m.applied());
                assertEquals(acknowledged.get(p), m.applied(), id + " applies " + p + "'s writes only, in order");
            }
        }
        for (ZooKeeperNode n : nodes.values()) {
            // Messages for a partition a node has not opened yet (its peers started first) are dropped and counted;
            // the protocol resends them.
            assertEquals(
                    layout.entrySet().stream()
                            .filter(e -> e.getValue().contains(n.id()))
                            .map(Map.Entry::getKey)
                            .collect(Collectors.toSet()),
                    n.partitions().keySet(),
                    n.id() + " hosts exactly its partitions");
            // a connection refused while the peer did not know this node yet is opened again after a back-off
            await(() -> n.connectedPeers() == ids.size() - 1, n.id() + " has one connection to each of its 3 peers");
        }
    }

    @Test
    void everyNodeClosesAtOnceWhileZooKeeperIsUnreachable() throws Exception {
        startLedByTheirPreferredReplicas(List.of("n1", "n2", "n3"), 6);
        zk.ensemble().stopAll(); // restarted after the test
        for (ZooKeeperNode n : nodes.values()) {
            long started = System.nanoTime();
            n.close(); // its registration's foreground delete used to wait out the connection timeout: 12-16 s
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(tookMs < 2_000, n.id() + "'s close took " + tookMs + " ms while ZooKeeper was down");
        }
    }

    @Test
    void leadersSpreadEvenlyAtStartWhenANodeLeavesAndAgainAfterItReturns() throws Exception {
        List<String> ids = List.of("n1", "n2", "n3");
        Map<String, List<String>> layout = layout(ids, 6, 3);
        for (String id : ids) {
            startNode(id, layout);
        }
        await(
                () -> nodes.values().stream().allMatch(n -> n.leading().size() == 2),
                "every node leads 2 of the 6 partitions: " + leaders());
        for (ZooKeeperNode n : nodes.values()) {
            for (String p : n.leading()) {
                assertEquals(n.id(), layout.get(p).get(0), p + " is led by its preferred replica");
            }
        }
        nodes.remove("n1").close();
        // n1 preferred p0 = [n1, n2, n3] and p3 = [n1, n3, n2]: each passes to its second replica
        await(
                () -> nodes.values().stream().allMatch(n -> n.leading().size() == 3),
                "n2 and n3 lead 3 of the 6 partitions each: " + leaders());
        assertTrue(nodes.get("n2").leading().contains("p0"), "p0 passes to n2: " + leaders());
        assertTrue(nodes.get("n3").leading().contains("p3"), "p3 passes to n3: " + leaders());
        startNode("n1", layout);
        await(
                () -> nodes.values().stream().allMatch(n -> n.leading().size() == 2),
                "after n1 returns, every node leads 2 again: " + leaders());
    }

    @Test
    void aPartitionWhoseLeaderLeavesIsHandedToTheNextReplicaInItsOrderWhateverTheLine() throws Exception {
        Map<String, List<String>> layout = Map.of("p0", List.of("n1", "n2", "n3"));
        String electionPath = ZooKeeperRegistry.electionPath(clusterPath + "/partitions/p0");
        try (LeaderDiscovery line = new LeaderDiscovery(zk.ensemble().newClient(), electionPath)) {
            line.start();
            // n3 joins p0's election before n2, so that n3 is next in line after n1, against p0's order
            startNode("n1", layout);
            startNode("n3", layout);
            await(() -> line.participants().equals(List.of("n1", "n3")), "n1 and n3 in line: " + line.participants());
            startNode("n2", layout);
            await(
                    () -> line.participants().equals(List.of("n1", "n3", "n2")),
                    "n1, n3, n2 in line: " + line.participants());
            awaitPreferredLeaders(layout);
            long epochOfN1 = nodes.get("n1")
                    .partition("p0")
                    .orElseThrow()
                    .replica()
                    .status()
                    .epoch();
            Map<String, List<String>> before = writeEverywhere(layout, "before", 10);

            nodes.remove("n1").close();
            await(
                    () -> nodes.get("n2").leading().contains("p0"),
                    "p0 is led by n2, listed before n3: " + leaders() + ", line " + line.participants());
            long epochOfN2 = nodes.get("n2")
                    .partition("p0")
                    .orElseThrow()
                    .replica()
                    .status()
                    .epoch();
            // n3, next in line, led a term of its own first, then handed it over: two terms at least after n1's
            assertTrue(epochOfN2 >= epochOfN1 + 2, "n2's epoch " + epochOfN2 + " after n1's " + epochOfN1);
            assertEquals(Set.of(), nodes.get("n3").leading());
            assertWritesKept(layout, before, List.of("n2", "n3"));
        }
    }

    @Test
    void aReplicaListedBeforeTheLeaderTakesThePartitionOverOnceItIsBackAndCaughtUp() throws Exception {
        List<String> order = List.of("n1", "n2", "n3", "n4", "n5");
        Map<String, List<String>> layout = Map.of("p0", order);
        for (String id : List.of("n1", "n3", "n4", "n5")) {
            startNode(id, layout); // n2 is down
        }
        awaitPreferredLeaders(layout);
        Map<String, List<String>> before = writeEverywhere(layout, "before", 10);
        nodes.remove("n1").close();
        await(() -> nodes.get("n3").leading().contains("p0"), "n3, the first live replica, leads p0: " + leaders());
        Map<String, List<String>> during = writeEverywhere(layout, "during", 5);

        startNode("n2", layout); // behind, and last in line
        await(
                () -> nodes.get("n2").leading().contains("p0"),
                "n2, listed before n3, leads p0 once caught up: " + leaders());
        List<String> expected = new ArrayList<>(before.get("p0"));
        expected.addAll(during.get("p0"));
        assertWritesKept(Map.of("p0", order), Map.of("p0", expected), List.of("n2", "n3", "n4", "n5"));
    }

    /** Waits until each of {@code on} has applied exactly {@code acknowledged} of each partition, in order. */
    private void assertWritesKept(
            Map<String, List<String>> layout, Map<String, List<String>> acknowledged, List<String> on)
            throws Exception {
        Map<String, List<String>> after = writeEverywhere(layout, "after", 5);
        for (String p : layout.keySet()) {
            List<String> expected = new ArrayList<>(acknowledged.get(p));
            expected.addAll(after.get(p));
            for (String id : on) {
                KeyValueMachine m = machines.get(id).get(p);
                await(
                        () -> m.applied().size() == expected.size(),
                        id + " applies all " + expected.size() + " writes of " + p + ": " + m.applied());
                assertEquals(expected, m.applied(), id + " holds every acknowledged write of " + p + " in order");
            }
        }
    }

    @Test
    void aNodeCrashMovesTheLeadershipOfEveryPartitionItLedWithNoAcknowledgedWriteLost() throws Exception {
        List<String> ids = List.of("n1", "n2", "n3");
        Map<String, List<String>> layout = startLedByTheirPreferredReplicas(ids, 6);
        assertEquals(2, nodes.get("n1").leading().size(), "n1 leads its 2 preferred partitions: " + leaders());
        Map<String, List<String>> before = writeEverywhere(layout, "before", 20);
        Set<String> ledByN1 = nodes.get("n1").leading();
        Map<String, Long> epochs = ledByN1.stream()
                .collect(Collectors.toMap(
                        p -> p,
                        p -> nodes.get("n1")
                                .partition(p)
                                .orElseThrow()
                                .replica()
                                .status()
                                .epoch()));
        nodes.remove("n1").close();
        for (String p : ledByN1) {
            ZooKeeperNode next = leaderOf(p);
            long epoch = next.partition(p).orElseThrow().replica().status().epoch();
            assertTrue(epoch > epochs.get(p), p + " has a new epoch " + epoch + " above " + epochs.get(p));
        }
        Map<String, List<String>> after = writeEverywhere(layout, "after", 5);
        for (String p : layout.keySet()) {
            for (ZooKeeperNode n : nodes.values()) {
                KeyValueMachine m = machines.get(n.id()).get(p);
                await(() -> m.applied().size() == 25, n.id() + " applies all 25 writes of " + p);
                List<String> expected = new ArrayList<>(before.get(p));
                expected.addAll(after.get(p));
                assertEquals(expected, m.applied(), n.id() + " holds every acknowledged write of " + p + " in order");
            }
        }
    }

    @Test
    void idlePartitionsGoQuietAndKeepTheirLeadersThroughTheNodesPings() throws Exception {
        List<String> ids = List.of("n1", "n2", "n3");
        Map<String, List<String>> layout = layout(ids, 30, 3);
        for (String id : ids) {
            startNode(id, layout);
        }
        await(
                () -> nodes.values().stream().allMatch(n -> n.leading().size() == 10),
                "every node leads its 10 preferred partitions: " + leaders());
        awaitPreferredLeaders(layout);
        writeEverywhere(layout, "w", 1);
        Map<String, Set<String>> leaders = leaders();
        await(
                () -> nodes.values().stream()
                        .flatMap(n -> n.status().values().stream())
                        .allMatch(s -> s.commitOffset() == s.logEndOffset()),
                "every replica knows its partition's commit");
        long sentBefore =
                nodes.values().stream().mapToLong(ZooKeeperNode::messagesSent).sum();
        long started = System.nanoTime();
        // 3 s: past the 2 s check-quorum interval, which only the pings keep satisfied
        await(() -> System.nanoTime() - started > TimeUnit.SECONDS.toNanos(3), "3 s pass");
        long sent =
                nodes.values().stream().mapToLong(ZooKeeperNode::messagesSent).sum() - sentBefore;
        assertTrue(sent < 30 * 2 * 2, "quiet partitions sent " + sent + " messages in 3 s (30 partitions)");
        assertEquals(leaders, leaders(), "no partition changed leader");
    }

    @Test
    void aNodeRunsTheSameThreadsForTwoPartitionsAsForForty() throws Exception {
        ZooKeeperNode small = startNode("n1", layout(List.of("n1"), 2, 1));
        await(() -> small.leading().size() == 2, "n1 leads its 2 partitions");
        Set<String> withTwo = threadsOf("n1");
        for (int i = 2; i < 40; i++) {
            KeyValueMachine m = new KeyValueMachine();
            small.open("p" + i, List.of("n1"), m);
        }
        await(() -> small.leading().size() == 40, "n1 leads its 40 partitions");
        Set<String> withForty = threadsOf("n1");
        assertTrue(withForty.size() <= small.threads(), withForty + " exceed " + small.threads());
        assertEquals(
                withTwo.size(), withForty.size(), "threads with 2 partitions " + withTwo + ", with 40 " + withForty);
    }

    private static Set<String> threadsOf(String node) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("tenure-" + node + "-") || n.startsWith("tenure-transport-" + node))
                .collect(Collectors.toSet());
    }

    @Test
    void aPartitionIsRefusedAnInvalidIdAReplicaSetWithoutTheNodeAndASecondOpen() throws Exception {
        ZooKeeperNode n = startNode("n1", Map.of());
        assertThrows(IllegalArgumentException.class, () -> n.open("bad/id", List.of("n1"), new KeyValueMachine()));
        assertThrows(IllegalArgumentException.class, () -> n.open("p0", List.of("n2", "n3"), new KeyValueMachine()));
        n.open("p0", List.of("n1"), new KeyValueMachine());
        assertThrows(IllegalStateException.class, () -> n.open("p0", List.of("n1"), new KeyValueMachine()));
        n.close("p0");
        assertThrows(
                IllegalStateException.class,
                () -> n.open("p0", List.of("n1", "n2"), new KeyValueMachine()),
                "ZooKeeper holds p0's replica set: another one is refused");
    }

    /** Opens {@code layout}'s partitions that include {@code node} with one {@link ZooKeeperNode#openAll}. */
    private List<CompletableFuture<ZooKeeperNode.Partition>> openAll(
            ZooKeeperNode node, Map<String, List<String>> layout) throws InterruptedException {
        List<ZooKeeperNode.PartitionSpec> specs = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : layout.entrySet()) {
            if (e.getValue().contains(node.id())) {
                KeyValueMachine m = new KeyValueMachine();
                machines.get(node.id()).put(e.getKey(), m);
                specs.add(new ZooKeeperNode.PartitionSpec(e.getKey(), e.getValue(), m));
            }
        }
        return node.openAll(specs);
    }

    private static void awaitAll(List<CompletableFuture<ZooKeeperNode.Partition>> opens) throws Exception {
        for (CompletableFuture<ZooKeeperNode.Partition> f : opens) {
            f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    void threeNodesOpeningTheSameSixtyPartitionsAtOnceCreateEachOnceWithItsReplicaSetAndEveryOneElectsALeader()
            throws Exception {
        Map<String, List<String>> layout = layout(List.of("n1", "n2", "n3"), 60, 3);
        List<CompletableFuture<ZooKeeperNode.Partition>> opens = new ArrayList<>();
        for (String id : List.of("n1", "n2", "n3")) {
            startNode(id, Map.of());
        }
        for (ZooKeeperNode n : nodes.values()) {
            opens.addAll(openAll(n, layout)); // each returns once its requests are sent: the three race
        }
        awaitAll(opens);
        CuratorFramework reader = zk.ensemble().newClient();
        for (Map.Entry<String, List<String>> e : layout.entrySet()) {
            String path = clusterPath + "/partitions/" + e.getKey() + "/configuration";
            org.apache.zookeeper.data.Stat stat = new org.apache.zookeeper.data.Stat();
            dev.tenure.replicator.core.Configuration c = ConfigurationRecord.decode(
                    reader.getData().storingStatIn(stat).forPath(path), path);
            assertEquals(e.getValue(), c.voters(), e.getKey() + "'s replica set as given, preferred leader first");
            assertEquals(0, c.version(), e.getKey() + " is at its initial configuration");
            assertEquals(0, stat.getVersion(), e.getKey() + "'s configuration node was written once");
        }
        for (ZooKeeperNode n : nodes.values()) {
            assertEquals(layout.keySet(), n.partitions().keySet(), n.id() + " hosts every partition");
        }
        assertEquals(
                layout.size(),
                nodes.values().stream()
                        .mapToLong(ZooKeeperNode::configurationReads)
                        .sum(),
                "the configuration watches read each partition's node once in all, on the node that created it: the"
                        + " other nodes' watches were set by their bootstrap's read");
        awaitPreferredLeaders(layout);
        Map<String, List<String>> acknowledged = writeEverywhere(layout, "w", 1);
        for (Map.Entry<String, List<String>> e : layout.entrySet()) {
            for (String id : e.getValue()) {
                KeyValueMachine m = machines.get(id).get(e.getKey());
                await(() -> m.applied().equals(acknowledged.get(e.getKey())), id + " applies " + e.getKey());
            }
        }
    }

    @Test
    void openAllFailsOnlyThePartitionsThatCannotOpenAndOpensTheRest() throws Exception {
        ZooKeeperNode n = startNode("n1", Map.of());
        n.open("held", List.of("n1"), new KeyValueMachine());
        n.open("other-set", List.of("n1"), new KeyValueMachine());
        n.close("other-set"); // ZooKeeper keeps its replica set [n1]
        List<CompletableFuture<ZooKeeperNode.Partition>> opens = n.openAll(List.of(
                new ZooKeeperNode.PartitionSpec("p0", List.of("n1"), new KeyValueMachine()),
                new ZooKeeperNode.PartitionSpec("bad/id", List.of("n1"), new KeyValueMachine()),
                new ZooKeeperNode.PartitionSpec("without-me", List.of("n2", "n3"), new KeyValueMachine()),
                new ZooKeeperNode.PartitionSpec("held", List.of("n1"), new KeyValueMachine()),
                new ZooKeeperNode.PartitionSpec("other-set", List.of("n1", "n2"), new KeyValueMachine()),
                new ZooKeeperNode.PartitionSpec("p1", List.of("n1"), new KeyValueMachine()),
                new ZooKeeperNode.PartitionSpec("p1", List.of("n1"), new KeyValueMachine())));
        assertEquals("p0", opens.get(0).get(WAIT.toSeconds(), TimeUnit.SECONDS).id());
        assertFailsWith(IllegalArgumentException.class, opens.get(1), "an invalid id");
        assertFailsWith(IllegalArgumentException.class, opens.get(2), "a new partition without this node");
        assertFailsWith(IllegalStateException.class, opens.get(3), "a partition open already");
        assertFailsWith(IllegalStateException.class, opens.get(4), "another replica set than ZooKeeper's");
        assertEquals("p1", opens.get(5).get(WAIT.toSeconds(), TimeUnit.SECONDS).id());
        assertFailsWith(IllegalStateException.class, opens.get(6), "the same id twice in one call");
        await(() -> n.leading().equals(Set.of("held", "p0", "p1")), "n1 leads what it opened: " + n.leading());
        assertEquals(Set.of("held", "p0", "p1"), n.partitions().keySet(), "a failed partition is not open");
        n.openAll(List.of(new ZooKeeperNode.PartitionSpec("other-set", List.of("n1"), new KeyValueMachine())))
                .get(0)
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        await(() -> n.leading().contains("other-set"), "a partition that failed to open opens again");
    }

    private static void assertFailsWith(Class<? extends Throwable> type, CompletableFuture<?> f, String what) {
        java.util.concurrent.ExecutionException e = assertThrows(
                java.util.concurrent.ExecutionException.class, () -> f.get(WAIT.toSeconds(), TimeUnit.SECONDS), what);
        assertTrue(type.isInstance(e.getCause()), what + ": " + e.getCause());
    }

    @Test
    void openAllOpensAPartitionWhoseNodeExistsWithoutItsConfiguration() throws Exception {
        ZooKeeperNode n = startNode("n1", Map.of());
        // As a node of an older version could leave it: the partition's node, made on the way to its configuration.
        zk.ensemble().newClient().create().creatingParentsIfNeeded().forPath(clusterPath + "/partitions/p0");
        List<CompletableFuture<ZooKeeperNode.Partition>> opens =
                n.openAll(List.of(new ZooKeeperNode.PartitionSpec("p0", List.of("n1"), new KeyValueMachine())));
        assertEquals(
                List.of("n1"),
                opens.get(0)
                        .get(WAIT.toSeconds(), TimeUnit.SECONDS)
                        .configuration()
                        .voters());
        await(() -> n.leading().contains("p0"), "n1 leads p0");
    }

    @Test
    void aReplicaOpenedByOpenAllWithoutItsFilesPromisesTheLatestEpochMintedBeforeItJoins() throws Exception {
        ZooKeeperNode first = startNode("n1", Map.of());
        first.open("p0", List.of("n1"), new KeyValueMachine());
        await(() -> first.leading().contains("p0"), "n1 leads p0");
        first.close();
        // Another participant leads p0's election from now on, so that n1 cannot mint an epoch of its own.
        dev.tenure.recipes.FencedLeaderElection other = dev.tenure.recipes.FencedLeaderElection.builder(
                        zk.ensemble().newClient(), clusterPath + "/partitions/p0/leader")
                .participantId("x")
                .build();
        try {
            other.start();
            long latest = other.awaitLeadership(WAIT).epoch();
            com.google.common.io.MoreFiles.deleteRecursively( // its disk wiped: no promise
                    dataDir.resolve("n1"), com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE);
            ZooKeeperNode again = startNode("n1", Map.of());
            ZooKeeperNode.Partition p = again.openAll(
                            List.of(new ZooKeeperNode.PartitionSpec("p0", List.of("n1"), new KeyValueMachine())))
                    .get(0)
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            long promised = p.replica().status().epoch(); // its promise, stored in the node's write-ahead log
            assertEquals(latest, promised, "the new replica promised the latest epoch minted before it opened");
            assertTrue(again.leading().isEmpty(), "x leads p0, not n1");
        } finally {
            other.close();
        }
    }

    @Test
    void aSecondNodeOnTheSameDataDirectoryIsRefusedBeforeItTouchesZooKeeper() throws Exception {
        ZooKeeperNode n1 = startNode("n1", Map.of("p0", List.of("n1")));
        await(() -> n1.leading().contains("p0"), "n1 leads p0");
        Path sessionFile = dataDir.resolve("n1").resolve(PreviousSession.FILE_NAME);
        long session = PreviousSession.read(sessionFile).id();
        ZooKeeperNode twin = ZooKeeperNode.builder(zk.ensemble().newClient(), clusterPath)
                .id("n1")
                .dataDir(dataDir.resolve("n1"))
                .build();
        java.io.IOException refused = assertThrows(java.io.IOException.class, twin::start);
        assertTrue(
                refused.getMessage().contains("node n1's data directory " + dataDir.resolve("n1"))
                        && refused.getMessage().contains("is already open in this process"),
                refused.getMessage());
        twin.close();
        assertEquals(session, PreviousSession.read(sessionFile).id(), "the file still names n1's session");
        n1.propose("p0", bytes("after the twin")).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertTrue(n1.leading().contains("p0"), "n1 kept its session and its term");
    }

    @Test
    void aNegativeBoundOnTheCachedEntriesIsRefusedByTheBuilder() {
        CuratorFramework unstarted = org.apache.curator.framework.CuratorFrameworkFactory.newClient(
                "127.0.0.1:1", new org.apache.curator.retry.RetryOneTime(1));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperNode.builder(unstarted, clusterPath).tailCacheBytes(-1));
        assertEquals("tailCacheBytes must be at least 0, was -1", e.getMessage());
    }

    @Test
    void aPartitionsLeadershipCanComeFromAnotherSourceThanTheElection() throws Exception {
        java.util.Map<String, dev.tenure.replicator.Leadership.Events> events =
                new java.util.concurrent.ConcurrentHashMap<>();
        CuratorFramework client = zk.ensemble().newClient();
        ZooKeeperNode node = ZooKeeperNode.builder(client, clusterPath)
                .id("n1")
                .dataDir(dataDir.resolve("n1"))
                .threads(2, 1)
                .leadershipSource((partition, configuration) -> new dev.tenure.replicator.Leadership() {
                    @Override
                    public void start(Events e) {
                        events.put(partition, e);
                    }

                    @Override
                    public void stepDown(long epoch) {}

                    @Override
                    public void close() {}
                })
                .build();
        node.start();
        nodes.put("n1", node);
        KeyValueMachine m = new KeyValueMachine();
        node.open("assigned", List.of("n1"), m);
        assertThrows(
                java.util.concurrent.ExecutionException.class,
                () -> node.propose("assigned", bytes("early")).get(10, TimeUnit.SECONDS),
                "no leader until the source says so");
        events.get("assigned").elected(7);
        await(() -> node.leading().contains("assigned"), "n1 leads epoch 7 as the source said");
        node.propose("assigned", bytes("x")).get(10, TimeUnit.SECONDS);
        assertEquals(List.of("x"), m.applied());
        assertEquals(7, node.replica("assigned").status().epoch());
        assertThrows(IllegalArgumentException.class, () -> node.replica("unknown"));
    }

    @Test
    void aDeadNodeIsReplacedInAPartitionByAnotherWhichCatchesUpAndVotes() throws Exception {
        Map<String, List<String>> layout = Map.of("p0", List.of("n1", "n2", "n3"));
        for (String id : List.of("n1", "n2", "n3")) {
            startNode(id, layout);
        }
        ZooKeeperNode spare = startNode("n4", layout); // hosts nothing yet
        await(() -> nodes.get("n1").leading().contains("p0"), "n1, the preferred replica, leads p0");
        Map<String, List<String>> before = writeEverywhere(layout, "before", 10);
        nodes.remove("n3").close();
        await(() -> nodes.get("n1").leading().contains("p0"), "n1 still leads p0");
        ZooKeeperNode.Partition p0 = nodes.get("n1").partition("p0").orElseThrow();
        CompletableFuture<dev.tenure.replicator.core.Configuration> replaced =
                p0.replaceMember("n3", "n4", Duration.ofSeconds(30));
        await(
                () -> {
                    try {
                        return p0.configuration().learners().contains("n4");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                },
                "n4 is a learner of p0");
        KeyValueMachine m4 = new KeyValueMachine();
        machines.get("n4").put("p0", m4);
        spare.open("p0", List.of("n1", "n2", "n3"), m4); // the replicas given are ignored: ZooKeeper holds p0's
        dev.tenure.replicator.core.Configuration after = replaced.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(List.of("n1", "n2", "n4"), after.voters());
        assertEquals(List.of(), after.previousVoters(), "the change is activated");
        // The change minted an epoch and the preferred replica may take the lead back: a write can meet a change of
        // leader and end with an unknown outcome. Retried under a new value, so that each value is written once.
        List<String> acknowledged = new ArrayList<>(before.get("p0"));
        List<String> attempted = new ArrayList<>(acknowledged);
        for (int i = 0; acknowledged.size() < 15; i++) {
            String v = "after-" + i;
            attempted.add(v);
            try {
                leaderOf("p0").propose("p0", bytes(v)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                acknowledged.add(v);
            } catch (java.util.concurrent.ExecutionException e) {
                assertTrue(
                        e.getCause() instanceof dev.tenure.replicator.ReplicationException,
                        "a write fails only with a replication outcome: " + e.getCause());
            }
            assertTrue(i < 100, "100 attempts acknowledged only " + acknowledged);
        }
        String last = acknowledged.get(acknowledged.size() - 1);
        await(() -> m4.applied().contains(last), "n4 applies the last acknowledged write: " + m4.applied());
        List<String> applied = m4.applied();
        assertTrue(attempted.containsAll(applied), "n4 applies only written values: " + applied);
        assertEquals(
                acknowledged,
                applied.stream().filter(acknowledged::contains).toList(),
                "n4 holds every acknowledged write of p0, in order");
        ZooKeeperNode outsider = startNode("n5", layout);
        IllegalStateException refused = assertThrows(
                IllegalStateException.class,
                () -> outsider.open("p0", List.of("n1", "n2", "n3"), new KeyValueMachine()),
                "a node outside p0's replica set cannot open it");
        assertTrue(refused.getMessage().contains("not a member"), refused.getMessage());
    }
}
