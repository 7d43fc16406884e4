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
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Linearizability of one key straight from the definition, for small histories: is there an order of all ok
 * operations and some of the info ones (fail operations and info reads left out) that respects real time (an
 * operation completed before another was invoked comes first; info operations never complete) and that a register
 * starting absent explains? Depth-first over (set of operations placed, value), at most 62 operations.
 */
final class BruteForceRegister {
    private final List<Operation> ops = new ArrayList<>();
    private final Set<List<Object>> failed = new HashSet<>();
    private long required;

    BruteForceRegister(List<Operation> all) {
        for (Operation o : all) {
            if (o.isFail() || (o.f() == Event.F.READ && !o.isOk())) {
                continue;
            }
            ops.add(o);
        }
        if (ops.size() > 62) {
            throw new IllegalArgumentException("too many operations for brute force: " + ops.size());
        }
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i).isOk()) {
                required |= 1L << i;
            }
        }
    }

    boolean linearizable() {
        return search(0L, null);
    }

    private boolean search(long placed, String value) {
        if ((placed & required) == required) {
            return true;
        }
        List<Object> key = new ArrayList<>();
        key.add(placed);
        key.add(value);
        if (failed.contains(key)) {
            return false;
        }
        for (int i = 0; i < ops.size(); i++) {
            if ((placed & (1L << i)) != 0 || !mayGoNext(placed, i)) {
                continue;
            }
            Operation o = ops.get(i);
            String after;
            switch (o.f()) {
                case READ -> {
                    if (!Objects.equals(o.value(), value)) {
                        continue;
                    }
                    after = value;
                }
                case CAS -> {
                    if (!Objects.equals(o.expected(), value)) {
                        continue;
                    }
                    after = o.value();
                }
                case WRITE -> after = o.value();
                default -> after = null;
            }
            if (search(placed | (1L << i), after)) {
                return true;
            }
        }
        failed.add(key);
        return false;
    }

    /** Every operation that must precede op i in real time is placed. */
    private boolean mayGoNext(long placed, int i) {
        Operation o = ops.get(i);
        for (int j = 0; j < ops.size(); j++) {
            if ((placed & (1L << j)) == 0 && ops.get(j).precedes(o)) {
                return false;
            }
        }
        return true;
    }
}
