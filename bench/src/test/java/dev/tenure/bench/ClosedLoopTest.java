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
package dev.tenure.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ClosedLoopTest {
    private final ScheduledExecutorService completer = Executors.newScheduledThreadPool(2);

    @AfterEach
    void stop() {
        completer.shutdownNow();
    }

    @Test
    void keepsExactlyTheInFlightLevelOutstandingAndDrainsBeforeReturning() throws Exception {
        AtomicInteger outstanding = new AtomicInteger();
        AtomicInteger maxOutstanding = new AtomicInteger();
        ClosedLoop.Outcome o = ClosedLoop.run(
                (writer, value, done) -> {
                    maxOutstanding.accumulateAndGet(outstanding.incrementAndGet(), Math::max);
                    // Not kept: the task completes the operation, and run() waits for every completion.
                    ScheduledFuture<?> unused = completer.schedule(
                            () -> {
                                outstanding.decrementAndGet();
                                done.completed(null);
                            },
                            1,
                            TimeUnit.MILLISECONDS);
                },
                16,
                Duration.ofMillis(100),
                Duration.ofMillis(500),
                100,
                Duration.ofSeconds(5));

        assertEquals(16, maxOutstanding.get());
        assertEquals(0, outstanding.get(), "every operation completed before run returned");
        assertTrue(o.successes() > 16, "ops: " + o.successes());
        assertEquals(o.successes() / 0.5, o.opsPerSecond(), 1e-6);
        assertTrue(o.latencies().getValueAtPercentile(50) >= TimeUnit.MILLISECONDS.toNanos(1));
        assertEquals(0, o.errors());
    }

    @Test
    void countsFailuresApartFromLatenciesAndGivesEveryWriterItsOwnDistinctValues() throws Exception {
        AtomicLong calls = new AtomicLong();
        java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        ClosedLoop.Outcome o = ClosedLoop.run(
                (writer, value, done) -> {
                    assertEquals(100, value.length);
                    seen.add(java.util.Arrays.toString(value));
                    long n = calls.incrementAndGet();
                    // Not kept: the task completes the operation, and run() waits for every completion.
                    ScheduledFuture<?> unused = completer.schedule(
                            () -> done.completed(n % 2 == 0 ? new IllegalStateException("refused") : null),
                            200,
                            TimeUnit.MICROSECONDS);
                },
                4,
                Duration.ZERO,
                Duration.ofMillis(300),
                100,
                Duration.ofSeconds(5));

        assertTrue(o.errors() > 0);
        assertTrue(o.successes() > 0);
        assertEquals("java.lang.IllegalStateException: refused", o.firstError().toString());
        assertEquals(calls.get(), seen.size(), "every value differs");
    }
}
