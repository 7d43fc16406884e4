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

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/** The JSON Lines form of an {@link Event} and of a {@link NonClientEvent}. Stateless and thread-safe. */
final class EventJson {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern CLIENT_ID = Pattern.compile("[+-]?[0-9]+");

    private EventJson() {}

    static String encode(Event e) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("process", e.process());
        o.put("type", e.type().wireName());
        o.put("f", e.f().wireName());
        o.put("key", e.key());
        if (e.f() == Event.F.CAS && e.value() != null) {
            ArrayNode a = o.putArray("value");
            a.add(e.expected());
            a.add(e.value());
        } else {
            o.put("value", e.value());
        }
        o.put("time", e.time());
        if (e.epoch().isPresent()) {
            o.put("epoch", e.epoch().getAsLong());
            o.put("offset", e.offset().getAsLong());
        }
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex); // an ObjectNode of strings and numbers always serialises
        }
    }

    /** Parses one client line; every problem, a non-client line included, is a {@link HistoryFormatException}. */
    static Event decode(String text, int line) {
        JsonNode n = tree(text, line);
        if (!isClient(n, line)) {
            throw new HistoryFormatException(
                    line, "not a client event: \"process\" is " + n.get("process") + ", not an integer");
        }
        return event(n, line);
    }

    /** Parses one line into a JSON object; malformed JSON or another value is a {@link HistoryFormatException}. */
    static JsonNode tree(String text, int line) {
        JsonNode n;
        try {
            n = MAPPER.readTree(text);
        } catch (JsonProcessingException ex) {
            throw new HistoryFormatException(line, "malformed JSON: " + ex.getOriginalMessage(), ex);
        }
        if (n == null || !n.isObject()) {
            throw new HistoryFormatException(line, "expected a JSON object");
        }
        return n;
    }

    /**
     * Whether the line is a client's: its {@code process} is an integer, as in Jepsen. A string names another
     * process (the nemesis); a string of digits, a missing process or any other value is rejected, so that a
     * client line written wrongly is never mistaken for a non-client one and left out of the checks.
     */
    static boolean isClient(JsonNode n, int line) {
        JsonNode p = n.get("process");
        if (p != null && p.isIntegralNumber()) {
            return true;
        }
        if (p == null || !p.isTextual()) {
            throw new HistoryFormatException(
                    line, "\"process\" must be an integer (a client) or a string (another process, e.g. \"nemesis\")");
        }
        if (CLIENT_ID.matcher(p.asText()).matches()) {
            throw new HistoryFormatException(
                    line, "\"process\" must be an integer for a client, not the string \"" + p.asText() + "\"");
        }
        return false;
    }

    /** The line of a process that is not a client; {@code type}, {@code f} and {@code time} are optional. */
    static NonClientEvent nonClientEvent(JsonNode n, int line) {
        JsonNode v = n.get("value");
        OptionalLong time = optionalLong(n, "time", line);
        return new NonClientEvent(
                line,
                n.get("process").asText(),
                optionalText(n, "type", line),
                optionalText(n, "f", line),
                v == null ? "null" : v.toString(),
                time);
    }

    private static String optionalText(JsonNode n, String name, int line) {
        JsonNode v = n.get(name);
        if (v == null || v.isNull()) {
            return "";
        }
        if (!v.isTextual()) {
            throw new HistoryFormatException(line, "\"" + name + "\" must be a string");
        }
        return v.asText();
    }

    /** The client event of a line {@link #isClient} accepted. */
    static Event event(JsonNode n, int line) {
        int process = intField(n, "process", line);
        Event.Type type = enumField(n, "type", Event.Type.class, line);
        Event.F f = enumField(n, "f", Event.F.class, line);
        JsonNode keyNode = n.get("key");
        if (keyNode == null || !keyNode.isTextual()) {
            throw new HistoryFormatException(line, "\"key\" must be a string");
        }
        long time = longField(n, "time", line);
        OptionalLong epoch = optionalLong(n, "epoch", line);
        OptionalLong offset = optionalLong(n, "offset", line);
        if (epoch.isPresent() != offset.isPresent()) {
            throw new HistoryFormatException(line, "\"epoch\" and \"offset\" come together");
        }
        if (epoch.isPresent() && type != Event.Type.OK) {
            throw new HistoryFormatException(line, "only an ok completion carries \"epoch\"/\"offset\"");
        }
        JsonNode v = n.get("value");
        boolean noValue = v == null || v.isNull();
        String value = null;
        String expected = null;
        switch (f) {
            case READ -> {
                if (type == Event.Type.INVOKE && !noValue) {
                    throw new HistoryFormatException(line, "a read invoke has \"value\":null");
                }
                if (type == Event.Type.OK) {
                    value = stringOrNull(v, line, "the value a read returned");
                }
            }
            case WRITE -> {
                if (type == Event.Type.INVOKE && noValue) {
                    throw new HistoryFormatException(line, "a write invoke needs a string \"value\"");
                }
                value = stringOrNull(v, line, "the value of a write");
            }
            case CAS -> {
                if (type == Event.Type.INVOKE && noValue) {
                    throw new HistoryFormatException(line, "a cas invoke needs \"value\":[expected, new]");
                }
                if (!noValue) {
                    if (!v.isArray() || v.size() != 2) {
                        throw new HistoryFormatException(line, "the value of a cas is [expected, new]");
                    }
                    expected = stringOrNull(v.get(0), line, "the expected value of a cas");
                    value = stringOrNull(v.get(1), line, "the new value of a cas");
                    if (value == null) {
                        throw new HistoryFormatException(line, "the new value of a cas must be a string");
                    }
                }
            }
            case DELETE -> {
                if (!noValue) {
                    throw new HistoryFormatException(line, "a delete has \"value\":null");
                }
            }
        }
        try {
            return new Event(process, type, f, keyNode.asText(), value, expected, time, epoch, offset);
        } catch (IllegalArgumentException ex) {
            throw new HistoryFormatException(line, ex.getMessage(), ex);
        }
    }

    private static String stringOrNull(JsonNode v, int line, String what) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new HistoryFormatException(line, what + " must be a string or null, not " + v);
        }
        return v.asText();
    }

    private static int intField(JsonNode n, String name, int line) {
        JsonNode v = n.get(name);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new HistoryFormatException(line, "\"" + name + "\" must be an integer");
        }
        return v.intValue();
    }

    private static long longField(JsonNode n, String name, int line) {
        JsonNode v = n.get(name);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new HistoryFormatException(line, "\"" + name + "\" must be an integer");
        }
        return v.longValue();
    }

    private static OptionalLong optionalLong(JsonNode n, String name, int line) {
        JsonNode v = n.get(name);
        if (v == null || v.isNull()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(longField(n, name, line));
    }

    private static <E extends Enum<E>> E enumField(JsonNode n, String name, Class<E> type, int line) {
        JsonNode v = n.get(name);
        if (v == null || !v.isTextual()) {
            throw new HistoryFormatException(line, "\"" + name + "\" must be a string");
        }
        String s = v.asText();
        if (!s.equals(s.toLowerCase(Locale.ROOT))) {
            throw new HistoryFormatException(line, "unknown " + name + " \"" + s + "\"");
        }
        try {
            return Enum.valueOf(type, s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException ex) {
            throw new HistoryFormatException(line, "unknown " + name + " \"" + s + "\"");
        }
    }
}
