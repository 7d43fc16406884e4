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

import com.google.common.base.Preconditions;
import dev.tenure.replicator.transport.InboundBudget;
import java.io.Closeable;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads replicas run on.
 *
 * <p>By default ({@link Replica.Builder} without {@link Replica.Builder#executors}) a replica starts threads of its
 * own: an event thread, a sync thread, an apply thread, a snapshot thread, a configuration thread and a tick timer,
 * named after it. A node that hosts many replicas (one per partition) gives them one {@link #shared} set instead: a
 * fixed number of threads whatever the number of replicas. Each replica then runs each of its roles on a <em>lane</em>
 * over a shared pool — a sequential executor ({@link Lane}) that runs the
 * replica's tasks of that role one at a time, in submission order, each seeing the effects of the ones before — so
 * the replica's single-threaded reasoning holds unchanged, and no replica holds a thread while it has nothing to do:
 *
 * <ul>
 *   <li>event and apply lanes over the <em>event pool</em> (CPU work; a replica's event and apply lanes may run at
 *       the same time, as its event and apply threads do);
 *   <li>sync lanes over the <em>sync pool</em> (fdatasync; followers sync there too, not on their event lane, so
 *       that a slow disk never holds an event thread);
 *   <li>snapshot and configuration lanes over the <em>background pool</em> (snapshot files, ZooKeeper writes: long
 *       waits that must not delay syncs);
 *   <li>one timer thread, which ticks every registered replica at the tick interval; a replica with nothing timed
 *       in progress skips most ticks (see {@link Replica}).
 * </ul>
 *
 * <p>Thread-safe. A shared set outlives its replicas: close every replica first, then {@link #close()} it, which
 * stops its threads (tasks still queued are dropped).
 */
public final class ReplicaExecutors implements Closeable {
    /** The default number of event-pool threads of a shared set: the number of processors, at least 2. */
    public static final int DEFAULT_EVENT_THREADS =
            Math.max(2, Runtime.getRuntime().availableProcessors());
    /** The default number of sync-pool threads of a shared set. */
    public static final int DEFAULT_SYNC_THREADS = 4;
    /** The default number of background-pool threads of a shared set. */
    public static final int DEFAULT_BACKGROUND_THREADS = 2;

    /** The roles a replica runs tasks in, each on its own lane. */
    enum Role {
        EVENT("replica"),
        SYNC("sync"),
        APPLY("apply"),
        SNAPSHOT("snapshot"),
        CONFIGURATION("configuration");

        final String threadName;

        Role(String threadName) {
            this.threadName = threadName;
        }
    }

    private final String name;
    private final ExecutorService eventPool;
    private final ExecutorService syncPool;
    private final ExecutorService backgroundPool;
    private final ScheduledThreadPoolExecutor timer;
    /** Replicas with something timed in progress: ticked every tick. */
    private final Set<Ticker> tickers = ConcurrentHashMap.newKeySet();
    /** Quiet replicas: ticked every {@link #QUIET_SWEEP_TICKS} ticks only (they skip most of those too). */
    private final Set<Ticker> quietTickers = ConcurrentHashMap.newKeySet();

    private long sweeps; // timer thread only
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Received messages queued on the event lanes of every replica of this set: one node-wide bound. */
    private final InboundBudget inboundBudget = new InboundBudget(InboundBudget.DEFAULT_LIMIT);

    private ReplicaExecutors(String name, int eventThreads, int syncThreads, int backgroundThreads, Duration tick) {
        this.name = name;
        this.eventPool = Executors.newFixedThreadPool(eventThreads, numbered("tenure-" + name + "-event-"));
        this.syncPool = Executors.newFixedThreadPool(syncThreads, numbered("tenure-" + name + "-sync-"));
        this.backgroundPool =
                Executors.newFixedThreadPool(backgroundThreads, numbered("tenure-" + name + "-background-"));
        this.timer = new ScheduledThreadPoolExecutor(1, numbered("tenure-" + name + "-timer-"));
        timer.setRemoveOnCancelPolicy(true);
        long nanos = tick.toNanos();
        // Cancelled by close (shutdownNow); ticking only posts events, which cannot throw.
        ScheduledFuture<?> unused = timer.scheduleAtFixedRate(this::tickAll, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A shared set with the default pool sizes and a 10 ms tick.
     *
     * @param name names the threads ({@code tenure-NAME-event-1}, …): the node's id, for example
     */
    public static ReplicaExecutors shared(String name) {
        return shared(name, DEFAULT_EVENT_THREADS, DEFAULT_SYNC_THREADS, DEFAULT_BACKGROUND_THREADS);
    }

    /** A shared set with the given pool sizes (each at least 1) and a 10 ms tick. */
    public static ReplicaExecutors shared(String name, int eventThreads, int syncThreads, int backgroundThreads) {
        Preconditions.checkArgument(
                eventThreads >= 1 && syncThreads >= 1 && backgroundThreads >= 1,
                "every pool needs a thread: event %s, sync %s, background %s",
                eventThreads,
                syncThreads,
                backgroundThreads);
        return new ReplicaExecutors(name, eventThreads, syncThreads, backgroundThreads, Duration.ofMillis(10));
    }

    /** The number of threads this set runs: the pools' sizes and the timer. */
    public int threads() {
        return ((java.util.concurrent.ThreadPoolExecutor) eventPool).getMaximumPoolSize()
                + ((java.util.concurrent.ThreadPoolExecutor) syncPool).getMaximumPoolSize()
                + ((java.util.concurrent.ThreadPoolExecutor) backgroundPool).getMaximumPoolSize()
                + 1;
    }

    /** A quiet replica is looked at once in this many ticks (250 ms at the 10 ms tick). */
    static final int QUIET_SWEEP_TICKS = 25;

    /** The number of replicas ticked by this set's timer now (quiet ones included). */
    int tickedReplicas() {
        return tickers.size() + quietTickers.size();
    }

    /** The number of quiet replicas, looked at every {@link #QUIET_SWEEP_TICKS} ticks only. */
    int quietReplicas() {
        return quietTickers.size();
    }

    /** Stops the threads; idempotent. Replicas still using the set stop being ticked and their tasks are dropped. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        timer.shutdownNow();
        eventPool.shutdownNow();
        syncPool.shutdownNow();
        backgroundPool.shutdownNow();
    }

    @Override
    public String toString() {
        return "ReplicaExecutors[" + name + ", " + threads() + " threads, " + tickers.size() + " replicas]";
    }

    private void tickAll() {
        for (Ticker t : tickers) {
            t.tick.run();
        }
        if (++sweeps % QUIET_SWEEP_TICKS == 0) {
            for (Ticker t : quietTickers) {
                t.tick.run();
            }
        }
    }

    /** The threads one replica runs on. */
    interface Threads {
        Lane lane(Role role);

        /** Runs {@code tick} every {@code interval} until the returned handle is stopped. */
        Ticking tickEvery(Duration interval, Runnable tick);

        ScheduledExecutorService scheduler();

        /**
         * Bounds the received messages queued on this replica's event lane (and, on a shared set, on every
         * replica's): the transport stops reading while it is exhausted.
         */
        InboundBudget inboundBudget();

        /** Whether a follower may sync on its event lane (only when the lane is a thread of its own). */
        boolean dedicated();

        /** Called once the replica closed its lanes and tickers. */
        void release();
    }

    /** The threads of a replica that starts its own. */
    static Threads dedicated(String replicaId) {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, daemon("tenure-tick-" + replicaId));
        timer.setRemoveOnCancelPolicy(true); // timeouts of completed requests leave the queue at once
        InboundBudget budget = new InboundBudget(InboundBudget.DEFAULT_LIMIT);
        return new Threads() {
            @Override
            public Lane lane(Role role) {
                ExecutorService thread =
                        Executors.newSingleThreadExecutor(daemon("tenure-" + role.threadName + "-" + replicaId));
                return new Lane(thread, thread);
            }

            @Override
            public Ticking tickEvery(Duration interval, Runnable tick) {
                long nanos = interval.toNanos();
                ScheduledFuture<?> f = timer.scheduleAtFixedRate(tick, nanos, nanos, TimeUnit.NANOSECONDS);
                return new Ticking() {
                    @Override
                    public void quiet(boolean quiet) {} // its own timer: the tick itself skips

                    @Override
                    public void stop() {
                        f.cancel(false);
                    }
                };
            }

            @Override
            public ScheduledExecutorService scheduler() {
                return timer;
            }

            @Override
            public InboundBudget inboundBudget() {
                return budget;
            }

            @Override
            public boolean dedicated() {
                return true;
            }

            @Override
            public void release() {
                timer.shutdownNow();
            }
        };
    }

    /** The threads of a replica on this shared set. */
    Threads forReplica() {
        Preconditions.checkState(!closed.get(), "%s is closed", this);
        return new Threads() {
            @Override
            public Lane lane(Role role) {
                ExecutorService pool = switch (role) {
                    case EVENT, APPLY -> eventPool;
                    case SYNC -> syncPool;
                    case SNAPSHOT, CONFIGURATION -> backgroundPool;
                };
                return new Lane(pool, null);
            }

            @Override
            public Ticking tickEvery(Duration interval, Runnable tick) {
                // The shared timer ticks at its own interval; a replica's interval is not honoured separately.
                Ticker t = new Ticker(tick);
                tickers.add(t);
                return new Ticking() {
                    @Override
                    public synchronized void quiet(boolean quiet) {
                        if (t.stopped) {
                            return;
                        }
                        if (quiet && tickers.remove(t)) {
                            quietTickers.add(t);
                        } else if (!quiet && quietTickers.remove(t)) {
                            tickers.add(t);
                        }
                    }

                    @Override
                    public synchronized void stop() {
                        t.stopped = true;
                        tickers.remove(t);
                        quietTickers.remove(t);
                    }
                };
            }

            @Override
            public ScheduledExecutorService scheduler() {
                return timer;
            }

            @Override
            public InboundBudget inboundBudget() {
                return inboundBudget;
            }

            @Override
            public boolean dedicated() {
                return false;
            }

            @Override
            public void release() {}
        };
    }

    /**
     * A replica's registration with a timer. {@link #quiet} says whether the replica is quiet (it then needs a tick
     * only now and then); {@link #stop} ends the ticks. Thread-safe.
     */
    interface Ticking {
        Ticking NONE = new Ticking() {
            @Override
            public void quiet(boolean quiet) {}

            @Override
            public void stop() {}
        };

        void quiet(boolean quiet);

        void stop();
    }

    /** Identity-compared registration of one replica's tick. */
    private static final class Ticker {
        final Runnable tick;
        boolean stopped; // guarded by its Ticking

        Ticker(Runnable tick) {
            this.tick = tick;
        }
    }

    /** A task that must learn when a shut-down {@link Lane} drops it instead of running it. */
    interface Droppable extends Runnable {
        /** Called instead of {@link #run} when the task is dropped; must not throw. */
        void dropped();
    }

    /**
     * A serial executor for one role of one replica, with an executor service's shutdown: once shut down it refuses
     * new tasks ({@link java.util.concurrent.RejectedExecutionException}) and {@link #awaitTermination} waits for
     * those already queued. {@link #shutdownNow} drops the queued tasks instead (a task running then completes).
     *
     * <p>Tasks run one at a time, in submission order, each seeing the effects of the ones before (the lane's
     * counter of pending tasks is the hand-over: whoever moves it from zero runs the lane until it is back at zero).
     * They usually run on the lane's thread (or a thread of its pool); {@link #runHereIfIdle} lets a caller run a
     * short task on its own thread when the lane has nothing queued or running, which saves a thread hand-off (a
     * wake-up of the lane's thread) on the write path at low load (issue 20). The order and the exclusion are the
     * same either way; only the thread differs.
     */
    static final class Lane implements Executor {
        private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Lane.class);
        /** At most this many tasks run per turn on a shared pool's thread before the lane yields it. */
        private static final int MAX_TASKS_PER_TURN = 256;

        private final Executor runner;
        /** The lane's own thread, or null when the lane runs on a shared pool. */
        private final ExecutorService owned;

        /** Tasks not yet started, in submission order. */
        private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> tasks =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        /**
         * Tasks in {@link #tasks} plus the one running. A task is queued before this is incremented; whoever moves it
         * from 0 owns the lane (runs tasks) until its decrement brings it back to 0.
         */
        private final AtomicInteger pending = new AtomicInteger();

        /**
         * Tasks accepted and not yet run or dropped, for shutdown's termination, with {@link #SHUT_DOWN} set once the
         * lane is shut down: from then on nothing is accepted, so the count only falls, and whoever sees it reach zero
         * with the bit set (the last task's {@link #done}, or {@link #shutdown} itself) terminates the lane. One
         * atomic word, not a lock: every task passes here twice, from different threads.
         */
        private final AtomicInteger queued = new AtomicInteger();

        private static final int SHUT_DOWN = 1 << 30;

        private final java.util.concurrent.CountDownLatch terminated = new java.util.concurrent.CountDownLatch(1);
        private volatile boolean dropQueued;

        Lane(Executor runner, ExecutorService owned) {
            this.runner = runner;
            this.owned = owned;
        }

        @Override
        public void execute(Runnable task) {
            accept();
            tasks.add(wrap(task));
            if (pending.getAndIncrement() == 0) {
                schedule();
            }
        }

        /**
         * Runs {@code task} on the calling thread, now, if the lane has nothing queued or running and is not shut
         * down, then up to {@code thenAtMost} tasks queued meanwhile (the rest go to the lane's thread); returns
         * false, having run nothing, otherwise. Never blocks; a task of this lane calling it gets false.
         */
        boolean runHereIfIdle(Runnable task, int thenAtMost) {
            if (!pending.compareAndSet(0, 1)) {
                return false;
            }
            if (!tasks.isEmpty()) {
                // A task queued earlier whose submitter has not counted it yet (its count was spent on another
                // task polled ahead of it): it must run first, so this one may not. Let go of the lane; if a count
                // came in meanwhile, nobody runs the lane but its thread.
                if (pending.decrementAndGet() != 0) {
                    schedule();
                }
                return false;
            }
            if (!tryAccept()) {
                release(thenAtMost);
                return false;
            }
            wrap(task).run();
            release(thenAtMost);
            return true;
        }

        /** The caller owns the lane and has finished a task: runs up to {@code atMost} more, then lets go. */
        private void release(int atMost) {
            for (int ran = 0; pending.decrementAndGet() != 0; ran++) {
                if (ran >= atMost) {
                    schedule(); // pending > 0 and nobody runs the lane: its thread takes over
                    return;
                }
                tasks.poll().run();
            }
        }

        /** Hands the lane (pending > 0, nobody running it) to its thread. */
        private void schedule() {
            try {
                runner.execute(this::drain);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // The pool is closed (a shared set closed before its replicas): drop what is queued, here.
                dropQueued = true;
                drain();
            }
        }

        private void drain() {
            tasks.poll().run();
            release(owned != null ? Integer.MAX_VALUE : MAX_TASKS_PER_TURN - 1);
        }

        private void accept() {
            if (!tryAccept()) {
                throw new java.util.concurrent.RejectedExecutionException("lane is shut down");
            }
        }

        /** Counts a task in, unless the lane is shut down. */
        private boolean tryAccept() {
            int q;
            do {
                q = queued.get();
                if ((q & SHUT_DOWN) != 0) {
                    return false;
                }
            } while (!queued.compareAndSet(q, q + 1));
            return true;
        }

        private Runnable wrap(Runnable task) {
            return () -> {
                try {
                    if (!dropQueued) {
                        task.run();
                    } else if (task instanceof Droppable d) {
                        d.dropped();
                    }
                } catch (RuntimeException e) {
                    LOG.error("a task of a replica's lane threw", e);
                } finally {
                    done();
                }
            };
        }

        private void done() {
            if (queued.decrementAndGet() == SHUT_DOWN) {
                terminate();
            }
        }

        private void terminate() {
            terminated.countDown();
            if (owned != null) {
                owned.shutdown(); // nothing is left for it: its thread ends
            }
        }

        /** Refuses new tasks; those queued still run. */
        void shutdown() {
            if (queued.getAndUpdate(q -> q | SHUT_DOWN) == 0) {
                terminate(); // nothing was queued; a second call finds the bit set and does nothing
            }
        }

        /** Refuses new tasks and drops the queued ones; interrupts the running one on a lane's own thread. */
        void shutdownNow() {
            dropQueued = true;
            shutdown();
            if (owned != null && !owned.shutdownNow().isEmpty()) {
                drain(); // the lane's turn never ran: drop its tasks here (a Droppable learns of it)
            }
        }

        /** Waits until every task queued before {@link #shutdown} has run or been dropped. */
        boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return terminated.await(timeout, unit);
        }
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private static ThreadFactory numbered(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
