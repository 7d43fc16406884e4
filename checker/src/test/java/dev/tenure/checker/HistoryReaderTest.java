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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.checker.Event.F;
import dev.tenure.checker.Event.Type;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryReaderTest {
    private static History read(String... lines) throws IOException {
        return HistoryReader.read(new StringReader(String.join("\n", lines)));
    }

    private static HistoryFormatException rejected(String... lines) {
        return assertThrows(HistoryFormatException.class, () -> read(lines));
    }

    private static final String W1 =
            "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"value\":\"a\",\"time\":1}";
    private static final String W1_OK =
            "{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"value\":\"a\",\"time\":2}";

    @Test
    void everyFieldOfTheDocumentedFormatIsRead() throws IOException {
        History h = read(
                "{\"process\":3,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k1\",\"value\":[null,\"b\"],\"time\":100}",
                "{\"process\":4,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k1\",\"value\":null,\"time\":110}",
                "{\"process\":3,\"type\":\"ok\",\"f\":\"cas\",\"key\":\"k1\",\"value\":[null,\"b\"],\"time\":150,"
                        + "\"epoch\":2,\"offset\":41}",
                "{\"process\":4,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k1\",\"value\":null,\"time\":160}",
                "{\"process\":3,\"type\":\"invoke\",\"f\":\"delete\",\"key\":\"k2\",\"time\":170,\"extra\":true}",
                "{\"process\":3,\"type\":\"info\",\"f\":\"delete\",\"key\":\"k2\",\"value\":null,\"time\":180}");
        assertEquals(6, h.events().size());
        List<Operation> ops = h.operations();
        Operation cas = ops.get(0);
        assertEquals(F.CAS, cas.f());
        assertNull(cas.expected());
        assertEquals("b", cas.value());
        assertEquals(Type.OK, cas.outcome());
        assertEquals(OptionalLong.of(2), cas.epoch());
        assertEquals(OptionalLong.of(41), cas.offset());
        assertEquals(1, cas.invokeLine());
        assertEquals(3, cas.completeLine());
        Operation read = ops.get(1);
        assertEquals(Type.OK, read.outcome());
        assertNull(read.value());
        assertEquals(Type.INFO, ops.get(2).outcome());
        assertEquals(List.of("k1", "k2"), List.copyOf(h.operationsByKey().keySet()));
    }

    @Test
    void anInvokeNeverCompletedIsAnInfoOperationWithoutCompletion() throws IOException {
        Operation op = read(W1).operations().get(0);
        assertEquals(Type.INFO, op.outcome());
        assertFalse(op.hasCompletion());
        assertEquals(Long.MAX_VALUE, op.intervalEnd());
    }

    @Test
    void blankLinesAreSkippedButCountInLineNumbers() {
        HistoryFormatException e = rejected(W1, "", W1_OK, "not json");
        assertEquals(4, e.lineNumber());
        assertTrue(e.getMessage().startsWith("line 4: malformed JSON"), e.getMessage());
    }

    @Test
    void unknownFAndTypeAreRejectedWithTheirLine() {
        HistoryFormatException f =
                rejected(W1, "{\"process\":1,\"type\":\"ok\",\"f\":\"append\",\"key\":\"k\",\"time\":2}");
        assertEquals("line 2: unknown f \"append\"", f.getMessage());
        HistoryFormatException type =
                rejected("{\"process\":1,\"type\":\"start\",\"f\":\"read\",\"key\":\"k\",\"time\":2}");
        assertEquals("line 1: unknown type \"start\"", type.getMessage());
        assertEquals(
                1,
                rejected("{\"process\":1,\"type\":\"INVOKE\",\"f\":\"read\",\"key\":\"k\",\"time\":2}")
                        .lineNumber());
    }

    @Test
    void missingOrMistypedFieldsAreRejectedWithTheirLine() {
        assertTrue(rejected("[1,2]").getMessage().contains("expected a JSON object"));
        assertTrue(rejected("{\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"time\":1}")
                .getMessage()
                .contains("\"process\" must be an integer"));
        assertTrue(rejected("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":7,\"time\":1}")
                .getMessage()
                .contains("\"key\" must be a string"));
        assertTrue(rejected("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"time\":\"x\"}")
                .getMessage()
                .contains("\"time\" must be an integer"));
    }

    @Test
    void valuesOfTheWrongShapeAreRejectedWithTheirLine() {
        assertTrue(
                rejected("{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":\"a\",\"time\":1}")
                        .getMessage()
                        .contains("[expected, new]"));
        assertTrue(rejected(
                        "{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"a\",null],\"time\":1}")
                .getMessage()
                .contains("new value of a cas must be a string"));
        assertTrue(rejected("{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"time\":1}")
                .getMessage()
                .contains("a write invoke needs a string \"value\""));
        HistoryFormatException readValue = rejected(
                "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"time\":1}",
                "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k\",\"value\":5,\"time\":2}");
        assertEquals(2, readValue.lineNumber());
        assertTrue(readValue.getMessage().contains("must be a string or null"), readValue.getMessage());
        assertTrue(rejected(W1, "{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"time\":2,\"epoch\":1}")
                .getMessage()
                .contains("\"epoch\" and \"offset\" come together"));
    }

    @Test
    void completionWithoutAnInvokeIsRejected() {
        HistoryFormatException e = rejected(W1, W1_OK, W1_OK.replace("\"time\":2", "\"time\":3"));
        assertEquals("line 3: a ok write completion of process 1 without an invoke", e.getMessage());
    }

    @Test
    void secondInvokeWhileOneIsOutstandingIsRejected() {
        HistoryFormatException e = rejected(W1, W1.replace("\"time\":1", "\"time\":5"));
        assertEquals(2, e.lineNumber());
        assertTrue(e.getMessage().contains("while its write invoked on line 1 is outstanding"), e.getMessage());
    }

    @Test
    void completionThatDoesNotMatchItsInvokeIsRejected() {
        assertTrue(rejected(W1, W1_OK.replace("\"k\"", "\"other\""))
                .getMessage()
                .contains("does not match its invoke write(k) on line 1"));
        assertTrue(rejected(W1, W1_OK.replace("\"a\"", "\"b\"")).getMessage().contains("completion value differs"));
    }

    @Test
    void timeGoingBackwardsIsRejected() {
        HistoryFormatException e = rejected(W1.replace("\"time\":1", "\"time\":10"), W1_OK);
        assertEquals("line 2: time goes backwards: 2 after 10 (events are in time order)", e.getMessage());
    }

    @Test
    void aFileIsReadAsUtf8(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("history.jsonl");
        Files.writeString(
                file,
                W1.replace("\"a\"", "\"\u00e9t\u00e9\"") + "\n" + W1_OK.replace("\"a\"", "\"\u00e9t\u00e9\"") + "\n",
                StandardCharsets.UTF_8);
        assertEquals(
                "\u00e9t\u00e9", HistoryReader.read(file).operations().get(0).value());
    }
}
