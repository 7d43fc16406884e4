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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.EpochHistory.Start;
import java.util.List;
import org.junit.jupiter.api.Test;

class EpochHistoryTest {
    private static EpochHistory h(long... pairs) {
        EpochHistory history = EpochHistory.empty();
        for (int i = 0; i < pairs.length; i += 2) {
            history = history.withEntry(pairs[i], pairs[i + 1]);
        }
        return history;
    }

    @Test
    void epochAtFollowsTheSteps() {
        EpochHistory history = h(1, 0, 4, 3, 6, 7);
        assertEquals(1, history.epochAt(2));
        assertEquals(4, history.epochAt(3));
        assertEquals(6, history.epochAt(100));
        assertEquals(0, EpochHistory.empty().epochAt(0));
    }

    @Test
    void commonPrefixIsWhereEpochsFirstDiffer() {
        // Raft figure 7: leader [1,1,1,4,4,5,5,6,6,6] and follower f [1,1,1,2,2,2,3,3,3,3,3].
        EpochHistory leader = h(1, 0, 4, 3, 5, 5, 6, 7);
        EpochHistory f = h(1, 0, 2, 3, 3, 6);
        assertEquals(3, EpochHistory.commonPrefix(leader, 10, f, 11));
        // Same epochs, one log shorter: the shorter end.
        assertEquals(9, EpochHistory.commonPrefix(leader, 10, leader, 9));
        // KIP-279: an epoch the other never had, starting at the same offset.
        assertEquals(2, EpochHistory.commonPrefix(h(1, 0, 2, 2), 5, h(1, 0, 3, 2), 4));
        assertEquals(0, EpochHistory.commonPrefix(h(2, 0), 5, h(1, 0), 5));
        assertEquals(0, EpochHistory.commonPrefix(EpochHistory.empty(), 0, leader, 10));
    }

    @Test
    void upToDateMeansHigherLastEpochThenLonger() {
        assertTrue(EpochHistory.compareUpToDate(h(1, 0, 3, 4), 5, h(1, 0, 2, 2), 50) > 0);
        assertTrue(EpochHistory.compareUpToDate(h(1, 0), 5, h(1, 0), 4) > 0);
        assertEquals(0, EpochHistory.compareUpToDate(h(1, 0), 5, h(1, 0), 5));
    }

    @Test
    void truncationDropsEpochsStartingAtOrAfterTheNewEnd() {
        EpochHistory history = h(1, 0, 4, 3, 6, 7);
        assertEquals(h(1, 0, 4, 3), history.truncatedTo(7));
        assertEquals(history, history.truncatedTo(8));
        assertEquals(EpochHistory.empty(), history.truncatedTo(0));
    }

    @Test
    void invalidHistoriesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> h(2, 0, 1, 3));
        assertThrows(IllegalArgumentException.class, () -> h(1, 5, 2, 5));
        assertThrows(IllegalArgumentException.class, () -> EpochHistory.of(List.of(new Start(2, 3), new Start(1, 4))));
        assertThrows(IllegalArgumentException.class, () -> EpochHistory.of(List.of(new Start(0, 0))));
    }

    @Test
    void epochAtAgreesWithAStepByStepReadingOfLongRandomHistories() {
        long seed = 20261207L;
        java.util.Random random = new java.util.Random(seed);
        for (int trial = 0; trial < 60; trial++) {
            int size = random.nextInt(trial < 20 ? 4 : 500);
            java.util.List<EpochHistory.Start> starts = new java.util.ArrayList<>();
            long epoch = 0;
            long offset = random.nextInt(3);
            for (int i = 0; i < size; i++) {
                epoch += 1 + random.nextInt(3);
                starts.add(new EpochHistory.Start(epoch, offset));
                offset += 1 + random.nextInt(5);
            }
            EpochHistory history = EpochHistory.of(starts);
            for (long o = -1; o <= offset + 2; o += 1 + random.nextInt(3)) {
                long expected = 0;
                for (EpochHistory.Start s : starts) {
                    if (s.startOffset() <= o) {
                        expected = s.epoch();
                    }
                }
                assertEquals(
                        expected,
                        history.epochAt(o),
                        "offset " + o + " of a history of " + size + " starts (seed " + seed + ", trial " + trial
                                + ")");
            }
        }
    }
}
