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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * A seeded simulation of a linearizable key-value service and its clients, producing valid histories.
 *
 * <p>Each process invokes an operation, the service applies it atomically at a random point inside its interval,
 * and the process records the completion. An {@code info} operation is applied (or not) at a random time after its
 * invoke, possibly after the client gave up on it; a {@code fail} is never applied (a cas whose expected value
 * did not match, or a write the service refused). Applied mutations get consecutive offsets in one log, the epoch
 * going up now and then. The history ends with one read of every key after everything else.
 */
final class RegisterSimulation {
    private final Random random;
    private final int processes;
    private final int keys;
    private final double infoRate;
    private final List<Event> events = new ArrayList<>();
    private final Map<String, String> store = new HashMap<>();
    private final PriorityQueue<Action> queue = new PriorityQueue<>();
    private long seq;
    private long now;
    private long values;
    private long offset;
    private long epoch = 1;
    private int remaining;
    private int valuePool;

    private record Action(long time, long seq, int kind, Pending op) implements Comparable<Action> {
        static final int INVOKE = 0;
        static final int APPLY = 1;
        static final int COMPLETE = 2;

        @Override
        public int compareTo(Action o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private static final class Pending {
        final int process;
        Event invoke;
        Type outcome;
        String readValue;
        boolean applied;
        long position = -1;
        long positionEpoch;

        Pending(int process) {
            this.process = process;
        }
    }

    RegisterSimulation(long seed, int processes, int keys, double infoRate) {
        this.random = new Random(seed);
        this.processes = processes;
        this.keys = keys;
        this.infoRate = infoRate;
    }

    /** Draws written values from {@code v0 .. v(pool-1)}, so values repeat (0, the default: every value unique). */
    RegisterSimulation valuePool(int pool) {
        this.valuePool = pool;
        return this;
    }

    private String newValue() {
        return "v" + (valuePool > 0 ? random.nextInt(valuePool) : values++);
    }

    /** About {@code operations} operations (some info operations may be applied after the last completion). */
    List<Event> run(int operations) {
        remaining = operations - keys; // the final reads
        for (int p = 0; p < processes; p++) {
            schedule(random.nextInt(1000), Action.INVOKE, new Pending(p));
        }
        while (!queue.isEmpty()) {
            Action a = queue.poll();
            now = a.time;
            switch (a.kind) {
                case Action.INVOKE -> invoke(a.op.process);
                case Action.APPLY -> apply(a.op);
                default -> complete(a.op);
            }
        }
        for (int k = 0; k < keys; k++) {
            now += 10;
            int p = k % processes;
            Event inv = Event.invoke(p, F.READ, "k" + k, null, now);
            events.add(inv);
            events.add(inv.completion(Type.OK, now + 5).withValue(store.get("k" + k)));
            now += 5;
        }
        return events;
    }

    private void invoke(int process) {
        if (remaining <= 0) {
            return;
        }
        remaining--;
        Pending op = new Pending(process);
        String key = "k" + random.nextInt(keys);
        int dice = random.nextInt(100);
        if (dice < 45) {
            op.invoke = Event.invoke(process, F.READ, key, null, now);
        } else if (dice < 75) {
            op.invoke = Event.invoke(process, F.WRITE, key, newValue(), now);
        } else if (dice < 93) {
            String current = store.get(key);
            String expected = random.nextInt(3) > 0
                    ? current
                    : (random.nextBoolean() ? null : "v" + random.nextInt((int) Math.max(1, values)));
            op.invoke = Event.invokeCas(process, key, expected, newValue(), now);
        } else {
            op.invoke = Event.invoke(process, F.DELETE, key, null, now);
        }
        events.add(op.invoke);
        long duration = 1L + random.nextInt(2000);
        if (random.nextDouble() < infoRate) {
            op.outcome = Type.INFO;
            if (random.nextBoolean()) {
                schedule(now + random.nextInt((int) (3 * duration)), Action.APPLY, op);
            }
        } else if (op.invoke.f() == F.WRITE && random.nextInt(50) == 0) {
            op.outcome = Type.FAIL; // refused: never applied
        } else {
            schedule(now + random.nextInt((int) duration + 1), Action.APPLY, op);
        }
        schedule(now + duration, Action.COMPLETE, op);
    }

    private void apply(Pending op) {
        Event inv = op.invoke;
        String key = inv.key();
        switch (inv.f()) {
            case READ -> op.readValue = store.get(key);
            case WRITE -> {
                store.put(key, inv.value());
                op.applied = true;
            }
            case DELETE -> {
                store.remove(key);
                op.applied = true;
            }
            case CAS -> {
                String current = store.get(key);
                op.applied = current == null ? inv.expected() == null : current.equals(inv.expected());
                if (op.applied) {
                    store.put(key, inv.value());
                }
            }
        }
        if (inv.f() != F.READ) {
            offset++; // a cas that does not match still takes a log position, as in the service
            if (random.nextInt(500) == 0) {
                epoch++;
            }
            op.position = offset;
            op.positionEpoch = epoch;
        }
    }

    private void complete(Pending op) {
        Type outcome = op.outcome;
        if (outcome == null) {
            outcome = op.invoke.f() == F.CAS && !op.applied ? Type.FAIL : Type.OK;
        }
        Event done = op.invoke.completion(outcome, now);
        if (outcome == Type.OK && op.invoke.f() == F.READ) {
            done = done.withValue(op.readValue);
        } else if (outcome == Type.OK) {
            done = done.withPosition(op.positionEpoch, op.position);
        }
        events.add(done);
        schedule(now + random.nextInt(500), Action.INVOKE, op);
    }

    private void schedule(long time, int kind, Pending op) {
        queue.add(new Action(time, seq++, kind, op));
    }
}
