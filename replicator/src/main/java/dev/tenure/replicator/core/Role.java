package dev.tenure.replicator.core;

/** A replica's role in its current epoch. Immutable and thread-safe. */
public enum Role {
    /** Follows the leader it promised; accepts entries only from it. */
    FOLLOWER,
    /** Elected for an epoch; collecting promises and adopting the most up-to-date log. */
    RECOVERING,
    /** Leads its epoch: appends, replicates, commits. */
    LEADER,
    /**
     * Stopped after a failure it cannot recover from (a state machine that threw, a storage error): it left the
     * election and takes no part in replication until restarted. Reported by a replica's status; the protocol
     * core itself never enters it.
     */
    FAILED,
    /**
     * Removed from the replica set by a configuration that does not include it: it left the election and takes no
     * part in replication. Reported by a replica's status; the core reports it as {@link Action.Removed}.
     */
    REMOVED
}
