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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ReplicaExecutors.Lane#runHereIfIdle}: a task may run on the asking thread only when the lane is idle, and
 * the lane's order and exclusion hold whichever thread runs its tasks (issue 20's fewer hand-offs rest on it).
 */
class LaneRunHereTest {
    /** Tasks run on their submitters, over every repetition of the ordering test. */
    private static final AtomicInteger RAN_HERE_IN_ALL_REPETITIONS = new AtomicInteger();

    private final ExecutorService own = Executors.newSingleThreadExecutor();
    private final ReplicaExecutors.Lane lane = new ReplicaExecutors.Lane(own, own);
    private final ExecutorService pool = Executors.newFixedThreadPool(2);

    @AfterEach
    void stop() {
        lane.shutdownNow();
        own.shutdownNow();
        pool.shutdownNow();
    }

    @Test
    void anIdleLaneRunsTheTaskOnTheAskingThreadBeforeReturning() {
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        assertTrue(lane.runHereIfIdle(() -> ranOn.set(Thread.currentThread()), 0));
        assertSame(Thread.currentThread(), ranOn.get());
    }

    @Test
    void aBusyLaneRefusesToRunHereAndRunsNothing() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        lane.execute(() -> {
            running.countDown();
            await(release);
        });
        assertTrue(running.await(10, TimeUnit.SECONDS));
        AtomicBoolean ran = new AtomicBoolean();
        assertFalse(lane.runHereIfIdle(() -> ran.set(true), 8));
        release.countDown();
        CountDownLatch after = new CountDownLatch(1);
        lane.execute(after::countDown);
        assertTrue(after.await(10, TimeUnit.SECONDS));
        assertFalse(ran.get());
    }

    @Test
    void aTaskOfTheLaneAskingToRunHereIsRefused() throws Exception {
        AtomicBoolean nested = new AtomicBoolean(true);
        CountDownLatch done = new CountDownLatch(1);
        lane.execute(() -> {
            nested.set(lane.runHereIfIdle(() -> {}, 0));
            done.countDown();
        });
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertFalse(nested.get());
    }

    @Test
    void tasksQueuedWhileOneRunsHereRunAfterItInOrderBeyondTheBoundOnTheLanesThread() throws Exception {
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch all = new CountDownLatch(5);
        assertTrue(lane.runHereIfIdle(
                () -> {
                    order.add(0);
                    threads.add(Thread.currentThread());
                    all.countDown();
                    for (int i = 1; i < 5; i++) {
                        int n = i;
                        lane.execute(() -> {
                            order.add(n);
                            threads.add(Thread.currentThread());
                            all.countDown();
                        });
                    }
                },
                2));
        assertTrue(all.await(10, TimeUnit.SECONDS));
        assertEquals(List.of(0, 1, 2, 3, 4), order);
        // The asking thread ran its own task and two more; the lane's thread ran the rest.
        assertSame(Thread.currentThread(), threads.get(2));
        assertNotSame(Thread.currentThread(), threads.get(3));
        assertNotSame(Thread.currentThread(), threads.get(4));
    }

    @Test
    void aShutDownLaneRefusesToRunHere() {
        lane.shutdown();
        assertFalse(lane.runHereIfIdle(() -> {}, 0));
    }

    @org.junit.jupiter.api.RepeatedTest(40)
    void tasksRunHereAndOnTheLanesThreadNeverOverlapAndEachSubmittersTasksKeepTheirOrder() throws Exception {
        int submitters = 4;
        int perSubmitter = 20_000;
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        long[] last = new long[submitters]; // lane-confined: the lane is the only writer, one task at a time
        AtomicInteger outOfOrder = new AtomicInteger();
        AtomicInteger ranHere = new AtomicInteger();
        AtomicInteger[] done = new AtomicInteger[submitters];
        for (int s = 0; s < submitters; s++) {
            done[s] = new AtomicInteger();
        }
        CountDownLatch finished = new CountDownLatch(submitters * perSubmitter);
        List<Thread> workers = new ArrayList<>();
        for (int s = 0; s < submitters; s++) {
            int submitter = s;
            Thread t = new Thread(() -> {
                for (int i = 1; i <= perSubmitter; i++) {
                    long n = i;
                    Runnable task = () -> {
                        if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        if (last[submitter] != n - 1) {
                            outOfOrder.incrementAndGet();
                        }
                        last[submitter] = n;
                        done[submitter].incrementAndGet();
                        inside.decrementAndGet();
                        finished.countDown();
                    };
                    if (i % 2 == 0 && lane.runHereIfIdle(task, i % 3)) {
                        ranHere.incrementAndGet();
                    } else {
                        lane.execute(task);
                    }
                    if (i % 64 == 0) {
                        // Now and then wait (bounded) until this submitter's tasks have run, so that the lane goes
                        // idle often and running here races with the other submitters' queueing.
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                        while (done[submitter].get() < i && System.nanoTime() < deadline) {
                            Thread.onSpinWait();
                        }
                    }
                }
            });
            workers.add(t);
            t.start();
        }
        assertTrue(finished.await(60, TimeUnit.SECONDS));
        for (Thread t : workers) {
            t.join();
        }
        assertEquals(0, overlaps.get());
        assertEquals(0, outOfOrder.get());
        RAN_HERE_IN_ALL_REPETITIONS.addAndGet(ranHere.get());
    }

    /**
     * Tasks ran on their submitters in the repetitions above, so the race they check was exercised. Counted over all
     * of them: a single repetition on a loaded machine can find the lane busy every time it tries.
     */
    @AfterAll
    static void tasksRanOnTheirSubmittersInTheRepetitions() {
        assertTrue(RAN_HERE_IN_ALL_REPETITIONS.get() > 0, "no task ran on its submitter in any repetition");
    }

    @Test
    void aTaskThatThrowsDoesNotStopTheLane() throws Exception {
        lane.execute(() -> {
            throw new IllegalStateException("boom (expected by the test)");
        });
        CountDownLatch after = new CountDownLatch(1);
        lane.execute(after::countDown);
        assertTrue(after.await(10, TimeUnit.SECONDS));
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
