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
package dev.tenure.demo.http;

/**
 * What the HTTP routes report about the requests they answer (for metrics). Called on the HTTP event-loop threads
 * and the replica's threads: implementations must be thread-safe and fast, and must not throw.
 */
public interface RequestListener {
    /** A listener that ignores every report. */
    RequestListener NONE = new RequestListener() {};

    /**
     * A proposal ended: {@code outcome} is {@code committed}, {@code replica_failed}, {@code overloaded},
     * {@code not_leader} or {@code unknown}; {@code nanos} is its time from proposal to answer.
     */
    default void proposalEnded(String outcome, long nanos) {}

    /**
     * A proposal to partition {@code partition} ended (see {@link #proposalEnded(String, long)}); by default reported
     * without its partition.
     */
    default void proposalEnded(String partition, String outcome, long nanos) {
        proposalEnded(outcome, nanos);
    }

    /** A request was redirected or refused because this replica does not lead. */
    default void fenced() {}
}
