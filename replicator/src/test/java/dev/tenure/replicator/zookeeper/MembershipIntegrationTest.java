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
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.Committed;
import dev.tenure.replicator.KeyValueMachine;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.Role;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes of replicas with real files and the Netty transport on loopback, on an in-process 3-server
 * ZooKeeper ensemble (docs/replication.md, "Membership change"): a replica replaced under load, the set grown and
 * shrunk, a change whose new member never catches up, a removed replica restarted, a leader removed.
 */
@Tag("zookeeper")
class MembershipIntegrationTest {
    private static final List<String> IDS = List.of("r1", "r2", "r3");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-membership/" + UUID.randomUUID();
    /** Concurrent: the writer thread reads it while the test starts and stops replicas. */
    private final Map<String, ZooKeeperReplica> nodes = new java.util.concurrent.ConcurrentHashMap<>();

    private final Map<String, KeyValueMachine> machines = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeEach
    void startReplicas() throws Exception {
        for (String id : IDS) {
            startNode(id, IDS);
        }
    }

    @AfterEach
    void stopReplicas() {
        nodes.values().forEach(ZooKeeperReplica::close);
    }

    private ZooKeeperReplica startNode(String id, List<String> members) throws Exception {
        CuratorFramework client =
                zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(3000));
        KeyValueMachine machine = new KeyValueMachine();
        ZooKeeperReplica.Builder builder = ZooKeeperReplica.builder(client, clusterPath)
                .id(id)
                .dataDir(dataDir.resolve(id))
                .stateMachine(machine);
        if (members != null) {
            builder.members(members); // a replica joining an existing cluster needs none
        }
        ZooKeeperReplica node = builder.build();
        node.start();
        nodes.put(id, node);
        machines.put(id, machine);
        return node;
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

    /** Writes from a thread of its own to whichever replica leads, until stopped; records the acknowledged ones. */
    private final class Writer implements AutoCloseable {
        final List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        /** Why the writer thread ended before it was stopped, if it did. */
        private volatile Throwable died;

        Writer() {
            thread = new Thread(this::runGuarded, "membership-writer");
            thread.start();
        }

        private void runGuarded() {
            try {
                run();
            } catch (RuntimeException | Error e) {
                died = e;
            }
        }

        private void run() {
            int i = 0;
            while (!stop.get()) {
                for (ZooKeeperReplica n : List.copyOf(nodes.values())) {
                    Replica r;
                    try {
                        r = n.replica();
                    } catch (IllegalStateException closed) {
                        continue;
                    }
                    if (r.status().role() != Role.LEADER) {
                        continue;
                    }
                    String v = "w" + i;
                    try {
                        r.propose(bytes(v)).get(10, TimeUnit.SECONDS);
                        acknowledged.add(v);
                        i++;
                    } catch (Exception e) {
                        i++; // not acknowledged (failed or unknown): never counted
                    }
                }
                Thread.onSpinWait();
            }
        }

        /** Waits until {@code n} more writes than now are acknowledged; fails after {@code WAIT}. */
        void awaitMore(int n) throws Exception {
            int target = acknowledged.size() + n;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (acknowledged.size() < target) {
                if (died != null) {
                    throw new AssertionError("the writer thread failed", died);
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("only " + acknowledged.size() + " writes acknowledged, waiting for "
                            + target + "; replicas: " + nodes.keySet());
                }
                Thread.sleep(5); // polling the writer's list
            }
        }

        @Override
        public void close() {
            stop.set(true);
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void assertMembersApplied(List<String> acknowledged, List<String> members) throws Exception {
        String leader = awaitLeader();
        Committed last = nodes.get(leader).replica().propose(bytes("final")).get(30, TimeUnit.SECONDS);
        for (String id : members) {
            nodes.get(id).replica().awaitApplied(last.offset() + 1).get(30, TimeUnit.SECONDS);
            List<String> applied = machines.get(id).applied();
            List<String> expected = new ArrayList<>(acknowledged);
            expected.add("final");
            assertEquals(
                    expected,
                    applied.stream().filter(expected::contains).toList(),
                    "every acknowledged write, once, in order, on " + id);
        }
    }

    private Configuration awaitConfiguration(String id, java.util.function.Predicate<Configuration> p)
            throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Configuration c = nodes.get(id).configuration();
            if (p.test(c)) {
                return c;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("configuration " + c);
            }
            Thread.sleep(10); // polling ZooKeeper
        }
    }

    private Replica.Status awaitRole(String id, Role role) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Replica.Status s = nodes.get(id).replica().status();
            if (s.role() == role) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(id + " is not " + role + ": " + s);
            }
            Thread.sleep(10); // polling a status snapshot
        }
    }

    @Test
    void aFollowerIsReplacedUnderLoadWithoutLosingAnAcknowledgedWrite() throws Exception {
        String leader = awaitLeader();
        String old = IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        List<String> acked;
        try (Writer w = new Writer()) {
            w.awaitMore(5);
            CompletableFuture<Configuration> change = nodes.get(leader).replaceMember(old, "r4", WAIT);
            awaitConfiguration(leader, c -> c.learners().contains("r4"));
            startNode("r4", null); // joins the existing cluster as the learner it was added as
            w.awaitMore(5); // writes go on while r4 catches up
            Configuration done = change.get(60, TimeUnit.SECONDS);
            assertEquals(
                    IDS.stream().map(id -> id.equals(old) ? "r4" : id).sorted().toList(),
                    done.voters().stream().sorted().toList());
            assertTrue(!done.joint() && done.learners().isEmpty(), done.toString());
            awaitRole(old, Role.REMOVED);
            w.awaitMore(5); // and after the change, on the new set
            acked = new ArrayList<>(w.acknowledged);
        }
        List<String> members = new ArrayList<>(IDS);
        members.remove(old);
        members.add("r4");
        assertMembersApplied(acked, members);
    }

    /**
     * The leader running a replacement is stopped (as a crash: its process gone, its files kept) at the step
     * {@code at} names; a replica that leads afterwards finishes or redoes the change; no acknowledged write is lost.
     */
    private void replaceKillingTheLeader(String at) throws Exception {
        String leader = awaitLeader();
        String old = IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        List<String> acked;
        try (Writer w = new Writer()) {
            w.awaitMore(5);
            CompletableFuture<Configuration> change = nodes.get(leader).replaceMember(old, "r4", WAIT);
            awaitConfiguration(leader, c -> c.learners().contains("r4"));
            if (at.equals("learner")) {
                nodes.remove(leader).close(); // before the mint: r4 is a learner, the voters unchanged
                ExecutionException e = assertThrows(ExecutionException.class, () -> change.get(30, TimeUnit.SECONDS));
                assertTrue(e.getCause() != null, e.toString());
                startNode("r4", null);
                String next = awaitLeader(leader);
                startNode(leader, null); // back from its files, as a voter
                nodes.get(next).replaceMember(old, "r4", WAIT).get(60, TimeUnit.SECONDS); // the learner is kept
            } else {
                startNode("r4", null);
                ZooKeeperReplica observer = nodes.get(old);
                awaitConfiguration(old, Configuration::joint); // the joint configuration is minted
                nodes.remove(leader).close(); // after the mint, before (or around) the activation
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (observer.configuration().joint() && System.nanoTime() < deadline) {
                    Thread.sleep(10); // polling ZooKeeper: a leader of a later epoch activates the change
                }
                startNode(leader, null);
            }
            Configuration done =
                    awaitConfiguration("r4", c -> !c.joint() && c.voters().contains("r4"));
            assertTrue(!done.contains(old), done.toString());
            w.awaitMore(5); // writes go on after the leader's loss and the change
            acked = new ArrayList<>(w.acknowledged);
        }
        List<String> members = new ArrayList<>(IDS);
        members.remove(old);
        members.add("r4");
        nodes.remove(old).close(); // removed: it stopped
        assertMembersApplied(acked, members);
    }

    @Test
    void theLeaderKilledWhileTheNewReplicaIsALearnerLosesNothingAndTheChangeIsRedoneOnTheNextLeader() throws Exception {
        replaceKillingTheLeader("learner");
    }

    @Test
    void theLeaderKilledAfterTheChangeWasMintedLosesNothingAndTheNextLeaderActivatesIt() throws Exception {
        replaceKillingTheLeader("minted");
    }

    @Test
    void theSetGrowsFromThreeToFiveAndShrinksBackToThree() throws Exception {
        String leader = awaitLeader();
        for (String id : List.of("r4", "r5")) {
            CompletableFuture<Configuration> add = nodes.get(leader).addMember(id, WAIT);
            awaitConfiguration(leader, c -> c.learners().contains(id));
            startNode(id, null);
            add.get(60, TimeUnit.SECONDS);
            leader = awaitLeader();
        }
        Configuration five = nodes.get(leader).configuration();
        assertEquals(
                List.of("r1", "r2", "r3", "r4", "r5"),
                five.voters().stream().sorted().toList());
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            nodes.get(leader).replica().propose(bytes("five" + i)).get(30, TimeUnit.SECONDS);
            acked.add("five" + i);
        }
        for (String id : List.of("r4", "r5")) {
            leader = awaitLeader(id);
            nodes.get(leader).removeMember(id).get(60, TimeUnit.SECONDS);
            awaitRole(id, Role.REMOVED);
        }
        Configuration three = nodes.get(awaitLeader("r4", "r5")).configuration();
        assertEquals(IDS, three.voters().stream().sorted().toList());
        assertMembersApplied(acked, IDS);
    }

    @Test
    void aNewMemberThatNeverCatchesUpStallsTheChangeWhichCanBeCancelledWithoutHarm() throws Exception {
        String leader = awaitLeader();
        ExecutionException e = assertThrows(
                ExecutionException.class,
                () -> nodes.get(leader).addMember("r4", Duration.ofSeconds(2)).get(30, TimeUnit.SECONDS));
        assertInstanceOf(ZooKeeperConfiguration.StalledChangeException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("r4"), e.getCause().getMessage());
        assertEquals(List.of("r4"), nodes.get(leader).configuration().learners(), "r4 stays a learner");
        nodes.get(leader).replica().propose(bytes("during")).get(30, TimeUnit.SECONDS);

        Configuration back = nodes.get(leader).cancelChange().get(30, TimeUnit.SECONDS);
        assertEquals(List.of(), back.learners());
        assertEquals(IDS, back.voters().stream().sorted().toList());
        assertMembersApplied(List.of("during"), IDS);
    }

    @Test
    void twoConcurrentChangesFromTheSameConfigurationOneWins() throws Exception {
        ZooKeeperConfiguration master = new ZooKeeperConfiguration(zk.ensemble().newClient(), clusterPath);
        ZooKeeperConfiguration.Versioned v = master.read();
        Configuration a = new Configuration(v.configuration().version() + 1, IDS, List.of(), List.of("x"));
        Configuration b = new Configuration(v.configuration().version() + 1, IDS, List.of(), List.of("y"));
        master.replace(v, a, false);
        assertThrows(ZooKeeperConfiguration.ConcurrentChangeException.class, () -> master.replace(v, b, true));
        assertEquals(a, master.read().configuration());
    }

    @Test
    void aRemovedReplicaRestartedWithItsOldDataIsRefusedAndTheGroupGoesOn() throws Exception {
        String leader = awaitLeader();
        String removed =
                IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        nodes.get(leader).removeMember(removed).get(60, TimeUnit.SECONDS);
        awaitRole(removed, Role.REMOVED);
        nodes.remove(removed).close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> startNode(removed, null));
        assertTrue(e.getMessage().contains("not a member"), e.getMessage());
        String now = awaitLeader(removed);
        List<String> members = new ArrayList<>(IDS);
        members.remove(removed);
        nodes.remove(removed);
        nodes.get(now).replica().propose(bytes("after")).get(30, TimeUnit.SECONDS);
        assertMembersApplied(List.of("after"), members);
    }

    @Test
    void aLeaderRemovedFromTheSetHandsOverToAnother() throws Exception {
        String leader = awaitLeader();
        nodes.get(leader).replica().propose(bytes("before")).get(30, TimeUnit.SECONDS);
        Configuration done = nodes.get(leader).removeMember(leader).get(60, TimeUnit.SECONDS);
        assertTrue(!done.contains(leader), done.toString());
        awaitRole(leader, Role.REMOVED);
        String next = awaitLeader(leader);
        assertNotEquals(leader, next);
        List<String> members = new ArrayList<>(IDS);
        members.remove(leader);
        assertMembersApplied(List.of("before"), members);
    }
}
