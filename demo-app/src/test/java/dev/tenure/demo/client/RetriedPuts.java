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
package dev.tenure.demo.client;

import java.time.Duration;

/**
 * A put that tests repeat while its outcome is unknown. On a saturated machine a write may outlive the node's wait,
 * or meet a leader change, and be answered {@code 503 outcome_unknown}: it may still commit, and the node is right not
 * to call it failed. Putting the same value under the same key again is harmless, so tests that need the write
 * acknowledged (not a history to check) repeat it until the outcome is known. Stateless; thread-safe.
 */
public final class RetriedPuts {
    private RetriedPuts() {}

    /**
     * Puts {@code value} under {@code key} through {@code client}, again while the outcome is {@link Outcome.Kind#UNKNOWN}
     * and {@code within} has not passed since the first attempt; returns the last outcome (unknown only if the time
     * ran out).
     */
    public static Outcome putUntilKnown(KvClient client, String key, byte[] value, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        Outcome o = client.put(key, value);
        while (o.kind() == Outcome.Kind.UNKNOWN && System.nanoTime() - deadline < 0) {
            o = client.put(key, value);
        }
        return o;
    }
}
