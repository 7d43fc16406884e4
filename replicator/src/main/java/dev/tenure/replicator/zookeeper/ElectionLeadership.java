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

import com.google.common.util.concurrent.MoreExecutors;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeadershipListener;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.recipes.RevocationReason;
import dev.tenure.replicator.Leadership;
import dev.tenure.replicator.core.Configuration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Leadership} from a {@link FencedLeaderElection}: each acquired term's epoch becomes the replica's
 * epoch; a revoked term (suspension, session loss, newer epoch, step-down, a failed listener, close) ends it at
 * once; a replica fenced by a newer epoch steps down from the election.
 *
 * <p>With a configuration source, each acquired term is reported with the replica set's configuration read after
 * its epoch was minted (so no change of the voters came between them; every such change mints an epoch), and the
 * replica takes part in the election only while {@link #participate(boolean)} says so: a learner or a removed
 * replica does not campaign.
 *
 * <p>Thread-safe.
 */
public final class ElectionLeadership implements Leadership {
    private static final Logger log = LoggerFactory.getLogger(ElectionLeadership.class);

    private final Function<LeadershipListener, FencedLeaderElection> factory;
    private final Callable<Configuration> configurationAtMint;
    private final Map<Long, LeadershipToken> tokens = new ConcurrentHashMap<>();
    /** Runs step-downs, which wait for the term's work to end; a thread of its own, or a lane of a shared pool. */
    private final Executor stepDowns;
    /** The step-down thread, when it is the election's own (null on a shared pool). */
    private final ExecutorService ownStepDowns;

    private Events events;
    private boolean participating = true;
    private boolean closed;
    private volatile FencedLeaderElection election;
    /** Fast failover's suspicions, or null when it is off. */
    private volatile LeaderSuspicions suspicions;

    /**
     * @param factory builds the election with the given listener, for example {@code l ->
     *     FencedLeaderElection.builder(client, path).participantId(id).endpoint(url).listener(l).build()}
     */
    public ElectionLeadership(Function<LeadershipListener, FencedLeaderElection> factory) {
        this(factory, null);
    }

    /**
     * @param factory builds an election with the given listener; called again each time the replica rejoins after
     *     {@link #participate(boolean) participate(false)}
     * @param configurationAtMint reads the replica set's configuration from the configuration master; called on
     *     each acquisition, after the epoch was minted (null: terms are reported without a configuration)
     */
    public ElectionLeadership(
            Function<LeadershipListener, FencedLeaderElection> factory, Callable<Configuration> configurationAtMint) {
        this(factory, configurationAtMint, null);
    }

    /**
     * As {@link #ElectionLeadership(Function, Callable)}, stepping down on {@code shared} (one task at a time, in
     * order) instead of a thread of its own: for a node with one election per partition. The pool must outlive this.
     */
    public ElectionLeadership(
            Function<LeadershipListener, FencedLeaderElection> factory,
            Callable<Configuration> configurationAtMint,
            Executor shared) {
        this.factory = factory;
        this.configurationAtMint = configurationAtMint;
        if (shared == null) {
            this.ownStepDowns = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "tenure-step-down");
                t.setDaemon(true);
                return t;
            });
            this.stepDowns = ownStepDowns;
        } else {
            this.ownStepDowns = null;
            this.stepDowns = MoreExecutors.newSequentialExecutor(shared);
        }
    }

    @Override
    public synchronized void start(Events events) {
        this.events = events;
        if (participating) {
            join();
        }
    }

    /**
     * Takes part in the election ({@code true}) or leaves it, ending any term ({@code false}). Idempotent; before
     * {@link #start} it only sets whether {@code start} joins.
     */
    public synchronized void participate(boolean yes) {
        if (closed || yes == participating) {
            return;
        }
        participating = yes;
        if (events == null) {
            return;
        }
        if (yes) {
            join();
        } else {
            FencedLeaderElection e = election;
            election = null;
            if (e != null) {
                e.close(); // revokes a term held: CLOSED
            }
        }
    }

    private void join() {
        Events ev = events;
        FencedLeaderElection e = factory.apply(new LeadershipListener() {
            @Override
            public void acquired(LeadershipToken token) {
                tokens.put(token.epoch(), token);
                if (configurationAtMint == null) {
                    ev.elected(token.epoch());
                    return;
                }
                Configuration c;
                try {
                    c = configurationAtMint.call();
                } catch (Exception ex) {
                    log.warn("cannot read the configuration for epoch {}; giving the term up", token.epoch(), ex);
                    stepDown(token.epoch());
                    return;
                }
                ev.elected(token.epoch(), c);
            }

            @Override
            public void revoked(LeadershipToken token, RevocationReason reason) {
                tokens.remove(token.epoch());
                ev.revoked(token.epoch());
            }
        });
        election = e;
        e.start();
    }

    /**
     * Turns fast failover on (docs/replication.md, "Fast failover"): suspicions go under {@code electionPath}, counted
     * against the newest {@code configuration}; a depose runs on this leadership's step-down lane, not within {@code
     * backoff} of this replica's previous one. Before {@link #start}.
     */
    void fastFailover(
            org.apache.curator.framework.CuratorFramework client,
            String electionPath,
            String self,
            java.util.function.Supplier<Configuration> configuration,
            java.time.Duration backoff) {
        this.suspicions =
                new LeaderSuspicions(client, electionPath, self, configuration, stepDowns, backoff, System::nanoTime);
    }

    @Override
    public void suspectLeader(long epoch, String leader) {
        LeaderSuspicions s = suspicions;
        if (s != null && !isClosed()) {
            s.suspect(epoch, leader);
        }
    }

    @Override
    public void clearSuspicion(long epoch) {
        LeaderSuspicions s = suspicions;
        if (s != null) {
            s.clear(epoch);
        }
    }

    @Override
    public void clearSupersededSuspicion(long epoch) {
        LeaderSuspicions s = suspicions;
        if (s != null) {
            s.clearSuperseded(epoch);
        }
    }

    /** The election, while this replica takes part in one. */
    public FencedLeaderElection election() {
        return election;
    }

    /** The token of the term of {@code epoch}, while it is held. */
    public Optional<LeadershipToken> token(long epoch) {
        return Optional.ofNullable(tokens.get(epoch));
    }

    @Override
    public void stepDown(long epoch) {
        LeadershipToken token = tokens.get(epoch);
        FencedLeaderElection e = election;
        if (token == null || e == null || isClosed()) {
            return;
        }
        try {
            stepDowns.execute(() -> {
                try {
                    e.stepDown(token);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                } catch (IllegalStateException closed) {
                    log.debug("election closed before stepping down from {}", token);
                }
            });
        } catch (RejectedExecutionException closed) {
            // closing
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        FencedLeaderElection e;
        synchronized (this) {
            closed = true;
            e = election;
        }
        LeaderSuspicions s = suspicions;
        if (s != null) {
            s.close();
        }
        if (ownStepDowns != null) {
            ownStepDowns.shutdownNow();
        }
        if (e != null) {
            e.close();
        }
    }
}
