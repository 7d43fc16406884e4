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

import dev.tenure.checker.PositionChecker.Kind;
import dev.tenure.checker.PositionChecker.PositionViolation;
import java.util.List;
import org.junit.jupiter.api.Test;

class PositionCheckerTest {
    private final PositionChecker checker = new PositionChecker();

    private List<Kind> kinds(TestHistory h) {
        return checker.check(h.build()).stream().map(PositionViolation::kind).toList();
    }

    @Test
    void offsetsThatFollowRealTimeAreValid() {
        assertEquals(
                List.of(),
                kinds(new TestHistory()
                        .writeAt(1, "a", "1", 0, 10, 1, 1)
                        .writeAt(1, "b", "2", 20, 30, 1, 2)
                        .writeAt(2, "a", "3", 40, 50, 2, 7)
                        .write(3, "a", "no position", 60, 70)));
    }

    @Test
    void twoOperationsReportingTheSameOffsetAreADuplicatePosition() {
        List<PositionViolation> v = checker.check(new TestHistory()
                .writeAt(1, "a", "1", 0, 10, 1, 5)
                .writeAt(2, "b", "2", 5, 15, 2, 5)
                .build());
        assertEquals(
                List.of(Kind.DUPLICATE_POSITION),
                v.stream().map(PositionViolation::kind).toList());
        assertTrue(
                v.get(0).explanation().startsWith("duplicate position: offset 5"),
                v.get(0).explanation());
    }

    @Test
    void anOperationCompletedBeforeAnotherWasInvokedMustHaveTheLowerOffset() {
        List<PositionViolation> v = checker.check(new TestHistory()
                .writeAt(1, "a", "1", 0, 10, 1, 9)
                .writeAt(1, "b", "2", 20, 30, 1, 3)
                .build());
        assertEquals(
                List.of(Kind.REORDERED), v.stream().map(PositionViolation::kind).toList());
        assertEquals("1", v.get(0).first().value());
        assertEquals("2", v.get(0).second().value());
    }

    @Test
    void concurrentOperationsMayTakeEitherOffset() {
        assertEquals(
                List.of(),
                kinds(new TestHistory().writeAt(1, "a", "1", 0, 30, 1, 9).writeAt(2, "b", "2", 10, 20, 1, 3)));
    }

    @Test
    void anEpochGoingDownWhileOffsetsGoUpIsReported() {
        List<PositionViolation> v = checker.check(new TestHistory()
                .writeAt(1, "a", "1", 0, 30, 3, 1)
                .writeAt(2, "b", "2", 10, 20, 2, 2)
                .build());
        assertEquals(
                List.of(Kind.EPOCH_REGRESSED),
                v.stream().map(PositionViolation::kind).toList());
        assertEquals("2", v.get(0).second().value());
    }
}
