package dev.tenure.replicator;

/**
 * Why a proposal or a read did not complete. {@link #definitelyNotApplied()} tells whether the caller may
 * treat the request as never having happened: only {@link OutcomeUnknownException} says it may have been
 * applied.
 */
public abstract class ReplicationException extends Exception {
    private final String leaderHint;

    ReplicationException(String message, String leaderHint) {
        this(message, leaderHint, null);
    }

    ReplicationException(String message, String leaderHint, Throwable cause) {
        super(message, cause);
        this.leaderHint = leaderHint == null ? "" : leaderHint;
    }

    /** The id of the replica believed to lead, or "" if unknown. */
    public String leaderHint() {
        return leaderHint;
    }

    /** Whether the request certainly had no effect. */
    public abstract boolean definitelyNotApplied();

    /** This replica does not lead; the request was not accepted. Definite. */
    public static final class NotLeaderException extends ReplicationException {
        public NotLeaderException(String leaderHint) {
            super(
                    "not the leader"
                            + (leaderHint == null || leaderHint.isEmpty() ? "" : "; the leader is " + leaderHint),
                    leaderHint);
        }

        @Override
        public boolean definitelyNotApplied() {
            return true;
        }
    }

    /** Too many proposals are pending; the request was not accepted. Definite. */
    public static final class OverloadedException extends ReplicationException {
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
        public FencedEpochException(long epoch, long newerEpoch, String leaderHint) {
            super("epoch " + epoch + " is fenced by epoch " + newerEpoch, leaderHint);
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
        public OutcomeUnknownException(String why, String leaderHint) {
            super("outcome unknown: " + why, leaderHint);
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
