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
package dev.tenure.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.testing.InMemoryNetwork;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import dev.tenure.replicator.testing.InMemorySnapshotStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The driver's side of snapshots: when it takes them, what it does when they fail, and what it refuses. */
class ReplicaSnapshotTest {
    private static final List<String> IDS = List.of("r0", "r1", "r2");

    private final InMemoryNetwork network = new InMemoryNetwork();
    private final Map<String, Replica> replicas = new LinkedHashMap<>();
    private final Map<String, ManualLeadership> leadership = new LinkedHashMap<>();
    private final Map<String, InMemorySnapshotStore> stores = new LinkedHashMap<>();
    private final Map<String, InMemoryReplicaLog> logs = new LinkedHashMap<>();
    /** Most bytes per append, fetch or snapshot chunk. */
    private long maxBatchBytes = 1 << 20;

    private Replica build(String id, StateMachine machine, SnapshotPolicy policy) {
        InMemoryReplicaLog log = logs.computeIfAbsent(id, k -> new InMemoryReplicaLog());
        InMemorySnapshotStore store = stores.computeIfAbsent(id, k -> new InMemorySnapshotStore());
        ManualLeadership l = new ManualLeadership();
        leadership.put(id, l);
        return Replica.builder()
                .config(CoreConfig.builder(id, IDS)
                        .catchUpTailEntries(5)
                        .maxBatchBytes(maxBatchBytes)
                        .build())
                .log(
                        log,
                        () -> {
                            long end = log.sync();
                            return new Synced(end, end == 0 ? 0 : log.epochAt(end - 1));
                        },
                        true)
                .promises(new InMemoryPromiseStore())
                .snapshots(store)
                .snapshotPolicy(policy)
                .transport(network.transport(id))
                .leadership(l)
                .stateMachine(machine)
                .proposalTimeout(Duration.ofSeconds(5))
                .build();
    }

    private void startAll(java.util.function.Function<String, StateMachine> machines, SnapshotPolicy policy)
            throws Exception {
        for (String id : IDS) {
            Replica r = build(id, machines.apply(id), policy);
            r.start();
            replicas.put(id, r);
        }
        leadership.get("r0").elect(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (replicas.get("r0").status().role() != Role.LEADER) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(
                        "r0 did not lead: " + replicas.get("r0").status());
            }
            Thread.sleep(5); // polling a status snapshot
        }
    }

    @AfterEach
    void stop() {
        replicas.values().forEach(Replica::close);
    }

    private Committed write(int n) throws Exception {
        List<CompletableFuture<Committed>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fs.add(replicas.get("r0").propose(("v" + i).getBytes(StandardCharsets.UTF_8)));
        }
        Committed last = null;
        for (CompletableFuture<Committed> f : fs) {
            last = f.get(10, TimeUnit.SECONDS);
        }
        return last;
    }

    @Test
    void takeSnapshotWritesOneAtTheAppliedOffsetAndTheLogIsCompactedBelowItLessTheTail() throws Exception {
        startAll(id -> new SnapshottingMachine(), SnapshotPolicy.defaults().withOnStop(false));
        Committed last = write(40);
        replicas.get("r0").awaitApplied(last.offset() + 1).get(10, TimeUnit.SECONDS);
        SnapshotId id = replicas.get("r0").takeSnapshot().get(10, TimeUnit.SECONDS);
        assertEquals(replicas.get("r0").appliedOffset(), id.offset());
        assertEquals(id, stores.get("r0").latest().orElseThrow().id());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (logs.get("r0").logStartOffset() != id.offset() - 5) { // compacted on the event thread
            assertTrue(
                    System.nanoTime() < deadline, "log start " + logs.get("r0").logStartOffset());
            Thread.sleep(5); // polling the log's start
        }
        SnapshotId again = replicas.get("r0").takeSnapshot().get(10, TimeUnit.SECONDS);
        assertEquals(id, again, "nothing applied since: the newest snapshot's id");
    }

    @Test
    void theEntryThresholdTriggersSnapshotsOnItsOwn() throws Exception {
        startAll(
                id -> new SnapshottingMachine(),
                SnapshotPolicy.defaults().withEntries(10).withRandomSpread(0));
        for (int round = 0; round < 5; round++) {
            Committed last = write(6);
            for (Replica r : replicas.values()) {
                r.awaitApplied(last.offset() + 1).get(10, TimeUnit.SECONDS);
            }
        }
        for (String id : IDS) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (stores.get(id).latest().isEmpty()) {
                assertTrue(System.nanoTime() < deadline, id + " took no snapshot after 30 entries");
                Thread.sleep(5); // polling the store
            }
        }
    }

    @Test
    void aStateMachineWithoutSnapshotsFailsTakeSnapshotAndItsLogIsNeverCompacted() throws Exception {
        startAll(id -> new KeyValueMachine(), SnapshotPolicy.defaults().withEntries(1));
        Committed last = write(30);
        replicas.get("r0").awaitApplied(last.offset() + 1).get(10, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(
                ExecutionException.class,
                () -> replicas.get("r0").takeSnapshot().get(10, TimeUnit.SECONDS));
        assertInstanceOf(UnsupportedOperationException.class, e.getCause());
        assertTrue(stores.get("r0").latest().isEmpty());
        assertEquals(0, logs.get("r0").logStartOffset());
    }

    @Test
    void aCaptureThatThrowsFailsThatSnapshotOnlyAndTheReplicaGoesOn() throws Exception {
        startAll(
                id -> new SnapshottingMachine() {
                    @Override
                    public synchronized SnapshotWriter snapshot() {
                        throw new IllegalStateException("capture failed");
                    }
                },
                SnapshotPolicy.defaults().withOnStop(false));
        write(5);
        ExecutionException e = assertThrows(
                ExecutionException.class,
                () -> replicas.get("r0").takeSnapshot().get(10, TimeUnit.SECONDS));
        assertEquals("capture failed", e.getCause().getMessage());
        Committed after = write(5);
        assertTrue(after.offset() > 5, "the replica still commits");
        assertEquals(Role.LEADER, replicas.get("r0").status().role());
    }

    @Test
    void aReplicaHoldingSnapshotsRefusesAStateMachineWithoutThem() throws Exception {
        InMemorySnapshotStore store = stores.computeIfAbsent("r0", k -> new InMemorySnapshotStore());
        InMemoryReplicaLog log = logs.computeIfAbsent("r0", k -> new InMemoryReplicaLog());
        log.append(List.of(dev.tenure.replicator.core.Entry.epochStart(1, 0)));
        log.sync();
        store.write(
                new SnapshotId(1, 1),
                dev.tenure.replicator.core.EpochHistory.empty().withEntry(1, 0),
                IDS,
                out -> {});
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> build("r0", new KeyValueMachine(), SnapshotPolicy.defaults()));
        assertTrue(e.getMessage().contains("does not support snapshots"), e.getMessage());
    }

    @Test
    void takeSnapshotBeforeAnythingIsAppliedFailsAtOnceAndAfterCloseFails() throws Exception {
        Replica r = build("r0", new SnapshottingMachine(), SnapshotPolicy.defaults());
        replicas.put("r0", r);
        r.start();
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> r.takeSnapshot().get(10, TimeUnit.SECONDS));
        assertTrue(
                e.getCause().getMessage().contains("applied nothing yet"),
                e.getCause().getMessage());
        r.close();
        assertThrows(ExecutionException.class, () -> r.takeSnapshot().get(10, TimeUnit.SECONDS));
    }

    @Test
    void snapshotPolicyRefusesSettingsOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> new SnapshotPolicy(0, 1, 0.5, true));
        assertThrows(IllegalArgumentException.class, () -> new SnapshotPolicy(1, 0, 0.5, true));
        assertThrows(IllegalArgumentException.class, () -> new SnapshotPolicy(1, 1, 1.0, true));
        assertThrows(IllegalArgumentException.class, () -> new SnapshotPolicy(1, 1, -0.1, true));
    }

    @Test
    void closeTakesASnapshotOfWhatWasAppliedSinceTheLastOne() throws Exception {
        startAll(id -> new SnapshottingMachine(), SnapshotPolicy.defaults());
        Committed last = write(12);
        replicas.get("r1").awaitApplied(last.offset() + 1).get(10, TimeUnit.SECONDS);
        long applied = replicas.get("r1").appliedOffset();
        replicas.get("r1").close();
        assertEquals(applied, stores.get("r1").latest().orElseThrow().id().offset());
    }

    @Test
    void anInstallInProgressShowsInTheStatusUntilItCompletes() throws Exception {
        maxBatchBytes = 16; // a snapshot of 40 entries takes many chunks
        startAll(id -> new SnapshottingMachine(), SnapshotPolicy.defaults().withOnStop(false));
        network.isolate("r2", IDS);
        Committed last = write(40);
        replicas.get("r0").awaitApplied(last.offset() + 1).get(10, TimeUnit.SECONDS);
        SnapshotId snap = replicas.get("r0").takeSnapshot().get(10, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (logs.get("r0").logStartOffset() == 0) { // compacted on the event thread
            assertTrue(System.nanoTime() < deadline, "r0 did not compact");
            Thread.sleep(5); // polling the log's start
        }
        network.healAll();
        // Only the first chunk gets through: the install starts and stays in progress.
        network.drop(m -> m instanceof Message.SnapshotChunk c && c.position() > 0);
        Replica.InstallStatus in =
                awaitStatus("r2", s -> s.install().inProgress()).install();
        assertEquals("r0", in.source());
        assertEquals(snap.offset(), in.offset());
        assertEquals(snap.epoch(), in.epoch());
        assertEquals(stores.get("r0").latest().orElseThrow().sizeBytes(), in.sizeBytes());
        assertTrue(in.receivedBytes() < in.sizeBytes(), in.toString());
        assertEquals(Replica.InstallStatus.NONE, replicas.get("r0").status().install(), "the source installs nothing");
        network.healAll();
        Replica.Status done = awaitStatus(
                "r2",
                s -> s.snapshot().offset() == snap.offset() && !s.install().inProgress());
        assertEquals(Replica.InstallStatus.NONE, done.install());
    }

    private Replica.Status awaitStatus(String id, java.util.function.Predicate<Replica.Status> p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Replica.Status s = replicas.get(id).status();
            if (p.test(s)) {
                return s;
            }
            assertTrue(System.nanoTime() < deadline, id + ": " + s);
            Thread.sleep(5); // polling a status snapshot
        }
    }
}
