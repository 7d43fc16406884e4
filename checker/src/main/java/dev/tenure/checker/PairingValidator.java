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

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Checks that a stream of events is a well-formed history: time never goes backwards, a process has at most one
 * operation outstanding, every completion follows an invoke of the same f and key by the same process with the
 * same arguments. Not thread-safe.
 */
final class PairingValidator {
    /** An invoke waiting for its completion; {@code ordinal} counts invokes from 0. */
    record Pending(Event invoke, int line, int ordinal) {}

    private final Map<Integer, Pending> outstanding = new HashMap<>();
    private long lastTime = Long.MIN_VALUE;
    private int invokes;

    /**
     * Accepts one event: for an invoke returns its new {@link Pending}, for a completion the {@link Pending} it
     * completes. Throws {@link HistoryFormatException} (and accepts nothing) if the event does not fit.
     */
    Pending accept(Event e, int line) {
        if (e.time() < lastTime) {
            throw new HistoryFormatException(
                    line, "time goes backwards: " + e.time() + " after " + lastTime + " (events are in time order)");
        }
        Pending pending = outstanding.get(e.process());
        if (e.type() == Event.Type.INVOKE) {
            if (pending != null) {
                throw new HistoryFormatException(
                        line,
                        "process " + e.process() + " invokes " + e.f().wireName() + " while its "
                                + pending.invoke().f().wireName() + " invoked on line " + pending.line()
                                + " is outstanding");
            }
            Pending p = new Pending(e, line, invokes++);
            outstanding.put(e.process(), p);
            lastTime = e.time();
            return p;
        }
        if (pending == null) {
            throw new HistoryFormatException(
                    line,
                    "a " + e.type().wireName() + " " + e.f().wireName() + " completion of process " + e.process()
                            + " without an invoke");
        }
        Event inv = pending.invoke();
        if (inv.f() != e.f() || !inv.key().equals(e.key())) {
            throw new HistoryFormatException(
                    line,
                    "completion " + e.f().wireName() + "(" + e.key() + ") of process " + e.process()
                            + " does not match its invoke " + inv.f().wireName() + "(" + inv.key() + ") on line "
                            + pending.line());
        }
        if (e.f() != Event.F.READ && e.value() != null) {
            if (!Objects.equals(inv.value(), e.value()) || !Objects.equals(inv.expected(), e.expected())) {
                throw new HistoryFormatException(
                        line,
                        "completion value differs from the value invoked on line " + pending.line()
                                + " (a completion repeats the arguments or omits them)");
            }
        }
        outstanding.remove(e.process());
        lastTime = e.time();
        return pending;
    }

    /** Invokes without a completion so far. */
    Map<Integer, Pending> outstanding() {
        return outstanding;
    }
}
