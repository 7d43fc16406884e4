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
     * @throws RuntimeException never for an entry it can apply; a throw stops the replica for good (fail-stop:
     *     it leaves the election, fails pending requests with {@link ReplicationException.ReplicaFailedException}
     *     and reports {@link dev.tenure.replicator.core.Role#FAILED}), since the state is unknown afterwards.
     *     Reject bad commands with a result instead, deterministically on every replica.
     */
    Object apply(long epoch, long offset, byte[] payload);

    /**
     * The offset from which to replay after a start: entries below it are already part of the state (a
     * state machine that keeps its state durably returns its last applied offset + 1). 0 by default: an
     * in-memory state machine replays the whole log.
     *
     * <p>A state machine may persist its applied offset whenever it likes: an entry is handed to {@link #apply}
     * only once it is committed <em>and</em> durable in this replica's own log, so a crash, even a power loss,
     * never leaves the log shorter than the persisted applied offset.
     */
    default long appliedOffset() {
        return 0;
    }
}
