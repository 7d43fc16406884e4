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

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * A well-formed history: client events in real-time order, the {@link Operation}s they pair into, and the lines of
 * processes that are not clients ({@link NonClientEvent}, such as the nemesis), which no check looks at. Immutable
 * and thread-safe.
 *
 * <p>Build one with {@link #of(List)}, {@link #builder()} or {@link HistoryReader}; each rejects an ill-formed
 * history with a {@link HistoryFormatException} naming the line (event number): time going backwards, a second
 * invoke while the process has one outstanding, a completion without an invoke, a completion whose f, key or
 * arguments differ from its invoke. An invoke that is never completed becomes an {@code info} operation.
 */
public final class History {
    private final List<Event> events;
    private final List<Operation> operations;
    private final Map<String, List<Operation>> byKey;
    private final List<NonClientEvent> nonClientEvents;

    private History(List<Event> events, List<Operation> operations, List<NonClientEvent> nonClientEvents) {
        this.events = Collections.unmodifiableList(events);
        this.nonClientEvents = Collections.unmodifiableList(nonClientEvents);
        this.operations = Collections.unmodifiableList(operations);
        Map<String, List<Operation>> keys = new TreeMap<>();
        for (Operation op : operations) {
            keys.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        keys.replaceAll((k, v) -> Collections.unmodifiableList(v));
        this.byKey = Collections.unmodifiableMap(keys);
    }

    /** The history of these events, in order; event {@code i} is line {@code i + 1} in errors. */
    public static History of(List<Event> events) {
        Builder b = builder();
        for (Event e : events) {
            b.add(e);
        }
        return b.build();
    }

    /** An empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** Every client event, in order. */
    public List<Event> events() {
        return events;
    }

    /** Every operation, in invoke order ({@link Operation#id()} is the index). */
    public List<Operation> operations() {
        return operations;
    }

    /** The operations of each key in invoke order, keys sorted. */
    public Map<String, List<Operation>> operationsByKey() {
        return byKey;
    }

    /**
     * The lines of processes that are not clients (the nemesis), in order; excluded from the operations and from
     * every check.
     */
    public List<NonClientEvent> nonClientEvents() {
        return nonClientEvents;
    }

    /** The time of the first client event, or 0 for an empty history; descriptions give times relative to it. */
    public long startTime() {
        return events.isEmpty() ? 0 : events.get(0).time();
    }

    /** Operation counts by f and outcome ({@code ok}, {@code fail}, {@code info}). */
    public Map<Event.F, Map<Event.Type, Integer>> counts() {
        Map<Event.F, Map<Event.Type, Integer>> counts = new EnumMap<>(Event.F.class);
        for (Operation op : operations) {
            counts.computeIfAbsent(op.f(), f -> new EnumMap<>(Event.Type.class)).merge(op.outcome(), 1, Integer::sum);
        }
        return counts;
    }

    @Override
    public String toString() {
        return "History[" + events.size() + " events, " + operations.size() + " operations, " + byKey.size() + " keys, "
                + nonClientEvents.size() + " non-client events]";
    }

    /**
     * Accumulates events, validating each as it is added. Not thread-safe. {@link #build()} may be called more
     * than once; each call returns a snapshot in which the invokes outstanding so far are {@code info}
     * operations without a completion.
     */
    public static final class Builder {
        private final PairingValidator validator = new PairingValidator();
        private final List<Event> events = new ArrayList<>();
        private final List<Operation> operations = new ArrayList<>();
        private final List<NonClientEvent> nonClientEvents = new ArrayList<>();

        private Builder() {}

        /**
         * Adds the next event; its line number in errors is its 1-based position.
         *
         * @throws HistoryFormatException if the event does not fit the history so far (nothing is added)
         */
        public Builder add(Event e) {
            return add(e, events.size() + 1);
        }

        Builder add(Event e, int line) {
            PairingValidator.Pending p = validator.accept(e, line);
            events.add(e);
            if (e.type() == Event.Type.INVOKE) {
                operations.add(null); // filled in at the completion or by build()
            } else {
                operations.set(p.ordinal(), operation(p, e, line));
            }
            return this;
        }

        /** Adds the line of a process that is not a client; it is not checked against the client events. */
        Builder add(NonClientEvent e) {
            nonClientEvents.add(e);
            return this;
        }

        /** The history of the events added so far. */
        public History build() {
            List<Operation> ops = new ArrayList<>(operations);
            for (PairingValidator.Pending p : validator.outstanding().values()) {
                ops.set(p.ordinal(), operation(p, null, 0));
            }
            return new History(new ArrayList<>(events), ops, new ArrayList<>(nonClientEvents));
        }

        private static Operation operation(PairingValidator.Pending p, Event completion, int line) {
            Event inv = p.invoke();
            String value = inv.f() == Event.F.READ ? (completion == null ? null : completion.value()) : inv.value();
            Event.Type outcome = completion == null ? Event.Type.INFO : completion.type();
            if (outcome != Event.Type.OK) {
                value = inv.f() == Event.F.READ ? null : value; // only an ok read has a result
            }
            return new Operation(
                    p.ordinal(),
                    inv.process(),
                    inv.f(),
                    inv.key(),
                    value,
                    inv.expected(),
                    outcome,
                    inv.time(),
                    completion == null ? Long.MAX_VALUE : completion.time(),
                    completion == null ? OptionalLong.empty() : completion.epoch(),
                    completion == null ? OptionalLong.empty() : completion.offset(),
                    p.line(),
                    line);
        }
    }
}
