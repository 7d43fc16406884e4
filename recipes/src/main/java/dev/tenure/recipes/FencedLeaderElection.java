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
package dev.tenure.recipes;

import com.google.common.base.Preconditions;
import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.util.concurrent.MoreExecutors;
import dev.tenure.recipes.Records.EpochRecord;
import dev.tenure.recipes.Records.ParticipantRecord;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ThreadUtils;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election on Curator's {@code LeaderLatch} or {@code LeaderSelector} in which every term of
 * leadership carries an epoch fencing token.
 *
 * <pre>{@code
 * FencedLeaderElection election = FencedLeaderElection.builder(client, "/services/orders")
 *         .participantId("orders-1")
 *         .endpoint("10.0.0.7:9000")
 *         .listener(new LeadershipListener() {
 *             public void acquired(LeadershipToken token) { startServing(token); }
 *             public void revoked(LeadershipToken token, RevocationReason reason) { stopServing(token); }
 *         })
 *         .build();
 * election.start();
 * }</pre>
 *
 * <h2>Guarantees</h2>
 *
 * <ul>
 *   <li>Every acquisition of leadership, including re-acquisition after a reconnect, mints a new epoch,
 *       strictly greater than every epoch minted before on this election path. Minting is one ZooKeeper
 *       transaction that checks this participant's latch or lock node still exists (it is the holder) and
 *       sets the persistent epoch node conditionally on its version. The epoch node lives outside Curator's
 *       container, so session expiry, server restarts and container reaping never reset it.
 *   <li>No listener hears {@code acquired} before its mint succeeded.
 *   <li>Epochs are positive and never wrap: an epoch node at {@code Long.MAX_VALUE} (only corruption or a hand
 *       edit gets there) is left as it is and nobody leads; each refused mint is logged at ERROR with what the
 *       operator can do, counted by {@link #mintFailureCount()}, and retried after the retry backoff.
 *   <li>A term ends ({@code revoked}) at once when the connection is suspended (by default; see {@link
 *       SuspensionPolicy}), when the session is lost, when Curator reports the loss of the latch or lock,
 *       when a newer epoch appears on the epoch node, on {@link #stepDown(LeadershipToken)}, on {@link
 *       #close()}, and when the listener's {@code acquired} throws (see {@link LeadershipListener}).
 * </ul>
 *
 * <h2>What it does not guarantee</h2>
 *
 * ZooKeeper alone does not give exclusive leadership: after a pause longer than the session timeout, or
 * before a late {@code LOST}, two participants can both believe they lead. Callbacks can arrive late. So
 * {@link #isCurrent(LeadershipToken)} is a cheap local check that can only be trusted as "not current";
 * every side effect must be fenced by its receiver: ZooKeeper writes with {@link
 * #fencedTransaction(LeadershipToken, Collection)}, other resources with an {@link EpochFence}.
 *
 * <h2>Lifecycle and threads</h2>
 *
 * Start once; {@link #close()} is idempotent. All election work runs on one internal thread; listener
 * callbacks run on the listener executor (by default one thread owned by the election), one at a time and
 * in order. Public methods are thread-safe.
 */
public final class FencedLeaderElection implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(FencedLeaderElection.class);

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private enum Connection {
        CONNECTED,
        SUSPENDED,
        LOST
    }

    /** One term of leadership: a token minted for one tenure of one candidacy. */
    private static final class Term {
        final LeadershipToken token;
        final Candidacy candidacy;
        final long tenure;
        final CompletableFuture<RevocationReason> revoked = new CompletableFuture<>();

        Term(LeadershipToken token, Candidacy candidacy, long tenure) {
            this.token = token;
            this.candidacy = candidacy;
            this.tenure = tenure;
        }
    }

    private final CuratorFramework client;
    private final ElectionPaths paths;
    private final String participantId;
    private final String endpoint;
    private final ElectionBackend backend;
    private final SuspensionPolicy suspensionPolicy;
    private final LeadershipListener listener;
    private final Duration retryBackoff;
    private final boolean pathsCreated;

    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final AtomicReference<Term> term = new AtomicReference<>();
    private final Object termMonitor = new Object();
    /** Futures of {@link #leadership()} waiting for the next term; guarded by termMonitor. */
    private final List<CompletableFuture<LeadershipToken>> leadershipWaiters = new ArrayList<>();
    /** Orders the queueing of callbacks with term changes; held only to queue, never to run them. */
    private final Object deliveryLock = new Object();

    private final Cache<LeadershipToken, Term> recentTerms =
            CacheBuilder.newBuilder().maximumSize(64).build();
    private final AtomicLong mintFailures = new AtomicLong();
    private final AtomicLong termsWon = new AtomicLong();
    private final ControlExecutor control;
    private final ExecutorService ownListenerExecutor;
    private final Executor listenerExecutor;
    private final ThreadLocal<Boolean> inCallback = ThreadLocal.withInitial(() -> false);
    private final ConnectionStateListener connectionListener = (c, s) -> connectionStateChanged(s);
    private volatile Connection connection = Connection.CONNECTED;

    // Confined to the control thread.
    private Candidacy candidacy;

    private FencedLeaderElection(Builder b) {
        this.client = b.client;
        this.paths = b.paths;
        this.participantId = b.participantId;
        this.endpoint = b.endpoint;
        this.backend = b.backend;
        this.suspensionPolicy = b.suspensionPolicy;
        this.listener = b.work == null ? b.listener : new WorkListener(b.work, b.interruptOnRevocation);
        this.retryBackoff = b.retryBackoff;
        this.pathsCreated = b.pathsCreated;
        this.control = b.controlScheduler == null
                ? ControlExecutor.own("tenure-election-" + participantId)
                : ControlExecutor.shared(b.controlScheduler);
        if (b.listenerExecutor == null) {
            this.ownListenerExecutor = Executors.newSingleThreadExecutor(
                    ThreadUtils.newThreadFactory("tenure-leadership-" + participantId));
            this.listenerExecutor = ownListenerExecutor;
        } else {
            this.ownListenerExecutor = null;
            this.listenerExecutor = MoreExecutors.newSequentialExecutor(b.listenerExecutor);
        }
    }

    /**
     * A builder for an election on {@code electionPath} (a ZooKeeper path other than the root; see the
     * node layout in {@code docs/recipes.md}).
     */
    public static Builder builder(CuratorFramework client, String electionPath) {
        return new Builder(client, electionPath);
    }

    /**
     * The latest epoch minted on {@code electionPath}, read from ZooKeeper now (a sync'd read is not needed: epochs only
     * grow, so a stale answer is a lower bound); 0 if none was minted yet. For a participant that lost its state and
     * must refuse every epoch older than the latest before it takes part again.
     *
     * @throws Exception if ZooKeeper cannot be read, or the epoch record is malformed
     */
    public static long latestEpoch(CuratorFramework client, String electionPath) throws Exception {
        ElectionPaths paths = ElectionPaths.of(electionPath);
        if (client.checkExists().forPath(paths.epoch) == null) {
            return 0;
        }
        try {
            return Records.EpochRecord.decode(client.getData().forPath(paths.epoch)).epoch;
        } catch (org.apache.zookeeper.KeeperException.NoNodeException deleted) {
            return 0;
        }
    }

    /**
     * The epoch held by the data of an election's epoch node (as {@link #latestEpoch} reads it), for a caller that
     * read the node itself (in the background, say).
     *
     * @throws IllegalStateException if the data is not an epoch record
     */
    public static long decodeEpoch(byte[] data) {
        try {
            return Records.EpochRecord.decode(data).epoch;
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("malformed epoch record: " + e.getMessage(), e);
        }
    }

    /**
     * Mints the next epoch on {@code electionPath} outside any term, in one ZooKeeper transaction with the operations
     * {@code alongWith} returns for that epoch: either all of them happen or none. The epoch is held by no
     * participant; every current term sees a newer epoch and is revoked ({@link RevocationReason#SUPERSEDED}), and
     * the next acquisition mints a later one. For changes that must fence every term that began before them, such as
     * a change of a replica set ({@code docs/replication.md}, "Membership change").
     *
     * <p>A race with a participant minting at the same moment is retried (up to 5 times); a failure of one of {@code
     * alongWith}'s operations (a version check that no longer holds) is not: it is thrown, and nothing was written.
     *
     * @param alongWith the other operations of the transaction, given the epoch being minted; built anew on each
     *     attempt
     * @return the epoch minted
     * @throws KeeperException if one of {@code alongWith}'s operations fails (for example {@link
     *     KeeperException.BadVersionException}); nothing was written
     * @throws IllegalStateException if the epoch node is malformed or holds {@code Long.MAX_VALUE}, or kept changing
     * @throws Exception if ZooKeeper cannot be reached
     */
    public static long mintEpoch(CuratorFramework client, String electionPath, OperationsForEpoch alongWith)
            throws Exception {
        ElectionPaths paths = ElectionPaths.of(electionPath);
        for (int attempt = 1; attempt <= 5; attempt++) {
            Stat epochStat = new Stat();
            EpochRecord current;
            try {
                current = EpochRecord.decode(
                        client.getData().storingStatIn(epochStat).forPath(paths.epoch));
            } catch (KeeperException.NoNodeException e) {
                try {
                    client.create()
                            .creatingParentContainersIfNeeded()
                            .forPath(paths.epoch, EpochRecord.INITIAL.encode());
                } catch (KeeperException.NodeExistsException raced) {
                    // created meanwhile
                }
                continue;
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(
                        "epoch node " + paths.epoch + " holds malformed data: " + e.getMessage(), e);
            }
            if (current.epoch == Long.MAX_VALUE) {
                throw new IllegalStateException("epoch node " + paths.epoch + " holds the maximum epoch");
            }
            long next = current.epoch + 1;
            List<CuratorOp> ops = new java.util.ArrayList<>();
            ops.add(client.transactionOp()
                    .setData()
                    .withVersion(epochStat.getVersion())
                    .forPath(paths.epoch, new EpochRecord(next, "", "", "", "").encode()));
            ops.addAll(alongWith.operations(next));
            try {
                client.transaction().forOperations(ops);
                return next;
            } catch (KeeperException e) {
                List<org.apache.zookeeper.OpResult> results = e.getResults();
                boolean epochRaced = results != null
                        && !results.isEmpty()
                        && results.get(0) instanceof org.apache.zookeeper.OpResult.ErrorResult err
                        && err.getErr() == KeeperException.Code.BADVERSION.intValue();
                if (!epochRaced) {
                    throw e;
                }
            }
        }
        throw new IllegalStateException("epoch node " + paths.epoch + " kept changing during 5 mint attempts");
    }

    /**
     * The operations that create the nodes of the election path {@code electionPath} — the path itself and its epoch
     * node at epoch 0 (persistent), and the container of the participants' nodes — for a caller that creates many
     * elections in few ZooKeeper requests (one transaction per election, sent in the background, say) instead of
     * each election's {@link #start} creating them (and its recipe creating the container on its first try). The
     * path's parent must exist. In a transaction, they fail it with {@link KeeperException.NodeExistsException} if
     * any of the nodes exists already, so an existing epoch is never reset. {@link #start} creates the nodes itself
     * when they are missing; it only looks when they exist, and not at all with {@link Builder#pathsCreated}.
     *
     * @throws IllegalArgumentException if the path is not a valid election path
     * @throws Exception if Curator cannot build the operations
     */
    public static List<CuratorOp> pathCreationOperations(CuratorFramework client, String electionPath)
            throws Exception {
        ElectionPaths paths = ElectionPaths.of(electionPath);
        return List.of(
                client.transactionOp().create().withMode(CreateMode.PERSISTENT).forPath(paths.base),
                client.transactionOp()
                        .create()
                        .withMode(CreateMode.PERSISTENT)
                        .forPath(paths.epoch, EpochRecord.INITIAL.encode()),
                client.transactionOp().create().withMode(CreateMode.CONTAINER).forPath(paths.election));
    }

    /**
     * Deposes the leader of {@code epoch}: deletes the participant node it minted {@code epoch} with, in one ZooKeeper
     * transaction conditional on the epoch node still being at the version read with {@code epoch} on it, so that a
     * depose for an old epoch can never remove a newer leader's node. The next participant in line then holds the
     * latch or lock and mints a newer epoch at once, without waiting for the deposed leader's session to expire. For
     * fast failover ({@code docs/replication.md}, "Fast failover"): the caller decides when a leader is dead (a
     * majority of the replica set has lost it); deposing a leader that is alive is safe wherever its writes are
     * fenced by the epoch (its term is revoked as {@link RevocationReason#SUPERSEDED} once the next epoch is minted,
     * and its election rejoins), but it costs a leader change.
     *
     * <p>Blocking: three ZooKeeper requests at most, one after the other ({@link #deposeAsync} sends them in the
     * background). Thread-safe.
     *
     * @return true if this call deleted the leader's node; false if the epoch is no longer the latest (or not yet
     *     minted), its node is already gone, or the node under its name is another participant's
     * @throws IllegalArgumentException if {@code epoch} is not positive or the path is not a valid election path
     * @throws IllegalStateException if the epoch node holds malformed data
     * @throws Exception if ZooKeeper cannot be reached
     */
    public static boolean depose(CuratorFramework client, String electionPath, long epoch) throws Exception {
        try {
            return deposeAsync(client, electionPath, epoch)
                    .toCompletableFuture()
                    .get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /**
     * {@link #depose}, with its three requests sent in the background, each once the previous one answered: no thread
     * waits, so that a node deposing the leaders of many elections at once (fast failover after the death of a node
     * that led many partitions) pipelines their requests on its ZooKeeper session instead of queueing them behind a
     * few blocked threads. The stage completes on Curator's event thread: keep what depends on it short, or hand it
     * on. Thread-safe.
     *
     * @return a stage completing with {@link #depose}'s answer, or exceptionally with {@link IllegalStateException}
     *     if the epoch node holds malformed data, or with the {@link KeeperException} (or Curator's exception) if
     *     ZooKeeper cannot be reached
     * @throws IllegalArgumentException if {@code epoch} is not positive or the path is not a valid election path
     */
    public static CompletionStage<Boolean> deposeAsync(CuratorFramework client, String electionPath, long epoch) {
        Preconditions.checkArgument(epoch > 0, "epoch must be > 0, was %s", epoch);
        ElectionPaths paths = ElectionPaths.of(electionPath);
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        try {
            client.getData()
                    .inBackground((c, read) -> {
                        KeeperException.Code code = KeeperException.Code.get(read.getResultCode());
                        if (code == KeeperException.Code.NONODE) {
                            result.complete(false);
                            return;
                        }
                        if (code != KeeperException.Code.OK) {
                            result.completeExceptionally(KeeperException.create(code, paths.epoch));
                            return;
                        }
                        EpochRecord current;
                        try {
                            current = EpochRecord.decode(read.getData());
                        } catch (IllegalArgumentException e) {
                            result.completeExceptionally(new IllegalStateException(
                                    "epoch node " + paths.epoch + " holds malformed data: " + e.getMessage(), e));
                            return;
                        }
                        String name = current.participantNode;
                        if (current.epoch != epoch || name.contains("/") || ElectionPaths.sequenceOf(name) < 0) {
                            result.complete(false); // another epoch, or one minted outside any term
                            return;
                        }
                        deleteIfStill(c, paths, current, read.getStat().getVersion(), epoch, result);
                    })
                    .forPath(paths.epoch);
        } catch (Exception e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    /** {@link #deposeAsync}'s second and third requests: the participant node's owner, then the transaction. */
    private static void deleteIfStill(
            CuratorFramework client,
            ElectionPaths paths,
            EpochRecord current,
            int epochVersion,
            long epoch,
            CompletableFuture<Boolean> result)
            throws Exception {
        String name = current.participantNode;
        String node = paths.child(name);
        client.getData()
                .inBackground((c, owner) -> {
                    KeeperException.Code code = KeeperException.Code.get(owner.getResultCode());
                    if (code == KeeperException.Code.NONODE) {
                        result.complete(false);
                        return;
                    }
                    if (code != KeeperException.Code.OK) {
                        result.completeExceptionally(KeeperException.create(code, node));
                        return;
                    }
                    try {
                        // A sequence number repeats only if the container was reaped and made again: never delete a
                        // namesake.
                        if (!ParticipantRecord.decode(owner.getData()).instance.equals(current.instance)) {
                            result.complete(false);
                            return;
                        }
                    } catch (IllegalArgumentException e) {
                        result.complete(false); // a foreign node under the election path
                        return;
                    }
                    c.transaction()
                            .inBackground((c2, done) -> {
                                KeeperException.Code rc = KeeperException.Code.get(done.getResultCode());
                                if (rc == KeeperException.Code.OK) {
                                    log.info(
                                            "deposed the leader {} of epoch {} on {} (its node {})",
                                            current.leaderId,
                                            epoch,
                                            paths.base,
                                            name);
                                    result.complete(true);
                                } else if (rc == KeeperException.Code.BADVERSION
                                        || rc == KeeperException.Code.NONODE
                                        || superseded(done.getOpResults())) {
                                    result.complete(false); // a newer epoch, or the node left meanwhile
                                } else {
                                    result.completeExceptionally(KeeperException.create(rc, paths.base));
                                }
                            })
                            .forOperations(
                                    c.transactionOp()
                                            .check()
                                            .withVersion(epochVersion)
                                            .forPath(paths.epoch),
                                    c.transactionOp().delete().forPath(node));
                })
                .forPath(node);
    }

    /** Whether a failed transaction's results say the epoch moved on or the node was gone. */
    private static boolean superseded(List<CuratorTransactionResult> results) {
        if (results == null) {
            return false;
        }
        for (CuratorTransactionResult r : results) {
            int err = r.getError();
            if (err == KeeperException.Code.BADVERSION.intValue() || err == KeeperException.Code.NONODE.intValue()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The node under which fast failover records suspicions of the leaders of {@code electionPath}: {@code
     * P/suspicions}, one child per suspected epoch ({@link #suspicionPath}).
     *
     * @throws IllegalArgumentException if the path is not a valid election path
     */
    public static String suspicionsPath(String electionPath) {
        return ElectionPaths.of(electionPath).suspicions;
    }

    /**
     * The ephemeral node by which {@code voterId} says it suspects the leader of {@code epoch} on {@code
     * electionPath}: {@code P/suspicions/EPOCH/VOTER}, with the epoch in 20 digits so that names sort by epoch.
     *
     * @throws IllegalArgumentException if the epoch is not positive, the voter id is not a valid node name, or the
     *     path is not a valid election path
     */
    public static String suspicionPath(String electionPath, long epoch, String voterId) {
        Preconditions.checkArgument(epoch > 0, "epoch must be > 0, was %s", epoch);
        Preconditions.checkArgument(
                voterId != null && !voterId.isEmpty() && !voterId.contains("/") && !voterId.startsWith("."),
                "not a valid voter id for a node name: %s",
                voterId);
        return ZKPaths.makePath(suspicionsPath(electionPath), String.format("%020d", epoch), voterId);
    }

    /**
     * The epoch a child of {@link #suspicionsPath} names, or -1 if the name is not one (a foreign node).
     */
    public static long suspectedEpochOf(String childName) {
        if (childName.length() != 20 || !childName.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            return -1;
        }
        try {
            long e = Long.parseLong(childName);
            return e > 0 ? e : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The operations of a {@link #mintEpoch} transaction besides the mint, given the epoch being minted. */
    @FunctionalInterface
    public interface OperationsForEpoch {
        /** The operations to commit with the mint of {@code epoch}. */
        List<CuratorOp> operations(long epoch) throws Exception;
    }

    /** The JVM's {@code pid@host}, at most 256 characters. */
    private static String defaultParticipantId() {
        String name = java.lang.management.ManagementFactory.getRuntimeMXBean().getName();
        return name.length() <= 256 ? name : name.substring(0, 256);
    }

    /** Builds a {@link FencedLeaderElection}. Every setting has a default. */
    public static final class Builder {
        private final CuratorFramework client;
        private final ElectionPaths paths;
        private String participantId;
        private String endpoint = "";
        private ElectionBackend backend = ElectionBackend.LEADER_LATCH;
        private SuspensionPolicy suspensionPolicy = SuspensionPolicy.REVOKE;
        private LeadershipListener listener = new LeadershipListener() {};
        private boolean listenerSet;
        private Executor listenerExecutor;
        private ScheduledExecutorService controlScheduler;
        private Duration retryBackoff = Duration.ofSeconds(1);
        private boolean pathsCreated;
        private LeaderWork work;
        private boolean interruptOnRevocation;

        private Builder(CuratorFramework client, String electionPath) {
            this.client = Preconditions.checkNotNull(client, "client must not be null");
            this.paths = ElectionPaths.of(electionPath);
        }

        /**
         * This participant's id (non-blank, at most 256 characters); shown to discovery. By default the JVM's
         * {@code pid@host}.
         */
        public Builder participantId(String id) {
            Preconditions.checkArgument(id != null && !id.isBlank(), "participant id must not be empty");
            Preconditions.checkArgument(id.length() <= 256, "participant id must be at most 256 characters");
            this.participantId = id;
            return this;
        }

        /** An opaque string other processes find through {@link LeaderDiscovery}, e.g. "host:port". */
        public Builder endpoint(String endpoint) {
            this.endpoint = Preconditions.checkNotNull(endpoint, "endpoint must not be null");
            return this;
        }

        /** The Curator recipe to elect with; {@link ElectionBackend#LEADER_LATCH} by default. */
        public Builder backend(ElectionBackend backend) {
            this.backend = Preconditions.checkNotNull(backend, "backend must not be null");
            return this;
        }

        /** What a leader does on a suspended connection; {@link SuspensionPolicy#REVOKE} by default. */
        public Builder suspensionPolicy(SuspensionPolicy policy) {
            this.suspensionPolicy = Preconditions.checkNotNull(policy, "suspension policy must not be null");
            return this;
        }

        /** The listener of terms; none by default. */
        public Builder listener(LeadershipListener listener) {
            this.listener = Preconditions.checkNotNull(listener, "listener must not be null");
            this.listenerSet = true;
            return this;
        }

        /**
         * The leader's work, as a lambda that leads for as long as it runs (see {@link LeaderWork}): instead of a
         * {@link #listener}.
         */
        public Builder leader(LeaderWork work) {
            this.work = Preconditions.checkNotNull(work, "work must not be null");
            return this;
        }

        /**
         * With {@link #leader}: interrupt the thread running the work when its term ends, as Curator's {@code
         * LeaderSelector} does; off by default (the work watches {@link LeaderTerm#isCurrent} instead).
         */
        public Builder interruptOnRevocation(boolean interrupt) {
            this.interruptOnRevocation = interrupt;
            return this;
        }

        /**
         * Where listener callbacks run; they still run one at a time and in order. By default a single thread
         * owned by the election.
         */
        public Builder listenerExecutor(Executor executor) {
            this.listenerExecutor = Preconditions.checkNotNull(executor, "executor must not be null");
            return this;
        }

        /**
         * Runs the election's control work (joining, minting, retries) on {@code scheduler}, shared with other
         * elections, instead of a thread of its own: for a node with one election per partition. The work still runs
         * one task at a time and in order; it waits on ZooKeeper, so a scheduler shared by many elections serialises
         * their mints. The scheduler must outlive the election. Combine with {@link #listenerExecutor}.
         */
        public Builder controlScheduler(ScheduledExecutorService scheduler) {
            this.controlScheduler = Preconditions.checkNotNull(scheduler, "scheduler must not be null");
            return this;
        }

        /**
         * Tells the election that its path's persistent nodes exist (the caller created them with {@link
         * #pathCreationOperations}, or read the epoch node), so that {@link #start} does not look for them: joining
         * then costs no request before the recipe's own. Safe if they were deleted since: the recipe creates its
         * container, and a mint that finds no epoch node creates the path's nodes first, as it always does.
         */
        public Builder pathsCreated() {
            this.pathsCreated = true;
            return this;
        }

        /**
         * Pause before retrying after a failed mint or set-up, and before rejoining the election after the
         * listener's {@code acquired} threw; 1 s by default.
         */
        public Builder retryBackoff(Duration backoff) {
            Preconditions.checkArgument(
                    backoff != null && !backoff.isNegative() && !backoff.isZero(), "retry backoff must be > 0");
            this.retryBackoff = backoff;
            return this;
        }

        /**
         * @throws IllegalArgumentException if the participant id is missing, or {@link
         *     SuspensionPolicy#WAIT_FOR_LOST} is combined with a latch on a client whose connection state error
         *     policy treats SUSPENDED as an error
         */
        public FencedLeaderElection build() {
            if (participantId == null) {
                participantId = defaultParticipantId();
            }
            Preconditions.checkArgument(
                    work == null || !listenerSet, "set either a listener or the leader's work, not both");
            Preconditions.checkArgument(
                    work != null || !interruptOnRevocation, "interruptOnRevocation needs leader(work)");
            if (suspensionPolicy == SuspensionPolicy.WAIT_FOR_LOST && backend == ElectionBackend.LEADER_LATCH) {
                Preconditions.checkArgument(
                        !client.getConnectionStateErrorPolicy().isErrorState(ConnectionState.SUSPENDED),
                        "SuspensionPolicy.WAIT_FOR_LOST with a LeaderLatch needs a client built with"
                                + " SessionConnectionStateErrorPolicy; this client's latch would give up leadership"
                                + " on SUSPENDED");
            }
            return new FencedLeaderElection(this);
        }
    }

    /**
     * Joins the election in the background: looks whether the election path's nodes exist (a read; not with {@link
     * Builder#pathsCreated}), creates them if not, and starts the Curator recipe.
     *
     * @throws IllegalStateException if started before or closed
     */
    public void start() {
        Preconditions.checkState(state.compareAndSet(State.LATENT, State.STARTED), "Cannot be started more than once");
        client.getConnectionStateListenable().addListener(connectionListener);
        control.execute(this::initialise);
    }

    /** This participant's id. */
    public String participantId() {
        return participantId;
    }

    /** The election path. */
    public String electionPath() {
        return paths.base;
    }

    /** The token of the current term, if this participant leads right now (as far as it knows). */
    public Optional<LeadershipToken> currentToken() {
        Term t = term.get();
        return t == null ? Optional.empty() : Optional.of(t.token);
    }

    /** Whether this participant leads right now, as far as it knows. */
    public boolean hasLeadership() {
        return term.get() != null;
    }

    /**
     * Whether {@code token}'s term is still current here. Cheap (a volatile read). {@code false} is
     * definite; {@code true} can be stale by up to the time it takes to notice a suspension or a newer epoch,
     * which is why receivers must fence.
     */
    public boolean isCurrent(LeadershipToken token) {
        Term t = term.get();
        return t != null && t.token.equals(token);
    }

    /**
     * Completes with the reason when the term of {@code token} ends; already complete if it has ended.
     *
     * @throws IllegalArgumentException if the token was not minted by this participant recently
     */
    public CompletionStage<RevocationReason> revocation(LeadershipToken token) {
        Term t = recentTerms.getIfPresent(token);
        Preconditions.checkArgument(t != null, "%s was not minted by participant %s", token, participantId);
        return t.revoked.minimalCompletionStage();
    }

    /**
     * Waits until this participant leads and returns the term's token.
     *
     * @throws TimeoutException if it does not lead within the timeout
     */
    public LeadershipToken awaitLeadership(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (termMonitor) {
            while (true) {
                checkNotClosed();
                Term t = term.get();
                if (t != null) {
                    return t.token;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException(participantId + " did not lead within " + timeout);
                }
                TimeUnit.NANOSECONDS.timedWait(termMonitor, left);
            }
        }
    }

    /**
     * Completes with the token of this participant's next term: at once if it leads now. Fails with {@link
     * IllegalStateException} if the election is closed first. Completes on the election's control thread: keep
     * dependent actions short, or make them async.
     */
    public CompletionStage<LeadershipToken> leadership() {
        CompletableFuture<LeadershipToken> f = new CompletableFuture<>();
        synchronized (termMonitor) {
            Term t = term.get();
            if (t != null) {
                f.complete(t.token);
            } else if (state.get() == State.CLOSED) {
                f.completeExceptionally(
                        new IllegalStateException("election " + paths.base + " of " + participantId + " is closed"));
            } else {
                leadershipWaiters.add(f);
            }
        }
        return f.minimalCompletionStage();
    }

    /** How many terms this participant has won (each with its own epoch). */
    public long termsWon() {
        return termsWon.get();
    }

    /**
     * How many mints failed for a reason other than losing the connection (corrupt epoch node, exhausted epoch
     * space, lost race).
     */
    public long mintFailureCount() {
        return mintFailures.get();
    }

    /**
     * Runs {@code operations} (built with {@code client.transactionOp()}) in one ZooKeeper transaction that
     * succeeds only while {@code token} is current here and no newer epoch has been minted.
     *
     * <p>Sent at most once: a transaction whose reply is lost is reported as {@link
     * FencedTransaction.OutcomeUnknownException}, never as failed; every other exception means nothing was
     * applied.
     *
     * @throws FencedException if the term is over; nothing was applied
     * @throws FencedTransaction.OutcomeUnknownException if the reply was lost; the operations may or may not
     *     have been applied (see there for what to do)
     * @throws KeeperException if an operation failed or no connection could be had before sending; nothing
     *     was applied
     * @throws InterruptedException if interrupted before sending; nothing was applied
     * @see FencedTransaction#commit
     */
    public List<CuratorTransactionResult> fencedTransaction(LeadershipToken token, Collection<CuratorOp> operations)
            throws FencedException, FencedTransaction.OutcomeUnknownException, KeeperException, InterruptedException {
        checkNotClosed();
        Preconditions.checkArgument(
                token.electionPath().equals(paths.base), "%s belongs to another election than %s", token, paths.base);
        if (!isCurrent(token)) {
            throw new FencedException(token.epoch(), -1, "write fenced: " + token + " is no longer current");
        }
        return FencedTransaction.commit(client, token, operations);
    }

    /** As {@link #stepDown(LeadershipToken, Duration)} without a delay. */
    public boolean stepDown(LeadershipToken token) throws InterruptedException {
        return stepDown(token, Duration.ZERO);
    }

    /**
     * Ends the term of {@code token} voluntarily, releases this participant's node so another can lead, and
     * re-enters the election after {@code rejoinDelay}.
     *
     * <p>Returns after the listener's {@code revoked} (and a running {@code acquired}) has returned and the
     * node is released, so the next leader starts after this one stopped. Called from a listener callback, it
     * does not wait for the callbacks (that would wait for itself).
     *
     * @return false if {@code token} was not current, in which case nothing happens
     * @throws IllegalStateException if the election is not started or is closed
     */
    public boolean stepDown(LeadershipToken token, Duration rejoinDelay) throws InterruptedException {
        return stepDownWithin(token, rejoinDelay, Long.MAX_VALUE);
    }

    /**
     * As {@link #stepDown(LeadershipToken, Duration)}, waiting at most {@code timeout} for the listener's callbacks
     * (a leader's work that ignores its revocation, say) before releasing this participant's node anyway: the
     * term is revoked and its epoch fenced whatever the work still does, so the next leader's writes are safe; only
     * the courtesy of starting after this one stopped is lost, and a WARN says so.
     *
     * @return false if {@code token} was not current, in which case nothing happens
     */
    public boolean stepDown(LeadershipToken token, Duration rejoinDelay, Duration timeout) throws InterruptedException {
        Preconditions.checkArgument(!timeout.isNegative(), "timeout must be >= 0");
        return stepDownWithin(token, rejoinDelay, System.nanoTime() + timeout.toNanos());
    }

    private boolean stepDownWithin(LeadershipToken token, Duration rejoinDelay, long deadline)
            throws InterruptedException {
        Preconditions.checkState(state.get() == State.STARTED, "election is not started or is closed");
        Preconditions.checkArgument(!rejoinDelay.isNegative(), "rejoin delay must be >= 0");
        Term t = term.get();
        if (t == null || !t.token.equals(token) || !revoke(t, RevocationReason.STEPPED_DOWN)) {
            return false;
        }
        if (!inCallback.get() && !awaitListenerIdle(deadline)) {
            log.warn(
                    "{} steps down from {} while its listener still runs: releasing its node anyway (the term is"
                            + " fenced)",
                    participantId,
                    token);
        }
        CountDownLatch released = new CountDownLatch(1);
        try {
            control.execute(() -> {
                try {
                    restartCandidacy(t.candidacy, rejoinDelay);
                } finally {
                    released.countDown();
                }
            });
        } catch (RejectedExecutionException closed) {
            return true;
        }
        released.await();
        return true;
    }

    /**
     * Leaves the election: ends the current term ({@code revoked(…, CLOSED)}), releases this participant's
     * node promptly, and waits until the listener's callbacks, including leadership work running in {@code
     * acquired}, have returned (not when called from a callback). Idempotent; the election cannot be
     * restarted.
     */
    @Override
    public void close() {
        closeWithin(Long.MAX_VALUE);
    }

    /**
     * As {@link #close()}, waiting at most {@code timeout} for the election's work and the listener's callbacks
     * (the leader's work included) to return.
     *
     * @return true if they returned within {@code timeout}; false if some still run (a leader's work that ignores
     *     its revocation): the term is over and fenced anyway, and the node is released
     */
    public boolean close(Duration timeout) {
        Preconditions.checkArgument(!timeout.isNegative(), "timeout must be >= 0");
        return closeWithin(System.nanoTime() + timeout.toNanos());
    }

    private boolean closeWithin(long deadline) {
        State previous = state.getAndSet(State.CLOSED);
        if (previous == State.CLOSED) {
            return true;
        }
        List<CompletableFuture<LeadershipToken>> waiting;
        synchronized (termMonitor) {
            termMonitor.notifyAll();
            waiting = new ArrayList<>(leadershipWaiters);
            leadershipWaiters.clear();
        }
        waiting.forEach(f -> f.completeExceptionally(
                new IllegalStateException("election " + paths.base + " of " + participantId + " is closed")));
        if (previous == State.STARTED) {
            client.getConnectionStateListenable().removeListener(connectionListener);
            Term t = term.get();
            if (t != null) {
                revoke(t, RevocationReason.CLOSED);
            }
            control.execute(() -> {
                if (candidacy != null) {
                    candidacy.close();
                    candidacy = null;
                }
            });
        }
        control.shutdown();
        boolean done = true;
        try {
            long controlWait = Math.min(TimeUnit.SECONDS.toNanos(60), remaining(deadline));
            if (!control.awaitTermination(controlWait, TimeUnit.NANOSECONDS)) {
                log.warn("election {} of {} did not finish its work in time", paths.base, participantId);
                done = false;
            }
            if (!inCallback.get() && !awaitListenerIdle(deadline)) {
                log.warn(
                        "the leadership listener of {} on {} still runs after close's timeout",
                        participantId,
                        paths.base);
                done = false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        if (ownListenerExecutor != null) {
            ownListenerExecutor.shutdown();
        }
        return done;
    }

    private static long remaining(long deadline) {
        return deadline == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, deadline - System.nanoTime());
    }

    @Override
    public String toString() {
        Term t = term.get();
        return "FencedLeaderElection{" + participantId + " on " + paths.base + ", " + backend + ", "
                + (t == null ? "not leading" : "leading " + t.token) + "}";
    }

    // ---- control thread ----

    /**
     * Looks whether the epoch node exists (a read, in the background: the control thread does not wait for it) and
     * creates the path's nodes only when it does not, so that joining an existing election costs no write; then
     * starts the candidacy.
     */
    private void initialise() {
        if (state.get() != State.STARTED) {
            return;
        }
        if (pathsCreated) {
            startCandidacy();
            return;
        }
        try {
            client.checkExists()
                    .inBackground((cl, event) -> submit(
                            event.getResultCode() == KeeperException.Code.OK.intValue()
                                    ? this::startCandidacy
                                    : this::createPathsAndStart))
                    .forPath(paths.epoch);
        } catch (Exception e) {
            log.warn("cannot look for {} yet; retrying in {}", paths.epoch, retryBackoff, e);
            schedule(this::initialise, retryBackoff);
        }
    }

    private void createPathsAndStart() {
        if (state.get() != State.STARTED) {
            return;
        }
        try {
            ensureNode(paths.base, null);
            ensureNode(paths.epoch, EpochRecord.INITIAL.encode());
        } catch (Exception e) {
            log.warn("cannot create {} yet; retrying in {}", paths.base, retryBackoff, e);
            schedule(this::initialise, retryBackoff);
            return;
        }
        startCandidacy();
    }

    private void ensureNode(String path, byte[] data) throws Exception {
        try {
            if (data == null) {
                client.create()
                        .creatingParentContainersIfNeeded()
                        .withMode(CreateMode.PERSISTENT)
                        .forPath(path);
            } else {
                client.create().withMode(CreateMode.PERSISTENT).forPath(path, data);
            }
        } catch (KeeperException.NodeExistsException ignored) {
            // created before
        }
    }

    private void startCandidacy() {
        if (state.get() != State.STARTED || candidacy != null) {
            return;
        }
        ParticipantRecord record =
                new ParticipantRecord(participantId, endpoint, UUID.randomUUID().toString());
        Candidacy.Events events = new Candidacy.Events() {
            @Override
            public void elected(Candidacy c, long tenure) {
                submit(() -> onElected(c, tenure));
            }

            @Override
            public void deposed(Candidacy c, long tenure) {
                submit(() -> onDeposed(c, tenure));
            }
        };
        Candidacy c = backend == ElectionBackend.LEADER_LATCH
                ? new LatchCandidacy(client, paths, record, events)
                : new SelectorCandidacy(client, paths, record, events, this::revokes);
        candidacy = c;
        try {
            c.start();
            log.debug("{} joined the election on {}", participantId, paths.base);
        } catch (Exception e) {
            log.warn(
                    "{} could not join the election on {}; retrying in {}", participantId, paths.base, retryBackoff, e);
            restartCandidacy(c, retryBackoff);
        }
    }

    private void restartCandidacy(Candidacy old, Duration delay) {
        if (candidacy != old || old == null) {
            return;
        }
        old.close();
        candidacy = null;
        if (delay.isZero()) {
            startCandidacy();
        } else {
            schedule(this::startCandidacy, delay);
        }
    }

    private void onElected(Candidacy c, long tenure) {
        if (state.get() != State.STARTED || c != candidacy || !c.holds(tenure)) {
            return;
        }
        Term existing = term.get();
        if (existing != null && existing.candidacy == c && existing.tenure == tenure) {
            return; // already leading this tenure
        }
        if (blockedByConnection()) {
            return; // reconsidered when the connection is back
        }
        Term minted;
        try {
            minted = mint(c, tenure);
        } catch (KeeperException.ConnectionLossException | KeeperException.SessionExpiredException e) {
            log.info("{} could not mint an epoch on {}: {}; retrying after reconnect", participantId, paths.base, e);
            return;
        } catch (Exception e) {
            mintFailures.incrementAndGet();
            log.error(
                    "{} could not mint an epoch on {}; leaving the election and rejoining in {}",
                    participantId,
                    paths.epoch,
                    retryBackoff,
                    e);
            restartCandidacy(c, retryBackoff);
            return;
        }
        if (minted == null) {
            mintFailures.incrementAndGet();
            log.info(
                    "{} was granted leadership on {} but does not hold the head node; rejoining",
                    participantId,
                    paths.base);
            restartCandidacy(c, retryBackoff);
            return;
        }
        if (state.get() != State.STARTED || c != candidacy || !c.holds(tenure) || blockedByConnection()) {
            log.info("{} minted {} but lost leadership meanwhile; the epoch is not used", participantId, minted.token);
            c.termEnded(tenure);
            return;
        }
        recentTerms.put(minted.token, minted);
        termsWon.incrementAndGet();
        synchronized (deliveryLock) { // acquired is queued before any revoked of this term
            term.set(minted);
            deliver(() -> listener.acquired(minted.token), e -> acquiredFailed(minted, e));
        }
        List<CompletableFuture<LeadershipToken>> waiting;
        synchronized (termMonitor) {
            termMonitor.notifyAll();
            waiting = new ArrayList<>(leadershipWaiters);
            leadershipWaiters.clear();
        }
        waiting.forEach(f -> f.complete(minted.token));
        log.info("{} leads {}", participantId, minted.token);
        if (blockedByConnection()) {
            // The connection was suspended while the term was being published.
            revoke(
                    minted,
                    connection == Connection.LOST
                            ? RevocationReason.SESSION_LOST
                            : RevocationReason.CONNECTION_SUSPENDED);
            return;
        }
        watchEpoch(minted);
    }

    /**
     * Mints the next epoch for this tenure: one transaction of check(own node) and setData(epoch node,
     * expected version). Returns null if this participant does not hold the head node. Throws
     * IllegalStateException, writing nothing, if the epoch node is malformed or holds {@code Long.MAX_VALUE}.
     */
    private Term mint(Candidacy c, long tenure) throws Exception {
        for (int attempt = 1; attempt <= 5; attempt++) {
            if (state.get() != State.STARTED || !c.holds(tenure)) {
                return null;
            }
            Stat epochStat = new Stat();
            byte[] data;
            try {
                data = client.getData().storingStatIn(epochStat).forPath(paths.epoch);
            } catch (KeeperException.NoNodeException e) {
                ensureNode(paths.base, null);
                ensureNode(paths.epoch, EpochRecord.INITIAL.encode());
                continue;
            }
            EpochRecord current;
            try {
                current = EpochRecord.decode(data);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(
                        "epoch node " + paths.epoch + " holds malformed data: " + e.getMessage(), e);
            }
            String head = headNode(c);
            if (head == null) {
                return null;
            }
            if (current.epoch == Long.MAX_VALUE) {
                throw new IllegalStateException(epochSpaceExhausted());
            }
            long next = current.epoch + 1;
            EpochRecord record = new EpochRecord(next, participantId, endpoint, head, c.record.instance);
            try {
                List<CuratorTransactionResult> results = client.transaction()
                        .forOperations(
                                client.transactionOp().check().forPath(paths.child(head)),
                                client.transactionOp()
                                        .setData()
                                        .withVersion(epochStat.getVersion())
                                        .forPath(paths.epoch, record.encode()));
                int version = results.get(1).getResultStat().getVersion();
                return new Term(new LeadershipToken(paths.base, next, participantId, version), c, tenure);
            } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
                log.debug("mint attempt {} of {} lost a race: {}", attempt, participantId, e.toString());
            }
        }
        throw new IllegalStateException("epoch node " + paths.epoch + " kept changing during 5 mint attempts");
    }

    private String epochSpaceExhausted() {
        return "epoch node " + paths.epoch + " holds the maximum epoch " + Long.MAX_VALUE + ": the epoch space of "
                + paths.base + " is exhausted and no further epoch can be minted, so no participant can lead."
                + " Only a corrupt or hand-edited epoch node gets there. Resetting the node is not enough, because"
                + " fenced resources refuse epochs lower than the highest they admitted: stop every participant,"
                + " move the service to a new election path and give its fences fresh epoch stores";
    }

    /** The name of the head participant node if it is this candidacy's, in this session; otherwise null. */
    private String headNode(Candidacy c) throws Exception {
        List<String> sorted;
        try {
            sorted = ElectionPaths.sortedParticipants(client.getChildren().forPath(paths.election));
        } catch (KeeperException.NoNodeException e) {
            return null;
        }
        if (sorted.isEmpty()) {
            return null;
        }
        String head = sorted.get(0);
        Stat stat = new Stat();
        byte[] data;
        try {
            data = client.getData().storingStatIn(stat).forPath(paths.child(head));
        } catch (KeeperException.NoNodeException e) {
            return null;
        }
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        try {
            ParticipantRecord r = ParticipantRecord.decode(data);
            return r.instance.equals(c.record.instance) && stat.getEphemeralOwner() == session ? head : null;
        } catch (IllegalArgumentException e) {
            return null; // a foreign node under the election path
        }
    }

    private void onDeposed(Candidacy c, long tenure) {
        Term t = term.get();
        if (t != null && t.candidacy == c && t.tenure == tenure) {
            revoke(t, connectionReason(RevocationReason.DEPOSED));
        }
    }

    private void reconsider() {
        Candidacy c = candidacy;
        if (c != null && term.get() == null && c.holds(c.currentTenure())) {
            onElected(c, c.currentTenure());
        }
    }

    private void watchEpoch(Term t) {
        if (term.get() != t) {
            return;
        }
        try {
            client.checkExists()
                    .usingWatcher(
                            (org.apache.curator.framework.api.CuratorWatcher) event -> submit(() -> watchEpoch(t)))
                    .inBackground((cl, event) -> {
                        Stat stat = event.getStat();
                        if (event.getResultCode() == KeeperException.Code.OK.intValue()
                                || event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                            if (stat == null || stat.getVersion() != t.token.epochNodeVersion()) {
                                submit(() -> superseded(t));
                            }
                        } else {
                            schedule(() -> watchEpoch(t), retryBackoff);
                        }
                    })
                    .forPath(paths.epoch);
        } catch (Exception e) {
            schedule(() -> watchEpoch(t), retryBackoff);
        }
    }

    private void superseded(Term t) {
        if (revoke(t, RevocationReason.SUPERSEDED)) {
            log.warn("{} saw a newer epoch than its {}; rejoining the election", participantId, t.token);
            restartCandidacy(t.candidacy, Duration.ZERO);
        }
    }

    // ---- any thread ----

    /** Ends a term once; returns whether this call ended it. Never blocks. */
    private boolean revoke(Term t, RevocationReason reason) {
        synchronized (deliveryLock) {
            if (t == null || !term.compareAndSet(t, null)) {
                return false;
            }
            deliver(
                    () -> listener.revoked(t.token, reason),
                    e -> log.error(
                            "leadership listener of {} threw in revoked({}, {})", participantId, t.token, reason, e));
        }
        log.info("{} no longer leads {}: {}", participantId, t.token, reason);
        t.revoked.complete(reason);
        if (reason != RevocationReason.STEPPED_DOWN && reason != RevocationReason.LISTENER_FAILED) {
            // A stepping-down leader keeps its node until its callbacks have returned (see stepDown); a leader
            // whose listener failed leaves the election and rejoins (see acquiredFailed).
            t.candidacy.termEnded(t.tenure);
        }
        return true;
    }

    private void connectionStateChanged(ConnectionState newState) {
        switch (newState) {
            case SUSPENDED:
                connection = Connection.SUSPENDED;
                if (suspensionPolicy == SuspensionPolicy.REVOKE) {
                    revoke(term.get(), RevocationReason.CONNECTION_SUSPENDED);
                }
                break;
            case LOST:
                connection = Connection.LOST;
                revoke(term.get(), RevocationReason.SESSION_LOST);
                break;
            case CONNECTED:
            case RECONNECTED:
                connection = Connection.CONNECTED;
                submit(this::reconsider);
                break;
            default:
                break;
        }
    }

    /** Whether a connection state ends leadership under this election's policy. */
    private boolean revokes(ConnectionState s) {
        return s == ConnectionState.LOST
                || (s == ConnectionState.SUSPENDED && suspensionPolicy == SuspensionPolicy.REVOKE);
    }

    private boolean blockedByConnection() {
        Connection c = connection;
        return c == Connection.LOST || (c == Connection.SUSPENDED && suspensionPolicy == SuspensionPolicy.REVOKE);
    }

    private RevocationReason connectionReason(RevocationReason otherwise) {
        switch (connection) {
            case LOST:
                return RevocationReason.SESSION_LOST;
            case SUSPENDED:
                return RevocationReason.CONNECTION_SUSPENDED;
            default:
                // Curator calls connection listeners in no fixed order: the recipe may report the loss
                // before this election hears of the suspension.
                return client.getZookeeperClient().isConnected() ? otherwise : RevocationReason.CONNECTION_SUSPENDED;
        }
    }

    private interface Callback {
        void run() throws Exception;
    }

    /**
     * Listener thread. As Curator's {@code LeaderSelector} gives up leadership when {@code takeLeadership}
     * throws and re-queues (autoRequeue): a leader that does nothing must not keep the term.
     */
    private void acquiredFailed(Term t, Throwable e) {
        if (revoke(t, RevocationReason.LISTENER_FAILED)) {
            log.error(
                    "leadership listener of {} threw in acquired({}); giving up the term and rejoining the election"
                            + " in {}",
                    participantId,
                    t.token,
                    retryBackoff,
                    e);
            submit(() -> restartCandidacy(t.candidacy, retryBackoff));
        } else {
            log.error(
                    "leadership listener of {} threw in acquired({}) after the term had ended",
                    participantId,
                    t.token,
                    e);
        }
    }

    /** Runs a callback on the listener executor; {@code onFailure} gets what it throws (Errors too). */
    private void deliver(Callback callback, Consumer<Throwable> onFailure) {
        try {
            listenerExecutor.execute(() -> {
                inCallback.set(true);
                try {
                    callback.run();
                } catch (Throwable e) {
                    onFailure.accept(e);
                } finally {
                    inCallback.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            log.warn("listener executor of {} rejected a callback", participantId);
        }
    }

    /** Waits until the callbacks queued so far have run, until {@code deadline}; returns whether they have. */
    private boolean awaitListenerIdle(long deadline) throws InterruptedException {
        CountDownLatch idle = new CountDownLatch(1);
        try {
            listenerExecutor.execute(idle::countDown);
        } catch (RejectedExecutionException e) {
            return true;
        }
        if (deadline == Long.MAX_VALUE) {
            idle.await();
            return true;
        }
        return idle.await(remaining(deadline), TimeUnit.NANOSECONDS);
    }

    /** Runs a term's {@link LeaderWork} as the listener's {@code acquired}; see {@link LeaderWork}. */
    private final class WorkListener implements LeadershipListener {
        private final LeaderWork work;
        private final boolean interrupt;
        private final Object lock = new Object();
        private Thread running; // guarded by lock
        private LeadershipToken runningToken; // guarded by lock

        WorkListener(LeaderWork work, boolean interrupt) {
            this.work = work;
            this.interrupt = interrupt;
        }

        @Override
        public void acquired(LeadershipToken token) throws Exception {
            if (!isCurrent(token)) {
                return; // over before it began
            }
            synchronized (lock) {
                running = Thread.currentThread();
                runningToken = token;
            }
            if (interrupt) {
                var unused = revocation(token).thenRun(() -> {
                    synchronized (lock) {
                        if (token.equals(runningToken)) {
                            running.interrupt();
                        }
                    }
                });
            }
            try {
                work.lead(new LeaderTerm(FencedLeaderElection.this, token));
            } catch (InterruptedException e) {
                if (isCurrent(token)) {
                    throw e; // not ours: a failure of the work
                }
                // the term's end interrupted it, as asked
            } finally {
                synchronized (lock) {
                    running = null;
                    runningToken = null;
                }
                boolean unusedInterrupt = Thread.interrupted(); // an interrupt that came after the work returned
            }
            if (isCurrent(token)) {
                // Done leading while still leading: let another lead, and queue again (LeaderSelector's autoRequeue).
                stepDown(token, retryBackoff);
            }
        }
    }

    private void submit(Runnable task) {
        try {
            control.execute(task);
        } catch (RejectedExecutionException ignored) {
            // closed
        }
    }

    private void schedule(Runnable task, Duration delay) {
        try {
            // Like execute(), nothing waits on the task: each control task handles its own failures and close()
            // drops the delayed ones.
            control.schedule(task, delay.toNanos());
        } catch (RejectedExecutionException ignored) {
            // closed
        }
    }

    private void checkNotClosed() {
        Preconditions.checkState(state.get() != State.CLOSED, "election is closed");
    }
}
