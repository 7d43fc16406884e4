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
package dev.tenure.replicator.transport.netty;

import java.time.Duration;
import java.util.Random;

/**
 * Reconnect delays: a nominal delay that doubles with each consecutive failure from {@code min} up to {@code
 * max}, of which a uniformly random value between half and all is taken ("equal jitter"), so replicas that
 * lost a peer together do not reconnect in step.
 */
final class Backoff {
    private final long minMillis;
    private final long maxMillis;
    private final Random random;

    Backoff(Duration min, Duration max, Random random) {
        if (min.isNegative() || min.isZero()) {
            throw new IllegalArgumentException("minimum back-off must be > 0, was " + min);
        }
        if (max.compareTo(min) < 0) {
            throw new IllegalArgumentException("maximum back-off " + max + " is below minimum " + min);
        }
        if (max.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maximum back-off too large: " + max);
        }
        this.minMillis = Math.max(1, min.toMillis());
        this.maxMillis = Math.max(this.minMillis, max.toMillis());
        this.random = random;
    }

    /** The nominal delay after {@code failures} consecutive failures (0 for the first retry). */
    long nominalMillis(int failures) {
        long d = minMillis;
        for (int i = 0; i < failures && d < maxMillis; i++) {
            d *= 2;
        }
        return Math.min(d, maxMillis);
    }

    /** The delay to wait after {@code failures} consecutive failures: in [nominal / 2, nominal]. */
    long delayMillis(int failures) {
        long nominal = nominalMillis(failures);
        long half = nominal / 2;
        return half + random.nextInt((int) (nominal - half) + 1);
    }

    long maxMillis() {
        return maxMillis;
    }
}
