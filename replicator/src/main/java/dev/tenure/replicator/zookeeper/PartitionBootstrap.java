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

import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.replicator.core.Configuration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * The ZooKeeper part of opening a partition of a {@link ZooKeeperNode}, without waiting on ZooKeeper: every request is
 * sent in the background, so that a node opening many partitions has many requests in flight on its session (the
 * ensemble commits them in groups) instead of one round trip after another per partition.
 *
 * <p>Per partition: one read of {@code partitions/ID/configuration}, which sets the partition's configuration watch
 * ({@link ConfigurationWatches}). If it exists, one read of the election's epoch
 * node (the floor a replica without a promise must refuse below). If not, and this node is in the replica set given,
 * one transaction creates the partition: {@code partitions/ID} (a container, as before), its configuration at version
 * 0 and, with elections, the election path and its epoch node at 0 ({@link
 * FencedLeaderElection#pathCreationOperations}) — all or nothing, so a partition never exists without its
 * configuration and an existing epoch is never reset; the election's container is created with them, so that the
 * participants' first latch nodes need no parent created on the way. When another node's transaction came first (the partition's
 * nodes exist), the configuration is read again; whatever else the background path did not expect (a partition node
 * without its configuration, left by an older version) is handed to the synchronous path of before ({@link
 * ZooKeeperConfiguration#initialize}, {@link FencedLeaderElection#latestEpoch}) on {@code blocking}.
 *
 * <p>Thread-safe. Callbacks run on Curator's event thread and only send the next request or complete the future; the
 * synchronous fallback runs on {@code blocking}.
 */
final class PartitionBootstrap {
    /**
     * A partition's configuration as ZooKeeper holds it, the latest epoch minted on its election path, and whether
     * the election path's nodes were seen to exist (created here, or the epoch node read).
     */
    record Bootstrapped(Configuration configuration, long epochFloor, boolean electionPathsExist) {}

    private final CuratorFramework client;
    private final String partitionsPath;
    private final String nodeId;
    private final boolean elections;
    private final Executor blocking;
    private final ConfigurationWatches watches;

    /**
     * @param partitionsPath {@code P/partitions}, which must exist before {@link #start} is called
     * @param elections whether partitions elect their leaders on ZooKeeper (their election nodes are created with
     *     them, and their epoch floors read)
     * @param blocking runs the synchronous fallback
     * @param watches the node's configuration watches: the read of a partition's configuration sets its watch
     */
    PartitionBootstrap(
            CuratorFramework client,
            String partitionsPath,
            String nodeId,
            boolean elections,
            Executor blocking,
            ConfigurationWatches watches) {
        this.client = client;
        this.partitionsPath = partitionsPath;
        this.nodeId = nodeId;
        this.elections = elections;
        this.blocking = blocking;
        this.watches = watches;
    }

    static String partitionPath(String partitionsPath, String id) {
        return ZKPaths.makePath(partitionsPath, id);
    }

    /** Partition {@code id}'s configuration node under {@code partitionsPath}. */
    static String configurationPath(String partitionsPath, String id) {
        return ZKPaths.makePath(partitionPath(partitionsPath, id), "configuration");
    }

    /**
     * Starts the ZooKeeper part of opening partition {@code id} with {@code replicas} (used only if the partition is
     * new). The future fails with {@link IllegalArgumentException} if the partition is new and {@code replicas} does
     * not include this node, {@link IllegalStateException} if the configuration node holds something else than a
     * configuration, and a {@link KeeperException} if ZooKeeper refused a request or could not be reached; nothing
     * this node created is left half-made (a transaction creates a partition's nodes).
     */
    CompletableFuture<Bootstrapped> start(String id, List<String> replicas) {
        CompletableFuture<Bootstrapped> done = new CompletableFuture<>();
        readConfiguration(id, replicas, true, done);
        return done;
    }

    private String configurationPath(String id) {
        return configurationPath(partitionsPath, id);
    }

    private String electionPath(String id) {
        return ZooKeeperRegistry.electionPath(partitionPath(partitionsPath, id));
    }

    private void readConfiguration(
            String id, List<String> replicas, boolean mayCreate, CompletableFuture<Bootstrapped> done) {
        String path = configurationPath(id);
        background(
                done,
                () -> client.getData()
                        .usingWatcher(watches.watcher(id)) // the partition's configuration watch, from this read on
                        .inBackground((c, event) -> guarded(done, () -> {
                            int rc = event.getResultCode();
                            if (rc == KeeperException.Code.OK.intValue()) {
                                Configuration config = decode(event.getData(), path);
                                readEpochFloor(id, config, done);
                            } else if (rc == KeeperException.Code.NONODE.intValue()) {
                                if (!replicas.contains(nodeId)) {
                                    throw new IllegalArgumentException(
                                            "partition " + id + " on " + replicas + " does not include node " + nodeId);
                                }
                                if (mayCreate) {
                                    create(id, replicas, done);
                                } else {
                                    fallBack(id, replicas, done);
                                }
                            } else {
                                throw failure(event, path);
                            }
                        }))
                        .forPath(path));
    }

    private void readEpochFloor(String id, Configuration config, CompletableFuture<Bootstrapped> done) {
        if (!elections) {
            done.complete(new Bootstrapped(config, 0, false));
            return;
        }
        String epochPath = ZKPaths.makePath(electionPath(id), "epoch");
        background(
                done,
                () -> client.getData()
                        .inBackground((c, event) -> guarded(done, () -> {
                            int rc = event.getResultCode();
                            if (rc == KeeperException.Code.OK.intValue()) {
                                done.complete(new Bootstrapped(
                                        config, FencedLeaderElection.decodeEpoch(event.getData()), true));
                            } else if (rc == KeeperException.Code.NONODE.intValue()) {
                                done.complete(new Bootstrapped(config, 0, false));
                            } else {
                                throw failure(event, epochPath);
                            }
                        }))
                        .forPath(epochPath));
    }

    private void create(String id, List<String> replicas, CompletableFuture<Bootstrapped> done) throws Exception {
        Configuration initial = Configuration.initial(replicas);
        List<CuratorOp> ops = new ArrayList<>();
        ops.add(client.transactionOp()
                .create()
                .withMode(CreateMode.CONTAINER)
                .forPath(partitionPath(partitionsPath, id)));
        ops.add(client.transactionOp()
                .create()
                .withMode(CreateMode.PERSISTENT)
                .forPath(configurationPath(id), ConfigurationRecord.encode(initial)));
        if (elections) {
            ops.addAll(FencedLeaderElection.pathCreationOperations(client, electionPath(id)));
        }
        background(
                done,
                () -> client.transaction()
                        .inBackground((c, event) -> guarded(done, () -> {
                            int rc = event.getResultCode();
                            if (rc == KeeperException.Code.OK.intValue()) {
                                // Created here: version 0 of the configuration, no epoch minted yet; no watch set.
                                watches.unwatched(id);
                                done.complete(new Bootstrapped(initial, 0, elections));
                            } else if (rc == KeeperException.Code.NODEEXISTS.intValue()) {
                                readConfiguration(id, replicas, false, done); // another node created it first
                            } else {
                                throw failure(event, configurationPath(id));
                            }
                        }))
                        .forOperations(ops));
    }

    /** The synchronous path, for what the background path does not expect. */
    private void fallBack(String id, List<String> replicas, CompletableFuture<Bootstrapped> done) {
        try {
            blocking.execute(() -> guarded(done, () -> {
                try (ZooKeeperConfiguration configuration =
                        new ZooKeeperConfiguration(client, partitionPath(partitionsPath, id))) {
                    Configuration config = configuration.initialize(replicas).configuration();
                    long floor = elections ? FencedLeaderElection.latestEpoch(client, electionPath(id)) : 0;
                    watches.unwatched(id);
                    done.complete(new Bootstrapped(config, floor, false));
                }
            }));
        } catch (RejectedExecutionException closed) {
            done.completeExceptionally(new IllegalStateException("node " + nodeId + " closed while opening " + id));
        }
    }

    private static Configuration decode(byte[] data, String path) {
        try {
            return ConfigurationRecord.decode(data, path);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static KeeperException failure(CuratorEvent event, String path) {
        return KeeperException.create(KeeperException.Code.get(event.getResultCode()), path);
    }

    private interface Step {
        void run() throws Exception;
    }

    /** Runs {@code step}, failing {@code done} with whatever it throws. */
    private static void guarded(CompletableFuture<?> done, Step step) {
        try {
            step.run();
        } catch (Exception | Error e) {
            done.completeExceptionally(e);
        }
    }

    /** Sends a background request, failing {@code done} if it cannot be sent. */
    private static void background(CompletableFuture<?> done, Step send) {
        guarded(done, send);
    }
}
