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
