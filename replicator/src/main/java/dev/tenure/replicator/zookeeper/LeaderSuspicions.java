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

import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.replicator.core.Configuration;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica's part in fast failover on ZooKeeper (docs/replication.md, "Fast failover"): it records this replica's
 * suspicion of a leader as an ephemeral node {@code P/suspicions/EPOCH/ID} under the election path, watches that
 * epoch's suspicions, and once the suspecting voters are a majority of the configuration's voters (of both sets during
 * a change; the suspected leader and learners never count) deposes the leader with {@link
 * FencedLeaderElection#deposeAsync}, conditional on the epoch still being the latest.
 *
 * <p>One depose per failover: the first suspecting voter by id deposes at once; every other one stands by for the
 * back-off and then deposes only if the leader still stands (its depose reads that it was done and writes nothing).
 * A node that led many partitions takes them all down at once, and each of their deposes is a ZooKeeper write the
 * ensemble would otherwise take from every survivor.
 *
 * <p>Thread-safe: {@link #suspect} and {@link #clear} are called on the replica's event thread and never block (every
 * ZooKeeper request is sent in the background, answered on Curator's event thread, parents included: Curator's {@code
 * creatingParentContainersIfNeeded} would make them with blocking calls on its single background thread); a depose
 * starts on the given executor (the election's step-down lane) and sends its requests in the background, at most one
 * per epoch, and not within the back-off of this replica's previous depose. No thread of its own. A ZooKeeper failure
 * is logged and the suspicion is kept: after a reconnect it is recorded again (a new session lost the ephemeral node)
 * and read again; meanwhile the leader's session expiry remains the bound it always was. Ids read from ZooKeeper that
 * are not voters of the configuration are ignored.
 */
final class LeaderSuspicions {
    private static final Logger log = LoggerFactory.getLogger(LeaderSuspicions.class);

    /** How long after this replica promised a newer epoch its suspicion of the older one is deleted (by default). */
    static final Duration SUPERSEDED_WITHDRAWAL_DELAY = Duration.ofSeconds(10);

    private final CuratorFramework client;
    private final String electionPath;
    private final String self;
    private final Supplier<Configuration> configuration;
    private final Executor deposer;
    private final long backoffNanos;
    private final long supersededDelayNanos;
    private final LongSupplier clock;

    // Guarded by this.
    private long epoch;
    private String leader = "";
    private boolean deposeStarted;
    private long lastDeposeAt = Long.MIN_VALUE;
    /** The epoch for which this replica stood by while the first suspecting voter deposed. */
    private long standbyEpoch;

    private int deposesStarted;
    private int deposesDone;
    private boolean closed;

    private final ConnectionStateListener connectionListener = (c, state) -> connectionStateChanged(state);

    /**
     * @param electionPath the election's path (the suspicions go under it)
     * @param self this replica's id (a valid node name: the election's participant id)
     * @param configuration the replica set's newest configuration, read when suspicions are counted
     * @param deposer where the (blocking) depose runs: the election's step-down lane
     * @param backoff no depose within this long after this replica's previous one
     */
    LeaderSuspicions(
            CuratorFramework client,
            String electionPath,
            String self,
            Supplier<Configuration> configuration,
            Executor deposer,
            Duration backoff,
            LongSupplier clock) {
        this(client, electionPath, self, configuration, deposer, backoff, SUPERSEDED_WITHDRAWAL_DELAY, clock);
    }

    LeaderSuspicions(
            CuratorFramework client,
            String electionPath,
            String self,
            Supplier<Configuration> configuration,
            Executor deposer,
            Duration backoff,
            Duration supersededDelay,
            LongSupplier clock) {
        this.supersededDelayNanos = supersededDelay.toNanos();
        this.client = client;
        this.electionPath = electionPath;
        this.self = self;
        this.configuration = configuration;
        this.deposer = deposer;
        this.backoffNanos = backoff.toNanos();
        this.clock = clock;
        FencedLeaderElection.suspicionPath(electionPath, 1, self); // validates the path and the id
        client.getConnectionStateListenable().addListener(connectionListener);
    }

    /** This replica suspects {@code suspectedLeader}, the leader of {@code suspectedEpoch}. */
    void suspect(long suspectedEpoch, String suspectedLeader) {
        synchronized (this) {
            if (closed || suspectedEpoch <= 0 || suspectedEpoch == epoch) {
                return;
            }
            if (epoch != 0) {
                deleteOwn(epoch); // the core withdraws before it suspects another epoch; this is a safety net
            }
            epoch = suspectedEpoch;
            leader = suspectedLeader;
            deposeStarted = false;
        }
        log.info("replica {} suspects {}, the leader of epoch {}: recording it", self, suspectedLeader, suspectedEpoch);
        record(suspectedEpoch);
    }

    /** Curator's thread: after a reconnect (perhaps in a new session) the suspicion is recorded and read again. */
    private void connectionStateChanged(ConnectionState state) {
        if (state == ConnectionState.RECONNECTED) {
            long e;
            synchronized (this) {
                e = closed ? 0 : epoch;
            }
            if (e != 0) {
                record(e);
            }
        }
    }

    /** Creates this replica's suspicion node of {@code suspectedEpoch} (in the background), then counts. */
    private void record(long suspectedEpoch) {
        createSuspicion(FencedLeaderElection.suspicionPath(electionPath, suspectedEpoch, self), suspectedEpoch, true);
    }

    /**
     * Creates the ephemeral suspicion node {@code path}; if its parent is missing (the first suspicion of an epoch),
     * creates the parent containers and tries once more. Every request is sent in the background: Curator's own
     * {@code creatingParentContainersIfNeeded} makes the parents with blocking calls on Curator's single background
     * thread, which holds up every background request of the client behind each missing parent — after the death of
     * a node that led many partitions, the survivors' suspicions of all of them at once queued for seconds there.
     */
    private void createSuspicion(String path, long suspectedEpoch, boolean mayCreateParents) {
        if (!suspecting(suspectedEpoch)) {
            return;
        }
        try {
            client.create()
                    .withMode(CreateMode.EPHEMERAL)
                    .inBackground((c, event) -> {
                        int rc = event.getResultCode();
                        if (rc == KeeperException.Code.OK.intValue()
                                || rc == KeeperException.Code.NODEEXISTS.intValue()) {
                            watchAndCount(suspectedEpoch);
                        } else if (rc == KeeperException.Code.NONODE.intValue() && mayCreateParents) {
                            createContainer(
                                    ZKPaths.getPathAndNode(path).getPath(),
                                    () -> createSuspicion(path, suspectedEpoch, false));
                        } else {
                            log.warn(
                                    "replica {} could not record its suspicion of epoch {}: {}",
                                    self,
                                    suspectedEpoch,
                                    KeeperException.Code.get(rc));
                        }
                    })
                    .forPath(path);
        } catch (Exception e) {
            log.warn("replica {} could not record its suspicion of epoch {}", self, suspectedEpoch, e);
        }
    }

    /**
     * Creates the container {@code path} and, first, its missing ancestors, in the background; runs {@code then} once
     * it exists (made here or by someone else). A failure is logged and ends the attempt.
     */
    private void createContainer(String path, Runnable then) {
        try {
            client.create()
                    .withMode(CreateMode.CONTAINER)
                    .inBackground((c, event) -> {
                        int rc = event.getResultCode();
                        if (rc == KeeperException.Code.OK.intValue()
                                || rc == KeeperException.Code.NODEEXISTS.intValue()) {
                            then.run();
                        } else if (rc == KeeperException.Code.NONODE.intValue() && !"/".equals(path)) {
                            createContainer(ZKPaths.getPathAndNode(path).getPath(), () -> createContainer(path, then));
                        } else {
                            log.warn("replica {} could not create {}: {}", self, path, KeeperException.Code.get(rc));
                        }
                    })
                    .forPath(path);
        } catch (Exception e) {
            log.warn("replica {} could not create {}", self, path, e);
        }
    }

    /** This replica no longer suspects the leader of {@code clearedEpoch}. */
    void clear(long clearedEpoch) {
        if (!stopSuspecting(clearedEpoch)) {
            return;
        }
        log.info("replica {} withdraws its suspicion of epoch {}", self, clearedEpoch);
        deleteOwn(clearedEpoch);
    }

    /**
     * This replica no longer suspects the leader of {@code supersededEpoch}: it promised a newer epoch. The suspicion
     * stops counting here at once, and its node is deleted a while later ({@link #SUPERSEDED_WITHDRAWAL_DELAY}): it
     * can depose nobody meanwhile (a depose of an epoch that is not the latest is refused), and after a node that led many
     * partitions died, deleting every partition's suspicion as its new term begins would compete with the elections
     * of the partitions still waiting for theirs.
     */
    void clearSuperseded(long supersededEpoch) {
        if (!stopSuspecting(supersededEpoch)) {
            return;
        }
        log.info("replica {} withdraws its suspicion of epoch {}, superseded", self, supersededEpoch);
        try {
            CompletableFuture.delayedExecutor(supersededDelayNanos, TimeUnit.NANOSECONDS, deposer)
                    .execute(() -> deleteOwn(supersededEpoch));
        } catch (RejectedExecutionException closing) {
            deleteOwn(supersededEpoch);
        }
    }

    /** Stops suspecting the leader of {@code e}; false if this replica did not suspect it. */
    private synchronized boolean stopSuspecting(long e) {
        if (e != epoch) {
            return false;
        }
        epoch = 0;
        leader = "";
        return true;
    }

    /** Withdraws any suspicion; later calls do nothing. */
    void close() {
        client.getConnectionStateListenable().removeListener(connectionListener);
        long e;
        synchronized (this) {
            closed = true;
            e = epoch;
            epoch = 0;
        }
        if (e != 0) {
            deleteOwn(e);
        }
    }

    private void deleteOwn(long e) {
        try {
            client.delete()
                    .inBackground((c, event) -> {}) // a missing node is already withdrawn
                    .forPath(FencedLeaderElection.suspicionPath(electionPath, e, self));
        } catch (Exception ex) {
            log.debug("replica {} could not withdraw its suspicion of epoch {}", self, e, ex);
        }
    }

    private synchronized boolean suspecting(long e) {
        return !closed && epoch == e;
    }

    /** Reads the suspicions of epoch {@code e}, watching for more, and deposes once they are a majority. */
    private void watchAndCount(long e) {
        if (!suspecting(e)) {
            return;
        }
        String parent = ZKPaths.getPathAndNode(FencedLeaderElection.suspicionPath(electionPath, e, self))
                .getPath();
        CuratorWatcher watcher = (WatchedEvent event) -> {
            if (event.getType() != Watcher.Event.EventType.None) {
                watchAndCount(e);
            }
        };
        try {
            client.getChildren()
                    .usingWatcher(watcher)
                    .inBackground((c, event) -> {
                        if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                            count(e, event.getChildren());
                        }
                    })
                    .forPath(parent);
        } catch (Exception ex) {
            log.warn("replica {} could not read the suspicions of epoch {}", self, e, ex);
        }
    }

    private void count(long e, List<String> children) {
        Configuration config = configuration.get();
        long wait;
        synchronized (this) {
            if (closed || epoch != e || deposeStarted) {
                return;
            }
            Set<String> suspecting = new HashSet<>();
            for (String id : children) {
                if (config.counts(id) && !id.equals(leader)) {
                    suspecting.add(id); // only voters: learners and foreign names never count
                }
            }
            if (!config.hasQuorum(suspecting::contains)) {
                return;
            }
            long now = clock.getAsLong();
            if (standbyEpoch != e && !self.equals(Collections.min(suspecting))) {
                // Not the first suspecting voter by id: that one deposes; this one stands by for the back-off and
                // then deposes only if it must (the depose is conditional, and reads that it was done).
                standbyEpoch = e;
                wait = backoffNanos;
            } else {
                wait = lastDeposeAt == Long.MIN_VALUE ? 0 : Math.max(0, lastDeposeAt + backoffNanos - now);
            }
            if (wait == 0) {
                deposeStarted = true;
                lastDeposeAt = now;
            }
        }
        if (wait > 0) {
            // Standing by, or within the back-off of this replica's previous depose: count again once it passed.
            CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS, deposer)
                    .execute(() -> count(e, children));
            return;
        }
        try {
            deposer.execute(() -> depose(e));
        } catch (RejectedExecutionException closing) {
            // the election is closing
        }
    }

    /**
     * Deposes the leader of epoch {@code e} with its requests in the background ({@link
     * FencedLeaderElection#deposeAsync}): after a node that led many partitions dies, every one of their elections
     * deposes at once, and their requests are pipelined on the session instead of waiting three round trips each on
     * the few step-down threads. On the deposer (the election's step-down lane); the outcome is handled on Curator's event
     * thread.
     */
    private void depose(long e) {
        synchronized (this) {
            if (closed || epoch != e) {
                return;
            }
            deposesStarted++;
        }
        CompletionStage<Boolean> deposed;
        try {
            deposed = FencedLeaderElection.deposeAsync(client, electionPath, e);
        } catch (RuntimeException ex) {
            deposeFailed(e, ex);
            return;
        }
        // On Curator's event thread: a log line and a flag.
        var unused = deposed.whenComplete((done, ex) -> {
            if (ex != null) {
                deposeFailed(e, ex);
            } else if (done) {
                synchronized (this) {
                    deposesDone++;
                }
                log.warn("replica {}: a majority of the voters lost the leader of epoch {}; deposed it", self, e);
            } else {
                log.info("replica {}: epoch {} is no longer the latest or its leader already left", self, e);
            }
        });
    }

    /** Deposes this replica started (each at most once per epoch), whatever their outcome. */
    synchronized int deposesStarted() {
        return deposesStarted;
    }

    /** Deposes of this replica that deleted the leader's node. */
    synchronized int deposesDone() {
        return deposesDone;
    }

    private void deposeFailed(long e, Throwable ex) {
        log.warn("replica {} could not depose the leader of epoch {}", self, e, ex);
        synchronized (this) {
            if (epoch == e) {
                deposeStarted = false; // the next change of the suspicions tries again
            }
        }
    }
}
