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
import dev.tenure.controller.core.PartitionSet;
import dev.tenure.controller.core.PartitionSets;
import dev.tenure.recipes.LeadershipToken;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;

/**
 * The controller's reads and writes of partition sets and admin requests in ZooKeeper: the sets at {@code
 * P/partition-sets/NAME}, the requests under {@code P/admin} ({@link PartitionSetRecord}), and the removal of a deleted
 * partition's nodes. Every write is a transaction whose first operation checks the controller epoch node's version
 * (docs/controller.md, rule 1), and every write to a set's node is a compare-and-set of its version.
 *
 * <p>Thread-safe; calls block on ZooKeeper (never call them on a ZooKeeper or Curator callback thread).
 */
public final class PartitionSetStore {
    private final CuratorFramework client;
    private final String clusterPath;

    /** The store of the cluster at {@code clusterPath}. */
    public PartitionSetStore(CuratorFramework client, String clusterPath) {
        this.client = Preconditions.checkNotNull(client, "client");
        this.clusterPath = ControllerPaths.checkClusterPath(clusterPath);
    }

    /** What happened to a write. */
    public enum Outcome {
        /** Applied. */
        APPLIED,
        /** Not applied: a newer controller exists. */
        FENCED,
        /** Not applied: a node was not as expected (read again and decide again). */
        CONFLICT,
        /** The reply was lost: applied or not (read again and decide again). */
        UNKNOWN
    }

    /**
     * What is waiting or recorded.
     *
     * @param sets the sets, by name
     * @param createRequests the create requests, by name
     * @param deleteRequests the names of the delete requests
     * @param preferredElection the partitions a preferred-leader election request names (empty list: every
     *     partition), if there is one
     */
    public record View(
            Map<String, PartitionSets.Stored> sets,
            Map<String, PartitionSets.CreateRequest> createRequests,
            Set<String> deleteRequests,
            Optional<List<String>> preferredElection) {}

    /** Creates the (empty) parents of the sets and the requests if missing; harmless unfenced. */
    public void ensurePaths() throws Exception {
        for (String path : List.of(
                ControllerPaths.partitionSets(clusterPath),
                ControllerPaths.createRequests(clusterPath),
                ControllerPaths.deleteRequests(clusterPath))) {
            try {
                client.create()
                        .creatingParentsIfNeeded()
                        .withMode(CreateMode.PERSISTENT)
                        .forPath(path);
            } catch (KeeperException.NodeExistsException e) {
                // made before
            }
        }
    }

    /**
     * Reads the sets and the requests, leaving {@code watcher} on the requests' parents and on the preferred-election
     * request. A request or record that does not parse is skipped (and reported through {@code invalid}).
     */
    public View read(Watcher watcher, java.util.function.BiConsumer<String, String> invalid) throws Exception {
        Map<String, PartitionSets.Stored> sets = new TreeMap<>();
        String setsPath = ControllerPaths.partitionSets(clusterPath);
        for (String name : children(setsPath, null)) {
            String path = ZKPaths.makePath(setsPath, name);
            Stat stat = new Stat();
            try {
                byte[] data = client.getData().storingStatIn(stat).forPath(path);
                sets.put(name, new PartitionSets.Stored(PartitionSetRecord.decode(data, path), stat.getVersion()));
            } catch (KeeperException.NoNodeException gone) {
                // removed meanwhile
            } catch (IllegalArgumentException e) {
                invalid.accept(path, e.getMessage());
            }
        }
        Map<String, PartitionSets.CreateRequest> creates = new TreeMap<>();
        String createsPath = ControllerPaths.createRequests(clusterPath);
        for (String name : children(createsPath, watcher)) {
            String path = ZKPaths.makePath(createsPath, name);
            try {
                creates.put(
                        name, PartitionSetRecord.decodeRequest(client.getData().forPath(path), path));
            } catch (KeeperException.NoNodeException gone) {
                // removed meanwhile
            } catch (IllegalArgumentException e) {
                invalid.accept(path, e.getMessage());
            }
        }
        Set<String> deletes = new TreeSet<>();
        String deletesPath = ControllerPaths.deleteRequests(clusterPath);
        for (String name : children(deletesPath, watcher)) {
            try {
                PartitionSet.checkName(name);
                byte[] data = client.getData().forPath(ZKPaths.makePath(deletesPath, name));
                if (data == null || data.length == 0) {
                    deletes.add(name); // one with a reason in it was refused: the admin reads it and removes it
                }
            } catch (KeeperException.NoNodeException gone) {
                // removed meanwhile
            } catch (IllegalArgumentException e) {
                invalid.accept(name, e.getMessage());
            }
        }
        Optional<List<String>> preferred = Optional.empty();
        String preferredPath = ControllerPaths.preferredElection(clusterPath);
        if (client.checkExists().usingWatcher(watcher).forPath(preferredPath) != null) {
            try {
                String text = new String(client.getData().forPath(preferredPath), StandardCharsets.UTF_8).trim();
                preferred = Optional.of(text.isEmpty() ? List.of() : List.of(text.split(",")));
            } catch (KeeperException.NoNodeException gone) {
                // removed meanwhile
            }
        }
        return new View(sets, creates, Collections.unmodifiableSet(deletes), preferred);
    }

    private List<String> children(String path, Watcher watcher) throws Exception {
        try {
            return watcher == null
                    ? client.getChildren().forPath(path)
                    : client.getChildren().usingWatcher(watcher).forPath(path);
        } catch (KeeperException.NoNodeException e) {
            if (watcher != null) {
                client.checkExists().usingWatcher(watcher).forPath(path);
            }
            return List.of();
        }
    }

    /** Carries out a step of {@link PartitionSets#decide} that writes to ZooKeeper, fenced by {@code token}. */
    public Outcome apply(LeadershipToken token, PartitionSets.Action action) throws InterruptedException {
        List<CuratorOp> ops = new ArrayList<>();
        try {
            if (action instanceof PartitionSets.Refuse r) {
                String path = r.create()
                        ? ControllerPaths.createRequest(clusterPath, r.name())
                        : ControllerPaths.deleteRequest(clusterPath, r.name());
                if (r.create()) {
                    PartitionSets.CreateRequest request =
                            PartitionSetRecord.decodeRequest(client.getData().forPath(path), path);
                    ops.add(client.transactionOp()
                            .setData()
                            .forPath(path, PartitionSetRecord.encodeRequest(request.set(), Optional.of(r.reason()))));
                } else {
                    // A delete request has no content to refuse into: it is replaced by one that says why.
                    ops.add(client.transactionOp()
                            .setData()
                            .forPath(path, ("error=" + r.reason()).getBytes(StandardCharsets.UTF_8)));
                }
            } else if (action instanceof PartitionSets.Create c) {
                String name = c.record().set().name();
                ops.add(client.transactionOp()
                        .create()
                        .withMode(CreateMode.PERSISTENT)
                        .forPath(
                                ControllerPaths.partitionSet(clusterPath, name),
                                PartitionSetRecord.encode(c.record())));
                ops.add(client.transactionOp().delete().forPath(ControllerPaths.createRequest(clusterPath, name)));
            } else if (action instanceof PartitionSets.MarkCreated m) {
                ops.add(client.transactionOp()
                        .setData()
                        .withVersion(m.version())
                        .forPath(
                                ControllerPaths.partitionSet(
                                        clusterPath, m.record().set().name()),
                                PartitionSetRecord.encode(m.record())));
            } else if (action instanceof PartitionSets.MarkDeleting m) {
                String name = m.record().set().name();
                ops.add(client.transactionOp()
                        .setData()
                        .withVersion(m.version())
                        .forPath(
                                ControllerPaths.partitionSet(clusterPath, name),
                                PartitionSetRecord.encode(m.record())));
                ops.add(client.transactionOp().delete().forPath(ControllerPaths.deleteRequest(clusterPath, name)));
            } else if (action instanceof PartitionSets.RemoveSet r) {
                ops.add(client.transactionOp()
                        .delete()
                        .withVersion(r.version())
                        .forPath(ControllerPaths.partitionSet(clusterPath, r.name())));
            } else if (action instanceof PartitionSets.DropDeleteRequest d) {
                ops.add(client.transactionOp().delete().forPath(ControllerPaths.deleteRequest(clusterPath, d.name())));
            } else {
                throw new IllegalArgumentException("not a ZooKeeper step: " + action);
            }
        } catch (KeeperException.NoNodeException e) {
            return Outcome.CONFLICT;
        } catch (KeeperException.ConnectionLossException | KeeperException.SessionExpiredException e) {
            return Outcome.UNKNOWN;
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            if (e instanceof IllegalArgumentException iae) {
                throw iae;
            }
            return Outcome.UNKNOWN;
        }
        return fenced(token, ops);
    }

    /** Removes the preferred-election request, fenced by {@code token}. */
    public Outcome removePreferredElection(LeadershipToken token) throws InterruptedException {
        try {
            return fenced(
                    token,
                    List.of(client.transactionOp().delete().forPath(ControllerPaths.preferredElection(clusterPath))));
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return Outcome.UNKNOWN;
        }
    }

    /**
     * Removes partition {@code partition}'s nodes (its state, its configuration and whatever else is under it) in one
     * transaction fenced by {@code token}; {@link Outcome#APPLIED} if they are gone already.
     */
    public Outcome removePartition(LeadershipToken token, String partition) throws InterruptedException {
        String root = ControllerPaths.partition(clusterPath, partition);
        List<String> paths = new ArrayList<>();
        try {
            collect(root, paths);
        } catch (KeeperException.NoNodeException gone) {
            if (paths.isEmpty()) {
                return Outcome.APPLIED;
            }
            return Outcome.CONFLICT;
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return Outcome.UNKNOWN;
        }
        Collections.reverse(paths); // children before their parents
        List<CuratorOp> ops = new ArrayList<>();
        try {
            for (String p : paths) {
                ops.add(client.transactionOp().delete().forPath(p));
            }
        } catch (Exception e) {
            return Outcome.UNKNOWN;
        }
        return fenced(token, ops);
    }

    private void collect(String path, List<String> into) throws Exception {
        into.add(path);
        for (String child : client.getChildren().forPath(path)) {
            collect(ZKPaths.makePath(path, child), into);
        }
    }

    private Outcome fenced(LeadershipToken token, List<CuratorOp> ops) throws InterruptedException {
        Preconditions.checkArgument(
                token.electionPath().equals(ControllerPaths.controllerElection(clusterPath)),
                "%s is not a token of this cluster's controller election",
                token);
        List<Op> all = new ArrayList<>();
        try {
            all.add(client.transactionOp()
                    .check()
                    .withVersion(token.epochNodeVersion())
                    .forPath(ControllerPaths.controllerEpochNode(clusterPath))
                    .get());
            for (CuratorOp op : ops) {
                all.add(op.get());
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot build a ZooKeeper operation", e);
        }
        try {
            client.getZookeeperClient().getZooKeeper().multi(all);
            return Outcome.APPLIED;
        } catch (KeeperException e) {
            PartitionStateStore.Verdict v =
                    PartitionStateStore.classify(e.code().intValue(), e.getResults());
            return switch (v.kind()) {
                case APPLIED -> Outcome.APPLIED;
                case REPLY_LOST -> Outcome.UNKNOWN;
                case FENCED -> Outcome.FENCED;
                default -> Outcome.CONFLICT;
            };
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return Outcome.UNKNOWN;
        }
    }
}
