package dev.tenure.replicator;

/**
 * The application's replicated state. The replica hands it every committed entry, in offset order,
 * exactly once per replica lifetime: after a restart it replays from {@link #appliedOffset()}.
 *
 * <p>It must be deterministic: the same entries in the same order give the same state and results on
 * every replica (no clocks, no randomness, no local files consulted). Called on the replica's apply thread
 * only; reads from other threads need the state machine's own synchronisation.
 */
public interface StateMachine {
    /**
     * Applies one committed entry.
     *
     * @param epoch the epoch the entry was written in
     * @param offset its offset
     * @param payload its payload (do not modify)
     * @return a result for the proposer (for example whether a compare-and-set matched), or null
     */
    Object apply(long epoch, long offset, byte[] payload);

    /**
     * The offset from which to replay after a start: entries below it are already part of the state (a
     * state machine that keeps its state durably returns its last applied offset + 1). 0 by default: an
     * in-memory state machine replays the whole log.
     */
    default long appliedOffset() {
        return 0;
    }
}
