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
import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.controller.wire.ControlCodec;
import dev.tenure.controller.wire.ControlMessage;
import dev.tenure.controller.zookeeper.NodeRegistrar;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.storage.FilePromiseStore;
import dev.tenure.replicator.zookeeper.ZooKeeperNode;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ZooKeeperNode} whose partitions take their leaders from the cluster's controller instead of an election
 * per partition: the node, its registration ({@link NodeRegistrar}), its {@link NodeAgent} and its {@link Controller}
 * candidacy, wired together.
 *
 * <pre>{@code
 * ControllerNode n = ControllerNode.builder(client, "/tenure/orders")
 *         .id("n1")
 *         .dataDir(Path.of("/var/lib/orders/n1"))
 *         .node(b -> b.bind(new InetSocketAddress("127.0.0.1", 7101)))
 *         .build();
 * n.start();
 * n.node().open("orders-7", List.of("n1", "n2", "n3"), new OrdersMachine());
 * }</pre>
 *
 * <p>Partitions are opened on the node as with elections ({@link ZooKeeperNode#open}, {@link ZooKeeperNode#openAll}):
 * the node creates a new partition's replica set in ZooKeeper, and the controller, which watches the partitions,
 * creates its state and names its first leader. The controller reaches the nodes, and the nodes it, over the node's
 * replication connections; messages between the controller and its own node stay in the process.
 *
 * <p>{@link #close} is a controlled shutdown: the node first asks the controller to move its leaderships (bounded by
 * {@link Builder#shutdownTimeout}), then leaves.
 *
 * <p>Thread-safe. Start once; close is idempotent.
 */
public final class ControllerNode implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ControllerNode.class);
    /** The file in the data directory that keeps the highest controller epoch seen. */
    public static final String CONTROLLER_EPOCH_FILE = "controller-epoch";

    private final Builder b;
    private NodeAgent agent;
    private ReplicaHosting hosting;
    private volatile ZooKeeperNode node;
    private NodeRegistrar registrar;
    private Controller controller;
    /** The registered nodes, as the controller candidacy last reported them. */
    private volatile Set<String> registered = Set.of();
    /** What the controlled shutdown took, once {@link #close} has done it. */
    private volatile ShutdownReport shutdownReport;

    private boolean started;
    private boolean closed;

    private ControllerNode(Builder b) {
        this.b = b;
    }

    /** A builder of a node of the cluster at {@code clusterPath}, through {@code client}. */
    public static Builder builder(CuratorFramework client, String clusterPath) {
        return new Builder(client, clusterPath);
    }

    /** Builds a {@link ControllerNode}; the id and the data directory are required. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String clusterPath;
        private String id;
        private Path dataDir;
        private UnaryOperator<ZooKeeperNode.Builder> node = UnaryOperator.identity();
        private UnaryOperator<Controller.Builder> controller = UnaryOperator.identity();
        private Duration shutdownTimeout = Duration.ofSeconds(10);
        private PartitionFactory partitionFactory;
        private Duration drainTimeout = Duration.ofSeconds(2);
        private Duration takeOverTimeout = Duration.ofSeconds(2);

        private Builder(CuratorFramework client, String clusterPath) {
            this.client = Preconditions.checkNotNull(client, "client");
            this.clusterPath = Preconditions.checkNotNull(clusterPath, "clusterPath");
        }

        /** This node's id (required). */
        public Builder id(String id) {
            this.id = id;
            return this;
        }

        /** The node's data directory (required): its partitions, and the highest controller epoch it has seen. */
        public Builder dataDir(Path dir) {
            this.dataDir = Preconditions.checkNotNull(dir, "dir");
            return this;
        }

        /**
         * Further settings of the node (bind address, TLS, log and snapshot settings...); its id, data directory,
         * leadership source and control inbound are this builder's.
         */
        public Builder node(UnaryOperator<ZooKeeperNode.Builder> settings) {
            this.node = Preconditions.checkNotNull(settings, "settings");
            return this;
        }

        /** Further settings of the controller candidacy (rebalance interval and threshold, assignment retry). */
        public Builder controller(UnaryOperator<Controller.Builder> settings) {
            this.controller = Preconditions.checkNotNull(settings, "settings");
            return this;
        }

        /** How long {@link #close} waits for the controller to move this node's leaderships; 10 s by default. */
        public Builder shutdownTimeout(Duration timeout) {
            Preconditions.checkArgument(!timeout.isNegative(), "timeout must not be negative");
            this.shutdownTimeout = timeout;
            return this;
        }

        /**
         * Makes the node open, by itself, every partition the controller names it a replica of and that it does not
         * host yet, with a state machine from {@code factory}: the partitions of partition sets created through the
         * controller, and partitions other nodes opened with this node among their replicas. Without a factory
         * (the default) the application opens its partitions with {@link ZooKeeperNode#open}. With or without one, a
         * replica the controller takes away from the node (its partition deleted, or the node no longer one of its
         * replicas) is closed and its data deleted.
         */
        public Builder partitionFactory(PartitionFactory factory) {
            this.partitionFactory = Preconditions.checkNotNull(factory, "factory");
            return this;
        }

        /**
         * How long {@link #close} waits for the proposals in flight on the partitions this node leads to finish
         * (commit, or fail) before it asks the controller to move them (the drain of a controlled shutdown); 2 s by
         * default. {@link Duration#ZERO} skips the drain: proposals in flight at the hand-off then may end with an
         * unknown outcome.
         */
        public Builder drainTimeout(Duration timeout) {
            Preconditions.checkArgument(!timeout.isNegative(), "timeout must not be negative");
            this.drainTimeout = timeout;
            return this;
        }

        /**
         * How long {@link #close}, once the controller moved this node's leaderships, waits for the new leaders to
         * take over (this node's replica of each drained partition follows its new leader and heard it commit in its
         * epoch) before it closes its replicas; 2 s by default. Closing a node's replicas takes CPU and disk the new
         * leaders' promise rounds need; a node closed at once made the move's last partitions seconds late under
         * load. {@link Duration#ZERO} closes at once.
         */
        public Builder takeOverTimeout(Duration timeout) {
            Preconditions.checkArgument(!timeout.isNegative(), "timeout must not be negative");
            this.takeOverTimeout = timeout;
            return this;
        }

        /** The node, not started. */
        public ControllerNode build() {
            dev.tenure.controller.core.PartitionState.checkNodeId(id);
            Preconditions.checkState(dataDir != null, "a data directory must be set");
            return new ControllerNode(this);
        }
    }

    /**
     * Starts the node, registers it, and joins the controller election.
     *
     * @throws IllegalStateException if started twice or closed
     */
    public synchronized void start() throws Exception {
        Preconditions.checkState(!closed, "node %s is closed", b.id);
        Preconditions.checkState(!started, "node %s cannot be started more than once", b.id);
        started = true;
        Files.createDirectories(b.dataDir);
        hosting = new ReplicaHosting(b.id, b.dataDir.resolve("partitions"), () -> node, b.partitionFactory);
        agent = new NodeAgent(
                b.id,
                new FilePromiseStore(b.dataDir.resolve(CONTROLLER_EPOCH_FILE)),
                this::registration,
                this::send,
                hosting);
        agent.start();
        node = b.node.apply(ZooKeeperNode.builder(b.client, b.clusterPath))
                .id(b.id)
                .dataDir(b.dataDir)
                .leadershipSource(agent)
                .controlInbound(this::receive)
                .build();
        node.start();
        ZooKeeperNode started = node;
        agent.replicaStatus(id -> started.partition(id).map(p -> p.replica().status()));
        InetSocketAddress at = node.replicationAddress();
        registrar = NodeRegistrar.builder(b.client, b.clusterPath)
                .nodeId(b.id)
                .endpoint(at.getHostString() + ":" + at.getPort())
                .listener(r -> agent.registrationChanged())
                .build();
        registrar.start();
        agent.registrationChanged();
        controller = b.controller
                .apply(Controller.builder(b.client, b.clusterPath))
                .nodeId(b.id)
                .sender(this::send)
                .peers(ids -> {
                    registered = ids;
                    if (!isClosed()) {
                        node.controlPeers(ids);
                    }
                })
                .build();
        controller.start();
    }

    /** The node: open partitions and propose through it. */
    public ZooKeeperNode node() {
        Preconditions.checkState(node != null, "node %s is not started", b.id);
        return node;
    }

    /** This node's controller candidacy. */
    public Controller controller() {
        Preconditions.checkState(controller != null, "node %s is not started", b.id);
        return controller;
    }

    /** This node's agent of the controller. */
    public NodeAgent agent() {
        Preconditions.checkState(agent != null, "node %s is not started", b.id);
        return agent;
    }

    /** This node's current registration, if it has one. */
    public Optional<NodeRegistration> registration() {
        NodeRegistrar r = registrar;
        if (r == null) {
            return Optional.empty();
        }
        try {
            return r.current();
        } catch (IllegalStateException closed) {
            return Optional.empty(); // closed: a node that has left has no registration
        }
    }

    /**
     * What this node's controlled shutdown took, phase by phase, once {@link #close} has returned; empty before, and
     * after {@link #closeWithoutHandOver} or a close of a node that was never started.
     */
    public Optional<ShutdownReport> shutdownReport() {
        return Optional.ofNullable(shutdownReport);
    }

    /**
     * What a controlled shutdown took ({@link #shutdownReport}), as the stopping node saw it. Immutable; thread-safe.
     *
     * @param drained the partitions this node led that another registered replica could take, each drained
     * @param drainMillis how long the drain took, from the start of {@link #close} (0 if there was nothing to drain)
     * @param stillInFlight of the drained partitions, those that still had proposals in flight at the drain's end
     *     (its timeout, {@link Builder#drainTimeout})
     * @param moved whether the controller reported the move done within {@link Builder#shutdownTimeout}
     * @param moveMillis from asking the controller to move this node's leaderships until it reported them moved (or
     *     until the request failed or timed out)
     * @param leftLeading the partitions this node still led at the end, that no other replica could take (-1 if the
     *     controller did not report the move done)
     * @param takenOver of the drained partitions, those whose new leader took over (this node's replica followed it and
     *     heard it commit in its epoch) before the node closed them ({@link Builder#takeOverTimeout})
     * @param takeOverMillis how long the node waited for the take-over after the move (0 if the move did not finish)
     * @param closeMillis how long closing the controller candidacy, the replicas, the registration and the node took
     *     after the move and the take-over
     */
    public record ShutdownReport(
            int drained,
            long drainMillis,
            int stillInFlight,
            boolean moved,
            long moveMillis,
            int leftLeading,
            int takenOver,
            long takeOverMillis,
            long closeMillis) {}

    private synchronized boolean isClosed() {
        return closed;
    }

    private void send(String to, byte[] body) {
        if (to.equals(b.id)) {
            receive(b.id, body); // the controller and its own node: no connection to oneself
        } else if (node != null) {
            node.sendControl(to, body);
        }
    }

    /** Decodes a control message once and hands it to the agent and to the controller candidacy. */
    private void receive(String from, byte[] body) {
        NodeAgent a = agent;
        Controller c = controller;
        ControlMessage m;
        try {
            m = ControlCodec.decode(body);
        } catch (ControlCodec.MalformedControlMessageException e) {
            if (a != null) {
                a.receive(from, body); // counts and logs it
            }
            return;
        }
        if (a != null) {
            a.receive(from, m);
        }
        if (c != null) {
            c.receive(from, m);
        }
    }

    /**
     * Stops without asking the controller to move this node's leaderships first (as a crash would, except that the
     * registration is deleted at once): its partitions move once the controller sees the registration end.
     */
    public void closeWithoutHandOver() {
        close(false);
    }

    /**
     * A controlled shutdown: asks the controller to move this node's leaderships (waiting at most {@link
     * Builder#shutdownTimeout}), then leaves the election, ends the registration and closes the node. Idempotent.
     */
    @Override
    public void close() {
        close(true);
    }

    private void close(boolean handOver) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        boolean controlled = handOver && agent != null && registrar != null && !b.shutdownTimeout.isZero();
        long started = System.nanoTime();
        Drain drain = Drain.NONE;
        boolean moved = false;
        int takenOver = 0;
        long takeOverMillis = 0;
        long moveMillis = 0;
        int left = -1;
        if (controlled) {
            drain = drain();
            long asked = System.nanoTime();
            try {
                ControlMessage.ControlledShutdownProgress done = agent.controlledShutdown(
                                Duration.ofMillis(200), b.shutdownTimeout)
                        .get(b.shutdownTimeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
                moved = true;
                left = done.leading();
                log.info(
                        "node {}: the controller moved its leaderships in {} ms ({} left that no other replica can"
                                + " take)",
                        b.id,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked),
                        done.leading());
            } catch (ExecutionException | TimeoutException e) {
                log.warn("node {}: controlled shutdown did not finish ({}); leaving anyway", b.id, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            moveMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked);
            if (moved) {
                long waited = System.nanoTime();
                takenOver = awaitTakeOver(drain.handedOver());
                takeOverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - waited);
            }
        }
        long drainMillis = controlled
                ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) - moveMillis - takeOverMillis
                : 0;
        long closing = System.nanoTime();
        if (controller != null) {
            controller.close();
        }
        if (hosting != null) {
            hosting.close();
        }
        if (registrar != null) {
            registrar.close();
        }
        if (node != null) {
            node.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (controlled) {
            shutdownReport = new ShutdownReport(
                    drain.handedOver().size(),
                    drainMillis,
                    drain.stillInFlight(),
                    moved,
                    moveMillis,
                    left,
                    takenOver,
                    takeOverMillis,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing));
        }
    }

    /**
     * The drain of a controlled shutdown (docs/controller.md, "Controlled shutdown"): every partition this node leads
     * that another registered replica can take stops taking proposals — refusing them with a {@code
     * NotLeaderException} naming the replica expected to lead next, the first other registered replica in assignment
     * order, as the controller chooses — and the proposals in flight finish in the current term; at most {@link
     * Builder#drainTimeout}. Only then is the controller asked to move the leaderships, so that no new leader fences a
     * term with proposals still in flight. A partition no other replica can take keeps taking proposals (the
     * controller leaves it here until the node stops).
     *
     * @return the partitions drained, with the epoch each was led in, and how many still had proposals in flight at
     *     the end
     */
    private Drain drain() {
        if (b.drainTimeout.isZero() || node == null) {
            return Drain.NONE;
        }
        Set<String> live = registered;
        Map<String, dev.tenure.controller.core.PartitionState> held = agent.states();
        List<CompletableFuture<Boolean>> drains = new ArrayList<>();
        List<HandedOver> handedOver = new ArrayList<>();
        for (ZooKeeperNode.Partition p : node.partitions().values()) {
            Replica.Status status = p.replica().status();
            if (status.role() != dev.tenure.replicator.core.Role.LEADER) {
                continue;
            }
            dev.tenure.controller.core.PartitionState s = held.get(p.id());
            List<String> replicas = s != null ? s.replicas() : p.replicas();
            Optional<String> successor = replicas.stream()
                    .filter(r -> !r.equals(b.id) && live.contains(r))
                    .findFirst();
            if (successor.isPresent()) {
                drains.add(p.replica().handOff(successor.get(), b.drainTimeout));
                handedOver.add(new HandedOver(p.replica(), status.epoch()));
            }
        }
        if (drains.isEmpty()) {
            return Drain.NONE;
        }
        long start = System.nanoTime();
        try {
            CompletableFuture.allOf(drains.toArray(new CompletableFuture<?>[0]))
                    .get(b.drainTimeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("node {}: draining the partitions it leads did not finish ({})", b.id, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long open = drains.stream().filter(f -> !f.isDone() || !f.getNow(false)).count();
        log.info(
                "node {}: drained {} partitions in {} ms{}",
                b.id,
                drains.size(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                open == 0 ? "" : "; " + open + " still had proposals in flight after " + b.drainTimeout);
        return new Drain(handedOver, (int) open);
    }

    /** A drain's partitions (their replicas here, with the epoch each led) and how many still had proposals in flight. */
    private record Drain(List<HandedOver> handedOver, int stillInFlight) {
        static final Drain NONE = new Drain(List.of(), 0);
    }

    /** A drained partition's replica on this node, and the epoch it led. */
    private record HandedOver(Replica replica, long epoch) {}

    /**
     * After the controller moved the drained partitions: waits, at most {@link Builder#takeOverTimeout}, for each one's
     * new leader to take over ({@link Replica#awaitTakeOver}), this node's replica serving meanwhile as a follower.
     *
     * @return how many took over in time
     */
    private int awaitTakeOver(List<HandedOver> handedOver) {
        if (handedOver.isEmpty() || b.takeOverTimeout.isZero()) {
            return 0;
        }
        List<CompletableFuture<Long>> takeOvers = new ArrayList<>();
        for (HandedOver h : handedOver) {
            takeOvers.add(h.replica().awaitTakeOver(h.epoch()));
        }
        try {
            CompletableFuture.allOf(takeOvers.toArray(new CompletableFuture<?>[0]))
                    .get(b.takeOverTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // Counted below; the node closes anyway.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int done = (int) takeOvers.stream()
                .filter(f -> f.isDone() && !f.isCompletedExceptionally())
                .count();
        log.info(
                "node {}: {} of {} partitions it handed over were taken over before it closed them",
                b.id,
                done,
                takeOvers.size());
        return done;
    }

    @Override
    public String toString() {
        return "ControllerNode[" + b.id + "]";
    }
}
