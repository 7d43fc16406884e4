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

import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A line of a history whose {@code process} is not a client — in Jepsen's format, a line whose process is not an
 * integer, above all the nemesis recording the faults it injects:
 *
 * <pre>{@code
 * {"process":"nemesis","type":"info","f":"start-partition","value":{"n1":["n2","n3"]},"time":5000000000}
 * }</pre>
 *
 * <p>Such lines are accepted and kept as they were written, excluded from every check (they are not operations on
 * the register) and listed in the {@link CheckReport}'s timeline, so that a violation can be read against the
 * faults around it. Immutable and thread-safe.
 *
 * @param line the 1-based line of the history
 * @param process the process as written, for example {@code nemesis}
 * @param type the type as written (Jepsen's nemesis writes {@code info}), empty if the line has none
 * @param f the {@code f} as written, for example {@code start-partition}, empty if the line has none
 * @param value the {@code value} as compact JSON text, {@code null} if the line has none
 * @param time the time, on the clock of the client events, if the line has one
 */
public record NonClientEvent(int line, String process, String type, String f, String value, OptionalLong time) {
    /** Checks that the fields but {@code value} are not null. */
    public NonClientEvent {
        Objects.requireNonNull(process, "process");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(time, "time");
    }

    /** A one-line description with the time in milliseconds relative to {@code originNanos}. */
    public String describe(long originNanos) {
        StringBuilder b = new StringBuilder();
        if (time.isPresent()) {
            b.append("t=")
                    .append(String.format(Locale.ROOT, "%.3fms", (time.getAsLong() - originNanos) / 1e6))
                    .append(' ');
        }
        b.append(process);
        if (!type.isEmpty()) {
            b.append(' ').append(type);
        }
        if (!f.isEmpty()) {
            b.append(' ').append(f);
        }
        if (!value.equals("null")) {
            b.append(' ').append(value);
        }
        return b.append(" [line ").append(line).append(']').toString();
    }

    @Override
    public String toString() {
        return describe(0);
    }
}
