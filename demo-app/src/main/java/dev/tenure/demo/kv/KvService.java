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
package dev.tenure.demo.kv;

import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.SnapshotId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One replica of the key-value service, as its clients' requests need it: propose a command, confirm a read, read
 * an applied value, see this replica's status and who leads; and, for its operator, take a snapshot now. The node
 * assembly ({@code KvNode}: ZooKeeper client,
 * replica, HTTP server) provides it; the HTTP layer's key routes see nothing else.
 *
 * <p>Thread-safe: every method may be called from any thread, concurrently, once the node has started. The
 * futures complete on the replica's threads (apply or event thread); callbacks must be short.
 *
 * <p>Failure behaviour: after the replica stopped on a failure ({@link Status#failure()} present) {@link #propose}
 * and {@link #readBarrier} fail their futures, or throw {@link java.util.concurrent.RejectedExecutionException}
 * once its threads are stopped; {@link #get} still answers from the state machine, whose state is then unknown —
 * callers check {@link #status()} first. {@link #status()} and {@link #leader()} never throw once started.
 */
public interface KvService {
    /**
     * Proposes an encoded {@link KvCommand}. The future completes when the command is committed and applied (its
     * {@link Committed#result()} is a {@link KvStateMachine.CasResult} for a compare-and-set, {@code null}
     * otherwise), and fails as {@link Replica#propose} says: with a {@link dev.tenure.replicator.ReplicationException}
     * that tells whether the command was definitely not applied.
     */
    CompletableFuture<Committed> propose(byte[] command);

    /**
     * Confirms this replica's leadership for a linearizable read; the future completes with the offset the state
     * machine must have applied before the read, or fails as {@link Replica#readBarrier} says.
     */
    CompletableFuture<Long> readBarrier();

    /**
     * The applied value of {@code key} in this replica's state machine (after a {@link #readBarrier} for a
     * linearizable read). The array is shared, not copied: callers must not change it.
     */
    Optional<byte[]> get(String key);

    /** A snapshot of this replica's status, taken now. */
    Status status();

    /** The leader as discovery sees it (id, HTTP URL, epoch), if any: where to redirect writes. */
    Optional<LeaderInfo> leader();

    /**
     * Snapshots this replica's state machine now, whatever its snapshot policy says ({@link Replica#takeSnapshot()}):
     * the future completes with the snapshot's id once it is durable (the newest snapshot's id if nothing was applied
     * since it), on the replica's snapshot thread. It fails with {@link UnsupportedOperationException} if the state
     * machine does not take snapshots, with the write's exception if the snapshot cannot be written (the previous one
     * is kept), or with {@link IllegalStateException} once the replica is closed. On a replica that stopped after a
     * failure it may fail or never complete: callers check {@link #status()} first and bound the wait.
     */
    CompletableFuture<SnapshotId> takeSnapshot();

    /**
     * Changes the replica set ({@code docs/replication.md}, "Membership change"). Add, remove and replace must run on
     * the leader (a follower fails with {@link dev.tenure.replicator.ReplicationException.NotLeaderException}); they
     * complete with the configuration once the change is active. Cancel may run anywhere and completes with the
     * configuration it wrote (or the current one if nothing was in progress). Fails with {@link MembershipRefused} when
     * the change was refused or did not complete (the voters unchanged), with {@link
     * java.util.concurrent.TimeoutException} when it was not activated in time (it may still be).
     */
    CompletableFuture<Configuration> changeMembers(MembershipChange change);

    /**
     * The replicated logs this service's keys are spread over, partition {@code i} at index {@code i} (its id is
     * {@link Partitioning#id(int) "i"}); a single log is its own only partition. A key belongs to partition {@link
     * Partitioning#partitionOf}{@code (key, partitions().size())}. Each element answers the per-log methods above for
     * its partition: propose, read barrier, reads, status, leader, snapshot.
     */
    default List<KvService> partitions() {
        return List.of(this);
    }

    /** The partition that holds {@code key} (this service itself when it has a single log). */
    default KvService partitionOf(String key) {
        List<KvService> all = partitions();
        return all.size() == 1 ? all.get(0) : all.get(Partitioning.partitionOf(key, all.size()));
    }

    /** This log's partition id: {@code "0"} for a single log. */
    default String partitionId() {
        return Partitioning.id(0);
    }

    /**
     * A change of the replica set.
     *
     * @param kind what to do
     * @param id the replica to add or remove, or the one to replace; empty for {@link Kind#CANCEL}
     * @param replacement the replica replacing {@code id} ({@link Kind#REPLACE}); empty otherwise
     * @param catchUpTimeout how long a new replica may take to catch up as a learner before the change stalls
     */
    record MembershipChange(Kind kind, String id, String replacement, java.time.Duration catchUpTimeout) {
        /** What a membership change does. */
        public enum Kind {
            ADD,
            REMOVE,
            REPLACE,
            CANCEL
        }
    }

    /** A membership change that was refused, or stalled: the voters are unchanged. */
    final class MembershipRefused extends Exception {
        private static final long serialVersionUID = 1L;

        /** Why. */
        public enum Reason {
            /** Another change is in progress, or won a race: try again once it is done. */
            CHANGE_IN_PROGRESS,
            /** The new replica did not catch up in time; it stays a learner until the change is cancelled. */
            STALLED,
            /** The request does not fit the replica set (already a member, not a member, the last voter). */
            BAD_REQUEST
        }

        private final Reason reason;

        public MembershipRefused(Reason reason, String message) {
            super(message);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    /**
     * One replica's status at one moment. Immutable.
     *
     * @param id this replica's id
     * @param url this replica's advertised HTTP URL
     * @param replicas the ids of every replica in the set, this one included, in configured order
     * @param replica the replicator's status (role, epoch, offsets, followers as the leader sees them)
     * @param appliedOffset the offset the state machine has applied up to
     * @param failure why the replica stopped, once it failed
     * @param urls known HTTP URLs by replica id
     * @param keys the number of keys in this replica's state machine
     */
    record Status(
            String id,
            String url,
            List<String> replicas,
            Replica.Status replica,
            long appliedOffset,
            Optional<Throwable> failure,
            Map<String, String> urls,
            int keys) {
        public Status {
            replicas = List.copyOf(replicas);
            urls = Map.copyOf(urls);
        }
    }
}
