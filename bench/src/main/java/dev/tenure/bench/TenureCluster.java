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
package dev.tenure.bench;

import dev.tenure.replicator.Replica;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import dev.tenure.replicator.zookeeper.ZooKeeperReplica;
import dev.tenure.testkit.ZooKeeperEnsemble;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three {@link ZooKeeperReplica}s in this process, as production assembles them: each with its own
 * ZooKeeper session, its log and promise in files under its own directory, and the Netty transport on
 * 127.0.0.1; elected on the given ensemble. Their state machine discards what it
 * is given.
 */
final class TenureCluster implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(TenureCluster.class);
    static final List<String> IDS = List.of("r1", "r2", "r3");
    private static final String CLUSTER_PATH = "/tenure-bench";

    /** Applies nothing: the benchmark measures replication, not an application. */
    private static final StateMachine DISCARD = (epoch, offset, payload) -> null;

    private final Map<String, ZooKeeperReplica> nodes = new LinkedHashMap<>();

    private TenureCluster() {}

    /** Starts the replicas; close the result (also when this throws, nothing is left running). */
    static TenureCluster start(ZooKeeperEnsemble zk, Path dataDir, LogConfig logConfig) throws Exception {
        return start(zk, dataDir, logConfig, CLUSTER_PATH, Map.of());
    }

    /**
     * As {@link #start(ZooKeeperEnsemble, Path, LogConfig)} under {@code clusterPath}, each replica replicating over
     * mutual TLS with its context in {@code tls} (plaintext for an id it does not name).
     */
    static TenureCluster start(
            ZooKeeperEnsemble zk, Path dataDir, LogConfig logConfig, String clusterPath, Map<String, TlsContext> tls)
            throws Exception {
        TenureCluster cluster = new TenureCluster();
        try {
            for (String id : IDS) {
                CuratorFramework client = zk.newClient(); // closed with the ensemble
                ZooKeeperReplica node = ZooKeeperReplica.builder(client, clusterPath)
                        .transportTls(tls.get(id))
                        .id(id)
                        .members(IDS)
                        .dataDir(dataDir.resolve(id))
                        .logConfig(logConfig)
                        .stateMachine(DISCARD)
                        .build();
                cluster.nodes.put(id, node);
                node.start();
            }
            return cluster;
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** The leader, once it has committed its epoch-start entry (that is, once it takes writes). */
    Replica awaitLeader(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (ZooKeeperReplica node : nodes.values()) {
                Replica.Status s = node.replica().status();
                if (s.role() == Role.LEADER && s.commitOffset() > 0) {
                    return node.replica();
                }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("no Tenure leader among " + nodes.keySet() + " within " + timeout);
            }
            Thread.sleep(10); // polling status snapshots: the replica offers no leadership event to wait on here
        }
    }

    /**
     * Waits until every replica has applied everything the leader has committed, and returns each replica's
     * applied offset: the check that the followers kept up, not only a majority.
     */
    Map<String, Long> awaitAllApplied(Duration timeout) throws Exception {
        long commit = awaitLeader(timeout).status().commitOffset();
        Map<String, Long> applied = new LinkedHashMap<>();
        for (Map.Entry<String, ZooKeeperReplica> e : nodes.entrySet()) {
            applied.put(
                    e.getKey(),
                    e.getValue().replica().awaitApplied(commit).get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        return applied;
    }

    /** Closes every replica (not the ZooKeeper clients: the ensemble does). Idempotent. */
    @Override
    public void close() {
        List<ZooKeeperReplica> all = new ArrayList<>(nodes.values());
        for (ZooKeeperReplica node : all) {
            try {
                node.close();
            } catch (RuntimeException e) {
                log.warn("closing a replica failed", e);
            }
        }
        nodes.clear();
    }
}
