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
package dev.tenure.demo.node;

import dev.tenure.demo.http.RequestListener;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicaListener;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.metrics.ReplicaMetrics;
import dev.tenure.replicator.zookeeper.ZooKeeperNode;
import dev.tenure.replicator.zookeeper.ZooKeeperReplica;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The {@code tenure_*} meters of one replica (see {@code docs/demo-app.md}) and the JVM's, in one Prometheus
 * registry. It learns of requests as the HTTP routes' {@link RequestListener}, of refused stale messages and of
 * snapshots taken and installed as a {@link ReplicaListener}, of won terms from the node's status sampling, and reads
 * the replica's status (offsets, the newest snapshot) when scraped. Thread-safe.
 *
 * <p>A partitioned node's per-log meters ({@link #watchPartitions}) carry the label {@code partition="ID"}, and so do
 * its {@code tenure_proposals} and {@code tenure_elections}; the single log's carry none, as before. The label's
 * values are the partition ids {@code 0}..{@code P-1}, so its cardinality is bounded by {@code P} ({@code
 * --partitions}, at most {@link dev.tenure.demo.kv.Partitioning#MAX_PARTITIONS}): about a dozen series per partition,
 * plus one lag series per partition and follower. The commit latency histogram stays one per node (not per
 * partition), so that its buckets are not multiplied by {@code P}.
 */
final class KvMetrics implements RequestListener, ReplicaListener {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicLong staleRefusals = new AtomicLong();
    private final Timer commitLatency;
    /** The single log's won terms: registered by {@link #watch} (a partitioned node counts per partition). */
    private volatile Counter elections;

    private final Counter fencedRequests;
    private final Timer snapshotDuration;
    private final Counter snapshotsTaken;
    private final Counter snapshotInstalls;
    private final Counter leaderSuspicions;
    /** Whether meters carry a partition label (set once, by {@link #watchPartitions}, before requests arrive). */
    private volatile boolean partitioned;

    /**
     * One partition as the meters read it.
     *
     * @param id the partition id, the label's value
     * @param replica its replica on this node
     */
    record PartitionView(String id, Replica replica) {}

    KvMetrics() {
        commitLatency = Timer.builder("tenure_commit_latency")
                .description("time from proposal to commit and apply on the leader")
                .publishPercentileHistogram()
                .register(registry);
        FunctionCounter.builder("tenure_stale_epoch_refusals", staleRefusals, AtomicLong::get)
                .description("messages of an older epoch this replica refused (fenced zombies)")
                .register(registry);
        fencedRequests = Counter.builder("tenure_fenced_requests")
                .description("requests refused because this replica does not lead (redirected or refused)")
                .register(registry);
        snapshotDuration = Timer.builder("tenure_snapshot_duration")
                .description("time to write a snapshot this replica took, from capture to durable file")
                .publishPercentileHistogram()
                .register(registry);
        snapshotsTaken = Counter.builder("tenure_snapshots_taken")
                .description("snapshots this replica took of its state machine")
                .register(registry);
        snapshotInstalls = Counter.builder("tenure_snapshot_installs")
                .description("snapshots this replica installed from another replica")
                .register(registry);
        leaderSuspicions = Counter.builder("tenure_leader_suspicions")
                .description("times this follower suspected its leader (fast failover: silent for the suspicion"
                        + " timeout)")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
    }

    /** Registers the meters read from a started replica: its transport, status and followers' lag. */
    void watch(ZooKeeperReplica node, Supplier<Replica.Status> status, String self, List<String> replicas) {
        elections = Counter.builder("tenure_elections")
                .description("terms this replica won")
                .register(registry);
        FunctionCounter.builder("tenure_transport_dropped_messages", node, ZooKeeperReplica::transportMessagesDropped)
                .description("replication messages the transport dropped (a peer not connected or not keeping up)")
                .register(registry);
        // The library's meters of the replica: epoch, role, offsets, follower lag, proposals, commit and sync latency.
        new ReplicaMetrics(node.replica(), Tags.empty(), replicas).bindTo(registry);
        Gauge.builder("tenure_snapshot_size", () -> status.get().snapshot().sizeBytes())
                .description("file size of this replica's newest snapshot (0: none)")
                .baseUnit(BaseUnits.BYTES)
                .register(registry);
    }

    /**
     * Registers the meters of a started partitioned node: the node's counts, and for each partition its status
     * meters, labelled with its id.
     */
    void watchPartitions(ZooKeeperNode node, List<PartitionView> partitions, String self) {
        partitioned = true;
        for (PartitionView p : partitions) {
            Counter.builder("tenure_elections")
                    .tag("partition", p.id())
                    .description("terms this replica won")
                    .register(registry);
        }
        Gauge.builder("tenure_partitions", partitions::size)
                .description("partitions this node hosts")
                .register(registry);
        Gauge.builder("tenure_partitions_led", () -> node.leading().size())
                .description("partitions this node leads now")
                .register(registry);
        FunctionCounter.builder("tenure_unknown_partition_messages", node, ZooKeeperNode::unknownPartitionMessages)
                .description("replication messages received for a partition this node does not host (dropped)")
                .register(registry);
        FunctionCounter.builder("tenure_transport_messages_sent", node, ZooKeeperNode::messagesSent)
                .description("replication messages this node sent, every partition's")
                .register(registry);
        for (PartitionView p : partitions) {
            Replica replica = p.replica();
            new ReplicaMetrics(
                            replica,
                            Tags.of("partition", p.id()),
                            List.copyOf(replica.status().configuration().voters()))
                    .bindTo(registry);
        }
    }

    @Override
    public void proposalEnded(String outcome, long nanos) {
        if (outcome.equals("committed")) {
            commitLatency.record(nanos, TimeUnit.NANOSECONDS);
        }
        registry.counter("tenure_proposals", "outcome", outcome).increment();
    }

    @Override
    public void proposalEnded(String partition, String outcome, long nanos) {
        if (!partitioned) {
            proposalEnded(outcome, nanos);
            return;
        }
        if (outcome.equals("committed")) {
            commitLatency.record(nanos, TimeUnit.NANOSECONDS);
        }
        registry.counter("tenure_proposals", "outcome", outcome, "partition", partition)
                .increment();
    }

    @Override
    public void fenced() {
        fencedRequests.increment();
    }

    @Override
    public void staleEpochRefused(String from, long staleEpoch, long promisedEpoch) {
        staleRefusals.incrementAndGet();
    }

    @Override
    public void snapshotTaken(SnapshotId snapshot, long sizeBytes, long nanos) {
        snapshotDuration.record(nanos, TimeUnit.NANOSECONDS);
        snapshotsTaken.increment();
    }

    @Override
    public void snapshotInstalled(SnapshotId snapshot, long sizeBytes) {
        snapshotInstalls.increment();
    }

    @Override
    public void leaderSuspected(long epoch, String leader) {
        leaderSuspicions.increment();
    }

    /** This replica won a term (seen by the node's status sampling). */
    void termWon() {
        Counter c = elections;
        if (c != null) {
            c.increment();
        }
    }

    /** This node won a term of partition {@code partition}. */
    void termWon(String partition) {
        registry.counter("tenure_elections", "partition", partition).increment();
    }

    /** Messages of an older epoch this replica refused so far. */
    long staleEpochRefusals() {
        return staleRefusals.get();
    }

    String scrape() {
        return registry.scrape();
    }

    void close() {
        registry.close();
    }
}
