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
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.core.VersionedState;
import dev.tenure.replicator.KeyValueMachine;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reassignment of a partition's replicas through the controller (docs/controller.md, "Reassignment"): four {@link
 * ControllerNode}s on an in-process ensemble of 3 ZooKeeper servers, real sockets and files; partition {@code p0} on
 * {@code n1, n2, n3} moved to {@code n2, n3, n4} while a writer keeps writing. {@code n4} opens the partition itself
 * once the controller names it a learner (its {@link PartitionFactory}), or, where a test kills a node in the middle
 * of the learning phase, only when the test opens it; the others open it as the application does.
 */
@Tag("zookeeper")
@Timeout(180)
class ReassignmentIntegrationTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String P = "p0";
    private static final List<String> FROM = List.of("n1", "n2", "n3");
    private static final List<String> TO = List.of("n2", "n3", "n4");

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-reassign/" + UUID.randomUUID();
    private final Map<String, ControllerNode> nodes = new LinkedHashMap<>();
    private final Map<String, CuratorFramework> clients = new HashMap<>();
    private final Map<String, KeyValueMachine> machines = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean writing = new AtomicBoolean();
    private Thread writer;

    @AfterEach
    void closeNodes() throws InterruptedException {
        stopWriter();
        nodes.values().forEach(n -> {
            try {
                n.close();
            } catch (RuntimeException e) {
                // closing what a test left
            }
        });
    }

    /** Starts node {@code id}; it opens {@code p0} by hand if it is one of {@code hosts}. */
    private ControllerNode start(String id, List<String> hosts) throws Exception {
        return start(id, hosts, false);
    }

    /**
     * Starts node {@code id}; it opens {@code p0} by hand if it is one of {@code hosts}, and with {@code factory} it
     * opens the partitions the controller names it a replica of itself.
     */
    private ControllerNode start(String id, List<String> hosts, boolean factory) throws Exception {
        CuratorFramework client =
                zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(4000));
        ControllerNode.Builder builder = ControllerNode.builder(client, clusterPath);
        if (factory) {
            builder.partitionFactory((partition, set) -> {
                KeyValueMachine m = new KeyValueMachine();
                machines.put(id, m);
                return m;
            });
        }
        ControllerNode node = builder.id(id)
                .dataDir(dataDir.resolve(id))
                .shutdownTimeout(Duration.ofSeconds(10))
                .node(b -> b.threads(2, 2).tuning(t -> t.checkQuorum(Duration.ofSeconds(2))))
                .controller(c -> c.assignmentRetry(Duration.ofMillis(500)).rebalanceInterval(Duration.ZERO))
                .build();
        node.start();
        nodes.put(id, node);
        clients.put(id, client);
        if (hosts.contains(id)) {
            open(id);
        }
        return node;
    }

    private void open(String id) throws Exception {
        KeyValueMachine m = new KeyValueMachine();
        machines.put(id, m);
        nodes.get(id).node().open(P, FROM, m);
    }

    /** A node that dies: its ZooKeeper session is closed under it and it stops without a controlled shutdown. */
    private void crash(String id) throws Exception {
        ControllerNode n = nodes.remove(id);
        machines.remove(id);
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

    private Optional<ControllerNode> controller() {
        return nodes.values().stream()
                .filter(n -> n.controller().status().active())
                .findFirst();
    }

    private String controllerId() {
        ControllerNode c = controller().orElseThrow();
        return nodes.entrySet().stream()
                .filter(e -> e.getValue() == c)
                .map(Map.Entry::getKey)
                .findFirst()
                .orElseThrow();
    }

    /** The state of {@code p0} as the active controller holds it, if there is one. */
    private Optional<PartitionState> state() {
        return controller()
                .map(c -> c.controller().status().partitions().get(P))
                .map(VersionedState::state);
    }

    /** The running node whose replica of {@code p0} leads in the highest epoch. */
    private Optional<String> leader() {
        String best = null;
        long epoch = 0;
        for (Map.Entry<String, ControllerNode> e : nodes.entrySet()) {
            Optional<ZooKeeperNodePartition> part = partition(e.getKey());
            if (part.isPresent()) {
                Replica.Status s = part.get().status();
                if (s.role() == Role.LEADER && s.epoch() > epoch) {
                    best = e.getKey();
                    epoch = s.epoch();
                }
            }
        }
        return Optional.ofNullable(best);
    }

    private record ZooKeeperNodePartition(Replica replica) {
        Replica.Status status() {
            return replica.status();
        }
    }

    private Optional<ZooKeeperNodePartition> partition(String node) {
        ControllerNode n = nodes.get(node);
        return n == null ? Optional.empty() : n.node().partition(P).map(p -> new ZooKeeperNodePartition(p.replica()));
    }

    /** Writes to {@code p0} through its leader until stopped, remembering every acknowledged write. */
    private void startWriter() {
        writing.set(true);
        writer = new Thread(
                () -> {
                    int i = 0;
                    while (writing.get()) {
                        Optional<String> l = leader();
                        if (l.isEmpty()) {
                            pause();
                            continue;
                        }
                        String payload = "w-" + i;
                        try {
                            nodes.get(l.get())
                                    .node()
                                    .propose(P, payload.getBytes(StandardCharsets.UTF_8))
                                    .get(10, TimeUnit.SECONDS);
                            acknowledged.add(payload);
                            i++;
                        } catch (Exception e) {
                            pause(); // not the leader any more, or outcome unknown: never counted as acknowledged
                            i++;
                        }
                    }
                },
                "reassignment-writer");
        writer.setDaemon(true);
        writer.start();
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(20); // back-off between attempts of the background writer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void stopWriter() throws InterruptedException {
        writing.set(false);
        if (writer != null) {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    /** Every acknowledged write is applied on every running replica of the target set. */
    private void assertNoAcknowledgedWriteLost() throws InterruptedException {
        List<String> acked = List.copyOf(acknowledged);
        assertTrue(acked.size() > 0, "some writes were acknowledged");
        for (String node : TO) {
            KeyValueMachine m = machines.get(node);
            if (m != null) {
                await(() -> m.applied().containsAll(acked), node + " applied every acknowledged write");
            }
        }
    }

    private void awaitWrites(int more) throws InterruptedException {
        int target = acknowledged.size() + more;
        await(() -> acknowledged.size() >= target, more + " more writes acknowledged");
    }

    /**
     * Starts n1..n3 hosting p0 and then n4 (which opens p0 itself once named a learner if {@code n4OpensItself}, else
     * only when the test opens it), and waits for p0 to be led and n4 registered.
     */
    private void startCluster(boolean n4OpensItself) throws Exception {
        for (String id : FROM) {
            start(id, FROM);
        }
        await(() -> leader().isPresent(), "p0 is led");
        await(() -> controller().isPresent(), "a controller");
        start("n4", List.of(), n4OpensItself);
        await(
                () -> controller()
                        .map(c -> c.controller().status().nodes().containsKey("n4"))
                        .orElse(false),
                "the controller sees n4");
    }

    private ControllerNode controllerNode() {
        return controller().orElseThrow();
    }

    /** Waits until n4 opened p0 itself, as a learner the controller named. */
    private void awaitOpenOnN4() throws Exception {
        await(() -> partition("n4").isPresent(), "n4 opened p0");
    }

    /**
     * Waits until the controller wrote the learning phase and its leader leads it: the reassignment cannot go further
     * until n4, which does not open p0 by itself here, is opened.
     */
    private void awaitLearningLed() throws InterruptedException {
        await(() -> state().map(s -> s.reassigning() && !s.joint()).orElse(false), "the learning phase is written");
        await(
                () -> leader().map(l -> partition(l).orElseThrow().status().epoch()
                                == state().orElseThrow().leaderEpoch())
                        .orElse(false),
                "p0 is led in the learning phase's epoch");
    }

    private void awaitDone() throws InterruptedException {
        await(
                () -> state().map(s -> s.replicas().equals(TO) && !s.reassigning())
                        .orElse(false),
                "the controller's state of p0 is the target alone: " + state());
    }

    @Test
    void aPartitionMovedFromN1N2N3ToN2N3N4UnderWritesLosesNoAcknowledgedWriteAndEndsLedByATargetReplica()
            throws Exception {
        startCluster(true);
        startWriter();
        awaitWrites(20);
        PartitionState before = controllerNode().controller().reassign(P, TO).get(10, TimeUnit.SECONDS);
        assertEquals(FROM, before.replicas());
        await(() -> state().map(PartitionState::reassigning).orElse(false), "the reassignment started");
        assertEquals(List.of("n4"), state().orElseThrow().addingReplicas());
        assertEquals(List.of("n1"), state().orElseThrow().removingReplicas());
        awaitOpenOnN4();
        awaitDone();
        await(() -> leader().map(TO::contains).orElse(false), "p0 is led by a target replica: " + leader());
        await(() -> partition("n1").isEmpty(), "n1 closed its replica");
        Path n1Copy = dataDir.resolve("n1").resolve("partitions").resolve(P);
        await(() -> !java.nio.file.Files.exists(n1Copy), "n1's copy of p0 is deleted: " + n1Copy);
        awaitWrites(20);
        stopWriter();
        assertNoAcknowledgedWriteLost();
        Replica.Status leading = partition(leader().orElseThrow()).orElseThrow().status();
        assertEquals(TO, leading.configuration().voters());
        assertTrue(leading.configuration().previousVoters().isEmpty(), "the change is activated");
    }

    @Test
    void theControllerKilledInTheMiddleOfAReassignmentLeavesTheNextControllerToFinishIt() throws Exception {
        startCluster(false);
        startWriter();
        awaitWrites(10);
        String first = controllerId();
        long firstEpoch = controllerNode().controller().status().controllerEpoch();
        controllerNode().controller().reassign(P, TO).get(10, TimeUnit.SECONDS);
        // n4 does not open p0 until the test does: the learning phase cannot end, so the controller dies in the middle.
        awaitLearningLed();
        crash(first);
        await(
                () -> controller()
                        .map(c -> c.controller().status().controllerEpoch() > firstEpoch)
                        .orElse(false),
                "a new controller in a higher epoch");
        assertTrue(state().orElseThrow().reassigning(), "the new controller read the reassignment in progress");
        assertTrue(!state().orElseThrow().joint(), "still learning");
        if (FROM.contains(first)) {
            start(first, FROM); // the replica comes back (with its data) so the original set keeps its majority
        }
        open("n4");
        awaitDone();
        awaitWrites(10);
        stopWriter();
        assertNoAcknowledgedWriteLost();
    }

    @Test
    void theLeaderKilledInTheMiddleOfAReassignmentLeavesTheChangeToTheNextLeaderWithNoAcknowledgedWriteLost()
            throws Exception {
        startCluster(false);
        startWriter();
        awaitWrites(10);
        controllerNode().controller().reassign(P, TO).get(10, TimeUnit.SECONDS);
        awaitLearningLed();
        String oldLeader = leader().orElseThrow();
        long oldEpoch = partition(oldLeader).orElseThrow().status().epoch();
        crash(oldLeader);
        await(
                () -> leader().map(l -> partition(l).orElseThrow().status().epoch() > oldEpoch)
                        .orElse(false),
                "p0 is led in a higher epoch");
        if (!oldLeader.equals("n1")) {
            start(oldLeader, FROM); // a target replica comes back with its data
        }
        assertTrue(state().orElseThrow().reassigning() && !state().orElseThrow().joint(), "still learning");
        open("n4");
        awaitDone();
        awaitWrites(10);
        stopWriter();
        assertNoAcknowledgedWriteLost();
    }

    @Test
    void everyBadReassignmentRequestIsRefusedWithAClearErrorAndChangesNothing() throws Exception {
        startCluster(false);
        Controller c = controllerNode().controller();
        PartitionState before = state().orElseThrow();
        assertRefused(c, "unknown", TO, "unknown partition unknown");
        assertRefused(c, P, List.of(), "is empty");
        assertRefused(c, P, List.of("n2", "n2", "n4"), "names a node twice");
        assertRefused(c, P, List.of("n2", "n3", "n9"), "not registered: [n9]");
        assertRefused(c, P, List.of("n2", "bad id", "n4"), "must be at most 255 characters");
        assertEquals(before, state().orElseThrow(), "nothing changed");
        c.reassign(P, TO).get(10, TimeUnit.SECONDS);
        assertRefused(c, P, List.of("n1", "n2", "n4"), "is in progress");
        ControllerNode other = nodes.values().stream()
                .filter(n -> !n.controller().status().active())
                .findFirst()
                .orElseThrow();
        ExecutionException e = assertThrows(
                ExecutionException.class,
                () -> other.controller().reassign(P, TO).get(10, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(
                e.getCause().getMessage().contains("is not the controller"),
                e.getCause().getMessage());
    }

    private static void assertRefused(Controller c, String partition, List<String> target, String says) {
        ExecutionException e = assertThrows(
                ExecutionException.class, () -> c.reassign(partition, target).get(10, TimeUnit.SECONDS));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains(says), e.getCause().getMessage() + " should say " + says);
    }
}
