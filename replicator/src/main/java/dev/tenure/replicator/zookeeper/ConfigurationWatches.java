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

import com.google.common.base.Preconditions;
import dev.tenure.replicator.core.Configuration;
import java.io.Closeable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration watches of a {@link ZooKeeperNode}'s partitions: ZooKeeper's one-time data watches, set by the
 * reads the node makes anyway, instead of a Curator {@code CuratorCache} per partition, which cost every partition
 * two more requests per node when it opened (add the watch, read the node: a fifth of what opening 1,000 partitions
 * asked of ZooKeeper, docs/partitions.md "Opening many partitions").
 *
 * <p>How a partition's configuration is watched:
 *
 * <ol>
 *   <li>the bootstrap's read of {@code partitions/ID/configuration} carries {@link #watcher}{@code (ID)}, so the
 *       watch is set from that read on (a partition created here, or opened by the synchronous path, set none:
 *       {@link #unwatched});
 *   <li>{@link #listen} registers the partition's listener once the partition is open; if the watch fired in
 *       between, or none was set, it reads the node again (with the watch) and calls the listener with what it reads;
 *   <li>each time the watch fires, the node is read again with the watch set anew, and the listener called with the
 *       configuration read: a change between the firing and the read is in what is read, and the new watch covers
 *       every later one (as with any ZooKeeper one-time watch, changes in between may be seen as one: listeners get
 *       the newest configuration, not every step);
 *   <li>a read that fails (the connection lost) is retried when the connection is back; a new session (the old one
 *       expired, and its watches with it) reads every partition's node again; a configuration node that does not
 *       exist is watched for its creation ({@code exists}).
 * </ol>
 *
 * <p>Thread-safe. Listeners run on Curator's event thread, one partition's in the order ZooKeeper answered its reads
 * (which is the order of its versions), and must not block. A node that cannot be decoded is logged and skipped, as
 * {@link ZooKeeperConfiguration#watch} does. Nothing is called for a partition after its registration is closed.
 */
final class ConfigurationWatches implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ConfigurationWatches.class);

    private final CuratorFramework client;
    private final UnaryOperator<String> configurationPath;
    private final Map<String, Watched> watched = new ConcurrentHashMap<>();
    private final AtomicLong sessionId = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final ConnectionStateListener connection = (c, state) -> connectionChanged(state);

    /**
     * @param configurationPath a partition id's configuration node
     */
    ConfigurationWatches(CuratorFramework client, UnaryOperator<String> configurationPath) {
        this.client = Preconditions.checkNotNull(client, "client");
        this.configurationPath = Preconditions.checkNotNull(configurationPath, "configurationPath");
        this.sessionId.set(currentSession());
        client.getConnectionStateListenable().addListener(connection);
    }

    /**
     * The watcher for the reads of partition {@code id}'s configuration node that come before {@link #listen}: what
     * it sees is delivered once the partition listens.
     */
    CuratorWatcher watcher(String id) {
        return entry(id).watcher;
    }

    /** Partition {@code id}'s configuration was read without this watch set: {@link #listen} reads it once. */
    void unwatched(String id) {
        Watched w = entry(id);
        synchronized (w) {
            w.stale = true;
        }
    }

    /**
     * Calls {@code listener} with partition {@code id}'s configuration each time its node changes from the read that
     * set the watch on (or once now, read anew, if it changed since or was read without the watch). Close the result
     * to stop.
     *
     * @throws IllegalStateException if the partition has a listener already
     */
    Registration listen(String id, Consumer<Configuration> listener) {
        Preconditions.checkNotNull(listener, "listener");
        Watched w = entry(id);
        synchronized (w) {
            Preconditions.checkState(w.listener == null && !w.closed, "partition %s is watched already", id);
            w.listener = listener;
            if (w.stale) {
                w.stale = false;
                read(w);
            }
        }
        return () -> forget(id, w);
    }

    /** A partition's listening; closing it is idempotent and throws nothing. */
    interface Registration extends Closeable {
        @Override
        void close();
    }

    /** Forgets partition {@code id}'s watch (its open failed before it listened, or it closed). */
    void forget(String id) {
        Watched w = watched.get(id);
        if (w != null) {
            forget(id, w);
        }
    }

    /** The reads this sent after the bootstrap's (for tests: what watching costs ZooKeeper). */
    long reads() {
        return reads.get();
    }

    @Override
    public void close() {
        client.getConnectionStateListenable().removeListener(connection);
        for (Map.Entry<String, Watched> e : watched.entrySet()) {
            forget(e.getKey(), e.getValue());
        }
    }

    private void forget(String id, Watched w) {
        synchronized (w) {
            w.closed = true;
            w.listener = null;
        }
        watched.remove(id, w);
    }

    private Watched entry(String id) {
        return watched.computeIfAbsent(id, i -> new Watched(i, configurationPath.apply(i)));
    }

    private void fired(Watched w, WatchedEvent event) {
        if (event.getType() == Watcher.Event.EventType.None) {
            return; // a connection event: the watch stays set (or the session's end is handled by the listener)
        }
        synchronized (w) {
            if (w.closed) {
                return;
            }
            if (w.listener == null) {
                w.stale = true; // read once the partition listens
            } else {
                read(w);
            }
        }
    }

    /** Reads the node with the watch set; the answer goes to the listener. Called holding {@code w}'s monitor. */
    private void read(Watched w) {
        reads.incrementAndGet();
        try {
            client.getData()
                    .usingWatcher(w.watcher)
                    .inBackground((c, event) -> answered(w, event))
                    .forPath(w.path);
        } catch (Exception e) {
            failed(w, e.toString());
        }
    }

    private void answered(Watched w, CuratorEvent event) {
        int rc = event.getResultCode();
        if (rc == KeeperException.Code.OK.intValue()) {
            Configuration config;
            try {
                config = ConfigurationRecord.decode(event.getData(), w.path);
            } catch (IllegalArgumentException e) {
                log.error("ignoring the configuration node's new content: {}", e.getMessage());
                return;
            }
            synchronized (w) { // so that nothing is called once the registration is closed
                if (w.listener != null) {
                    w.listener.accept(config);
                }
            }
        } else if (rc == KeeperException.Code.NONODE.intValue()) {
            watchCreation(w);
        } else {
            failed(w, KeeperException.Code.get(rc).toString());
        }
    }

    /** The node does not exist (a partition being deleted): watches for its creation. */
    private void watchCreation(Watched w) {
        synchronized (w) {
            if (w.closed) {
                return;
            }
            reads.incrementAndGet();
            try {
                client.checkExists()
                        .usingWatcher(w.watcher)
                        .inBackground((c, event) -> {
                            int rc = event.getResultCode();
                            if (rc == KeeperException.Code.OK.intValue()) {
                                synchronized (w) {
                                    if (!w.closed && w.listener != null) {
                                        read(w); // created meanwhile: the exists call set the watch, read it now
                                    }
                                }
                            } else if (rc != KeeperException.Code.NONODE.intValue()) {
                                failed(w, KeeperException.Code.get(rc).toString());
                            }
                        })
                        .forPath(w.path);
            } catch (Exception e) {
                failed(w, e.toString());
            }
        }
    }

    private void failed(Watched w, String why) {
        synchronized (w) {
            if (w.closed) {
                return;
            }
            w.stale = true; // retried when the connection is back
        }
        log.info("reading {} failed ({}); read again once reconnected", w.path, why);
    }

    private void connectionChanged(ConnectionState state) {
        if (state != ConnectionState.RECONNECTED && state != ConnectionState.CONNECTED) {
            return;
        }
        long now = currentSession();
        boolean newSession = sessionId.getAndSet(now) != now;
        for (Watched w : watched.values()) {
            synchronized (w) {
                if (w.closed) {
                    continue;
                }
                if (newSession) {
                    w.stale = true; // the old session's watches are gone with it
                }
                if (w.stale && w.listener != null) {
                    w.stale = false;
                    read(w);
                }
            }
        }
    }

    private long currentSession() {
        try {
            return client.getZookeeperClient().getZooKeeper().getSessionId();
        } catch (Exception e) {
            return 0;
        }
    }

    /** One partition's watch; its fields are guarded by its monitor. */
    private final class Watched {
        final String path;
        final CuratorWatcher watcher;
        Consumer<Configuration> listener;
        boolean stale;
        boolean closed;

        Watched(String id, String path) {
            this.path = path;
            this.watcher = event -> fired(this, event);
            log.trace("watching the configuration of partition {} at {}", id, path);
        }
    }
}
