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
package dev.tenure.demo.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.checker.CheckReport;
import dev.tenure.checker.Event;
import dev.tenure.checker.History;
import dev.tenure.checker.HistoryChecker;
import dev.tenure.demo.kv.Partitioning;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code verify}'s report over partitions: each partition's keys checked as a history of their own. */
class RunReportTest {
    /** {@code k0} and the first key {@code kN} in another of 2 partitions. */
    private static List<String> keysInTwoPartitions() {
        String a = "k0";
        for (int i = 1; ; i++) {
            String b = "k" + i;
            if (Partitioning.partitionOf(b, 2) != Partitioning.partitionOf(a, 2)) {
                return List.of(a, b);
            }
        }
    }

    /** A write of {@code value} to {@code key} at ({@code epoch}, {@code offset}), then a read of it. */
    private static void writeThenRead(List<Event> events, int process, String key, String value, long offset) {
        long t = events.size() * 10L + 1;
        Event w = Event.invoke(process, Event.F.WRITE, key, value, t);
        events.add(w);
        events.add(w.completion(Event.Type.OK, t + 1).withPosition(1, offset));
        Event r = Event.invoke(process, Event.F.READ, key, null, t + 2);
        events.add(r);
        events.add(r.completion(Event.Type.OK, t + 3).withValue(value));
    }

    @Test
    void theSameOffsetInTwoPartitionsIsNoDuplicateButTheWholeHistoryCheckWouldCallItOne() {
        List<String> keys = keysInTwoPartitions();
        List<Event> events = new ArrayList<>();
        writeThenRead(events, 0, keys.get(0), "a", 1);
        writeThenRead(events, 1, keys.get(1), "b", 1);
        History history = History.of(events);

        assertEquals(
                CheckReport.Verdict.INVALID,
                HistoryChecker.create().check(history).verdict());
        RunReport split = RunReport.check(history, 2);
        assertEquals(CheckReport.Verdict.VALID, split.verdict(), split.toString());
        assertEquals(2, split.byPartition().size());
        assertEquals(4, split.operations());
        assertEquals(0, split.positionViolations());
        assertTrue(split.toString().startsWith("History check by partition: VALID"), split.toString());
    }

    @Test
    void aStaleReadInOnePartitionMakesTheRunInvalidAndOnlyThatPartitionsReport() {
        List<String> keys = keysInTwoPartitions();
        List<Event> events = new ArrayList<>();
        writeThenRead(events, 0, keys.get(0), "a", 1);
        writeThenRead(events, 1, keys.get(1), "b", 1);
        Event w = Event.invoke(0, Event.F.WRITE, keys.get(1), "c", 1000);
        events.add(w);
        events.add(w.completion(Event.Type.OK, 1001).withPosition(1, 2));
        Event stale = Event.invoke(1, Event.F.READ, keys.get(1), null, 1002);
        events.add(stale);
        events.add(stale.completion(Event.Type.OK, 1003).withValue("b"));

        RunReport split = RunReport.check(History.of(events), 2);
        assertEquals(CheckReport.Verdict.INVALID, split.verdict());
        assertEquals(1, split.linearizabilityViolations());
        String bad = Partitioning.id(Partitioning.partitionOf(keys.get(1), 2));
        String good = Partitioning.id(Partitioning.partitionOf(keys.get(0), 2));
        assertNotEquals(bad, good);
        assertEquals(CheckReport.Verdict.INVALID, split.byPartition().get(bad).verdict());
        assertEquals(CheckReport.Verdict.VALID, split.byPartition().get(good).verdict());
        assertTrue(split.toString().contains("partition " + bad + ": History check: INVALID"), split.toString());
    }

    @Test
    void aSingleLogIsCheckedWholeAsBefore() {
        List<Event> events = new ArrayList<>();
        writeThenRead(events, 0, "k0", "a", 1);
        writeThenRead(events, 1, "k1", "b", 1);
        RunReport whole = RunReport.check(History.of(events), 1);
        assertEquals(CheckReport.Verdict.INVALID, whole.verdict(), "one log: offset 1 twice is a duplicate");
        assertEquals(1, whole.positionViolations());
        assertTrue(whole.toString().startsWith("History check: INVALID"), whole.toString());
    }
}
