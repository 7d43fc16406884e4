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
package dev.tenure.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class OutcomeJsonTest {
    @Test
    void anOutcomeSurvivesTheTripThroughJsonHistogramIncluded() throws Exception {
        Histogram h = new Histogram(3);
        for (long v = 1_000; v < 50_000_000; v = v * 3 / 2) {
            h.recordValue(v);
        }
        ClosedLoop.Outcome o = new ClosedLoop.Outcome(
                h, 3, 2, Duration.ofMillis(1500), new IllegalStateException("not the leader"), 1234);

        String wire = new ObjectMapper().writeValueAsString(OutcomeJson.toJson(o));
        ClosedLoop.Outcome back = OutcomeJson.fromJson(new ObjectMapper().readTree(wire));

        assertEquals(h, back.latencies());
        assertEquals(3, back.errors());
        assertEquals(2, back.unmeasuredErrors());
        assertEquals(Duration.ofMillis(1500), back.interval());
        assertEquals(1234, back.ioStallMicros());
        assertEquals(
                "java.lang.IllegalStateException: not the leader",
                back.firstError().toString());
    }

    @Test
    void anOutcomeWithoutFailuresHasNoFirstError() {
        ClosedLoop.Outcome back = OutcomeJson.fromJson(
                OutcomeJson.toJson(new ClosedLoop.Outcome(new Histogram(3), 0, 0, Duration.ofSeconds(1), null, -1)));
        assertNull(back.firstError());
        assertEquals(-1, back.ioStallMicros());
        assertEquals(0, back.successes());
    }

    @Test
    void somethingElseOrACorruptHistogramIsRefusedWithAClearError() {
        ObjectMapper json = new ObjectMapper();
        IllegalArgumentException notOne =
                assertThrows(IllegalArgumentException.class, () -> OutcomeJson.fromJson(json.createObjectNode()));
        assertEquals(true, notOne.getMessage().startsWith("not a load outcome"), notOne.getMessage());

        ObjectNode corrupt =
                OutcomeJson.toJson(new ClosedLoop.Outcome(new Histogram(3), 0, 0, Duration.ofSeconds(1), null, 0));
        corrupt.put("histogram", "AAAAAAAAAAAA");
        IllegalArgumentException bad =
                assertThrows(IllegalArgumentException.class, () -> OutcomeJson.fromJson(corrupt));
        assertEquals("corrupt latency histogram in a load outcome", bad.getMessage());
    }
}
