package dev.tenure.replicator.zookeeper;

import com.google.common.base.Preconditions;
import dev.tenure.recipes.ElectionBackend;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.SuspensionPolicy;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicaListener;
import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.storage.FilePromiseStore;
import dev.tenure.replicator.storage.FileSnapshotStore;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.storage.SegmentedLog;
import dev.tenure.replicator.transport.Transport;
import dev.tenure.replicator.transport.netty.NettyTransport;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
 * <p>ZooKeeper layout under the cluster path: {@code members} (the agreed replica set), {@code
 * endpoints/ID} (replication endpoints), {@code leader/...} (the fenced election; the leader's epoch is the
 * replication epoch).
 *
 * <p>Start once; close is idempotent and closes everything it opened (not the client).
 */
public final class ZooKeeperReplica implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperReplica.class);

    private final Builder b;
    private ZooKeeperRegistry registry;
    private SegmentedLog segmentedLog;
    private FileSnapshotStore snapshots;
    private volatile NettyTransport transport;
    private ElectionLeadership leadership;
    private Replica replica;
    private boolean started;
    private boolean closed;

    private ZooKeeperReplica(Builder b) {
        this.b = b;
    }

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

        public Builder id(String id) {
            this.id = id;
            return this;
        }

        /** Every replica's id; all replicas must be configured with the same set. */
        public Builder members(List<String> members) {
            this.members = List.copyOf(members);
            return this;
        }

        public Builder dataDir(Path dir) {
            this.dataDir = dir;
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

        /** An opaque string that leader discovery shows for this replica (for example its HTTP URL). */
        public Builder endpoint(String endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        public Builder stateMachine(StateMachine sm) {
            this.stateMachine = sm;
            return this;
        }

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

        public ZooKeeperReplica build() {
            Preconditions.checkArgument(id != null && !id.isBlank(), "replica id must be set");
            Preconditions.checkArgument(members != null && members.contains(id), "members must include %s", id);
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
        registry.agreeOnMembers(b.members);
        registry.start();
        Files.createDirectories(b.dataDir);
        segmentedLog = SegmentedLog.open(b.dataDir.resolve("log"), b.logConfig);
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
                .members(b.members)
                .bindAddress(b.bind)
                .peerDirectory(registry)
                .build();
        leadership = new ElectionLeadership(l -> FencedLeaderElection.builder(b.client, electionPath)
                .participantId(b.id)
                .endpoint(b.endpoint)
                .backend(b.backend)
                .suspensionPolicy(SuspensionPolicy.REVOKE)
                .listener(l)
                .build());
        CoreConfig config = b.tuning.apply(CoreConfig.builder(b.id, b.members)).build();
        replica = Replica.builder()
                .config(config)
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
                .build();
        replica.start();
        InetSocketAddress advertised = b.advertise != null ? b.advertise : transport.boundAddress();
        registry.register(b.id, advertised, Duration.ofSeconds(10));
        log.info("replica {} of {} serves replication at {}", b.id, b.clusterPath, advertised);
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

    /** The fenced election this replica takes part in. */
    public FencedLeaderElection election() {
        Preconditions.checkState(leadership != null, "not started");
        return leadership.election();
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
        if (registry != null) {
            registry.close();
        }
    }
}
