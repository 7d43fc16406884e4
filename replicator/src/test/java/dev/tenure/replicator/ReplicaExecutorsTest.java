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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.testing.InMemoryNetwork;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Replicas on a shared set of threads: many groups, a fixed number of threads, each group on its own. */
class ReplicaExecutorsTest {
    private static final List<String> IDS = List.of("r0", "r1", "r2");

    private final List<Replica> replicas = new ArrayList<>();
    private ReplicaExecutors shared;

    /** One replica group (one partition's replicas) on its own in-memory network, all on the shared set. */
    private final class Group {
        final InMemoryNetwork network = new InMemoryNetwork();
        final List<Replica> members = new ArrayList<>();
        final List<ManualLeadership> leadership = new ArrayList<>();
        final List<KeyValueMachine> machines = new ArrayList<>();

        Group() throws Exception {
            this(false, Duration.ofSeconds(10), id -> Long.MIN_VALUE);
        }

        Group(boolean quiesce, Duration checkQuorum, PeerLiveness liveness) throws Exception {
            for (String id : IDS) {
                InMemoryReplicaLog log = new InMemoryReplicaLog();
                ManualLeadership l = new ManualLeadership();
                KeyValueMachine m = new KeyValueMachine();
                Replica r = Replica.builder()
                        .config(CoreConfig.builder(id, IDS)
                                .quiesce(quiesce)
                                .checkQuorum(checkQuorum)
                                .build())
                        .peerLiveness(liveness)
                        .log(
                                log,
                                () -> {
                                    long end = log.sync();
                                    return new Synced(end, end == 0 ? 0 : log.epochAt(end - 1));
                                },
                                true)
                        .promises(new InMemoryPromiseStore())
                        .transport(network.transport(id))
                        .leadership(l)
                        .stateMachine(m)
                        .executors(shared)
                        .proposalTimeout(Duration.ofSeconds(10))
                        .build();
                r.start();
                members.add(r);
                leadership.add(l);
                machines.add(m);
                replicas.add(r);
            }
        }

        Replica leader() {
            return members.get(0);
        }

        void elect() throws Exception {
            leadership.get(0).elect(1);
            await(() -> leader().status().role() == Role.LEADER, "r0 leads: " + leader().status());
        }
    }

    @AfterEach
    void stop() {
        replicas.forEach(Replica::close);
        if (shared != null) {
            shared.close();
        }
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            TimeUnit.MILLISECONDS.sleep(2); // polling a condition, with a deadline
        }
    }

    private static Set<String> tenureThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("tenure-"))
                .collect(Collectors.toSet());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void sixtyReplicasOnASharedSetRunOnItsFixedThreadsAndEveryGroupCommitsItsWrites() throws Exception {
        shared = ReplicaExecutors.shared("node-a", 2, 2, 1);
        List<Group> groups = new ArrayList<>();
        for (int g = 0; g < 20; g++) {
            groups.add(new Group());
        }
        for (Group g : groups) {
            g.elect();
        }
        List<CompletableFuture<Committed>> writes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            for (int g = 0; g < groups.size(); g++) {
                writes.add(groups.get(g).leader().propose(bytes("g" + g + "-" + i)));
            }
        }
        for (CompletableFuture<Committed> w : writes) {
            w.get(20, TimeUnit.SECONDS);
        }
        for (int g = 0; g < groups.size(); g++) {
            Group group = groups.get(g);
            for (KeyValueMachine m : group.machines) {
                await(() -> m.applied().size() == 10, "every replica of group " + g + " applied its 10 writes");
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                expected.add("g" + g + "-" + i);
            }
            for (KeyValueMachine m : group.machines) {
                assertEquals(expected, m.applied(), "group " + g + " applies its own writes, in order");
            }
        }
        Set<String> threads = tenureThreads();
        assertEquals(
                Set.of(),
                threads.stream().filter(n -> !n.startsWith("tenure-node-a-")).collect(Collectors.toSet()),
                "no thread of a replica's own");
        assertTrue(threads.size() <= shared.threads(), threads + " exceed the set's " + shared.threads());
        assertEquals(60, shared.tickedReplicas());
    }

    @Test
    void aClosedReplicaGroupLeavesTheOthersOnTheSetRunning() throws Exception {
        shared = ReplicaExecutors.shared("node-b", 2, 1, 1);
        Group closed = new Group();
        Group running = new Group();
        closed.elect();
        running.elect();
        closed.members.forEach(Replica::close);
        assertEquals(3, shared.tickedReplicas(), "closed replicas are no longer ticked");
        running.leader().propose(bytes("after")).get(10, TimeUnit.SECONDS);
        assertEquals(List.of("after"), running.machines.get(0).applied());
        assertThrows(
                java.util.concurrent.ExecutionException.class,
                () -> closed.leader().propose(bytes("closed")).get(10, TimeUnit.SECONDS));
    }

    @Test
    void closingTheSetStopsItsThreads() throws Exception {
        shared = ReplicaExecutors.shared("node-c", 2, 2, 1);
        Group g = new Group();
        g.elect();
        g.members.forEach(Replica::close);
        shared.close();
        await(
                () -> tenureThreads().stream().noneMatch(n -> n.startsWith("tenure-node-c-")),
                "the set's threads stopped: " + tenureThreads());
        assertThrows(IllegalStateException.class, Group::new, "a closed set takes no replica");
    }

    @Test
    void aLaneRunsItsTasksOneAtATimeInOrderOnASharedPool() throws Exception {
        shared = ReplicaExecutors.shared("node-d", 4, 1, 1);
        ReplicaExecutors.Lane lane = shared.forReplica().lane(ReplicaExecutors.Role.EVENT);
        AtomicInteger running = new AtomicInteger();
        AtomicBoolean overlapped = new AtomicBoolean();
        List<Integer> order = java.util.Collections.synchronizedList(new ArrayList<>());
        int n = 2_000;
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            int task = i;
            lane.execute(() -> {
                if (running.incrementAndGet() > 1) {
                    overlapped.set(true);
                }
                order.add(task);
                running.decrementAndGet();
                done.countDown();
            });
        }
        assertTrue(done.await(20, TimeUnit.SECONDS));
        assertFalse(overlapped.get(), "two tasks of one lane ran at once");
        for (int i = 0; i < n; i++) {
            assertEquals(i, order.get(i));
        }
    }

    @Test
    void aShutDownLaneRefusesNewTasksRunsTheQueuedOnesAndShutdownNowDropsThem() throws Exception {
        shared = ReplicaExecutors.shared("node-e", 1, 1, 1);
        ReplicaExecutors.Lane lane = shared.forReplica().lane(ReplicaExecutors.Role.EVENT);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger ran = new AtomicInteger();
        lane.execute(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ran.incrementAndGet();
        });
        lane.execute(ran::incrementAndGet);
        lane.shutdown();
        assertThrows(RejectedExecutionException.class, () -> lane.execute(ran::incrementAndGet));
        assertFalse(lane.awaitTermination(50, TimeUnit.MILLISECONDS), "a task is still queued");
        release.countDown();
        assertTrue(lane.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(2, ran.get(), "both queued tasks ran");

        ReplicaExecutors.Lane dropping = shared.forReplica().lane(ReplicaExecutors.Role.EVENT);
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger ranAfter = new AtomicInteger();
        dropping.execute(() -> {
            started.countDown();
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        dropping.execute(ranAfter::incrementAndGet);
        assertTrue(started.await(10, TimeUnit.SECONDS));
        dropping.shutdownNow();
        hold.countDown();
        assertTrue(dropping.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(0, ranAfter.get(), "the queued task was dropped");
    }

    @Test
    void aLaneShutDownWhileTasksArriveTerminatesOnceEveryAcceptedTaskRanAndRefusesTheRest() throws Exception {
        shared = ReplicaExecutors.shared("node-g", 2, 1, 1);
        for (int round = 0; round < 200; round++) {
            ReplicaExecutors.Lane lane = shared.forReplica().lane(ReplicaExecutors.Role.EVENT);
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            CountDownLatch submitted = new CountDownLatch(50); // shut down once the lane is busy
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                boolean here = t == 0; // one submitter runs its tasks on its own thread when the lane is idle
                Thread s = new Thread(() -> {
                    while (true) {
                        try {
                            if (here) {
                                if (lane.runHereIfIdle(ran::incrementAndGet, 4)) {
                                    accepted.incrementAndGet();
                                    submitted.countDown();
                                    continue;
                                }
                            }
                            lane.execute(ran::incrementAndGet);
                            accepted.incrementAndGet();
                            submitted.countDown();
                        } catch (RejectedExecutionException e) {
                            refused.incrementAndGet();
                            return;
                        }
                    }
                });
                s.start();
                submitters.add(s);
            }
            assertTrue(submitted.await(10, TimeUnit.SECONDS));
            lane.shutdown();
            assertTrue(lane.awaitTermination(10, TimeUnit.SECONDS), "round " + round + ": the lane terminated");
            int ranByTermination = ran.get();
            for (Thread s : submitters) {
                s.join(10_000);
            }
            // A submitter counts its task after execute returns: the count is whole once they have all been refused.
            assertEquals(
                    accepted.get(),
                    ranByTermination,
                    "round " + round + ": every accepted task ran before termination");
            assertEquals(3, refused.get(), "round " + round + ": each submitter was refused once shut down");
        }
    }

    @Test
    void quietReplicasTickAboutOnceACheckQuorumTenthInsteadOfEveryTenMilliseconds() throws Exception {
        shared = ReplicaExecutors.shared("node-f", 2, 1, 1);
        Group quiet = new Group(true, Duration.ofSeconds(10), id -> System.nanoTime());
        Group busy = new Group(false, Duration.ofSeconds(10), id -> Long.MIN_VALUE);
        quiet.elect();
        busy.elect();
        quiet.leader().propose(bytes("x")).get(10, TimeUnit.SECONDS);
        for (Replica r : quiet.members) {
            await(r::quiet, r.id() + " goes quiet");
        }
        assertEquals(3, shared.quietReplicas(), "the timer looks at the quiet group's replicas now and then only");
        long[] before = quiet.members.stream().mapToLong(Replica::ticksRun).toArray();
        long busyBefore = busy.leader().ticksRun();
        long started = System.nanoTime();
        await(() -> busy.leader().ticksRun() - busyBefore >= 50, "the busy leader ticks 50 times");
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        for (int i = 0; i < IDS.size(); i++) {
            long ticks = quiet.members.get(i).ticksRun() - before[i];
            // 1 s between ticks while quiet; a tick may be under way at the start of the window
            assertTrue(
                    ticks <= elapsedMs / 1000 + 2, IDS.get(i) + " ticked " + ticks + " times in " + elapsedMs + " ms");
        }
        assertEquals(List.of("x"), quiet.machines.get(1).applied(), "a follower applied the write before going quiet");
    }

    @Test
    void aQuietLeaderKeepsItsTermWhileItsNodeHearsFromThePeersAndGivesItUpWhenItDoesNot() throws Exception {
        shared = ReplicaExecutors.shared("node-g", 2, 1, 1);
        Duration checkQuorum = Duration.ofMillis(400);
        Group heard = new Group(true, checkQuorum, id -> System.nanoTime());
        Group deaf = new Group(true, checkQuorum, id -> Long.MIN_VALUE);
        heard.elect();
        deaf.elect();
        long elected = System.nanoTime();
        await(() -> deaf.leader().status().role() != Role.LEADER, "the leader that hears nobody gives up its term");
        await(
                () -> System.nanoTime() - elected > 3 * checkQuorum.toNanos(),
                "three check-quorum intervals pass"); // the claim is about time passing
        await(heard.leader()::quiet, "the heard leader is quiet");
        assertEquals(Role.LEADER, heard.leader().status().role(), "heard through its node");
        assertTrue(heard.leader().quiet());
    }
}
