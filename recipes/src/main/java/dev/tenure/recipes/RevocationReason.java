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

/** Why a term of leadership ended. Immutable and thread-safe. */
public enum RevocationReason {
    /**
     * The connection to ZooKeeper was suspended and the {@link SuspensionPolicy} is {@link
     * SuspensionPolicy#REVOKE}: another participant may lead soon, so this one stops at once.
     */
    CONNECTION_SUSPENDED,
    /** The ZooKeeper session was lost (expired); another participant may already lead. */
    SESSION_LOST,
    /** Curator reported that this participant no longer holds its latch or lock. */
    DEPOSED,
    /** A newer epoch was minted on the election path while this participant believed it led. */
    SUPERSEDED,
    /** The leader stepped down by {@link FencedLeaderElection#stepDown(LeadershipToken)}. */
    STEPPED_DOWN,
    /**
     * The listener's {@link LeadershipListener#acquired(LeadershipToken)} threw: the participant gave the term
     * up, left the election so that another can lead, and rejoins it after the retry backoff.
     */
    LISTENER_FAILED,
    /** The election was closed. */
    CLOSED
}
