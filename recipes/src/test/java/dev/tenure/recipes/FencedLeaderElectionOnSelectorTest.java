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

import java.util.stream.Stream;

/** The fenced election's guarantees on Curator's {@code LeaderSelector} ({@link FencedLeaderElectionCases}). */
class FencedLeaderElectionOnSelectorTest extends FencedLeaderElectionCases {
    static Stream<ElectionBackend> backends() {
        return Stream.of(ElectionBackend.LEADER_SELECTOR);
    }
}
