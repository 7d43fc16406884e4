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
package dev.tenure.replicator.core;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of one replica's core. Use {@link #builder(String, List)}; every setting but the ids has a
 * default.
 *
 * <p>Immutable and thread-safe. The constructor (and so the builder's {@code build()}) throws {@link
 * IllegalArgumentException} for a setting out of range.
 *
 * @param self this replica's id
 * @param members the voters of the configuration the log was created with ({@link Configuration#initial}); the
 *     same on every replica. A replica outside it (one being added) takes part once {@link
 *     ReplicaCore#configure} names it
 * @param maxBatchEntries most entries in one append or fetch message (default 512)
 * @param maxBatchBytes most payload bytes in one append or fetch message (default 1 MiB)
 * @param maxInflightBatches most unacknowledged append messages per follower (default 64)
 * @param maxPendingProposals most proposals not yet committed; more are refused as overloaded (default
 *     10,000)
 * @param retryNanos resend interval for unanswered messages (default 200 ms)
 * @param heartbeatNanos idle interval after which the leader sends an empty append (default 100 ms)
 * @param checkQuorumNanos a leader that has not heard from a majority (itself included) for this long gives up
 *     its term, so that replicas that can reach each other elect one of them; so does an elected replica that
 *     has made no recovery progress (a promise, a fetched batch) for this long; 0 turns both off (default 10 s)
 * @param catchUpTailEntries entries kept below a new snapshot when the log is compacted, so that a follower that
 *     lags by fewer catches up from the log rather than by a snapshot install (default 5,000, as etcd's {@code
 *     SnapshotCatchUpEntries})
 * @param snapshotChunksInFlight most snapshot chunk requests ({@code FetchSnapshot}, each for up to {@code
 *     maxBatchBytes}) an installing replica keeps unanswered, so that an install streams rather than waits a round
 *     trip per chunk (default 8)
 * @param quiesce whether an idle leader stops its heartbeats: once every entry is committed, nothing is pending and
 *     every follower has acknowledged its whole log and a heartbeat that carried the commit offset, the leader sends
 *     that follower nothing more until there is something new (CockroachDB's quiescence). Check-quorum then counts a
 *     quiet follower as heard only when the driver reports hearing from it ({@link ReplicaCore#heard}): a node that
 *     hosts many partitions exchanges one heartbeat per node pair for all of them. Off by default (a single log
 *     heartbeats every {@code heartbeatNanos})
 * @param suspicionNanos fast failover (docs/replication.md, "Fast failover"): a follower that has heard nothing from
 *     its epoch's leader for this long reports the leader suspected ({@link Action.LeaderSuspected}), once per epoch,
 *     and the driver deposes the leader when a majority of the voters suspect it; 0 turns it off (the default here:
 *     {@code ZooKeeperReplica} and {@code ZooKeeperNode} turn it on). At least two heartbeats when on
 * @param minimumTermNanos no leader is suspected before this long has passed since this replica promised its epoch
 *     (a guard against flapping: a new leader gets time to reach everyone); 0 by default
 */
public record CoreConfig(
        String self,
        List<String> members,
        int maxBatchEntries,
        long maxBatchBytes,
        int maxInflightBatches,
        int maxPendingProposals,
        long retryNanos,
        long heartbeatNanos,
        long checkQuorumNanos,
        long catchUpTailEntries,
        int snapshotChunksInFlight,
        boolean quiesce,
        long suspicionNanos,
        long minimumTermNanos) {

    /** Checks the settings. */
    public CoreConfig {
        Objects.requireNonNull(self, "self");
        members = List.copyOf(members);
        if (self.isEmpty()) {
            throw new IllegalArgumentException("self must not be empty");
        }
        if (members.stream().distinct().count() != members.size()) {
            throw new IllegalArgumentException("members must be distinct: " + members);
        }
        if (maxBatchEntries < 1 || maxBatchBytes < 1 || maxInflightBatches < 1 || maxPendingProposals < 1) {
            throw new IllegalArgumentException("batch, in-flight and pending limits must be >= 1");
        }
        if (retryNanos <= 0 || heartbeatNanos <= 0) {
            throw new IllegalArgumentException("retry and heartbeat intervals must be > 0");
        }
        if (checkQuorumNanos != 0 && checkQuorumNanos < 2 * heartbeatNanos) {
            throw new IllegalArgumentException("the check-quorum interval must be 0 (off) or at least two heartbeats");
        }
        if (catchUpTailEntries < 0) {
            throw new IllegalArgumentException("catchUpTailEntries must be >= 0, was " + catchUpTailEntries);
        }
        if (snapshotChunksInFlight < 1) {
            throw new IllegalArgumentException("snapshotChunksInFlight must be >= 1, was " + snapshotChunksInFlight);
        }
        if (suspicionNanos != 0 && suspicionNanos < 2 * heartbeatNanos) {
            throw new IllegalArgumentException("the suspicion timeout must be 0 (off) or at least two heartbeats ("
                    + Duration.ofNanos(2 * heartbeatNanos) + "), was " + Duration.ofNanos(suspicionNanos));
        }
        if (suspicionNanos < 0 || minimumTermNanos < 0) {
            throw new IllegalArgumentException("the suspicion timeout and the minimum term must be >= 0");
        }
    }

    /**
     * A convenience constructor without fast failover (suspicion off), as before it existed.
     */
    public CoreConfig(
            String self,
            List<String> members,
            int maxBatchEntries,
            long maxBatchBytes,
            int maxInflightBatches,
            int maxPendingProposals,
            long retryNanos,
            long heartbeatNanos,
            long checkQuorumNanos,
            long catchUpTailEntries,
            int snapshotChunksInFlight,
            boolean quiesce) {
        this(
                self,
                members,
                maxBatchEntries,
                maxBatchBytes,
                maxInflightBatches,
                maxPendingProposals,
                retryNanos,
                heartbeatNanos,
                checkQuorumNanos,
                catchUpTailEntries,
                snapshotChunksInFlight,
                quiesce,
                0,
                0);
    }

    /** A builder for replica {@code self} of a log created with voters {@code members}. */
    public static Builder builder(String self, List<String> members) {
        return new Builder(self, members);
    }

    /** Builds a {@link CoreConfig}. */
    public static final class Builder {
        private final String self;
        private final List<String> members;
        private int maxBatchEntries = 512;
        private long maxBatchBytes = 1 << 20;
        private int maxInflightBatches = 64;
        private int maxPendingProposals = 10_000;
        private long retryNanos = Duration.ofMillis(200).toNanos();
        private long heartbeatNanos = Duration.ofMillis(100).toNanos();
        private long checkQuorumNanos = Duration.ofSeconds(10).toNanos();
        private long catchUpTailEntries = 5_000;
        private int snapshotChunksInFlight = 8;
        private boolean quiesce;
        private long suspicionNanos;
        private long minimumTermNanos;

        private Builder(String self, List<String> members) {
            this.self = self;
            this.members = members;
        }

        /** See {@link CoreConfig#maxBatchEntries()}. */
        public Builder maxBatchEntries(int n) {
            this.maxBatchEntries = n;
            return this;
        }

        /** See {@link CoreConfig#maxBatchBytes()}. */
        public Builder maxBatchBytes(long n) {
            this.maxBatchBytes = n;
            return this;
        }

        /** See {@link CoreConfig#maxInflightBatches()}. */
        public Builder maxInflightBatches(int n) {
            this.maxInflightBatches = n;
            return this;
        }

        /** See {@link CoreConfig#maxPendingProposals()}. */
        public Builder maxPendingProposals(int n) {
            this.maxPendingProposals = n;
            return this;
        }

        /** See {@link CoreConfig#retryNanos()}. */
        public Builder retryInterval(Duration d) {
            this.retryNanos = d.toNanos();
            return this;
        }

        /** See {@link CoreConfig#heartbeatNanos()}. */
        public Builder heartbeatInterval(Duration d) {
            this.heartbeatNanos = d.toNanos();
            return this;
        }

        /** See {@link CoreConfig#checkQuorumNanos()}; {@link Duration#ZERO} turns the check off. */
        public Builder checkQuorum(Duration d) {
            this.checkQuorumNanos = d.toNanos();
            return this;
        }

        /** See {@link CoreConfig#catchUpTailEntries()}. */
        public Builder catchUpTailEntries(long n) {
            this.catchUpTailEntries = n;
            return this;
        }

        /** See {@link CoreConfig#snapshotChunksInFlight()}. */
        public Builder snapshotChunksInFlight(int n) {
            this.snapshotChunksInFlight = n;
            return this;
        }

        /** See {@link CoreConfig#quiesce()}. */
        public Builder quiesce(boolean on) {
            this.quiesce = on;
            return this;
        }

        /**
         * See {@link CoreConfig#suspicionNanos()} and {@link CoreConfig#minimumTermNanos()}; a {@code suspicion} of
         * {@link Duration#ZERO} turns fast failover off.
         */
        public Builder fastFailover(Duration suspicion, Duration minimumTerm) {
            this.suspicionNanos = suspicion.toNanos();
            this.minimumTermNanos = minimumTerm.toNanos();
            return this;
        }

        /** The settings; throws {@link IllegalArgumentException} for one out of range. */
        public CoreConfig build() {
            return new CoreConfig(
                    self,
                    members,
                    maxBatchEntries,
                    maxBatchBytes,
                    maxInflightBatches,
                    maxPendingProposals,
                    retryNanos,
                    heartbeatNanos,
                    checkQuorumNanos,
                    catchUpTailEntries,
                    snapshotChunksInFlight,
                    quiesce,
                    suspicionNanos,
                    minimumTermNanos);
        }
    }
}
