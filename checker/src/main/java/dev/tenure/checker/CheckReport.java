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
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link HistoryChecker} found: operation counts, the timeline of non-client events (the faults a nemesis
 * recorded, listed but not checked), the per-key linearizability results, lost writes and position violations,
 * and the time taken. Immutable and thread-safe; building one never fails. {@link #toString()} is for humans (it lists
 * at most {@value #MAX_LISTED} items per section); {@link #toJson()} has everything.
 */
public final class CheckReport {
    /** Items listed per section in {@link #toString()}. */
    public static final int MAX_LISTED = 20;

    /** The overall outcome. */
    public enum Verdict {
        /** Every check passed and every key was decided. */
        VALID,
        /** At least one violation. */
        INVALID,
        /** No violation, but some key ran out of budget. */
        UNKNOWN
    }

    private final int events;
    private final int operations;
    private final Map<Event.F, Map<Event.Type, Integer>> counts;
    private final LinearizabilityChecker.Result linearizability;
    private final List<LostWriteChecker.LostWrite> lostWrites;
    private final List<PositionChecker.PositionViolation> positionViolations;
    private final Duration elapsed;
    private final long origin;
    private final List<NonClientEvent> timeline;

    CheckReport(
            History history,
            LinearizabilityChecker.Result linearizability,
            List<LostWriteChecker.LostWrite> lostWrites,
            List<PositionChecker.PositionViolation> positionViolations,
            Duration elapsed) {
        this.events = history.events().size();
        this.operations = history.operations().size();
        Map<Event.F, Map<Event.Type, Integer>> c = new EnumMap<>(Event.F.class);
        history.counts().forEach((f, m) -> c.put(f, Collections.unmodifiableMap(new EnumMap<>(m))));
        this.counts = Collections.unmodifiableMap(c);
        this.linearizability = Objects.requireNonNull(linearizability, "linearizability");
        this.lostWrites = List.copyOf(lostWrites);
        this.positionViolations = List.copyOf(positionViolations);
        this.elapsed = Objects.requireNonNull(elapsed, "elapsed");
        this.origin = history.startTime();
        this.timeline = history.nonClientEvents();
    }

    /** Invalid if any check found a violation, else unknown if a key ran out of budget, else valid. */
    public Verdict verdict() {
        if (!linearizability.violations().isEmpty() || !lostWrites.isEmpty() || !positionViolations.isEmpty()) {
            return Verdict.INVALID;
        }
        return linearizability.unknown().isEmpty() ? Verdict.VALID : Verdict.UNKNOWN;
    }

    /** True if the verdict is {@link Verdict#VALID}. */
    public boolean isValid() {
        return verdict() == Verdict.VALID;
    }

    /** Client events in the history (lines of other processes are in {@link #timeline()}). */
    public int events() {
        return events;
    }

    /** Operations: client invokes, each paired with its completion if it has one. */
    public int operations() {
        return operations;
    }

    /** Operation counts by f and outcome. */
    public Map<Event.F, Map<Event.Type, Integer>> counts() {
        return counts;
    }

    /** Keys whose linearizability was checked: every key of the history. */
    public int keysChecked() {
        return linearizability.keys().size();
    }

    /** Per-key linearizability results. */
    public LinearizabilityChecker.Result linearizability() {
        return linearizability;
    }

    /** The keys that are not linearizable, with explanations. */
    public List<LinearizabilityChecker.KeyResult> linearizabilityViolations() {
        return linearizability.violations();
    }

    /** The keys whose search ran out of budget. */
    public List<LinearizabilityChecker.KeyResult> unknownKeys() {
        return linearizability.unknown();
    }

    /** The acknowledged writes the final reads do not show. */
    public List<LostWriteChecker.LostWrite> lostWrites() {
        return lostWrites;
    }

    /** Duplicate, reordered or epoch-regressing log positions. */
    public List<PositionChecker.PositionViolation> positionViolations() {
        return positionViolations;
    }

    /**
     * The timeline: the lines of processes that are not clients (the faults a nemesis recorded), in the order of
     * the history; no check looks at them.
     */
    public List<NonClientEvent> timeline() {
        return timeline;
    }

    /** Time taken by all checks. */
    public Duration elapsed() {
        return elapsed;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append("History check: ")
                .append(verdict())
                .append(" (")
                .append(elapsed.toMillis())
                .append(" ms)\n");
        b.append("  ")
                .append(events)
                .append(" events, ")
                .append(operations)
                .append(" operations, ")
                .append(keysChecked())
                .append(" keys\n");
        counts.forEach((f, m) -> {
            b.append("  ").append(f.wireName()).append(':');
            m.forEach((t, n) -> b.append(' ').append(n).append(' ').append(t.wireName()));
            b.append('\n');
        });
        if (!timeline.isEmpty()) {
            b.append("  timeline: ")
                    .append(timeline.size())
                    .append(" non-client events (not checked), times as in the operations below\n");
            list(b, timeline.stream().map(e -> e.describe(origin)).toList());
        }
        long linearizable = linearizability.keys().values().stream()
                .filter(k -> k.verdict() == LinearizabilityChecker.Verdict.LINEARIZABLE)
                .count();
        b.append("  linearizability: ")
                .append(linearizable)
                .append(" keys linearizable, ")
                .append(linearizability.violations().size())
                .append(" not, ")
                .append(linearizability.unknown().size())
                .append(" unknown (")
                .append(linearizability.elapsed().toMillis())
                .append(" ms)\n");
        list(b, linearizability.violations());
        list(b, linearizability.unknown());
        b.append("  lost writes: ").append(lostWrites.size()).append('\n');
        list(b, lostWrites);
        b.append("  position violations: ").append(positionViolations.size()).append('\n');
        list(b, positionViolations);
        return b.toString();
    }

    private static void list(StringBuilder b, List<?> items) {
        items.stream()
                .limit(MAX_LISTED)
                .forEach(i -> b.append("    ")
                        .append(i.toString().replace("\n", "\n    "))
                        .append('\n'));
        if (items.size() > MAX_LISTED) {
            b.append("    ... and ").append(items.size() - MAX_LISTED).append(" more\n");
        }
    }

    /** The report as a JSON object. */
    public ObjectNode toJsonNode() {
        ObjectNode o = EventJson.MAPPER.createObjectNode();
        o.put("verdict", lower(verdict().name()));
        o.put("valid", isValid());
        o.put("elapsedMillis", elapsed.toMillis());
        o.put("events", events);
        o.put("operations", operations);
        ObjectNode ops = o.putObject("ops");
        counts.forEach((f, m) -> {
            ObjectNode byType = ops.putObject(f.wireName());
            m.forEach((t, n) -> byType.put(t.wireName(), n));
        });
        o.put("keysChecked", keysChecked());

        ObjectNode lin = o.putObject("linearizability");
        lin.put("elapsedMillis", linearizability.elapsed().toMillis());
        ArrayNode keys = lin.putArray("keys");
        for (LinearizabilityChecker.KeyResult k : linearizability.keys().values()) {
            ObjectNode kn = keys.addObject();
            kn.put("key", k.key());
            kn.put("verdict", lower(k.verdict().name()));
            kn.put("operations", k.operations());
            kn.put("searched", k.searched());
            kn.put("steps", k.steps());
            kn.put("elapsedMillis", k.elapsed().toMillis());
            if (!k.explanation().isEmpty()) {
                kn.put("explanation", k.explanation());
            }
            k.culprit().ifPresent(c -> kn.set("culprit", op(c)));
            if (!k.involved().isEmpty()) {
                ArrayNode inv = kn.putArray("involved");
                k.involved().forEach(i -> inv.add(op(i)));
            }
        }
        ArrayNode events = o.putArray("timeline");
        for (NonClientEvent e : timeline) {
            ObjectNode en = events.addObject();
            en.put("line", e.line());
            en.put("process", e.process());
            en.put("type", e.type());
            en.put("f", e.f());
            en.set("value", json(e.value()));
            e.time().ifPresent(t -> en.put("time", t));
            en.put("description", e.describe(origin));
        }
        ArrayNode lost = o.putArray("lostWrites");
        for (LostWriteChecker.LostWrite l : lostWrites) {
            ObjectNode ln = lost.addObject();
            ln.put("key", l.key());
            ln.set("write", op(l.write()));
            ln.set("finalRead", op(l.finalRead()));
            ln.put("explanation", l.explanation());
        }
        ArrayNode pos = o.putArray("positionViolations");
        for (PositionChecker.PositionViolation p : positionViolations) {
            ObjectNode pn = pos.addObject();
            pn.put("kind", lower(p.kind().name()));
            pn.set("first", op(p.first()));
            pn.set("second", op(p.second()));
            pn.put("explanation", p.explanation());
        }
        return o;
    }

    /** The report as a JSON string. */
    public String toJson() {
        try {
            return EventJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJsonNode());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of strings and numbers always serialises
        }
    }

    private ObjectNode op(Operation op) {
        ObjectNode n = EventJson.MAPPER.createObjectNode();
        n.put("id", op.id());
        n.put("process", op.process());
        n.put("f", op.f().wireName());
        n.put("key", op.key());
        if (op.f() == Event.F.CAS) {
            ArrayNode v = n.putArray("value");
            v.add(op.expected());
            v.add(op.value());
        } else {
            n.put("value", op.value());
        }
        n.put("outcome", op.outcome().wireName());
        n.put("invokeLine", op.invokeLine());
        n.put("invokeTime", op.invokeTime());
        if (op.hasCompletion()) {
            n.put("completeLine", op.completeLine());
            n.put("completeTime", op.completeTime());
        }
        if (op.epoch().isPresent()) {
            n.put("epoch", op.epoch().getAsLong());
            n.put("offset", op.offset().getAsLong());
        }
        n.put("description", op.describe(origin));
        return n;
    }

    private static JsonNode json(String text) {
        try {
            return EventJson.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // the reader took the text from a parsed line
        }
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
