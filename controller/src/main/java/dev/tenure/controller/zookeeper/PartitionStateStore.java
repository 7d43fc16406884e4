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
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.core.StateWrite;
import dev.tenure.controller.core.VersionedState;
import dev.tenure.recipes.LeadershipToken;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.CuratorConnectionLossException;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.RetryLoop;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * Reads and writes the partitions' states ({@code P/partitions/ID/state}, {@link PartitionStateRecord}) in few
 * ZooKeeper requests, every write fenced by the controller's epoch.
 *
 * <h2>Writes</h2>
 *
 * {@link #write} sends the writes as ZooKeeper transactions ({@code multi}) of a fencing check — the controller
 * election's epoch node still at the version of the token's mint, as in Kafka after KAFKA-6082 — and up to {@code
 * batchSize} writes, each a {@code setData} conditional on the expected version or a {@code create} (with the
 * partition's node, when it is missing, in the same transaction). Up to {@code window} transactions are in flight
 * together, sent with ZooKeeper's asynchronous API, so a failover that rewrites N partitions costs about N/batchSize
 * requests and N/(batchSize × window) round trips instead of N round trips (KAFKA-5642).
 *
 * <p>ZooKeeper aborts a whole transaction when one of its operations fails and reports the first failing operation;
 * the other writes of that transaction are sent again in a new one, so a conflict costs its neighbours one more
 * request and nothing else. A transaction is never sent again when its reply was lost: its writes are reported
 * {@link Unknown}. Once one transaction comes back fenced, the writes not yet sent are reported {@link
 * Fenced} without being sent (a newer epoch never goes away). The parent {@code P/partitions} is the one
 * node created unfenced (once, empty, when a write creates a partition and it is missing).
 *
 * <h2>Reads</h2>
 *
 * {@link #readAll} lists the partitions once and then reads every state with ZooKeeper's read-only {@code multi}
 * ({@code multiRead}, one request per {@code batchSize} partitions), all requests in flight together: 2 + N/batchSize
 * requests and 2 round trips, whatever N. Reads start with a {@code sync}, so they see every write committed
 * before they began (a reply lost to an {@code Unknown} included). Nothing read is trusted: a child of {@code
 * P/partitions} that is not a partition id, or a state that is not a valid record, makes the read fail with an
 * {@link IllegalStateException} naming the node.
 *
 * <h2>Threads and failures</h2>
 *
 * Thread-safe; calls block until their replies are in (or {@code replyTimeout}). Never call them on a ZooKeeper or
 * Curator callback thread: the replies are delivered there. Every method first waits for a connection under the
 * client's retry policy; without one, a read throws {@link KeeperException.ConnectionLossException} and {@link
 * #write} reports every write {@link Unknown} (nothing was sent). Paths honour the client's namespace and created
 * nodes get the client's ACL provider's ACL. Reads may be retried freely; {@link #write} reports what happened to each
 * write and throws nothing once it has begun sending.
 */
public final class PartitionStateStore {
    /** The partition's configuration node, beside its state. */
    private static final String CONFIGURATION = "configuration";

    private final CuratorFramework client;
    private final String clusterPath;
    private final String partitionsPath;
    private final String electionPath;
    private final String epochPath;
    private final int batchSize;
    private final int window;
    private final Duration replyTimeout;
    private final AtomicLong roundTrips = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private volatile boolean partitionsPathKnown;

    private PartitionStateStore(Builder b) {
        this.client = b.client;
        this.clusterPath = b.clusterPath;
        this.partitionsPath = ControllerPaths.partitions(clusterPath);
        this.electionPath = ControllerPaths.controllerElection(clusterPath);
        this.epochPath = ControllerPaths.controllerEpoch(clusterPath);
        this.batchSize = b.batchSize;
        this.window = b.window;
        this.replyTimeout = b.replyTimeout;
    }

    /** The store of the cluster at {@code clusterPath}, with the default settings. */
    public PartitionStateStore(CuratorFramework client, String clusterPath) {
        this(builder(client, clusterPath));
    }

    /** A builder for the store of the cluster at {@code clusterPath}. */
    public static Builder builder(CuratorFramework client, String clusterPath) {
        return new Builder(client, clusterPath);
    }

    /** Builds a {@link PartitionStateStore}. Every setting has a default. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String clusterPath;
        private int batchSize = 100;
        private int window = 8;
        private Duration replyTimeout = Duration.ofSeconds(60);

        private Builder(CuratorFramework client, String clusterPath) {
            this.client = Preconditions.checkNotNull(client, "client");
            this.clusterPath = ControllerPaths.checkClusterPath(clusterPath);
        }

        /**
         * The most writes (or reads) per ZooKeeper request; 100 by default, at most 1,000 (a request must stay under
         * ZooKeeper's {@code jute.maxbuffer}, 1 MiB by default).
         */
        public Builder batchSize(int batchSize) {
            Preconditions.checkArgument(
                    batchSize >= 1 && batchSize <= 1000, "batchSize must be 1 to 1000, was %s", batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** The most write transactions in flight together; 8 by default. */
        public Builder window(int window) {
            Preconditions.checkArgument(window >= 1 && window <= 1000, "window must be 1 to 1000, was %s", window);
            this.window = window;
            return this;
        }

        /**
         * How long to wait for replies before giving up on them (a write's outcome is then {@link
         * Unknown}); 60 s by default. A backstop: ZooKeeper reports a lost connection itself, after
         * two thirds of the session timeout.
         */
        public Builder replyTimeout(Duration timeout) {
            Preconditions.checkArgument(
                    timeout != null && timeout.toMillis() >= 1, "reply timeout must be >= 1 ms, was %s", timeout);
            this.replyTimeout = timeout;
            return this;
        }

        /** The store. */
        public PartitionStateStore build() {
            return new PartitionStateStore(this);
        }
    }

    /** The cluster path. */
    public String clusterPath() {
        return clusterPath;
    }

    /** How many ZooKeeper requests this store has sent: reads, syncs, transactions. */
    public long roundTrips() {
        return roundTrips.get();
    }

    /** The most requests this store had in flight at once (for tests: shows the pipelining). */
    int maxInFlight() {
        return maxInFlight.get();
    }

    /**
     * Every partition's state, by partition id in id order; a partition node without a state node is left out.
     *
     * @throws IllegalStateException naming the node if a child of {@code P/partitions} is not a partition id or a
     *     state is malformed
     * @throws KeeperException if ZooKeeper fails the read (a connection loss, say); read again
     */
    public Map<String, VersionedState> readAll() throws KeeperException, InterruptedException {
        ZooKeeper zk = connectedHandle();
        String fixedPartitions = fix(partitionsPath);
        sync(zk, fixedPartitions);
        List<String> children;
        count();
        try {
            children = new ArrayList<>(zk.getChildren(fixedPartitions, false));
        } catch (KeeperException.NoNodeException e) {
            return Map.of();
        } finally {
            done();
        }
        Collections.sort(children);
        for (String child : children) {
            try {
                ControllerPaths.checkPartitionId(child);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(
                        "node " + ZKPaths.makePath(partitionsPath, child) + " is not a partition: " + e.getMessage(),
                        e);
            }
        }
        List<List<String>> batches = new ArrayList<>();
        for (int i = 0; i < children.size(); i += batchSize) {
            batches.add(children.subList(i, Math.min(children.size(), i + batchSize)));
        }
        BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
        for (int b = 0; b < batches.size(); b++) {
            List<Op> ops = new ArrayList<>();
            for (String partition : batches.get(b)) {
                ops.add(Op.getData(fix(ControllerPaths.partitionState(clusterPath, partition))));
            }
            send(zk, ops, b, replies);
        }
        Map<String, VersionedState> states = new LinkedHashMap<>();
        List<Reply> received = new ArrayList<>();
        long deadline = System.nanoTime() + replyTimeout.toNanos();
        for (int i = 0; i < batches.size(); i++) {
            Reply r = replies.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (r == null) {
                throw KeeperException.create(KeeperException.Code.OPERATIONTIMEOUT, partitionsPath);
            }
            received.add(r);
        }
        received.sort((x, y) -> Integer.compare(x.batch, y.batch));
        for (Reply r : received) {
            List<String> batch = batches.get(r.batch);
            // The client reports the first failed read's code as the request's; each read has its own result.
            if (r.results == null || r.results.size() != batch.size()) {
                KeeperException.Code code = KeeperException.Code.get(r.rc);
                throw KeeperException.create(code == null ? KeeperException.Code.SYSTEMERROR : code, partitionsPath);
            }
            for (int i = 0; i < batch.size(); i++) {
                String partition = batch.get(i);
                String path = ControllerPaths.partitionState(clusterPath, partition);
                OpResult result = r.results.get(i);
                if (result instanceof OpResult.GetDataResult data) {
                    states.put(partition, decode(partition, path, data.getData(), data.getStat()));
                } else if (result instanceof OpResult.ErrorResult error) {
                    KeeperException.Code code = KeeperException.Code.get(error.getErr());
                    if (code != KeeperException.Code.NONODE) {
                        throw KeeperException.create(code, path);
                    }
                } else {
                    throw new IllegalStateException("unexpected result " + result + " of reading " + path);
                }
            }
        }
        return Collections.unmodifiableMap(states);
    }

    /**
     * Partition {@code partition}'s state, read now (after a sync: it sees every write committed before the call);
     * empty if it has no state node. For reading again after a {@link Conflict} or {@link
     * Unknown}.
     *
     * @throws IllegalArgumentException if {@code partition} is not a valid partition id
     * @throws IllegalStateException naming the node if the state is malformed
     * @throws KeeperException if ZooKeeper fails the read; read again
     */
    public Optional<VersionedState> read(String partition) throws KeeperException, InterruptedException {
        String path = ControllerPaths.partitionState(clusterPath, partition);
        ZooKeeper zk = connectedHandle();
        String fixed = fix(path);
        sync(zk, fixed);
        Stat stat = new Stat();
        byte[] data;
        count();
        try {
            data = zk.getData(fixed, false, stat);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } finally {
            done();
        }
        return Optional.of(decode(partition, path, data, stat));
    }

    /**
     * Writes {@code writes}, fenced by {@code controllerToken}, and returns one outcome per write, in order (see the
     * class comment and {@link WriteOutcome}). If interrupted, it stops sending: writes not settled yet are reported
     * {@link Unknown} with the {@link InterruptedException}, and the thread's interrupt flag is set
     * again.
     *
     * @param controllerToken the token of the controller's term: of the election at {@link
     *     ControllerPaths#controllerElection} of this cluster
     * @param writes writes of distinct partitions, each state written by {@code controllerToken}'s epoch
     * @throws IllegalArgumentException if the token is of another election, a partition id is invalid or repeated,
     *     or a state's controller epoch is not the token's
     * @throws InterruptedException if interrupted before anything was sent
     */
    public List<WriteOutcome> write(LeadershipToken controllerToken, List<StateWrite> writes)
            throws InterruptedException {
        Preconditions.checkNotNull(controllerToken, "controllerToken");
        Preconditions.checkNotNull(writes, "writes");
        Preconditions.checkArgument(
                controllerToken.electionPath().equals(electionPath),
                "%s is not a token of this cluster's controller election %s",
                controllerToken,
                electionPath);
        List<StateWrite> ws = List.copyOf(writes);
        int n = ws.size();
        if (n == 0) {
            return List.of();
        }
        Set<String> seen = new HashSet<>();
        Op[] stateOps = new Op[n];
        Op[] parentOps = new Op[n];
        Op[] configOps = new Op[n]; // created with the partition node
        Op[] configurationOps = new Op[n]; // set with the state
        boolean[] withParent = new boolean[n];
        for (int i = 0; i < n; i++) {
            StateWrite w = ws.get(i);
            String path = ControllerPaths.partitionState(clusterPath, w.partition());
            Preconditions.checkArgument(seen.add(w.partition()), "partition %s is written twice", w.partition());
            Preconditions.checkArgument(
                    w.state().controllerEpoch() == controllerToken.epoch(),
                    "the state of %s says controller epoch %s, but it is written by %s",
                    w.partition(),
                    w.state().controllerEpoch(),
                    controllerToken);
            byte[] data = PartitionStateRecord.encode(w.state());
            if (w.expectedVersion() == StateWrite.CREATE) {
                withParent[i] = true;
                String parent = ControllerPaths.partition(clusterPath, w.partition());
                parentOps[i] = op(() -> client.transactionOp()
                        .create()
                        .withMode(CreateMode.PERSISTENT)
                        .forPath(parent, new byte[0]));
                stateOps[i] = op(() -> client.transactionOp()
                        .create()
                        .withMode(CreateMode.PERSISTENT)
                        .forPath(path, data));
                if (w.writesConfiguration()) {
                    String configPath = ZKPaths.makePath(parent, CONFIGURATION);
                    byte[] config = dev.tenure.replicator.zookeeper.ZooKeeperConfiguration.initialRecord(
                            w.state().replicas());
                    configOps[i] = op(() -> client.transactionOp()
                            .create()
                            .withMode(CreateMode.PERSISTENT)
                            .forPath(configPath, config));
                }
            } else {
                int expected = w.expectedVersion();
                stateOps[i] = op(() ->
                        client.transactionOp().setData().withVersion(expected).forPath(path, data));
                if (w.writesConfiguration()) {
                    // The replicas' copy of the configuration, in the same transaction as the state (fenced, and
                    // conditional on the state's version), so it never disagrees with the state of record.
                    String configurationPath =
                            ZKPaths.makePath(ControllerPaths.partition(clusterPath, w.partition()), "configuration");
                    byte[] configuration = dev.tenure.replicator.zookeeper.ZooKeeperConfiguration.encode(
                            w.state().configuration());
                    configurationOps[i] =
                            op(() -> client.transactionOp().setData().forPath(configurationPath, configuration));
                }
            }
        }
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before writing the partitions' states");
        }
        ZooKeeper zk;
        try {
            if (Arrays.asList(parentOps).stream().anyMatch(p -> p != null)) {
                ensurePartitionsPath();
            }
            zk = connectedHandle();
        } catch (KeeperException noConnection) {
            List<WriteOutcome> unsent = new ArrayList<>(n);
            ws.forEach(w -> unsent.add(new Unknown(w.partition(), noConnection)));
            return List.copyOf(unsent);
        }
        int epochNodeVersion = controllerToken.epochNodeVersion();
        Op fence = op(() ->
                client.transactionOp().check().withVersion(epochNodeVersion).forPath(epochPath));

        WriteOutcome[] outcomes = new WriteOutcome[n];
        Queue<Integer> queue = new ArrayDeque<>();
        for (int i = 0; i < n; i++) {
            queue.add(i);
        }
        Map<Integer, Batch> sent = new HashMap<>();
        BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
        int nextBatch = 0;
        boolean fenced = false;
        try {
            while (true) {
                while (!fenced && sent.size() < window && !queue.isEmpty()) {
                    Batch b = new Batch(nextBatch++);
                    b.ops.add(fence);
                    b.owners.add(-1);
                    while (b.writes.size() < batchSize && !queue.isEmpty()) {
                        int w = queue.remove();
                        b.writes.add(w);
                        if (withParent[w]) {
                            b.ops.add(parentOps[w]);
                            b.owners.add(-2 - w); // the partition node of write w
                            if (configOps[w] != null) {
                                b.ops.add(configOps[w]);
                                b.owners.add(-2 - w); // its configuration: made with the partition node, or not
                            }
                        }
                        b.ops.add(stateOps[w]);
                        b.owners.add(w);
                        if (configurationOps[w] != null) {
                            b.ops.add(configurationOps[w]);
                            b.owners.add(-2 - w); // the configuration node of write w
                        }
                    }
                    sent.put(b.id, b);
                    send(zk, b.ops, b.id, replies);
                }
                if (sent.isEmpty()) {
                    break;
                }
                Reply r = replies.poll(replyTimeout.toNanos(), TimeUnit.NANOSECONDS);
                if (r == null) {
                    TimeoutException lost = new TimeoutException("no reply in " + replyTimeout);
                    settleAll(sent.values(), queue, ws, outcomes, lost);
                    break;
                }
                Batch b = sent.remove(r.batch);
                fenced |= settle(b, r, ws, outcomes, withParent, queue);
            }
        } catch (InterruptedException e) {
            settleAll(sent.values(), queue, ws, outcomes, e);
            Thread.currentThread().interrupt();
        }
        for (int w : queue) {
            outcomes[w] = new Fenced(ws.get(w).partition()); // left unsent once fenced
        }
        return List.of(outcomes);
    }

    /**
     * The outcome of one {@link dev.tenure.controller.core.StateWrite} sent by {@link #write}: exactly
     * one of
     *
     * <ul>
     *   <li>{@link Written}: applied; the state node now has the returned version.
     *   <li>{@link Conflict}: not applied, because the write's own operation failed (the node's version was not the one
     *       expected, it existed already, or it did not exist). Re-read the partition ({@link #read})
     *       and decide again.
     *   <li>{@link Fenced}: not applied, because the controller's epoch is no longer the latest: a newer controller
     *       exists. Nothing of the same request was applied; stop acting as controller.
     *   <li>{@link Unknown}: the request was sent and its reply lost (connection loss, session expiry, timeout, interrupt):
     *       it may or may not have been applied. It was not sent again. Never treat it as failed: re-read and decide
     *       from what is there (a later write is fenced and versioned, so deciding again is safe).
     * </ul>
     *
     * Immutable and thread-safe.
     */
    public sealed interface WriteOutcome permits Written, Conflict, Fenced, Unknown {
        /** The partition written. */
        String partition();
    }

    /**
     * Applied.
     *
     * @param state the state written, with the state node's new version
     */
    public record Written(VersionedState state) implements WriteOutcome {
        /** Checks. */
        public Written {
            Preconditions.checkNotNull(state, "state");
        }

        @Override
        public String partition() {
            return state.partition();
        }
    }

    /**
     * Not applied: the write's own operation failed.
     *
     * @param partition the partition
     * @param reason {@code BADVERSION} (another version is there), {@code NODEEXISTS} (a create found a state), {@code
     *     NONODE} (an update found none); another code (for example {@code NOAUTH}) means the write cannot succeed
     *     as it is — a configuration problem
     */
    public record Conflict(String partition, KeeperException.Code reason) implements WriteOutcome {
        /** Checks. */
        public Conflict {
            Preconditions.checkNotNull(partition, "partition");
            Preconditions.checkNotNull(reason, "reason");
        }
    }

    /**
     * Not applied: the controller epoch the write was fenced by is no longer the latest.
     *
     * @param partition the partition
     */
    public record Fenced(String partition) implements WriteOutcome {
        /** Checks. */
        public Fenced {
            Preconditions.checkNotNull(partition, "partition");
        }
    }

    /**
     * Sent, and the reply lost: applied or not, all or nothing with the other writes of its request. (Also the outcome
     * of a write left unsent because {@link #write} found no connection, was interrupted or gave up waiting for
     * replies: the caller re-reads either way.)
     *
     * @param partition the partition
     * @param cause what lost the reply (a {@link KeeperException} such as {@code ConnectionLossException} or {@code
     *     SessionExpiredException}, an {@link InterruptedException}, a {@link java.util.concurrent.TimeoutException})
     */
    public record Unknown(String partition, Exception cause) implements WriteOutcome {
        /** Checks. */
        public Unknown {
            Preconditions.checkNotNull(partition, "partition");
            Preconditions.checkNotNull(cause, "cause");
        }
    }

    /** Settles the outcomes of a reply; returns whether it was fenced. */
    private boolean settle(
            Batch b,
            Reply r,
            List<StateWrite> ws,
            WriteOutcome[] outcomes,
            boolean[] withParent,
            Queue<Integer> queue) {
        Verdict v = classify(r.rc, r.results);
        switch (v.kind()) {
            case APPLIED:
                for (int i = 0; i < b.ops.size(); i++) {
                    int w = b.owners.get(i);
                    if (w >= 0) {
                        StateWrite write = ws.get(w);
                        outcomes[w] = new Written(
                                new VersionedState(write.partition(), write.state(), newVersion(r.results, i)));
                    }
                }
                return false;
            case REPLY_LOST:
                for (int w : b.writes) {
                    outcomes[w] = new Unknown(ws.get(w).partition(), KeeperException.create(v.code()));
                }
                return false;
            case FENCED:
                for (int w : b.writes) {
                    outcomes[w] = new Fenced(ws.get(w).partition());
                }
                return true;
            case OP_FAILED:
                int owner = b.owners.get(v.failedOp());
                int failed = owner >= 0 ? owner : -2 - owner;
                if (owner < -1 && v.code() == KeeperException.Code.NODEEXISTS) {
                    withParent[failed] = false; // the partition's node exists: create only its state
                    queue.add(failed);
                } else {
                    if (owner < -1 && v.code() == KeeperException.Code.NONODE) {
                        partitionsPathKnown = false; // P/partitions was deleted: made again on the next write
                    }
                    outcomes[failed] = new Conflict(ws.get(failed).partition(), v.code());
                }
                for (int w : b.writes) {
                    if (w != failed) {
                        queue.add(w); // aborted with the failed one: sent again
                    }
                }
                return false;
            case FAILED:
            default:
                for (int w : b.writes) {
                    outcomes[w] = new Conflict(ws.get(w).partition(), v.code());
                }
                return false;
        }
    }

    private static void settleAll(
            Iterable<Batch> sent, Queue<Integer> queue, List<StateWrite> ws, WriteOutcome[] outcomes, Exception cause) {
        for (Batch b : sent) {
            for (int w : b.writes) {
                outcomes[w] = new Unknown(ws.get(w).partition(), cause);
            }
        }
        for (int w : queue) {
            outcomes[w] = new Unknown(ws.get(w).partition(), cause);
        }
        queue.clear();
    }

    private static int newVersion(List<OpResult> results, int i) {
        OpResult result = results.get(i);
        if (result instanceof OpResult.SetDataResult set) {
            return set.getStat().getVersion();
        }
        if (result instanceof OpResult.CreateResult create && create.getStat() != null) {
            return create.getStat().getVersion();
        }
        return 0; // a node just created
    }

    /** What a write transaction's reply says. */
    enum Kind {
        /** Every operation was applied. */
        APPLIED,
        /** The reply was lost: applied or not. */
        REPLY_LOST,
        /** The fencing check (operation 0) failed: nothing applied. */
        FENCED,
        /** Operation {@code failedOp} failed with {@code code}: nothing applied. */
        OP_FAILED,
        /** The transaction failed as a whole with {@code code}: nothing applied. */
        FAILED
    }

    /** The classification of a reply. */
    record Verdict(Kind kind, int failedOp, KeeperException.Code code) {}

    /**
     * Classifies the reply to a transaction whose operation 0 is the fencing check: {@code rc} and the per-operation
     * results ZooKeeper gives. Of a failed transaction ZooKeeper marks the operations before the failing one {@code
     * OK} and those after it {@code RUNTIMEINCONSISTENCY}; none was applied.
     */
    static Verdict classify(int rc, List<OpResult> results) {
        KeeperException.Code code = KeeperException.Code.get(rc);
        if (code == null) {
            code = KeeperException.Code.SYSTEMERROR;
        }
        if (code == KeeperException.Code.OK) {
            return new Verdict(Kind.APPLIED, -1, code);
        }
        switch (code) {
            case CONNECTIONLOSS:
            case SESSIONEXPIRED:
            case OPERATIONTIMEOUT:
            case REQUESTTIMEOUT:
                return new Verdict(Kind.REPLY_LOST, -1, code);
            default:
                break;
        }
        if (results != null) {
            for (int i = 0; i < results.size(); i++) {
                if (results.get(i) instanceof OpResult.ErrorResult error) {
                    KeeperException.Code err = KeeperException.Code.get(error.getErr());
                    if (err == KeeperException.Code.OK || err == KeeperException.Code.RUNTIMEINCONSISTENCY) {
                        continue;
                    }
                    if (err == null) {
                        err = KeeperException.Code.SYSTEMERROR;
                    }
                    if (i == 0) {
                        return err == KeeperException.Code.BADVERSION || err == KeeperException.Code.NONODE
                                ? new Verdict(Kind.FENCED, 0, err)
                                : new Verdict(Kind.FAILED, 0, err);
                    }
                    return new Verdict(Kind.OP_FAILED, i, err);
                }
            }
        }
        return new Verdict(Kind.FAILED, -1, code);
    }

    /** One write transaction: its operations, which write each belongs to, and its writes. */
    private static final class Batch {
        final int id;
        final List<Op> ops = new ArrayList<>();
        /** Per operation: -1 the fencing check, w the state of write w, -2-w the partition node of write w. */
        final List<Integer> owners = new ArrayList<>();

        final List<Integer> writes = new ArrayList<>();

        Batch(int id) {
            this.id = id;
        }
    }

    private record Reply(int batch, int rc, List<OpResult> results) {}

    private void send(ZooKeeper zk, List<Op> ops, int batch, BlockingQueue<Reply> replies) {
        count();
        zk.multi(
                ops,
                (rc, path, ctx, results) -> {
                    done();
                    replies.add(new Reply(batch, rc, results));
                },
                null);
    }

    private void sync(ZooKeeper zk, String fixedPath) {
        count();
        zk.sync(fixedPath, (rc, path, ctx) -> done(), null);
    }

    private void count() {
        roundTrips.incrementAndGet();
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
    }

    private void done() {
        inFlight.decrementAndGet();
    }

    private static VersionedState decode(String partition, String path, byte[] data, Stat stat) {
        try {
            PartitionState state = PartitionStateRecord.decode(data, path);
            return new VersionedState(partition, state, stat.getVersion());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Creates {@code P/partitions} (and {@code P}) unless known to exist: an empty node, harmless unfenced. */
    private void ensurePartitionsPath() throws KeeperException, InterruptedException {
        if (partitionsPathKnown) {
            return;
        }
        count();
        try {
            client.create()
                    .creatingParentsIfNeeded()
                    .withMode(CreateMode.PERSISTENT)
                    .forPath(partitionsPath, new byte[0]);
        } catch (KeeperException.NodeExistsException exists) {
            // made before
        } catch (KeeperException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw connectionLoss(e);
        } finally {
            done();
        }
        partitionsPathKnown = true;
    }

    /** The client's ZooKeeper handle once connected, waiting under the client's retry policy (as FencedTransaction). */
    private ZooKeeper connectedHandle() throws KeeperException, InterruptedException {
        CuratorZookeeperClient zk = client.getZookeeperClient();
        try {
            return RetryLoop.callWithRetry(zk, () -> {
                if (!zk.isConnected()) {
                    throw new CuratorConnectionLossException();
                }
                return zk.getZooKeeper();
            });
        } catch (KeeperException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw connectionLoss(e);
        }
    }

    private static KeeperException connectionLoss(Exception cause) {
        KeeperException lost = KeeperException.create(KeeperException.Code.CONNECTIONLOSS);
        lost.initCause(cause);
        return lost;
    }

    /** The operation as Curator builds it: namespace applied, the ACL provider's ACL on creates. */
    private static Op op(CuratorOpSupplier supplier) {
        try {
            return supplier.get().get();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot build a ZooKeeper operation", e);
        }
    }

    @FunctionalInterface
    private interface CuratorOpSupplier {
        CuratorOp get() throws Exception;
    }

    private String fix(String path) {
        return ZKPaths.fixForNamespace(client.getNamespace(), path);
    }
}
