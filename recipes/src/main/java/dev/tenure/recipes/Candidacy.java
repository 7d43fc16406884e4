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
package dev.tenure.recipes;

import dev.tenure.recipes.Records.ParticipantRecord;

/**
 * One entry of a participant into the election: one Curator recipe instance, started once and closed once.
 * A participant that steps down closes its candidacy and later starts a new one.
 *
 * <p>Each time Curator grants leadership, the candidacy starts a new <em>tenure</em> with a new sequence
 * number, and reports it through {@link Events}; a term of leadership is minted for one tenure.
 */
abstract class Candidacy {
    /** Receives tenure changes; implementations only enqueue work and never block Curator's threads. */
    interface Events {
        void elected(Candidacy candidacy, long tenure);

        void deposed(Candidacy candidacy, long tenure);
    }

    final ParticipantRecord record;
    final Events events;

    Candidacy(ParticipantRecord record, Events events) {
        this.record = record;
        this.events = events;
    }

    abstract void start() throws Exception;

    /** Whether Curator currently grants leadership for this tenure. */
    abstract boolean holds(long tenure);

    /** The latest tenure, or 0 if there was none. */
    abstract long currentTenure();

    /** The term of this tenure ended: a backend that must give up its lock to re-queue does so now. */
    abstract void termEnded(long tenure);

    /** Leaves the election, releasing the participant's node promptly. Idempotent. */
    abstract void close();
}
