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
package dev.tenure.replicator.metrics;

import com.google.common.base.Preconditions;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Micrometer meters of one {@link Replica} (Micrometer is an optional dependency of the replicator: add {@code
 * micrometer-core} to use this). Names, as Prometheus shows them:
 *
 * <ul>
 *   <li>{@code tenure_epoch}, {@code tenure_commit_offset}, {@code tenure_applied_offset}, {@code
 *       tenure_log_end_offset}, {@code tenure_log_start_offset}, {@code tenure_snapshot_offset} — gauges read from
 *       the replica's status when scraped;
 *   <li>{@code tenure_is_leader} (1 while it leads), {@code tenure_replica_failed} (1 once it stopped after a
 *       failure);
 *   <li>{@code tenure_follower_lag_entries{follower}} — on the leader, the entries each follower lacks durably (0
 *       elsewhere), one series per member given;
 *   <li>{@code tenure_replica_proposals_total{outcome="committed|refused|unknown"}} — proposals made to this replica by
 *       outcome (refused: definitely not applied; unknown: may have been);
 *   <li>{@code tenure_replica_commit_latency_seconds} — proposal to commit and apply, on the proposing replica;
 *   <li>{@code tenure_replica_sync_latency_seconds} — one sync of the log (fsync, or the write-ahead log's).
 * </ul>
 *
 * <p>Extra tags (a partition, say) go on every meter. Thread-safe; bind once per registry. The gauges hold the
 * replica strongly: remove them from the registry when the replica is closed for good.
 */
public final class ReplicaMetrics implements MeterBinder {
    private final Replica replica;
    private final Iterable<Tag> tags;
    private final List<String> members;

    /**
     * Meters of {@code replica}, tagged with {@code tags}; {@code members} are the replica set's ids, for the
     * follower lag series (the replica's own id is skipped).
     */
    public ReplicaMetrics(Replica replica, Iterable<Tag> tags, List<String> members) {
        this.replica = Preconditions.checkNotNull(replica, "replica");
        this.tags = Tags.of(Preconditions.checkNotNull(tags, "tags"));
        this.members = List.copyOf(members);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        gauge(
                registry,
                "tenure.epoch",
                "the epoch this replica is in",
                r -> r.status().epoch());
        gauge(
                registry,
                "tenure.commit.offset",
                "offsets below it are committed",
                r -> r.status().commitOffset());
        gauge(registry, "tenure.applied.offset", "offsets below it are applied here", Replica::appliedOffset);
        gauge(
                registry,
                "tenure.log.end.offset",
                "the offset after this replica's last log entry",
                r -> r.status().logEndOffset());
        gauge(
                registry,
                "tenure.log.start.offset",
                "the first offset this replica's log holds",
                r -> r.status().logStartOffset());
        gauge(
                registry,
                "tenure.snapshot.offset",
                "offset of the newest snapshot (0: none)",
                r -> r.status().snapshot().offset());
        gauge(
                registry,
                "tenure.is.leader",
                "1 while this replica leads",
                r -> r.status().role() == Role.LEADER ? 1 : 0);
        gauge(
                registry,
                "tenure.replica.failed",
                "1 once this replica stopped after a failure",
                r -> r.status().role() == Role.FAILED ? 1 : 0);
        for (String m : members) {
            if (!m.equals(replica.id())) {
                Gauge.builder("tenure.follower.lag.entries", replica, r -> lag(r, m))
                        .tags(tags)
                        .tag("follower", m)
                        .description("entries the follower lacks durably (leader's view; 0 elsewhere)")
                        .register(registry);
            }
        }
        FunctionCounter.builder(
                        "tenure.replica.proposals",
                        replica,
                        r -> r.proposalCounts().committed())
                .tags(tags)
                .tag("outcome", "committed")
                .description("proposals made to this replica, by outcome")
                .register(registry);
        FunctionCounter.builder(
                        "tenure.replica.proposals",
                        replica,
                        r -> r.proposalCounts().refused())
                .tags(tags)
                .tag("outcome", "refused")
                .description("proposals made to this replica, by outcome")
                .register(registry);
        FunctionCounter.builder(
                        "tenure.replica.proposals",
                        replica,
                        r -> r.proposalCounts().unknown())
                .tags(tags)
                .tag("outcome", "unknown")
                .description("proposals made to this replica, by outcome")
                .register(registry);
        Timer commit = Timer.builder("tenure.replica.commit.latency")
                .tags(tags)
                .description("time from proposal to commit and apply, on the proposing replica")
                .publishPercentileHistogram()
                .register(registry);
        Timer sync = Timer.builder("tenure.replica.sync.latency")
                .tags(tags)
                .description("time one sync of the log took")
                .publishPercentileHistogram()
                .register(registry);
        replica.addLatencyObserver(new Replica.LatencyObserver() {
            @Override
            public void commitLatency(long nanos) {
                commit.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void syncLatency(long nanos) {
                sync.record(nanos, TimeUnit.NANOSECONDS);
            }
        });
    }

    private void gauge(
            MeterRegistry registry, String name, String description, java.util.function.ToDoubleFunction<Replica> f) {
        Gauge.builder(name, replica, f).tags(tags).description(description).register(registry);
    }

    private static double lag(Replica r, String follower) {
        return r.status().followers().stream()
                .filter(f -> f.id().equals(follower))
                .mapToLong(Replica.FollowerStatus::lagEntries)
                .findFirst()
                .orElse(0);
    }
}
