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
package dev.tenure.demo.node;

import dev.tenure.demo.http.KvHttpApi;
import dev.tenure.recipes.ZooKeeperAcls;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.testing.PausableTransport;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import dev.tenure.replicator.transport.netty.tls.TlsSettings;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperProxy;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * The demo in one JVM: an in-process 3-server ZooKeeper ensemble and 3 key-value replicas on loopback,
 * with their data in a temporary directory that is deleted on close. With {@link #partitions(int)} the replicas are
 * partitioned nodes: each hosts every partition, and each leads about a third of them.
 */
public final class EmbeddedCluster implements Closeable {
    private ZooKeeperAcls zooKeeperAcls;
    private static final List<String> IDS = List.of("r1", "r2", "r3");

    private final ZooKeeperEnsemble ensemble = ZooKeeperEnsemble.builder().build();
    private final List<KvNode> nodes = new ArrayList<>();
    private final Map<String, ZooKeeperProxy> proxies = new HashMap<>();
    /** Each replica's transports: one for a single log, one per partition with partitions. */
    private final Map<String, List<PausableTransport>> transports = new java.util.concurrent.ConcurrentHashMap<>();

    private final int firstHttpPort;
    private Duration requestTimeout = KvHttpApi.DEFAULT_REQUEST_TIMEOUT;
    private BiFunction<String, StateMachine, StateMachine> stateMachineWrapper = (id, machine) -> machine;
    private Path dataDir;
    private int partitions = 1;
    private KvNode.Leadership leadership = KvNode.Leadership.ELECTION;

    /** @param firstHttpPort the HTTP port of r1 (r2 and r3 take the next ones); 0 for ephemeral ports */
    public EmbeddedCluster(int firstHttpPort) {
        this.firstHttpPort = firstHttpPort;
    }

    /** Spreads the keys over {@code p} partitions ({@link KvNode#partitions(int)}); call before {@link #start()}. */
    public EmbeddedCluster partitions(int p) {
        this.partitions = p;
        return this;
    }

    /**
     * Where the partitions' leaders come from ({@link KvNode#leadership(KvNode.Leadership)}; with {@link
     * #partitions(int)} of 2 or more only); call before {@link #start()}.
     */
    public EmbeddedCluster leadership(KvNode.Leadership mode) {
        this.leadership = mode;
        return this;
    }

    /** The number of partitions (1: a single log). */
    public int partitions() {
        return partitions;
    }

    /** Every replica's {@link KvNode#requestTimeout(Duration) request timeout}; call before {@link #start()}. */
    public EmbeddedCluster requestTimeout(Duration timeout) {
        this.requestTimeout = timeout;
        return this;
    }

    /**
     * Wraps each replica's state machine, given the replica's id (see {@link KvNode#stateMachineWrapper}); call
     * before {@link #start()}. Package-private: a test seam.
     */
    EmbeddedCluster stateMachineWrapper(BiFunction<String, StateMachine, StateMachine> wrapper) {
        this.stateMachineWrapper = wrapper;
        return this;
    }

    /** The credential the replicas authenticate to ZooKeeper with (set by {@link #start}). */
    public ZooKeeperAcls zooKeeperAcls() {
        return zooKeeperAcls;
    }

    public void start() throws Exception {
        dataDir = Files.createTempDirectory("tenure-demo");
        // Mutual TLS between the replicas, with throwaway certificates of a CA made for this run.
        Map<String, Path> tls = ClusterCertificates.write(dataDir.resolve("tls"), IDS);
        // A ZooKeeper tree only the replicas can write: a throwaway digest credential.
        zooKeeperAcls =
                ZooKeeperAcls.digest("tenure", java.util.UUID.randomUUID().toString());
        ensemble.start();
        for (int i = 0; i < IDS.size(); i++) {
            String id = IDS.get(i);
            int port = firstHttpPort == 0 ? 0 : firstHttpPort + i;
            if (port != 0 && !free(port)) {
                port = 0; // taken: fall back to an ephemeral port
            }
            // Each replica reaches ZooKeeper through its own proxy, so a pause can cut it off.
            ZooKeeperProxy proxy = ensemble.newProxy();
            proxies.put(id, proxy);
            KvNode node = new KvNode(new KvNode.Config(
                    id,
                    proxy.connectString(),
                    dataDir.resolve(id),
                    new InetSocketAddress("127.0.0.1", port),
                    new InetSocketAddress("127.0.0.1", 0),
                    IDS,
                    null,
                    null,
                    "kv",
                    4000));
            node.requestTimeout(requestTimeout);
            node.transportTls(TlsContext.load(TlsSettings.fromFile(tls.get(id))));
            node.zooKeeperAcls(zooKeeperAcls);
            node.partitions(partitions);
            node.leadership(leadership);
            node.stateMachineWrapper(machine -> stateMachineWrapper.apply(id, machine));
            node.transportWrapper(t -> {
                PausableTransport p = new PausableTransport(t);
                transports
                        .computeIfAbsent(id, k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                        .add(p);
                return p;
            });
            node.start();
            nodes.add(node);
        }
    }

    @SuppressWarnings("try") // the socket is opened only to learn whether the port can be bound
    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public List<KvNode> nodes() {
        return List.copyOf(nodes);
    }

    public ZooKeeperEnsemble ensemble() {
        return ensemble;
    }

    public KvNode node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow();
    }

    /** Where node {@code id} keeps its data (after {@link #start()}). */
    public Path dataDir(String id) {
        return dataDir.resolve(id);
    }

    /**
     * Pauses a replica as a long GC pause or SIGSTOP would: its replication traffic waits and ZooKeeper
     * cannot reach it (its session expires after the session timeout).
     */
    public void pause(String id) {
        holdReplication(id);
        cutFromZooKeeper(id);
    }

    /** Holds a replica's replication traffic (both directions) until {@link #resume}. */
    public void holdReplication(String id) {
        transports.get(id).forEach(PausableTransport::pause);
    }

    /** Cuts a replica off from ZooKeeper until {@link #resume}; its session expires after the timeout. */
    public void cutFromZooKeeper(String id) {
        proxies.get(id).cut();
    }

    /** Resumes a paused replica: its held, now late, messages are delivered. */
    public void resume(String id) {
        proxies.get(id).heal();
        transports.get(id).forEach(PausableTransport::resume);
    }

    /** Stops a replica abruptly (no hand-off). */
    public void kill(String id) {
        node(id).kill();
    }

    @Override
    public void close() {
        for (KvNode n : nodes) {
            n.close();
        }
        for (ZooKeeperProxy p : proxies.values()) {
            p.close();
        }
        ensemble.close();
        if (dataDir != null) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
