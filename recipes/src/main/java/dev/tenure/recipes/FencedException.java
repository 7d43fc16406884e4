package dev.tenure.recipes;

import java.util.OptionalLong;

/**
 * A request carried a leadership token whose epoch is no longer current: a newer term exists (or the term
 * has ended), so the request was refused and had no effect. Thrown by the fences ({@link EpochFence}, {@link
 * JdbcFence}) and by fenced operations of a {@link LeaderTerm} or {@link FencedLeaderElection}. Immutable.
 */
public final class FencedException extends Exception {
    /** The refused epoch. */
    private final long presentedEpoch;
    /** The current epoch, or -1 if unknown. */
    private final long currentEpoch;

    /**
     * @param presentedEpoch the refused epoch
     * @param currentEpoch the current (highest) epoch if known, otherwise -1
     * @param message what was refused
     */
    public FencedException(long presentedEpoch, long currentEpoch, String message) {
        super(message);
        this.presentedEpoch = presentedEpoch;
        this.currentEpoch = currentEpoch;
    }

    /** The epoch of the refused request. */
    public long presentedEpoch() {
        return presentedEpoch;
    }

    /** The current epoch, when the refusing side knows it. */
    public OptionalLong currentEpoch() {
        return currentEpoch < 0 ? OptionalLong.empty() : OptionalLong.of(currentEpoch);
    }
}
