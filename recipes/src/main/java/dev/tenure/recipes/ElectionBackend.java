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

/** The Curator recipe that orders the participants of a {@link FencedLeaderElection}. Immutable and thread-safe. */
public enum ElectionBackend {
    /**
     * Curator's {@code LeaderLatch}: the participant with the lowest sequential node leads. After a
     * reconnect with the same session, a leader whose node is still first leads again (new epoch).
     */
    LEADER_LATCH,
    /**
     * Curator's {@code LeaderSelector}: a fair lock, first come first served. A participant whose term ends
     * for any reason releases the lock and queues again at the tail.
     */
    LEADER_SELECTOR
}
