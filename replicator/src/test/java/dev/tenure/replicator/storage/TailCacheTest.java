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
package dev.tenure.replicator.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TailCacheTest {
    private static List<Entry> entries(long from, int n, int payload) {
        List<Entry> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(Entry.data(1, from + i, new byte[payload]));
        }
        return list;
    }

    private static List<Long> offsets(List<Entry> es) {
        return es.stream().map(Entry::offset).toList();
    }

    @Test
    void servesTheNewestEntriesWithinItsBoundsAndMissesOlderOnes() {
        TailCache cache = new TailCache(4, 1 << 20);
        cache.appended(entries(0, 6, 10));
        List<Entry> got = new ArrayList<>();
        assertFalse(cache.read(1, 10, 1 << 20, got), "offset 1 was evicted (4 entries kept)");
        assertTrue(cache.read(2, 10, 1 << 20, got));
        assertEquals(List.of(2L, 3L, 4L, 5L), offsets(got));
        got.clear();
        assertTrue(cache.read(3, 2, 1 << 20, got));
        assertEquals(List.of(3L, 4L), offsets(got));
        got.clear();
        assertFalse(cache.read(6, 10, 1 << 20, got), "nothing at the log end");
    }

    @Test
    void truncationDropsTheCutEntriesAndNewAppendsFollow() {
        TailCache cache = new TailCache(16, 1 << 20);
        cache.appended(entries(0, 8, 10));
        cache.truncated(5);
        List<Entry> got = new ArrayList<>();
        assertFalse(cache.read(5, 10, 1 << 20, got));
        cache.appended(List.of(Entry.data(2, 5, new byte[1])));
        assertTrue(cache.read(3, 10, 1 << 20, got));
        assertEquals(List.of(3L, 4L, 5L), offsets(got));
        assertEquals(2, got.get(2).epoch());
    }

    @Test
    void byteBoundEvictsOldestButKeepsAtLeastOneEntryAndReadsRespectMaxBytes() {
        TailCache cache = new TailCache(1000, 1000);
        cache.appended(entries(0, 10, 200)); // 232 bytes each by sizeInBytes
        List<Entry> got = new ArrayList<>();
        assertFalse(cache.read(5, 100, 1 << 20, got));
        assertTrue(cache.read(6, 100, 1 << 20, got));
        assertEquals(List.of(6L, 7L, 8L, 9L), offsets(got));
        got.clear();
        assertTrue(cache.read(6, 100, 300, got));
        assertEquals(List.of(6L), offsets(got), "at least one entry, then the byte limit");
        cache.appended(entries(20, 1, 5000)); // not contiguous: starts over, and one entry always stays
        got.clear();
        assertTrue(cache.read(20, 10, 10, got));
        assertEquals(List.of(20L), offsets(got));
    }

    @Test
    void growsFromSixteenEntriesToItsBoundKeepingOrderAcrossAWrappedRing() {
        TailCache cache = new TailCache(100, 1 << 20);
        cache.appended(entries(0, 10, 1));
        cache.truncated(4); // head moves nowhere, count shrinks
        cache.appended(entries(4, 90, 1)); // grows 16 -> 32 -> 64 -> 100 with entries in order
        List<Entry> got = new ArrayList<>();
        assertTrue(cache.read(0, 200, 1 << 20, got));
        assertEquals(94, got.size());
        for (int i = 0; i < got.size(); i++) {
            assertEquals(i, got.get(i).offset());
        }
        cache.appended(entries(94, 20, 1)); // at its bound: the oldest go
        got.clear();
        assertFalse(cache.read(13, 10, 1 << 20, got), "14 entries evicted at the 100-entry bound");
        assertTrue(cache.read(14, 200, 1 << 20, got));
        assertEquals(100, got.size());
        assertEquals(113, got.get(got.size() - 1).offset());
    }

    @Test
    void cachesSharingABudgetHoldAtMostTheirShareAndARegisteringCacheTrimsTheOthersAtOnce() {
        TailBudget budget = new TailBudget(1000);
        TailCache a = new TailCache(1000, 1 << 20);
        a.share(budget);
        a.appended(entries(0, 10, 68)); // 100 bytes each by sizeInBytes: the whole budget
        assertEquals(1000, a.cachedBytes());
        TailCache b = new TailCache(1000, 1 << 20);
        b.share(budget);
        assertEquals(500, budget.share());
        assertEquals(500, a.cachedBytes(), "trimmed to the new share when b registered, before any append of its own");
        b.appended(entries(0, 10, 68));
        assertEquals(500, b.cachedBytes());
        assertEquals(1000, budget.cachedBytes());
        List<Entry> got = new ArrayList<>();
        assertFalse(a.read(4, 10, 1 << 20, got), "the oldest five went");
        assertTrue(a.read(5, 10, 1 << 20, got));
        assertEquals(List.of(5L, 6L, 7L, 8L, 9L), offsets(got));

        a.release();
        assertEquals(1000, budget.share(), "a released its share");
        assertEquals(1, budget.caches());
        b.appended(entries(10, 5, 68));
        assertEquals(1000, b.cachedBytes(), "b grows into the whole budget from its next append");
    }

    @Test
    void aCacheKeepsItsOwnBoundWhenItsShareIsLargerAndItsNewestEntryWhenTheShareIsSmaller() {
        TailBudget budget = new TailBudget(1 << 20);
        TailCache small = new TailCache(3, 1 << 20);
        small.share(budget);
        small.appended(entries(0, 10, 1));
        assertEquals(3 * 33, small.cachedBytes(), "three entries: its own bound");

        TailBudget none = new TailBudget(0);
        TailCache c = new TailCache(1000, 1 << 20);
        c.share(none);
        c.appended(entries(0, 4, 5000));
        List<Entry> got = new ArrayList<>();
        assertTrue(c.read(3, 10, 1 << 20, got), "the newest entry stays, whatever the share");
        assertEquals(List.of(3L), offsets(got));
        assertEquals(5032, none.cachedBytes());
    }
}
