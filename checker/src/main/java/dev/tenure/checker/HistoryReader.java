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

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a history in JSON Lines form, one {@link Event} per line in real-time order:
 *
 * <pre>{@code
 * {"process":3,"type":"invoke","f":"cas","key":"k1","value":["a","b"],"time":1000}
 * {"process":3,"type":"ok","f":"cas","key":"k1","value":["a","b"],"time":2500,"epoch":2,"offset":41}
 * {"process":"nemesis","type":"info","f":"start-partition","value":"majority","time":2600}
 * }</pre>
 *
 * <p>A line whose {@code process} is an integer is a client's and must be a well-formed {@link Event}. A line whose
 * {@code process} is a string other than digits (Jepsen's {@code "nemesis"}, or any other non-client process) is
 * a {@link NonClientEvent}: its {@code type} and {@code f} may be anything (strings, or absent), its {@code value}
 * any JSON, its {@code time} (an integer if present) is not checked against the order of the client events; it is
 * kept for the report's timeline and left out of every check. Blank lines are skipped (line numbers still count
 * them); unknown fields are ignored. Stateless and thread-safe.
 *
 * <p>Failure behaviour: the first problem stops reading with a {@link HistoryFormatException} whose message starts
 * with {@code "line N: "} — malformed JSON, a missing or mistyped field (a {@code process} that is neither an
 * integer nor a string, or a string of digits), an unknown {@code f} or {@code type} on a client line, a value of
 * the wrong shape for its {@code f}, time going backwards, a completion without an invoke, a second invoke while
 * one is outstanding for the process, a completion whose f, key or arguments differ from its invoke. I/O errors
 * propagate as {@link IOException}.
 */
public final class HistoryReader {
    private HistoryReader() {}

    /** Reads a UTF-8 file. */
    public static History read(Path path) throws IOException {
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            return read(r);
        }
    }

    /** Reads to the end of {@code reader}; does not close it. */
    public static History read(Reader reader) throws IOException {
        BufferedReader in = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        History.Builder builder = History.builder();
        int lineNumber = 0;
        String line;
        while ((line = in.readLine()) != null) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = EventJson.tree(line, lineNumber);
            if (EventJson.isClient(n, lineNumber)) {
                builder.add(EventJson.event(n, lineNumber), lineNumber);
            } else {
                builder.add(EventJson.nonClientEvent(n, lineNumber));
            }
        }
        return builder.build();
    }

    /**
     * Parses one client line; {@code lineNumber} is used in errors only.
     *
     * @throws HistoryFormatException if the line is not a well-formed client event (a non-client line included:
     *     {@link #read(Reader)} is the way to read those)
     */
    public static Event parse(String line, int lineNumber) {
        return EventJson.decode(line, lineNumber);
    }
}
