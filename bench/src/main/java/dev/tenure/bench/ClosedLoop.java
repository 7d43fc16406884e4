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

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop load generator: {@code inflight} writers, each with exactly one operation outstanding, each
 * starting its next operation as soon as the previous one completes; first for a warm-up, then for a
 * measured interval; then it waits for the last operations to complete (drains), so that one run never
 * overlaps the next.
 *
 * <p>What is measured: an operation's latency is the time from just before {@link Operation#start} to the
 * first thing its completion callback does. Operations that <em>complete</em> inside the measured interval
 * are counted: successes go into the latency histogram, failures into the error count. Throughput is the
 * number of successes divided by the length of the interval.
 *
 * <p>Threads: operations are started on one driver thread; completion callbacks run on whatever thread the
 * system under test completes them on, and only take a timestamp, record it (HdrHistogram {@link Recorder},
 * wait-free) and hand the writer back to the driver. The hand-off is not part of the latency.
 */
final class ClosedLoop {
    /** One kind of write. */
    @FunctionalInterface
    interface Operation {
        /**
         * Starts one write of {@code value} by {@code writer} (0-based, below the in-flight level) without
         * blocking, and calls {@code done} exactly once when it is acknowledged or has failed.
         */
        void start(int writer, byte[] value, Completion done) throws Exception;
    }

    /** Called once per operation. */
    @FunctionalInterface
    interface Completion {
        /** @param failure null on success */
        void completed(Throwable failure);
    }

    /** Calls {@code done} with the failure of {@code stage}, or null on success, when it completes. */
    static void completeWhenDone(CompletionStage<?> stage, Completion done) {
        // Not kept: the stage whenComplete returns only repeats this one's outcome, which done has been given.
        CompletionStage<?> unused = stage.whenComplete((result, failure) -> done.completed(failure));
    }

    /**
     * What one run measured.
     *
     * @param latencies nanoseconds from start to completion of the successes completed in the interval
     * @param errors failures completed in the interval
     * @param unmeasuredErrors failures completed outside it (warm-up, drain)
     * @param interval the measured interval
     * @param firstError the first failure seen (warm-up included), or null
     * @param ioStallMicros how long the whole machine was stalled on IO during the interval ({@link IoPressure}),
     *     or -1 where unknown
     */
    record Outcome(
            Histogram latencies,
            long errors,
            long unmeasuredErrors,
            Duration interval,
            Throwable firstError,
            long ioStallMicros) {
        long successes() {
            return latencies.getTotalCount();
        }

        double opsPerSecond() {
            return successes() / (interval.toNanos() / 1e9);
        }

        /**
         * Several measured intervals as one: latencies and counts added, intervals summed (throughput is then the
         * successes of all over the length of all), the first failure of the first that had one, IO stall summed
         * (-1 if any is unknown).
         */
        static Outcome merge(List<Outcome> parts) {
            if (parts.isEmpty()) {
                throw new IllegalArgumentException("nothing to merge");
            }
            Histogram all = new Histogram(3);
            long errors = 0;
            long unmeasured = 0;
            Duration interval = Duration.ZERO;
            Throwable first = null;
            long io = 0;
            for (Outcome o : parts) {
                all.add(o.latencies());
                errors += o.errors();
                unmeasured += o.unmeasuredErrors();
                interval = interval.plus(o.interval());
                first = first == null ? o.firstError() : first;
                io = io < 0 || o.ioStallMicros() < 0 ? -1 : io + o.ioStallMicros();
            }
            return new Outcome(all, errors, unmeasured, interval, first, io);
        }
    }

    private final Operation operation;
    private final int inflight;
    private final int valueBytes;
    private final byte[] template;
    private final long measureStart;
    private final long measureEnd;
    private final Duration interval;
    private final ExecutorService driver;
    private final CountDownLatch retired;
    private final Recorder recorder = new Recorder(3);
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong unmeasuredErrors = new AtomicLong();
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();
    private long sequence; // driver thread only

    private ClosedLoop(Operation operation, int inflight, Duration warmup, Duration interval, int valueBytes) {
        this.operation = operation;
        this.inflight = inflight;
        this.valueBytes = valueBytes;
        this.template = new byte[valueBytes];
        ThreadLocalRandom.current().nextBytes(template); // incompressible, like most real payloads
        this.interval = interval;
        this.measureStart = System.nanoTime() + warmup.toNanos();
        this.measureEnd = measureStart + interval.toNanos();
        this.retired = new CountDownLatch(inflight);
        this.driver = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bench-driver");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Runs {@code operation} with {@code inflight} writers for {@code warmup} plus {@code interval}, then
     * waits up to {@code drainTimeout} for the outstanding operations.
     *
     * @throws TimeoutException if operations are still outstanding after the drain timeout (the figures
     *     would then be unreliable)
     */
    static Outcome run(
            Operation operation,
            int inflight,
            Duration warmup,
            Duration interval,
            int valueBytes,
            Duration drainTimeout)
            throws InterruptedException, TimeoutException {
        ClosedLoop loop = new ClosedLoop(operation, inflight, warmup, interval, valueBytes);
        return loop.run(drainTimeout);
    }

    private Outcome run(Duration drainTimeout) throws InterruptedException, TimeoutException {
        try {
            for (int w = 0; w < inflight; w++) {
                int writer = w;
                driver.execute(() -> issue(writer));
            }
            // Read the IO stall counter at the edges of the measured interval (a measurement, not a hand-off).
            long ioAtStart = readIoPressureAt(measureStart);
            long ioAtEnd = readIoPressureAt(measureEnd);
            long ioStall = ioAtStart < 0 || ioAtEnd < 0 ? -1 : ioAtEnd - ioAtStart;
            long waitNanos = Math.max(0, measureEnd - System.nanoTime()) + drainTimeout.toNanos();
            if (!retired.await(waitNanos, TimeUnit.NANOSECONDS)) {
                throw new TimeoutException(retired.getCount() + " of " + inflight
                        + " writers still had an operation outstanding " + drainTimeout + " after the run");
            }
            return new Outcome(
                    recorder.getIntervalHistogram(),
                    errors.get(),
                    unmeasuredErrors.get(),
                    interval,
                    firstError.get(),
                    ioStall);
        } finally {
            driver.shutdownNow();
            driver.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Waits until {@code nanoTime} (a point of the run's schedule), then reads {@link IoPressure}. */
    private static long readIoPressureAt(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        return IoPressure.fullStallMicros();
    }

    /** Driver thread. */
    private void issue(int writer) {
        long start = System.nanoTime();
        if (start >= measureEnd) {
            retired.countDown();
            return;
        }
        byte[] value = nextValue();
        try {
            operation.start(writer, value, failure -> completed(writer, start, failure));
        } catch (Exception e) {
            completed(writer, start, e);
        }
    }

    private byte[] nextValue() {
        byte[] value = template.clone();
        long seq = sequence++;
        for (int i = 0; i < Math.min(Long.BYTES, valueBytes); i++) {
            value[i] = (byte) (seq >>> (8 * i)); // every value differs, as real writes would
        }
        return value;
    }

    /** Any thread. */
    private void completed(int writer, long start, Throwable failure) {
        long end = System.nanoTime();
        boolean measured = end >= measureStart && end < measureEnd;
        if (failure == null) {
            if (measured) {
                recorder.recordValue(end - start);
            }
        } else {
            firstError.compareAndSet(null, failure);
            (measured ? errors : unmeasuredErrors).incrementAndGet();
        }
        try {
            driver.execute(() -> issue(writer));
        } catch (RejectedExecutionException stopped) {
            // The run gave up waiting (drain timeout); nothing is left to start.
        }
    }
}
