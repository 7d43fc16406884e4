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
package dev.tenure.bench;

import dev.tenure.replicator.Leadership;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicaExecutors;
import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.testing.InMemoryNetwork;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import dev.tenure.replicator.testing.InMemorySnapshotStore;
import java.io.Closeable;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The partitions' write path without sockets, disks or other processes: three simulated nodes in one JVM, each with
 * its own shared {@link ReplicaExecutors} and a sync thread that completes the syncs its replicas ask for in batches
 * (the write-ahead log's hand-offs, without its IO), every partition's three replicas on an {@link InMemoryNetwork}
 * (a message is a post to the receiver's event lane), in-memory logs, leaders spread over the nodes. It measures what
 * the replicas' own code costs per write — the cores' steps, the lanes, the applies — for many partitions with one
 * write in flight each against one partition with many, in alternating rounds in one JVM, with the process's CPU
 * time and allocation per write. A diagnostic for the partitions' per-message cost (docs/performance.md), not a
 * figure of the system: run it with {@code java -cp bench.jar dev.tenure.bench.InProcessPartitions [PARTITIONS
 * ROUNDS SECONDS]}.
 *
 * <p>Not thread-safe; one run at a time. {@link #close()} stops every replica and thread it started.
 */
final class InProcessPartitions implements Closeable {
    static final List<String> NODES = List.of("n1", "n2", "n3");

    /** One round of one shape. */
    record Round(String shape, long writes, double seconds, double cpuMicrosPerWrite, double bytesPerWrite) {
        double writesPerSecond() {
            return writes / seconds;
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "%s: %.0f writes/s, %.1f us CPU and %.0f bytes allocated per write",
                    shape,
                    writesPerSecond(),
                    cpuMicrosPerWrite,
                    bytesPerWrite);
        }
    }

    private final List<ReplicaExecutors> executors = new ArrayList<>();
    private final List<Syncer> syncers = new ArrayList<>();
    private final List<Replica> replicas = new ArrayList<>();
    /** The leader replica of each partition. */
    private final List<Replica> leaders = new ArrayList<>();

    /** Starts {@code partitions} partitions of three replicas, partition p led by node p mod 3, and waits for them. */
    InProcessPartitions(int partitions) throws Exception {
        for (String node : NODES) {
            executors.add(ReplicaExecutors.shared(node));
            Syncer s = new Syncer(node);
            s.start();
            syncers.add(s);
        }
        for (int p = 0; p < partitions; p++) {
            InMemoryNetwork network = new InMemoryNetwork();
            int leaderNode = p % NODES.size();
            for (int n = 0; n < NODES.size(); n++) {
                String id = NODES.get(n);
                InMemoryReplicaLog log = new InMemoryReplicaLog();
                Syncer syncer = syncers.get(n);
                boolean leads = n == leaderNode;
                Replica r = Replica.builder()
                        .config(CoreConfig.builder(id, NODES).build())
                        // The nodes are one process: each hears the others all the time, as a node's pings say.
                        .peerLiveness(peer -> System.nanoTime())
                        .log(log, () -> syncer.request(log))
                        .promises(new InMemoryPromiseStore())
                        .transport(network.transport(id))
                        .leadership(new FixedLeadership(leads))
                        // Snapshots keep the in-memory logs short (each partition's state is a few keys).
                        .stateMachine(new KeyValueStateMachine(true))
                        .snapshots(new InMemorySnapshotStore())
                        .snapshotPolicy(SnapshotPolicy.defaults().withEntries(20_000))
                        .executors(executors.get(n))
                        .proposalTimeout(Duration.ofSeconds(30))
                        .build();
                r.start();
                replicas.add(r);
                if (leads) {
                    leaders.add(r);
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (Replica leader : leaders) {
            while (leader.status().role() != Role.LEADER
                    || leader.status().followers().size() < 2) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("not led within 60 s: " + leader.status());
                }
                Thread.sleep(1); // polling a status with a deadline: start-up only, not measured
            }
        }
    }

    /**
     * Runs {@code perPartition} writers on each of the first {@code partitions} partitions for {@code seconds}, the
     * first {@code warmupSeconds} of them not counted.
     */
    Round run(int partitions, int perPartition, double warmupSeconds, double seconds) throws InterruptedException {
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong completed = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        java.util.concurrent.CountDownLatch retired =
                new java.util.concurrent.CountDownLatch(partitions * perPartition);
        byte[] value = new byte[100];
        for (int p = 0; p < partitions; p++) {
            Replica leader = leaders.get(p);
            for (int w = 0; w < perPartition; w++) {
                int key = p * perPartition + w;
                new Writer(leader, key, value, measuring, stop, completed, failed, retired).next();
            }
        }
        Thread.sleep((long) (warmupSeconds * 1000)); // the warm-up's length: a duration, not a hand-off
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long cpu0 = os.getProcessCpuTime();
        long bytes0 = allocated(threads);
        long t0 = System.nanoTime();
        measuring.set(true);
        Thread.sleep((long) (seconds * 1000)); // the measured interval's length
        measuring.set(false);
        long t1 = System.nanoTime();
        long cpu1 = os.getProcessCpuTime();
        long bytes1 = allocated(threads);
        stop.set(true);
        if (!retired.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException(retired.getCount() + " writers still had a write outstanding");
        }
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " writes failed");
        }
        long writes = completed.get();
        return new Round(
                partitions + " x " + perPartition,
                writes,
                (t1 - t0) / 1e9,
                writes == 0 ? 0 : (cpu1 - cpu0) / 1e3 / writes,
                writes == 0 ? 0 : (double) (bytes1 - bytes0) / writes);
    }

    private static long allocated(com.sun.management.ThreadMXBean threads) {
        long sum = 0;
        for (long b : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, b);
        }
        return sum;
    }

    @Override
    public void close() {
        replicas.forEach(Replica::close);
        syncers.forEach(Syncer::close);
        executors.forEach(ReplicaExecutors::close);
    }

    /** A closed-loop writer: one write at a time, the next from the completion of the last. */
    @SuppressWarnings("ArrayRecordComponent") // never compared; the template is only copied
    private record Writer(
            Replica leader,
            int key,
            byte[] template,
            AtomicBoolean measuring,
            AtomicBoolean stop,
            AtomicLong completed,
            AtomicLong failed,
            java.util.concurrent.CountDownLatch retired) {
        void next() {
            if (stop.get()) {
                retired.countDown();
                return;
            }
            byte[] payload = template.clone();
            KeyValueStateMachine.putKey(payload, key);
            var unused = leader.propose(payload).whenComplete((c, e) -> {
                if (e != null) {
                    failed.incrementAndGet();
                } else if (measuring.get()) {
                    completed.incrementAndGet();
                }
                next();
            });
        }
    }

    /** Elected at epoch 1 at start if it is the partition's leader; never changes. */
    private record FixedLeadership(boolean leads) implements Leadership {
        @Override
        public void start(Events events) {
            if (leads) {
                events.elected(1);
            }
        }

        @Override
        public void stepDown(long epoch) {}

        @Override
        public void close() {}
    }

    /**
     * A node's sync thread: completes the syncs its replicas ask for, in the batches that wait when it wakes, as the
     * write-ahead log's writer does after a force (without the force).
     */
    private static final class Syncer extends Thread implements Closeable {
        private record Request(Synced synced, CompletableFuture<Synced> done) {}

        private final LinkedBlockingQueue<Request> requests = new LinkedBlockingQueue<>();
        private volatile boolean closed;

        Syncer(String node) {
            super("inprocess-sync-" + node);
            setDaemon(true);
        }

        /** On a replica's event lane: the log's end and epoch now, durable once the future completes. */
        CompletableFuture<Synced> request(InMemoryReplicaLog log) {
            long end = log.sync();
            CompletableFuture<Synced> done = new CompletableFuture<>();
            requests.add(new Request(new Synced(end, end == 0 ? 0 : log.epochAt(end - 1)), done));
            return done;
        }

        @Override
        public void run() {
            List<Request> batch = new ArrayList<>();
            while (!closed) {
                try {
                    batch.add(requests.take());
                } catch (InterruptedException e) {
                    return;
                }
                requests.drainTo(batch);
                for (Request r : batch) {
                    r.done().complete(r.synced());
                }
                batch.clear();
            }
        }

        @Override
        public void close() {
            closed = true;
            interrupt();
        }
    }

    public static void main(String[] args) throws Exception {
        int partitions = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        try (InProcessPartitions cluster = new InProcessPartitions(partitions)) {
            // Warm-up of both shapes, then alternating rounds.
            System.out.println("warm-up: " + cluster.run(partitions, 1, 2, 10));
            System.out.println("warm-up: " + cluster.run(1, partitions, 2, 10));
            for (int r = 0; r < rounds; r++) {
                Round many = cluster.run(partitions, 1, 1, seconds);
                Round one = cluster.run(1, partitions, 1, seconds);
                System.out.printf(
                        Locale.ROOT,
                        "round %d: %s | %s | ratio %.2f%n",
                        r + 1,
                        many,
                        one,
                        many.writesPerSecond() / one.writesPerSecond());
            }
        }
    }
}
