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
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.replicator.core.Configuration;
import java.io.Closeable;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica set's configuration in ZooKeeper, the configuration master: the node {@code P/configuration}
 * ({@link ConfigurationRecord}). Every write is conditional on the node's version, so of two concurrent changes
 * exactly one wins; a change of the voters also mints an epoch on the election path in the same transaction
 * ({@link FencedLeaderElection#mintEpoch}), which revokes the running term; an activation is a fenced transaction
 * of the leader whose epoch committed its start under the joint configuration (docs/replication.md, "Membership
 * change").
 *
 * <p>Thread-safe. A change is conditional on the version read: one that lost a race throws {@link
 * ConcurrentChangeException} and writes nothing.
 */
public final class ZooKeeperConfiguration implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperConfiguration.class);

    /** A configuration with the version of the node that holds it. */
    public record Versioned(Configuration configuration, int nodeVersion) {}

    /** Another change came first: the configuration is no longer the one the change started from. */
    public static final class ConcurrentChangeException extends Exception {
        private static final long serialVersionUID = 1L;

        ConcurrentChangeException(String message) {
            super(message);
        }
    }

    /**
     * A membership change stalled: the new replica, added as a learner, did not catch up in time. The voters are
     * unchanged; the learner stays until the change is cancelled ({@link ZooKeeperReplica#cancelChange}).
     */
    public static final class StalledChangeException extends Exception {
        private static final long serialVersionUID = 1L;

        StalledChangeException(String message) {
            super(message);
        }
    }

    private final CuratorFramework client;
    private final String path;
    private final String electionPath;
    private CuratorCache cache;

    /**
     * The bytes of {@code configuration} as its node holds them: for a configuration master outside this class (the
     * controller) that writes the node in a transaction of its own.
     */
    public static byte[] encode(Configuration configuration) {
        return ConfigurationRecord.encode(configuration);
    }

    /** The configuration of the replica set at {@code clusterPath}, through {@code client}. */
    public ZooKeeperConfiguration(CuratorFramework client, String clusterPath) {
        this.client = Preconditions.checkNotNull(client, "client");
        this.path = ZKPaths.makePath(clusterPath, "configuration");
        this.electionPath = ZooKeeperRegistry.electionPath(clusterPath);
    }

    /**
     * The content of a new partition's configuration node: {@code voters} at version 0, as {@link #initialize} writes
     * it (for a controller that creates partitions in its own transactions).
     *
     * @throws IllegalArgumentException if the voters are empty or not distinct
     */
    public static byte[] initialRecord(List<String> voters) {
        return ConfigurationRecord.encode(Configuration.initial(voters));
    }

    /** The node's path. */
    public String path() {
        return path;
    }

    /**
     * The current configuration; if there is none yet, first records {@code initialVoters} as version 0 (the replica
     * set a cluster is created with). A configuration already recorded wins over {@code initialVoters}.
     *
     * @throws IllegalStateException if the node holds something that is not a configuration
     */
    public Versioned initialize(List<String> initialVoters) throws Exception {
        try {
            client.create()
                    .creatingParentContainersIfNeeded()
                    .withMode(CreateMode.PERSISTENT)
                    .forPath(path, ConfigurationRecord.encode(Configuration.initial(initialVoters)));
        } catch (KeeperException.NodeExistsException exists) {
            // recorded before
        }
        return read();
    }

    /** The current configuration, read from ZooKeeper now. */
    public Versioned read() throws Exception {
        Stat stat = new Stat();
        byte[] data = client.getData().storingStatIn(stat).forPath(path);
        try {
            return new Versioned(ConfigurationRecord.decode(data, path), stat.getVersion());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * Calls {@code listener} with the configuration each time the node changes (and once with the current one), on
     * Curator's event thread. A node that cannot be decoded is logged and skipped.
     */
    public synchronized void watch(Consumer<Configuration> listener) {
        Preconditions.checkState(cache == null, "already watching");
        cache = CuratorCache.build(client, path, CuratorCache.Options.SINGLE_NODE_CACHE);
        cache.listenable()
                .addListener(CuratorCacheListener.builder()
                        .forCreatesAndChanges((before, after) -> {
                            try {
                                listener.accept(ConfigurationRecord.decode(after.getData(), path));
                            } catch (IllegalArgumentException e) {
                                log.error("ignoring the configuration node's new content: {}", e.getMessage());
                            }
                        })
                        .build());
        cache.start();
    }

    /**
     * Replaces {@code from} by {@code to} if the node still holds {@code from} at {@code from}'s node version. A
     * change of the voters ({@code mintEpoch}) mints an epoch in the same transaction.
     *
     * @return the epoch minted, or 0 if none was
     * @throws ConcurrentChangeException if the node changed since {@code from} was read; nothing was written
     */
    public long replace(Versioned from, Configuration to, boolean mintEpoch) throws Exception {
        Preconditions.checkArgument(to.version() > from.configuration().version(), "the version must grow");
        try {
            if (mintEpoch) {
                return FencedLeaderElection.mintEpoch(
                        client,
                        electionPath,
                        epoch -> List.of(client.transactionOp()
                                .setData()
                                .withVersion(from.nodeVersion())
                                .forPath(path, ConfigurationRecord.encode(to))));
            }
            client.setData().withVersion(from.nodeVersion()).forPath(path, ConfigurationRecord.encode(to));
            return 0;
        } catch (KeeperException.BadVersionException e) {
            throw new ConcurrentChangeException("the configuration changed since version "
                    + from.configuration().version() + " was read; now: " + read().configuration());
        }
    }

    /**
     * Activates {@code joint} if it is still the current configuration, in a fenced transaction of {@code token}'s
     * term (so only while its epoch is the latest). Returns the activated configuration, or empty if the node holds
     * another configuration by now.
     *
     * @throws dev.tenure.recipes.FencedException if the term is over
     */
    public Optional<Configuration> activate(FencedLeaderElection election, LeadershipToken token, Configuration joint)
            throws Exception {
        Versioned current = read();
        if (!current.configuration().equals(joint)) {
            return Optional.empty();
        }
        Configuration activated = joint.activated();
        try {
            election.fencedTransaction(
                    token,
                    List.of(client.transactionOp()
                            .setData()
                            .withVersion(current.nodeVersion())
                            .forPath(path, ConfigurationRecord.encode(activated))));
        } catch (KeeperException.BadVersionException raced) {
            return Optional.empty();
        }
        return Optional.of(activated);
    }

    /**
     * A leader's activation of {@code joint} in the term of {@code epoch} (the replica's configuration master): a
     * fenced transaction of that term if {@code leadership} still holds it; nothing (logged) if the term ended or the
     * configuration moved on. For {@code ConfigurationMaster}, on the replica's configuration thread.
     */
    public void activateInTerm(ElectionLeadership leadership, String replicaId, long epoch, Configuration joint)
            throws Exception {
        java.util.Optional<LeadershipToken> token = leadership.token(epoch);
        FencedLeaderElection election = leadership.election();
        if (token.isEmpty() || election == null) {
            log.info("replica {}: the term of epoch {} ended before it could activate {}", replicaId, epoch, joint);
            return;
        }
        java.util.Optional<Configuration> activated = activate(election, token.get(), joint);
        if (activated.isPresent()) {
            log.info("replica {} activated configuration {}", replicaId, activated.get());
        } else {
            log.info("replica {}: {} is no longer the configuration; nothing to activate", replicaId, joint);
        }
    }

    @Override
    public synchronized void close() {
        if (cache != null) {
            cache.close();
        }
    }
}
