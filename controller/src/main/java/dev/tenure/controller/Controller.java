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
package dev.tenure.controller;

import com.google.common.base.Preconditions;
import dev.tenure.controller.core.ControllerCore;
import dev.tenure.controller.core.LeaderAndReplicas;
import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.core.StateWrite;
import dev.tenure.controller.core.VersionedState;
import dev.tenure.controller.wire.ControlCodec;
import dev.tenure.controller.wire.ControlMessage;
import dev.tenure.controller.zookeeper.ControllerPaths;
import dev.tenure.controller.zookeeper.LiveNodes;
import dev.tenure.controller.zookeeper.PartitionStateStore;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeadershipListener;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.recipes.RevocationReason;
import dev.tenure.replicator.zookeeper.ZooKeeperConfiguration;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's candidacy for the cluster's controller, and the controller's work while it holds the office: Kafka's
 * ZooKeeper-era controller without its known bugs (docs/controller.md).
 *
 * <p><b>Office.</b> Every node runs one; a {@link FencedLeaderElection} at {@link ControllerPaths#controllerElection}
 * elects one of them, and its epoch is the <em>controller epoch</em>. On taking office the controller reads every
 * registration and every partition state (pipelined: a few round trips, not one per partition), creates the state of
 * every partition that has a replica set but no state yet, and finishes whatever its predecessor left half done
 * ({@link ControllerCore} is level-triggered). It then reacts to registrations that appear, change (a node that
 * restarted or got a new session) or disappear, to new partitions, to controlled-shutdown requests, and every {@link
 * Builder#rebalanceInterval} to leader imbalance above {@link Builder#imbalanceThresholdPercent}.
 *
 * <p><b>Fencing.</b> Every ZooKeeper write is a compare-and-set of a partition state in a {@code multi} with a check
 * of the controller epoch node's version ({@link PartitionStateStore}): once a newer controller exists nothing this
 * one writes lands, and it steps down at the first such refusal. Every request carries the controller epoch, and
 * nodes refuse one below the highest they have seen ({@link NodeAgent}).
 *
 * <p><b>Requests.</b> After its writes land, the controller sends each affected node one assignment carrying every
 * partition of that node that changed (split only above the control frame's size bound). A node acknowledges each;
 * one not acknowledged within {@link Builder#assignmentRetry} is sent again, whole: assignments are idempotent.
 *
 * <p>Thread-safe. All of the controller's work runs on its own thread, one event at a time. {@link #start} once;
 * {@link #close} is idempotent, ends the term if it holds one and leaves the election.
 */
public final class Controller implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Controller.class);
    /** Largest number of partitions in one assignment, so that one fits the control frame's bound. */
    private static final int MAX_PARTITIONS_PER_ASSIGNMENT = 10_000;

    private final Builder b;
    private final FencedLeaderElection election;
    private final PartitionStateStore store;
    private final dev.tenure.controller.zookeeper.PartitionSetStore setStore;
    private final ExecutorService thread;
    private final ScheduledExecutorService timer;
    private final String partitionsPath;

    /** Controller thread only. */
    private Term term;

    private volatile Status status = Status.INACTIVE;
    private final AtomicLong termsHeld = new AtomicLong();
    private final AtomicLong assignmentsSent = new AtomicLong();
    private final AtomicLong assignmentsResent = new AtomicLong();
    private final AtomicLong writesFenced = new AtomicLong();
    private LiveNodes liveNodes;
    private volatile long lastNodeLostAtMillis;
    private volatile WriteRound lastWriteRound;
    /** The periodic tasks (cancelled by {@link #close} with the timer). */
    private final List<java.util.concurrent.Future<?>> timers = new ArrayList<>();

    private boolean started;
    private volatile boolean closed;
    /** The controller's thread, once started (to interrupt a ZooKeeper call on close while disconnected). */
    private volatile Thread worker;

    private Controller(Builder b) {
        this.b = b;
        this.partitionsPath = ControllerPaths.partitions(b.clusterPath);
        this.store = new PartitionStateStore(b.client, b.clusterPath);
        this.setStore = new dev.tenure.controller.zookeeper.PartitionSetStore(b.client, b.clusterPath);
        java.util.concurrent.ThreadFactory workers = daemon("tenure-controller-" + b.nodeId);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = workers.newThread(r);
            worker = t;
            return t;
        });
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("tenure-controller-timer-" + b.nodeId));
        this.election = FencedLeaderElection.builder(b.client, ControllerPaths.controllerElection(b.clusterPath))
                .participantId(b.nodeId)
                .listener(new LeadershipListener() {
                    @Override
                    public void acquired(LeadershipToken token) {
                        run(() -> takeOffice(token));
                    }

                    @Override
                    public void revoked(LeadershipToken token, RevocationReason reason) {
                        run(() -> leaveOffice(token, reason.toString()));
                    }
                })
                .build();
    }

    /** A factory of one daemon thread named {@code name}. */
    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return new com.google.common.util.concurrent.ThreadFactoryBuilder()
                .setDaemon(true)
                .setNameFormat(name.replace("%", "%%"))
                .build();
    }

    /** A builder of node {@code nodeId}'s controller candidacy in the cluster at {@code clusterPath}. */
    public static Builder builder(CuratorFramework client, String clusterPath) {
        return new Builder(client, clusterPath);
    }

    /** Builds a {@link Controller}; the node id and the sender are required. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String clusterPath;
        private String nodeId;
        private BiConsumer<String, byte[]> sender;
        private Duration assignmentRetry = Duration.ofSeconds(1);
        private Duration rebalanceInterval = Duration.ofMinutes(5);
        private double imbalanceThresholdPercent = 10;
        private java.util.function.Consumer<Set<String>> peers = ids -> {};

        private Builder(CuratorFramework client, String clusterPath) {
            this.client = Preconditions.checkNotNull(client, "client");
            this.clusterPath = Preconditions.checkNotNull(clusterPath, "clusterPath");
        }

        /** This node's id (required). */
        public Builder nodeId(String id) {
            this.nodeId = id;
            return this;
        }

        /**
         * Sends a control message's bytes to a node over the nodes' authenticated connections (required; {@link
         * dev.tenure.replicator.zookeeper.ZooKeeperNode#sendControl}). Best effort, must not block.
         */
        public Builder sender(BiConsumer<String, byte[]> sender) {
            this.sender = Preconditions.checkNotNull(sender, "sender");
            return this;
        }

        /** How long an assignment may stay unacknowledged before it is sent again; 1 s by default. */
        public Builder assignmentRetry(Duration retry) {
            Preconditions.checkArgument(!retry.isNegative() && !retry.isZero(), "retry must be positive");
            this.assignmentRetry = retry;
            return this;
        }

        /**
         * How often the controller checks leader imbalance (Kafka's {@code leader.imbalance.check.interval.seconds});
         * 300 s by default. {@link Duration#ZERO} turns automatic rebalancing off.
         */
        public Builder rebalanceInterval(Duration interval) {
            Preconditions.checkArgument(!interval.isNegative(), "interval must not be negative");
            this.rebalanceInterval = interval;
            return this;
        }

        /**
         * The share of a node's preferred partitions led elsewhere above which they move back to it (Kafka's {@code
         * leader.imbalance.per.broker.percentage}); 10 by default.
         */
        public Builder imbalanceThresholdPercent(double percent) {
            Preconditions.checkArgument(percent >= 0 && percent <= 100, "percent must be 0..100, was %s", percent);
            this.imbalanceThresholdPercent = percent;
            return this;
        }

        /**
         * Told the ids of the registered nodes whenever they change, on every node (not only the controller's): the
         * nodes a controller must be able to reach, and the nodes a controller may speak from ({@link
         * dev.tenure.replicator.zookeeper.ZooKeeperNode#controlPeers}). Called on the controller's thread.
         */
        public Builder peers(java.util.function.Consumer<Set<String>> peers) {
            this.peers = Preconditions.checkNotNull(peers, "peers");
            return this;
        }

        /** The controller candidacy, not started. */
        public Controller build() {
            dev.tenure.controller.core.PartitionState.checkNodeId(nodeId);
            Preconditions.checkState(sender != null, "a sender must be set");
            return new Controller(this);
        }
    }

    /**
     * What a node sees of the controller.
     *
     * @param active whether this node is the controller now
     * @param controllerEpoch its epoch, if active (else 0)
     * @param nodes the registrations it considers live
     * @param partitions the partition states it holds
     * @param shuttingDown nodes in controlled shutdown
     */
    public record Status(
            boolean active,
            long controllerEpoch,
            Map<String, NodeRegistration> nodes,
            Map<String, VersionedState> partitions,
            Set<String> shuttingDown) {
        static final Status INACTIVE = new Status(false, 0, Map.of(), Map.of(), Set.of());
    }

    /** Joins the election. @throws IllegalStateException if started twice or closed */
    public synchronized void start() throws Exception {
        Preconditions.checkState(!closed, "controller of %s is closed", b.nodeId);
        Preconditions.checkState(!started, "controller of %s cannot be started more than once", b.nodeId);
        started = true;
        liveNodes = new LiveNodes(b.client, b.clusterPath, new LiveNodes.Listener() {
            @Override
            public void registered(NodeRegistration registration) {
                run(() -> {
                    tellPeers();
                    if (term != null) {
                        term.core.nodeRegistered(registration);
                        term.pump();
                    }
                });
            }

            @Override
            public void deregistered(String node, long nodeEpoch) {
                lastNodeLostAtMillis = System.currentTimeMillis();
                run(() -> {
                    tellPeers();
                    if (term != null) {
                        term.core.nodeLost(node, nodeEpoch);
                        term.pump();
                    }
                });
            }
        });
        liveNodes.start();
        election.start();
        long retry = b.assignmentRetry.toNanos();
        java.util.concurrent.Future<?> resend =
                timer.scheduleWithFixedDelay(() -> run(this::resendUnacknowledged), retry, retry, TimeUnit.NANOSECONDS);
        if (!b.rebalanceInterval.isZero()) {
            long every = b.rebalanceInterval.toNanos();
            java.util.concurrent.Future<?> rebalancing =
                    timer.scheduleWithFixedDelay(() -> run(this::rebalance), every, every, TimeUnit.NANOSECONDS);
            timers.add(rebalancing);
        }
        timers.add(resend);
    }

    /** What this node sees of the controller now. Any thread. */
    public Status status() {
        return status;
    }

    /** Terms this node has held as controller. */
    public long termsHeld() {
        return termsHeld.get();
    }

    /**
     * When (wall clock, ms) this node last heard that a registration ended (a node's session expired or it
     * deregistered), whether or not it was the active controller then; 0 if never. For monitoring: the first step of
     * a failover after a node's death.
     */
    public long lastNodeLostAtMillis() {
        return lastNodeLostAtMillis;
    }

    /**
     * The timeline of the last time this node, as the active controller, wrote partition states and sent the
     * assignments that follow (a failover, a controlled shutdown, a creation, a rebalance), if it has. For monitoring:
     * the steps of a failover after {@link #lastNodeLostAtMillis()}.
     */
    public Optional<WriteRound> lastWriteRound() {
        return Optional.ofNullable(lastWriteRound);
    }

    /**
     * One round of the controller's writes and the assignments that follow them.
     *
     * @param startedAtMillis when (wall clock) the controller began writing
     * @param writtenAtMillis when the last write of the round completed
     * @param sentAtMillis when it had sent every assignment of the round
     * @param partitionsWritten partition states written (created or updated)
     * @param assignments assignments sent
     */
    public record WriteRound(
            long startedAtMillis, long writtenAtMillis, long sentAtMillis, int partitionsWritten, int assignments) {}

    /** Assignments sent, first sends and resends. */
    public long assignmentsSent() {
        return assignmentsSent.get();
    }

    /** Assignments sent again because they were not acknowledged in time. */
    public long assignmentsResent() {
        return assignmentsResent.get();
    }

    /** Writes refused because a newer controller exists (each ends the term). */
    public long writesFenced() {
        return writesFenced.get();
    }

    /** ZooKeeper requests the controller's state store sent (reads and transactions). */
    public long zooKeeperRoundTrips() {
        return store.roundTrips();
    }

    /**
     * A control message from node {@code from} (the connection's authenticated peer): acknowledgements and
     * controlled-shutdown requests. Any thread, never blocks; malformed messages are logged and dropped.
     */
    public void receive(String from, byte[] body) {
        ControlMessage m;
        try {
            m = ControlCodec.decode(body);
        } catch (ControlCodec.MalformedControlMessageException e) {
            log.warn(
                    "controller candidate {}: dropped a malformed control message from {}: {}",
                    b.nodeId,
                    from,
                    e.getMessage());
            return;
        }
        receive(from, m);
    }

    /** As {@link #receive(String, byte[])}, for a message already decoded. */
    public void receive(String from, ControlMessage m) {
        run(() -> {
            if (term == null) {
                return;
            }
            if (m instanceof ControlMessage.AssignmentAck a && a.node().equals(from)) {
                term.acknowledged(a);
            } else if (m instanceof ControlMessage.ControlledShutdown s
                    && s.node().equals(from)) {
                term.controlledShutdown(s);
            } else if (m instanceof ControlMessage.TermEnded t && t.node().equals(from)) {
                term.core.termEnded(t.node(), t.nodeEpoch(), t.partition(), t.leaderEpoch());
                term.pump();
            } else if (m instanceof ControlMessage.ChangeReady c && c.node().equals(from)) {
                term.core.changeReady(
                        c.node(), c.nodeEpoch(), c.partition(), c.leaderEpoch(), c.configurationVersion());
                term.pump();
            }
        });
    }

    /**
     * Asks for the given partitions to be led by their preferred replica (Kafka's preferred-replica election); only
     * on the active controller.
     *
     * @return the partitions that will move, once the controller thread ran the request
     * @throws IllegalStateException if this node is not the controller
     */
    public java.util.concurrent.CompletableFuture<List<String>> electPreferred(
            java.util.Collection<String> partitions) {
        java.util.concurrent.CompletableFuture<List<String>> f = new java.util.concurrent.CompletableFuture<>();
        run(() -> {
            if (term == null) {
                f.completeExceptionally(new IllegalStateException(b.nodeId + " is not the controller"));
                return;
            }
            List<String> moving = term.core.electPreferred(partitions);
            term.pump();
            f.complete(moving);
        });
        return f;
    }

    /**
     * Starts moving {@code partition} to the replica set {@code target}, preferred leader first (Kafka's partition
     * reassignment, KIP-455; docs/controller.md, "Reassignment"); only on the active controller. The future completes
     * once the request is recorded, with the partition's state then; the reassignment goes on in the background
     * ({@link #status()} shows its progress: the state's target, learners and previous replicas) and survives a
     * change of controller once its first state is written.
     *
     * @return the partition's state when the request was taken; fails with {@link IllegalArgumentException} naming
     *     what is wrong for bad input (unknown partition, empty target, a node named twice, a node not registered, a
     *     reassignment to another target in progress), and with {@link IllegalStateException} if this node is not the
     *     controller
     */
    public java.util.concurrent.CompletableFuture<PartitionState> reassign(String partition, List<String> target) {
        java.util.concurrent.CompletableFuture<PartitionState> f = new java.util.concurrent.CompletableFuture<>();
        run(() -> {
            if (term == null) {
                f.completeExceptionally(new IllegalStateException(b.nodeId + " is not the controller"));
                return;
            }
            try {
                PartitionState s = term.core.reassign(partition, target);
                term.pump();
                f.complete(s);
            } catch (IllegalArgumentException | NullPointerException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        timer.shutdownNow();
        election.close();
        run(() -> leaveOffice(null, "closed"));
        thread.shutdown();
        Thread w = worker;
        if (w != null && !b.client.getZookeeperClient().isConnected()) {
            // A read or write waiting for the connection, with its retries, would hold this close for up to 10 s (the
            // partition sets' read did, 9 s, whenever ZooKeeper was down). Interrupted, it gives up as on any other
            // failure (the next controller reads everything again); leaveOffice, queued behind it, touches no
            // ZooKeeper. The executor runs each later task with the interrupt cleared.
            w.interrupt();
        }
        try {
            if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
        if (liveNodes != null) {
            liveNodes.close();
        }
    }

    private void run(Runnable task) {
        try {
            thread.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.error("controller candidate {}: task failed", b.nodeId, e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed
        }
    }

    private void takeOffice(LeadershipToken token) {
        if (closed || !election.isCurrent(token)) {
            return;
        }
        leaveOffice(null, "a newer term");
        try {
            liveNodes.awaitInitialized(Duration.ofSeconds(30)); // the registrations, read at least once
            Map<String, VersionedState> states = store.readAll();
            Term t = new Term(token);
            t.core.takeOffice(liveNodes.snapshot().values(), states.values());
            term = t;
            termsHeld.incrementAndGet();
            log.info(
                    "node {} is the controller in epoch {}: {} nodes, {} partitions",
                    b.nodeId,
                    token.epoch(),
                    t.core.liveNodes().size(),
                    states.size());
            // The partition sets and the deletions in progress are read before the first write or assignment
            // (Term.pump waits for them): a partition being deleted gets no new term and is assigned to no node,
            // which may have deleted its replica already (docs/controller.md, rule 14).
            setStore.ensurePaths();
            watchPartitions();
            reconcileSets();
            t.pump();
        } catch (Exception e) {
            log.error(
                    "node {}: taking office as controller in epoch {} failed; stepping down",
                    b.nodeId,
                    token.epoch(),
                    e);
            term = null;
            publishStatus();
            stepDownLater(token);
        }
    }

    private void leaveOffice(LeadershipToken token, String why) {
        if (term != null && (token == null || term.token.equals(token))) {
            log.info("node {} is no longer the controller of epoch {}: {}", b.nodeId, term.token.epoch(), why);
            term = null;
            publishStatus();
        }
    }

    private void stepDownLater(LeadershipToken token) {
        Thread t = new Thread(
                () -> {
                    try {
                        election.stepDown(token, Duration.ofSeconds(1), Duration.ofSeconds(10));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (RuntimeException e) {
                        log.warn("node {}: stepping down as controller failed", b.nodeId, e);
                    }
                },
                "tenure-controller-step-down-" + b.nodeId);
        t.setDaemon(true);
        t.start();
    }

    /** Watches {@code P/partitions} for new partitions (the watch is set again at every event). */
    private void watchPartitions() {
        if (term == null || closed) {
            return; // armed again when this node next takes office
        }
        Watcher watcher = (WatchedEvent e) -> run(this::watchPartitions);
        try {
            List<String> children = b.client.getChildren().usingWatcher(watcher).forPath(partitionsPath);
            term.discover(children);
        } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
            try {
                b.client.checkExists().usingWatcher(watcher).forPath(partitionsPath);
            } catch (Exception again) {
                log.warn("controller {}: cannot watch {}", b.nodeId, partitionsPath, again);
            }
        } catch (Exception e) {
            log.warn("controller {}: cannot list {}; trying again", b.nodeId, partitionsPath, e);
            try {
                java.util.concurrent.Future<?> unused =
                        timer.schedule(() -> run(this::watchPartitions), 1, TimeUnit.SECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // closed meanwhile: nothing to watch for
            }
        }
    }

    private boolean reconcileQueued;
    /**
     * The one watcher of the admin requests: ZooKeeper keeps a watcher object once per node, so reading again and
     * again (every 100 ms while a set is being created or deleted) does not pile up watchers.
     */
    private final Watcher setsWatcher = (WatchedEvent e) -> run(this::reconcileSets);

    /** Reads the partition sets and requests again soon (once, however often asked). */
    private void reconcileLater() {
        if (reconcileQueued || closed) {
            return;
        }
        reconcileQueued = true;
        try {
            java.util.concurrent.Future<?> unused = timer.schedule(
                    () -> run(() -> {
                        reconcileQueued = false;
                        reconcileSets();
                    }),
                    100,
                    TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            reconcileQueued = false;
        }
    }

    /**
     * Reads the partition sets and the admin requests (watching the requests) and takes the next steps {@link
     * dev.tenure.controller.core.PartitionSets#decide} gives, again until none writes to ZooKeeper.
     */
    private void reconcileSets() {
        for (int round = 0; round < 20; round++) {
            Term t = term;
            if (t == null || closed) {
                return;
            }
            dev.tenure.controller.zookeeper.PartitionSetStore.View view;
            try {
                view = setStore.read(
                        setsWatcher, (path, why) -> log.warn("controller {}: ignoring {}: {}", b.nodeId, path, why));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                log.warn("controller {}: cannot read the partition sets; trying again: {}", b.nodeId, e.toString());
                reconcileLater();
                return;
            }
            t.sets = view;
            t.setsRead = true;
            boolean wrote = false;
            if (view.preferredElection().isPresent()) {
                List<String> asked = view.preferredElection().get();
                List<String> moving =
                        t.core.electPreferred(asked.isEmpty() ? t.core.states().keySet() : asked);
                log.info("controller {}: preferred-leader election moves {} partitions", b.nodeId, moving.size());
                if (!applied(t, setStore::removePreferredElection)) {
                    return;
                }
                wrote = true;
            }
            List<dev.tenure.controller.core.PartitionSets.Action> actions =
                    dev.tenure.controller.core.PartitionSets.decide(
                            view.sets(),
                            view.createRequests(),
                            view.deleteRequests(),
                            t.core.liveNodes(),
                            t.core.states(),
                            t.core.deleting());
            // Every deletion in progress, and every one about to be recorded, is known to the core before any other
            // step (which may fail and end this round) and before the next requests go out: a partition being
            // deleted is then never given a term or assigned (docs/controller.md, rule 14).
            for (dev.tenure.controller.core.PartitionSets.Action a : actions) {
                if (a instanceof dev.tenure.controller.core.PartitionSets.DeletePartitions d) {
                    t.core.deletePartitions(d.partitions());
                } else if (a instanceof dev.tenure.controller.core.PartitionSets.MarkDeleting m) {
                    t.core.deletePartitions(m.record().set().partitionIds());
                }
            }
            for (dev.tenure.controller.core.PartitionSets.Action a : actions) {
                if (a instanceof dev.tenure.controller.core.PartitionSets.CreatePartitions c) {
                    try {
                        t.core.createPartitions(c.replicaSets(), true);
                    } catch (IllegalArgumentException e) {
                        log.warn(
                                "controller {}: cannot create partitions of {}: {}",
                                b.nodeId,
                                c.name(),
                                e.getMessage());
                    }
                } else if (!(a instanceof dev.tenure.controller.core.PartitionSets.DeletePartitions)) { // taken above
                    log.info("controller {}: {}", b.nodeId, a);
                    if (!applied(t, token -> setStore.apply(token, a))) {
                        return;
                    }
                    wrote = true;
                }
            }
            t.pump();
            if (!wrote) {
                return;
            }
        }
        reconcileLater();
    }

    /** A fenced step of a set's creation or deletion: whether it went through; a fenced one ends the term. */
    private boolean applied(Term t, CheckedStep step) {
        dev.tenure.controller.zookeeper.PartitionSetStore.Outcome o;
        try {
            o = step.apply(t.token);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        switch (o) {
            case APPLIED:
                return true;
            case FENCED:
                writesFenced.incrementAndGet();
                leaveOffice(t.token, "fenced");
                stepDownLater(t.token);
                return false;
            default:
                reconcileLater(); // read again and decide again
                return false;
        }
    }

    @FunctionalInterface
    private interface CheckedStep {
        dev.tenure.controller.zookeeper.PartitionSetStore.Outcome apply(LeadershipToken token)
                throws InterruptedException;
    }

    private void tellPeers() {
        try {
            b.peers.accept(Set.copyOf(liveNodes.snapshot().keySet()));
        } catch (RuntimeException e) {
            log.warn("controller candidate {}: telling the peers failed", b.nodeId, e);
        }
    }

    private void resendUnacknowledged() {
        if (term != null) {
            term.resendUnacknowledged();
        }
    }

    private void rebalance() {
        if (term != null) {
            List<String> moving = term.core.rebalance(b.imbalanceThresholdPercent);
            if (!moving.isEmpty()) {
                log.info(
                        "controller {}: rebalancing moves {} partitions to their preferred leaders",
                        b.nodeId,
                        moving.size());
            }
            term.pump();
        }
    }

    private void publishStatus() {
        Term t = term;
        status = t == null
                ? Status.INACTIVE
                : new Status(
                        true,
                        t.token.epoch(),
                        Map.copyOf(t.core.liveNodes()),
                        Collections.unmodifiableMap(new LinkedHashMap<>(t.core.states())),
                        Set.copyOf(t.core.shuttingDown()));
    }

    /** One term in office (controller thread only). */
    private final class Term {
        final LeadershipToken token;
        final ControllerCore core;
        long nextRequestId;
        /** Per node: unacknowledged request ids and when the oldest was sent. */
        final Map<String, Set<Long>> unacknowledged = new HashMap<>();

        final Map<String, Long> sentAt = new HashMap<>();
        /** Unacknowledged requests to delete replicas: their partitions, by request id. */
        final Map<Long, List<String>> stopRequests = new HashMap<>();
        /** The partition sets and admin requests as last read. */
        dev.tenure.controller.zookeeper.PartitionSetStore.View sets;
        /** Per node: the registration the unacknowledged requests were addressed to. */
        final Map<String, Long> sentToEpoch = new HashMap<>();

        Term(LeadershipToken token) {
            this.token = token;
            this.core = new ControllerCore(b.nodeId, token.epoch());
        }

        /**
         * Whether the partition sets were read in this term: until then nothing is written or sent, so that no
         * partition being deleted is given a term or assigned.
         */
        boolean setsRead;

        /** Writes until the core has nothing to write, then sends the requests (once the sets were read). */
        void pump() {
            if (!setsRead) {
                return; // reconcileSets pumps once it has read them
            }
            long startedAt = System.currentTimeMillis();
            int written = 0;
            while (term == this) {
                List<StateWrite> writes = core.pendingWrites();
                if (writes.isEmpty()) {
                    break;
                }
                written += writes.size();
                List<PartitionStateStore.WriteOutcome> outcomes;
                try {
                    outcomes = store.write(token, writes);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (IllegalStateException e) {
                    // The ZooKeeper client was closed under the controller (its node is stopping): the term is over.
                    log.warn("controller {} of epoch {}: cannot write: {}", b.nodeId, token.epoch(), e.toString());
                    leaveOffice(token, "its ZooKeeper client is closed");
                    return;
                }
                boolean fenced = false;
                for (int i = 0; i < writes.size(); i++) {
                    PartitionStateStore.WriteOutcome o = outcomes.get(i);
                    String p = writes.get(i).partition();
                    if (o instanceof PartitionStateStore.Written w) {
                        core.written(w.state());
                    } else if (o instanceof PartitionStateStore.Fenced) {
                        fenced = true;
                    } else {
                        refresh(p); // a conflict or an unknown outcome: read what is there, decide again
                    }
                }
                if (fenced) {
                    writesFenced.incrementAndGet();
                    log.warn(
                            "controller {} of epoch {}: a write was fenced: a newer controller exists",
                            b.nodeId,
                            token.epoch());
                    leaveOffice(token, "fenced");
                    stepDownLater(token);
                    return;
                }
            }
            long writtenAt = System.currentTimeMillis();
            List<LeaderAndReplicas> requests = core.drainRequests();
            send(requests);
            if (written > 0) {
                long sentAt = System.currentTimeMillis();
                lastWriteRound = new WriteRound(startedAt, writtenAt, sentAt, written, requests.size());
                log.info(
                        "controller {} of epoch {}: wrote {} partition states in {} ms, then sent {} assignments in"
                                + " {} ms",
                        b.nodeId,
                        token.epoch(),
                        written,
                        writtenAt - startedAt,
                        requests.size(),
                        sentAt - writtenAt);
            }
            stopAndRemove();
            publishStatus();
            if (term == this
                    && sets != null
                    && sets.sets().values().stream()
                            .anyMatch(st ->
                                    st.record().status() != dev.tenure.controller.core.PartitionSets.Status.CREATED)) {
                reconcileLater(); // a creation or deletion in progress may have moved on
            }
        }

        void refresh(String partition) {
            for (int attempt = 0; ; attempt++) {
                try {
                    core.refreshed(partition, store.read(partition));
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Exception e) {
                    if (attempt >= 2) {
                        log.warn("controller {}: cannot read partition {}; it stays as it was", b.nodeId, partition, e);
                        core.refreshed(
                                partition, Optional.ofNullable(core.states().get(partition)));
                        return;
                    }
                }
            }
        }

        void send(List<LeaderAndReplicas> requests) {
            for (LeaderAndReplicas r : requests) {
                Set<Long> ids = new HashSet<>();
                for (LeaderAndReplicas part : ControlCodec.split(r, MAX_PARTITIONS_PER_ASSIGNMENT)) {
                    long id = nextRequestId++;
                    ids.add(id);
                    b.sender.accept(r.node(), ControlCodec.encode(new ControlMessage.Assignment(id, part)));
                    assignmentsSent.incrementAndGet();
                }
                unacknowledged.computeIfAbsent(r.node(), k -> new HashSet<>()).addAll(ids);
                sentAt.putIfAbsent(r.node(), System.nanoTime());
                sentToEpoch.put(r.node(), r.nodeEpoch());
            }
        }

        void acknowledged(ControlMessage.AssignmentAck a) {
            if (a.controllerEpoch() != token.epoch()) {
                return;
            }
            if (a.result() == ControlMessage.AssignmentResult.STALE_CONTROLLER_EPOCH) {
                log.warn(
                        "controller {} of epoch {}: node {} has seen controller epoch {}",
                        b.nodeId,
                        token.epoch(),
                        a.node(),
                        a.highestControllerEpoch());
                return;
            }
            Set<Long> ids = unacknowledged.get(a.node());
            if (ids != null && ids.remove(a.requestId()) && ids.isEmpty()) {
                unacknowledged.remove(a.node());
                sentAt.remove(a.node());
            }
            List<String> stopped = stopRequests.remove(a.requestId());
            if (stopped != null && a.result() == ControlMessage.AssignmentResult.APPLIED) {
                core.replicasDeleted(a.node(), stopped);
                pump();
            }
        }

        /** Sends the requests to delete replicas, and removes the partitions whose every replica is deleted. */
        void stopAndRemove() {
            core.drainStopRequests().forEach((node, partitions) -> {
                NodeRegistration r = core.liveNodes().get(node);
                if (r == null) {
                    return;
                }
                long id = nextRequestId++;
                stopRequests.put(id, partitions);
                b.sender.accept(
                        node,
                        ControlCodec.encode(new ControlMessage.StopReplicas(
                                id, token.epoch(), b.nodeId, node, r.nodeEpoch(), partitions)));
                assignmentsSent.incrementAndGet();
                unacknowledged.computeIfAbsent(node, k -> new HashSet<>()).add(id);
                sentAt.putIfAbsent(node, System.nanoTime());
                sentToEpoch.put(node, r.nodeEpoch());
            });
            boolean removedAny = false;
            for (String p : core.removable()) {
                dev.tenure.controller.zookeeper.PartitionSetStore.Outcome o;
                try {
                    o = setStore.removePartition(token, p);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                switch (o) {
                    case APPLIED -> {
                        core.removed(p);
                        removedAny = true;
                        log.info("controller {}: partition {} deleted", b.nodeId, p);
                    }
                    case FENCED -> {
                        writesFenced.incrementAndGet();
                        leaveOffice(token, "fenced");
                        stepDownLater(token);
                        return;
                    }
                    default -> reconcileLater();
                }
            }
            if (removedAny) {
                run(Controller.this::reconcileSets);
            }
        }

        void resendUnacknowledged() {
            long now = System.nanoTime();
            List<String> late = new ArrayList<>();
            sentAt.forEach((node, at) -> {
                if (now - at >= b.assignmentRetry.toNanos()) {
                    late.add(node);
                }
            });
            for (String node : late) {
                unacknowledged.remove(node);
                sentAt.remove(node);
                core.tellAgain(node);
                assignmentsResent.incrementAndGet();
            }
            if (!late.isEmpty()) {
                pump();
            }
        }

        void controlledShutdown(ControlMessage.ControlledShutdown s) {
            ControllerCore.ShutdownProgress before = core.controlledShutdown(s.node(), s.nodeEpoch());
            if (before.accepted()) {
                pump();
            }
            ControllerCore.ShutdownProgress now =
                    before.accepted() ? core.controlledShutdown(s.node(), s.nodeEpoch()) : before;
            b.sender.accept(
                    s.node(),
                    ControlCodec.encode(new ControlMessage.ControlledShutdownProgress(
                            token.epoch(), s.node(), s.nodeEpoch(), now.accepted(), now.leading(), now.movable())));
        }

        /** Partitions listed under {@code P/partitions} that the controller has no state for: create their state. */
        void discover(List<String> children) {
            Map<String, List<String>> fresh = new LinkedHashMap<>();
            for (String id : children) {
                if (core.states().containsKey(id)) {
                    continue;
                }
                try (ZooKeeperConfiguration config =
                        new ZooKeeperConfiguration(b.client, ZKPaths.makePath(partitionsPath, id))) {
                    fresh.put(id, config.read().configuration().voters());
                } catch (Exception e) {
                    log.debug("controller {}: partition {} has no replica set yet", b.nodeId, id, e);
                }
            }
            if (!fresh.isEmpty()) {
                try {
                    core.createPartitions(fresh);
                } catch (IllegalArgumentException e) {
                    log.warn("controller {}: cannot create partition states: {}", b.nodeId, e.getMessage());
                }
                pump();
            }
        }
    }

    @Override
    public String toString() {
        return "Controller[" + b.nodeId + ", "
                + (status.active() ? "active in epoch " + status.controllerEpoch() : "candidate") + "]";
    }
}
