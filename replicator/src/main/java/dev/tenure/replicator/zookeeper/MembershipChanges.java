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
package dev.tenure.replicator.zookeeper;

import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicationException.NotLeaderException;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.Role;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs membership changes for a {@link ZooKeeperReplica}, one step after another on a thread of its own: add a
 * learner, wait until it is caught up, start the change of the voters (a joint configuration minted with a new
 * epoch), wait until a leader activated it (docs/replication.md, "Membership change"). Every write is conditional on
 * the configuration read before it, so of two concurrent changes one wins and the other fails with {@link
 * ZooKeeperConfiguration.ConcurrentChangeException}.
 *
 * <p>Thread-safe; each operation returns at once with a future.
 */
final class MembershipChanges implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(MembershipChanges.class);

    /** A learner within this many entries of the leader's log end counts as caught up. */
    static final long CATCH_UP_ENTRIES = 1_000;

    /** How often the leader's view of a learner, and the configuration, are looked at while waiting. */
    private static final Duration POLL = Duration.ofMillis(20);

    /** How long a started change of the voters may take to be activated before the future fails (it goes on). */
    static final Duration ACTIVATION_TIMEOUT = Duration.ofMinutes(2);

    private final String self;
    private final ZooKeeperConfiguration master;
    private final Replica replica;
    /** Runs the changes one after another: a thread of its own, or a lane of a node's shared pool. */
    private final java.util.concurrent.Executor thread;
    /** The thread, when it is this object's own (null on a shared pool). */
    private final ExecutorService ownThread;

    private volatile boolean closed;

    MembershipChanges(String self, ZooKeeperConfiguration master, Replica replica) {
        this(self, master, replica, null);
    }

    /** As the other constructor, running the changes on {@code shared} (in order) when it is not null. */
    MembershipChanges(String self, ZooKeeperConfiguration master, Replica replica, ExecutorService shared) {
        this.self = self;
        this.master = master;
        this.replica = replica;
        if (shared == null) {
            this.ownThread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "tenure-membership");
                t.setDaemon(true);
                return t;
            });
            this.thread = ownThread;
        } else {
            this.ownThread = null;
            this.thread = com.google.common.util.concurrent.MoreExecutors.newSequentialExecutor(shared);
        }
    }

    CompletableFuture<Configuration> add(String id, Duration catchUpTimeout) {
        return run(() -> {
            requireLeader();
            ZooKeeperConfiguration.Versioned v = requireSettled();
            Configuration c = v.configuration();
            if (c.counts(id)) {
                throw new IllegalArgumentException(id + " is already a voter: " + c);
            }
            v = addLearner(v, id);
            awaitCaughtUp(id, catchUpTimeout);
            c = v.configuration();
            List<String> voters = new ArrayList<>(c.voters());
            voters.add(id);
            return changeVoters(v, voters, without(c.learners(), id));
        });
    }

    CompletableFuture<Configuration> remove(String id) {
        return run(() -> {
            requireLeader();
            ZooKeeperConfiguration.Versioned v = requireSettled();
            Configuration c = v.configuration();
            if (c.learners().contains(id)) {
                Configuration next =
                        new Configuration(c.version() + 1, c.voters(), List.of(), without(c.learners(), id));
                master.replace(v, next, false);
                return next;
            }
            if (!c.voters().contains(id)) {
                throw new IllegalArgumentException(id + " is not a member: " + c);
            }
            if (c.voters().size() == 1) {
                throw new IllegalArgumentException("cannot remove the last voter " + id);
            }
            return changeVoters(v, without(c.voters(), id), c.learners());
        });
    }

    CompletableFuture<Configuration> replace(String old, String replacement, Duration catchUpTimeout) {
        return run(() -> {
            requireLeader();
            ZooKeeperConfiguration.Versioned v = requireSettled();
            Configuration c = v.configuration();
            if (!c.voters().contains(old)) {
                throw new IllegalArgumentException(old + " is not a voter: " + c);
            }
            if (c.counts(replacement)) {
                throw new IllegalArgumentException(replacement + " is already a voter: " + c);
            }
            v = addLearner(v, replacement);
            awaitCaughtUp(replacement, catchUpTimeout);
            c = v.configuration();
            List<String> voters = without(c.voters(), old);
            voters.add(replacement);
            return changeVoters(v, voters, without(c.learners(), replacement));
        });
    }

    CompletableFuture<Configuration> cancel() {
        return run(() -> {
            ZooKeeperConfiguration.Versioned v = master.read();
            Configuration c = v.configuration();
            if (c.joint()) {
                Configuration back = new Configuration(c.version() + 1, c.previousVoters(), List.of(), List.of());
                long epoch = master.replace(v, back, true);
                log.info("cancelled the change to {}: back to {} (epoch {})", c.voters(), back.voters(), epoch);
                return back;
            }
            if (!c.learners().isEmpty()) {
                Configuration next = new Configuration(c.version() + 1, c.voters(), List.of(), List.of());
                master.replace(v, next, false);
                log.info("cancelled: learners {} removed", c.learners());
                return next;
            }
            return c;
        });
    }

    private interface Step {
        Configuration run() throws Exception;
    }

    private CompletableFuture<Configuration> run(Step step) {
        CompletableFuture<Configuration> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(new IllegalStateException("replica " + self + " is closed"));
            return f;
        }
        try {
            thread.execute(() -> {
                try {
                    f.complete(step.run());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    f.completeExceptionally(e);
                } catch (Exception e) {
                    f.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException closed) {
            f.completeExceptionally(new IllegalStateException("replica " + self + " is closed"));
        }
        return f;
    }

    private void requireLeader() throws NotLeaderException {
        Replica.Status s = replica.status();
        if (s.role() != Role.LEADER) {
            throw new NotLeaderException(s.leader());
        }
    }

    /** The current configuration, which must have no change of the voters in progress. */
    private ZooKeeperConfiguration.Versioned requireSettled() throws Exception {
        ZooKeeperConfiguration.Versioned v = master.read();
        if (v.configuration().joint()) {
            throw new ZooKeeperConfiguration.ConcurrentChangeException(
                    "a change is in progress: " + v.configuration() + "; wait for it, or cancel it");
        }
        return v;
    }

    private ZooKeeperConfiguration.Versioned addLearner(ZooKeeperConfiguration.Versioned v, String id)
            throws Exception {
        Configuration c = v.configuration();
        if (c.learners().contains(id)) {
            return v;
        }
        List<String> learners = new ArrayList<>(c.learners());
        learners.add(id);
        Configuration next = new Configuration(c.version() + 1, c.voters(), List.of(), learners);
        master.replace(v, next, false);
        log.info("{} added as a learner: {}", id, next);
        return master.read();
    }

    /** Waits until this leader sees {@code id} promised and within {@link #CATCH_UP_ENTRIES} of its log end. */
    private void awaitCaughtUp(String id, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lag = -1;
        while (true) {
            requireLeader();
            for (Replica.FollowerStatus f : replica.status().followers()) {
                if (f.id().equals(id) && f.promised()) {
                    lag = f.lagEntries();
                    if (lag <= CATCH_UP_ENTRIES) {
                        return;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new ZooKeeperConfiguration.StalledChangeException(
                        "learner " + id + " has not caught up within " + timeout.toMillis()
                                + " ms (" + (lag < 0 ? "it has not answered this leader" : "lag " + lag + " entries")
                                + "): it stays a learner, the voters are unchanged; cancel the change to remove it");
            }
            checkOpen();
            Thread.sleep(POLL.toMillis()); // polling the leader's view of its followers
        }
    }

    /** Starts the change to {@code voters} (minting an epoch) and waits until a leader activated it. */
    private Configuration changeVoters(ZooKeeperConfiguration.Versioned v, List<String> voters, List<String> learners)
            throws Exception {
        Configuration c = v.configuration();
        Configuration joint = new Configuration(c.version() + 1, voters, c.voters(), learners);
        long epoch = master.replace(v, joint, true);
        log.info("change started: {} (epoch {})", joint, epoch);
        long deadline = System.nanoTime() + ACTIVATION_TIMEOUT.toNanos();
        while (true) {
            Configuration now = master.read().configuration();
            if (now.version() > joint.version()) {
                if (now.equals(joint.activated())) {
                    return now;
                }
                throw new ZooKeeperConfiguration.ConcurrentChangeException(
                        "the change to " + voters + " was cancelled or overtaken: now " + now);
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the change to " + voters + " was not activated within "
                        + ACTIVATION_TIMEOUT.toSeconds() + " s (no leader committed under it); it goes on: cancel"
                        + " it to go back to " + c.voters());
            }
            checkOpen();
            Thread.sleep(POLL.toMillis()); // polling the configuration master
        }
    }

    /** A change on a shared pool stops waiting once closed (a thread of its own is interrupted instead). */
    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("replica " + self + " is closed: the change goes on without this wait");
        }
    }

    private static List<String> without(List<String> ids, String id) {
        List<String> list = new ArrayList<>(ids);
        list.remove(id);
        return list;
    }

    @Override
    public void close() {
        closed = true;
        if (ownThread != null) {
            ownThread.shutdownNow();
        }
    }
}
