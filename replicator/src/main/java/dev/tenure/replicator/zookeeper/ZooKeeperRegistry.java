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
import dev.tenure.replicator.transport.PeerDirectory;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.utils.ZKPaths;

/**
 * A replica set's records in ZooKeeper, under the cluster path {@code P}:
 *
 * <pre>
 * P/configuration        PERSISTENT  the replica set ({@link ZooKeeperConfiguration})
 * P/endpoints/ID         EPHEMERAL   "host:port" of replica ID's replication endpoint (kept while the replica
 *                                    runs, across sessions)
 * P/election/...         the fenced election (see the recipes)
 * </pre>
 *
 * It is also the {@link PeerDirectory} the transport asks for peers' addresses (a watched cache).
 *
 * <p>Thread-safe: {@link #addressOf} may be called from any thread (it reads the cache); {@link #register} and {@link
 * #close} are serialised. An endpoint record that is not {@code HOST:PORT} is logged once and ignored.
 */
public final class ZooKeeperRegistry implements PeerDirectory, Closeable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ZooKeeperRegistry.class);
    /** Endpoint values already warned about, so that a bad one is logged once, not on every lookup. */
    private final java.util.Set<String> refusedEndpoints = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final CuratorFramework client;
    private final String endpointsPath;
    private final CuratorCache endpoints;
    private RegistrationNode endpoint;

    /** The records of the replica set at {@code clusterPath}, through {@code client}; call {@link #start} to watch. */
    public ZooKeeperRegistry(CuratorFramework client, String clusterPath) {
        this.client = Preconditions.checkNotNull(client, "client");
        this.endpointsPath = ZKPaths.makePath(clusterPath, "endpoints");
        this.endpoints = CuratorCache.build(client, endpointsPath);
    }

    /** The election path of the cluster at {@code clusterPath}. */
    public static String electionPath(String clusterPath) {
        return ZKPaths.makePath(clusterPath, "leader");
    }

    /**
     * Publishes this replica's replication endpoint as an ephemeral node kept by Curator's {@link PersistentNode}
     * (a {@link RegistrationNode}, whose close does not wait on ZooKeeper):
     * it is created again after a session expires, and a node left by this replica's previous process (whose
     * session has not expired yet) is taken over — its data is replaced at once and the node is created again
     * under this session when the old session ends. Returns once the node holds this address, or after {@code
     * timeout} (the node keeps being maintained either way).
     *
     * @throws IllegalStateException if called twice
     */
    public synchronized void register(String id, InetSocketAddress address, Duration timeout) throws Exception {
        Preconditions.checkState(endpoint == null, "already registered");
        byte[] data = (address.getHostString() + ":" + address.getPort()).getBytes(StandardCharsets.UTF_8);
        endpoint = new RegistrationNode(client, ZKPaths.makePath(endpointsPath, id), data);
        endpoint.start();
        endpoint.waitForInitialCreate(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Starts watching the endpoints. */
    public void start() {
        endpoints.start();
    }

    @Override
    public Optional<InetSocketAddress> addressOf(String replicaId) {
        Optional<ChildData> d = endpoints.get(ZKPaths.makePath(endpointsPath, replicaId));
        if (d.isEmpty() || d.get().getData() == null) {
            return Optional.empty();
        }
        String s = new String(d.get().getData(), StandardCharsets.UTF_8);
        Optional<InetSocketAddress> address = parseEndpoint(s);
        if (address.isEmpty() && refusedEndpoints.add(replicaId + "=" + s)) {
            log.warn(
                    "Ignoring the endpoint of replica {} in ZooKeeper: '{}' is not HOST:PORT (an IP address or a host"
                            + " name, a port from 1 to 65535)",
                    replicaId,
                    s.length() > 100 ? s.substring(0, 100) + "..." : s);
        }
        return address;
    }

    /**
     * An endpoint record as an address: {@code HOST:PORT} with an IP literal ({@code [v6]} in brackets) or a host
     * name of letters, digits, dots and hyphens, and a port from 1 to 65535; empty for anything else (a value
     * planted in ZooKeeper is never looked up in DNS or connected to unless it has this shape).
     */
    static Optional<InetSocketAddress> parseEndpoint(String s) {
        if (s.length() > 300) {
            return Optional.empty();
        }
        try {
            com.google.common.net.HostAndPort hp = com.google.common.net.HostAndPort.fromString(s);
            if (!hp.hasPort() || hp.getPort() < 1 || hp.getPort() > 65_535) {
                return Optional.empty();
            }
            String host = hp.getHost();
            boolean ip = com.google.common.net.InetAddresses.isInetAddress(host);
            if (!ip && !host.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")) {
                return Optional.empty();
            }
            return Optional.of(new InetSocketAddress(host, hp.getPort()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public synchronized void close() {
        endpoints.close();
        if (endpoint != null) {
            try {
                endpoint.close();
            } catch (IOException e) {
                // the ephemeral node goes with the session anyway
            }
        }
    }
}
