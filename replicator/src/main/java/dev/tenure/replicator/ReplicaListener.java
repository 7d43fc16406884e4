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

import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;

/**
 * Optional callbacks about a replica's life, for monitoring and status pages. Called on the replica's
 * event thread, in order: implementations must return quickly and never block. Every method has a no-op
 * default, so new events break no listener. An exception from a callback is logged and changes nothing.
 */
public interface ReplicaListener {
    /** The replica's role changed (leader, recovering, follower) in {@code epoch}, led by {@code leader}. */
    default void roleChanged(Role role, long epoch, String leader) {}

    /** This replica's epoch was fenced by a newer one: it stops leading. */
    default void fenced(long epoch, long newerEpoch) {}

    /**
     * This leader heard from no majority within the check-quorum interval ({@code CoreConfig.checkQuorumNanos})
     * and gave up {@code epoch}.
     */
    default void quorumLost(long epoch) {}

    /**
     * This replica refused a message of an older epoch from {@code from} (a deposed leader's late append, for
     * example).
     */
    default void staleEpochRefused(String from, long staleEpoch, long promisedEpoch) {}

    /**
     * The replica stopped after a failure it cannot recover from ({@code reason}: a state machine that threw, a
     * storage error): it left the election and no longer replicates; see {@link Replica#status()}.
     */
    default void failed(Throwable reason) {}

    /** This replica wrote snapshot {@code snapshot} of its state machine, {@code sizeBytes} long, in {@code nanos}. */
    default void snapshotTaken(SnapshotId snapshot, long sizeBytes, long nanos) {}

    /** This replica was removed from its replica set by {@code configuration}: it stopped (role REMOVED). */
    default void removed(dev.tenure.replicator.core.Configuration configuration) {}

    /**
     * This follower suspects {@code leader}, the leader of {@code epoch}: it heard nothing from it for the suspicion
     * timeout (fast failover, docs/replication.md); the leader is deposed once a majority of the voters suspect it.
     */
    default void leaderSuspected(long epoch, String leader) {}

    /** This replica installed snapshot {@code snapshot}, {@code sizeBytes} long, received from another replica. */
    default void snapshotInstalled(SnapshotId snapshot, long sizeBytes) {}
}
