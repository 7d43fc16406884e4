package dev.tenure.replicator;

import dev.tenure.replicator.core.Configuration;

/**
 * Why a replica stopped when it was removed from its replica set: {@link #configuration()} does not include it.
 * Requests to it then fail as for any stopped replica ({@link ReplicationException.ReplicaFailedException} with this as
 * the cause). Immutable.
 */
public final class RemovedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final transient Configuration configuration;

    /** Replica {@code replicaId} was removed by {@code configuration}. */
    public RemovedException(String replicaId, Configuration configuration) {
        super("replica " + replicaId + " was removed from the replica set: configuration " + configuration.version()
                + " has voters " + configuration.voters() + " and learners " + configuration.learners());
        this.configuration = configuration;
    }

    /** The configuration that removed the replica. */
    public Configuration configuration() {
        return configuration;
    }
}
