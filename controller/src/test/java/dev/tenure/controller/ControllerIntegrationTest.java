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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.LeaderAndReplicas;
import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.wire.ControlCodec;
import dev.tenure.controller.wire.ControlMessage;
import dev.tenure.replicator.KeyValueMachine;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.zookeeper.ZooKeeperNode;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import dev.tenure.testkit.ZooKeeperProxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Nodes whose partitions take their leaders from the controller, on a real ZooKeeper ensemble and real sockets. */
@Tag("zookeeper")
@Timeout(180)
class ControllerIntegrationTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final List<String> IDS = List.of("n1", "n2", "n3");

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-controller/" + UUID.randomUUID();
    private final Map<String, ControllerNode> nodes = new LinkedHashMap<>();
    private final Map<String, CuratorFramework> clients = new HashMap<>();
    private final Map<String, ZooKeeperProxy> proxies = new HashMap<>();
    private final Map<String, Map<String, KeyValueMachine>> machines = new HashMap<>();
    private final Map<String, List<String>> layout = new LinkedHashMap<>();
    /** Every write acknowledged, by partition. */
    private final Map<String, List<String>> acknowledged = new LinkedHashMap<>();

    @AfterEach
    void closeNodes() {
        nodes.values().forEach(n -> {
            try {
                n.close();
            } catch (RuntimeException e) {
                // closing what a test left
            }
        });
    }

    /**
     * Whether nodes get a partition factory; then each opens by hand only the partitions it is the preferred replica
     * of, and the others through the factory.
     */
    private boolean factory;

    private ControllerNode start(String id, Duration rebalance) throws Exception {
        ZooKeeperProxy proxy = zk.ensemble().newProxy();
        CuratorFramework client =
                zk.ensemble().newClient(zk.ensemble().clientBuilder(proxy).sessionTimeoutMs(4000));
        Map<String, KeyValueMachine> mine = new java.util.concurrent.ConcurrentHashMap<>();
        machines.put(id, mine);
        ControllerNode.Builder builder = ControllerNode.builder(client, clusterPath);
        if (factory) {
            builder.partitionFactory((p, set) -> {
                KeyValueMachine m = new KeyValueMachine();
                // A partition opened by hand meanwhile keeps its machine: this open then fails ("open already").
                mine.putIfAbsent(p, m);
                return m;
            });
        }
        ControllerNode node = builder.id(id)
                .dataDir(dataDir.resolve(id))
                .shutdownTimeout(Duration.ofSeconds(10))
                .node(b -> b.threads(2, 2).tuning(t -> t.checkQuorum(Duration.ofSeconds(2))))
                .controller(c -> c.assignmentRetry(Duration.ofMillis(500)).rebalanceInterval(rebalance))
                .build();
        node.start();
        nodes.put(id, node);
        clients.put(id, client);
        proxies.put(id, proxy);
        for (Map.Entry<String, List<String>> e : layout.entrySet()) {
            if (factory ? e.getValue().get(0).equals(id) : e.getValue().contains(id)) {
                KeyValueMachine m = new KeyValueMachine();
                mine.put(e.getKey(), m);
                node.node().open(e.getKey(), e.getValue(), m);
            }
        }
        return node;
    }

    private void startAll(int partitions, Duration rebalance) throws Exception {
        List<List<String>> sets = ZooKeeperNode.Placement.preferredSpread(IDS, partitions, 3);
        for (int i = 0; i < partitions; i++) {
            layout.put("p" + i, sets.get(i));
            acknowledged.put("p" + i, new ArrayList<>());
        }
        for (String id : IDS) {
            start(id, rebalance);
        }
    }

    /** A node that dies: its ZooKeeper session is closed under it and it stops without a controlled shutdown. */
    private void crash(String id) throws Exception {
        ControllerNode n = nodes.remove(id);
        clients.get(id).close(); // the session ends: the registration disappears, as after a session expiry
        n.closeWithoutHandOver();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            TimeUnit.MILLISECONDS.sleep(20); // polling a condition, with a deadline
        }
    }

    /** Who leads each partition: the running node whose replica leads it and has committed in its epoch. */
    private Map<String, Leader> leaders() {
        Map<String, Leader> leaders = new LinkedHashMap<>();
        for (Map.Entry<String, ControllerNode> e : nodes.entrySet()) {
            e.getValue().node().partitions().forEach((p, part) -> {
                Replica.Status s = part.replica().status();
                if (s.role() == Role.LEADER) {
                    Leader known = leaders.get(p);
                    if (known == null || s.epoch() > known.epoch()) {
                        leaders.put(p, new Leader(e.getKey(), s.epoch()));
                    }
                }
            });
        }
        return leaders;
    }

    private record Leader(String node, long epoch) {}

    private Map<String, Leader> awaitAllLed() throws InterruptedException {
        await(() -> leaders().keySet().containsAll(layout.keySet()), "every partition is led: " + leaders());
        return leaders();
    }

    /** Waits until every partition is led by its preferred replica (the first of its replica set). */
    private void awaitPreferredLeaders() throws InterruptedException {
        await(
                () -> {
                    Map<String, Leader> now = leaders();
                    return layout.entrySet().stream()
                            .allMatch(e -> now.containsKey(e.getKey())
                                    && e.getValue()
                                            .get(0)
                                            .equals(now.get(e.getKey()).node()));
                },
                "every partition is led by its preferred replica: " + leaders());
    }

    private Optional<ControllerNode> controller() {
        return nodes.values().stream()
                .filter(n -> n.controller().status().active())
                .findFirst();
    }

    /** Writes {@code count} entries to each partition through its leader, remembering the acknowledged ones. */
    private void writeEverywhere(int count, String tag) throws Exception {
        for (String p : layout.keySet()) {
            for (int i = 0; i < count; i++) {
                String payload = p + "-" + tag + "-" + i;
                for (int attempt = 0; ; attempt++) {
                    Leader l = awaitAllLed().get(p);
                    try {
                        nodes.get(l.node())
                                .node()
                                .propose(p, payload.getBytes(StandardCharsets.UTF_8))
                                .get(10, TimeUnit.SECONDS);
                        acknowledged.get(p).add(payload);
                        break;
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertTrue(attempt < 50, "no leader of " + p + " took " + payload + ": " + e);
                        TimeUnit.MILLISECONDS.sleep(50); // a change of leader in progress: ask again
                    }
                }
            }
        }
    }

    /** Every acknowledged write is applied on every running replica of its partition once it has caught up. */
    private void assertNoAcknowledgedWriteLost() throws InterruptedException {
        for (Map.Entry<String, List<String>> e : acknowledged.entrySet()) {
            for (String node : nodes.keySet()) {
                KeyValueMachine m = machines.get(node).get(e.getKey());
                if (m != null) {
                    await(
                            () -> m.applied().containsAll(e.getValue()),
                            node + " applied every acknowledged write of " + e.getKey());
                }
            }
        }
    }

    @Test
    void nodesWithAPartitionFactoryOpenThePartitionsTheControllerNamesThemReplicasOf() throws Exception {
        factory = true;
        startAll(3, Duration.ZERO);
        await(
                () -> nodes.values().stream()
                        .allMatch(n -> n.node().partitions().keySet().containsAll(layout.keySet())),
                "every node hosts every partition");
        for (String id : IDS) {
            assertEquals(layout.keySet(), machines.get(id).keySet(), id + " opened by hand or through the factory");
        }
        writeEverywhere(5, "a");
        assertNoAcknowledgedWriteLost();
    }

    @Test
    void partitionsCreatedWhileNodesStartEndUpLedByTheirPreferredReplicaOnceRebalanced() throws Exception {
        startAll(6, Duration.ofMillis(500));
        await(() -> controller().isPresent(), "a controller");
        awaitPreferredLeaders();
        ControllerNode c = controller().orElseThrow();
        assertEquals(6, c.controller().status().partitions().size());
        assertEquals(3, c.controller().status().nodes().size());
        writeEverywhere(5, "a");
        assertNoAcknowledgedWriteLost();
    }

    @Test
    void aNodeLeadingSeveralPartitionsThatDiesHasEachOfThemLedInAHigherEpochWithNoAcknowledgedWriteLost()
            throws Exception {
        startAll(6, Duration.ZERO);
        writeEverywhere(10, "before");
        Map<String, Leader> before = awaitAllLed();
        String victim = before.values().stream()
                .map(Leader::node)
                .filter(n ->
                        before.values().stream().filter(l -> l.node().equals(n)).count() >= 2)
                .findFirst()
                .orElseThrow();
        List<String> led = before.entrySet().stream()
                .filter(e -> e.getValue().node().equals(victim))
                .map(Map.Entry::getKey)
                .toList();
        crash(victim);
        await(
                () -> {
                    Map<String, Leader> now = leaders();
                    return led.stream()
                            .allMatch(p -> now.containsKey(p)
                                    && now.get(p).epoch() > before.get(p).epoch());
                },
                "each of " + led + " is led in a higher epoch: " + leaders());
        writeEverywhere(10, "after");
        assertNoAcknowledgedWriteLost();
    }

    @Test
    void aControllerCutOffPastItsSessionHasItsRequestsRefusedByTheNodes() throws Exception {
        startAll(3, Duration.ZERO);
        awaitAllLed();
        await(() -> controller().isPresent(), "a controller");
        ControllerNode old = controller().orElseThrow();
        String oldId = nodes.entrySet().stream()
                .filter(e -> e.getValue() == old)
                .map(Map.Entry::getKey)
                .findFirst()
                .orElseThrow();
        long oldEpoch = old.controller().status().controllerEpoch();
        proxies.get(oldId).cut();
        await(
                () -> nodes.values().stream()
                        .anyMatch(n -> n != old
                                && n.controller().status().active()
                                && n.controller().status().controllerEpoch() > oldEpoch),
                "another node is the controller in a higher epoch");
        String target = IDS.stream().filter(id -> !id.equals(oldId)).findFirst().orElseThrow();
        await(
                () -> nodes.get(target).agent().highestControllerEpoch() > oldEpoch,
                target + " heard from the new controller");
        NodeRegistration reg = nodes.get(target).registration().orElseThrow();
        long refusedBefore = nodes.get(target).agent().refusedCount();
        // The zombie controller's request, over its real, authenticated connection: its epoch is stale.
        String p = layout.keySet().iterator().next();
        PartitionState forged =
                new PartitionState(layout.get(p), Optional.of(target), 1_000, reg.nodeEpoch(), oldEpoch);
        byte[] request = ControlCodec.encode(new ControlMessage.Assignment(
                99, new LeaderAndReplicas(oldEpoch, oldId, target, reg.nodeEpoch(), false, Map.of(p, forged))));
        await(
                () -> {
                    old.node().sendControl(target, request);
                    return nodes.get(target).agent().refusedCount() > refusedBefore;
                },
                "the stale request reached " + target + " and was refused");
        assertTrue(leaders().values().stream().noneMatch(l -> l.epoch() == 1_000), "nobody leads the forged epoch");
        proxies.get(oldId).heal();
    }

    @Test
    void aNodeRestartedQuicklyRefusesRequestsAddressedToItsOldRegistration() throws Exception {
        startAll(3, Duration.ZERO);
        awaitAllLed();
        await(() -> controller().isPresent(), "a controller");
        String restarted = IDS.stream()
                .filter(id -> !nodes.get(id).controller().status().active())
                .findFirst()
                .orElseThrow();
        long oldEpoch = nodes.get(restarted).registration().orElseThrow().nodeEpoch();
        crash(restarted);
        start(restarted, Duration.ZERO);
        await(() -> nodes.get(restarted).registration().isPresent(), restarted + " registered again");
        long newEpoch = nodes.get(restarted).registration().orElseThrow().nodeEpoch();
        assertTrue(newEpoch > oldEpoch, newEpoch + " > " + oldEpoch);
        ControllerNode c = controller().orElseThrow();
        String cid = nodes.entrySet().stream()
                .filter(e -> e.getValue() == c)
                .map(Map.Entry::getKey)
                .findFirst()
                .orElseThrow();
        long controllerEpoch = c.controller().status().controllerEpoch();
        await(
                () -> nodes.get(restarted).agent().highestControllerEpoch() == controllerEpoch,
                restarted + " heard from the controller");
        long refusedBefore = nodes.get(restarted).agent().refusedCount();
        String p = layout.keySet().iterator().next();
        PartitionState old = new PartitionState(layout.get(p), Optional.of(restarted), 500, oldEpoch, controllerEpoch);
        byte[] request = ControlCodec.encode(new ControlMessage.Assignment(
                77, new LeaderAndReplicas(controllerEpoch, cid, restarted, oldEpoch, false, Map.of(p, old))));
        await(
                () -> {
                    c.node().sendControl(restarted, request);
                    return nodes.get(restarted).agent().refusedCount() > refusedBefore;
                },
                "the request for the old registration reached " + restarted + " and was refused");
        assertTrue(leaders().values().stream().noneMatch(l -> l.epoch() == 500), "nobody leads the old term");
    }

    @Test
    void theControllerDyingWithTheNodeItWasFailingOverLeavesTheNextControllerToFinishIt() throws Exception {
        startAll(6, Duration.ZERO);
        writeEverywhere(5, "before");
        Map<String, Leader> before = awaitAllLed();
        ControllerNode c = controller().orElseThrow();
        String cid = nodes.entrySet().stream()
                .filter(e -> e.getValue() == c)
                .map(Map.Entry::getKey)
                .findFirst()
                .orElseThrow();
        String other = IDS.stream().filter(id -> !id.equals(cid)).findFirst().orElseThrow();
        crash(other); // the controller starts moving other's partitions...
        crash(cid); // ...and dies at once: the last node's controller finishes the failover
        String last = nodes.keySet().iterator().next();
        await(() -> nodes.get(last).controller().status().active(), last + " is the controller");
        assertEquals(1, nodes.size());
        // With one node of three, no partition has a majority: the new controller must still have moved every
        // leadership of the dead nodes to the live replica (a new term each), which then cannot commit.
        await(
                () -> nodes.get(last).controller().status().partitions().values().stream()
                        .allMatch(s -> s.state().leader().map(last::equals).orElse(false)),
                "every partition's state names " + last + ": "
                        + nodes.get(last).controller().status().partitions());
        for (Map.Entry<String, dev.tenure.controller.core.VersionedState> e :
                nodes.get(last).controller().status().partitions().entrySet()) {
            if (!before.get(e.getKey()).node().equals(last)) {
                assertTrue(
                        e.getValue().state().leaderEpoch()
                                > before.get(e.getKey()).epoch(),
                        e.toString());
            }
        }
        start(cid, Duration.ZERO);
        awaitAllLed();
        writeEverywhere(5, "after");
        assertNoAcknowledgedWriteLost();
    }

    @Test
    void preferredLeadersAreRestoredWhenANodeReturns() throws Exception {
        startAll(6, Duration.ofMillis(500));
        awaitPreferredLeaders();
        String returning = "n1";
        crash(returning);
        await(
                () -> leaders().values().stream().noneMatch(l -> l.node().equals(returning))
                        && leaders().keySet().containsAll(layout.keySet()),
                "n1's partitions moved: " + leaders());
        start(returning, Duration.ofMillis(500));
        awaitPreferredLeaders();
    }

    @Test
    void aControlledShutdownMovesEveryLeadershipBeforeTheNodeLeaves() throws Exception {
        startAll(6, Duration.ofMillis(500));
        awaitPreferredLeaders();
        writeEverywhere(5, "before");
        Map<String, Leader> before = awaitAllLed();
        String leaving = "n2";
        List<String> led = before.entrySet().stream()
                .filter(e -> e.getValue().node().equals(leaving))
                .map(Map.Entry::getKey)
                .toList();
        assertTrue(!led.isEmpty(), "n2 leads something: " + before);
        ControllerNode n = nodes.remove(leaving);
        long start = System.nanoTime();
        n.close();
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 10_000, "the hand-over took " + millis + " ms, under the 10 s bound");
        Map<String, Leader> after = awaitAllLed();
        for (String p : led) {
            assertTrue(after.get(p).epoch() > before.get(p).epoch(), p + " has a new term: " + after);
        }
        writeEverywhere(5, "after");
        assertNoAcknowledgedWriteLost();
    }
}
