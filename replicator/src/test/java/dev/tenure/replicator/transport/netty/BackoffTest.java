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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration MIN = Duration.ofMillis(50);
    private static final Duration MAX = Duration.ofSeconds(2);

    @Test
    void nominalDelayDoublesFromTheMinimumUpToTheMaximum() {
        Backoff b = new Backoff(MIN, MAX, new Random(1));
        assertEquals(List.of(50L, 100L, 200L, 400L, 800L, 1600L, 2000L, 2000L), nominals(b, 8));
        assertEquals(2000L, b.nominalMillis(Integer.MAX_VALUE));
    }

    @Test
    void jitteredDelayIsBetweenHalfAndAllOfTheNominalDelay() {
        Backoff b = new Backoff(MIN, MAX, new Random(7));
        for (int failures = 0; failures < 12; failures++) {
            long nominal = b.nominalMillis(failures);
            for (int i = 0; i < 200; i++) {
                long d = b.delayMillis(failures);
                assertTrue(d >= nominal / 2 && d <= nominal, d + " outside [" + nominal / 2 + ", " + nominal + "]");
            }
        }
    }

    @Test
    void jitterComesFromTheInjectedRandom() {
        List<Long> first = delays(new Backoff(MIN, MAX, new Random(42)));
        assertEquals(first, delays(new Backoff(MIN, MAX, new Random(42))));
        assertTrue(first.stream().distinct().count() > 1, "jitter varies: " + first);
    }

    @Test
    void invalidBoundsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, MAX, new Random()));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(MAX, MIN, new Random()));
    }

    private static List<Long> nominals(Backoff b, int n) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(b.nominalMillis(i));
        }
        return out;
    }

    private static List<Long> delays(Backoff b) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            out.add(b.delayMillis(3));
        }
        return out;
    }
}
