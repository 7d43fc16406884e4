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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Lines of processes that are not clients, as Jepsen records its nemesis: accepted, listed, never checked. */
class NonClientEventTest {
    private static final List<String> VALID = List.of(
            "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"value\":\"a\",\"time\":1000000}",
            "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"value\":\"a\",\"time\":2000000,"
                    + "\"epoch\":1,\"offset\":1}",
            "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"value\":null,\"time\":3000000}",
            "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k\",\"value\":\"a\",\"time\":4000000}");

    /** VALID, then a write of b acknowledged before a read that still returns a: a stale read and a lost write. */
    private static final List<String> INVALID = List.of(
            VALID.get(0),
            VALID.get(1),
            "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"value\":\"b\",\"time\":5000000}",
            "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"value\":\"b\",\"time\":6000000,"
                    + "\"epoch\":1,\"offset\":2}",
            "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"value\":null,\"time\":7000000}",
            "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k\",\"value\":\"a\",\"time\":8000000}");

    private static final String START = "{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"start-partition\","
            + "\"value\":null,\"time\":1500000}";
    private static final String STARTED = "{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"start-partition\","
            + "\"value\":{\"n1\":[\"n2\",\"n3\"]},\"time\":1600000}";
    private static final String STOP = "{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"stop-partition\","
            + "\"value\":\"network healed\",\"time\":2500000}";
    private static final String UNTIMED = "{\"process\":\"checker-note\",\"note\":\"no type, f or time\"}";

    private static List<String> withNemesis(List<String> client) {
        List<String> lines = new ArrayList<>(client);
        lines.add(1, START);
        lines.add(2, STARTED);
        lines.add(4, STOP);
        lines.add(UNTIMED);
        return lines;
    }

    private static CheckReport check(List<String> lines) throws IOException {
        return HistoryChecker.create().check(new StringReader(String.join("\n", lines)));
    }

    @Test
    void nemesisLinesAreAcceptedAndKeptAsWritten() throws IOException {
        History h = HistoryReader.read(new StringReader(String.join("\n", withNemesis(VALID))));
        assertEquals(4, h.events().size());
        assertEquals(2, h.operations().size());
        assertEquals(
                List.of(
                        new NonClientEvent(2, "nemesis", "info", "start-partition", "null", OptionalLong.of(1500000)),
                        new NonClientEvent(
                                3,
                                "nemesis",
                                "info",
                                "start-partition",
                                "{\"n1\":[\"n2\",\"n3\"]}",
                                OptionalLong.of(1600000)),
                        new NonClientEvent(
                                5, "nemesis", "info", "stop-partition", "\"network healed\"", OptionalLong.of(2500000)),
                        new NonClientEvent(8, "checker-note", "", "", "null", OptionalLong.empty())),
                h.nonClientEvents());
        Operation write = h.operations().get(0);
        assertEquals(1, write.invokeLine());
        assertEquals(4, write.completeLine()); // client lines keep their own line numbers
    }

    @Test
    void nemesisLinesAreShownInTheReportsTimeline() throws IOException {
        CheckReport r = check(withNemesis(VALID));
        assertEquals(4, r.timeline().size());
        String text = r.toString();
        assertTrue(text.contains("timeline: 4 non-client events"), text);
        assertTrue(text.contains("t=0.500ms nemesis info start-partition [line 2]"), text);
        assertTrue(text.contains("t=0.600ms nemesis info start-partition {\"n1\":[\"n2\",\"n3\"]} [line 3]"), text);
        assertTrue(text.contains("t=1.500ms nemesis info stop-partition \"network healed\" [line 5]"), text);
        assertTrue(text.contains("checker-note [line 8]"), text);

        JsonNode json = new ObjectMapper().readTree(r.toJson());
        assertEquals(4, json.get("timeline").size());
        assertEquals("nemesis", json.at("/timeline/1/process").asText());
        assertEquals("start-partition", json.at("/timeline/1/f").asText());
        assertEquals("n3", json.at("/timeline/1/value/n1/1").asText());
        assertEquals(1600000, json.at("/timeline/1/time").asLong());
        assertEquals(3, json.at("/timeline/1/line").asInt());
        assertTrue(json.at("/timeline/3/time").isMissingNode());
    }

    @Test
    void aHistoryWithoutNonClientLinesHasNoTimelineSection() throws IOException {
        CheckReport r = check(VALID);
        assertTrue(r.timeline().isEmpty());
        assertTrue(!r.toString().contains("timeline"), r.toString());
    }

    @Test
    void nemesisLinesDoNotChangeTheVerdictOfAValidHistory() throws IOException {
        CheckReport without = check(VALID);
        CheckReport with = check(withNemesis(VALID));
        assertEquals(CheckReport.Verdict.VALID, without.verdict());
        assertSameFindings(without, with);
    }

    @Test
    void nemesisLinesDoNotChangeTheVerdictOfAnInvalidHistory() throws IOException {
        CheckReport without = check(INVALID);
        CheckReport with = check(withNemesis(INVALID));
        assertEquals(CheckReport.Verdict.INVALID, without.verdict());
        assertEquals(1, without.linearizabilityViolations().size());
        assertEquals(1, without.lostWrites().size());
        assertSameFindings(without, with);
    }

    @Test
    void nemesisLinesAnywhereInSimulatedHistoriesDoNotChangeTheVerdict() throws IOException {
        Random random = new Random(13);
        for (int run = 0; run < 20; run++) {
            List<String> client = new ArrayList<>();
            for (Event e : new RegisterSimulation(random.nextLong(), 4, 3, 0.1)
                    .valuePool(3)
                    .run(200)) {
                client.add(e.toString());
            }
            List<String> mixed = new ArrayList<>(client);
            for (int i = 0; i < 30; i++) {
                String f = i % 2 == 0 ? "start-partition" : "stop-partition";
                mixed.add(
                        random.nextInt(mixed.size() + 1),
                        "{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"" + f + "\",\"value\":" + i + "}");
            }
            CheckReport without = check(client);
            CheckReport with = check(mixed);
            assertEquals(30, with.timeline().size());
            assertSameFindings(without, with);
        }
    }

    @Test
    void aMalformedClientLineAmongNemesisLinesStillFailsWithItsLineNumber() {
        List<String> lines = withNemesis(VALID);
        lines.add(6, "{\"process\":1,\"type\":\"invoke\",\"f\":\"start-partition\",\"key\":\"k\",\"time\":3500000}");
        HistoryFormatException e = assertThrows(HistoryFormatException.class, () -> check(lines));
        assertEquals(7, e.lineNumber());
        assertTrue(e.getMessage().startsWith("line 7: unknown f \"start-partition\""), e.getMessage());
    }

    @Test
    void aClientProcessWrittenAsAStringOfDigitsIsRejectedNotLeftOutOfTheChecks() {
        List<String> lines = new ArrayList<>(VALID);
        lines.set(2, VALID.get(2).replace("\"process\":1", "\"process\":\"1\""));
        HistoryFormatException e = assertThrows(HistoryFormatException.class, () -> check(lines));
        assertEquals(3, e.lineNumber());
        assertTrue(e.getMessage().contains("must be an integer for a client"), e.getMessage());
    }

    @Test
    void aNonClientLineWithAMistypedFieldIsRejectedWithItsLineNumber() {
        HistoryFormatException time = assertThrows(
                HistoryFormatException.class,
                () -> check(List.of(VALID.get(0), "{\"process\":\"nemesis\",\"type\":\"info\",\"time\":\"soon\"}")));
        assertEquals(2, time.lineNumber());
        assertTrue(time.getMessage().contains("\"time\" must be an integer"), time.getMessage());
        HistoryFormatException process = assertThrows(
                HistoryFormatException.class, () -> check(List.of("{\"process\":true,\"type\":\"info\"}")));
        assertEquals(1, process.lineNumber());
        assertTrue(process.getMessage().contains("or a string"), process.getMessage());
    }

    @Test
    void parsingOneLineStillAcceptsOnlyClientEvents() {
        HistoryFormatException e = assertThrows(HistoryFormatException.class, () -> HistoryReader.parse(START, 9));
        assertTrue(e.getMessage().startsWith("line 9: not a client event"), e.getMessage());
    }

    private static void assertSameFindings(CheckReport without, CheckReport with) {
        assertEquals(without.verdict(), with.verdict());
        assertEquals(without.events(), with.events());
        assertEquals(without.operations(), with.operations());
        assertEquals(without.counts(), with.counts());
        assertEquals(verdicts(without), verdicts(with));
        assertEquals(without.lostWrites().size(), with.lostWrites().size());
        assertEquals(
                without.positionViolations().size(), with.positionViolations().size());
    }

    private static List<String> verdicts(CheckReport r) {
        return r.linearizability().keys().values().stream()
                .map(k -> k.key() + "=" + k.verdict())
                .toList();
    }
}
