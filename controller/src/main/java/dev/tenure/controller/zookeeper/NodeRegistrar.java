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
package dev.tenure.controller.zookeeper;

import com.google.common.base.Preconditions;
import dev.tenure.controller.core.NodeRegistration;
import java.io.Closeable;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ThreadUtils;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers a node as the EPHEMERAL node {@code P/nodes/ID} holding its endpoint, and registers it again in every new
 * ZooKeeper session. Each registration's <em>node epoch</em> is the czxid of the node it created (KIP-380): a new
 * registration has a higher one, so the controller can tell a node that came back from the one it knew, and the node
 * refuses requests addressed to an earlier registration.
 *
 * <pre>{@code
 * NodeRegistrar registrar = NodeRegistrar.builder(client, "/tenure/cluster-a")
 *         .nodeId("n1")
 *         .endpoint("10.0.0.7:7001")
 *         .listener(registration -> agent.registrationChanged(registration))
 *         .build();
 * registrar.start();
 * }</pre>
 *
 * <h2>An existing node</h2>
 *
 * Before it creates the node, or when the create finds it there (KAFKA-1029: a create retried after a lost reply
 * finds the node it made), the registrar reads the node's {@code ephemeralOwner}:
 *
 * <ul>
 *   <li>the current session, with this registrar's record: it is this registration; adopted.
 *   <li>a session this registrar had before (KAFKA-7165: the node of an abandoned session outlives it for a while):
 *       deleted (conditional on its version) and created again, with a new node epoch.
 *   <li>any other session, alive (another process with the same id, or this node's previous incarnation, restarted
 *       before its session expired — which a {@code ZooKeeperNode} started first has ended already, with {@code
 *       PreviousSession}), or a node that is not ephemeral: never deleted. The registrar logs it at WARN and
 *       tries again when the node is deleted (a watch) and after a bounded exponential back-off, until it can create
 *       its own.
 * </ul>
 *
 * The conditional delete cannot check the node's creator: if, within the one round trip between reading and
 * deleting the node of an abandoned session, that session ends and another process with the same id registers, its
 * node may be deleted. That needs two live processes with one id, a misconfiguration that the WARN above reports.
 *
 * <h2>Lifecycle, threads and failures</h2>
 *
 * Start once ({@link IllegalStateException} "Cannot be started more than once"); {@link #close()} is idempotent and
 * deletes this registration's node (a controlled stop: the controller hears of it at once rather than after the
 * session timeout). All ZooKeeper work runs on one thread owned by the registrar; a failed attempt (no connection,
 * an error) is retried after the back-off. The listener runs on that thread too, one call at a time and in order:
 * with the new registration once its node exists, and with none when it is over — its session ended (Curator's {@code
 * LOST}), its node was found deleted or replaced, or the registrar closed. Keep calls short; they may call {@link
 * #current()} and {@link #close()}. Public methods are thread-safe. After close, {@link #current()} and {@link #awaitRegistration} throw
 * {@link IllegalStateException}.
 */
public final class NodeRegistrar implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(NodeRegistrar.class);
    /** How many of this registrar's earlier sessions it remembers. */
    private static final int SESSIONS_REMEMBERED = 64;
    /** How long {@link #close()} waits for the registration's node to be deleted. */
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    /**
     * Told of each registration and of its end. Called on the registrar's thread, one at a time and in order; a call
     * that throws is logged and otherwise ignored.
     */
    @FunctionalInterface
    public interface Listener {
        /**
         * The registration changed. Present: the new registration is in ZooKeeper, with a node epoch above every
         * earlier one. Empty: the registration told before is over (its session ended, its node was deleted or
         * replaced, or the registrar closed); a new one follows unless the registrar closed.
         */
        void changed(Optional<NodeRegistration> registration);
    }

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final CuratorFramework client;
    private final String node;
    private final String path;
    private final String endpoint;
    private final byte[] data;
    private final Listener listener;
    private final Duration minBackoff;
    private final Duration maxBackoff;
    private final ScheduledExecutorService executor;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final ConnectionStateListener connectionListener = (c, s) -> connectionStateChanged(s);
    private final CuratorWatcher nodeWatcher = this::nodeEvent;
    private final AtomicLong registrations = new AtomicLong();
    private final AtomicLong foreignOwnerWaits = new AtomicLong();
    private final AtomicLong staleNodesReplaced = new AtomicLong();
    private final Object monitor = new Object();
    private volatile NodeRegistration current;
    private volatile Thread controlThread;

    // Confined to the registrar's thread.
    private long registeredSession;
    private final Set<Long> ownSessions = new LinkedHashSet<>();
    private ScheduledFuture<?> retry;
    private Duration backoff;
    private long lastForeignOwner;

    private NodeRegistrar(Builder b) {
        this.client = b.client;
        this.node = b.node;
        this.path = ControllerPaths.node(b.clusterPath, b.node);
        this.endpoint = b.endpoint;
        this.data = NodeRegistrationRecord.encode(node, endpoint);
        this.listener = b.listener;
        this.minBackoff = b.minBackoff;
        this.maxBackoff = b.maxBackoff;
        this.backoff = b.minBackoff;
        ScheduledThreadPoolExecutor e =
                new ScheduledThreadPoolExecutor(1, ThreadUtils.newThreadFactory("tenure-registrar-" + node));
        e.setRemoveOnCancelPolicy(true);
        e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.executor = e;
    }

    /** A builder for the registrar of a node in the cluster at {@code clusterPath}. */
    public static Builder builder(CuratorFramework client, String clusterPath) {
        return new Builder(client, clusterPath);
    }

    /** Builds a {@link NodeRegistrar}. The node id and the endpoint must be set. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String clusterPath;
        private String node;
        private String endpoint;
        private Listener listener = registration -> {};
        private Duration minBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(5);

        private Builder(CuratorFramework client, String clusterPath) {
            this.client = Preconditions.checkNotNull(client, "client");
            this.clusterPath = ControllerPaths.checkClusterPath(clusterPath);
        }

        /**
         * The node's id.
         *
         * @throws IllegalArgumentException if it is not a valid node id ({@link ControllerPaths#checkNodeId})
         */
        public Builder nodeId(String node) {
            this.node = ControllerPaths.checkNodeId(node);
            return this;
        }

        /**
         * The node's endpoint, {@code HOST:PORT} (an IP address or a host name, a port from 1 to 65535).
         *
         * @throws IllegalArgumentException if it is not one
         */
        public Builder endpoint(String endpoint) {
            this.endpoint = NodeRegistrationRecord.checkEndpoint(endpoint);
            return this;
        }

        /** The listener of registrations; none by default. */
        public Builder listener(Listener listener) {
            this.listener = Preconditions.checkNotNull(listener, "listener");
            return this;
        }

        /**
         * The back-off between attempts to register (after a failure, or while another session holds the node),
         * doubling from {@code min} to {@code max}; 100 ms to 5 s by default.
         */
        public Builder retryBackoff(Duration min, Duration max) {
            Preconditions.checkArgument(min != null && min.toMillis() >= 1, "min back-off must be >= 1 ms");
            Preconditions.checkArgument(max != null && max.compareTo(min) >= 0, "max back-off must be >= min");
            this.minBackoff = min;
            this.maxBackoff = max;
            return this;
        }

        /**
         * @throws IllegalStateException if the node id or the endpoint was not set
         */
        public NodeRegistrar build() {
            Preconditions.checkState(node != null, "the node id is not set");
            Preconditions.checkState(endpoint != null, "the endpoint of node %s is not set", node);
            return new NodeRegistrar(this);
        }
    }

    /**
     * Starts registering in the background.
     *
     * @throws IllegalStateException if started before or closed
     */
    public void start() {
        Preconditions.checkState(state.compareAndSet(State.LATENT, State.STARTED), "Cannot be started more than once");
        client.getConnectionStateListenable().addListener(connectionListener);
        submit(this::ensureRegistered);
    }

    /** The node's id. */
    public String node() {
        return node;
    }

    /** The registration node's path, {@code P/nodes/ID}. */
    public String path() {
        return path;
    }

    /**
     * The current registration, as far as this registrar knows; empty before the first and between a registration's
     * end and the next. It can be stale by the time it takes to hear of a session's end.
     *
     * @throws IllegalStateException if closed
     */
    public Optional<NodeRegistration> current() {
        checkNotClosed();
        return Optional.ofNullable(current);
    }

    /**
     * Waits until the node is registered and returns the registration.
     *
     * @throws TimeoutException if it is not registered within {@code timeout}
     * @throws IllegalStateException if closed (also while waiting)
     */
    public NodeRegistration awaitRegistration(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (monitor) {
            while (true) {
                checkNotClosed();
                NodeRegistration r = current;
                if (r != null) {
                    return r;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException("node " + node + " did not register within " + timeout);
                }
                TimeUnit.NANOSECONDS.timedWait(monitor, left);
            }
        }
    }

    /** How many registrations this registrar made (created or adopted). */
    public long registrationCount() {
        return registrations.get();
    }

    /** How many times it found the node held by another live session, and waited. */
    public long foreignOwnerWaits() {
        return foreignOwnerWaits.get();
    }

    /** How many nodes of its own earlier sessions it deleted to register again (KAFKA-7165). */
    public long staleNodesReplaced() {
        return staleNodesReplaced.get();
    }

    /**
     * Deletes this registration's node (if it is still this registration's) and stops; waits up to 10 s for the
     * delete. While the client is not connected to ZooKeeper it deletes nothing and returns at once: the ephemeral
     * node goes with the session, as after a crash, and the listener is told once the registrar's thread is free
     * (it may be in a call waiting for the connection). The listener is told the registration is over. Idempotent;
     * a registrar never started just closes.
     */
    @Override
    public void close() {
        State previous = state.getAndSet(State.CLOSED);
        synchronized (monitor) {
            monitor.notifyAll();
        }
        if (previous == State.CLOSED) {
            return;
        }
        if (previous == State.LATENT) {
            executor.shutdownNow();
            return;
        }
        client.getConnectionStateListenable().removeListener(connectionListener);
        Future<?> deregistered;
        try {
            deregistered = executor.submit(guarded(this::deregister));
        } catch (RejectedExecutionException e) {
            return;
        }
        executor.shutdown();
        if (Thread.currentThread() == controlThread) {
            return; // closed from a callback: the delete runs after it
        }
        if (!client.getZookeeperClient().isConnected()) {
            // Nothing to wait for: the task deletes nothing while disconnected (below), and the registrar's thread
            // may be in a call waiting for a connection. The task ends the registration once the thread is free.
            return;
        }
        try {
            deregistered.get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("node {}: could not delete its registration {} on close; it goes with the session", node, path, e);
        }
        executor.shutdownNow();
    }

    // ---- the registrar's thread ----

    private void ensureRegistered() {
        if (state.get() != State.STARTED) {
            return;
        }
        long session;
        try {
            if (!client.getZookeeperClient().isConnected()) {
                scheduleRetry(); // and the next CONNECTED or RECONNECTED comes back here
                return;
            }
            session = client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            scheduleRetry();
            return;
        }
        rememberSession(session);
        NodeRegistration r = current;
        if (r != null && registeredSession == session) {
            return; // still this session's registration; the watch on the node tells if it goes
        }
        if (r != null) {
            end(r, "its session 0x" + Long.toHexString(registeredSession) + " ended");
        }
        try {
            register();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("node {}: registering at {} failed, retrying in {}: {}", node, path, backoff, e.toString());
            scheduleRetry();
        }
    }

    private void register() throws Exception {
        for (int attempt = 0; attempt < 10; attempt++) {
            if (state.get() != State.STARTED) {
                return;
            }
            Stat created = new Stat();
            try {
                client.create()
                        .storingStatIn(created)
                        .creatingParentsIfNeeded()
                        .withMode(CreateMode.EPHEMERAL)
                        .forPath(path, data);
                registered(created, "registered");
                return;
            } catch (KeeperException.NodeExistsException exists) {
                // read whose it is
            }
            Stat stat = new Stat();
            byte[] found;
            try {
                found = client.getData()
                        .storingStatIn(stat)
                        .usingWatcher(nodeWatcher)
                        .forPath(path);
            } catch (KeeperException.NoNodeException gone) {
                continue;
            }
            long owner = stat.getEphemeralOwner();
            long session = client.getZookeeperClient().getZooKeeper().getSessionId();
            if (owner == session && Arrays.equals(found, data)) {
                registered(stat, "adopted its node (made by a create whose reply was lost)");
                return;
            }
            if (owner != 0 && owner != session && ownSessions.contains(owner)) {
                try {
                    client.delete().withVersion(stat.getVersion()).forPath(path);
                    staleNodesReplaced.incrementAndGet();
                    log.info(
                            "node {}: deleted the registration {} of its earlier session 0x{} to register again",
                            node,
                            path,
                            Long.toHexString(owner));
                } catch (KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
                    // gone or changed meanwhile: look again
                }
                continue;
            }
            waitForOwner(owner, session);
            return;
        }
        scheduleRetry();
    }

    private void waitForOwner(long owner, long session) {
        foreignOwnerWaits.incrementAndGet();
        String whose = owner == 0
                ? "a node that is not ephemeral (made by hand?)"
                : owner == session
                        ? "a node of this session with another record (another registrar of node " + node
                                + " on this client?)"
                        : "another live ZooKeeper session 0x" + Long.toHexString(owner)
                                + " (another process with the same id, or this node's previous incarnation whose"
                                + " session has not expired yet)";
        if (owner != lastForeignOwner) {
            lastForeignOwner = owner;
            log.warn(
                    "node {} cannot register: {} is held by {}. It is not deleted; node {} registers once it is"
                            + " gone, trying again when it is deleted and every {} to {}",
                    node,
                    path,
                    whose,
                    node,
                    minBackoff,
                    maxBackoff);
        } else {
            log.info("node {}: {} is still held by {}; trying again in {}", node, path, whose, backoff);
        }
        scheduleRetry();
    }

    private void registered(Stat stat, String how) throws Exception {
        long owner = stat.getEphemeralOwner();
        rememberSession(owner);
        registeredSession = owner;
        lastForeignOwner = 0;
        backoff = minBackoff;
        cancelRetry();
        NodeRegistration r = new NodeRegistration(node, stat.getCzxid(), endpoint);
        current = r;
        registrations.incrementAndGet();
        synchronized (monitor) {
            monitor.notifyAll();
        }
        log.info(
                "node {} {} at {}: node epoch {}, session 0x{}",
                node,
                how,
                path,
                r.nodeEpoch(),
                Long.toHexString(owner));
        try {
            listener.changed(Optional.of(r));
        } catch (RuntimeException e) {
            log.error("registration listener of node {} threw when told of {}", node, r, e);
        }
        verify(); // sets the watch on the node; finds at once if it is already gone
    }

    /** Checks that the current registration's node is still there (and watches it); registers again if not. */
    private void verify() {
        if (state.get() != State.STARTED) {
            return;
        }
        NodeRegistration r = current;
        if (r == null) {
            ensureRegistered();
            return;
        }
        Stat stat;
        try {
            stat = client.checkExists().usingWatcher(nodeWatcher).forPath(path);
        } catch (Exception e) {
            scheduleRetry();
            return;
        }
        if (stat == null || stat.getCzxid() != r.nodeEpoch()) {
            end(r, stat == null ? "its node was deleted" : "its node was replaced");
            ensureRegistered();
        }
    }

    private void end(NodeRegistration r, String why) {
        if (!java.util.Objects.equals(current, r)) {
            return;
        }
        current = null;
        log.info("node {}: registration of node epoch {} is over: {}", node, r.nodeEpoch(), why);
        try {
            listener.changed(Optional.empty());
        } catch (RuntimeException e) {
            log.error("registration listener of node {} threw when told {} is over", node, r, e);
        }
    }

    private void sessionLost() {
        NodeRegistration r = current;
        if (r == null) {
            return;
        }
        try {
            CuratorZookeeperClient zk = client.getZookeeperClient();
            if (zk.isConnected() && zk.getZooKeeper().getSessionId() == registeredSession) {
                return; // a late LOST of an earlier session: this registration was made in the current one
            }
        } catch (Exception e) {
            // no current session: the registration's is the one lost
        }
        end(r, "its session 0x" + Long.toHexString(registeredSession) + " was lost");
    }

    private void deregister() {
        cancelRetry();
        NodeRegistration r = current;
        if (r == null) {
            return;
        }
        if (!client.getZookeeperClient().isConnected()) {
            // The delete would wait for a connection (up to the close's 10 s); the node is ephemeral and goes with
            // the session anyway, as after a crash. Deleting it later in the background is not safe: the check that
            // it is still this registration's needs a read first.
            log.info("node {}: not connected on close; its registration {} goes with the session", node, path);
            end(r, "the registrar closed");
            return;
        }
        try {
            Stat stat = client.checkExists().forPath(path);
            if (stat != null && stat.getCzxid() == r.nodeEpoch() && stat.getEphemeralOwner() == registeredSession) {
                client.delete().withVersion(stat.getVersion()).forPath(path);
                log.info("node {} deleted its registration {} (node epoch {})", node, path, r.nodeEpoch());
            }
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
            // not ours any more
        } catch (Exception e) {
            log.warn(
                    "node {}: could not delete its registration {}; it goes with the session: {}",
                    node,
                    path,
                    e.toString());
        }
        end(r, "the registrar closed");
    }

    private void rememberSession(long session) {
        if (session == 0) {
            return;
        }
        ownSessions.remove(session);
        ownSessions.add(session);
        if (ownSessions.size() > SESSIONS_REMEMBERED) {
            ownSessions.remove(ownSessions.iterator().next());
        }
    }

    private void scheduleRetry() {
        if (state.get() != State.STARTED) {
            return;
        }
        cancelRetry();
        Duration delay = backoff;
        backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
        try {
            retry = executor.schedule(guarded(this::verify), delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            // closing
        }
    }

    private void cancelRetry() {
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
    }

    // ---- any thread ----

    private void nodeEvent(WatchedEvent event) {
        if (event.getType() != org.apache.zookeeper.Watcher.Event.EventType.None) {
            submit(this::verify);
        }
    }

    private void connectionStateChanged(ConnectionState newState) {
        switch (newState) {
            case CONNECTED:
            case RECONNECTED:
                submit(this::ensureRegistered);
                break;
            case LOST:
                submit(this::sessionLost);
                break;
            default:
                break;
        }
    }

    private void submit(Runnable task) {
        try {
            executor.execute(guarded(task));
        } catch (RejectedExecutionException closed) {
            // closed
        }
    }

    /** {@code task} as run on the registrar's thread: a failure is logged and retried after the back-off. */
    private Runnable guarded(Runnable task) {
        return () -> {
            controlThread = Thread.currentThread();
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("node {}: registrar task failed", node, e);
                scheduleRetry();
            }
        };
    }

    private void checkNotClosed() {
        Preconditions.checkState(state.get() != State.CLOSED, "registrar of node %s is closed", node);
    }
}
