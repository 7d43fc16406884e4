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
