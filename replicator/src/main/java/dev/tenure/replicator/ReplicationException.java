package dev.tenure.replicator;

/**
 * Why a proposal or a read did not complete. {@link #definitelyNotApplied()} tells whether the caller may
 * treat the request as never having happened: only {@link OutcomeUnknownException} says it may have been
 * applied.
 */
public abstract class ReplicationException extends Exception {
    private final String leaderHint;

    ReplicationException(String message, String leaderHint) {
        super(message);
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
}
