package dev.tenure.replicator.core;

/**
 * What a sync of a {@link ReplicaLog} made durable, as of the moment it finished: entries below {@code endOffset}
 * are durable, and the last of them has {@code epoch}. The two are read together (under the log's lock) so that
 * whoever reports the result to {@link ReplicaCore#logSynced} later can be told apart from a sync overtaken by a
 * truncation. Immutable and thread-safe.
 *
 * @param endOffset the durable end offset
 * @param epoch the epoch of the entry at {@code endOffset - 1} when the sync finished (0 for an empty log)
 */
public record Synced(long endOffset, long epoch) {}
