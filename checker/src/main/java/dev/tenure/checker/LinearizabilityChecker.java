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

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Checks that a history is linearizable, each key independently, as a register with read, write, cas and delete
 * (an absent key reads as null; every key starts absent). Immutable and thread-safe: {@link #check} may run
 * concurrently on many histories.
 *
 * <p>The search is Wing and Gong's, with Lowe's memoisation, as in Knossos' {@code wgl} and Porcupine (see
 * {@link KeySearch}): each operation is an interval from its invoke to its completion; the search repeatedly
 * linearizes an operation invoked before the earliest completion not yet linearized, backtracking when that
 * completion cannot be passed, and never revisits a (set of linearized operations, register value) it has
 * explored. It is iterative, so long histories cannot overflow the stack.
 *
 * <p>{@code fail} operations are removed: they did not happen (a failed cas is not read as evidence about the
 * value either, since a {@code fail} may also mean "refused before it was tried"). An {@code info} operation's
 * interval extends to infinity and it may be left out: it takes effect at any point after its invoke, or never.
 * An {@code info} read constrains nothing and is removed. Equal timestamps count as concurrent.
 *
 * <p>For a violation the result names the culprit — the read or cas whose completion no order of the operations
 * before it reaches, so the history up to that completion is the smallest failing prefix — the values the
 * register could hold then, and the mutations around it.
 *
 * <p>Failure behaviour: a key whose search exceeds the step or time budget is reported {@link Verdict#UNKNOWN}
 * ("unknown (budget exceeded)") — unless a cheap, sound check ({@link ImpossibleReads}) still proves a read
 * impossible, in which case it is {@link Verdict#NOT_LINEARIZABLE} with that read, which need not be the earliest
 * violation. Never a verdict the search did not reach. Memory per key grows with the configurations explored (one
 * small cache entry each), so the step budget also bounds it: about 100-200 bytes per step at worst.
 */
public final class LinearizabilityChecker {
    /** Default step budget per key: iterations of the search loop. */
    public static final long DEFAULT_MAX_STEPS_PER_KEY = 5_000_000;
    /** Default time budget per key. */
    public static final Duration DEFAULT_MAX_TIME_PER_KEY = Duration.ofSeconds(10);

    /** The outcome for one key. */
    public enum Verdict {
        /** Some order of the operations explains every observed result. */
        LINEARIZABLE,
        /** No order explains them: {@link KeyResult#culprit()} names the operation none can place. */
        NOT_LINEARIZABLE,
        /** The search ran out of budget: nothing is known. */
        UNKNOWN
    }

    /**
     * The result for one key.
     *
     * @param key the key
     * @param verdict the outcome
     * @param explanation empty when linearizable; for a violation, which operation could not be linearized, the
     *     smallest failing prefix and the values the register could hold; for unknown, the budget exceeded
     * @param culprit for a violation, the read or cas whose completion no order of the operations before it
     *     could reach (when the search ran out of budget: a read or cas the stale-read check proved impossible)
     * @param involved for a violation, the culprit and the mutations around it, in invoke order
     * @param operations operations of the key in the history
     * @param searched operations left in the search after removing {@code fail}, {@code info} reads and unobserved
     *     {@code info} mutations
     * @param steps iterations of the search loop
     * @param elapsed time spent on the key
     */
    public record KeyResult(
            String key,
            Verdict verdict,
            String explanation,
            Optional<Operation> culprit,
            List<Operation> involved,
            int operations,
            int searched,
            long steps,
            Duration elapsed) {
        /** Copies {@code involved}. */
        public KeyResult {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(verdict, "verdict");
            Objects.requireNonNull(explanation, "explanation");
            involved = List.copyOf(involved);
        }

        @Override
        public String toString() {
            return key + ": " + verdict.name().toLowerCase(java.util.Locale.ROOT)
                    + (explanation.isEmpty() ? "" : " - " + explanation);
        }
    }

    /** The results of all keys, keys sorted. Immutable. */
    public record Result(Map<String, KeyResult> keys, Duration elapsed) {
        /** Copies {@code keys}, keeping their order. */
        public Result {
            keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
        }

        /** True if every key is linearizable. */
        public boolean isLinearizable() {
            return keys.values().stream().allMatch(k -> k.verdict() == Verdict.LINEARIZABLE);
        }

        /** The keys that are not linearizable. */
        public List<KeyResult> violations() {
            return keys.values().stream()
                    .filter(k -> k.verdict() == Verdict.NOT_LINEARIZABLE)
                    .toList();
        }

        /** The keys whose search ran out of budget. */
        public List<KeyResult> unknown() {
            return keys.values().stream()
                    .filter(k -> k.verdict() == Verdict.UNKNOWN)
                    .toList();
        }
    }

    private final long maxSteps;
    private final Duration maxTime;
    private final LongSupplier clock;

    private LinearizabilityChecker(Builder b) {
        this.maxSteps = b.maxSteps;
        this.maxTime = b.maxTime;
        this.clock = b.clock;
    }

    /** A checker with the default budgets. */
    public static LinearizabilityChecker create() {
        return builder().build();
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Checks every key of {@code history}. */
    public Result check(History history) {
        long start = clock.getAsLong();
        Map<String, KeyResult> results = new LinkedHashMap<>();
        for (Map.Entry<String, List<Operation>> e : history.operationsByKey().entrySet()) {
            results.put(e.getKey(), checkKey(e.getKey(), e.getValue(), history.startTime()));
        }
        return new Result(results, Duration.ofNanos(clock.getAsLong() - start));
    }

    /**
     * Checks one key.
     *
     * @param ops the key's operations in invoke order (any outcome)
     * @param originNanos the time descriptions are relative to
     */
    public KeyResult checkKey(String key, List<Operation> ops, long originNanos) {
        long start = clock.getAsLong();
        KeySearch search = new KeySearch(ops);
        KeySearch.Outcome outcome = search.run(maxSteps, start + maxTime.toNanos(), clock);
        Duration elapsed = Duration.ofNanos(clock.getAsLong() - start);
        return switch (outcome) {
            case LINEARIZABLE ->
                new KeyResult(
                        key,
                        Verdict.LINEARIZABLE,
                        "",
                        Optional.empty(),
                        List.of(),
                        ops.size(),
                        search.searched(),
                        search.steps(),
                        elapsed);
            case BUDGET_EXCEEDED -> {
                String budget = search.steps() + " steps in " + elapsed.toMillis() + " ms (budget " + maxSteps
                        + " steps, " + maxTime.toMillis() + " ms)";
                Optional<ImpossibleReads.Finding> finding = ImpossibleReads.first(ops, originNanos);
                if (finding.isPresent()) {
                    ImpossibleReads.Finding f = finding.get();
                    StringBuilder b = new StringBuilder()
                            .append(f.observer().describe(originNanos))
                            .append(" cannot be linearized: ")
                            .append(f.reason())
                            .append(". Found by the stale-read check; the full search exceeded its budget (")
                            .append(budget)
                            .append("), so this need not be the earliest violation.");
                    appendInvolved(b, f.involved(), f.observer(), originNanos);
                    yield new KeyResult(
                            key,
                            Verdict.NOT_LINEARIZABLE,
                            b.toString(),
                            Optional.of(f.observer()),
                            f.involved(),
                            ops.size(),
                            search.searched(),
                            search.steps(),
                            Duration.ofNanos(clock.getAsLong() - start));
                }
                yield new KeyResult(
                        key,
                        Verdict.UNKNOWN,
                        "unknown (budget exceeded): " + budget,
                        Optional.empty(),
                        List.of(),
                        ops.size(),
                        search.searched(),
                        search.steps(),
                        elapsed);
            }
            case NOT_LINEARIZABLE -> explainViolation(key, ops, search, originNanos, elapsed);
        };
    }

    private static KeyResult explainViolation(
            String key, List<Operation> ops, KeySearch search, long origin, Duration elapsed) {
        Operation x = search.culprit();
        String seen = x.f() == Event.F.READ ? x.value() : x.expected();
        List<Operation> writers = ops.stream()
                .filter(o -> o.isMutation() && Objects.equals(o.result(), seen))
                .toList();
        List<Operation> possibleWriters =
                writers.stream().filter(o -> !o.isFail()).toList();

        Set<Operation> involved = new TreeSet<>((p, q) -> Integer.compare(p.id(), q.id()));
        involved.add(x);
        writers.stream().limit(3).forEach(involved::add);
        ops.stream()
                .filter(o -> o.isMutation()
                        && !o.isFail()
                        && o.invokeTime() <= x.completeTime()
                        && o.completeTime() >= x.invokeTime())
                .limit(6)
                .forEach(involved::add);
        ops.stream()
                .filter(o -> o.isMutation() && o.isOk() && o.precedes(x))
                .sorted((p, q) -> Long.compare(q.completeTime(), p.completeTime()))
                .limit(3)
                .forEach(involved::add);

        StringBuilder b = new StringBuilder();
        b.append(x.describe(origin)).append(" cannot be linearized: ");
        b.append(x.f() == Event.F.READ ? "it returned " : "it expected ").append(Operation.quote(seen));
        b.append(", but in every order of the operations before its completion the register held ");
        List<String> unread = involved.stream()
                .filter(o -> o.isMutation() && !o.isFail() && !search.isObserved(o.result()))
                .sorted((p, q) -> Long.compare(q.invokeTime(), p.invokeTime()))
                .map(o -> Operation.quote(o.result()))
                .distinct()
                .limit(2)
                .toList();
        List<String> held = search.frontierValues().stream()
                .map(v -> v.equals(KeySearch.UNOBSERVED_TEXT) && !unread.isEmpty()
                        ? v + " (such as " + String.join(" or ", unread) + ")"
                        : v)
                .toList();
        b.append(held.size() == 1 ? held.get(0) : "one of " + held).append(" then. ");
        if (seen != null && writers.isEmpty()) {
            b.append("No write or cas on ").append(key).append(" ever wrote ").append(Operation.quote(seen));
            b.append(". ");
        } else if (seen != null && possibleWriters.isEmpty()) {
            b.append(Operation.quote(seen))
                    .append(" was written only by operations that failed (definitely not applied). ");
        } else if (seen != null && possibleWriters.stream().allMatch(x::precedes)) {
            b.append(Operation.quote(seen)).append(" was written only after it completed. ");
        } else if (seen != null) {
            b.append("The value is stale or out of order. ");
        }
        long prefix =
                ops.stream().filter(o -> o.invokeLine() < x.completeLine()).count();
        b.append("Smallest failing prefix: ")
                .append(key)
                .append(" up to line ")
                .append(x.completeLine())
                .append(", ")
                .append(prefix)
                .append(" operations (those still in flight there may or may not have taken effect).");
        appendInvolved(b, involved, x, origin);
        return new KeyResult(
                key,
                Verdict.NOT_LINEARIZABLE,
                b.toString(),
                Optional.of(x),
                new ArrayList<>(involved),
                ops.size(),
                search.searched(),
                search.steps(),
                elapsed);
    }

    @SuppressWarnings("ReferenceEquality") // marks this very operation, found by identity in the same list
    private static void appendInvolved(StringBuilder b, Iterable<Operation> involved, Operation culprit, long origin) {
        b.append(" Operations involved:");
        for (Operation o : involved) {
            b.append("\n    ").append(o == culprit ? "* " : "  ").append(o.describe(origin));
        }
    }

    /** Budgets and the clock. Not thread-safe; the checker it builds is. */
    public static final class Builder {
        private long maxSteps = DEFAULT_MAX_STEPS_PER_KEY;
        private Duration maxTime = DEFAULT_MAX_TIME_PER_KEY;
        private LongSupplier clock = System::nanoTime;

        private Builder() {}

        /** Iterations of the search loop allowed per key (default {@value #DEFAULT_MAX_STEPS_PER_KEY}). */
        public Builder maxStepsPerKey(long steps) {
            if (steps <= 0) {
                throw new IllegalArgumentException("maxStepsPerKey must be positive: " + steps);
            }
            this.maxSteps = steps;
            return this;
        }

        /** Time allowed per key (default 10 s). */
        public Builder maxTimePerKey(Duration time) {
            if (time.isNegative() || time.isZero()) {
                throw new IllegalArgumentException("maxTimePerKey must be positive: " + time);
            }
            this.maxTime = time;
            return this;
        }

        /** Monotonic nanoseconds for the time budget and the elapsed times (default {@link System#nanoTime}). */
        public Builder clock(LongSupplier nanoClock) {
            this.clock = Objects.requireNonNull(nanoClock, "clock");
            return this;
        }

        /** A checker with these settings. */
        public LinearizabilityChecker build() {
            return new LinearizabilityChecker(this);
        }
    }

    /**
     * The Wing–Gong–Lowe search over one key. Not thread-safe; one instance per search.
     *
     * <p>Each operation with a completion becomes a call entry and a return entry, sorted by time (a call before a
     * return at the same time), in a doubly linked list. A call entry before the first return entry is a
     * candidate: if the register model accepts the operation in the current state and the resulting configuration
     * (linearized set, state) is not in the cache, the operation is linearized — its entries are unlinked (dancing
     * links), the previous state is pushed on an explicit stack — and the walk restarts from the head. Reaching
     * the first return entry means that operation cannot complete unless something else is linearized first: pop
     * the last linearized operation, relink it and try the next candidate after it. The search succeeds when the
     * list is empty.
     *
     * <p>An {@code info} operation whose interval is unbounded may be left out, so it has no return entry: its
     * call entry sits in a second list. At each configuration the walk first takes a matching read (below), then
     * tries the unbounded {@code info} operations invoked before the first return entry — only those whose effect
     * a candidate read or cas needs (a linearization in which an info operation is not followed at once by an
     * operation that observes its effect stays valid without it) — then the main list.
     *
     * <p>The cache holds each configuration explored (Lowe, "Testing for linearizability", 2017, section 4): the
     * linearized set as a bitset trimmed of its leading all-ones and trailing zero words, plus the register value.
     *
     * <p>Reductions that keep the verdict (and the culprit) unchanged:
     *
     * <ul>
     *   <li>Reads first: a candidate read that matches the current value can be linearized right away — any
     *       linearization from this configuration stays valid with the read moved to the front, since no pending
     *       operation must precede it in real time and a read changes nothing. So it is taken without branching,
     *       and when it leads nowhere the configuration fails as a whole.
     *   <li>An {@code info} write, cas or delete whose resulting value nothing observes (no {@code ok} read returns
     *       it, no cas expects it) is removed: leaving it out of any linearization changes nothing observable.
     *   <li>Values nothing observes all share one state, so orders that differ only in which unobserved value is
     *       current are explored once.
     *   <li>An {@code info} mutation whose value only it produces and that some {@code ok} read or cas observes
     *       must take effect before that observer completes; its interval ends there instead of at infinity.
     *   <li>Unbounded {@code info} operations with the same effect (typically deletes) are interchangeable once
     *       invoked, and using fewer of them leaves more options: the cache records, per linearized set of the
     *       other operations and state, how many of each class were used, and skips a configuration when one using
     *       no more of every class was already explored.
     * </ul>
     *
     * <p>{@code LinearizabilityCrossCheckTest} compares the verdict and the culprit with a search straight from
     * the definition on thousands of random small histories.
     */
    static final class KeySearch {
        enum Outcome {
            LINEARIZABLE,
            NOT_LINEARIZABLE,
            BUDGET_EXCEEDED
        }

        private static final int READ = 0;
        private static final int SET = 1; // write and delete
        private static final int CAS = 2;
        private static final int ABSENT = 0;
        private static final int UNOBSERVED = 1;
        private static final int NIL = -1;
        private static final int MAX_FRONTIER_VALUES = 8;
        static final String UNOBSERVED_TEXT = "a value no read returns";

        private final Operation[] ops;
        private final long[] end;
        private final Operation[] boundedBy; // for an info op whose end was brought in: the observer that did it
        private final int[] kind;
        private final int[] arg;
        private final int[] res;
        private final List<String> values = new ArrayList<>(); // state id -> value
        private final Set<String> observed = new HashSet<>();
        private final int[] effectClass; // unbounded info op -> class of operations with its effect; else -1
        private final int[] classUsed;
        private long steps;
        private int frontier = -1;
        private int frontierOp = -1;
        private final Set<Integer> frontierStates = new LinkedHashSet<>();

        // The lists: positions [0, mainSize) are the call and return entries of bounded operations in time
        // order, then the call entries of unbounded info operations in invoke order; then the two heads.
        private int[] next;
        private int[] prev;
        private int[] opAt;
        private boolean[] isCall;
        private int[] match; // call entry -> its return entry, NIL for unbounded info
        private int head;
        private int infoHead;
        private Bits bits;
        private Map<Config, Object> cache;
        private int[] stackEntry;
        private int[] stackState;
        private int[] stackLimit;
        private boolean[] stackGreedy;
        private int depth;
        // the walk
        private int state;
        private int entry;
        private boolean inInfo; // walking the info list, for candidates invoked before return entry `limit`
        private int limit;
        private boolean fresh; // a configuration not yet scanned for a matching read
        private int firstReturn;

        KeySearch(List<Operation> all) {
            Map<String, Operation> mustSee = new HashMap<>(); // value -> the ok read/cas of it completing first
            Map<String, Integer> producers = new HashMap<>();
            boolean absentObserved = false;
            for (Operation o : all) {
                if (o.isFail()) {
                    continue;
                }
                boolean observes = false;
                String v = null;
                if (o.f() == Event.F.READ && o.isOk()) {
                    observes = true;
                    v = o.value();
                } else if (o.f() == Event.F.CAS) {
                    observes = true;
                    v = o.expected();
                }
                if (observes) {
                    if (v == null) {
                        absentObserved = true;
                    } else {
                        observed.add(v);
                        if (o.isOk()) {
                            mustSee.merge(v, o, (p, q) -> q.completeTime() < p.completeTime() ? q : p);
                        }
                    }
                }
                if (o.isMutation() && o.result() != null) {
                    producers.merge(o.result(), 1, Integer::sum);
                }
            }
            List<Operation> kept = new ArrayList<>();
            List<Long> ends = new ArrayList<>();
            List<Operation> bounders = new ArrayList<>();
            for (Operation o : all) {
                if (o.isFail() || (o.f() == Event.F.READ && !o.isOk())) {
                    continue;
                }
                long e = o.intervalEnd();
                Operation bounder = null;
                if (o.isInfo() && o.isMutation()) {
                    String r = o.result();
                    if (r == null ? !absentObserved : !observed.contains(r)) {
                        continue; // its effect could never be observed: leaving it out changes nothing
                    }
                    Operation seenBy = r == null ? null : mustSee.get(r);
                    if (seenBy != null && producers.get(r) == 1 && seenBy.completeTime() >= o.invokeTime()) {
                        e = seenBy.completeTime(); // the only source of a value an ok operation saw
                        bounder = seenBy;
                    }
                }
                kept.add(o);
                ends.add(e);
                bounders.add(bounder);
            }
            this.ops = kept.toArray(new Operation[0]);
            this.boundedBy = bounders.toArray(new Operation[0]);
            int n = ops.length;
            this.end = new long[n];
            this.kind = new int[n];
            this.arg = new int[n];
            this.res = new int[n];
            Map<String, Integer> ids = new HashMap<>();
            values.add(null);
            values.add(UNOBSERVED_TEXT);
            for (int i = 0; i < n; i++) {
                Operation o = ops[i];
                end[i] = ends.get(i);
                switch (o.f()) {
                    case READ -> {
                        kind[i] = READ;
                        arg[i] = id(ids, o.value());
                    }
                    case WRITE -> {
                        kind[i] = SET;
                        res[i] = id(ids, o.value());
                    }
                    case DELETE -> {
                        kind[i] = SET;
                        res[i] = ABSENT;
                    }
                    case CAS -> {
                        kind[i] = CAS;
                        arg[i] = id(ids, o.expected());
                        res[i] = id(ids, o.value());
                    }
                }
            }
            this.effectClass = new int[n];
            Map<List<Integer>, Integer> classes = new HashMap<>();
            for (int i = 0; i < n; i++) {
                effectClass[i] = end[i] == Long.MAX_VALUE
                        ? classes.computeIfAbsent(List.of(kind[i], arg[i], res[i]), k -> classes.size())
                        : -1;
            }
            this.classUsed = new int[classes.size()];
        }

        private int id(Map<String, Integer> ids, String v) {
            if (v == null) {
                return ABSENT;
            }
            if (!observed.contains(v)) {
                return UNOBSERVED;
            }
            return ids.computeIfAbsent(v, k -> {
                values.add(k);
                return values.size() - 1;
            });
        }

        int searched() {
            return ops.length;
        }

        long steps() {
            return steps;
        }

        Outcome run(long maxSteps, long deadline, LongSupplier clock) {
            try {
                return search(maxSteps, deadline, clock);
            } finally {
                cache = null; // the explanation needs none of it
            }
        }

        private Outcome search(long maxSteps, long deadline, LongSupplier clock) {
            int n = ops.length;
            buildLists();
            bits = new Bits(n);
            cache = new HashMap<>();
            stackEntry = new int[n];
            stackState = new int[n];
            stackLimit = new int[n];
            stackGreedy = new boolean[n];
            state = ABSENT;
            fresh = true;
            while (next[head] != NIL) {
                steps++;
                if (steps > maxSteps || ((steps & 1023) == 0 && clock.getAsLong() - deadline > 0)) {
                    return Outcome.BUDGET_EXCEEDED;
                }
                if (fresh) {
                    fresh = false;
                    int read = matchingRead();
                    if (read != NIL) {
                        mark(opAt[read]);
                        if (visit(state)) {
                            push(read, true, NIL);
                            continue;
                        }
                        unmark(opAt[read]);
                        // explored before and failed: so does this configuration, the read could have gone first
                        if (!backtrack()) {
                            return Outcome.NOT_LINEARIZABLE;
                        }
                        continue;
                    }
                    // then unbounded info operations that enable a pending read or cas, then the main list
                    inInfo = true;
                    limit = firstReturn;
                    entry = next[infoHead];
                    continue;
                }
                if (inInfo) {
                    if (entry != NIL && ops[opAt[entry]].invokeTime() <= end[opAt[limit]]) {
                        if (!demanded(opAt[entry]) || !linearize(entry, limit)) {
                            entry = next[entry];
                        }
                    } else {
                        inInfo = false;
                        entry = next[head];
                    }
                    continue;
                }
                if (isCall[entry]) {
                    if (!linearize(entry, NIL)) {
                        entry = next[entry];
                    }
                } else if (!stuckAt(entry)) {
                    return Outcome.NOT_LINEARIZABLE;
                }
            }
            return Outcome.LINEARIZABLE;
        }

        private void buildLists() {
            int n = ops.length;
            List<Integer> main = new ArrayList<>(); // entry e: call of op e/2 if e is even, else its return
            List<Integer> info = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (end[i] == Long.MAX_VALUE) {
                    info.add(i); // in invoke order already
                } else {
                    main.add(2 * i);
                    main.add(2 * i + 1);
                }
            }
            main.sort((a, b) -> {
                int c = Long.compare(time(a), time(b));
                return c != 0 ? c : Integer.compare(a & 1, b & 1);
            });
            int mainSize = main.size();
            int size = mainSize + info.size();
            head = size;
            infoHead = size + 1;
            next = new int[size + 2];
            prev = new int[size + 2];
            opAt = new int[size];
            isCall = new boolean[size];
            match = new int[size];
            int[] callAt = new int[n];
            for (int p = 0; p < mainSize; p++) {
                int e = main.get(p);
                opAt[p] = e >> 1;
                isCall[p] = (e & 1) == 0;
                if (isCall[p]) {
                    callAt[opAt[p]] = p;
                } else {
                    match[callAt[opAt[p]]] = p;
                }
            }
            for (int k = 0; k < info.size(); k++) {
                int p = mainSize + k;
                opAt[p] = info.get(k);
                isCall[p] = true;
                match[p] = NIL;
            }
            chain(head, 0, mainSize);
            chain(infoHead, mainSize, size);
        }

        private void chain(int listHead, int from, int to) {
            prev[listHead] = NIL;
            next[listHead] = from < to ? from : NIL;
            for (int p = from; p < to; p++) {
                prev[p] = p == from ? listHead : p - 1;
                next[p] = p + 1 < to ? p + 1 : NIL;
            }
        }

        /** Tries to linearize the operation of call entry {@code e}; on success the walk restarts. */
        private boolean linearize(int e, int returnLimit) {
            int o = opAt[e];
            int newState = step(o, state);
            if (newState < 0) {
                return false;
            }
            mark(o);
            if (!visit(newState)) {
                unmark(o);
                return false;
            }
            push(e, false, returnLimit);
            state = newState;
            return true;
        }

        /**
         * Whether linearizing unbounded info operation {@code o} now can matter: it changes the state to a value
         * that a candidate read or cas requires. A linearization with an info operation not followed at once by an
         * operation that observes its effect stays valid without it, so only these placements need searching.
         */
        private boolean demanded(int o) {
            int r = res[o];
            if (r == state) {
                return false;
            }
            for (int e = next[head]; e != NIL && isCall[e]; e = next[e]) {
                int x = opAt[e];
                if (kind[x] != SET && arg[x] == r) {
                    return true;
                }
            }
            long limitTime = end[opAt[limit]];
            for (int e = next[infoHead]; e != NIL && ops[opAt[e]].invokeTime() <= limitTime; e = next[e]) {
                int x = opAt[e];
                if (x != o && kind[x] == CAS && arg[x] == r) {
                    return true;
                }
            }
            return false;
        }

        /**
         * The first candidate read that returns the current state, or NIL; otherwise leaves the first return entry
         * in {@link #firstReturn}.
         */
        private int matchingRead() {
            int e = next[head];
            for (; isCall[e]; e = next[e]) {
                int o = opAt[e];
                if (kind[o] == READ && arg[o] == state) {
                    return e;
                }
            }
            firstReturn = e;
            return NIL;
        }

        /**
         * Nothing is left to try before the operation of return entry {@code r} completes: records how far the
         * search got and backtracks; false when the search is exhausted.
         */
        private boolean stuckAt(int r) {
            if (r > frontier) {
                frontier = r;
                frontierOp = opAt[r];
                frontierStates.clear();
            }
            if (r == frontier && frontierStates.size() < MAX_FRONTIER_VALUES) {
                frontierStates.add(state);
            }
            return backtrack();
        }

        /**
         * Records the configuration (marked set, {@code newState}) in the cache; false if it, or one it is
         * dominated by (the same set and state using no more unbounded info operations of any class), was there.
         */
        private boolean visit(int newState) {
            Config key = bits.config(newState);
            if (classUsed.length == 0) {
                return cache.putIfAbsent(key, true) == null;
            }
            int[] used = classUsed.clone();
            Object seen = cache.get(key);
            if (seen == null) {
                cache.put(key, used);
                return true;
            }
            List<int[]> list;
            if (seen instanceof int[] single) {
                list = new ArrayList<>(2);
                list.add(single);
            } else {
                @SuppressWarnings("unchecked")
                List<int[]> l = (List<int[]>) seen;
                list = l;
            }
            for (int[] v : list) {
                if (noMore(v, used)) {
                    return false;
                }
            }
            list.removeIf(v -> noMore(used, v));
            list.add(used);
            cache.put(key, list.size() == 1 ? list.get(0) : list);
            return true;
        }

        private static boolean noMore(int[] a, int[] b) {
            for (int i = 0; i < a.length; i++) {
                if (a[i] > b[i]) {
                    return false;
                }
            }
            return true;
        }

        private void mark(int o) {
            int c = effectClass[o];
            if (c < 0) {
                bits.set(o);
            } else {
                classUsed[c]++;
            }
        }

        private void unmark(int o) {
            int c = effectClass[o];
            if (c < 0) {
                bits.clear(o);
            } else {
                classUsed[c]--;
            }
        }

        /** Linearizes the operation of call entry {@code e}, already marked; the walk restarts at the head. */
        private void push(int e, boolean greedy, int returnLimit) {
            stackEntry[depth] = e;
            stackState[depth] = state;
            stackLimit[depth] = returnLimit;
            stackGreedy[depth] = greedy;
            depth++;
            unlink(e);
            if (match[e] != NIL) {
                unlink(match[e]);
            }
            fresh = true;
        }

        /**
         * Undoes linearizations until one whose configuration has candidates left and positions the walk on the
         * next of them; false when there is none. A read taken first fails with its configuration, so popping one
         * pops on.
         */
        private boolean backtrack() {
            while (depth > 0) {
                depth--;
                int e = stackEntry[depth];
                state = stackState[depth];
                unmark(opAt[e]);
                if (match[e] != NIL) {
                    relink(match[e]);
                }
                relink(e);
                if (!stackGreedy[depth]) {
                    entry = next[e];
                    limit = stackLimit[depth];
                    inInfo = limit != NIL;
                    fresh = false;
                    return true;
                }
            }
            return false;
        }

        /**
         * The operation whose completion the search could never pass; valid after NOT_LINEARIZABLE. For an info
         * operation whose interval was brought in, that is the observer it ends at.
         */
        Operation culprit() {
            return boundedBy[frontierOp] != null ? boundedBy[frontierOp] : ops[frontierOp];
        }

        /** The register values at the culprit's completion, for humans, in the order the search met them. */
        List<String> frontierValues() {
            List<String> out = new ArrayList<>();
            for (int s : frontierStates) {
                out.add(s == UNOBSERVED ? values.get(s) : Operation.quote(values.get(s)));
            }
            return out;
        }

        /** Whether some ok read returns {@code v} or some cas expects it. */
        boolean isObserved(String v) {
            return v == null || observed.contains(v);
        }

        private long time(int e) {
            int o = e >> 1;
            return (e & 1) == 0 ? ops[o].invokeTime() : end[o];
        }

        private int step(int o, int current) {
            return switch (kind[o]) {
                case READ -> arg[o] == current ? current : -1;
                case SET -> res[o];
                default -> arg[o] == current ? res[o] : -1;
            };
        }

        private void unlink(int p) {
            next[prev[p]] = next[p];
            if (next[p] != NIL) {
                prev[next[p]] = prev[p];
            }
        }

        private void relink(int p) {
            next[prev[p]] = p;
            if (next[p] != NIL) {
                prev[next[p]] = p;
            }
        }
    }

    /**
     * The set of linearized operations, tracking its leading all-ones words and its last non-zero word so that a
     * {@link Config} is made without scanning the whole set.
     */
    private static final class Bits {
        private final long[] words;
        private int lead; // words[0, lead) are all ones
        private int end; // words[end, length) are all zeros

        Bits(int n) {
            words = new long[(n + 63) >>> 6];
        }

        void set(int i) {
            int w = i >>> 6;
            words[w] |= 1L << i;
            if (w >= end) {
                end = w + 1;
            }
            while (lead < end && words[lead] == -1L) {
                lead++;
            }
        }

        void clear(int i) {
            int w = i >>> 6;
            words[w] &= ~(1L << i);
            if (w < lead) {
                lead = w;
            }
            while (end > lead && words[end - 1] == 0) {
                end--;
            }
        }

        Config config(int state) {
            return new Config(lead, Arrays.copyOfRange(words, lead, end), state);
        }
    }

    /**
     * A configuration of the search: the set of linearized operations and the register value. The bitset is
     * stored without its leading all-ones words (the long-finished prefix of the history) and trailing zero words,
     * which keeps entries small on long histories.
     */
    private static final class Config {
        private final int fullWords;
        private final long[] rest;
        private final int state;
        private final int hash;

        Config(int fullWords, long[] rest, int state) {
            this.fullWords = fullWords;
            this.rest = rest;
            this.state = state;
            this.hash = 31 * (31 * fullWords + Arrays.hashCode(rest)) + state;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Config c
                    && c.hash == hash
                    && c.fullWords == fullWords
                    && c.state == state
                    && Arrays.equals(c.rest, rest);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
