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
import dev.tenure.controller.core.LeaderAndReplicas;
import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.controller.core.NodeTerms;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.wire.ControlCodec;
import dev.tenure.controller.wire.ControlMessage;
import dev.tenure.replicator.Leadership;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.core.PromiseStore;
import dev.tenure.replicator.zookeeper.ZooKeeperNode;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's side of the controller: it applies the controller's assignments to the node's partitions, as their
 * {@link Leadership} ({@link ZooKeeperNode.LeadershipSource}), and asks the controller to move its leaderships in a
 * controlled shutdown.
 *
 * <p><b>Fencing</b> (docs/controller.md, rules 4 and 5). An assignment is applied only if it comes from the node it
 * names as controller (the connection's authenticated peer), is addressed to this node's current registration
 * ({@link ControlMessage.AssignmentResult#STALE_NODE_EPOCH} otherwise), and its controller epoch is not below the
 * highest this node has seen ({@link ControlMessage.AssignmentResult#STALE_CONTROLLER_EPOCH} otherwise). That highest
 * epoch is kept in a file, written and synced before an assignment of a higher epoch is applied, so a restart does
 * not forget it. Within an applied assignment, a partition's state is taken only if its leader epoch is above the one
 * known: an equal or older one changes nothing. An assignment or stop-replicas request changes nothing of a partition
 * that a request of the same controller term with a higher request id spoke of (rule 13): a late full assignment
 * drops no newer partition, and a late assignment gives back no replica a newer request deleted. Such a request is
 * still acknowledged as applied: it was, and what it carried is superseded.
 *
 * <p><b>Terms.</b> This node leads a partition in leader epoch {@code E} while the newest state it took names it
 * leader in {@code E} under its current registration; the partition's replica is told {@code elected(E)}, and
 * {@code revoked(E)} when that stops being true — a newer state, a new registration of this node (a restarted process
 * or a new session never continues a term of the previous registration), or the replica's own step-down (it was
 * fenced), after which {@code E} is never given again.
 *
 * <p><b>Configurations.</b> The controller's partition state holds the partition's configuration, one per leader epoch
 * (docs/controller.md, "Reassignment"): a replica told it leads {@code E} is told it with the configuration of the
 * state that gave it {@code E}, and every replica is handed each newer configuration it takes. The leader of a
 * reassignment reports each step ready ({@link ControlMessage.ChangeReady}) every second while its state is current:
 * in the learning phase once its replica sees every learner promised and within {@value #CATCH_UP_ENTRIES} entries of
 * its log end, in the joint phase once its replica asked to activate the joint configuration.
 *
 * <p>Thread-safe: every event runs on the agent's own thread, one at a time, so the replicas' {@link
 * Leadership.Events} are told in order. {@link #start} once; {@link #close} is idempotent.
 */
public final class NodeAgent implements ZooKeeperNode.LeadershipSource, Closeable {
    private static final Logger log = LoggerFactory.getLogger(NodeAgent.class);

    /** A learner within this many entries of its leader's log end counts as caught up (as with elections). */
    public static final long CATCH_UP_ENTRIES = 1_000;

    private final String self;
    private final PromiseStore controllerEpochs;
    private final Supplier<Optional<NodeRegistration>> registration;
    private final BiConsumer<String, byte[]> sender;
    private final ReplicaHost host;
    private final ExecutorService thread;
    private final ScheduledExecutorService timer;

    /** The rules, and the states taken (agent thread only). */
    private final NodeTerms terms;
    /** The replicas' terms (agent thread only). */
    private final Map<String, PartitionTerm> partitions = new HashMap<>();
    /** The registration the terms were given under (agent thread only). */
    private long nodeEpoch;
    /** The controller of the newest applied assignment (agent thread only). */
    private String controller;
    /** Partitions whose replica asked to activate a joint configuration: the leader epoch it asked in (agent thread). */
    private final Map<String, Long> activations = new HashMap<>();
    /** The status of this node's replica of a partition, if it is open (for a learner's catch-up). */
    private volatile java.util.function.Function<String, Optional<dev.tenure.replicator.Replica.Status>> replicaStatus =
            p -> Optional.empty();

    private long highestControllerEpoch;
    /** The controller and epoch of the newest applied assignment, for any thread (null before the first). */
    private volatile KnownController known;

    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong applied = new AtomicLong();
    private CompletableFuture<ControlMessage.ControlledShutdownProgress> shutdown;
    /** Reports given-up terms every second (see {@link #reportEndedTerms}). */
    private java.util.concurrent.ScheduledFuture<?> reporting;

    private boolean started;
    private volatile boolean closed;

    /**
     * @param self this node's id
     * @param controllerEpochs where the highest controller epoch seen is kept (a file in the node's data directory)
     * @param registration this node's current registration, if it has one
     * @param sender sends a control message's bytes to a node (best effort, never blocks)
     */
    public NodeAgent(
            String self,
            PromiseStore controllerEpochs,
            Supplier<Optional<NodeRegistration>> registration,
            BiConsumer<String, byte[]> sender) {
        this(self, controllerEpochs, registration, sender, ReplicaHost.NONE);
    }

    /**
     * As {@link #NodeAgent(String, PromiseStore, Supplier, BiConsumer)}, with a host that opens, closes and deletes
     * the node's replicas as the controller's requests say.
     *
     * @param host told of every state taken and asked to delete replicas ({@link ReplicaHost})
     */
    public NodeAgent(
            String self,
            PromiseStore controllerEpochs,
            Supplier<Optional<NodeRegistration>> registration,
            BiConsumer<String, byte[]> sender,
            ReplicaHost host) {
        this.host = Preconditions.checkNotNull(host, "host");
        this.self = PartitionState.checkNodeId(self);
        this.terms = new NodeTerms(self);
        this.controllerEpochs = Preconditions.checkNotNull(controllerEpochs, "controllerEpochs");
        this.registration = Preconditions.checkNotNull(registration, "registration");
        this.sender = Preconditions.checkNotNull(sender, "sender");
        this.thread = Executors.newSingleThreadExecutor(daemon("tenure-node-agent-" + self));
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("tenure-node-agent-timer-" + self));
    }

    /**
     * What hosts the node's replicas: told the states the node takes, so that it can open the partitions it is a
     * replica of and close those it no longer is, and asked to delete replicas ({@link ControlMessage.StopReplicas}).
     * Called on the agent's thread: must not block.
     */
    public interface ReplicaHost {
        /** A host that does nothing (partitions are opened and closed by the application). */
        ReplicaHost NONE = new ReplicaHost() {
            @Override
            public void statesChanged(Map<String, Optional<PartitionState>> states) {}

            @Override
            public CompletableFuture<Void> deleteReplicas(java.util.List<String> partitions) {
                return CompletableFuture.completedFuture(null);
            }
        };

        /**
         * The states taken for these partitions changed: the newest state held, or empty when a full assignment no
         * longer lists the partition (which alone never means that the partition is deleted: a partition opened on
         * this node may not be known to the controller yet).
         */
        void statesChanged(Map<String, Optional<PartitionState>> states);

        /**
         * Closes this node's replicas of {@code partitions} and deletes their data; the future completes once every
         * one is gone (one not hosted counts as gone) and fails if one could not be deleted.
         */
        CompletableFuture<Void> deleteReplicas(java.util.List<String> partitions);
    }

    /** A factory of one daemon thread named {@code name}. */
    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return new com.google.common.util.concurrent.ThreadFactoryBuilder()
                .setDaemon(true)
                .setNameFormat(name.replace("%", "%%"))
                .build();
    }

    /**
     * Loads the highest controller epoch seen.
     *
     * @throws IOException if its file cannot be read (a corrupt file is an error: the node must not forget)
     * @throws IllegalStateException if started twice or closed
     */
    public synchronized void start() throws IOException {
        Preconditions.checkState(!closed, "node agent %s is closed", self);
        Preconditions.checkState(!started, "node agent %s cannot be started more than once", self);
        started = true;
        highestControllerEpoch = controllerEpochs.load().epoch();
        reporting = timer.scheduleWithFixedDelay(() -> run(this::reportEndedTerms), 1, 1, TimeUnit.SECONDS);
    }

    /** The highest controller epoch this node has seen (kept across restarts). */
    public synchronized long highestControllerEpoch() {
        return highestControllerEpoch;
    }

    /**
     * The controller that sent the newest assignment this node applied since it started, and that assignment's
     * controller epoch; empty before the first. A node that is not the controller knows the controller this way.
     */
    public Optional<KnownController> knownController() {
        return Optional.ofNullable(known);
    }

    /**
     * A controller as a node knows it.
     *
     * @param id the controller's node id
     * @param epoch its controller epoch
     */
    public record KnownController(String id, long epoch) {}

    /** Assignments refused (stale controller or node epoch, or a sender that is not the controller it names). */
    public long refusedCount() {
        return refused.get();
    }

    /** Control messages that could not be decoded. */
    public long malformedCount() {
        return malformed.get();
    }

    /** Assignments applied. */
    public long appliedCount() {
        return applied.get();
    }

    /**
     * A control message from node {@code from} (the connection's authenticated peer); any thread, never blocks.
     * Malformed messages are counted and dropped.
     */
    public void receive(String from, byte[] body) {
        ControlMessage m;
        try {
            m = ControlCodec.decode(body);
        } catch (ControlCodec.MalformedControlMessageException e) {
            malformed.incrementAndGet();
            log.warn("node {}: dropped a malformed control message from {}: {}", self, from, e.getMessage());
            return;
        }
        receive(from, m);
    }

    /** As {@link #receive(String, byte[])}, for a message already decoded. */
    public void receive(String from, ControlMessage m) {
        run(() -> {
            if (m instanceof ControlMessage.Assignment a) {
                onAssignment(from, a);
            } else if (m instanceof ControlMessage.StopReplicas s) {
                onStopReplicas(from, s);
            } else if (m instanceof ControlMessage.ControlledShutdownProgress p) {
                onShutdownProgress(from, p);
            }
        });
    }

    /**
     * This node registered again (a new ZooKeeper session or a restart): every term of the previous registration is
     * over. Any thread.
     */
    public void registrationChanged() {
        run(this::endStaleTerms);
    }

    /**
     * The state of every partition as the newest assignments applied here say, by partition id (those never assigned
     * absent); empty if the agent does not answer within 5 s. Any thread.
     */
    public Map<String, PartitionState> states() {
        try {
            return CompletableFuture.supplyAsync(
                            () -> {
                                Map<String, PartitionState> m = new java.util.TreeMap<>();
                                for (String p : terms.partitions()) {
                                    terms.state(p).ifPresent(s -> m.put(p, s));
                                }
                                return java.util.Collections.unmodifiableMap(m);
                            },
                            thread)
                    .get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            return Map.of();
        }
    }

    /**
     * Asks the controller to move this node's leaderships (Kafka's controlled shutdown), again every {@code retry}
     * until it reports none left that another replica could take, or {@code timeout} passes.
     *
     * @return the last progress reported; completes exceptionally with a {@link java.util.concurrent.TimeoutException}
     *     if none said done in time (the node may stop anyway: its partitions then move when its session ends)
     */
    public CompletableFuture<ControlMessage.ControlledShutdownProgress> controlledShutdown(
            Duration retry, Duration timeout) {
        CompletableFuture<ControlMessage.ControlledShutdownProgress> done = new CompletableFuture<>();
        run(() -> {
            shutdown = done;
            askToShutDown();
        });
        java.util.concurrent.ScheduledFuture<?> again = timer.scheduleWithFixedDelay(
                () -> run(this::askToShutDown), retry.toNanos(), retry.toNanos(), TimeUnit.NANOSECONDS);
        return done.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS).whenComplete((p, e) -> again.cancel(false));
    }

    @Override
    public Leadership forPartition(String partition, Configuration configuration) {
        return new PartitionLeadership(partition);
    }

    /**
     * A joint configuration is activated by the controller: the replica's request is kept and reported to it ({@link
     * ControlMessage.ChangeReady}) while the newest state still has this node lead that epoch under that configuration.
     */
    @Override
    public dev.tenure.replicator.ConfigurationMaster configurationMaster(String partition) {
        return (epoch, joint) -> run(() -> {
            activations.put(partition, epoch);
            reportReady(partition);
        });
    }

    /**
     * Where the agent reads the status of this node's replica of a partition (for the catch-up of a reassignment's
     * learners); none by default. Any thread.
     */
    public void replicaStatus(
            java.util.function.Function<String, Optional<dev.tenure.replicator.Replica.Status>> status) {
        this.replicaStatus = Preconditions.checkNotNull(status, "status");
    }

    @Override
    public void close() {
        closed = true;
        java.util.concurrent.Future<?> r;
        synchronized (this) {
            r = reporting;
        }
        if (r != null) {
            r.cancel(false);
        }
        timer.shutdownNow();
        thread.shutdown();
        try {
            if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private void run(Runnable task) {
        if (closed) {
            return;
        }
        try {
            thread.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.error("node {}: node agent task failed", self, e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private void onAssignment(String from, ControlMessage.Assignment a) {
        LeaderAndReplicas r = a.request();
        long currentEpoch = registration.get().map(NodeRegistration::nodeEpoch).orElse(0L);
        if (!admit(from, r, a.requestId(), currentEpoch, "assignment")) {
            return;
        }
        Map<String, Optional<PartitionState>> changed = new java.util.LinkedHashMap<>();
        for (String p : terms.apply(r, a.requestId())) {
            partitions.computeIfAbsent(p, PartitionTerm::new).update();
            changed.put(p, terms.state(p));
        }
        applied.incrementAndGet();
        ack(r, a.requestId(), currentEpoch, r.controllerEpoch(), ControlMessage.AssignmentResult.APPLIED);
        if (!changed.isEmpty()) {
            tellHost(changed);
        }
    }

    private void tellHost(Map<String, Optional<PartitionState>> changed) {
        try {
            host.statesChanged(java.util.Collections.unmodifiableMap(changed));
        } catch (RuntimeException e) {
            log.warn("node {}: the replica host failed on {} changed states", self, changed.size(), e);
        }
    }

    /**
     * The controller asks this node to delete its replicas of some partitions: once admitted as an assignment is,
     * they are no longer led, the host closes them and deletes their data, and only then is the request acknowledged
     * (a request not acknowledged is sent again; deleting twice is harmless).
     */
    private void onStopReplicas(String from, ControlMessage.StopReplicas s) {
        LeaderAndReplicas r = s.header();
        long currentEpoch = registration.get().map(NodeRegistration::nodeEpoch).orElse(0L);
        if (!admit(from, r, s.requestId(), currentEpoch, "stop-replicas request")) {
            return;
        }
        terms.forget(s.partitions(), r.controllerEpoch(), s.requestId());
        for (String p : s.partitions()) {
            PartitionTerm t = partitions.get(p);
            if (t != null) {
                t.update();
            }
        }
        CompletableFuture<Void> deleted;
        try {
            deleted = host.deleteReplicas(s.partitions());
        } catch (RuntimeException e) {
            deleted = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<?> unused = deleted.whenComplete((v, e) -> {
            if (e != null) {
                log.warn(
                        "node {}: deleting replicas {} failed; the controller will ask again: {}",
                        self,
                        s.partitions(),
                        e.toString());
                return;
            }
            run(() -> {
                applied.incrementAndGet();
                ack(r, s.requestId(), currentEpoch, r.controllerEpoch(), ControlMessage.AssignmentResult.APPLIED);
            });
        });
    }

    /**
     * Whether request {@code r} (an assignment, or the header of another request) is taken: answers a refused one,
     * and keeps a higher controller epoch durably before returning true.
     */
    private boolean admit(String from, LeaderAndReplicas r, long requestId, long currentEpoch, String what) {
        long highest;
        synchronized (this) {
            highest = highestControllerEpoch;
        }
        NodeTerms.Verdict verdict = terms.check(from, r, currentEpoch, highest);
        if (verdict == NodeTerms.Verdict.STALE_NODE_EPOCH && r.node().equals(self) && r.nodeEpoch() > currentEpoch) {
            // Addressed to a registration of this node newer than the one its registrar has reported yet: the
            // controller can see a new registration (a new session) before the node does. Not applied, and not
            // answered, so that the controller sends it again once it is late; acknowledging it as stale would leave
            // the node without its assignment until the next change.
            log.info(
                    "node {}: {} {} from {} of controller {}@{} is for registration {}, newer than the one known"
                            + " here ({}): left unanswered until it is sent again",
                    self,
                    what,
                    requestId,
                    from,
                    r.controller(),
                    r.controllerEpoch(),
                    r.nodeEpoch(),
                    currentEpoch);
            return false;
        }
        if (verdict != NodeTerms.Verdict.APPLY) {
            refused.incrementAndGet();
            log.info(
                    "node {}: refused {} {} from {} of controller {}@{} for registration {}: {} (current"
                            + " registration {}, highest controller epoch seen {})",
                    self,
                    what,
                    requestId,
                    from,
                    r.controller(),
                    r.controllerEpoch(),
                    r.nodeEpoch(),
                    verdict,
                    currentEpoch,
                    highest);
            if (verdict == NodeTerms.Verdict.STALE_NODE_EPOCH) {
                ack(r, requestId, currentEpoch, highest, ControlMessage.AssignmentResult.STALE_NODE_EPOCH);
            } else if (verdict == NodeTerms.Verdict.STALE_CONTROLLER_EPOCH) {
                ack(r, requestId, currentEpoch, highest, ControlMessage.AssignmentResult.STALE_CONTROLLER_EPOCH);
            }
            return false; // a sender that is not the controller it names gets no answer
        }
        if (r.controllerEpoch() > highest) {
            try {
                controllerEpochs.store(new Promise(r.controllerEpoch(), r.controller()));
            } catch (IOException e) {
                log.error(
                        "node {}: could not keep controller epoch {}; {} not applied",
                        self,
                        r.controllerEpoch(),
                        what,
                        e);
                return false; // not acknowledged: the controller sends it again
            }
            synchronized (this) {
                highestControllerEpoch = r.controllerEpoch();
            }
        }
        controller = r.controller();
        known = new KnownController(r.controller(), r.controllerEpoch());
        endStaleTerms();
        return true;
    }

    private void ack(
            LeaderAndReplicas r, long requestId, long nodeEpoch, long highest, ControlMessage.AssignmentResult result) {
        send(
                r.controller(),
                new ControlMessage.AssignmentAck(r.controllerEpoch(), requestId, self, nodeEpoch, highest, result));
    }

    /** Ends every term given under a registration other than the current one. */
    private void endStaleTerms() {
        long current = registration.get().map(NodeRegistration::nodeEpoch).orElse(0L);
        if (current != nodeEpoch) {
            nodeEpoch = current;
            partitions.values().forEach(PartitionTerm::update);
        }
    }

    /**
     * Tells the controller of every term this node's replicas gave up that the newest state held still names: until
     * the controller gives the partition a new term, the report is sent again every second (it may be lost).
     */
    private void reportEndedTerms() {
        if (controller == null || nodeEpoch == 0) {
            return;
        }
        for (String p : terms.partitions()) {
            long given = terms.givenUp(p, nodeEpoch);
            if (given != 0) {
                send(controller, new ControlMessage.TermEnded(self, nodeEpoch, p, given));
            }
            reportReady(p);
        }
    }

    /**
     * Tells the controller that the reassignment of {@code partition} may take its next step, if this node leads the
     * newest state held and that step is ready here (see the class comment).
     */
    private void reportReady(String partition) {
        if (controller == null || nodeEpoch == 0) {
            return;
        }
        Optional<PartitionState> held = terms.state(partition);
        if (held.isEmpty() || !held.get().reassigning()) {
            activations.remove(partition);
            return;
        }
        PartitionState s = held.get();
        long leading = terms.leaderEpoch(partition, nodeEpoch);
        if (leading == 0 || leading != s.leaderEpoch()) {
            return;
        }
        boolean isReady;
        if (s.joint()) {
            Long asked = activations.get(partition);
            isReady = asked != null && asked == leading;
        } else {
            isReady = learnersCaughtUp(partition, s);
        }
        if (isReady) {
            send(
                    controller,
                    new ControlMessage.ChangeReady(self, nodeEpoch, partition, leading, s.configurationVersion()));
        }
    }

    /** Whether this node's replica leads {@code s}'s epoch and sees every learner promised and caught up. */
    private boolean learnersCaughtUp(String partition, PartitionState s) {
        Optional<dev.tenure.replicator.Replica.Status> status;
        try {
            status = replicaStatus.apply(partition);
        } catch (RuntimeException e) {
            return false;
        }
        if (status.isEmpty()
                || status.get().role() != dev.tenure.replicator.core.Role.LEADER
                || status.get().epoch() != s.leaderEpoch()) {
            return false;
        }
        for (String learner : s.learners()) {
            boolean caughtUp = status.get().followers().stream()
                    .anyMatch(f -> f.id().equals(learner) && f.promised() && f.lagEntries() <= CATCH_UP_ENTRIES);
            if (!caughtUp) {
                return false;
            }
        }
        return true;
    }

    private void askToShutDown() {
        Optional<NodeRegistration> r = registration.get();
        if (shutdown == null || shutdown.isDone()) {
            return;
        }
        if (controller == null || r.isEmpty()) {
            log.info("node {}: no controller known yet to ask for a controlled shutdown", self);
            return;
        }
        send(controller, new ControlMessage.ControlledShutdown(self, r.get().nodeEpoch()));
    }

    private void onShutdownProgress(String from, ControlMessage.ControlledShutdownProgress p) {
        if (shutdown == null || !from.equals(controller) || p.controllerEpoch() < highestControllerEpoch()) {
            return;
        }
        log.info("node {}: controlled shutdown: {} partitions led, {} still to move", self, p.leading(), p.movable());
        if (p.accepted() && p.movable() == 0) {
            shutdown.complete(p);
        }
    }

    private void send(String to, ControlMessage m) {
        try {
            sender.accept(to, ControlCodec.encode(m));
        } catch (RuntimeException e) {
            log.warn("node {}: could not send {} to {}: {}", self, m.getClass().getSimpleName(), to, e.toString());
        }
    }

    /** One partition's replica and the epoch it was told it leads (agent thread only). */
    private final class PartitionTerm {
        final String id;
        Leadership.Events events;
        /** The epoch the replica was told it leads, 0 if none. */
        long leading;

        PartitionTerm(String id) {
            this.id = id;
        }

        void update() {
            if (events == null) {
                return; // told once the replica starts
            }
            long should = terms.leaderEpoch(id, nodeEpoch);
            Optional<PartitionState> state = terms.state(id);
            if (should == leading) {
                state.ifPresent(s -> events.configured(s.configuration()));
                return;
            }
            if (leading != 0) {
                long ended = leading;
                leading = 0;
                events.revoked(ended);
            }
            if (should != 0 && state.isPresent() && state.get().leaderEpoch() == should) {
                leading = should;
                events.elected(should, state.get().configuration()); // the configuration of that epoch
            } else if (should != 0) {
                leading = should;
                events.elected(should);
            } else {
                state.ifPresent(s -> events.configured(s.configuration()));
            }
        }
    }

    /** The leadership of one partition's replica on this node. */
    private final class PartitionLeadership implements Leadership {
        private final String partition;

        PartitionLeadership(String partition) {
            this.partition = partition;
        }

        @Override
        public void start(Events events) {
            run(() -> {
                PartitionTerm t = partitions.computeIfAbsent(partition, PartitionTerm::new);
                t.events = events;
                t.leading = 0;
                t.update();
            });
        }

        @Override
        public void stepDown(long epoch) {
            run(() -> {
                terms.steppedDown(partition, epoch);
                PartitionTerm t = partitions.get(partition);
                if (t != null) {
                    t.update();
                }
                long given = terms.givenUp(partition, nodeEpoch);
                if (given != 0 && controller != null) {
                    send(controller, new ControlMessage.TermEnded(self, nodeEpoch, partition, given));
                }
            });
        }

        @Override
        public void close() {
            run(() -> {
                PartitionTerm t = partitions.get(partition);
                if (t != null) {
                    t.events = null;
                    t.leading = 0;
                }
            });
        }

        @Override
        public String toString() {
            return "NodeAgent.Leadership[" + self + "/" + partition + "]";
        }
    }

    @Override
    public String toString() {
        return "NodeAgent[" + self + "]";
    }
}
