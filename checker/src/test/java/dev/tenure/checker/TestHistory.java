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

import dev.tenure.checker.Event.F;
import dev.tenure.checker.Event.Type;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Hand-written histories as operation intervals: each call adds an invoke at {@code start} and a completion at
 * {@code end}; {@link #build()} orders the events by time (stable, so give distinct times where order matters).
 */
final class TestHistory {
    private final List<Event> events = new ArrayList<>();

    TestHistory write(int process, String key, String value, long start, long end) {
        return op(Event.invoke(process, F.WRITE, key, value, start), Type.OK, end);
    }

    TestHistory write(int process, String key, String value, long start, long end, Type outcome) {
        return op(Event.invoke(process, F.WRITE, key, value, start), outcome, end);
    }

    TestHistory read(int process, String key, String value, long start, long end) {
        events.add(Event.invoke(process, F.READ, key, null, start));
        events.add(Event.invoke(process, F.READ, key, null, start)
                .completion(Type.OK, end)
                .withValue(value));
        return this;
    }

    TestHistory cas(int process, String key, String expected, String update, long start, long end, Type outcome) {
        return op(Event.invokeCas(process, key, expected, update, start), outcome, end);
    }

    TestHistory delete(int process, String key, long start, long end) {
        return op(Event.invoke(process, F.DELETE, key, null, start), Type.OK, end);
    }

    /** An ok write at log position (epoch, offset). */
    TestHistory writeAt(int process, String key, String value, long start, long end, long epoch, long offset) {
        Event invoke = Event.invoke(process, F.WRITE, key, value, start);
        events.add(invoke);
        events.add(invoke.completion(Type.OK, end).withPosition(epoch, offset));
        return this;
    }

    TestHistory op(Event invoke, Type outcome, long end) {
        events.add(invoke);
        events.add(invoke.completion(outcome, end));
        return this;
    }

    /** Adds one event as is. */
    TestHistory event(Event e) {
        events.add(e);
        return this;
    }

    List<Event> events() {
        List<Event> sorted = new ArrayList<>(events);
        sorted.sort(Comparator.comparingLong(Event::time));
        return sorted;
    }

    History build() {
        return History.of(events());
    }
}
