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

import com.google.common.base.Preconditions;
import dev.tenure.controller.Controller;
import dev.tenure.controller.ControllerNode;
import dev.tenure.controller.NodeAgent;
import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.demo.http.HttpOptions;
import dev.tenure.demo.http.KvHttpApi;
import dev.tenure.demo.http.NodeObservations;
import dev.tenure.demo.kv.KvService;
import dev.tenure.demo.kv.KvStateMachine;
import dev.tenure.demo.kv.Partitioning;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeaderDiscovery;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.recipes.ZooKeeperAcls;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicaListener;
import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.transport.Transport;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import dev.tenure.replicator.zookeeper.FastFailover;
import dev.tenure.replicator.zookeeper.RegistrationNode;
import dev.tenure.replicator.zookeeper.ZooKeeperConfiguration;
import dev.tenure.replicator.zookeeper.ZooKeeperNode;
import dev.tenure.replicator.zookeeper.ZooKeeperRegistry;
import dev.tenure.replicator.zookeeper.ZooKeeperReplica;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of the demo key-value service: a {@link ZooKeeperReplica} with the {@link KvStateMachine},
 * its HTTP API, leader discovery for redirects, metrics ({@link KvMetrics}) and the event timeline
 * ({@link EventTimeline}). It is the {@link KvService} its HTTP API's routes serve, and the
 * {@link NodeObservations} its status page and {@code /metrics} show.
 *
 * <p><b>Partitions.</b> With {@link #partitions(int) partitions(P)} for {@code P > 1} the node is instead a {@link
 * ZooKeeperNode} hosting {@code P} partitions {@code "0"} … {@code "P-1"}, each a replicated log with its own {@link
 * KvStateMachine}, fenced election and leader discovery; keys are spread over them by {@link Partitioning}. Every
 * partition's replica set is the whole {@code --replicas} list, ordered so that partition {@code i}'s preferred leader
 * is replica {@code i mod n} and the partitions one replica prefers have their successors on the others in turn
 * ({@link ZooKeeperNode.Placement#preferredSpread}): leaders spread evenly, and again when a replica dies. {@link
 * #partitions()} gives each partition's {@link KvService}; the per-log methods of the node itself ({@link #propose},
 * {@link #status()}, …) then throw {@link IllegalStateException}. Not yet with partitions: membership changes and
 * the leader's hand-off on close (a closed node's partitions leave their elections, and the other replicas elect).
 *
 * <p><b>The controller.</b> With {@link #leadership(Leadership) leadership(CONTROLLER)} (partitions only) the node is
 * a {@link ControllerNode} instead (docs/controller.md): the same partitions on the same {@link ZooKeeperNode}
 * settings, but one elected node of the cluster, the controller, assigns every partition's leader and leader epoch.
 * A partition's leader for redirects is the one the newest assignment this node applied names ({@link
 * NodeAgent#states()}), its URL the one that node published under {@code http/ID}; {@link #close()} is then the
 * controller's controlled shutdown: this node's leaderships move to other replicas before it leaves.
 *
 * <p>ZooKeeper layout under {@code /tenure/CLUSTER}: the replicator's {@code members}, {@code endpoints}
 * and {@code leader} (the election) — with partitions, {@code endpoints} and {@code partitions/ID/...} ({@link
 * ZooKeeperNode}) — plus {@code http/ID} (ephemeral: each replica's advertised HTTP URL), {@code partitioning}
 * (persistent: the number of partitions, which every node must share) and {@code leadership} (persistent: {@code
 * election} or {@code controller}, likewise); with the controller, its {@code controller}, {@code nodes/ID} and
 * {@code partitions/ID/state} (docs/controller.md).
 *
 * <p>Start once; {@link #close()} hands leadership over first when this replica leads, then stops
 * everything it started.
 */
public final class KvNode implements KvService, NodeObservations, Closeable {
    private static final Logger log = LoggerFactory.getLogger(KvNode.class);

    /** Entries kept below a snapshot when the log is compacted, unless set: etcd's 5,000, as the replicator's. */
    public static final long DEFAULT_CATCH_UP_TAIL_ENTRIES = 5_000;

    /** The least suspicion timeout the node takes: two of the replicator's 100 ms heartbeat intervals. */
    public static final long MIN_SUSPICION_TIMEOUT_MS = 200;

    /** Where the partitions' leaders come from. */
    public enum Leadership {
        /** Each partition's own fenced election (the default). */
        ELECTION,
        /** The cluster's controller assigns every partition's leader (docs/controller.md); partitions only. */
        CONTROLLER;

        /** {@code election} or {@code controller}, as the flag and {@code /status} say it. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The controller's default rebalance interval (Kafka's {@code leader.imbalance.check.interval.seconds}). */
    public static final Duration DEFAULT_CONTROLLER_REBALANCE_INTERVAL = Duration.ofMinutes(5);

    /** The controller's default imbalance threshold (Kafka's {@code leader.imbalance.per.broker.percentage}). */
    public static final double DEFAULT_CONTROLLER_IMBALANCE_PERCENT = 10;

    /** A node's settings (the {@code node} command's flags). */
    public record Config(
            String id,
            String zkConnect,
            Path dataDir,
            InetSocketAddress http,
            InetSocketAddress repl,
            List<String> replicas,
            InetSocketAddress httpAdvertise,
            InetSocketAddress replAdvertise,
            String cluster,
            int sessionTimeoutMs) {
        public Config {
            Preconditions.checkArgument(id != null && !id.isBlank(), "--id is required");
            Preconditions.checkArgument(zkConnect != null && !zkConnect.isBlank(), "--zk is required");
            Preconditions.checkArgument(dataDir != null, "--data-dir is required");
            Preconditions.checkArgument(
                    replicas != null && replicas.contains(id), "--replicas must include --id %s", id);
            Preconditions.checkArgument(
                    replicas.stream().distinct().count() == replicas.size(), "--replicas has duplicates: %s", replicas);
            Preconditions.checkArgument(
                    cluster != null && cluster.matches("[A-Za-z0-9_.-]+"), "--cluster must be a simple name");
            Preconditions.checkArgument(sessionTimeoutMs >= 1000, "--session-timeout-ms must be >= 1000");
        }
    }

    private final Config config;
    private final KvStateMachine store = new KvStateMachine();
    private final KvMetrics metrics = new KvMetrics();
    private final EventTimeline timeline;
    private final Map<String, String> urls = new ConcurrentHashMap<>();
    private final Map<String, Long> caughtUpAt = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kv-sampler");
        t.setDaemon(true);
        return t;
    });
    private CuratorFramework client;
    private ZooKeeperReplica node;
    private LeaderDiscovery discovery;
    private CuratorCache httpCache;
    private RegistrationNode httpNode;
    private KvHttpApi http;
    private String url;
    private volatile Replica.Status lastSampled;
    private boolean started;
    private boolean closed;
    private UnaryOperator<Transport> transportWrapper = UnaryOperator.identity();
    private UnaryOperator<CoreConfig.Builder> tuning = UnaryOperator.identity();
    private UnaryOperator<StateMachine> stateMachineWrapper = UnaryOperator.identity();
    private Duration requestTimeout = KvHttpApi.DEFAULT_REQUEST_TIMEOUT;
    private HttpOptions httpOptions = HttpOptions.DEFAULT;
    private TlsContext transportTls; // null: plaintext replication
    private ZooKeeperAcls zooKeeperAcls; // null: nodes open to every ZooKeeper client
    private dev.tenure.recipes.ZooKeeperClientTls zooKeeperTls; // null: plaintext to ZooKeeper
    private SnapshotPolicy snapshotPolicy = SnapshotPolicy.defaults();
    private long catchUpTailEntries = DEFAULT_CATCH_UP_TAIL_ENTRIES;
    private long logSegmentBytes = LogConfig.DEFAULT_MAX_SEGMENT_BYTES;
    private final Map<String, Boolean> behind = new ConcurrentHashMap<>();
    private int partitionCount = 1;
    private FastFailover fastFailover = FastFailover.fromSessionTimeout();
    private ZooKeeperNode multi;
    private Leadership leadership = Leadership.ELECTION;
    private Duration controllerRebalanceInterval = DEFAULT_CONTROLLER_REBALANCE_INTERVAL;
    private double controllerImbalancePercent = DEFAULT_CONTROLLER_IMBALANCE_PERCENT;
    /** With the controller: the node, its registration, agent and candidacy (multi is its node). */
    private ControllerNode controllerNode;
    /** With the controller: each partition's state as this node's agent applied it (the sampler refreshes it). */
    private volatile Map<String, PartitionState> assigned = Map.of();
    /** With partitions: one per partition, in partition order (written by start(), then read only). */
    private final List<PartitionLog> logs = new ArrayList<>();
    /**
     * With the controller: set once start() opened the KV service's partitions; from then on the partition factory
     * opens one the controller assigns this node again (before, it refuses them, so that the start's own opens win).
     */
    private volatile boolean kvOpened;

    public KvNode(Config config) {
        this.config = config;
        this.timeline = new EventTimeline(config.sessionTimeoutMs());
    }

    /**
     * Spreads the keys over {@code p} partitions ({@code 1..}{@link Partitioning#MAX_PARTITIONS}; 1, a single log,
     * unless set). Every node of a cluster must use the same number: {@link #start()} refuses another. Call before
     * {@link #start()}.
     */
    public KvNode partitions(int p) {
        Preconditions.checkState(!started, "already started");
        Preconditions.checkArgument(
                p >= 1 && p <= Partitioning.MAX_PARTITIONS,
                "--partitions must be 1..%s, was %s",
                Partitioning.MAX_PARTITIONS,
                p);
        this.partitionCount = p;
        return this;
    }

    /**
     * Where the partitions' leaders come from: each partition's election ({@link Leadership#ELECTION}, the default) or
     * the cluster's controller ({@link Leadership#CONTROLLER}, with {@link #partitions(int)} of 2 or more only: {@link
     * #start()} refuses it for a single log). Every node of a cluster must use the same. Call before {@link #start()}.
     */
    public KvNode leadership(Leadership mode) {
        Preconditions.checkState(!started, "already started");
        this.leadership = Preconditions.checkNotNull(mode, "mode");
        return this;
    }

    /** Where the partitions' leaders come from. */
    public Leadership leadership() {
        return leadership;
    }

    /**
     * The controller's rebalance: every {@code interval} ({@link Duration#ZERO}: never), the partitions of a node whose
     * preferred partitions are led elsewhere above {@code imbalancePercent} move back to it. {@link
     * #DEFAULT_CONTROLLER_REBALANCE_INTERVAL} and {@link #DEFAULT_CONTROLLER_IMBALANCE_PERCENT} unless set. Used with
     * {@link Leadership#CONTROLLER} only. Call before {@link #start()}.
     */
    public KvNode controllerRebalance(Duration interval, double imbalancePercent) {
        Preconditions.checkState(!started, "already started");
        Preconditions.checkArgument(!interval.isNegative(), "the rebalance interval must be >= 0, was %s", interval);
        Preconditions.checkArgument(
                imbalancePercent >= 0 && imbalancePercent <= 100,
                "the imbalance threshold must be 0..100 %%, was %s",
                imbalancePercent);
        this.controllerRebalanceInterval = interval;
        this.controllerImbalancePercent = imbalancePercent;
        return this;
    }

    /**
     * Fast failover (docs/replication.md, "Fast failover"): {@link FastFailover#fromSessionTimeout()} unless set, as
     * in the library; {@link FastFailover#off()} waits for a dead leader's session to expire. Applies to the single
     * log and to every partition. Call before {@link #start()}.
     */
    public KvNode fastFailover(FastFailover settings) {
        Preconditions.checkState(!started, "already started");
        this.fastFailover = Preconditions.checkNotNull(settings, "settings");
        return this;
    }

    /**
     * The fast failover settings in force: once started, as resolved against the negotiated session timeout (a
     * derived setting's bounds filled in); before, as set.
     */
    public FastFailover fastFailover() {
        if (node != null) {
            return node.fastFailover();
        }
        if (multi != null) {
            return multi.fastFailover();
        }
        return fastFailover;
    }

    /**
     * {@code fast failover on (suspicion 1333 ms, minimum term 1333 ms, back-off 1333 ms)} or {@code ... off}; with the
     * controller, what assigns the leaders instead.
     */
    public String fastFailoverText() {
        if (leadership == Leadership.CONTROLLER) {
            return "leaders assigned by the controller (a dead leader's partitions move when its session ends)";
        }
        FastFailover f = fastFailover();
        if (!f.enabled()) {
            return "fast failover off (a dead leader is replaced when its session expires)";
        }
        if (f.suspicionTimeout().isZero()) {
            return "fast failover on (bounds derived from the session timeout)";
        }
        return "fast failover on (suspicion " + f.suspicionTimeout().toMillis() + " ms, minimum term "
                + f.minimumTerm().toMillis() + " ms, back-off "
                + f.deposeBackoff().toMillis() + " ms)";
    }

    @Override
    public Optional<NodeObservations.Failover> fastFailoverStatus() {
        if (node == null && multi == null) {
            return Optional.empty(); // not started: the derived bounds are not known yet
        }
        FastFailover f = fastFailover();
        return Optional.of(new NodeObservations.Failover(
                f.enabled(),
                f.suspicionTimeout().toMillis(),
                f.minimumTerm().toMillis(),
                f.deposeBackoff().toMillis()));
    }

    /** Wraps the replication transport (fault injection in demos and tests); call before {@link #start()}. */
    public KvNode transportWrapper(UnaryOperator<Transport> wrapper) {
        Preconditions.checkState(!started, "already started");
        this.transportWrapper = wrapper;
        return this;
    }

    /** Adjusts the replication core's settings; call before {@link #start()}. */
    public KvNode tuning(UnaryOperator<CoreConfig.Builder> tuning) {
        Preconditions.checkState(!started, "already started");
        this.tuning = Preconditions.checkNotNull(tuning, "tuning");
        return this;
    }

    /**
     * Wraps the state machine the replica applies entries to (the key-value store itself still serves reads), so
     * that a test can make it fail; call before {@link #start()}. Package-private: a test seam, not an option of the
     * shipped node.
     */
    KvNode stateMachineWrapper(UnaryOperator<StateMachine> wrapper) {
        Preconditions.checkState(!started, "already started");
        this.stateMachineWrapper = Preconditions.checkNotNull(wrapper, "wrapper");
        return this;
    }

    /**
     * How long the HTTP API lets a write wait for its commit, and a linearizable read for its confirmation, before
     * it answers 503 (for a write {@code outcome_unknown}: the write may still commit);
     * {@link KvHttpApi#DEFAULT_REQUEST_TIMEOUT} unless set. Call before {@link #start()}.
     */
    public KvNode requestTimeout(Duration timeout) {
        Preconditions.checkState(!started, "already started");
        Preconditions.checkArgument(timeout.toMillis() > 0, "the request timeout must be at least 1 ms: %s", timeout);
        this.requestTimeout = timeout;
        return this;
    }

    /**
     * The HTTP API's protections (Host allow-list, token, connection cap, header deadline); {@link
     * HttpOptions#DEFAULT} unless set. Call before {@link #start()}.
     */
    /**
     * Mutual TLS for replication between the replicas (see {@link TlsContext}); null (the default) for plaintext,
     * which the transport warns about at start. Set before {@link #start}.
     */
    public KvNode transportTls(TlsContext tls) {
        this.transportTls = tls;
        return this;
    }

    /**
     * Authenticates with ZooKeeper as this credential and creates every node with the ACL "Tenure's identity may
     * change it, anyone may read it" ({@link ZooKeeperAcls}); null (the default) leaves nodes open. Set before {@link
     * #start}.
     */
    public KvNode zooKeeperAcls(ZooKeeperAcls acls) {
        this.zooKeeperAcls = acls;
        return this;
    }

    /**
     * Connects to ZooKeeper's secure client port over TLS with these settings ({@link
     * dev.tenure.recipes.ZooKeeperClientTls}); null (the default) connects in plaintext. Set before {@link #start}.
     */
    public KvNode zooKeeperTls(dev.tenure.recipes.ZooKeeperClientTls tls) {
        Preconditions.checkState(!started, "already started");
        this.zooKeeperTls = tls;
        return this;
    }

    public KvNode httpOptions(HttpOptions options) {
        Preconditions.checkState(!started, "already started");
        this.httpOptions = Preconditions.checkNotNull(options, "options");
        return this;
    }

    /**
     * When this replica snapshots its state machine ({@link SnapshotPolicy#defaults()} unless set: 100,000 entries
     * or 64 MiB, spread by up to 50 %, and on a clean stop). Call before {@link #start()}.
     */
    public KvNode snapshotPolicy(SnapshotPolicy policy) {
        Preconditions.checkState(!started, "already started");
        this.snapshotPolicy = Preconditions.checkNotNull(policy, "policy");
        return this;
    }

    /**
     * Entries kept below a new snapshot when the log is compacted, so that a follower lagging by fewer catches up
     * from the log rather than by a snapshot install ({@link #DEFAULT_CATCH_UP_TAIL_ENTRIES} unless set). Call
     * before {@link #start()}.
     */
    public KvNode catchUpTailEntries(long entries) {
        Preconditions.checkState(!started, "already started");
        Preconditions.checkArgument(entries >= 0, "the catch-up tail must be >= 0 entries, was %s", entries);
        this.catchUpTailEntries = entries;
        return this;
    }

    /**
     * The size at which a log segment is closed and the next one started ({@link LogConfig#DEFAULT_MAX_SEGMENT_BYTES}
     * unless set). Compaction deletes whole segments only, so a log shorter than a segment is never compacted. Call
     * before {@link #start()}.
     */
    public KvNode logSegmentBytes(long bytes) {
        Preconditions.checkState(!started, "already started");
        Preconditions.checkArgument(
                bytes >= LogConfig.MIN_SEGMENT_BYTES,
                "a log segment must be at least %s bytes, was %s",
                LogConfig.MIN_SEGMENT_BYTES,
                bytes);
        this.logSegmentBytes = bytes;
        return this;
    }

    public String clusterPath() {
        return "/tenure/" + config.cluster();
    }

    /**
     * Connects to ZooKeeper, starts the replica and serves HTTP.
     *
     * @throws IllegalStateException with a clear message on a replica-set mismatch or an unreachable
     *     ZooKeeper
     */
    public synchronized void start() throws Exception {
        Preconditions.checkState(!started, "Cannot be started more than once");
        started = true;
        CuratorFrameworkFactory.Builder clientBuilder = CuratorFrameworkFactory.builder()
                .connectString(config.zkConnect())
                .sessionTimeoutMs(config.sessionTimeoutMs())
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 2000))
                .ensembleTracker(false); // use the given connect string as it is
        if (zooKeeperAcls != null) {
            zooKeeperAcls.configure(clientBuilder);
        }
        if (zooKeeperTls != null) {
            zooKeeperTls.configure(clientBuilder);
        }
        client = clientBuilder.build();
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("cannot reach ZooKeeper at " + config.zkConnect() + " within 30 s"
                    + (zooKeeperTls != null
                            ? " over TLS (is it the servers' secure client port, and do they accept this client's"
                                    + " certificate? ZooKeeper's client logs the handshake's error)"
                            : ""));
        }
        http = KvHttpApi.bind(this, this, metrics, config.http(), requestTimeout, httpOptions);
        InetSocketAddress httpAdvertised = config.httpAdvertise() != null ? config.httpAdvertise() : http.address();
        url = (httpOptions.tls().isPresent() ? "https://" : "http://") + httpAdvertised.getHostString() + ":"
                + httpAdvertised.getPort();
        checkPartitioning();
        if (leadership == Leadership.CONTROLLER && partitionCount < 2) {
            throw new IllegalStateException("the controller assigns the leaders of partitions: it needs 2 or more"
                    + " partitions, not " + partitionCount);
        }
        if (partitionCount > 1) {
            startPartitions();
        } else {
            startSingleLog();
        }
        // Runs until stop() shuts the sampler down; sample() catches its own failures, so it never ends early.
        ScheduledFuture<?> unusedSampling = sampler.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
        http.start();
        event("started; HTTP at " + url + (partitionCount > 1 ? " (" + partitionCount + " partitions)" : "") + "; "
                + fastFailoverText());
        log.info(
                "replica {} serves HTTP at {} (cluster {}, ZooKeeper {}, {} partition(s))",
                config.id(),
                url,
                config.cluster(),
                config.zkConnect(),
                partitionCount);
    }

    /**
     * Records the number of partitions ({@code partitioning}) and the leadership mode ({@code leadership}) in
     * ZooKeeper, both in one transaction, if no node did yet, and refuses to start when others are recorded: two nodes
     * spreading keys over different numbers of partitions would send one key's writes to two different logs, and a
     * node taking its leaders from the controller next to one running elections would lead in epochs the other's
     * elections never fence. A cluster recorded before the leadership mode was has no {@code leadership}: it ran
     * elections, so the controller is refused there too (its partitions' leader epochs would start again at 1, below
     * the replicas' promises: docs/controller.md).
     */
    private void checkPartitioning() throws Exception {
        String path = ZKPaths.makePath(clusterPath(), "partitioning");
        String modePath = ZKPaths.makePath(clusterPath(), "leadership");
        byte[] mine = ("crc32 " + partitionCount).getBytes(StandardCharsets.UTF_8);
        byte[] myMode = leadership.wireName().getBytes(StandardCharsets.UTF_8);
        try {
            client.create().creatingParentsIfNeeded().forPath(clusterPath());
        } catch (KeeperException.NodeExistsException e) {
            // the cluster's path exists
        }
        try {
            List<org.apache.curator.framework.api.transaction.CuratorTransactionResult> unused = client.transaction()
                    .forOperations(
                            client.transactionOp().create().forPath(path, mine),
                            client.transactionOp().create().forPath(modePath, myMode));
            return; // a new cluster, recorded as this node runs
        } catch (KeeperException.NodeExistsException e) {
            String recorded = new String(client.getData().forPath(path), StandardCharsets.UTF_8);
            if (!recorded.equals(new String(mine, StandardCharsets.UTF_8))) {
                throw new IllegalStateException("cluster " + config.cluster() + " is partitioned as '" + recorded
                        + "' in ZooKeeper (" + path + "), not 'crc32 " + partitionCount
                        + "': every node must run with the same --partitions");
            }
        }
        String mode;
        try {
            mode = new String(client.getData().forPath(modePath), StandardCharsets.UTF_8);
        } catch (KeeperException.NoNodeException e) {
            mode = Leadership.ELECTION.wireName(); // recorded before the leadership mode was: elections
            if (leadership == Leadership.ELECTION) {
                try {
                    client.create().forPath(modePath, myMode);
                } catch (KeeperException.NodeExistsException raced) {
                    mode = new String(client.getData().forPath(modePath), StandardCharsets.UTF_8);
                }
            }
        }
        if (!mode.equals(leadership.wireName())) {
            throw new IllegalStateException("cluster " + config.cluster() + " takes its partitions' leaders from '"
                    + mode + "' in ZooKeeper (" + modePath + "), not '" + leadership.wireName()
                    + "': every node must run with the same --leadership, and a cluster cannot switch (a controller's"
                    + " leader epochs start at 1, below the promises the elections left)");
        }
    }

    private void startSingleLog() throws Exception {
        node = ZooKeeperReplica.builder(client, clusterPath())
                .transportTls(transportTls)
                .clusterName(config.cluster())
                .id(config.id())
                .members(config.replicas())
                .dataDir(config.dataDir())
                .bind(config.repl())
                .advertise(config.replAdvertise())
                .endpoint(url)
                .stateMachine(stateMachineWrapper.apply(store))
                .transportWrapper(transportWrapper)
                .snapshotPolicy(snapshotPolicy)
                .logConfig(LogConfig.builder().maxSegmentBytes(logSegmentBytes).build())
                // A leader that hears from no majority for a session timeout gives its term up (check quorum).
                .tuning(t -> tuning.apply(t.checkQuorum(Duration.ofMillis(config.sessionTimeoutMs()))
                        .catchUpTailEntries(catchUpTailEntries)))
                .listener(both(metrics, timeline))
                .fastFailover(fastFailover)
                .build();
        node.start();
        registerHttpUrl();
        discovery = new LeaderDiscovery(client, ZooKeeperRegistry.electionPath(clusterPath()));
        discovery.start();
        metrics.watch(node, () -> node.replica().status(), config.id(), config.replicas());
    }

    /**
     * Starts the node with {@link #partitionCount} partitions, each with its state machine and leader discovery: its
     * election's, or with the controller the assignments this node applied.
     */
    private void startPartitions() throws Exception {
        // The node's settings, the same whether the partitions elect their leaders or the controller assigns them.
        UnaryOperator<ZooKeeperNode.Builder> settings = b -> b.transportTls(transportTls)
                .clusterName(config.cluster())
                .bind(config.repl())
                .advertise(config.replAdvertise())
                .endpoint(url)
                .transportWrapper(transportWrapper)
                .snapshotPolicy(snapshotPolicy)
                .logConfig(LogConfig.builder().maxSegmentBytes(logSegmentBytes).build())
                .tuning(t -> tuning.apply(t.checkQuorum(Duration.ofMillis(config.sessionTimeoutMs()))
                        .catchUpTailEntries(catchUpTailEntries)));
        if (leadership == Leadership.CONTROLLER) {
            // Publish the HTTP URL first: the redirects to this node's partitions need it as soon as it leads one.
            registerHttpUrl();
            controllerNode = ControllerNode.builder(client, clusterPath())
                    .id(config.id())
                    .dataDir(config.dataDir())
                    .node(settings)
                    .controller(c -> c.rebalanceInterval(controllerRebalanceInterval)
                            .imbalanceThresholdPercent(controllerImbalancePercent))
                    // The partitions of partition sets (demo-app sets create) are opened here as the controller
                    // assigns them, each with a key-value state machine. The KV service opens its own partitions
                    // below at start; once it has, one the controller assigns this node again (a reassignment that
                    // adds it back) is opened here too, with a new state machine its PartitionLog serves from.
                    .partitionFactory((partition, set) -> {
                        if (set.isPresent()) {
                            return stateMachineWrapper.apply(new KvStateMachine());
                        }
                        PartitionLog l = kvOpened ? logOf(partition) : null;
                        if (l == null) { // before the start's own opens, or not a partition of the KV service
                            throw new IllegalStateException("partition " + partition + " is the KV service's,"
                                    + (kvOpened ? " which has no such partition" : " which opens it at start"));
                        }
                        KvStateMachine machine = new KvStateMachine();
                        l.machine = machine;
                        log.info("replica {}: reopening KV partition {}, assigned to it again", config.id(), partition);
                        return stateMachineWrapper.apply(machine);
                    })
                    .build();
            controllerNode.start();
            multi = controllerNode.node();
        } else {
            multi = settings.apply(ZooKeeperNode.builder(client, clusterPath()))
                    .id(config.id())
                    .dataDir(config.dataDir())
                    .fastFailover(fastFailover)
                    .build();
            multi.start();
        }
        List<List<String>> sets = ZooKeeperNode.Placement.preferredSpread(
                config.replicas(), partitionCount, config.replicas().size());
        for (int i = 0; i < partitionCount; i++) {
            String id = Partitioning.id(i);
            KvStateMachine machine = new KvStateMachine();
            ZooKeeperNode.Partition partition = multi.open(id, sets.get(i), stateMachineWrapper.apply(machine));
            if (controllerNode != null) {
                logs.add(new PartitionLog(id, partition, machine, null));
                continue;
            }
            LeaderDiscovery d = new LeaderDiscovery(
                    client,
                    ZooKeeperRegistry.electionPath(
                            ZKPaths.makePath(ZKPaths.makePath(clusterPath(), "partitions"), id)));
            logs.add(new PartitionLog(id, partition, machine, d));
            d.start();
        }
        if (controllerNode == null) {
            registerHttpUrl();
        }
        kvOpened = true;
        metrics.watchPartitions(
                multi,
                logs.stream()
                        .map(l -> new KvMetrics.PartitionView(l.id, l.replica()))
                        .toList(),
                config.id());
    }

    /**
     * Publishes this replica's HTTP URL under {@code http/ID}: an ephemeral node Curator's {@link PersistentNode}
     * keeps while this replica runs (a {@link RegistrationNode}: closing it does not wait on ZooKeeper) — created
     * again after a session expires, and taken over from this replica's previous process if that one's session has
     * not expired yet.
     */
    private void registerHttpUrl() throws Exception {
        String base = ZKPaths.makePath(clusterPath(), "http");
        httpNode =
                new RegistrationNode(client, ZKPaths.makePath(base, config.id()), url.getBytes(StandardCharsets.UTF_8));
        httpNode.start();
        httpNode.waitForInitialCreate(10, TimeUnit.SECONDS);
        httpCache = CuratorCache.build(client, base);
        httpCache.listenable().addListener((type, oldData, data) -> refreshUrls());
        httpCache.start();
    }

    private void refreshUrls() {
        Map<String, String> now = new HashMap<>();
        httpCache.stream()
                .filter(d -> d.getData() != null && !d.getPath().equals(ZKPaths.makePath(clusterPath(), "http")))
                .forEach((ChildData d) ->
                        now.put(ZKPaths.getNodeFromPath(d.getPath()), new String(d.getData(), StandardCharsets.UTF_8)));
        urls.keySet().retainAll(now.keySet());
        urls.putAll(now);
    }

    private void sample() {
        if (partitionCount > 1) {
            samplePartitions();
            return;
        }
        try {
            Replica.Status s = node.replica().status();
            Replica.Status before = lastSampled;
            lastSampled = s;
            long now = System.nanoTime();
            for (Replica.FollowerStatus f : s.followers()) {
                if (f.lagEntries() == 0 || !caughtUpAt.containsKey(f.id())) {
                    caughtUpAt.put(f.id(), now);
                }
                // A follower more than 100 entries behind is catching up; say when it has.
                if (f.lagEntries() > 100) {
                    behind.put(f.id(), true);
                } else if (f.lagEntries() == 0 && behind.remove(f.id()) != null) {
                    event("follower " + f.id() + " caught up at offset " + f.matchOffset());
                }
            }
            if (before == null || before.role() != s.role() || before.epoch() != s.epoch()) {
                event(s.role().name().toLowerCase(Locale.ROOT) + " in epoch " + s.epoch()
                        + (s.leader().isEmpty() ? "" : " (leader " + s.leader() + ")")
                        + (s.role() == Role.FAILED ? ": " + s.failure() : ""));
                if (s.role() == Role.LEADER && (before == null || before.role() != Role.LEADER)) {
                    metrics.termWon();
                }
            }
        } catch (RuntimeException e) {
            log.debug("status sample failed", e);
        }
    }

    /** With partitions: each partition's changes of role or epoch into the timeline, and won terms into metrics. */
    private void samplePartitions() {
        if (controllerNode != null) {
            sampleController();
        }
        for (PartitionLog l : logs) {
            try {
                Replica.Status s = l.replica().status();
                Replica.Status before = l.lastSampled;
                l.lastSampled = s;
                if (before == null || before.role() != s.role() || before.epoch() != s.epoch()) {
                    event("partition " + l.id + ": " + s.role().name().toLowerCase(Locale.ROOT) + " in epoch "
                            + s.epoch() + (s.leader().isEmpty() ? "" : " (leader " + s.leader() + ")")
                            + (s.role() == Role.FAILED ? ": " + s.failure() : ""));
                    if (s.role() == Role.LEADER && (before == null || before.role() != Role.LEADER)) {
                        metrics.termWon(l.id);
                    }
                }
            } catch (RuntimeException e) {
                log.debug("status sample of partition {} failed", l.id, e);
            }
        }
    }

    /** The controller this node knows, as the sampler last saw it: for the timeline's changes of controller. */
    private String lastController = "";

    /**
     * With the controller: takes the partitions' states this node's agent applied (the redirects' leaders), and puts
     * a change of controller into the timeline. Sampler thread only.
     */
    private void sampleController() {
        try {
            assigned = controllerNode.agent().states();
            NodeObservations.ControllerStatus c = controllerStatus();
            String now =
                    c.controller().map(id -> id + "@" + c.controllerEpoch()).orElse("");
            if (!now.isEmpty() && !now.equals(lastController)) {
                event("controller " + now + (c.active() ? " (this node)" : ""));
            }
            lastController = now;
        } catch (RuntimeException e) {
            log.debug("controller sample failed", e);
        }
    }

    /** With the controller: its reassignments, reached through this node (the node resolved at each call). */
    @Override
    public Optional<dev.tenure.demo.http.ReassignmentAdmin> reassignmentAdmin() {
        if (leadership != Leadership.CONTROLLER) {
            return Optional.empty();
        }
        return Optional.of(new dev.tenure.demo.http.ReassignmentAdmin() {
            @Override
            public boolean isController() {
                ControllerNode cn = controllerNode;
                return cn != null && cn.controller().status().active();
            }

            @Override
            public Optional<String> controllerUrl() {
                ControllerNode cn = controllerNode;
                if (cn == null) {
                    return Optional.empty();
                }
                return cn.agent()
                        .knownController()
                        .map(NodeAgent.KnownController::id)
                        .map(id -> urls.get(id));
            }

            @Override
            public java.util.concurrent.CompletableFuture<PartitionState> reassign(
                    String partition, List<String> target) {
                ControllerNode cn = controllerNode;
                if (cn == null) {
                    return java.util.concurrent.CompletableFuture.failedFuture(
                            new IllegalStateException("the node is not started"));
                }
                return cn.controller().reassign(partition, target);
            }

            @Override
            public Map<String, PartitionState> states() {
                ControllerNode cn = controllerNode;
                if (cn == null || !cn.controller().status().active()) {
                    return Map.of();
                }
                Map<String, PartitionState> m = new java.util.TreeMap<>();
                cn.controller().status().partitions().forEach((id, v) -> m.put(id, v.state()));
                return m;
            }
        });
    }

    @Override
    public NodeObservations.ControllerStatus controllerStatus() {
        ControllerNode cn = controllerNode;
        if (cn == null) {
            return NodeObservations.ControllerStatus.ELECTION;
        }
        try {
            Controller.Status s = cn.controller().status();
            NodeAgent agent = cn.agent();
            long nodeEpoch = cn.registration().map(NodeRegistration::nodeEpoch).orElse(0L);
            if (s.active()) {
                List<NodeObservations.ControllerStatus.Member> members = new ArrayList<>();
                new java.util.TreeMap<>(s.nodes())
                        .forEach((id, r) -> members.add(new NodeObservations.ControllerStatus.Member(
                                id, r.nodeEpoch(), s.shuttingDown().contains(id))));
                return new NodeObservations.ControllerStatus(
                        Leadership.CONTROLLER.wireName(),
                        Optional.of(config.id()),
                        s.controllerEpoch(),
                        true,
                        nodeEpoch,
                        Math.max(agent.highestControllerEpoch(), s.controllerEpoch()),
                        Optional.of(members));
            }
            Optional<NodeAgent.KnownController> known = agent.knownController();
            return new NodeObservations.ControllerStatus(
                    Leadership.CONTROLLER.wireName(),
                    known.map(NodeAgent.KnownController::id),
                    known.map(NodeAgent.KnownController::epoch).orElse(0L),
                    false,
                    nodeEpoch,
                    agent.highestControllerEpoch(),
                    Optional.empty());
        } catch (IllegalStateException e) {
            return NodeObservations.ControllerStatus.starting(); // not started yet
        }
    }

    /**
     * With the controller: partition {@code id}'s leader as the newest assignment this node applied names it, with the
     * HTTP URL that node published (empty when unknown: the routes then answer 503 no_leader), and its leader epoch.
     */
    private Optional<LeaderInfo> assignedLeader(String id) {
        PartitionState s = assigned.get(id);
        if (s == null || s.leader().isEmpty()) {
            return Optional.empty();
        }
        String leader = s.leader().get();
        return Optional.of(new LeaderInfo(leader, urls.getOrDefault(leader, ""), s.leaderEpoch()));
    }

    private void event(String text) {
        timeline.add(text);
    }

    /** One listener that tells both, in order. */
    private static ReplicaListener both(ReplicaListener first, ReplicaListener second) {
        return new ReplicaListener() {
            @Override
            public void roleChanged(Role role, long epoch, String leader) {
                first.roleChanged(role, epoch, leader);
                second.roleChanged(role, epoch, leader);
            }

            @Override
            public void fenced(long epoch, long newerEpoch) {
                first.fenced(epoch, newerEpoch);
                second.fenced(epoch, newerEpoch);
            }

            @Override
            public void quorumLost(long epoch) {
                first.quorumLost(epoch);
                second.quorumLost(epoch);
            }

            @Override
            public void staleEpochRefused(String from, long staleEpoch, long promisedEpoch) {
                first.staleEpochRefused(from, staleEpoch, promisedEpoch);
                second.staleEpochRefused(from, staleEpoch, promisedEpoch);
            }

            @Override
            public void leaderSuspected(long epoch, String leader) {
                first.leaderSuspected(epoch, leader);
                second.leaderSuspected(epoch, leader);
            }

            @Override
            public void failed(Throwable reason) {
                first.failed(reason);
                second.failed(reason);
            }

            @Override
            public void snapshotTaken(SnapshotId snapshot, long sizeBytes, long nanos) {
                first.snapshotTaken(snapshot, sizeBytes, nanos);
                second.snapshotTaken(snapshot, sizeBytes, nanos);
            }

            @Override
            public void snapshotInstalled(SnapshotId snapshot, long sizeBytes) {
                first.snapshotInstalled(snapshot, sizeBytes);
                second.snapshotInstalled(snapshot, sizeBytes);
            }
        };
    }

    @Override
    public List<NodeObservations.Event> events() {
        return timeline.events();
    }

    /** This replica's id. */
    public String id() {
        return config.id();
    }

    public Config config() {
        return config;
    }

    /** This replica's advertised HTTP URL, once started. */
    public String url() {
        return url;
    }

    public Replica replica() {
        return single().replica();
    }

    /** The single log's replica; with partitions, there is none: use {@link #partitions()}. */
    private ZooKeeperReplica single() {
        if (partitionCount > 1) {
            throw new IllegalStateException("replica " + config.id() + " hosts " + partitionCount
                    + " partitions: use partitions() or partitionOf(key)");
        }
        return node;
    }

    /** How many partitions this node's keys are spread over (1: a single log). */
    public int partitionCount() {
        return partitionCount;
    }

    @Override
    public List<KvService> partitions() {
        return partitionCount > 1 ? List.copyOf(logs) : List.of(this);
    }

    /** With partitions, the ids of the partitions this node leads now; with a single log, "0" when it leads. */
    public java.util.Set<String> leading() {
        if (partitionCount > 1) {
            return multi.leading();
        }
        return node.replica().status().role() == Role.LEADER
                ? java.util.Set.of(Partitioning.id(0))
                : java.util.Set.of();
    }

    /** The key-value state machine this replica applies to. */
    public KvStateMachine store() {
        single();
        return store;
    }

    @Override
    public CompletableFuture<Committed> propose(byte[] command) {
        return single().replica().propose(command);
    }

    @Override
    public CompletableFuture<Long> readBarrier() {
        return single().replica().readBarrier();
    }

    @Override
    public Optional<byte[]> get(String key) {
        single();
        return store.get(key);
    }

    @Override
    public KvService.Status status() {
        Replica replica = single().replica();
        // The replicator's status first: a failure it shows is then in failure() too.
        Replica.Status s = replica.status();
        return new KvService.Status(
                config.id(), url, config.replicas(), s, replica.appliedOffset(), replica.failure(), urls, store.size());
    }

    @Override
    public Optional<LeaderInfo> leader() {
        single();
        return discovery.leader();
    }

    @Override
    public CompletableFuture<SnapshotId> takeSnapshot() {
        return single().replica().takeSnapshot();
    }

    @Override
    public CompletableFuture<Configuration> changeMembers(MembershipChange change) {
        single();
        CompletableFuture<Configuration> f = switch (change.kind()) {
            case ADD -> node.addMember(change.id(), change.catchUpTimeout());
            case REMOVE -> node.removeMember(change.id());
            case REPLACE -> node.replaceMember(change.id(), change.replacement(), change.catchUpTimeout());
            case CANCEL -> node.cancelChange();
        };
        event("membership: " + change.kind().name().toLowerCase(java.util.Locale.ROOT) + " "
                + (change.id() + " " + change.replacement()).trim());
        CompletableFuture<Configuration> result = new CompletableFuture<>();
        CompletableFuture<Configuration> unused = f.whenComplete((c, failure) -> {
            if (failure == null) {
                event("replica set: " + c);
                result.complete(c);
                return;
            }
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause()
                    : failure;
            result.completeExceptionally(refusal(cause));
        });
        return result;
    }

    /** The zookeeper package's refusals as the service's; anything else as it is. */
    private static Throwable refusal(Throwable cause) {
        if (cause instanceof ZooKeeperConfiguration.ConcurrentChangeException) {
            return new MembershipRefused(MembershipRefused.Reason.CHANGE_IN_PROGRESS, cause.getMessage());
        }
        if (cause instanceof ZooKeeperConfiguration.StalledChangeException) {
            return new MembershipRefused(MembershipRefused.Reason.STALLED, cause.getMessage());
        }
        if (cause instanceof IllegalArgumentException) {
            return new MembershipRefused(MembershipRefused.Reason.BAD_REQUEST, cause.getMessage());
        }
        return cause;
    }

    @Override
    public long lagMillis(String follower) {
        Long at = caughtUpAt.get(follower);
        return at == null ? 0 : Math.max(0, (System.nanoTime() - at) / 1_000_000);
    }

    @Override
    public String scrapeMetrics() {
        return metrics.scrape();
    }

    /** Messages of an older epoch this replica refused so far. */
    public long staleEpochRefusals() {
        return metrics.staleEpochRefusals();
    }

    /**
     * If this replica leads, steps down (not rejoining for 30 s) and waits up to {@code wait} for another
     * replica to lead; returns whether another one does.
     */
    public boolean handOff(Duration wait) throws InterruptedException {
        FencedLeaderElection election = single().election();
        Optional<LeadershipToken> token = election.currentToken();
        if (token.isEmpty()) {
            return false;
        }
        event("handing leadership over");
        election.stepDown(token.get(), Duration.ofSeconds(30));
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<LeaderInfo> l = discovery.leader();
            if (l.isPresent() && !l.get().id().equals(config.id())) {
                return true;
            }
            Thread.sleep(5); // polling the watch-driven discovery view
        }
        return false;
    }

    /** Stops abruptly, as a crash would: no hand-off. */
    public synchronized void kill() {
        stop(false);
    }

    @Override
    public synchronized void close() {
        stop(true);
    }

    private void stop(boolean handOffFirst) {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (handOffFirst && node != null && discovery != null) {
                handOff(Duration.ofSeconds(3));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("hand-off failed", e);
        }
        if (controllerNode != null) {
            // The controller's controlled shutdown while the API still answers (redirects to the new leaders); or,
            // for kill(), none: the partitions move once the controller sees the registration end.
            if (handOffFirst) {
                event("controlled shutdown: asking the controller to move this node's leaderships");
                controllerNode.close();
            } else {
                controllerNode.closeWithoutHandOver();
            }
        }
        sampler.shutdownNow();
        if (http != null) {
            http.close();
        }
        if (discovery != null) {
            discovery.close();
        }
        if (httpCache != null) {
            httpCache.close();
        }
        if (httpNode != null) {
            try {
                httpNode.close();
            } catch (java.io.IOException e) {
                log.debug("closing the HTTP URL node failed (it goes with the session)", e);
            }
        }
        if (node != null) {
            node.close();
        }
        for (PartitionLog l : logs) {
            if (l.discovery != null) {
                l.discovery.close();
            }
        }
        if (multi != null && controllerNode == null) {
            multi.close(); // every partition leaves its election; the other replicas elect
        }
        if (client != null) {
            client.close();
        }
        metrics.close();
        log.info("replica {} stopped", config.id());
    }

    /** The KV service's partition {@code id}, or null if it has none of that id. */
    private PartitionLog logOf(String id) {
        for (PartitionLog l : logs) {
            if (l.id.equals(id)) {
                return l;
            }
        }
        return null;
    }

    /**
     * One partition of a partitioned node, as the HTTP layer sees it: the partition's replica, its own state machine
     * and its leader discovery (whose endpoint is the leader's HTTP URL). With the controller, the node's replica of
     * the partition may be deleted (a reassignment that removes the node) and opened again later (one that adds it
     * back): the replica is the one the node hosts now, else the last one, and the state machine the one the partition
     * factory made for it. Thread-safe.
     */
    private final class PartitionLog implements KvService {
        private final String id;
        /** The replica opened at start: used while the node hosts no other. */
        private final ZooKeeperNode.Partition partition;
        /** The state machine of the replica the node hosts (the factory replaces it when it opens the partition). */
        private volatile KvStateMachine machine;
        /** Its election's leader discovery; null with the controller. */
        private final LeaderDiscovery discovery;
        /** The sampler's last status of this partition (sampler thread only). */
        private Replica.Status lastSampled;

        PartitionLog(String id, ZooKeeperNode.Partition partition, KvStateMachine machine, LeaderDiscovery discovery) {
            this.id = id;
            this.partition = partition;
            this.machine = machine;
            this.discovery = discovery;
        }

        /** The replica this node hosts now, else the one opened at start (closed: it redirects). */
        private ZooKeeperNode.Partition hosted() {
            return multi.partition(id).orElse(partition);
        }

        Replica replica() {
            return hosted().replica();
        }

        /**
         * The partition's replicas: with the controller, as its newest state this node applied names them (a
         * reassignment changes them; the sampler refreshes that state), else as opened.
         */
        private List<String> replicas() {
            PartitionState s = discovery == null ? assigned.get(id) : null;
            return s != null ? s.replicas() : hosted().replicas();
        }

        @Override
        public String partitionId() {
            return id;
        }

        @Override
        public CompletableFuture<Committed> propose(byte[] command) {
            return replica().propose(command);
        }

        @Override
        public CompletableFuture<Long> readBarrier() {
            return replica().readBarrier();
        }

        @Override
        public Optional<byte[]> get(String key) {
            return machine.get(key);
        }

        @Override
        public KvService.Status status() {
            Optional<ZooKeeperNode.Partition> now = multi.partition(id);
            Replica replica = now.orElse(partition).replica();
            Replica.Status s = replica.status();
            return new KvService.Status(
                    config.id(),
                    url,
                    replicas(),
                    s,
                    replica.appliedOffset(),
                    // A replica the controller took away (deleted, hosted no more) stopped because it was removed,
                    // not after a failure: its requests are redirected to the partition's leader, not refused.
                    now.isPresent() ? replica.failure() : Optional.empty(),
                    urls,
                    machine.size());
        }

        @Override
        public Optional<LeaderInfo> leader() {
            return discovery != null ? discovery.leader() : assignedLeader(id);
        }

        @Override
        public CompletableFuture<SnapshotId> takeSnapshot() {
            return replica().takeSnapshot();
        }

        @Override
        public CompletableFuture<Configuration> changeMembers(MembershipChange change) {
            return CompletableFuture.failedFuture(new MembershipRefused(
                    MembershipRefused.Reason.BAD_REQUEST,
                    "membership changes of a partitioned cluster are not supported yet"));
        }

        @Override
        public String toString() {
            return "partition " + id + " on " + config.id();
        }
    }
}
