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

import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicaListener;
import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.SnapshottingMachine;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.core.SnapshotStore;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots end to end: three replicas with real files ({@code SegmentedLog}, {@code FileSnapshotStore}) and the
 * Netty transport on loopback, elected on an in-process ZooKeeper ensemble, snapshotting every 50 entries (checked
 * after each batch the apply thread applies) and keeping a catch-up tail of 10 in 1 KiB segments (docs/replication.md,
 * "Snapshots"). Writes go in rounds that each wait for every replica to apply them, so that snapshots are taken
 * along the way.
 */
@Tag("zookeeper")
class SnapshotIntegrationTest {
    private static final List<String> IDS = List.of("r1", "r2", "r3");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-snap/" + UUID.randomUUID();
    /**
     * By id; concurrent, since a writer thread waits on every node while the test thread starts one again
     * ({@link #emptyDiskFollowerConvergesByInstallWhileWritesGoOn}).
     */
    private final Map<String, ZooKeeperReplica> nodes = new ConcurrentSkipListMap<>();

    private final Map<String, SnapshottingMachine> machines = new LinkedHashMap<>();
    private final Map<String, CuratorFramework> clients = new LinkedHashMap<>();
    private final Map<String, AtomicInteger> installs = new LinkedHashMap<>();
    /** Whether a replica snapshots when it closes; off to restart as after a crash. */
    private boolean snapshotOnStop = true;

    @BeforeEach
    void startReplicas() throws Exception {
        for (String id : IDS) {
            startNode(id);
        }
    }

    private void startNode(String id) throws Exception {
        CuratorFramework client = clients.get(id);
        if (client == null) {
            client = zk.ensemble().newClient(zk.ensemble().clientBuilder().sessionTimeoutMs(3000));
            clients.put(id, client);
        }
        SnapshottingMachine machine = new SnapshottingMachine();
        AtomicInteger installed = installs.computeIfAbsent(id, k -> new AtomicInteger());
        ZooKeeperReplica node = ZooKeeperReplica.builder(client, clusterPath)
                .id(id)
                .members(IDS)
                .dataDir(dataDir.resolve(id))
                .stateMachine(machine)
                .logConfig(LogConfig.builder().maxSegmentBytes(1024).build()) // about 30 entries a segment
                .snapshotPolicy(SnapshotPolicy.defaults()
                        .withEntries(50)
                        .withRandomSpread(0)
                        .withOnStop(snapshotOnStop))
                .tuning(t -> t.catchUpTailEntries(10).maxBatchBytes(4096))
                .listener(new ReplicaListener() {
                    @Override
                    public void snapshotInstalled(SnapshotId snapshot, long sizeBytes) {
                        installed.incrementAndGet();
                    }
                })
                .build();
        machines.put(id, machine);
        node.start();
        nodes.put(id, node);
    }

    @AfterEach
    void stop() {
        nodes.values().forEach(ZooKeeperReplica::close);
        clients.values().forEach(CuratorFramework::close);
    }

    private String awaitLeader() throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (Map.Entry<String, ZooKeeperReplica> e : nodes.entrySet()) {
                var s = e.getValue().replica().status();
                if (s.role() == Role.LEADER && s.commitOffset() > 0) {
                    return e.getKey();
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException("no leader among " + nodes.keySet());
    }

    /** Writes {@code rounds} rounds of {@code n}, each applied everywhere before the next. */
    private Committed writeRounds(String leader, String prefix, int rounds, int n) throws Exception {
        Committed last = null;
        for (int r = 0; r < rounds; r++) {
            last = writeAll(leader, prefix + r + "-", n);
            awaitAllApplied(last.offset() + 1);
        }
        return last;
    }

    /** Polls the replica's status (refreshed every tick) until {@code condition} holds. */
    private Replica.Status awaitStatus(String id, Predicate<Replica.Status> condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Replica.Status s = nodes.get(id).replica().status();
            if (condition.test(s)) {
                return s;
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException(id + ": " + nodes.get(id).replica().status());
    }

    private Committed writeAll(String leader, String prefix, int n) throws Exception {
        List<CompletableFuture<Committed>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fs.add(nodes.get(leader).replica().propose((prefix + i).getBytes(StandardCharsets.UTF_8)));
        }
        Committed last = null;
        for (CompletableFuture<Committed> f : fs) {
            last = f.get(30, TimeUnit.SECONDS);
        }
        return last;
    }

    private void awaitAllApplied(long offset) throws Exception {
        for (ZooKeeperReplica n : nodes.values()) {
            n.replica().awaitApplied(offset).get(30, TimeUnit.SECONDS);
        }
    }

    private static List<Path> snapshotFiles(Path nodeDir) throws IOException {
        try (Stream<Path> files = Files.list(nodeDir.resolve("snapshots"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".snap"))
                    .sorted()
                    .toList();
        }
    }

    @Test
    void restartFromSnapshotPlusTailGivesTheSameStateAndReplaysOnlyTheTail() throws Exception {
        snapshotOnStop = false; // a restart as after a crash: the newest snapshot is one taken by its trigger
        nodes.values().forEach(ZooKeeperReplica::close);
        nodes.clear();
        for (String id : IDS) {
            startNode(id);
        }
        String leader = awaitLeader();
        writeRounds(leader, "a", 6, 40);
        Committed last = writeAll(leader, "tail", 10); // fewer than the 50 that trigger a snapshot
        awaitAllApplied(last.offset() + 1);
        String follower =
                IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        Replica.Status current = awaitStatus(
                follower,
                s -> s.appliedOffset() > last.offset() && s.snapshot().offset() > 0 && s.logStartOffset() > 0);
        // Where a snapshot falls depends on how applies were batched: one may cover the tail too. Write a few more
        // (fewer than the trigger) until the follower has entries after its newest snapshot, bounded.
        for (int round = 0; current.appliedOffset() - current.snapshot().offset() < 2; round++) {
            assertTrue(round < 5, "every tail was covered by a snapshot: " + current);
            Committed more = writeAll(leader, "tail" + round + "-", 5);
            awaitAllApplied(more.offset() + 1);
            current = awaitStatus(follower, s -> s.appliedOffset() > more.offset());
        }
        Replica.Status before = current;
        List<String> state = machines.get(follower).applied();

        nodes.remove(follower).close();
        startNode(follower);
        assertEquals(1, machines.get(follower).restores(), "restored from the snapshot at start");
        // The tail is replayed once the leader says it is committed (the commit offset is learned, not stored).
        nodes.get(follower).replica().awaitApplied(before.appliedOffset()).get(30, TimeUnit.SECONDS);
        Replica.Status after = awaitStatus(follower, s -> s.appliedOffset() == before.appliedOffset());
        assertEquals(state, machines.get(follower).applied(), "the same state after the restart");
        assertEquals(1, machines.get(follower).restores());
        // Exactly what follows the snapshot it restored is replayed (the status read before the close may lag a
        // snapshot taken just before it, so the restored snapshot's own offset is the measure).
        long restoredAt = machines.get(follower).restoredOffset();
        assertTrue(restoredAt > 0, "restored a snapshot with entries: " + restoredAt);
        assertTrue(
                machines.get(follower).appliedOneByOne() <= after.appliedOffset() - restoredAt
                        && machines.get(follower).appliedOneByOne() < state.size(),
                "only the entries after the snapshot at " + restoredAt + " are replayed: "
                        + machines.get(follower).appliedOneByOne() + " of " + state.size());
        assertEquals(before.appliedOffset(), after.appliedOffset());

        Committed more = writeAll(awaitLeader(), "b", 20);
        awaitAllApplied(more.offset() + 1);
        assertEquals(machines.get(leader).applied(), machines.get(follower).applied());
    }

    @Test
    void emptyDiskFollowerConvergesByInstallWhileWritesGoOn() throws Exception {
        String leader = awaitLeader();
        writeRounds(leader, "a", 5, 40);
        awaitStatus(leader, s -> s.logStartOffset() > 0);
        String follower =
                IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        nodes.remove(follower).close();
        try (Stream<Path> files = Files.walk(dataDir.resolve(follower))) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p); // the disk is gone
            }
        }
        CompletableFuture<Committed> writes = CompletableFuture.supplyAsync(() -> {
            try {
                return writeRounds(leader, "b", 5, 60);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        startNode(follower);
        Committed last = writes.get(60, TimeUnit.SECONDS);
        awaitAllApplied(last.offset() + 1);
        assertTrue(installs.get(follower).get() >= 1, "the empty follower was brought up by a snapshot install");
        assertTrue(nodes.get(follower).replica().status().logStartOffset() > 0, "its log starts at a snapshot");
        assertEquals(machines.get(leader).applied(), machines.get(follower).applied());
    }

    @Test
    void corruptNewestSnapshotFallsBackToTheOlderAndBothCorruptRefusesToStart() throws Exception {
        String leader = awaitLeader();
        Committed last = writeRounds(leader, "a", 6, 40);
        String follower =
                IDS.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        awaitStatus(
                follower, s -> s.appliedOffset() > last.offset() && s.snapshot().offset() > 0);
        List<String> state = machines.get(follower).applied();
        nodes.remove(follower).close();
        List<Path> snaps = snapshotFiles(dataDir.resolve(follower));
        assertEquals(2, snaps.size(), "the newest and one older are kept: " + snaps);

        flipAByte(snaps.get(1));
        startNode(follower);
        nodes.get(follower).replica().awaitApplied(last.offset() + 1).get(30, TimeUnit.SECONDS);
        assertEquals(state, machines.get(follower).applied(), "restored from the older snapshot plus the log");
        nodes.remove(follower).close(); // the snapshot taken on stop is the newest again, the older one is kept

        for (Path snap : snapshotFiles(dataDir.resolve(follower))) {
            flipAByte(snap);
        }
        Exception e = assertThrows(SnapshotStore.CorruptSnapshotException.class, () -> startNode(follower));
        assertTrue(e.getMessage().contains(".snap"), "names the files: " + e.getMessage());
    }

    private static void flipAByte(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);
    }
}
