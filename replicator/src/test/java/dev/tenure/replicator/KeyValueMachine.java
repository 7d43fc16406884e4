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
package dev.tenure.replicator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A test state machine: records every applied payload in order. */
public final class KeyValueMachine implements StateMachine {
    private final List<String> applied = new ArrayList<>();

    @Override
    public synchronized Object apply(long epoch, long offset, byte[] payload) {
        String p = new String(payload, StandardCharsets.UTF_8);
        applied.add(p);
        return "applied " + p + " at " + offset;
    }

    public synchronized List<String> applied() {
        return List.copyOf(applied);
    }
}
