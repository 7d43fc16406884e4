package dev.tenure.replicator;

/**
 * A committed and applied proposal: its position and what the state machine returned for it. Immutable, but the
 * result is the state machine's object as it returned it.
 *
 * @param epoch the epoch it was written in
 * @param offset its offset
 * @param result the state machine's result, or null
 */
public record Committed(long epoch, long offset, Object result) {}
