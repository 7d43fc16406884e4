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
import dev.tenure.recipes.ElectionBackend;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeaderDiscovery;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.recipes.PreviousSession;
import dev.tenure.recipes.SuspensionPolicy;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicaListener;
import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.storage.FilePromiseStore;
import dev.tenure.replicator.storage.FileSnapshotStore;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.storage.PrivateFiles;
import dev.tenure.replicator.storage.SegmentedLog;
import dev.tenure.replicator.transport.Transport;
import dev.tenure.replicator.transport.netty.NettyTransport;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Replica} assembled for production: its log, snapshots and promise in files under a data directory
 * ({@code log/}, {@code snapshots/}, {@code promise}), the
 * Netty transport, peers found through ZooKeeper, and leadership from a fenced election on ZooKeeper.
 *
 * <pre>{@code
 * ZooKeeperReplica node = ZooKeeperReplica.builder(client, "/tenure/orders")
 *         .id("r1").members(List.of("r1", "r2", "r3"))
 *         .dataDir(Path.of("/var/lib/orders/r1"))
 *         .bind(new InetSocketAddress("127.0.0.1", 7101))
 *         .stateMachine(orders)
 *         .build();
 * node.start();
 * node.replica().propose(bytes).get();
 * }</pre>
 *
 * <p>ZooKeeper layout under the cluster path: {@code configuration} (the replica set: {@link
 * ZooKeeperConfiguration}), {@code endpoints/ID} (replication endpoints), {@code leader/...} (the fenced election;
 * the leader's epoch is the replication epoch).
 *
 * <p>The replica set changes online ({@link #addMember}, {@link #removeMember}, {@link #replaceMember}, {@link
 * #cancelChange}; docs/replication.md, "Membership change"): a new replica joins as a learner, becomes a voter once
 * caught up, through a joint configuration minted with a new epoch, and the change is active once a leader
 * committed its epoch start under it.
 *
 * <p>Start once; close is idempotent and closes everything it opened (not the client). Thread-safe where stated:
 * {@link #start} and {@link #close} are serialised; the accessors read what {@code start} set without a lock, so call
 * them on the thread that started the node or after handing it over safely. They throw {@link IllegalStateException}
 * before {@code start}.
 */
public final class ZooKeeperReplica implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperReplica.class);

    private final Builder b;
    private ZooKeeperRegistry registry;
    private PreviousSession previousSession;
    private LeaderDiscovery discovery;
    private ZooKeeperConfiguration configuration;
    private MembershipChanges membership;
    private SegmentedLog segmentedLog;
    private FileSnapshotStore snapshots;
    private volatile NettyTransport transport;
    private ElectionLeadership leadership;
    private Replica replica;
    /** The newest configuration seen (at start, then from the watch): what suspicions are counted against. */
    private volatile Configuration newestConfiguration;

    private FastFailover fastFailover = FastFailover.off();
    private boolean started;
    private boolean closed;

    private ZooKeeperReplica(Builder b) {
        this.b = b;
    }

    /** A builder for a replica of the cluster at {@code clusterPath}, through {@code client}. */
    public static Builder builder(CuratorFramework client, String clusterPath) {
        return new Builder(client, clusterPath);
    }

    /** Builds a {@link ZooKeeperReplica}; id, members, data directory and state machine are required. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String clusterPath;
        private String clusterName;
        private String id;
        private List<String> members;
        private Path dataDir;
        private InetSocketAddress bind = new InetSocketAddress("127.0.0.1", 0);
        private TlsContext transportTls;
        private InetSocketAddress advertise;
        private String endpoint = "";
        private StateMachine stateMachine;
        private ElectionBackend backend = ElectionBackend.LEADER_LATCH;
        private LogConfig logConfig = LogConfig.defaults();
        private UnaryOperator<CoreConfig.Builder> tuning = UnaryOperator.identity();
        private Duration proposalTimeout = Duration.ofSeconds(10);
        private UnaryOperator<Transport> transportWrapper = UnaryOperator.identity();
        private ReplicaListener listener = new ReplicaListener() {};
        private SnapshotPolicy snapshotPolicy = SnapshotPolicy.defaults();
        private FastFailover fastFailover = FastFailover.fromSessionTimeout();
        private boolean endPreviousSession = true;

        private Builder(CuratorFramework client, String clusterPath) {
            this.client = Preconditions.checkNotNull(client, "client must not be null");
            this.clusterPath = clusterPath;
            ZKPaths.fixForNamespace(null, clusterPath); // validates the path
        }

        /** The name peers must present in the transport handshake; the last path segment by default. */
        public Builder clusterName(String name) {
            this.clusterName = name;
            return this;
        }

        /** This replica's id; required. */
        public Builder id(String id) {
            this.id = id;
            return this;
        }

        /**
         * The replica set a new cluster is created with (its configuration version 0). Once ZooKeeper holds a
         * configuration it is the replica set: a replica configured with other members is refused while that
         * configuration is still version 0 (never changed), and ignored afterwards. Optional for a replica joining
         * an existing cluster (added first with {@link #addMember}).
         */
        public Builder members(List<String> members) {
            this.members = List.copyOf(members);
            return this;
        }

        /** The directory of its log, snapshots and promise; required. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /**
         * Mutual TLS for the replication transport (see {@link TlsContext}); without it the transport is plaintext
         * and says so at start with a WARN.
         */
        public Builder transportTls(TlsContext tls) {
            this.transportTls = tls;
            return this;
        }

        /** Where the replication transport listens; 127.0.0.1 on an ephemeral port by default. */
        public Builder bind(InetSocketAddress address) {
            this.bind = address;
            return this;
        }

        /** The replication address peers are told to use; the bound address by default. */
        public Builder advertise(InetSocketAddress address) {
            this.advertise = address;
            return this;
        }

        /**
         * An opaque string that leader discovery shows for this replica (for example its HTTP URL, or the
         * host:port of its client API); a follower's {@link dev.tenure.replicator.ReplicationException#leaderEndpoint()
         * refusal} names the leader's.
         */
        public Builder endpoint(String endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        /** The replicated state; required. */
        public Builder stateMachine(StateMachine sm) {
            this.stateMachine = sm;
            return this;
        }

        /** The election recipe; {@link ElectionBackend#LEADER_LATCH} by default. */
        public Builder backend(ElectionBackend backend) {
            this.backend = backend;
            return this;
        }

        /** Segment size and sync policy of the log (fsync by default). */
        public Builder logConfig(LogConfig config) {
            this.logConfig = config;
            return this;
        }

        /** Adjusts the protocol settings (batch sizes, in-flight limits, intervals). */
        public Builder tuning(UnaryOperator<CoreConfig.Builder> tuning) {
            this.tuning = tuning;
            return this;
        }

        /** How long a proposal may wait for its commit before its outcome is unknown; 10 s by default. */
        public Builder proposalTimeout(Duration timeout) {
            this.proposalTimeout = timeout;
            return this;
        }

        /**
         * When to snapshot the state machine (if it {@link StateMachine#supportsSnapshots() supports snapshots});
         * {@link SnapshotPolicy#defaults()} by default.
         */
        public Builder snapshotPolicy(SnapshotPolicy policy) {
            this.snapshotPolicy = Preconditions.checkNotNull(policy, "policy");
            return this;
        }

        /**
         * Whether the replica ends, at start, the ZooKeeper session its previous run left (on by default): the
         * session's id and password are kept in {@code DATA/zookeeper-session} ({@link PreviousSession}), so that a
         * replica restarted before its old session expired takes its old election node away at once instead of
         * leaving the log led by a dead process until that expiry. Off: a restart waits for the expiry, or for fast
         * failover's depose.
         */
        public Builder endPreviousSession(boolean enabled) {
            this.endPreviousSession = enabled;
            return this;
        }

        /**
         * Fast failover (docs/replication.md, "Fast failover"): on by default with bounds derived from the session
         * timeout ({@link FastFailover#fromSessionTimeout()}); {@link FastFailover#off()} turns it off.
         */
        public Builder fastFailover(FastFailover settings) {
            this.fastFailover = Preconditions.checkNotNull(settings, "settings");
            return this;
        }

        /** Optional callbacks about the replica (see {@link ReplicaListener}). */
        public Builder listener(ReplicaListener listener) {
            this.listener = listener;
            return this;
        }

        /** Wraps the Netty transport (for metrics, tracing, or fault injection in tests). */
        public Builder transportWrapper(UnaryOperator<Transport> wrapper) {
            this.transportWrapper = wrapper;
            return this;
        }

        /**
         * The replica, not started yet; throws {@link IllegalArgumentException} if the id, the data directory or the
         * state machine is missing, or the members do not include the id.
         */
        public ZooKeeperReplica build() {
            Preconditions.checkArgument(id != null && !id.isBlank(), "replica id must be set");
            Preconditions.checkArgument(members == null || members.contains(id), "members must include %s", id);
            Preconditions.checkArgument(dataDir != null, "data directory must be set");
            Preconditions.checkArgument(stateMachine != null, "state machine must be set");
            if (clusterName == null) {
                clusterName = ZKPaths.getNodeFromPath(clusterPath);
            }
            return new ZooKeeperReplica(this);
        }
    }

    /**
     * Checks the replica set against ZooKeeper, opens the log, starts the transport, registers this
     * replica's endpoint and joins the election.
     *
     * @throws IllegalStateException if the configured replica set differs from the one in ZooKeeper
     * <p>A replica that finds no promise on its disk (a new replica, or one whose disk was wiped) first stores the
     * latest epoch minted in ZooKeeper as a floor, so that it can never promise an older epoch to a deposed leader that
     * is still running: it lost the promise that refused those.
     *
     * @throws IOException if the log or every snapshot is corrupt (the message names the file and what failed)
     */
    public synchronized void start() throws Exception {
        Preconditions.checkState(!started && !closed, "Cannot be started more than once");
        started = true;
        registry = new ZooKeeperRegistry(b.client, b.clusterPath);
        configuration = new ZooKeeperConfiguration(b.client, b.clusterPath);
        ZooKeeperConfiguration.Versioned current =
                b.members != null ? configuration.initialize(b.members) : configuration.read();
        Configuration config = current.configuration();
        checkMembership(config);
        PrivateFiles.createDirectories(b.dataDir);
        segmentedLog = SegmentedLog.open(b.dataDir.resolve("log"), b.logConfig); // locks the data directory's log
        if (b.endPreviousSession) {
            // Before this run's ephemeral nodes exist, and only once this process holds the log.
            previousSession = PreviousSession.builder(b.client, b.dataDir.resolve(PreviousSession.FILE_NAME))
                    .build();
            try {
                log.info("replica {}: the previous run's ZooKeeper session: {}", b.id, previousSession.start());
            } catch (IOException e) {
                log.warn("replica {}: the previous run's ZooKeeper session is left to expire", b.id, e);
            }
        }
        registry.start();
        snapshots = FileSnapshotStore.open(b.dataDir.resolve("snapshots"), b.logConfig.syncPolicy());
        FilePromiseStore promises = new FilePromiseStore(b.dataDir.resolve("promise"), b.logConfig.syncPolicy());
        String electionPath = ZooKeeperRegistry.electionPath(b.clusterPath);
        if (promises.load().epoch() == 0) {
            long floor = FencedLeaderElection.latestEpoch(b.client, electionPath);
            if (floor > 0) {
                log.info("replica {} holds no promise: refusing every epoch below the latest, {}", b.id, floor);
                promises.store(new Promise(floor, ""));
            }
        }
        transport = NettyTransport.builder()
                .selfId(b.id)
                .clusterName(b.clusterName)
                .members(config.members())
                .bindAddress(b.bind)
                .peerDirectory(registry)
                .security(b.transportTls)
                .build();
        discovery = new LeaderDiscovery(b.client, electionPath);
        discovery.start();
        leadership = new ElectionLeadership(
                l -> FencedLeaderElection.builder(b.client, electionPath)
                        .participantId(b.id)
                        .endpoint(b.endpoint)
                        .backend(b.backend)
                        .suspensionPolicy(SuspensionPolicy.REVOKE)
                        .listener(l)
                        .build(),
                () -> configuration.read().configuration());
        leadership.participate(config.voters().contains(b.id)); // learners do not campaign
        newestConfiguration = config;
        fastFailover = b.fastFailover.resolve(FastFailover.sessionTimeoutOf(b.client));
        CoreConfig.Builder core = CoreConfig.builder(b.id, config.voters());
        if (fastFailover.enabled()) {
            leadership.fastFailover(
                    b.client, electionPath, b.id, () -> newestConfiguration, fastFailover.deposeBackoff());
            core.fastFailover(fastFailover.suspicionTimeout(), fastFailover.minimumTerm());
        }
        CoreConfig coreConfig = b.tuning.apply(core).build();
        replica = Replica.builder()
                .config(coreConfig)
                .configuration(config)
                .configurationMaster(this::activate)
                .log(segmentedLog, segmentedLog::syncWithEpoch, false)
                .promises(promises)
                .snapshots(snapshots)
                .snapshotPolicy(b.snapshotPolicy)
                .transport(b.transportWrapper.apply(transport))
                .leadership(leadership)
                .stateMachine(b.stateMachine)
                .proposalTimeout(b.proposalTimeout)
                .maxPayloadBytes(Math.min(
                        Replica.DEFAULT_MAX_PAYLOAD_BYTES, b.logConfig.maxRecordBytes() - SegmentedLog.HEADER_BYTES))
                .listener(b.listener)
                .leaderEndpoints(id -> discovery.endpointOf(id).orElse(""))
                .build();
        replica.start();
        membership = new MembershipChanges(b.id, configuration, replica);
        configuration.watch(this::configurationChanged);
        InetSocketAddress advertised = b.advertise != null ? b.advertise : transport.boundAddress();
        registry.register(b.id, advertised, Duration.ofSeconds(10));
        log.info(
                "replica {} of {} serves replication at {}; configuration {}", b.id, b.clusterPath, advertised, config);
    }

    /**
     * Refuses to start a replica the configuration does not include, or one configured with another replica set
     * while the configuration was never changed (a typo in the member list, as before membership changes existed).
     */
    private void checkMembership(Configuration config) {
        List<String> sortedConfigured = b.members == null ? null : sorted(b.members);
        if (config.version() == 0
                && sortedConfigured != null
                && !sorted(config.voters()).equals(sortedConfigured)) {
            throw new IllegalStateException(
                    "replica set mismatch: ZooKeeper has [" + String.join(",", sorted(config.voters()))
                            + "] at " + configuration.path() + " but this replica was configured with ["
                            + String.join(",", sortedConfigured) + "]");
        }
        if (!config.contains(b.id)) {
            throw new IllegalStateException("replica set mismatch: replica " + b.id + " is not a member of the replica"
                    + " set at " + configuration.path() + " (" + config
                    + "); add it first (addMember, or `members add` in the demo)");
        }
        if (sortedConfigured != null && !sorted(config.members()).equals(sortedConfigured)) {
            log.info(
                    "replica {}: the replica set is {}; the configured members {} are used only for a new cluster",
                    b.id,
                    config,
                    b.members);
        }
    }

    private static List<String> sorted(List<String> ids) {
        List<String> list = new java.util.ArrayList<>(ids);
        list.sort(null);
        return list;
    }

    /** Curator's thread: the configuration node changed. */
    private void configurationChanged(Configuration c) {
        Configuration known = newestConfiguration;
        if (known == null || c.version() > known.version()) {
            newestConfiguration = c;
        }
        NettyTransport t = transport;
        if (t != null) {
            t.members(c.members());
        }
        if (c.contains(b.id)) {
            leadership.participate(c.voters().contains(b.id));
        }
        replica.configure(c); // a configuration without this replica removes it: it stops and leaves the election
    }

    /** The replica's thread for configuration writes: activates a change in a fenced transaction of the term. */
    private void activate(long epoch, Configuration joint) throws Exception {
        configuration.activateInTerm(leadership, b.id, epoch, joint);
    }

    /**
     * Adds {@code id} to the replica set: first as a learner (it receives the log or a snapshot), then, once it is
     * caught up within {@link MembershipChanges#CATCH_UP_ENTRIES} entries, as a voter through a joint configuration.
     * Must be called on the leader. Completes with the activated configuration; fails with {@link
     * dev.tenure.replicator.ReplicationException.NotLeaderException} (not the leader), {@link
     * ZooKeeperConfiguration.ConcurrentChangeException} (another change in progress or won the race), {@link
     * ZooKeeperConfiguration.StalledChangeException} (the learner did not catch up in time: it stays a learner until {@link
     * #cancelChange}), or {@link IllegalArgumentException} (already a member).
     */
    public java.util.concurrent.CompletableFuture<Configuration> addMember(String id, Duration catchUpTimeout) {
        return membership().add(id, catchUpTimeout);
    }

    /** Removes {@code id} (a voter, through a joint configuration; or a learner). As {@link #addMember}. */
    public java.util.concurrent.CompletableFuture<Configuration> removeMember(String id) {
        return membership().remove(id);
    }

    /** Replaces voter {@code old} by {@code replacement}: adds it as a learner, waits, swaps them. */
    public java.util.concurrent.CompletableFuture<Configuration> replaceMember(
            String old, String replacement, Duration catchUpTimeout) {
        return membership().replace(old, replacement, catchUpTimeout);
    }

    /**
     * Cancels the change in progress: a joint configuration goes back to its previous voters (minting an epoch), a
     * learner waiting to catch up is removed. Completes with the configuration written, or the current one if
     * nothing was in progress.
     */
    public java.util.concurrent.CompletableFuture<Configuration> cancelChange() {
        return membership().cancel();
    }

    /** The replica set's configuration as ZooKeeper holds it now. */
    public Configuration configuration() throws Exception {
        Preconditions.checkState(configuration != null, "not started");
        return configuration.read().configuration();
    }

    private MembershipChanges membership() {
        Preconditions.checkState(membership != null, "not started");
        return membership;
    }

    /**
     * Replication messages this replica's transport dropped so far (not connected, over the connection's
     * high-water mark, a full queue, a frame too large; the protocol resends them): a rising count means a peer
     * does not keep up. 0 before {@link #start()}. Thread-safe.
     */
    public long transportMessagesDropped() {
        NettyTransport t = transport;
        return t == null ? 0 : t.messagesDropped();
    }

    /** The running replica. */
    public Replica replica() {
        Preconditions.checkState(replica != null, "not started");
        return replica;
    }

    /**
     * The replica set's current leader as ZooKeeper shows it: its id, the {@link Builder#endpoint endpoint} it
     * registered for clients and its epoch; empty between terms. A cached view for routing (see {@link
     * LeaderClient}), never for fencing. Thread-safe; never blocks.
     */
    public Optional<LeaderInfo> leader() {
        return discovery().leader();
    }

    /** The leader discovery this replica keeps on its election path (started; closed with the replica). */
    public LeaderDiscovery discovery() {
        Preconditions.checkState(discovery != null, "not started");
        return discovery;
    }

    /** The fenced election this replica takes part in. */
    public FencedLeaderElection election() {
        Preconditions.checkState(leadership != null, "not started");
        FencedLeaderElection e = leadership.election();
        Preconditions.checkState(e != null, "replica %s takes no part in the election (a learner, or removed)", b.id);
        return e;
    }

    /** The fast failover settings in force (resolved from the session timeout at start; off before start). */
    public FastFailover fastFailover() {
        return fastFailover;
    }

    /** Where the transport listens. */
    public InetSocketAddress replicationAddress() {
        Preconditions.checkState(transport != null, "not started");
        return transport.boundAddress();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (replica != null) {
            replica.close(); // closes leadership and transport
        } else {
            if (leadership != null) {
                leadership.close();
            }
            if (transport != null) {
                transport.close();
            }
        }
        if (segmentedLog != null) {
            try {
                segmentedLog.close();
            } catch (IOException e) {
                log.warn("closing the log of {} failed", b.id, e);
            }
        }
        if (membership != null) {
            membership.close();
        }
        if (configuration != null) {
            configuration.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (discovery != null) {
            discovery.close();
        }
        if (previousSession != null) {
            previousSession.close();
        }
    }
}
