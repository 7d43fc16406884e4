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
package dev.tenure.harness.fault;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * The seeded sequence of faults of a run: first every chosen kind once in a shuffled order, then (for longer
 * runs) kinds drawn at random; for a targeted kind, whether it hits the leader or a follower. The same seed and
 * settings give the same plan. Immutable.
 */
public final class FaultPlan {
    /** Who a fault hits. */
    public enum Target {
        /** The leader. */
        LEADER,
        /** A follower. */
        FOLLOWER,
        /** Chosen per fault from the seed. */
        ANY
    }

    /**
     * One planned fault.
     *
     * @param kind the fault
     * @param onLeader for a {@link FaultKind#targeted() targeted} kind, whether it hits the leader (else a
     *     follower); ignored otherwise
     */
    public record Fault(FaultKind kind, boolean onLeader) {
        /** Checks that {@code kind} is not null. */
        public Fault {
            Objects.requireNonNull(kind, "kind");
        }

        @Override
        public String toString() {
            return kind.wireName() + (kind.targeted() ? (onLeader ? " (leader)" : " (follower)") : "");
        }
    }

    private final long seed;
    private final List<FaultKind> kinds;
    private final Target target;

    /**
     * A plan drawn from {@code seed}, of {@code kinds}, whose targeted faults hit {@code target}.
     *
     * @throws IllegalArgumentException if {@code kinds} is empty
     */
    public FaultPlan(long seed, List<FaultKind> kinds, Target target) {
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("at least one fault kind is needed");
        }
        this.seed = seed;
        this.kinds = List.copyOf(kinds);
        this.target = Objects.requireNonNull(target, "target");
    }

    /** The faults in order, without end: every kind once (shuffled) first, then random kinds. */
    public Iterator<Fault> faults() {
        Random random = new Random(seed);
        List<FaultKind> order = new ArrayList<>(kinds);
        Collections.shuffle(order, random);
        return new Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Fault next() {
                FaultKind kind = i < order.size() ? order.get(i) : kinds.get(random.nextInt(kinds.size()));
                i++;
                boolean onLeader = switch (target) {
                    case LEADER -> true;
                    case FOLLOWER -> false;
                    case ANY -> random.nextBoolean();
                };
                return new Fault(kind, onLeader);
            }
        };
    }

    /** The first {@code count} faults of {@link #faults()}. */
    public List<Fault> first(int count) {
        Iterator<Fault> it = faults();
        List<Fault> faults = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            faults.add(it.next());
        }
        return faults;
    }
}
