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

/**
 * What the core asks its driver to do. Actions must be executed in the order they were produced. Immutable values,
 * produced and consumed on the replica's event thread.
 */
public sealed interface Action
        permits Action.Send,
                Action.SyncLog,
                Action.Apply,
                Action.ProposalCommitted,
                Action.ProposalFailed,
                Action.ReadReady,
                Action.ReadFailed,
                Action.RoleChanged,
                Action.Fenced,
                Action.QuorumLost,
                Action.RestoreSnapshot,
                Action.ActivateConfiguration,
                Action.Removed,
                Action.LeaderSuspected,
                Action.SuspicionCleared {
    /** Send a message (best effort; the protocol tolerates loss, duplication and reordering). */
    record Send(Message message) implements Action {}

    /** Make the log durable and then call {@link ReplicaCore#logSynced(long, long, long)}; may be coalesced. */
    record SyncLog() implements Action {}

    /**
     * Entries below {@code applyOffset} are committed and durable in this replica's log: apply them in order.
     * The apply offset is the lower of the commit offset and the local durable end, so that a state machine
     * that persists what it applied is never ahead of the log a crash leaves behind (see {@code
     * docs/replication.md}, "Apply only what is durable here"). It never decreases.
     */
    record Apply(long applyOffset) implements Action {}

    /** The proposal is committed at (epoch, offset). */
    record ProposalCommitted(long proposalId, long epoch, long offset) implements Action {}

    /** The proposal failed; see {@link Failure} for whether it may have been applied. */
    record ProposalFailed(long proposalId, Failure failure, String leaderHint) implements Action {}

    /** A linearizable read may be served once entries below {@code readOffset} are applied. */
    record ReadReady(long readId, long readOffset) implements Action {}

    /** A read barrier failed (definitely: reads have no effect). */
    record ReadFailed(long readId, Failure failure, String leaderHint) implements Action {}

    /** The replica's role changed. */
    record RoleChanged(Role role, long epoch, String leader) implements Action {}

    /**
     * A replica promised {@code promisedEpoch}, higher than this leader's epoch: this leader is fenced and
     * should give up its election term.
     */
    record Fenced(long epoch, long promisedEpoch) implements Action {}

    /**
     * This replica stopped leading {@code epoch} because it could not reach a majority: as leader, no majority
     * answered within the check-quorum interval; or, elected, it did not become leader within that interval of
     * its election (its peers are unreachable, or the replica holding the most up-to-date log stopped
     * answering). Give up the election term so that replicas that can reach each other elect one of them.
     */
    record QuorumLost(long epoch) implements Action {}

    /**
     * A snapshot was installed from another replica: replace the state machine's state with it (after what is
     * already queued for applying). Entries below its offset are committed and never handed to {@link Apply};
     * applying goes on from its offset.
     */
    record RestoreSnapshot(SnapshotMeta snapshot) implements Action {}

    /**
     * This leader's epoch-start entry is committed under the joint rule of {@code joint} (majorities of both its
     * voters and its previous voters), so every committed entry is on a majority of the new voters: activate the
     * change at the configuration master — conditionally on {@code joint} still being the current configuration and
     * {@code epoch} still being the latest epoch — and then hand the activated configuration to {@link
     * ReplicaCore#configure}. Asked for once per term; if the write fails, the next leader asks again.
     */
    record ActivateConfiguration(long epoch, Configuration joint) implements Action {}

    /**
     * {@code configuration} does not include this replica: it was removed. A leader stepped down first (its
     * proposals failed as for any step-down). Leave the election and stop; the replica's data belongs to no group.
     */
    record Removed(Configuration configuration) implements Action {}

    /**
     * This follower has heard nothing from {@code leader}, the leader of {@code epoch}, for the suspicion timeout (or
     * its transport found the leader's port closed), and the term has lasted the minimum term: report the suspicion
     * where the other replicas can count it, and depose the leader of {@code epoch} once a majority of the voters
     * suspect it (docs/replication.md, "Fast failover"). Reported at most once per epoch until {@link
     * SuspicionCleared}. Deposing only ends an election term: safety rests on the promises, as for any zombie.
     */
    record LeaderSuspected(long epoch, String leader) implements Action {}

    /**
     * The suspicion of {@code epoch}'s leader is withdrawn: this replica heard from it again, promised a newer epoch,
     * was elected, or was removed. Withdraw the suspicion reported by {@link LeaderSuspected}.
     */
    record SuspicionCleared(long epoch) implements Action {}

    /** Why a proposal or read failed. */
    enum Failure {
        /** Not the leader; definitely not applied. */
        NOT_LEADER,
        /** Too many proposals pending; definitely not applied. */
        OVERLOADED,
        /** Leadership ended after the entry entered the log: it may or may not be committed. */
        OUTCOME_UNKNOWN;

        /** Whether a request that failed so certainly had no effect. */
        public boolean definitelyNotApplied() {
            return this != OUTCOME_UNKNOWN;
        }
    }
}
