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
package dev.tenure.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.checker.Event.F;
import dev.tenure.checker.Event.Type;
import dev.tenure.checker.LostWriteChecker.LostWrite;
import java.util.List;
import org.junit.jupiter.api.Test;

class LostWriteCheckerTest {
    private final LostWriteChecker checker = new LostWriteChecker();

    private List<LostWrite> lost(TestHistory h) {
        return checker.check(h.build());
    }

    @Test
    void acknowledgedLastWriteMissingFromTheFinalReadIsReported() {
        List<LostWrite> lost = lost(new TestHistory()
                .write(1, "k", "a", 0, 10)
                .write(1, "k", "b", 20, 30)
                .read(2, "k", "a", 40, 50));
        assertEquals(1, lost.size());
        LostWrite l = lost.get(0);
        assertEquals("b", l.write().value());
        assertEquals("a", l.finalRead().value());
        assertTrue(l.explanation().startsWith("lost write on k: op#1 p1 write(k, \"b\") ok"), l.explanation());
    }

    @Test
    void finalReadShowingTheLastValueReportsNothing() {
        assertEquals(
                List.of(),
                lost(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .write(1, "k", "b", 20, 30)
                        .read(2, "k", "b", 40, 50)
                        .read(3, "k", "b", 45, 55)));
    }

    @Test
    void concurrentWriteThatCouldOrderAfterTheLastOneIsNotReported() {
        for (String seen : new String[] {"a", "b"}) {
            assertEquals(
                    List.of(),
                    lost(new TestHistory()
                            .write(1, "k", "a", 0, 30)
                            .write(2, "k", "b", 10, 20)
                            .read(3, "k", seen, 40, 50)),
                    seen);
        }
    }

    @Test
    void infoWriteThatCouldFollowExplainsTheFinalRead() {
        assertEquals(
                List.of(),
                lost(new TestHistory()
                        .write(1, "k", "b", 0, 10)
                        .write(2, "k", "c", 20, 30, Type.INFO)
                        .read(3, "k", "c", 40, 50)));
    }

    @Test
    void infoWriteDoesNotExcuseAFinalReadOfAnOverwrittenValue() {
        // a was overwritten by b before the info write began; neither b nor c explains reading a
        List<LostWrite> lost = lost(new TestHistory()
                .write(1, "k", "a", 0, 10)
                .write(1, "k", "b", 20, 30)
                .write(2, "k", "c", 40, 50, Type.INFO)
                .read(3, "k", "a", 60, 70));
        assertEquals(List.of("b"), lost.stream().map(l -> l.write().value()).toList());
    }

    @Test
    void acknowledgedDeleteAndCasAreLostWritesToo() {
        List<LostWrite> delete = lost(new TestHistory()
                .write(1, "k", "a", 0, 10)
                .delete(1, "k", 20, 30)
                .read(2, "k", "a", 40, 50));
        assertEquals(F.DELETE, delete.get(0).write().f());
        List<LostWrite> cas = lost(new TestHistory()
                .write(1, "k", "a", 0, 10)
                .cas(1, "k", "a", "b", 20, 30, Type.OK)
                .read(2, "k", null, 40, 50));
        assertEquals(F.CAS, cas.get(0).write().f());
    }

    @Test
    void failedWriteIsNotAnAcknowledgedWrite() {
        assertEquals(
                List.of(),
                lost(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .write(1, "k", "b", 20, 30, Type.FAIL)
                        .read(2, "k", "a", 40, 50)));
    }

    @Test
    void readsOverlappingTheLastWriteAreNotFinalReads() {
        assertEquals(
                List.of(),
                lost(new TestHistory()
                        .write(1, "k", "a", 0, 10)
                        .write(1, "k", "b", 20, 30)
                        .read(2, "k", "a", 25, 35)));
    }

    @Test
    void aWriteNeverCompletedLeavesTheKeyWithoutFinalReads() {
        History h = new TestHistory()
                .write(1, "k", "a", 0, 10)
                .write(1, "k", "b", 20, 30)
                .event(Event.invoke(3, F.WRITE, "k", "c", 35))
                .read(2, "k", "a", 40, 50)
                .build();
        assertEquals(List.of(), checker.check(h));
    }

    @Test
    void keysAreCheckedIndependently() {
        List<LostWrite> lost = lost(new TestHistory()
                .write(1, "x", "a", 0, 10)
                .write(1, "y", "b", 20, 30)
                .read(2, "x", null, 40, 50)
                .read(3, "y", "b", 40, 50));
        assertEquals(List.of("x"), lost.stream().map(LostWrite::key).toList());
    }
}
