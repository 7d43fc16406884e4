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
package dev.tenure.recipes;

import com.google.common.util.concurrent.MoreExecutors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.utils.ThreadUtils;

/**
 * An election's control thread: a single-thread scheduler of its own, or a lane over a scheduler shared by many
 * elections (a node with one election per partition). Either way its tasks run one at a time, in submission order,
 * each seeing the effects of those before (a sequential executor), so state confined to the control thread stays
 * confined. {@link #shutdown} refuses new tasks and drops delayed ones; the queued ones still run.
 */
abstract class ControlExecutor {
    abstract void execute(Runnable task);

    abstract void schedule(Runnable task, long delayNanos);

    abstract void shutdown();

    abstract boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException;

    static ControlExecutor own(String threadName) {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, ThreadUtils.newThreadFactory(threadName));
        e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return new ControlExecutor() {
            @Override
            void execute(Runnable task) {
                e.execute(task);
            }

            @Override
            void schedule(Runnable task, long delayNanos) {
                // Nothing waits on the task: each control task handles its own failures; shutdown drops it.
                ScheduledFuture<?> unused = e.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
            }

            @Override
            void shutdown() {
                e.shutdown();
            }

            @Override
            boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
                return e.awaitTermination(timeout, unit);
            }
        };
    }

    static ControlExecutor shared(ScheduledExecutorService scheduler) {
        return new Shared(scheduler);
    }

    private static final class Shared extends ControlExecutor {
        private final ScheduledExecutorService scheduler;
        private final Executor serial;
        private final AtomicInteger queued = new AtomicInteger();
        private final CountDownLatch terminated = new CountDownLatch(1);
        private boolean shutdown; // guarded by this

        Shared(ScheduledExecutorService scheduler) {
            this.scheduler = scheduler;
            this.serial = MoreExecutors.newSequentialExecutor(scheduler);
        }

        @Override
        void execute(Runnable task) {
            synchronized (this) {
                if (shutdown) {
                    throw new RejectedExecutionException("the election's control lane is shut down");
                }
                queued.incrementAndGet();
            }
            try {
                serial.execute(() -> {
                    try {
                        task.run();
                    } finally {
                        done();
                    }
                });
            } catch (RejectedExecutionException e) {
                done(); // the shared scheduler is shut down
                throw e;
            }
        }

        private void done() {
            if (queued.decrementAndGet() == 0) {
                synchronized (this) {
                    if (shutdown && queued.get() == 0) {
                        terminated.countDown();
                    }
                }
            }
        }

        @Override
        void schedule(Runnable task, long delayNanos) {
            ScheduledFuture<?> unused = scheduler.schedule(
                    () -> {
                        try {
                            execute(task);
                        } catch (RejectedExecutionException dropped) {
                            // shut down meanwhile: delayed tasks are dropped
                        }
                    },
                    delayNanos,
                    TimeUnit.NANOSECONDS);
        }

        @Override
        synchronized void shutdown() {
            shutdown = true;
            if (queued.get() == 0) {
                terminated.countDown();
            }
        }

        @Override
        boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return terminated.await(timeout, unit);
        }
    }
}
