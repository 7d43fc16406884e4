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

/**
 * Why a proposal or a read did not complete. {@link #definitelyNotApplied()} tells whether the caller may
 * treat the request as never having happened: only {@link OutcomeUnknownException} and a {@link
 * ReplicaFailedException} for an accepted request say it may have been applied. Immutable.
 */
public abstract class ReplicationException extends Exception {
    /** The id of the replica believed to lead, or empty. */
    private final String leaderHint;
    /** The client endpoint of the replica believed to lead, or empty. */
    private final String leaderEndpoint;

    ReplicationException(String message, String leaderHint) {
        this(message, leaderHint, "", null);
    }

    ReplicationException(String message, String leaderHint, Throwable cause) {
        this(message, leaderHint, "", cause);
    }

    ReplicationException(String message, String leaderHint, String leaderEndpoint, Throwable cause) {
        super(message, cause);
        this.leaderHint = leaderHint == null ? "" : leaderHint;
        this.leaderEndpoint = leaderEndpoint == null ? "" : leaderEndpoint;
    }

    /** The id of the replica believed to lead, or "" if unknown. */
    public String leaderHint() {
        return leaderHint;
    }

    /**
     * The endpoint that the replica believed to lead registered for its clients (the {@code endpoint} of its
     * election participant, for example {@code "10.0.0.7:8080"}), or "" if unknown or none was registered. For
     * routing a retry (see {@code zookeeper.LeaderClient}), never for fencing: it may already be stale.
     */
    public String leaderEndpoint() {
        return leaderEndpoint;
    }

    private static String leaderSuffix(String leaderHint, String leaderEndpoint) {
        if (leaderHint == null || leaderHint.isEmpty()) {
            return "";
        }
        return "; the leader is " + leaderHint
                + (leaderEndpoint == null || leaderEndpoint.isEmpty() ? "" : " at " + leaderEndpoint);
    }

    /** Whether the request certainly had no effect. */
    public abstract boolean definitelyNotApplied();

    /** This replica does not lead; the request was not accepted. Definite. */
    public static final class NotLeaderException extends ReplicationException {
        /** Refused by this replica; {@code leaderHint} names the leader it knows, or is empty. */
        public NotLeaderException(String leaderHint) {
            this(leaderHint, "");
        }

        /** Names the leader and the endpoint it registered for clients (either may be ""). */
        public NotLeaderException(String leaderHint, String leaderEndpoint) {
            super("not the leader" + leaderSuffix(leaderHint, leaderEndpoint), leaderHint, leaderEndpoint, null);
        }

        @Override
        public boolean definitelyNotApplied() {
            return true;
        }
    }

    /** Too many proposals are pending; the request was not accepted. Definite. */
    public static final class OverloadedException extends ReplicationException {
        /** Refused by {@code replica}, which has too many proposals pending. */
        public OverloadedException(String replica) {
            super("too many pending proposals on " + replica, replica);
        }

        /** Refused because the pending proposals' payloads would exceed {@code maxBytes}. */
        public OverloadedException(String replica, long maxBytes) {
            super("pending proposals on " + replica + " would exceed " + maxBytes + " payload bytes", replica);
        }

        @Override
        public boolean definitelyNotApplied() {
            return true;
        }
    }

    /**
     * This replica's epoch was fenced by a newer one before it accepted the request; the request was not
     * accepted. Definite.
     */
    public static final class FencedEpochException extends ReplicationException {
        /** This replica's {@code epoch} was fenced by {@code newerEpoch}, led by {@code leaderHint} if known. */
        public FencedEpochException(long epoch, long newerEpoch, String leaderHint) {
            this(epoch, newerEpoch, leaderHint, "");
        }

        /** Also names the endpoint the newer leader registered for clients ("" if unknown). */
        public FencedEpochException(long epoch, long newerEpoch, String leaderHint, String leaderEndpoint) {
            super(
                    "epoch " + epoch + " is fenced by epoch " + newerEpoch + leaderSuffix(leaderHint, leaderEndpoint),
                    leaderHint,
                    leaderEndpoint,
                    null);
        }

        @Override
        public boolean definitelyNotApplied() {
            return true;
        }
    }

    /**
     * The entry left this replica (it is in the log) but leadership was lost or the wait timed out before
     * it committed: it may or may not be applied. Never a definite failure.
     */
    public static final class OutcomeUnknownException extends ReplicationException {
        /** The outcome is unknown, for the reason {@code why}. */
        public OutcomeUnknownException(String why, String leaderHint) {
            this(why, leaderHint, "");
        }

        /** Also names the endpoint the leader believed in registered for clients ("" if unknown). */
        public OutcomeUnknownException(String why, String leaderHint, String leaderEndpoint) {
            super("outcome unknown: " + why, leaderHint, leaderEndpoint, null);
        }

        @Override
        public boolean definitelyNotApplied() {
            return false;
        }
    }

    /**
     * The replica stopped after a failure (a state machine that threw, a storage error; the cause says which)
     * while the request was pending. Definite only if the replica had not yet accepted the request ({@link
     * #notAccepted}); a proposal it had accepted may be in the log and may be committed by the next leader ({@link
     * #mayHaveBeenApplied}).
     */
    public static final class ReplicaFailedException extends ReplicationException {
        /** Whether the replica had accepted the request. */
        private final boolean accepted;

        private ReplicaFailedException(String replica, Throwable cause, boolean accepted) {
            super(
                    "replica " + replica + " stopped after a failure"
                            + (accepted ? "; the request may have been applied" : "") + ": " + cause,
                    "",
                    cause);
            this.accepted = accepted;
        }

        /** For a request the replica had accepted: it may have been applied. */
        public static ReplicaFailedException mayHaveBeenApplied(String replica, Throwable cause) {
            return new ReplicaFailedException(replica, cause, true);
        }

        /** For a request the replica had not accepted: definitely not applied. */
        public static ReplicaFailedException notAccepted(String replica, Throwable cause) {
            return new ReplicaFailedException(replica, cause, false);
        }

        @Override
        public boolean definitelyNotApplied() {
            return !accepted;
        }
    }
}
