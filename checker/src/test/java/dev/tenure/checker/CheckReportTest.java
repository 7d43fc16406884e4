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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.checker.Event.Type;
import org.junit.jupiter.api.Test;

class CheckReportTest {
    @Test
    void validHistoryReportsValidWithCountsByFAndOutcome() throws Exception {
        CheckReport r = HistoryChecker.create()
                .check(new TestHistory()
                        .writeAt(1, "k", "a", 0, 10, 1, 1)
                        .write(2, "k", "b", 5, 15, Type.FAIL)
                        .write(2, "j", "c", 20, 30, Type.INFO)
                        .read(1, "k", "a", 40, 50)
                        .build());
        assertEquals(CheckReport.Verdict.VALID, r.verdict());
        assertTrue(r.isValid());
        assertEquals(2, r.keysChecked());
        assertEquals(8, r.events());
        assertEquals(1, r.counts().get(Event.F.WRITE).get(Type.OK));
        assertEquals(1, r.counts().get(Event.F.WRITE).get(Type.FAIL));
        assertTrue(r.toString().startsWith("History check: VALID"), r.toString());
        assertTrue(r.toString().contains("write: 1 ok 1 fail 1 info"), r.toString());

        JsonNode json = new ObjectMapper().readTree(r.toJson());
        assertEquals("valid", json.get("verdict").asText());
        assertEquals(1, json.at("/ops/write/fail").asInt());
        assertEquals(2, json.at("/linearizability/keys").size());
        assertEquals(0, json.get("lostWrites").size());
    }

    @Test
    void everyKindOfViolationAppearsInTheTextAndTheJson() throws Exception {
        CheckReport r = HistoryChecker.create()
                .check(new TestHistory()
                        .writeAt(1, "k", "a", 0, 10, 1, 5)
                        .writeAt(1, "k", "b", 20, 30, 1, 5)
                        .read(2, "k", "a", 40, 50)
                        .build());
        assertEquals(CheckReport.Verdict.INVALID, r.verdict());
        assertEquals(1, r.linearizabilityViolations().size());
        assertEquals(1, r.lostWrites().size());
        assertEquals(1, r.positionViolations().size());
        String text = r.toString();
        assertTrue(text.contains("1 not, 0 unknown"), text);
        assertTrue(text.contains("lost writes: 1"), text);
        assertTrue(text.contains("duplicate position: offset 5"), text);

        JsonNode json = new ObjectMapper().readTree(r.toJson());
        assertEquals("invalid", json.get("verdict").asText());
        JsonNode key = json.at("/linearizability/keys/0");
        assertEquals("not_linearizable", key.get("verdict").asText());
        assertEquals("read", key.at("/culprit/f").asText());
        assertEquals(5, key.at("/culprit/invokeLine").asInt());
        assertEquals("b", json.at("/lostWrites/0/write/value").asText());
        assertEquals("duplicate_position", json.at("/positionViolations/0/kind").asText());
    }

    @Test
    void keysOutOfBudgetMakeTheVerdictUnknownNotValid() {
        TestHistory h = new TestHistory();
        for (int i = 0; i < 10; i++) {
            h.write(i, "k", "v" + i, 0, 100);
        }
        h.read(20, "k", "v0", 200, 210).read(20, "k", "v1", 220, 230);
        CheckReport r = HistoryChecker.builder()
                .linearizability(
                        LinearizabilityChecker.builder().maxStepsPerKey(50).build())
                .build()
                .check(h.build());
        assertEquals(CheckReport.Verdict.UNKNOWN, r.verdict());
        assertFalse(r.isValid());
        assertEquals(1, r.unknownKeys().size());
        assertTrue(r.toString().contains("unknown (budget exceeded)"), r.toString());
    }
}
