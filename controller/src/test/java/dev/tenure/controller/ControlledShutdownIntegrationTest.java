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

import dev.tenure.controller.core.VersionedState;
import dev.tenure.replicator.KeyValueMachine;
import dev.tenure.replicator.ReplicationException;
import dev.tenure.replicator.zookeeper.ZooKeeperNode;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Controlled shutdowns of a node leading many partitions while every partition takes writes, on a real ZooKeeper
 * ensemble of 3 servers, real sockets and files (docs/controller.md, "Controlled shutdown").
 */
@Tag("zookeeper")
@Timeout(300)
class ControlledShutdownIntegrationTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final List<String> IDS = List.of("n1", "n2", "n3");
    /** The leaving node leads a third of them: 50, each written all the time. */
    private static final int PARTITIONS = 150;

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-controlled-shutdown/" + UUID.randomUUID();
    /** The running nodes, and the leaving one until its close returns. */
    private final Map<String, ControllerNode> nodes = new ConcurrentHashMap<>();

    private final Map<String, Map<String, KeyValueMachine>> machines = new ConcurrentHashMap<>();
    private final Map<String, List<String>> layout = new LinkedHashMap<>();

    @AfterEach
    void closeNodes() {
        nodes.values().forEach(n -> {
            try {
                n.closeWithoutHandOver();
            } catch (RuntimeException e) {
                // closing what a test left
            }
        });
    }

    /**
     * Starts the 3 nodes with {@link #PARTITIONS} partitions, the controller rebalancing every 500 ms at a 0 %
     * threshold, each node checking its partitions' leaders every 100 ms (what would hand partitions to their
     * preferred replicas if the node spread leaders itself).
     */
    private void startAll(UnaryOperator<ControllerNode.Builder> settings) throws Exception {
        List<List<String>> sets = ZooKeeperNode.Placement.preferredSpread(IDS, PARTITIONS, 3);
        for (int i = 0; i < PARTITIONS; i++) {
            layout.put("p" + i, sets.get(i));
        }
        for (String id : IDS) {
            CuratorFramework client =
                    zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(4000));
            ControllerNode node = settings.apply(ControllerNode.builder(client, clusterPath)
                            .id(id)
                            .dataDir(dataDir.resolve(id))
                            .node(b -> b.threads(2, 2).rebalanceInterval(Duration.ofMillis(100)))
                            .controller(c ->
                                    c.rebalanceInterval(Duration.ofMillis(500)).imbalanceThresholdPercent(0)))
                    .build();
            node.start();
            nodes.put(id, node);
            Map<String, KeyValueMachine> mine = new ConcurrentHashMap<>();
            machines.put(id, mine);
            List<ZooKeeperNode.PartitionSpec> specs = new ArrayList<>();
            layout.forEach((p, replicas) -> {
                if (replicas.contains(id)) {
                    KeyValueMachine m = new KeyValueMachine();
                    mine.put(p, m);
                    specs.add(new ZooKeeperNode.PartitionSpec(p, replicas, m));
                }
            });
            List<CompletableFuture<ZooKeeperNode.Partition>> unused =
                    node.node().openAll(specs);
        }
        await(
                () -> {
                    Map<String, String> now = leaders();
                    return layout.entrySet().stream()
                            .allMatch(e -> e.getValue().get(0).equals(now.get(e.getKey())));
                },
                "every partition is led by its preferred replica");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            TimeUnit.MILLISECONDS.sleep(20); // polling a condition, with a deadline
        }
    }

    /** Partition id to the node whose replica leads it now (as its status says). */
    private Map<String, String> leaders() {
        Map<String, String> leaders = new LinkedHashMap<>();
        nodes.forEach((id, n) -> {
            for (String p : n.node().leading()) {
                leaders.put(p, id);
            }
        });
        return leaders;
    }

    private ControllerNode controller() {
        return nodes.values().stream()
                .filter(n -> n.controller().status().active())
                .findFirst()
                .orElseThrow();
    }

    /** A node that is not the controller, and the partitions it leads. */
    private String leavingNode(ControllerNode controller) {
        return IDS.stream()
                .filter(id -> nodes.get(id) != controller)
                .findFirst()
                .orElseThrow();
    }

    /** How one write ended. */
    private record Outcome(String partition, String node, String value, Throwable failure) {}

    /**
     * Writes to every partition, one write in flight each, at whichever node's replica is LEADER (as a client that
     * checks the role before it writes, as the bench's writer does); every outcome is kept.
     */
    private final class Writers {
        final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
        final AtomicLong sequence = new AtomicLong();
        private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

        private final AtomicBoolean on = new AtomicBoolean(true);
        private final Thread thread = new Thread(this::run, "test-writers");

        Writers() {
            thread.start();
        }

        private void run() {
            while (on.get()) {
                leaders().forEach((p, id) -> {
                    ControllerNode n = nodes.get(id);
                    if (n == null || !inFlight.add(p)) {
                        return;
                    }
                    String value = p + "-" + sequence.incrementAndGet();
                    try {
                        CompletableFuture<?> unused = n.node()
                                .propose(p, value.getBytes(StandardCharsets.UTF_8))
                                .whenComplete((c, e) -> {
                                    outcomes.add(new Outcome(p, id, value, e == null ? null : cause(e)));
                                    inFlight.remove(p);
                                });
                    } catch (RuntimeException e) {
                        outcomes.add(new Outcome(p, id, value, e));
                        inFlight.remove(p);
                    }
                });
                try {
                    TimeUnit.MILLISECONDS.sleep(2); // the writers' pacing, not a hand-off
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** Stops writing and waits until every write in flight ended. */
        void stop() throws InterruptedException {
            on.set(false);
            thread.join();
            await(inFlight::isEmpty, "every write ended");
        }
    }

    private static Throwable cause(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    @Test
    void aControlledShutdownOfANodeLeadingManyPartitionsMovesEachOnceInTheStoresBatches() throws Exception {
        startAll(UnaryOperator.identity());
        ControllerNode controller = controller();
        String leaving = leavingNode(controller);
        Map<String, VersionedState> before = controller.controller().status().partitions();
        List<String> led = before.values().stream()
                .filter(s -> s.state().leader().map(leaving::equals).orElse(false))
                .map(VersionedState::partition)
                .toList();
        assertEquals(PARTITIONS / 3, led.size(), leaving + " leads its third: " + led);
        long requestsBefore;
        Writers writers = new Writers();
        try {
            await(() -> writers.outcomes.size() > 2 * PARTITIONS, "every partition took writes");
            requestsBefore = controller.controller().zooKeeperRoundTrips();
            ControllerNode stopping = nodes.get(leaving);
            assertTrue(stopping.shutdownReport().isEmpty(), "no report before the shutdown");
            stopping.close();
            nodes.remove(leaving);
            ControllerNode.ShutdownReport report = stopping.shutdownReport().orElseThrow();
            assertEquals(led.size(), report.drained(), "it drained every partition it led: " + report);
            assertTrue(report.moved(), "the controller reported the move done: " + report);
            assertEquals(0, report.leftLeading(), report.toString());
            assertTrue(
                    report.drainMillis() >= 0
                            && report.moveMillis() >= 0
                            && report.closeMillis() >= 0
                            && report.stillInFlight() >= 0
                            && report.stillInFlight() <= report.drained(),
                    report.toString());
            // The node waited for its partitions' new leaders to take over before closing them, up to its bound (2 s).
            assertTrue(
                    report.takenOver() == report.drained() || report.takeOverMillis() >= 2_000,
                    "every drained partition was taken over, or the wait reached its bound: " + report);
            // The nodes' own leader checks run every 100 ms: a node that handed a partition it now leads back to its
            // preferred replica (the leaving one, still a caught-up follower while it closes) would do it here.
            await(() -> leaders().keySet().containsAll(led), "every partition the leaving node led is led again");
        } finally {
            writers.stop();
        }
        long requests = controller.controller().zooKeeperRoundTrips() - requestsBefore;
        Map<String, VersionedState> after = controller.controller().status().partitions();
        for (String p : led) {
            assertEquals(
                    before.get(p).state().leaderEpoch() + 1,
                    after.get(p).state().leaderEpoch(),
                    p + " was moved once, to one new term: " + after.get(p));
        }
        // One fenced transaction per 100 writes (the store's batch): a partition moved alone would cost one each.
        int batches = (led.size() + 99) / 100;
        assertTrue(
                requests <= batches,
                "the controller's state-store requests for moving " + led.size() + " partitions: " + requests
                        + ", at most " + batches + " expected");
    }

    @Test
    void aControlledShutdownUnderWritesEndsEveryInFlightWriteCommittedAndRefusesLaterOnesNamingTheNewLeader()
            throws Exception {
        startAll(UnaryOperator.identity());
        ControllerNode controller = controller();
        String leaving = leavingNode(controller);
        List<String> led = controller.controller().status().partitions().values().stream()
                .filter(s -> s.state().leader().map(leaving::equals).orElse(false))
                .map(VersionedState::partition)
                .toList();
        Writers writers = new Writers();
        try {
            await(() -> writers.outcomes.size() > 2 * PARTITIONS, "every partition took writes");
            nodes.get(leaving).close(); // the writers keep proposing to its replicas while they say LEADER
            nodes.remove(leaving);
            await(() -> leaders().keySet().containsAll(led), "every partition the leaving node led is led again");
            int ended = writers.outcomes.size();
            await(() -> writers.outcomes.size() > ended + 2 * PARTITIONS, "the partitions took writes again");
        } finally {
            writers.stop();
        }
        Map<String, VersionedState> after = controller.controller().status().partitions();
        long refused = 0;
        for (Outcome o : writers.outcomes) {
            if (o.failure() == null) {
                continue;
            }
            assertTrue(
                    o.failure() instanceof ReplicationException.NotLeaderException,
                    "a write to " + o.partition() + " at " + o.node() + " ended " + o.failure()
                            + ": only a refusal is expected, never an unknown outcome");
            if (o.node().equals(leaving)) {
                refused++;
                assertEquals(
                        after.get(o.partition()).state().leader().orElseThrow(),
                        ((ReplicationException) o.failure()).leaderHint(),
                        "the refusal of a write to " + o.partition() + " names its new leader");
            }
        }
        System.out.printf(
                "%d writes, %d refused by the leaving node naming the new leader%n", writers.outcomes.size(), refused);
        // Every acknowledged write of a moved partition is applied by its new leader.
        for (Outcome o : writers.outcomes) {
            if (o.failure() == null && led.contains(o.partition())) {
                String leader = after.get(o.partition()).state().leader().orElseThrow();
                KeyValueMachine m = machines.get(leader).get(o.partition());
                await(() -> m.applied().contains(o.value()), leader + " applied " + o.value());
            }
        }
    }
}
