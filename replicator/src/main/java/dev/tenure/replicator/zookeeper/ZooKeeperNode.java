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
import dev.tenure.recipes.PreviousSession;
import dev.tenure.recipes.SuspensionPolicy;
import dev.tenure.replicator.DeferredPromiseStore;
import dev.tenure.replicator.Leadership;
import dev.tenure.replicator.PeerLiveness;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicaExecutors;
import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.core.PromiseStore;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.storage.DirectoryLock;
import dev.tenure.replicator.storage.FilePromiseStore;
import dev.tenure.replicator.storage.FileSnapshotStore;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.storage.PrivateFiles;
import dev.tenure.replicator.storage.SegmentedLog;
import dev.tenure.replicator.storage.TailBudget;
import dev.tenure.replicator.storage.WriteAheadLog;
import dev.tenure.replicator.transport.ControlInbound;
import dev.tenure.replicator.transport.NodeTransport;
import dev.tenure.replicator.transport.PartitionIds;
import dev.tenure.replicator.transport.PartitionRouter;
import dev.tenure.replicator.transport.Transport;
import dev.tenure.replicator.transport.netty.NettyTransport;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node that hosts many partitions — many replicated logs, each with its own replica set (a subset of the nodes),
 * epochs, log, snapshots, state machine and fenced election — and shares between them everything that does not have
 * to be separate: one ZooKeeper client, one replication listener with one connection per pair of nodes (every
 * partition's messages tagged with its id), a fixed set of threads ({@link ReplicaExecutors#shared}; elections on a
 * control pool and two small ones), and one data directory.
 *
 * <pre>{@code
 * ZooKeeperNode node = ZooKeeperNode.builder(client, "/tenure/orders")
 *         .id("n1")
 *         .dataDir(Path.of("/var/lib/orders/n1"))
 *         .bind(new InetSocketAddress("127.0.0.1", 7101))
 *         .build();
 * node.start();
 * Replica p7 = node.open("orders-7", List.of("n1", "n2", "n3"), new OrdersMachine()).replica();
 * p7.propose(bytes).get();
 * }</pre>
 *
 * <p><b>ZooKeeper layout</b> under the cluster path {@code P}: {@code endpoints/NODE} (each node's replication
 * endpoint), and per partition {@code partitions/ID/configuration} (its replica set, {@link ZooKeeperConfiguration})
 * and {@code partitions/ID/leader/...} (its fenced election; the leader's epoch is the partition's replication
 * epoch). On disk: {@code DATA/partitions/ID/} holds the partition's {@code log/}, {@code snapshots/} and {@code
 * promise}; {@code DATA/wal/} the write-ahead log; {@code DATA/node.lock} is held from start to close (one process
 * per data directory, refused at start otherwise); {@code DATA/zookeeper-session} names the node's ZooKeeper session,
 * which the next run ends at its start ({@link Builder#endPreviousSession}).
 *
 * <p><b>Guarantees.</b> Each partition is a {@link Replica} like a single log: every guarantee of the single log holds
 * per partition (docs/partitions.md). Partitions share no protocol state: a message reaches only the partition it was
 * sent for, and a message for a partition this node does not host is dropped and counted.
 *
 * <p><b>Idle partitions cost nothing on the wire.</b> Partitions quiesce ({@link CoreConfig#quiesce()}): an idle
 * leader sends nothing once its followers know everything; the node's peer liveness (any message or ping on the
 * node pair's connections) keeps their check-quorum going.
 *
 * <p><b>Leaders spread.</b> The first replica of a partition's list is its <em>preferred</em> leader (as in Kafka),
 * and the list's order is the order of succession. Every {@link Builder#rebalanceInterval} a node gives up the
 * leadership of a partition it leads when a replica listed before it is another node that has promised its epoch and
 * holds its whole log: the term ends, and the next participant in line takes over; after at most two such hand-offs
 * the first such replica leads. So the preferred replica leads while it can, and while it cannot, the first live one
 * after it. {@link Placement#preferredSpread} places replicas so that preferred leaders spread evenly and so that the
 * partitions a node prefers have their second replicas on different nodes: a node's death spreads its partitions
 * over the others. With a {@link Builder#leadershipSource} the node spreads nothing: the source places the leaders
 * (the controller's rebalance).
 *
 * <p><b>Control messages.</b> A component running beside the node (a controller, its node agent) talks to other
 * nodes over the node's authenticated replication connections: {@link #sendControl} sends an opaque message of at
 * most {@link NodeTransport#MAX_CONTROL_BYTES} bytes, and the receiving node hands it to its {@link
 * Builder#controlInbound} with the sender's node id as its transport authenticated it (best effort, ordered with the
 * partitions' messages between the two nodes). The transport connects only nodes it knows: the replicas of the
 * partitions the node hosts, and the nodes given to {@link #controlPeers} — on both sides.
 *
 * <p>Thread-safe. Start once; close is idempotent, closes every partition and what the node opened (not the client).
 */
public final class ZooKeeperNode implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperNode.class);
    /**
     * Threads of the elections' control pool. Its work is mostly waiting on ZooKeeper: an epoch mint is four round
     * trips, one after the other. After a node that led a third of 1,000 partitions dies, the survivors mint for all of
     * them at once, and 4 threads made that about 70 mints a second on a slow ensemble (docs/performance.md).
     */
    private static final int CONTROL_THREADS = 16;
    /** The node's lock file in its data directory: one process per data directory. */
    static final String NODE_LOCK_FILE = "node.lock";
    /**
     * Threads that open partitions' files and replicas for {@link #openAll}: mostly waiting on fsyncs (a new
     * partition's directories and first segment), which ext4 groups into fewer journal commits when many are in flight.
     */
    private static final int OPEN_THREADS = 16;
    /** Partitions of one {@link #openAll} whose ZooKeeper requests are in flight at most. */
    private static final int OPEN_WINDOW = 64;
    /** A replica listed before the leader takes a partition over only if its node was heard from this recently. */
    private static final long PREFERRED_HEARD_WITHIN_MILLIS = 3_000;
    /** After a hand-over, the same partition is not handed over again for this many rebalance intervals. */
    private static final long HAND_OVER_DAMPING = 10;

    private final Builder b;
    private final Map<String, Partition> partitions = new ConcurrentHashMap<>();
    /** Partitions being opened (guarded by this). */
    private final Set<String> opening = new HashSet<>();

    private final Map<String, Long> heardFrom = new ConcurrentHashMap<>();
    /** The partitions' listeners of refused connects to a peer node (fast failover's hint). */
    private final Set<Consumer<String>> refusalListeners = ConcurrentHashMap.newKeySet();
    /** Fast failover as resolved at start. */
    private volatile FastFailover fastFailover = FastFailover.off();

    private ZooKeeperRegistry registry;
    /** The node's write-ahead log, unless {@link Builder#writeAheadLog} is off. */
    private WriteAheadLog wal;
    /** Without the write-ahead log: the bound the partitions' own logs share (the write-ahead log holds it else). */
    private TailBudget tailBudget;

    private NettyTransport transport;
    private volatile PartitionRouter router;
    /** Nodes the transport admits for control messages besides the partitions' replicas ({@link #controlPeers}). */
    private volatile Set<String> controlPeers = Set.of();
    /** The transport's members that the partitions call for: this node and their replicas (guarded by this). */
    private Set<String> partitionMembers = Set.of();

    private ReplicaExecutors executors;
    private ScheduledThreadPoolExecutor control;
    private ExecutorService electionPool;
    /** Runs membership changes, which wait for catch-up and activation (each partition's in order). */
    private ExecutorService membershipPool;
    /** Runs step-downs, which wait for the election's listener: never on the listener's own pool. */
    private ExecutorService stepDownPool;
    /** Opens partitions' files and replicas for {@link #openAll}; its threads start with the node. */
    private java.util.concurrent.ThreadPoolExecutor openPool;
    /** The ZooKeeper part of opening a partition, in the background. */
    private PartitionBootstrap bootstrap;
    /** Every partition's configuration watch, set by its bootstrap's read. */
    private ConfigurationWatches configurationWatches;
    /** When this node last handed each partition to its preferred replica (control thread only). */
    private final Map<String, Long> handedOver = new HashMap<>();

    private ScheduledFuture<?> rebalancing;
    /** Held from start to close: one process per data directory. */
    private DirectoryLock dataDirLock;

    private PreviousSession previousSession;
    private boolean started;
    private volatile boolean closed;

    private ZooKeeperNode(Builder b) {
        this.b = b;
    }

    /** A builder for a node of the cluster at {@code clusterPath}, through {@code client}. */
    public static Builder builder(CuratorFramework client, String clusterPath) {
        return new Builder(client, clusterPath);
    }

    /** Builds a {@link ZooKeeperNode}; the id and the data directory are required. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String clusterPath;
        private String clusterName;
        private String id;
        private Path dataDir;
        private InetSocketAddress bind = new InetSocketAddress("127.0.0.1", 0);
        private TlsContext transportTls;
        private InetSocketAddress advertise;
        private String endpoint = "";
        private LogConfig logConfig = LogConfig.defaults();
        private boolean writeAheadLog = true;
        private long tailCacheBytes = WriteAheadLog.DEFAULT_TAIL_CACHE_BYTES;
        private UnaryOperator<CoreConfig.Builder> tuning = UnaryOperator.identity();
        private Duration proposalTimeout = Duration.ofSeconds(10);
        private SnapshotPolicy snapshotPolicy = SnapshotPolicy.defaults();
        private int eventThreads = ReplicaExecutors.DEFAULT_EVENT_THREADS;
        private int syncThreads = ReplicaExecutors.DEFAULT_SYNC_THREADS;
        private Duration rebalanceInterval = Duration.ofSeconds(2);
        private UnaryOperator<Transport> transportWrapper = UnaryOperator.identity();
        private LeadershipSource leadershipSource;
        private FastFailover fastFailover = FastFailover.fromSessionTimeout();
        private ControlInbound controlInbound;
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

        /** This node's id: the replica id it has in every partition it hosts. */
        public Builder id(String id) {
            this.id = id;
            return this;
        }

        /** The directory of the node's write-ahead log and partitions; required. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** Where the replication transport listens; 127.0.0.1 on an ephemeral port by default. */
        /**
         * Mutual TLS for the replication transport (see {@link TlsContext}); without it the transport is plaintext
         * and says so at start with a WARN.
         */
        public Builder transportTls(TlsContext tls) {
            this.transportTls = tls;
            return this;
        }

        /** Where the transport listens; 127.0.0.1 on an ephemeral port by default. */
        public Builder bind(InetSocketAddress address) {
            this.bind = address;
            return this;
        }

        /** The replication address peers are told to use; the bound address by default. */
        public Builder advertise(InetSocketAddress address) {
            this.advertise = address;
            return this;
        }

        /** An opaque string that leader discovery shows for this node in every partition (its HTTP URL, say). */
        public Builder endpoint(String endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        /**
         * Whether partitions' appends become durable through one node-level write-ahead log ({@link WriteAheadLog},
         * {@code DATA/wal}: one fsync covers every partition's appends; the default) or each through its own log's
         * fsync (the partitions' files alone: as many fsyncs as partitions with writes in flight). Both keep each
         * partition's own segmented log for reads, truncation and compaction.
         */
        public Builder writeAheadLog(boolean enabled) {
            this.writeAheadLog = enabled;
            return this;
        }

        /**
         * The bytes of recent entries that the node's partition logs keep in memory together, for replication and
         * apply (default {@link WriteAheadLog#DEFAULT_TAIL_CACHE_BYTES}, 16 MiB): each open partition's log may hold
         * an equal share, plus its newest entry ({@link TailBudget}), with or without the {@link #writeAheadLog}.
         *
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder tailCacheBytes(long bytes) {
            Preconditions.checkArgument(bytes >= 0, "tailCacheBytes must be at least 0, was %s", bytes);
            this.tailCacheBytes = bytes;
            return this;
        }

        /** Segment size and sync policy of every partition's log (fsync by default). */
        public Builder logConfig(LogConfig config) {
            this.logConfig = config;
            return this;
        }

        /** Adjusts every partition's protocol settings; quiescence stays on. */
        public Builder tuning(UnaryOperator<CoreConfig.Builder> tuning) {
            this.tuning = tuning;
            return this;
        }

        /** How long a proposal may wait for its commit before its outcome is unknown; 10 s by default. */
        public Builder proposalTimeout(Duration timeout) {
            this.proposalTimeout = timeout;
            return this;
        }

        /** When partitions snapshot their state machines; {@link SnapshotPolicy#defaults()} by default. */
        public Builder snapshotPolicy(SnapshotPolicy policy) {
            this.snapshotPolicy = Preconditions.checkNotNull(policy, "policy");
            return this;
        }

        /** Threads of the shared event pool and sync pool ({@link ReplicaExecutors#shared(String, int, int, int)}). */
        public Builder threads(int eventThreads, int syncThreads) {
            Preconditions.checkArgument(eventThreads >= 1 && syncThreads >= 1, "at least one thread each");
            this.eventThreads = eventThreads;
            this.syncThreads = syncThreads;
            return this;
        }

        /**
         * How often the node checks whether to hand partitions to their preferred replicas; 2 s by default. Not used
         * with a {@link #leadershipSource}: the source places the leaders.
         */
        public Builder rebalanceInterval(Duration interval) {
            Preconditions.checkArgument(!interval.isNegative() && !interval.isZero(), "interval must be > 0");
            this.rebalanceInterval = interval;
            return this;
        }

        /**
         * Where each partition's leadership comes from instead of a fenced election per partition on ZooKeeper (a
         * controller that assigns leaders, say). The source must give each partition epochs that are unique and
         * increasing across all its replicas, as the election's mint does: the protocol's fencing rests on them.
         */
        public Builder leadershipSource(LeadershipSource source) {
            this.leadershipSource = Preconditions.checkNotNull(source, "source");
            return this;
        }

        /**
         * Whether the node ends, at start, the ZooKeeper session its previous run left (on by default): the session's
         * id and password are kept in {@code DATA/zookeeper-session} ({@link PreviousSession}), so that a node
         * restarted before its old session expired takes its old election nodes and registration away at once
         * instead of leaving every partition it led to wait for that expiry (docs/partitions.md, "A node that comes
         * back"). Off: a restart waits for the expiry, or for fast failover's depose.
         */
        public Builder endPreviousSession(boolean enabled) {
            this.endPreviousSession = enabled;
            return this;
        }

        /**
         * Fast failover for every partition's election (docs/replication.md, "Fast failover"): on by default with
         * bounds derived from the session timeout ({@link FastFailover#fromSessionTimeout()}); {@link
         * FastFailover#off()} turns it off. No thread of its own: suspicions are ZooKeeper requests in the background,
         * deposes run on the node's step-down pool. Not used with a {@link #leadershipSource}.
         */
        public Builder fastFailover(FastFailover settings) {
            this.fastFailover = Preconditions.checkNotNull(settings, "settings");
            return this;
        }

        /**
         * Where the control messages that reach this node go ({@link ZooKeeperNode#sendControl}), from the node's
         * start on: called on a transport thread with the sender's authenticated node id, so it must only enqueue.
         * Without one, control messages that arrive are dropped and counted ({@link
         * ZooKeeperNode#controlDropped()}).
         */
        public Builder controlInbound(ControlInbound inbound) {
            this.controlInbound = Preconditions.checkNotNull(inbound, "inbound");
            return this;
        }

        /** Wraps each partition's transport view (for fault injection in tests). */
        public Builder transportWrapper(UnaryOperator<Transport> wrapper) {
            this.transportWrapper = Preconditions.checkNotNull(wrapper, "wrapper");
            return this;
        }

        /** The node, not started yet; throws {@link IllegalArgumentException} without an id or a data directory. */
        public ZooKeeperNode build() {
            Preconditions.checkArgument(id != null && !id.isBlank(), "node id must be set");
            Preconditions.checkArgument(dataDir != null, "data directory must be set");
            if (clusterName == null) {
                clusterName = ZKPaths.getNodeFromPath(clusterPath);
            }
            return new ZooKeeperNode(this);
        }
    }

    /** Where each partition's leadership comes from ({@link Builder#leadershipSource}). */
    @FunctionalInterface
    public interface LeadershipSource {
        /** The leadership of this node's replica of {@code partition}, whose replica set is {@code configuration}. */
        Leadership forPartition(String partition, Configuration configuration);

        /**
         * Where the replica of {@code partition} asks for a joint configuration to be activated (docs/replication.md,
         * "Membership change", rule 3) when its leadership comes from this source: a source that changes the voters
         * of a partition (with a new epoch per change, as the controller does) activates them here. {@link
         * dev.tenure.replicator.ConfigurationMaster#NONE} by default: a source that never changes the voters.
         */
        default dev.tenure.replicator.ConfigurationMaster configurationMaster(String partition) {
            return dev.tenure.replicator.ConfigurationMaster.NONE;
        }
    }

    /**
     * A partition to open with {@link #openAll}: its id, its replica set (preferred leader first; used only if the
     * partition is new) and its state machine.
     */
    public record PartitionSpec(String id, List<String> replicas, StateMachine stateMachine) {
        /** Copies the replicas. */
        public PartitionSpec {
            replicas = List.copyOf(replicas);
        }
    }

    /** One partition this node hosts: its replica and what it was opened with. */
    public static final class Partition implements Closeable {
        private final String id;
        private final List<String> replicas;
        private final Path dir;
        private final ZooKeeperConfiguration configuration;
        private final Closeable logFiles;
        private final Leadership leadership;
        private final Replica replica;
        private final MembershipChanges membership;
        /** The registration of the configuration's watch, once the partition is open. */
        private volatile ConfigurationWatches.Registration configurationWatch = () -> {};

        private Partition(
                String id,
                List<String> replicas,
                Path dir,
                ZooKeeperConfiguration configuration,
                Closeable log,
                Leadership leadership,
                Replica replica,
                MembershipChanges membership) {
            this.id = id;
            this.replicas = replicas;
            this.dir = dir;
            this.configuration = configuration;
            this.logFiles = log;
            this.leadership = leadership;
            this.replica = replica;
            this.membership = membership;
        }

        /** The partition's id. */
        public String id() {
            return id;
        }

        /** The replica set, preferred leader first, as ZooKeeper held it when the partition was opened. */
        public List<String> replicas() {
            return replicas;
        }

        /**
         * The preferred leader: the first voter of the newest configuration this replica knows (the first replica it
         * was opened with, until the replica set changes).
         */
        public String preferredLeader() {
            return succession().get(0);
        }

        /**
         * The order of succession: the voters of the newest configuration this replica knows, in their order (the
         * replicas it was opened with, until the replica set changes). The first is the {@link #preferredLeader}; a
         * node leading the partition hands it to a caught-up replica listed before it.
         */
        public List<String> succession() {
            List<String> voters = replica.status().configuration().voters();
            return voters.isEmpty() ? replicas : voters;
        }

        /**
         * Adds node {@code id} to this partition's replica set, as {@link ZooKeeperReplica#addMember} does for a
         * single log: a learner first (open the partition on that node once it is one), a voter once caught up. Must
         * be called on the partition's leader.
         */
        public java.util.concurrent.CompletableFuture<Configuration> addMember(String id, Duration catchUpTimeout) {
            return membership().add(id, catchUpTimeout);
        }

        /** Removes node {@code id} from this partition's replica set; see {@link ZooKeeperReplica#removeMember}. */
        public java.util.concurrent.CompletableFuture<Configuration> removeMember(String id) {
            return membership().remove(id);
        }

        /** Replaces voter {@code old} by {@code replacement}; see {@link ZooKeeperReplica#replaceMember}. */
        public java.util.concurrent.CompletableFuture<Configuration> replaceMember(
                String old, String replacement, Duration catchUpTimeout) {
            return membership().replace(old, replacement, catchUpTimeout);
        }

        /** Cancels the change in progress; see {@link ZooKeeperReplica#cancelChange}. */
        public java.util.concurrent.CompletableFuture<Configuration> cancelChange() {
            return membership().cancel();
        }

        /** This partition's replica set as ZooKeeper holds it now. */
        public Configuration configuration() throws Exception {
            return configuration.read().configuration();
        }

        private MembershipChanges membership() {
            Preconditions.checkState(
                    membership != null,
                    "partition %s takes its leadership from another source: no membership changes",
                    id);
            return membership;
        }

        /** This node's replica of the partition. */
        public Replica replica() {
            return replica;
        }

        /** Where the partition's log, snapshots and promise live. */
        public Path dataDir() {
            return dir;
        }

        Leadership leadership() {
            return leadership;
        }

        @Override
        public void close() {
            if (membership != null) {
                membership.close();
            }
            configurationWatch.close();
            replica.close(); // closes its leadership and its transport view
            try {
                logFiles.close();
            } catch (IOException e) {
                log.warn("closing the log of partition {} failed", id, e);
            }
            configuration.close();
        }

        @Override
        public String toString() {
            return "Partition[" + id + " on " + replicas + "]";
        }
    }

    /**
     * Starts the node's shared parts: the replication listener, the threads, the endpoint registration. Partitions
     * are opened afterwards with {@link #open}.
     */
    public synchronized void start() throws Exception {
        Preconditions.checkState(!started && !closed, "Cannot be started more than once");
        started = true;
        PrivateFiles.createDirectories(b.dataDir);
        dataDirLock = DirectoryLock.acquire(
                b.dataDir.resolve(NODE_LOCK_FILE), "node " + b.id + "'s data directory " + b.dataDir);
        if (b.endPreviousSession) {
            // Before anything of this run is in ZooKeeper, and only once this process holds the data directory.
            previousSession = PreviousSession.builder(b.client, b.dataDir.resolve(PreviousSession.FILE_NAME))
                    .build();
            try {
                PreviousSession.Outcome outcome = previousSession.start();
                log.info("node {}: the previous run's ZooKeeper session: {}", b.id, outcome);
            } catch (IOException e) {
                log.warn("node {}: the previous run's ZooKeeper session is left to expire", b.id, e);
            }
        }
        registry = new ZooKeeperRegistry(b.client, b.clusterPath);
        registry.start();
        Path partitionsDir = b.dataDir.resolve("partitions");
        PrivateFiles.createDirectories(partitionsDir);
        if (b.writeAheadLog) {
            // Recovery first: it replays what the partitions' own files may lack.
            wal = WriteAheadLog.builder(
                            b.dataDir.resolve("wal"),
                            p -> partitionsDir.resolve(p).resolve("log"))
                    .partitionConfig(b.logConfig)
                    .tailCacheBytes(b.tailCacheBytes)
                    .open();
        } else {
            tailBudget = new TailBudget(b.tailCacheBytes);
        }
        executors = ReplicaExecutors.shared(b.id, b.eventThreads, b.syncThreads, 2);
        // Each election's control work runs in order on a lane of this pool; elections of different partitions in
        // parallel, so that a failover of hundreds of partitions does not mint one epoch after another.
        control = new ScheduledThreadPoolExecutor(CONTROL_THREADS, named("tenure-" + b.id + "-control-"));
        control.setRemoveOnCancelPolicy(true);
        control.prestartAllCoreThreads(); // a fixed set, as the open pool's
        electionPool = Executors.newFixedThreadPool(2, named("tenure-" + b.id + "-election-"));
        stepDownPool = Executors.newFixedThreadPool(2, named("tenure-" + b.id + "-step-down-"));
        membershipPool = Executors.newFixedThreadPool(2, named("tenure-" + b.id + "-membership-"));
        openPool = new java.util.concurrent.ThreadPoolExecutor(
                OPEN_THREADS,
                OPEN_THREADS,
                0,
                TimeUnit.MILLISECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(),
                named("tenure-" + b.id + "-open-"));
        openPool.prestartAllCoreThreads(); // a fixed set: the same threads whether one partition opens or a thousand
        String partitionsPath = ZKPaths.makePath(b.clusterPath, "partitions");
        if (b.client.checkExists().forPath(partitionsPath) == null) {
            try {
                b.client
                        .create()
                        .creatingParentContainersIfNeeded()
                        .withMode(org.apache.zookeeper.CreateMode.CONTAINER)
                        .forPath(partitionsPath);
            } catch (org.apache.zookeeper.KeeperException.NodeExistsException created) {
                // by another node meanwhile
            }
        }
        configurationWatches =
                new ConfigurationWatches(b.client, id -> PartitionBootstrap.configurationPath(partitionsPath, id));
        bootstrap = new PartitionBootstrap(
                b.client, partitionsPath, b.id, b.leadershipSource == null, openPool, configurationWatches);
        fastFailover = b.leadershipSource != null
                ? FastFailover.off()
                : b.fastFailover.resolve(FastFailover.sessionTimeoutOf(b.client));
        partitionMembers = Set.of(b.id);
        NettyTransport.Builder transportBuilder = NettyTransport.builder()
                .selfId(b.id)
                .clusterName(b.clusterName)
                .members(List.copyOf(transportMembers()))
                .bindAddress(b.bind)
                .peerDirectory(registry)
                .security(b.transportTls);
        if (fastFailover.enabled()) {
            // A quiet leader is heard only through its node's pings: several of them within a suspicion timeout.
            Duration ping = fastFailover.suspicionTimeout().dividedBy(4);
            if (ping.compareTo(NettyTransport.DEFAULT_PING_INTERVAL) < 0) {
                transportBuilder.pingInterval(ping.isZero() ? Duration.ofMillis(1) : ping);
            }
        }
        transport = transportBuilder.build();
        transport.connectionRefusals(node -> refusalListeners.forEach(l -> l.accept(node)));
        PartitionRouter partitionRouter = new PartitionRouter(transport.asNodeTransport());
        if (b.controlInbound != null) {
            partitionRouter.controlInbound(b.controlInbound);
        }
        router = partitionRouter;
        partitionRouter.start();
        InetSocketAddress advertised = b.advertise != null ? b.advertise : transport.boundAddress();
        registry.register(b.id, advertised, Duration.ofSeconds(10));
        if (b.leadershipSource == null) {
            // With a leadership source, the source places the leaders (a controller and its own rebalance): a term
            // given up here to hand a partition to its preferred replica would only make the source move it again.
            long every = b.rebalanceInterval.toNanos();
            rebalancing = control.scheduleWithFixedDelay(this::rebalance, every, every, TimeUnit.NANOSECONDS);
        }
        log.info("node {} of {} serves replication at {}", b.id, b.clusterPath, advertised);
    }

    /**
     * Opens partition {@code id} with {@code stateMachine}: creates it in ZooKeeper with {@code replicas} (preferred
     * leader first) if it does not exist yet, opens its files under the data directory, and joins its election. Waits
     * on ZooKeeper about two round trips (see {@link #openAll} to open many partitions without waiting on each).
     *
     * @throws IllegalArgumentException if the id is not a valid partition id ({@code [A-Za-z0-9._-]{1,64}}) or the
     *     replica set is empty or does not include this node
     * @throws IllegalStateException if the partition is open already, or ZooKeeper holds another replica set for it
     * @throws IOException if its log or every snapshot is corrupt
     */
    public Partition open(String id, List<String> replicas, StateMachine stateMachine) throws Exception {
        reserve(id, replicas, stateMachine);
        // Partitions open concurrently (each open waits on ZooKeeper a few round trips); the same one only once.
        try {
            PartitionBootstrap.Bootstrapped boot;
            try {
                boot = bootstrap.start(id, replicas).get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
            return openReserved(id, replicas, stateMachine, boot);
        } finally {
            release(id);
        }
    }

    /**
     * Opens many partitions at once, as {@link #open} opens one, without waiting on ZooKeeper for each: every
     * partition's ZooKeeper requests are sent in the background (a read of its configuration, and either one
     * transaction creating the partition with its election nodes or one read of its epoch floor: docs/partitions.md),
     * so that up to 64 partitions' requests are in flight on the session at a time, and each partition's files and
     * replica are opened on the node's open threads (16, started with the node: opening is mostly waiting on fsyncs,
     * which the filesystem groups when many are in flight) as soon as its ZooKeeper part is done.
     * The partitions this node is the preferred leader of ({@code replicas} first) are opened first, so that they tend
     * to elect it and need no hand-over.
     *
     * <p>Returns, once every partition's requests have been sent, one future per spec, in the order of {@code specs},
     * each completing with the opened partition or failing with what {@link #open} would throw for it: {@link
     * IllegalArgumentException} (invalid id or replica set, a new partition without this node), {@link
     * IllegalStateException} (open already — also a second spec with the same id —, another replica set in ZooKeeper,
     * the node closed), {@link IOException} (corrupt files) or a ZooKeeper exception. A partition's failure affects
     * no other; a failed partition is not open (nothing is left running; what it created in ZooKeeper stays, as for
     * {@link #open}), and can be opened again.
     *
     * <p>Thread-safe: may be called from any thread, concurrently with {@link #open}, {@link #close(String)} and other
     * calls. Blocks only while 64 partitions' ZooKeeper requests are in flight (ZooKeeper answers a session's
     * requests in order: a deeper queue would delay the elections' own requests behind it). The futures complete on the node's
     * open threads or Curator's event thread: what depends on them should not block there.
     *
     * @throws IllegalStateException if the node is not running
     * @throws InterruptedException if interrupted while waiting to send; the partitions sent so far go on opening
     */
    public List<java.util.concurrent.CompletableFuture<Partition>> openAll(List<PartitionSpec> specs)
            throws InterruptedException {
        synchronized (this) {
            Preconditions.checkState(started && !closed, "node %s is not running", b.id);
        }
        List<java.util.concurrent.CompletableFuture<Partition>> futures = new ArrayList<>();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            futures.add(new java.util.concurrent.CompletableFuture<>());
            order.add(i);
        }
        // Preferred partitions first (a stable sort: otherwise in the given order).
        order.sort(java.util.Comparator.comparing(i -> specs.get(i).replicas().isEmpty()
                || !specs.get(i).replicas().get(0).equals(b.id)));
        java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(OPEN_WINDOW);
        long began = System.nanoTime();
        AtomicInteger zooKeeperLeft = new AtomicInteger(specs.size());
        AtomicInteger left = new AtomicInteger(specs.size());
        for (java.util.concurrent.CompletableFuture<Partition> f : futures) {
            java.util.concurrent.CompletableFuture<?> unused = f.whenComplete((p, e) -> {
                if (left.decrementAndGet() == 0) {
                    log.info(
                            "node {} opened {} partitions in {} ms",
                            b.id,
                            specs.size(),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
                }
            });
        }
        for (int i : order) {
            PartitionSpec spec = specs.get(i);
            java.util.concurrent.CompletableFuture<Partition> result = futures.get(i);
            try {
                reserve(spec.id(), spec.replicas(), spec.stateMachine());
            } catch (RuntimeException e) {
                zooKeeperLeft.decrementAndGet();
                result.completeExceptionally(e);
                continue;
            }
            window.acquire();
            java.util.concurrent.CompletableFuture<PartitionBootstrap.Bootstrapped> zk;
            try {
                zk = bootstrap.start(spec.id(), spec.replicas());
            } catch (RuntimeException e) {
                zk = java.util.concurrent.CompletableFuture.failedFuture(e);
            }
            // Each step completes `result` itself: nothing waits on what whenComplete returns.
            java.util.concurrent.CompletableFuture<?> unused = zk.whenComplete((boot, failure) -> {
                window.release();
                if (zooKeeperLeft.decrementAndGet() == 0) {
                    log.info(
                            "node {}: the ZooKeeper part of opening {} partitions took {} ms",
                            b.id,
                            specs.size(),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
                }
                if (failure != null) {
                    release(spec.id());
                    result.completeExceptionally(failure);
                    return;
                }
                try {
                    openPool.execute(() -> {
                        try {
                            result.complete(openReserved(spec.id(), spec.replicas(), spec.stateMachine(), boot));
                        } catch (Exception | Error e) {
                            result.completeExceptionally(e);
                        } finally {
                            release(spec.id());
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    release(spec.id());
                    result.completeExceptionally(new IllegalStateException(
                            "node " + b.id + " closed while partition " + spec.id() + " opened"));
                }
            });
        }
        return futures;
    }

    /** Checks what {@link #open} is given and marks {@code id} as being opened. */
    private void reserve(String id, List<String> replicas, StateMachine stateMachine) {
        PartitionIds.check(id);
        Preconditions.checkArgument(!replicas.isEmpty(), "partition %s needs replicas", id);
        Preconditions.checkArgument(
                new HashSet<>(replicas).size() == replicas.size(), "replicas of %s must be distinct: %s", id, replicas);
        Preconditions.checkNotNull(stateMachine, "stateMachine");
        synchronized (this) {
            Preconditions.checkState(started && !closed, "node %s is not running", b.id);
            Preconditions.checkState(
                    !partitions.containsKey(id) && !opening.contains(id), "partition %s is open already", id);
            opening.add(id);
        }
    }

    private synchronized void release(String id) {
        opening.remove(id);
        if (!partitions.containsKey(id)) {
            configurationWatches.forget(id); // the open failed: its bootstrap may have set a watch
        }
    }

    private Partition openReserved(
            String id, List<String> replicas, StateMachine stateMachine, PartitionBootstrap.Bootstrapped boot)
            throws Exception {
        synchronized (this) {
            Preconditions.checkState(!closed, "node %s closed while partition %s opened", b.id, id);
        }
        String partitionPath = ZKPaths.makePath(ZKPaths.makePath(b.clusterPath, "partitions"), id);
        ZooKeeperConfiguration configuration = new ZooKeeperConfiguration(b.client, partitionPath);
        Configuration config = boot.configuration();
        String mismatch = null;
        if (config.version() == 0 && !config.voters().equals(List.copyOf(replicas))) {
            mismatch = "partition " + id + " has replicas " + config.voters() + " in ZooKeeper at "
                    + configuration.path() + ", not " + replicas;
        } else if (!config.contains(b.id)) {
            mismatch = "node " + b.id + " is not a member of partition " + id + " (" + config
                    + "); add it first (Partition.addMember on the partition's leader)";
        }
        if (mismatch != null) {
            configuration.close();
            throw new IllegalStateException(mismatch);
        }
        if (config.version() > 0 && !config.voters().equals(List.copyOf(replicas))) {
            log.info(
                    "node {}: partition {} is {}; the replicas given are used only for a new partition",
                    b.id,
                    id,
                    config);
        }
        Path dir = b.dataDir.resolve("partitions").resolve(id);
        Closeable opened = null;
        try {
            PrivateFiles.createDirectories(dir);
            if (wal != null) {
                WriteAheadLog.PartitionLog partitionLog = wal.openPartition(id);
                opened = partitionLog;
                return open(
                        id,
                        stateMachine,
                        partitionPath,
                        configuration,
                        boot,
                        dir,
                        partitionLog,
                        r -> r.log(partitionLog, partitionLog::syncAsync));
            }
            SegmentedLog segmentedLog = SegmentedLog.open(dir.resolve("log"), b.logConfig, tailBudget);
            opened = segmentedLog;
            return open(
                    id,
                    stateMachine,
                    partitionPath,
                    configuration,
                    boot,
                    dir,
                    segmentedLog,
                    r -> r.log(segmentedLog, segmentedLog::syncWithEpoch, false));
        } catch (Exception | Error e) {
            if (opened != null) {
                try {
                    opened.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            configuration.close();
            throw e;
        }
    }

    private Partition open(
            String id,
            StateMachine stateMachine,
            String partitionPath,
            ZooKeeperConfiguration configuration,
            PartitionBootstrap.Bootstrapped boot,
            Path dir,
            Closeable logFiles,
            UnaryOperator<Replica.Builder> withLog)
            throws Exception {
        FileSnapshotStore snapshots = FileSnapshotStore.open(dir.resolve("snapshots"), b.logConfig.syncPolicy());
        FilePromiseStore promiseFile = new FilePromiseStore(dir.resolve("promise"), b.logConfig.syncPolicy());
        // With the node's write-ahead log, the promise is recorded there and forced with every partition's writes
        // (the file, written before, is only read); each its own file otherwise.
        PromiseStore promises =
                logFiles instanceof WriteAheadLog.PartitionLog walLog ? walLog.promiseStore(promiseFile) : promiseFile;
        String electionPath = ZooKeeperRegistry.electionPath(partitionPath);
        Configuration config = boot.configuration();
        if (b.leadershipSource == null && promises.load().epoch() == 0 && boot.epochFloor() > 0) {
            // A replica without a promise (new, or its disk wiped) refuses every epoch below the latest minted (read
            // with the configuration, before the files were opened: epochs only grow, so it is a lower bound).
            promises.store(new Promise(boot.epochFloor(), ""));
            if (promises instanceof DeferredPromiseStore deferred) {
                deferred.syncAsync().get(); // durable before the replica starts
            }
        }
        admitMembers(config.members());
        Leadership leadership = b.leadershipSource != null
                ? b.leadershipSource.forPartition(id, config)
                : new ElectionLeadership(
                        l -> electionBuilder(electionPath, boot.electionPathsExist())
                                .participantId(b.id)
                                .endpoint(b.endpoint)
                                .backend(ElectionBackend.LEADER_LATCH)
                                .suspensionPolicy(SuspensionPolicy.REVOKE)
                                .controlScheduler(control)
                                .listenerExecutor(electionPool)
                                .listener(l)
                                .build(),
                        () -> configuration.read().configuration(),
                        stepDownPool);
        ElectionLeadership election = leadership instanceof ElectionLeadership el ? el : null;
        if (election != null) {
            election.participate(config.voters().contains(b.id)); // a learner does not campaign
        }
        java.util.concurrent.atomic.AtomicReference<Configuration> newest =
                new java.util.concurrent.atomic.AtomicReference<>(config);
        FastFailover failover = election == null ? FastFailover.off() : fastFailover;
        CoreConfig.Builder core = CoreConfig.builder(b.id, config.voters());
        if (failover.enabled()) {
            election.fastFailover(b.client, electionPath, b.id, newest::get, failover.deposeBackoff());
            core.fastFailover(failover.suspicionTimeout(), failover.minimumTerm());
        }
        CoreConfig coreConfig = b.tuning.apply(core).quiesce(true).build();
        Transport view = b.transportWrapper.apply(heard(router.partition(id)));
        Replica replica = withLog.apply(Replica.builder())
                .config(coreConfig)
                .promises(promises)
                .snapshots(snapshots)
                .snapshotPolicy(b.snapshotPolicy)
                .transport(view)
                .configuration(config)
                .configurationMaster(
                        election == null
                                ? (b.leadershipSource != null
                                        ? b.leadershipSource.configurationMaster(id)
                                        : dev.tenure.replicator.ConfigurationMaster.NONE)
                                : (epoch, joint) -> configuration.activateInTerm(election, b.id, epoch, joint))
                .leadership(leadership)
                .stateMachine(stateMachine)
                .executors(executors)
                .peerLiveness(peerLiveness())
                .proposalTimeout(b.proposalTimeout)
                .maxPayloadBytes(Math.min(
                        Replica.DEFAULT_MAX_PAYLOAD_BYTES, b.logConfig.maxRecordBytes() - SegmentedLog.HEADER_BYTES))
                .build();
        MembershipChanges membership =
                election == null ? null : new MembershipChanges(b.id, configuration, replica, membershipPool);
        Partition p = new Partition(
                id, List.copyOf(config.voters()), dir, configuration, logFiles, leadership, replica, membership);
        try {
            replica.start();
        } catch (Exception | Error e) {
            replica.close(); // leaves the election, closes the transport view
            throw e;
        }
        synchronized (this) {
            if (closed) {
                p.close();
                throw new IllegalStateException("node " + b.id + " closed while partition " + id + " opened");
            }
            partitions.put(id, p);
        }
        p.configurationWatch = configurationWatches.listen(id, c -> {
            newest.accumulateAndGet(c, (known, next) -> next.version() > known.version() ? next : known);
            addMembers(c.members());
            if (election != null && c.contains(b.id)) {
                election.participate(c.voters().contains(b.id));
            }
            replica.configure(c); // a configuration without this node removes its replica: it stops
        });
        return p;
    }

    private FencedLeaderElection.Builder electionBuilder(String electionPath, boolean pathsExist) {
        FencedLeaderElection.Builder builder = FencedLeaderElection.builder(b.client, electionPath);
        return pathsExist ? builder.pathsCreated() : builder;
    }

    /** The reads of configuration nodes this node's watches sent beyond the bootstraps' (for tests in this package). */
    long configurationReads() {
        return configurationWatches.reads();
    }

    /** The node's transport (for tests in this package: closing it is how a test kills the node's sockets). */
    NettyTransport transport() {
        return transport;
    }

    /** The fast failover settings in force (resolved from the session timeout at start; off before start). */
    public FastFailover fastFailover() {
        return fastFailover;
    }

    /** Whether this node hosts partition {@code id} or is opening it now. */
    public synchronized boolean hostsOrOpens(String id) {
        return partitions.containsKey(id) || opening.contains(id);
    }

    /** The partition {@code id}, if this node hosts it. */
    public Optional<Partition> partition(String id) {
        return Optional.ofNullable(partitions.get(id));
    }

    /**
     * The replica of partition {@code id} on this node.
     *
     * @throws IllegalArgumentException if this node does not host it
     */
    public Replica replica(String id) {
        Partition p = partitions.get(id);
        Preconditions.checkArgument(p != null, "node %s does not host partition %s", b.id, id);
        return p.replica();
    }

    /**
     * Proposes {@code payload} to partition {@code id}: see {@link Replica#propose}; on a node that does not lead the
     * partition it fails with {@link dev.tenure.replicator.ReplicationException.NotLeaderException} naming the leader.
     *
     * @throws IllegalArgumentException if this node does not host the partition
     */
    public java.util.concurrent.CompletableFuture<dev.tenure.replicator.Committed> propose(String id, byte[] payload) {
        return replica(id).propose(payload);
    }

    /** The partitions this node hosts, by id. */
    public Map<String, Partition> partitions() {
        Map<String, Partition> sorted = new java.util.TreeMap<>(partitions);
        return java.util.Collections.unmodifiableMap(sorted);
    }

    /** Each hosted partition's status, by partition id. */
    public Map<String, Replica.Status> status() {
        Map<String, Replica.Status> statuses = new LinkedHashMap<>();
        for (Map.Entry<String, Partition> e : partitions().entrySet()) {
            statuses.put(e.getKey(), e.getValue().replica().status());
        }
        return statuses;
    }

    /** The ids of the partitions this node leads now. */
    public Set<String> leading() {
        Set<String> ids = new java.util.TreeSet<>();
        for (Partition p : partitions.values()) {
            if (p.replica().status().role() == Role.LEADER) {
                ids.add(p.id());
            }
        }
        return ids;
    }

    /**
     * Closes partition {@code id} if this node hosts it and deletes its files for good: its directory under the data
     * directory, and, with the write-ahead log, a durable record that it is deleted, so that recovery never replays
     * its earlier records ({@link WriteAheadLog#deletePartition}). A partition not hosted has its files deleted if
     * there are any. Opening the same id later starts from nothing.
     *
     * @throws IOException if its files cannot be deleted
     * @throws IllegalStateException if the partition is being opened
     */
    public void deletePartition(String id) throws IOException {
        PartitionIds.check(id);
        synchronized (this) {
            Preconditions.checkState(!opening.contains(id), "partition %s is being opened", id);
        }
        close(id);
        Path dir = b.dataDir.resolve("partitions").resolve(id);
        WriteAheadLog w = wal;
        if (w != null) {
            w.deletePartition(id);
        }
        if (java.nio.file.Files.exists(dir)) {
            com.google.common.io.MoreFiles.deleteRecursively(
                    dir, com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE);
        }
        log.info("node {}: deleted partition {}", b.id, id);
    }

    /** Closes one partition (it leaves its election; its files stay). */
    public void close(String id) {
        Partition p = partitions.remove(id);
        if (p != null) {
            p.close();
        }
    }

    /** This node's id. */
    public String id() {
        return b.id;
    }

    /** Where the replication transport listens. */
    public InetSocketAddress replicationAddress() {
        Preconditions.checkState(transport != null, "not started");
        return transport.boundAddress();
    }

    /** The number of threads the node runs besides the ZooKeeper client's: fixed, whatever the number of partitions. */
    public int threads() {
        Preconditions.checkState(executors != null, "not started");
        return executors.threads()
                + CONTROL_THREADS
                + OPEN_THREADS
                + 2
                + 2
                + 2
                + NettyTransport.DEFAULT_WORKER_THREADS
                + 1
                + (wal != null ? WriteAheadLog.THREADS : 0);
    }

    /** Messages received for partitions this node does not host (dropped). */
    public long unknownPartitionMessages() {
        return router == null ? 0 : router.unknownPartitionMessages();
    }

    /**
     * The peer nodes this node has an outbound replication connection to now; one connection each carries every
     * partition's messages to that node.
     */
    public int connectedPeers() {
        return transport == null ? 0 : transport.connectedPeers();
    }

    /** The write-ahead log's counters (forces, records, bytes), or empty if the node runs without one. */
    public Optional<WriteAheadLog.Stats> writeAheadLogStats() {
        return wal == null ? Optional.empty() : Optional.of(wal.stats());
    }

    /**
     * Sends control message {@code body} to node {@code toNode} over this node's replication connection to it,
     * where it reaches that node's {@link Builder#controlInbound} with this node's id as the sender. Best effort and
     * never blocks: dropped if no connection can be had, or if {@code toNode} is neither a replica of a partition this
     * node hosts nor one of its {@link #controlPeers} (and the receiving node must know this one the same way). Of
     * what one thread sends to one node, what arrives arrives in order. Thread-safe.
     *
     * @throws IllegalArgumentException if {@code body} is over {@link NodeTransport#MAX_CONTROL_BYTES} bytes, or
     *     {@code toNode} is null, empty or this node's id
     * @throws IllegalStateException before {@link #start()} or after {@link #close()}
     */
    public void sendControl(String toNode, byte[] body) {
        PartitionRouter r = router;
        if (r == null || closed) {
            NodeTransport.checkControl(toNode, body);
            throw new IllegalStateException(
                    "node " + b.id + (closed ? " is closed" : " is not started") + ": cannot send a control message");
        }
        r.sendControl(toNode, body);
    }

    /**
     * Sets the nodes this node exchanges control messages with besides the replicas of the partitions it hosts (a
     * controller: every live node; a node agent: the controller), replacing the previous set; this node's id in it
     * is ignored. The replication transport then admits connections from them and makes connections to them, as it
     * does for the partitions' replicas; a node that leaves the set stays connected while a partition still names
     * it. May be called before {@link #start()} (applied at start) and at any time after. Thread-safe.
     *
     * @throws IllegalArgumentException if an id is null or empty
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized void controlPeers(Collection<String> nodes) {
        Preconditions.checkState(!closed, "node %s is closed", b.id);
        Set<String> next = new java.util.LinkedHashSet<>();
        for (String n : nodes) {
            Preconditions.checkArgument(n != null && !n.isEmpty(), "node ids must not be null or empty: %s", nodes);
            if (!n.equals(b.id)) {
                next.add(n);
            }
        }
        controlPeers = java.util.Collections.unmodifiableSet(next);
        if (transport != null) {
            transport.members(transportMembers());
        }
    }

    /** The nodes given to {@link #controlPeers}, this node's id left out. */
    public Set<String> controlPeers() {
        return controlPeers;
    }

    /** Control messages that reached this node while it had no {@link Builder#controlInbound}, dropped. */
    public long controlDropped() {
        PartitionRouter r = router;
        return r == null ? 0 : r.controlDropped();
    }

    /** Replication messages the transport sent so far. */
    public long messagesSent() {
        return transport == null ? 0 : transport.messagesSent();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (rebalancing != null) {
            rebalancing.cancel(false);
        }
        // Closed in place, not removed: a proposal that reaches a closed partition gets its replica's answer (after a
        // hand-off, the refusal naming the successor), never "does not host".
        for (Partition p : new ArrayList<>(partitions.values())) {
            p.close();
        }
        if (configurationWatches != null) {
            configurationWatches.close();
        }
        if (router != null) {
            router.close();
        }
        if (transport != null) {
            transport.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (control != null) {
            control.shutdownNow();
        }
        if (electionPool != null) {
            electionPool.shutdownNow();
        }
        if (stepDownPool != null) {
            stepDownPool.shutdownNow();
        }
        if (membershipPool != null) {
            membershipPool.shutdownNow();
        }
        if (openPool != null) {
            openPool.shutdown(); // partitions waiting to open find the node closed and fail
        }
        if (executors != null) {
            executors.close();
        }
        if (wal != null) {
            try {
                wal.close();
            } catch (IOException e) {
                log.warn("node {}: closing the write-ahead log failed", b.id, e);
            }
        }
        if (previousSession != null) {
            previousSession.close();
        }
        if (dataDirLock != null) {
            try {
                dataDirLock.close();
            } catch (IOException e) {
                log.warn("node {}: releasing the data directory's lock failed", b.id, e);
            }
        }
        log.info("node {} closed", b.id);
    }

    // ---- peer liveness ----

    /** A partition's view, noting every message as a sign of life of its sender's node. */
    private Transport heard(Transport view) {
        return new HeardTransport(view, heardFrom, refusalListeners);
    }

    /**
     * A partition's view of the node transport that notes every message it delivers as a sign of life of its sender's
     * node, and hears refused connections through the node's listeners. Everything else goes to the view — the inbound
     * budget included, so that the node's transport stops reading while its replicas are behind (back-pressure, as a
     * single log has). Delivery stays on the replicas' own threads: the transport's IO threads serve every partition.
     */
    static final class HeardTransport implements Transport {
        private final Transport view;
        private final Map<String, Long> heardFrom;
        private final Set<Consumer<String>> refusalListeners;
        private volatile Consumer<String> refusals;

        HeardTransport(Transport view, Map<String, Long> heardFrom, Set<Consumer<String>> refusalListeners) {
            this.view = view;
            this.heardFrom = heardFrom;
            this.refusalListeners = refusalListeners;
        }

        @Override
        public void connectionRefusals(Consumer<String> refusedPeer) {
            refusals = refusedPeer;
            refusalListeners.add(refusedPeer);
        }

        @Override
        public void inboundBudget(dev.tenure.replicator.transport.InboundBudget budget) {
            view.inboundBudget(budget);
        }

        @Override
        public void start(Consumer<Message> inbound) throws Exception {
            view.start(m -> {
                heardFrom.put(m.from(), System.nanoTime());
                inbound.accept(m);
            });
        }

        @Override
        public void send(Message message) {
            view.send(message);
        }

        @Override
        public void close() {
            Consumer<String> r = refusals;
            if (r != null) {
                refusalListeners.remove(r);
            }
            view.close();
        }
    }

    private PeerLiveness peerLiveness() {
        return node -> {
            Long partitionsHeard = heardFrom.get(node);
            long pinged = transport.lastHeardNanos(node);
            return partitionsHeard == null ? pinged : Math.max(partitionsHeard, pinged);
        };
    }

    /**
     * A partition opening: admits its members if any is new (at open nothing is removed, so the members known already
     * cover it in the common case; recomputing the union over every partition each time was quadratic in the
     * partitions a node opens).
     */
    private synchronized void admitMembers(Collection<String> nodes) {
        if (!partitionMembers.containsAll(nodes)) {
            addMembers(nodes);
        }
    }

    /** The transport admits the partitions' members: recomputed from every partition (a change may remove one). */
    private synchronized void addMembers(Collection<String> nodes) {
        Set<String> all = new HashSet<>(nodes);
        all.add(b.id);
        for (Partition p : partitions.values()) {
            all.addAll(p.replicas());
        }
        partitionMembers = all;
        transport.members(transportMembers());
    }

    /** The partitions' members and the control peers: whom the transport admits. */
    private synchronized Set<String> transportMembers() {
        Set<String> all = new java.util.LinkedHashSet<>(partitionMembers);
        all.addAll(controlPeers);
        return all;
    }

    // ---- leader spreading ----

    /**
     * Control thread: hands each partition led here to a caught-up replica listed before this node — its preferred
     * replica, or while that one cannot lead, the first live one after it.
     */
    private void rebalance() {
        try {
            long now = System.nanoTime();
            long damping = b.rebalanceInterval.toNanos() * HAND_OVER_DAMPING;
            for (Partition p : partitions.values()) {
                Replica.Status s = p.replica().status();
                if (s.role() != Role.LEADER) {
                    continue;
                }
                List<String> before = p.succession();
                int mine = before.indexOf(b.id);
                before = before.subList(0, mine < 0 ? before.size() : mine);
                if (before.isEmpty()) {
                    continue; // the preferred replica leads
                }
                Long last = handedOver.get(p.id());
                if (last != null && now - last < damping) {
                    continue; // handed over lately and it came back: the replica before could not take it
                }
                Map<String, Replica.FollowerStatus> followers = new HashMap<>();
                s.followers().forEach(f -> followers.put(f.id(), f));
                for (String id : before) {
                    Replica.FollowerStatus f = followers.get(id);
                    if (f != null
                            && f.promised()
                            && f.lagEntries() == 0
                            && f.lastHeardMillisAgo() >= 0
                            && f.lastHeardMillisAgo() < PREFERRED_HEARD_WITHIN_MILLIS
                            && registry.addressOf(f.id()).isPresent()) {
                        handedOver.put(p.id(), now);
                        log.info(
                                "node {} hands partition {} (epoch {}) to {}, listed before it in {}",
                                b.id,
                                p.id(),
                                s.epoch(),
                                f.id(),
                                p.succession());
                        p.leadership().stepDown(s.epoch());
                        break;
                    }
                }
            }
        } catch (RuntimeException e) {
            log.warn("node {}: rebalancing failed; trying again later", b.id, e);
        }
    }

    private static java.util.concurrent.ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Replica placement. */
    public static final class Placement {
        private Placement() {}

        /**
         * Replica sets for {@code partitions} partitions of {@code replicationFactor} replicas over {@code nodes},
         * preferred leader first, as Kafka assigns a topic's replicas: partition {@code i}'s preferred leader is node
         * {@code i mod n}, and its other replicas follow that node with a shift that grows by one every {@code n}
         * partitions — partition {@code i}'s replica {@code k ≥ 1} is node {@code (i + 1 + (s + k − 1) mod (n − 1))
         * mod n}, where {@code s = (i / n) mod (n − 1)}. So each node is preferred for {@code partitions / n}
         * partitions (give or take one), holds as many replicas as any other over each {@code n} partitions, and the
         * partitions it prefers have their second replicas — their successors when it dies — on every other node in
         * turn: with 3 nodes, {@code [n1, n2, n3], [n2, n3, n1], [n3, n1, n2], [n1, n3, n2], [n2, n1, n3], [n3, n2,
         * n1], …}.
         *
         * @throws IllegalArgumentException if {@code replicationFactor} is not between 1 and the number of nodes, or
         *     the nodes repeat
         */
        public static List<List<String>> preferredSpread(List<String> nodes, int partitions, int replicationFactor) {
            int n = nodes.size();
            Preconditions.checkArgument(
                    replicationFactor >= 1 && replicationFactor <= n,
                    "replication factor %s must be between 1 and the %s nodes",
                    replicationFactor,
                    n);
            Preconditions.checkArgument(Set.copyOf(nodes).size() == n, "nodes repeat: %s", nodes);
            Preconditions.checkArgument(partitions >= 0, "a negative number of partitions: %s", partitions);
            List<List<String>> sets = new ArrayList<>(partitions);
            for (int i = 0; i < partitions; i++) {
                List<String> set = new ArrayList<>(replicationFactor);
                int first = i % n;
                set.add(nodes.get(first));
                int shift = n == 1 ? 0 : (i / n) % (n - 1);
                for (int k = 1; k < replicationFactor; k++) {
                    set.add(nodes.get((first + 1 + (shift + k - 1) % (n - 1)) % n));
                }
                sets.add(List.copyOf(set));
            }
            return sets;
        }
    }

    @Override
    public String toString() {
        return "ZooKeeperNode[" + b.id + ", " + partitions.size() + " partitions]";
    }
}
