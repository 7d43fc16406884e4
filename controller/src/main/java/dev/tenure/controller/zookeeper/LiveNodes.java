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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ThreadUtils;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's view of the nodes' registrations under {@code P/nodes}: a snapshot, and a listener told of each
 * registration and deregistration.
 *
 * <p>It watches the children of {@code P/nodes} and, on every change (and after every reconnection), lists them and
 * reads every registration again, its requests in flight together, then compares node epochs (czxids) with what it
 * knew. So a node that bounced — its registration deleted and created again, even while this client was
 * disconnected and only the result is visible — is reported as a registration with a higher node epoch. (Curator's
 * {@code CuratorCache} reports a node replaced while disconnected by one with the same version as no change at all.)
 * Registration data is immutable: a change in place of a known registration's data is ignored.
 *
 * <p>A registration that cannot be used — a name that is not a node id, data that is not a {@code tenure-node 1}
 * record of that node with a valid endpoint, a node that is not ephemeral — is logged, left out of the snapshot and
 * counted ({@link #malformedCount()}, once per node name and czxid); it never stops the view.
 *
 * <h2>Threads and ordering</h2>
 *
 * One thread owned by the view reads ZooKeeper and calls the listener, one callback at a time and in order: first
 * {@link Listener#initialized} once with the first complete view, then {@link Listener#registered} and {@link
 * Listener#deregistered} for each difference found by each later read. The snapshot is updated before the callbacks
 * of a read run. Keep callbacks short (the next read waits for them). A failed read is retried after the back-off.
 * Events can be late and several changes can collapse into one (a node that registered and left between two reads is
 * never reported); the node epochs tell what is newer. Start once; {@link #close()} is idempotent and stops the
 * thread. Public methods are thread-safe.
 */
public final class LiveNodes implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(LiveNodes.class);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    private static final int MALFORMED_REMEMBERED = 10_000;

    /** Told of the registrations; on the view's thread, one callback at a time and in order. */
    public interface Listener {
        /**
         * The first complete view (empty if {@code P/nodes} has no registration). By default, {@link #registered} for
         * each; a controller that takes office with the whole view overrides it.
         */
        default void initialized(Map<String, NodeRegistration> nodes) {
            nodes.values().forEach(this::registered);
        }

        /**
         * A node registered, or registered again with a higher node epoch than the one reported before: then it
         * bounced (restarted, or came back in a new session), and its previous registration is over.
         */
        default void registered(NodeRegistration registration) {}

        /** The registration of {@code node} with {@code nodeEpoch} is gone, and the node has none now. */
        default void deregistered(String node, long nodeEpoch) {}
    }

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final CuratorFramework client;
    private final String nodesPath;
    private final Listener listener;
    private final Duration retryBackoff;
    private final ScheduledThreadPoolExecutor executor;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final AtomicBoolean refreshQueued = new AtomicBoolean();
    private final CuratorWatcher watcher = this::watched;
    private final ConnectionStateListener connectionListener = (c, s) -> {
        if (s == ConnectionState.CONNECTED || s == ConnectionState.RECONNECTED) {
            queueRefresh();
        }
    };
    private final CompletableFuture<Map<String, NodeRegistration>> initialized = new CompletableFuture<>();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private volatile Map<String, NodeRegistration> snapshot = Map.of();

    // Confined to the view's thread.
    private final Set<String> malformedSeen = new java.util.HashSet<>();

    private LiveNodes(Builder b) {
        this.client = b.client;
        this.nodesPath = ControllerPaths.nodes(b.clusterPath);
        this.listener = b.listener;
        this.retryBackoff = b.retryBackoff;
        this.executor = new ScheduledThreadPoolExecutor(1, ThreadUtils.newThreadFactory("tenure-live-nodes"));
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** The view of the cluster at {@code clusterPath}, told to {@code listener}, with the default settings. */
    public LiveNodes(CuratorFramework client, String clusterPath, Listener listener) {
        this(builder(client, clusterPath).listener(listener));
    }

    /** A builder for the view of the cluster at {@code clusterPath}. */
    public static Builder builder(CuratorFramework client, String clusterPath) {
        return new Builder(client, clusterPath);
    }

    /** Builds a {@link LiveNodes}. Every setting has a default. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String clusterPath;
        private Listener listener = new Listener() {};
        private Duration retryBackoff = Duration.ofSeconds(1);

        private Builder(CuratorFramework client, String clusterPath) {
            this.client = Preconditions.checkNotNull(client, "client");
            this.clusterPath = ControllerPaths.checkClusterPath(clusterPath);
        }

        /** The listener; none by default. */
        public Builder listener(Listener listener) {
            this.listener = Preconditions.checkNotNull(listener, "listener");
            return this;
        }

        /** The pause before reading again after a failed read; 1 s by default. */
        public Builder retryBackoff(Duration backoff) {
            Preconditions.checkArgument(backoff != null && backoff.toMillis() >= 1, "retry back-off must be >= 1 ms");
            this.retryBackoff = backoff;
            return this;
        }

        /** The view, not started. */
        public LiveNodes build() {
            return new LiveNodes(this);
        }
    }

    /**
     * Starts watching in the background.
     *
     * @throws IllegalStateException if started before or closed
     */
    public void start() {
        Preconditions.checkState(state.compareAndSet(State.LATENT, State.STARTED), "Cannot be started more than once");
        client.getConnectionStateListenable().addListener(connectionListener);
        queueRefresh();
    }

    /** The live registrations by node id, as of the latest complete read; empty before the first. Immutable. */
    public Map<String, NodeRegistration> snapshot() {
        return snapshot;
    }

    /**
     * Waits for the first complete view and returns it.
     *
     * @throws TimeoutException if there is none within {@code timeout}
     * @throws IllegalStateException if closed before
     */
    public Map<String, NodeRegistration> awaitInitialized(Duration timeout)
            throws InterruptedException, TimeoutException {
        Preconditions.checkState(state.get() != State.CLOSED, "closed");
        try {
            return initialized.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("closed before the first view", e.getCause());
        }
    }

    /** How many unusable registrations were seen (each node name and czxid once). */
    public long malformedCount() {
        return malformed.get();
    }

    /** How many complete reads of {@code P/nodes} were made. */
    public long readCount() {
        return reads.get();
    }

    /** Stops watching; idempotent. No callback starts after it returns (one running may finish). */
    @Override
    public void close() {
        State previous = state.getAndSet(State.CLOSED);
        if (previous == State.CLOSED) {
            return;
        }
        client.getConnectionStateListenable().removeListener(connectionListener);
        initialized.completeExceptionally(new IllegalStateException("closed"));
        executor.shutdownNow();
    }

    // ---- any thread ----

    private void watched(WatchedEvent event) {
        if (event.getType() != Watcher.Event.EventType.None) {
            queueRefresh();
        }
    }

    private void queueRefresh() {
        if (state.get() == State.STARTED && refreshQueued.compareAndSet(false, true)) {
            try {
                executor.execute(this::refresh);
            } catch (RejectedExecutionException closed) {
                // closed
            }
        }
    }

    // ---- the view's thread ----

    private void refresh() {
        refreshQueued.set(false); // a change from here on queues another read
        if (state.get() != State.STARTED) {
            return;
        }
        try {
            Map<String, NodeRegistration> read = read();
            if (read != null && state.get() == State.STARTED) {
                apply(read);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.info(
                    "reading the registrations under {} failed, retrying in {}: {}",
                    nodesPath,
                    retryBackoff,
                    e.toString());
            try {
                var unused = executor.schedule(this::queueRefresh, retryBackoff.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException closed) {
                // closed
            }
        }
    }

    /** The usable registrations under {@code P/nodes} now, or null if {@code P/nodes} is absent and now watched. */
    private Map<String, NodeRegistration> read() throws Exception {
        List<String> children;
        try {
            children = client.getChildren().usingWatcher(watcher).forPath(nodesPath);
        } catch (KeeperException.NoNodeException e) {
            if (client.checkExists().usingWatcher(watcher).forPath(nodesPath) != null) {
                queueRefresh(); // created meanwhile
                return null;
            }
            children = List.of();
        }
        Map<String, CuratorEvent> results = new ConcurrentHashMap<>();
        CountDownLatch done = new CountDownLatch(children.size());
        Map<String, NodeRegistration> found = new TreeMap<>();
        for (String child : children) {
            try {
                ControllerPaths.checkNodeId(child);
            } catch (IllegalArgumentException e) {
                unusable(child, 0, "registration node " + ZKPaths.makePath(nodesPath, child) + ": " + e.getMessage());
                done.countDown();
                continue;
            }
            client.getData()
                    .inBackground((c, event) -> {
                        results.put(child, event);
                        done.countDown();
                    })
                    .forPath(ZKPaths.makePath(nodesPath, child));
        }
        if (!done.await(READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("the registrations under " + nodesPath + " were not read in " + READ_TIMEOUT);
        }
        for (Map.Entry<String, CuratorEvent> e : results.entrySet()) {
            String child = e.getKey();
            CuratorEvent event = e.getValue();
            KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
            if (code == KeeperException.Code.NONODE) {
                continue; // gone since the listing
            }
            if (code != KeeperException.Code.OK) {
                throw KeeperException.create(code, event.getPath());
            }
            Stat stat = event.getStat();
            String path = ZKPaths.makePath(nodesPath, child);
            try {
                if (stat.getEphemeralOwner() == 0) {
                    throw new IllegalArgumentException("registration node " + path + " is not ephemeral");
                }
                String endpoint = NodeRegistrationRecord.decodeEndpoint(event.getData(), child, path);
                found.put(child, new NodeRegistration(child, stat.getCzxid(), endpoint));
            } catch (IllegalArgumentException malformedRecord) {
                unusable(child, stat.getCzxid(), malformedRecord.getMessage());
            }
        }
        reads.incrementAndGet();
        return found;
    }

    private void unusable(String child, long czxid, String why) {
        if (malformedSeen.size() >= MALFORMED_REMEMBERED) {
            malformedSeen.clear();
        }
        if (malformedSeen.add(child + "@" + czxid)) {
            malformed.incrementAndGet();
            log.warn("ignoring an unusable registration: {}", why);
        }
    }

    private void apply(Map<String, NodeRegistration> read) {
        Map<String, NodeRegistration> before = snapshot;
        Map<String, NodeRegistration> next = new TreeMap<>();
        List<NodeRegistration> registered = new java.util.ArrayList<>();
        for (NodeRegistration r : read.values()) {
            NodeRegistration known = before.get(r.node());
            if (known == null || r.nodeEpoch() > known.nodeEpoch()) {
                next.put(r.node(), r);
                registered.add(r);
            } else {
                if (r.nodeEpoch() < known.nodeEpoch() || !r.endpoint().equals(known.endpoint())) {
                    log.warn("ignoring registration {} of node {}: {} is known", r, r.node(), known);
                }
                next.put(r.node(), known);
            }
        }
        Map<String, NodeRegistration> gone = new TreeMap<>(before);
        gone.keySet().removeAll(next.keySet());
        snapshot = Collections.unmodifiableMap(next);
        if (!initialized.isDone()) {
            initialized.complete(snapshot);
            call(() -> listener.initialized(snapshot), "initialized");
            return;
        }
        for (NodeRegistration r : gone.values()) {
            log.info("node {} deregistered (node epoch {})", r.node(), r.nodeEpoch());
            call(() -> listener.deregistered(r.node(), r.nodeEpoch()), "deregistered");
        }
        for (NodeRegistration r : registered) {
            log.info("node {} registered: {}", r.node(), r);
            call(() -> listener.registered(r), "registered");
        }
    }

    private void call(Runnable callback, String name) {
        if (state.get() != State.STARTED) {
            return;
        }
        try {
            callback.run();
        } catch (RuntimeException e) {
            log.error("live nodes listener threw in {}", name, e);
        }
    }
}
