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
package dev.tenure.replicator;

import com.google.common.base.Preconditions;
import dev.tenure.replicator.ReplicationException.FencedEpochException;
import dev.tenure.replicator.ReplicationException.NotLeaderException;
import dev.tenure.replicator.ReplicationException.OutcomeUnknownException;
import dev.tenure.replicator.ReplicationException.OverloadedException;
import dev.tenure.replicator.ReplicationException.ReplicaFailedException;
import dev.tenure.replicator.core.Action;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.core.PromiseStore;
import dev.tenure.replicator.core.ReplicaCore;
import dev.tenure.replicator.core.ReplicaLog;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.core.SnapshotMeta;
import dev.tenure.replicator.core.SnapshotStore;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.trace.WriteTrace;
import dev.tenure.replicator.transport.InboundBudget;
import dev.tenure.replicator.transport.Transport;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of a replicated log: it takes part in the election, replicates as leader or follower, and
 * applies committed entries to the application's {@link StateMachine}.
 *
 * <p>Threads: one event thread drives the {@link ReplicaCore}; a leader's sync thread makes the log durable
 * (group commit: one sync covers every append made before it started; a follower syncs on its event thread
 * after the events already queued, which batches the same way); an apply thread applies committed
 * entries; a snapshot thread writes snapshots (see {@link StateMachine}, "Snapshots"); the transport's threads only
 * enqueue. With threads of its own, a replica saves hand-offs at low load (issue 20): work whose thread is idle runs
 * on the thread that asks for it, in the same order and exclusion (see {@code ReplicaExecutors.Lane}) — a proposal
 * on the proposing thread, a sync result on the sync thread, a quick apply on the committing thread, and, with a
 * transport that allows it ({@link Transport#mayHandleOnDeliveryThread()}), a small received message on the
 * transport's thread, where a follower also syncs once after each read and answers. A replica on a shared set does
 * so for the results of an {@link AsyncLogSyncer} only: a node's write-ahead log completes one force's results for
 * all its partitions on one thread, which then runs each idle partition's step itself. Public methods are thread-safe
 * and never block on IO (a proposal made while the event thread is idle does the log append, a write to the page
 * cache, on the caller's thread).
 *
 * <p>Ordering: persist, then acknowledge, then apply. A proposal's future completes after its entry is
 * committed (durable on a majority that promised the epoch) and applied on this replica; an entry is applied
 * only once it is committed and durable in this replica's own log.
 *
 * <p>Lifecycle: {@link #start()} once; {@link #close()} is idempotent, leaves the election and stops every
 * thread. Proposals pending at close fail with {@link OutcomeUnknownException}.
 *
 * <p>Failure is fail-stop: when the state machine throws, or the log cannot be written or synced, or the
 * protocol finds an invariant broken, the replica logs the cause, leaves the election, stops replicating and
 * applying, fails every pending request with {@link ReplicaFailedException}, reports {@link Role#FAILED} with the
 * reason in {@link #status()} and tells {@link ReplicaListener#failed}. It does not restart itself: the state
 * machine's state is unknown after it threw. Close it and build a new replica (a restart replays the log).
 */
public final class Replica implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(Replica.class);

    /**
     * The default largest payload: 16 MiB less 64 KiB, so that an entry fits the default log record ({@code
     * LogConfig.DEFAULT_MAX_RECORD_BYTES}) and transport frame ({@code NettyTransport.DEFAULT_MAX_FRAME_BYTES},
     * both 16 MiB) with their headers.
     */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = (16 << 20) - (64 << 10);

    /**
     * The default bound on the payload bytes of proposals accepted but not yet completed: 64 MiB. With the count
     * bound ({@code CoreConfig.maxPendingProposals}) it keeps a flood of proposals from exhausting the heap.
     */
    public static final long DEFAULT_MAX_PENDING_PROPOSAL_BYTES = 64L << 20;

    /**
     * Makes the log durable and says how far, as of the moment it did: the durable end offset and the epoch of the
     * entry just before it. The epoch must be read together with the end (under the log's lock, as {@code
     * SegmentedLog.syncWithEpoch()} does): by the time the result is handled the log may have been truncated and
     * appended to again, and the epoch is how the core tells a stale result from a current one.
     */
    @FunctionalInterface
    public interface LogSyncer {
        /** Syncs the log; an exception stops the replica (fail-stop). */
        Synced sync() throws Exception;
    }

    /**
     * Makes the log durable without holding a thread: asks for a sync of everything appended before the call and
     * returns a future of its {@link Synced} (as {@link LogSyncer}'s), completed by whoever does the forcing (a
     * node's write-ahead log shares one force among its partitions). Called on the replica's event thread, so it
     * must not block; the future may complete on any thread. The replica handles the result on the completing thread
     * when its event lane is idle (a short step of its core, and the messages it sends), so complete it on a thread
     * that may do such work: one that completes results, not one that forces.
     */
    @FunctionalInterface
    public interface AsyncLogSyncer {
        /** Asks for a sync; a future that completes exceptionally stops the replica (fail-stop). */
        java.util.concurrent.CompletableFuture<Synced> requestSync();
    }

    /**
     * A replica's state, as seen from its event thread at one moment.
     *
     * @param role the role; {@link Role#FAILED} once the replica stopped after a failure
     * @param failure why the replica stopped ({@link Role#FAILED}), or "" while it runs
     * @param logStartOffset the first offset the log holds; entries below it are in the snapshots
     * @param snapshot the newest snapshot held
     * @param install the snapshot install in progress, or {@link InstallStatus#NONE}
     * @param configuration the newest configuration of the replica set this replica was given
     */
    public record Status(
            String id,
            Role role,
            long epoch,
            String leader,
            long commitOffset,
            long appliedOffset,
            long logEndOffset,
            List<FollowerStatus> followers,
            String failure,
            long logStartOffset,
            SnapshotStatus snapshot,
            InstallStatus install,
            Configuration configuration) {}

    /**
     * A snapshot being installed from another replica (a follower behind its leader's log start, or a recovering
     * leader behind the replica it adopts), or {@link #NONE}.
     *
     * @param source the replica it comes from; empty if no install is in progress
     * @param offset the snapshot's offset
     * @param epoch the epoch of the snapshot's last entry
     * @param receivedBytes bytes received and written so far
     * @param sizeBytes the snapshot file's size
     */
    public record InstallStatus(String source, long offset, long epoch, long receivedBytes, long sizeBytes) {
        /** No install in progress. */
        public static final InstallStatus NONE = new InstallStatus("", 0, 0, 0, 0);

        /** Whether an install is in progress. */
        public boolean inProgress() {
            return !source.isEmpty();
        }
    }

    /**
     * The newest snapshot this replica holds.
     *
     * @param offset its offset (entries below it are in it); 0 if there is none
     * @param epoch the epoch of its last entry; 0 if there is none
     * @param sizeBytes its file's size
     * @param atMillis when this replica took or installed it (wall clock, epoch milliseconds); 0 if it was found at
     *     start-up or there is none
     */
    public record SnapshotStatus(long offset, long epoch, long sizeBytes, long atMillis) {
        /** No snapshot. */
        public static final SnapshotStatus NONE = new SnapshotStatus(0, 0, 0, 0);

        static SnapshotStatus of(Optional<SnapshotMeta> meta, long atMillis) {
            return meta.map(m -> new SnapshotStatus(m.id().offset(), m.id().epoch(), m.sizeBytes(), atMillis))
                    .orElse(NONE);
        }
    }

    /**
     * A follower as its leader sees it.
     *
     * @param lagEntries entries the follower lacks durably
     * @param lastHeardMillisAgo time since the follower last answered, or -1 if never
     */
    public record FollowerStatus(
            String id, boolean promised, long matchOffset, long lagEntries, long lastHeardMillisAgo) {}

    private enum State {
        LATENT,
        STARTED,
        FAILED,
        CLOSED
    }

    private final String id;
    private final ReplicaCore core;
    private final ReplicaLog replicaLog;
    private final LogSyncer syncer;
    /** When set, replaces the sync thread: leaders and followers alike ask it and go on. */
    private final AsyncLogSyncer asyncSyncer;

    private final boolean syncOnEventThread;
    /** A follower syncs on its event thread when that is a thread of its own (not a lane of a shared pool). */
    private final boolean followerSyncsInline;
    /**
     * Whether work may run on the thread that asks for it when the lane it belongs to is idle (threads of its own
     * only): a proposal on the proposing thread, a small received message on the transport's thread, a sync result
     * on the sync thread, a quick apply on the event lane (issue 20: fewer hand-offs at low load). The results of an
     * {@link AsyncLogSyncer} run on their completing thread whatever this says ({@link #startAsyncSync}).
     */
    private final boolean runHere;
    /** Whether small received messages may be handled on the transport's thread ({@link #runHere} too). */
    private final boolean handleOnTransport;

    private final Transport transport;
    private final Leadership leadership;
    private final StateMachine stateMachine;
    private final LongSupplier clock;
    private final Duration proposalTimeout;
    private final Duration tickInterval;
    private final ReplicaListener listener;
    private final Function<String, String> leaderEndpoints;
    private final SnapshotStore snapshots;
    private final SnapshotPolicy snapshotPolicy;
    private final List<String> members;
    private final ConfigurationMaster configurationMaster;

    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final java.util.concurrent.atomic.AtomicInteger outstanding =
            new java.util.concurrent.atomic.AtomicInteger();
    private final int maxOutstanding;
    private final java.util.concurrent.atomic.AtomicLong outstandingBytes =
            new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.LongAdder proposalsCommitted =
            new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder proposalsRefused = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder proposalsUnknown = new java.util.concurrent.atomic.LongAdder();
    private final List<LatencyObserver> latencyObservers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final long maxOutstandingBytes;
    private final int maxPayloadBytes;
    private final ReplicaExecutors.Threads threads;
    private final ReplicaExecutors.Lane eventThread;
    private final ReplicaExecutors.Lane syncThread;
    private final ReplicaExecutors.Lane applyThread;
    private final ReplicaExecutors.Lane snapshotThread;
    /** Runs the configuration master's writes (activations), which wait on ZooKeeper. */
    private final ReplicaExecutors.Lane configurationThread;

    private final ScheduledExecutorService timer;
    /** Whether the core quiesces ({@link CoreConfig#quiesce()}): ticks are then skipped while it is quiet. */
    private final boolean quiesce;
    /** The tick interval while quiet: check-quorum's tenth, at most 1 s. */
    private final long idleTickNanos;

    private final PeerLiveness peerLiveness;
    /** Set on the event thread after each event: the core is quiescent and no request waits. */
    private volatile boolean quiet;
    /** When the last tick ran (event thread writes, timer reads). */
    private volatile long lastTickNanos;
    /** Ticks run so far (event thread writes); for tests. */
    private final AtomicLong ticksRun = new AtomicLong();
    /** This replica's registration with its timer (quiet or not, stopped on close); set by {@link #start()}. */
    private volatile ReplicaExecutors.Ticking ticking = ReplicaExecutors.Ticking.NONE;

    /** Proposals on their way to the event thread, which takes them all at once (batching). */
    private final ConcurrentLinkedQueue<Incoming> incoming = new ConcurrentLinkedQueue<>();

    private final AtomicBoolean drainPosted = new AtomicBoolean();

    /**
     * The hand-off in progress ({@link #handOff}), or null: while set, proposals are refused naming its successor.
     * Written by the caller of {@link #handOff} and the event thread; read by any thread.
     */
    private volatile HandOff handOff;

    /**
     * A hand-off: proposals are refused naming {@code successor} until this replica is elected in an epoch above
     * {@code epoch} (-1 until the event thread has noted the epoch of the term it applies to).
     */
    private record HandOff(String successor, long epoch) {}

    // Event thread only.
    /** Proposals handed to the core, in request id order, which is also deadline order. */
    private final LinkedHashMap<Long, Incoming> proposals = new LinkedHashMap<>();

    private final Map<Long, CompletableFuture<Long>> reads = new HashMap<>();
    /** Every read barrier and applied-offset wait not yet complete (any thread). */
    private final java.util.Set<CompletableFuture<Long>> waiters = ConcurrentHashMap.newKeySet();
    /** {@link #awaitTakeOver}'s waiters; event thread only. */
    private final List<TakeOverWaiter> takeOverWaiters = new ArrayList<>();

    private long nextRequestId;
    private long queuedForApply;
    private boolean syncRunning;
    private boolean syncWanted;
    private boolean inlineSyncPosted;
    /** The promise store when it defers durability ({@link DeferredPromiseStore}), else null. */
    private final DeferredPromiseStore deferredPromises;
    /** Set by the core's promise store when the event running stored a promise (event lane only). */
    private boolean promiseStored;
    /**
     * Actions held until the promise stored before them is durable, in order; null when none are (event lane only).
     */
    private List<Action> held;
    /** The durability that releases {@link #held}: of the newest promise stored (event lane only). */
    private CompletableFuture<Void> heldUntil;
    /** True while an event received runs on the transport's delivering thread (event lane only). */
    private boolean onTransportThread;

    private final AtomicBoolean tickPosted = new AtomicBoolean();
    private long fencedBy;

    // Apply thread, read by others.
    private final AtomicLong applied = new AtomicLong();
    /** Set on the apply thread when the state machine threw: nothing more is applied. */
    private volatile boolean applyFailed;

    private final NavigableMap<Long, List<Runnable>> appliedWaiters = new TreeMap<>();
    /** The epoch of the last applied entry. */
    private long appliedLastEpoch;

    private long entriesSinceSnapshot;
    private long bytesSinceSnapshot;
    private long entriesThreshold;
    private long bytesThreshold;
    /** A running average of one apply batch's time (apply lane writes; the event lane reads). */
    private volatile long applyNanosAverage;

    /** A snapshot is being written (apply thread's view). */
    private boolean snapshotRunning;
    /** Callers of {@link #takeSnapshot()} waiting for the next snapshot. */
    private final List<CompletableFuture<SnapshotId>> snapshotRequests =
            java.util.Collections.synchronizedList(new ArrayList<>());

    private volatile SnapshotStatus lastSnapshot = SnapshotStatus.NONE;
    /** Committed proposals waiting for their entry to be applied here, by offset; filled by the event thread. */
    private final ConcurrentHashMap<Long, Awaiting> awaitingApply = new ConcurrentHashMap<>();

    private volatile Status lastStatus;
    /** Why the replica stopped; null while it runs. */
    private volatile Throwable failure;

    /**
     * A proposal from {@link #propose} until the core takes it, then until it commits or fails: {@code future} is
     * completed here, {@code observed} is the caller's stage after it (completed once the outcome is counted).
     */
    // Never compared: held by id in maps and queues only.
    @SuppressWarnings("ArrayRecordComponent")
    private record Incoming(
            byte[] payload,
            CompletableFuture<Committed> future,
            CompletableFuture<Committed> observed,
            long deadlineNanos) {}

    private record Awaiting(long epoch, CompletableFuture<Committed> future, CompletableFuture<Committed> observed) {}

    private Replica(Builder b) {
        this.id = b.config.self();
        this.replicaLog = b.log;
        this.syncer = b.syncer;
        this.asyncSyncer = b.asyncSyncer;
        this.syncOnEventThread = b.syncOnEventThread;
        this.transport = b.transport;
        this.leadership = b.leadership;
        this.stateMachine = b.stateMachine;
        this.clock = b.clock;
        this.proposalTimeout = b.proposalTimeout;
        this.tickInterval = b.tickInterval;
        this.listener = b.listener;
        this.leaderEndpoints = b.leaderEndpoints;
        this.maxOutstanding = b.config.maxPendingProposals();
        this.maxPayloadBytes = b.maxPayloadBytes;
        this.maxOutstandingBytes = b.maxPendingProposalBytes;
        this.snapshots = b.snapshots;
        this.snapshotPolicy = b.snapshotPolicy;
        this.configurationMaster = b.configurationMaster;
        this.members = b.config.members();
        Optional<SnapshotMeta> latest = snapshots.latest();
        Preconditions.checkState(
                latest.isEmpty() || stateMachine.supportsSnapshots(),
                "replica %s has snapshot %s but its state machine does not support snapshots",
                id,
                latest.map(SnapshotMeta::id).orElse(null));
        // Makes the log continue the newest snapshot (resetting it if a crash interrupted an install).
        this.deferredPromises = b.promises instanceof DeferredPromiseStore d ? d : null;
        PromiseStore promises = deferredPromises == null
                ? b.promises
                : new PromiseStore() {
                    @Override
                    public Promise load() throws IOException {
                        return deferredPromises.load();
                    }

                    @Override
                    public void store(Promise promise) throws IOException {
                        deferredPromises.store(promise);
                        promiseStored = true; // the core calls it on the event lane, inside an event
                    }
                };
        this.core = new ReplicaCore(b.config, b.log, promises, snapshots, clock.getAsLong());
        if (b.configuration != null) {
            core.configure(b.configuration, clock.getAsLong()); // before any event: its actions are processed first
        }
        long replayFrom = stateMachine.appliedOffset();
        if (latest.isPresent() && replayFrom < latest.get().id().offset()) {
            SnapshotId snap = latest.get().id();
            try (InputStream in = snapshots.openState(snap)) {
                stateMachine.restore(snap.offset(), in);
                in.transferTo(java.io.OutputStream.nullOutputStream()); // to the end: the stream checks the CRC there
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("replica " + id + " cannot restore snapshot " + snap, e);
            }
            replayFrom = snap.offset();
            log.info(
                    "replica {} restored snapshot {}; replaying the log from {} to {}",
                    id,
                    snap,
                    replayFrom,
                    b.log.logEndOffset());
        }
        Preconditions.checkState(
                replayFrom >= b.log.logStartOffset() && replayFrom <= b.log.logEndOffset(),
                "state machine of %s says it applied up to %s but the log holds [%s, %s)",
                id,
                replayFrom,
                b.log.logStartOffset(),
                b.log.logEndOffset());
        this.appliedLastEpoch = replayFrom == 0 ? 0 : b.log.epochAt(replayFrom - 1);
        this.lastSnapshot = SnapshotStatus.of(latest, 0);
        drawSnapshotThresholds();
        this.applied.set(replayFrom);
        this.queuedForApply = replayFrom;
        this.threads = b.executors == null ? ReplicaExecutors.dedicated(id) : b.executors.forReplica();
        this.eventThread = threads.lane(ReplicaExecutors.Role.EVENT);
        this.syncThread = threads.lane(ReplicaExecutors.Role.SYNC);
        this.applyThread = threads.lane(ReplicaExecutors.Role.APPLY);
        this.snapshotThread = threads.lane(ReplicaExecutors.Role.SNAPSHOT);
        this.configurationThread = threads.lane(ReplicaExecutors.Role.CONFIGURATION);
        this.timer = threads.scheduler();
        this.followerSyncsInline = threads.dedicated();
        this.runHere = threads.dedicated();
        this.handleOnTransport = runHere && b.transport.mayHandleOnDeliveryThread();
        this.quiesce = b.config.quiesce();
        long checkQuorum = b.config.checkQuorumNanos();
        long suspicion = b.config.suspicionNanos(); // a quiet follower still times its leader's silence
        this.idleTickNanos = Math.min(
                Math.min(TimeUnit.SECONDS.toNanos(1), suspicion == 0 ? Long.MAX_VALUE : Math.max(1, suspicion / 4)),
                checkQuorum == 0 ? Long.MAX_VALUE : Math.max(1, checkQuorum / 10));
        this.peerLiveness = b.peerLiveness;
        this.lastStatus = new Status(
                id,
                Role.FOLLOWER,
                core.epoch(),
                core.leader(),
                core.commitOffset(),
                replayFrom,
                core.logEndOffset(),
                List.of(),
                "",
                core.logStartOffset(),
                lastSnapshot,
                InstallStatus.NONE,
                core.configuration());
    }

    /** A builder; config, log, promises, transport, leadership and state machine are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Replica}. Config, log, syncer, promise store, transport, leadership and state machine are required. */
    public static final class Builder {
        private CoreConfig config;
        private ReplicaLog log;
        private LogSyncer syncer;
        private AsyncLogSyncer asyncSyncer;
        private boolean syncOnEventThread;
        private ReplicaExecutors executors;
        private PeerLiveness peerLiveness = id -> Long.MIN_VALUE;
        private PromiseStore promises;
        private Transport transport;
        private Leadership leadership;
        private StateMachine stateMachine;
        private LongSupplier clock = System::nanoTime;
        private Duration proposalTimeout = Duration.ofSeconds(10);
        private Duration tickInterval = Duration.ofMillis(10);
        private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
        private long maxPendingProposalBytes = DEFAULT_MAX_PENDING_PROPOSAL_BYTES;
        private ReplicaListener listener = new ReplicaListener() {};
        private Function<String, String> leaderEndpoints = id -> "";
        private SnapshotStore snapshots = SnapshotStore.NONE;
        private SnapshotPolicy snapshotPolicy = SnapshotPolicy.defaults();
        private ConfigurationMaster configurationMaster = ConfigurationMaster.NONE;
        private Configuration configuration;

        private Builder() {}

        /**
         * Maps a replica id to the endpoint it registered for clients, so that a {@link
         * ReplicationException#leaderEndpoint() refusal} names where the leader can be reached (none by default:
         * ""). Called on the event thread when a request is refused: it must be quick and must not block (read a
         * cache, as {@code ZooKeeperReplica} does with its leader discovery); it may return "" and must not throw.
         */
        public Builder leaderEndpoints(Function<String, String> leaderEndpoints) {
            this.leaderEndpoints = Preconditions.checkNotNull(leaderEndpoints, "leaderEndpoints");
            return this;
        }

        /**
         * Where snapshots are kept ({@code FileSnapshotStore}); none by default. Needed for a state machine that
         * {@link StateMachine#supportsSnapshots() supports snapshots}; a replica holding snapshots refuses to build
         * with one that does not.
         */
        public Builder snapshots(SnapshotStore snapshots) {
            this.snapshots = Preconditions.checkNotNull(snapshots, "snapshots");
            return this;
        }

        /**
         * The replica set's configuration at start, as the configuration master holds it ({@link
         * Configuration#initial} of the config's members by default).
         */
        public Builder configuration(Configuration configuration) {
            this.configuration = Preconditions.checkNotNull(configuration, "configuration");
            return this;
        }

        /**
         * Where the replica set's configuration lives, for activating a change ({@link ConfigurationMaster#NONE} by
         * default: the configuration never changes).
         */
        public Builder configurationMaster(ConfigurationMaster master) {
            this.configurationMaster = Preconditions.checkNotNull(master, "master");
            return this;
        }

        /** When to take snapshots; {@link SnapshotPolicy#defaults()} by default. */
        public Builder snapshotPolicy(SnapshotPolicy policy) {
            this.snapshotPolicy = Preconditions.checkNotNull(policy, "policy");
            return this;
        }

        /**
         * Runs the replica on a shared set of threads ({@link ReplicaExecutors#shared}) instead of threads of its own:
         * for a node hosting many replicas. The set must outlive the replica. The tick interval is then the set's.
         */
        public Builder executors(ReplicaExecutors shared) {
            this.executors = Preconditions.checkNotNull(shared, "shared");
            return this;
        }

        /**
         * Where a quiescing replica ({@link CoreConfig#quiesce()}) learns when its node last heard from each other
         * replica's node, for check-quorum while its followers are quiet; by default it never does, and a quiet
         * leader gives up its term after the check-quorum interval.
         */
        public Builder peerLiveness(PeerLiveness liveness) {
            this.peerLiveness = Preconditions.checkNotNull(liveness, "liveness");
            return this;
        }

        /** Optional callbacks (on the event thread; keep them short). */
        public Builder listener(ReplicaListener listener) {
            this.listener = Preconditions.checkNotNull(listener, "listener");
            return this;
        }

        /** The core's settings; required. */
        public Builder config(CoreConfig config) {
            this.config = config;
            return this;
        }

        /**
         * The log and how to make it durable. On a leader the syncer runs on a sync thread concurrently with
         * appends, unless {@code syncOnEventThread} (for logs that are not thread-safe, such as the in-memory
         * log); on a follower it runs on the event thread.
         */
        public Builder log(ReplicaLog log, LogSyncer syncer, boolean syncOnEventThread) {
            this.log = log;
            this.syncer = syncer;
            this.asyncSyncer = null;
            this.syncOnEventThread = syncOnEventThread;
            return this;
        }

        /**
         * The log and a syncer that needs no thread of the replica's (a node's write-ahead log: {@code
         * WriteAheadLog.PartitionLog::syncAsync}). Leaders and followers alike ask for a sync and go on; one sync is
         * outstanding at a time, and a request meanwhile is folded into the next.
         */
        public Builder log(ReplicaLog log, AsyncLogSyncer syncer) {
            this.log = log;
            this.asyncSyncer = syncer;
            this.syncer = syncer == null ? null : () -> syncer.requestSync().get();
            this.syncOnEventThread = false;
            return this;
        }

        /** Where the replica's promise is kept; required. */
        public Builder promises(PromiseStore promises) {
            this.promises = promises;
            return this;
        }

        /** How the replica exchanges messages with its peers; required. */
        public Builder transport(Transport transport) {
            this.transport = transport;
            return this;
        }

        /** Where the replica's terms of leadership come from; required. */
        public Builder leadership(Leadership leadership) {
            this.leadership = leadership;
            return this;
        }

        /** The replicated state; required. */
        public Builder stateMachine(StateMachine stateMachine) {
            this.stateMachine = stateMachine;
            return this;
        }

        /** The time source (nanoseconds); {@code System::nanoTime} by default. */
        public Builder clock(LongSupplier clock) {
            this.clock = clock;
            return this;
        }

        /** How long a proposal may wait for its commit before its outcome is reported unknown; 10 s. */
        public Builder proposalTimeout(Duration timeout) {
            this.proposalTimeout = timeout;
            return this;
        }

        /**
         * The largest payload {@link #propose} accepts; larger ones are refused at once. It must fit one log record
         * and one transport frame with room for headers; {@link #DEFAULT_MAX_PAYLOAD_BYTES} by default.
         */
        public Builder maxPayloadBytes(int bytes) {
            this.maxPayloadBytes = bytes;
            return this;
        }

        /**
         * The most payload bytes of proposals accepted and not yet completed; a proposal beyond it is refused at
         * once as overloaded ({@link ReplicationException.OverloadedException}, definitely not applied). One
         * proposal is always accepted when none is pending, whatever its size. {@link
         * #DEFAULT_MAX_PENDING_PROPOSAL_BYTES} by default.
         */
        public Builder maxPendingProposalBytes(long bytes) {
            this.maxPendingProposalBytes = bytes;
            return this;
        }

        /** How often the core's timers are checked; 10 ms by default. */
        public Builder tickInterval(Duration interval) {
            this.tickInterval = interval;
            return this;
        }

        /**
         * The replica, not started yet; throws {@link IllegalArgumentException} if a required part is missing or a
         * setting is out of range.
         */
        public Replica build() {
            Preconditions.checkArgument(config != null, "config is required");
            Preconditions.checkArgument(log != null && syncer != null, "log and syncer are required");
            Preconditions.checkArgument(promises != null, "promise store is required");
            Preconditions.checkArgument(transport != null, "transport is required");
            Preconditions.checkArgument(leadership != null, "leadership is required");
            Preconditions.checkArgument(stateMachine != null, "state machine is required");
            Preconditions.checkArgument(
                    !proposalTimeout.isNegative() && !proposalTimeout.isZero(), "proposal timeout must be > 0");
            Preconditions.checkArgument(maxPayloadBytes >= 0, "maxPayloadBytes must be >= 0");
            Preconditions.checkArgument(maxPendingProposalBytes >= 1, "maxPendingProposalBytes must be >= 1");
            return new Replica(this);
        }
    }

    /**
     * Proposals made to this replica so far, by outcome: committed (and applied here), refused (definitely not
     * applied: not the leader, overloaded, fenced, not running) and unknown (may have been applied).
     */
    public record ProposalCounts(long committed, long refused, long unknown) {}

    /** The proposals made to this replica so far, by outcome; see {@link ProposalCounts}. Thread-safe. */
    public ProposalCounts proposalCounts() {
        return new ProposalCounts(proposalsCommitted.sum(), proposalsRefused.sum(), proposalsUnknown.sum());
    }

    /**
     * Hears the latencies this replica measures, for metrics ({@code ReplicaMetrics}). Called on the replica's
     * threads: record and return.
     */
    public interface LatencyObserver {
        /** A proposal made here was committed and applied {@code nanos} after it was proposed. */
        void commitLatency(long nanos);

        /** A sync of this replica's log took {@code nanos} (with a shared write-ahead log: until it was durable). */
        default void syncLatency(long nanos) {}
    }

    /** Adds an observer of this replica's latencies; thread-safe, effective at once. */
    public void addLatencyObserver(LatencyObserver observer) {
        latencyObservers.add(Preconditions.checkNotNull(observer, "observer"));
    }

    private void observeSync(long nanos) {
        for (LatencyObserver o : latencyObservers) {
            o.syncLatency(nanos);
        }
    }

    /** This replica's id. */
    public String id() {
        return id;
    }

    /** Ticks run so far; for tests. */
    long ticksRun() {
        return ticksRun.get();
    }

    /** Whether the replica is quiet (quiescent core, no request waiting) as of its last event; for tests. */
    boolean quiet() {
        return quiet;
    }

    /**
     * Starts the transport, the timers and the election.
     *
     * @throws IllegalStateException if started before or closed
     */
    public void start() throws Exception {
        Preconditions.checkState(state.compareAndSet(State.LATENT, State.STARTED), "Cannot be started more than once");
        // Back-pressure: a received message holds a unit of the budget until its event has run, and the transport
        // stops reading while the budget is exhausted, so the event queue never grows without bound.
        InboundBudget budget = threads.inboundBudget();
        transport.inboundBudget(budget);
        transport.connectionRefusals(peer -> post(() -> core.connectionRefused(peer, clock.getAsLong())));
        transport.start(m -> {
            budget.take();
            Runnable event = () -> {
                if (WriteTrace.ENABLED) {
                    WriteTrace.stamp(
                            id + "<" + m.from(),
                            m instanceof Message.AppendAck ? WriteTrace.Point.ACK_HANDLED : WriteTrace.Point.HANDLED,
                            m);
                }
                core.receive(m, clock.getAsLong());
            };
            if (handleOnTransport && smallMessage(m) && runHere(event, budget::giveBack, true, THEN_AT_MOST)) {
                return;
            }
            if (!post(event, budget::giveBack)) {
                budget.giveBack();
            }
        });
        // The core's first actions: a sync of what the log held at start-up, which counts only once synced.
        post(() -> {});
        // Stopped on close; the task only posts an event, which cannot throw.
        ticking = threads.tickEvery(tickInterval, () -> {
            // One tick waits in the event queue at most: a stalled event thread (a slow disk) must not
            // pile them up.
            if (quiet && clock.getAsLong() - lastTickNanos < idleTickNanos) {
                return; // nothing timed in progress: a tick now and then serves check-quorum
            }
            if (tickPosted.compareAndSet(false, true)
                    && !post(() -> {
                        tickPosted.set(false);
                        long now = clock.getAsLong();
                        lastTickNanos = now;
                        ticksRun.incrementAndGet();
                        if (quiesce) {
                            for (ReplicaCore.FollowerProgress f : core.followers()) {
                                core.heard(f.id(), peerLiveness.lastHeardNanos(f.id()));
                            }
                            String leader = core.leader(); // a quiet leader's node pings count (fast failover)
                            if (!leader.isEmpty() && !leader.equals(id)) {
                                core.heard(leader, peerLiveness.lastHeardNanos(leader));
                            }
                        }
                        core.tick(now);
                        expireProposals(now);
                        refreshStatus();
                    })) {
                tickPosted.set(false);
            }
        });
        ticking.quiet(quiet); // an event may have run before the registration
        // Replay what is known committed locally only once the leader says so: commit is learned, not stored.
        leadership.start(new Leadership.Events() {
            @Override
            public void elected(long epoch) {
                post(() -> {
                    fencedBy = 0;
                    endHandOffBelow(epoch);
                    core.becomeLeader(epoch, clock.getAsLong());
                });
            }

            @Override
            public void elected(long epoch, Configuration configuration) {
                post(() -> {
                    fencedBy = 0;
                    endHandOffBelow(epoch);
                    core.becomeLeader(epoch, configuration, clock.getAsLong());
                });
            }

            @Override
            public void revoked(long epoch) {
                post(() -> core.resign(epoch, clock.getAsLong()));
            }

            @Override
            public void configured(Configuration configuration) {
                configure(configuration);
            }
        });
        log.info("replica {} started: {}", id, core);
    }

    /**
     * The configuration master holds {@code configuration}: hands it to the core (on the event thread), which ignores
     * it unless it is newer than the newest it has. Thread-safe; for the driver's watch on the configuration.
     */
    public void configure(Configuration configuration) {
        Preconditions.checkNotNull(configuration, "configuration");
        post(() -> core.configure(configuration, clock.getAsLong()));
    }

    /**
     * Proposes {@code payload}. Completes with its position and the state machine's result once committed
     * and applied here; fails with {@link NotLeaderException}, {@link OverloadedException} or {@link
     * FencedEpochException} (all definite), {@link ReplicaFailedException} (the replica stopped after a failure;
     * definite only if it had not accepted the proposal) or {@link OutcomeUnknownException} (may have been applied; also
     * when not committed within the proposal timeout, checked on every tick of the event thread — while that
     * thread is stalled, by a disk that does not answer for example, a proposal waits longer, so a caller that
     * must bound its wait also bounds the future, as the demo's HTTP API does).
     *
     * <p>Proposals made from any threads are taken by the event thread in the order they were queued, as many
     * as are waiting at once: the leader appends them in one append and one sync, and ships them to each
     * follower in the same messages. Proposals queued by one thread are appended in the order of the calls.
     * The future completes on the apply thread (or the event thread for failures): keep callbacks short. By then
     * the proposal is counted in {@link #proposalCounts()} and, if committed, its latency was handed to the {@link
     * LatencyObserver}s.
     */
    public CompletableFuture<Committed> propose(byte[] payload) {
        Preconditions.checkNotNull(payload, "payload");
        Preconditions.checkArgument(
                payload.length <= maxPayloadBytes,
                "a payload of %s bytes is larger than the %s bytes this replica accepts",
                payload.length,
                maxPayloadBytes);
        CompletableFuture<Committed> f = new CompletableFuture<>();
        HandOff h = handOff;
        if (h != null) {
            // Also once closed: the refusal names where to go.
            proposalsRefused.increment();
            f.completeExceptionally(handedOff(h));
            return f;
        }
        if (state.get() != State.STARTED) {
            proposalsRefused.increment();
            f.completeExceptionally(notRunning());
            return f;
        }
        // Bound what waits in the event queue too, not only in the core: never run out of memory.
        if (outstanding.incrementAndGet() > maxOutstanding) {
            outstanding.decrementAndGet();
            proposalsRefused.increment();
            f.completeExceptionally(new OverloadedException(id));
            return f;
        }
        long size = payload.length;
        long bytesBefore = outstandingBytes.getAndAdd(size);
        if (bytesBefore > 0 && bytesBefore + size > maxOutstandingBytes) {
            outstandingBytes.addAndGet(-size);
            outstanding.decrementAndGet();
            proposalsRefused.increment();
            f.completeExceptionally(new OverloadedException(id, maxOutstandingBytes));
            return f;
        }
        long proposedAt = System.nanoTime();
        // The caller gets the stage after the accounting: its outcome is in the counts and the latency observers by
        // the time the caller sees it (metrics read right after a proposal completes include it).
        CompletableFuture<Committed> counted = f.whenComplete((c, e) -> {
            outstandingBytes.addAndGet(-size);
            outstanding.decrementAndGet();
            if (e == null) {
                proposalsCommitted.increment();
                long nanos = System.nanoTime() - proposedAt;
                for (LatencyObserver o : latencyObservers) {
                    o.commitLatency(nanos);
                }
            } else if (e instanceof ReplicationException r && r.definitelyNotApplied()) {
                proposalsRefused.increment();
            } else {
                proposalsUnknown.increment();
            }
        });
        incoming.add(new Incoming(payload, f, counted, clock.getAsLong() + proposalTimeout.toNanos()));
        if (drainPosted.compareAndSet(false, true) && !runHereOrPost(this::takeProposals)) {
            failIncoming(new IllegalStateException("replica " + id + " is closed"));
        }
        return counted;
    }

    /** Event thread: hands every queued proposal to the core at once. */
    private void takeProposals() {
        drainPosted.set(false); // before polling: a proposal queued from now on posts again
        if (state.get() != State.STARTED) {
            // Stopped (closed or failed) after they were queued: never handed to the core, so never applied.
            failIncoming(notRunning());
            return;
        }
        HandOff h = handOff;
        if (h != null) {
            failIncoming(handedOff(h)); // queued while the hand-off began: never taken
            return;
        }
        long takenAt = WriteTrace.ENABLED ? System.nanoTime() : 0;
        long endBefore = WriteTrace.ENABLED ? core.logEndOffset() : 0;
        List<ReplicaCore.Proposal> batch = new ArrayList<>();
        Incoming p;
        while ((p = incoming.poll()) != null) {
            long rid = nextRequestId++;
            proposals.put(rid, p);
            batch.add(new ReplicaCore.Proposal(rid, p.payload()));
        }
        if (!batch.isEmpty()) {
            core.proposeAll(batch, clock.getAsLong());
            if (WriteTrace.ENABLED) {
                traceTaken(batch, endBefore, takenAt);
            }
        }
    }

    /** Stamps the proposals just appended (one entry each, from {@code endBefore}) for {@link WriteTrace}. */
    private void traceTaken(List<ReplicaCore.Proposal> batch, long endBefore, long takenAt) {
        long appendedAt = System.nanoTime();
        if (core.logEndOffset() != endBefore + batch.size()) {
            return; // not appended as one run (not the leader, or an epoch-start entry among them)
        }
        long offset = endBefore;
        for (ReplicaCore.Proposal q : batch) {
            Incoming in = proposals.get(q.id());
            if (in != null) {
                WriteTrace.stamp(id, WriteTrace.Point.PROPOSED, offset, in.deadlineNanos() - proposalTimeout.toNanos());
            }
            WriteTrace.stamp(id, WriteTrace.Point.TAKEN, offset, takenAt);
            WriteTrace.stamp(id, WriteTrace.Point.APPENDED, offset, appendedAt);
            offset++;
        }
    }

    private void failIncoming(Throwable failure) {
        Incoming p;
        while ((p = incoming.poll()) != null) {
            p.future().completeExceptionally(failure);
        }
    }

    /** Event thread: fails the proposals older than the proposal timeout, oldest first. */
    private void expireProposals(long now) {
        Iterator<Incoming> it = proposals.values().iterator();
        while (it.hasNext()) {
            Incoming p = it.next();
            if (now - p.deadlineNanos() < 0) {
                return; // request ids follow the deadlines: the rest are younger
            }
            it.remove();
            p.future()
                    .completeExceptionally(new OutcomeUnknownException(
                            "not committed within " + proposalTimeout, lastStatus.leader()));
        }
    }

    /**
     * Hands this replica's term off (a controlled shutdown, a leadership transfer): from now on proposals are refused
     * with a {@link NotLeaderException} naming {@code successor} (definite: a client retries it there), and the
     * returned future completes once every proposal taken before has its outcome — committed and applied here, or
     * failed — with {@code true}, or with {@code false} if some are still open after {@code timeout}. The term itself
     * is not given up: whoever gives terms (the {@link Leadership}) ends it, best once the future completed, so that
     * the proposals in flight commit in this term instead of ending with an unknown outcome when a newer epoch fences
     * it. Reads go on. The refusals last until this replica is elected in a newer epoch. Thread-safe; on a replica
     * that is not running the future completes at once with {@code true} (nothing is open).
     *
     * @param successor the replica expected to lead next, named in the refusals ("" if not known)
     * @param timeout how long to wait for the open proposals at most
     */
    public CompletableFuture<Boolean> handOff(String successor, Duration timeout) {
        Preconditions.checkNotNull(successor, "successor");
        Preconditions.checkArgument(!timeout.isNegative(), "timeout must not be negative");
        CompletableFuture<Boolean> drained = new CompletableFuture<>();
        handOff = new HandOff(successor, -1); // refused from now on, on every thread
        boolean posted = post(() -> {
            handOff = new HandOff(successor, core.epoch());
            failIncoming(handedOff(handOff));
            List<CompletableFuture<Committed>> open = new ArrayList<>();
            // The callers' stages: the drain is over once every caller has its outcome.
            proposals.values().forEach(p -> open.add(p.observed()));
            awaitingApply.values().forEach(a -> open.add(a.observed()));
            CompletableFuture<?> unused = CompletableFuture.allOf(open.toArray(new CompletableFuture<?>[0]))
                    .handle((v, e) -> drained.complete(true));
        });
        if (!posted) {
            drained.complete(true); // not running: nothing open
            return drained;
        }
        try {
            ScheduledFuture<?> timer =
                    this.timer.schedule(() -> drained.complete(false), timeout.toNanos(), TimeUnit.NANOSECONDS);
            CompletableFuture<?> unused = drained.whenComplete((v, e) -> timer.cancel(false));
        } catch (RejectedExecutionException stopped) {
            drained.complete(true); // stopped: its open proposals were failed
        }
        return drained;
    }

    /** Whether a hand-off is in progress ({@link #handOff}): proposals are refused. */
    public boolean handingOff() {
        return handOff != null;
    }

    /** The refusal of a proposal during hand-off {@code h}. */
    private NotLeaderException handedOff(HandOff h) {
        return new NotLeaderException(h.successor(), endpointOf(h.successor()));
    }

    /** Event thread: a term of {@code epoch} begins here; a hand-off of an older term is over. */
    private void endHandOffBelow(long epoch) {
        HandOff h = handOff;
        if (h != null && h.epoch() >= 0 && epoch > h.epoch()) {
            handOff = null;
        }
    }

    /**
     * A linearizable read barrier: completes with an offset once this leader has confirmed its epoch with a
     * majority after the call and has applied every entry below that offset; state read from the state
     * machine afterwards reflects every write acknowledged before the call. Fails with {@link
     * NotLeaderException} on a follower.
     */
    public CompletableFuture<Long> readBarrier() {
        CompletableFuture<Long> f = waiting();
        if (f.isDone()) {
            return f;
        }
        if (!post(() -> {
            long rid = nextRequestId++;
            reads.put(rid, f);
            core.readBarrier(rid, clock.getAsLong());
        })) {
            f.completeExceptionally(notRunning());
            return f;
        }
        try {
            ScheduledFuture<?> timeout = timer.schedule(
                    () -> f.completeExceptionally(
                            new TimeoutException("read barrier not confirmed within " + proposalTimeout)),
                    proposalTimeout.toNanos(),
                    TimeUnit.NANOSECONDS);
            CompletableFuture<Long> unused = f.whenComplete((c, e) -> timeout.cancel(false));
        } catch (RejectedExecutionException stopped) {
            f.completeExceptionally(notRunning());
        }
        return f;
    }

    /**
     * Completes once every entry below {@code offset} is applied here (read-your-writes on any replica); fails if
     * the replica stops first ({@link ReplicaFailedException} after a failure, {@link IllegalStateException} after
     * a close).
     */
    public CompletableFuture<Long> awaitApplied(long offset) {
        CompletableFuture<Long> f = waiting();
        if (!f.isDone()) {
            whenApplied(offset, () -> f.complete(applied.get()));
        }
        return f;
    }

    /**
     * Completes with the new leader's epoch once this replica follows a leader of an epoch above {@code epoch} and
     * has heard it commit an entry of its own epoch: a successor took over (a hand-off's, a controlled shutdown's)
     * and serves. A controlled shutdown waits for this before it closes the replica, so that closing does not compete
     * with the take-over. Fails if the replica stops first, as {@link #awaitApplied} does. The commit offset reaches
     * a follower with the leader's next append or heartbeat.
     */
    public CompletableFuture<Long> awaitTakeOver(long epoch) {
        CompletableFuture<Long> f = waiting();
        if (f.isDone()) {
            return f;
        }
        boolean posted = post(() -> {
            takeOverWaiters.add(new TakeOverWaiter(epoch, f));
            if (held == null) { // else the release checks: the core's state may rest on a promise not durable yet
                checkTakeOverWaiters();
            }
        });
        if (!posted) {
            f.completeExceptionally(notRunning());
        }
        return f;
    }

    private record TakeOverWaiter(long epoch, CompletableFuture<Long> future) {}

    /** Event thread: completes the {@link #awaitTakeOver} waiters this replica's state now satisfies. */
    private void checkTakeOverWaiters() {
        long epoch = core.epoch();
        long commit = core.commitOffset();
        boolean following = core.role() == Role.FOLLOWER && !core.leader().isEmpty() && commit > 0;
        long committedEpoch = following ? replicaLog.epochAt(commit - 1) : 0;
        takeOverWaiters.removeIf(w -> {
            if (!w.future().isDone() && following && epoch > w.epoch() && committedEpoch == epoch) {
                w.future().complete(epoch);
            }
            return w.future().isDone();
        });
    }

    /**
     * A future for a read or a wait, failed at once if the replica does not run, and failed when it stops (its
     * timers and apply thread stop with it, so nothing else would complete it).
     */
    private CompletableFuture<Long> waiting() {
        CompletableFuture<Long> f = new CompletableFuture<>();
        State st = state.get();
        if (st == State.FAILED || st == State.CLOSED) {
            f.completeExceptionally(notRunning());
            return f;
        }
        waiters.add(f);
        // Identity is what removes this waiter: CompletableFuture keeps Object's equals.
        @SuppressWarnings("CollectionUndefinedEquality")
        CompletableFuture<Long> unused = f.whenComplete((v, e) -> waiters.remove(f));
        if (state.get() != st) {
            f.completeExceptionally(notRunning()); // stopped meanwhile: failStop or close may have missed it
        }
        return f;
    }

    /** Why a request cannot be taken: the replica failed (definitely not applied), or it is not running. */
    private Exception notRunning() {
        Throwable why = failure;
        if (why != null || state.get() == State.FAILED) {
            return ReplicaFailedException.notAccepted(id, why != null ? why : new IllegalStateException("failed"));
        }
        return new IllegalStateException("replica " + id + " is not started or is closed");
    }

    private void failWaiters(Exception e) {
        for (CompletableFuture<Long> f : List.copyOf(waiters)) {
            f.completeExceptionally(e);
        }
    }

    /** Entries below this offset are applied to the state machine. */
    public long appliedOffset() {
        return applied.get();
    }

    /** The latest status: refreshed on every role change and every tick (10 ms by default); cheap to call. */
    public Status status() {
        return lastStatus;
    }

    /** Why this replica stopped after a failure, or empty while it runs (or after a plain close). */
    public java.util.Optional<Throwable> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    @Override
    public void close() {
        State previous = state.getAndSet(State.CLOSED);
        if (previous == State.CLOSED) {
            return;
        }
        leadership.close();
        ticking.stop();
        threads.release();
        if (previous == State.STARTED) {
            transport.close();
        }
        boolean posted = post(() -> {
            for (Incoming p : proposals.values()) {
                p.future().completeExceptionally(new OutcomeUnknownException("replica closed", ""));
            }
            failIncoming(new IllegalStateException("replica " + id + " is closed"));
            for (CompletableFuture<Long> f : reads.values()) {
                f.completeExceptionally(new NotLeaderException(""));
            }
        });
        if (!posted) {
            failIncoming(new IllegalStateException("replica " + id + " is closed")); // stopped after a failure
        }

        shutdown(eventThread);
        shutdown(syncThread);
        shutdown(applyThread);
        shutdown(snapshotThread);
        configurationThread.shutdownNow(); // an activation not yet written is the next leader's to write
        snapshotOnStop();
        failWaiters(new IllegalStateException("replica " + id + " is closed"));
        failSnapshotRequests(new IllegalStateException("replica " + id + " is closed"));
        log.info("replica {} closed", id);
    }

    /**
     * At close, with the apply and snapshot threads stopped (so the state machine is still): snapshots what was
     * applied since the newest snapshot, if the policy says so, so that the next start replays less.
     */
    private void snapshotOnStop() {
        long offset = applied.get();
        if (!snapshotPolicy.onStop()
                || !stateMachine.supportsSnapshots()
                || applyFailed
                || failure != null
                || offset == 0
                || offset <= lastSnapshot.offset()) {
            return;
        }
        SnapshotId snap = new SnapshotId(offset, appliedLastEpoch);
        try {
            SnapshotMeta meta = snapshots.write(
                    snap, replicaLog.epochHistory().truncatedTo(offset), members, stateMachine.snapshot()::writeTo);
            lastSnapshot = SnapshotStatus.of(Optional.of(meta), System.currentTimeMillis());
            log.info("replica {} took snapshot {} ({} bytes) on stop", id, snap, meta.sizeBytes());
        } catch (IOException | RuntimeException e) {
            log.warn("replica {} could not take a snapshot on stop; the next start replays more", id, e);
        }
    }

    private static void shutdown(ReplicaExecutors.Lane e) {
        e.shutdown();
        try {
            if (!e.awaitTermination(10, TimeUnit.SECONDS)) {
                e.shutdownNow();
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            e.shutdownNow();
        }
    }

    // ---- event thread ----

    private boolean post(Runnable event) {
        return post(event, () -> {});
    }

    /**
     * Events queued meanwhile that a thread which ran an event of its own on the event lane ({@link #runHere}) may
     * run too before handing the lane to the event thread: a transport thread that handled an acknowledgement then
     * takes the next proposal, for example. Bounded, so that a busy replica never holds a transport thread long.
     */
    private static final int THEN_AT_MOST = 8;

    /** A received message small enough to handle on the transport's thread: an append of at most this many bytes. */
    private static final long SMALL_APPEND_BYTES = 64 << 10;

    /** The most entries, and the longest average time, of an apply batch run on the event lane. */
    private static final int QUICK_APPLY_ENTRIES = 16;

    private static final long QUICK_APPLY_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    /**
     * Whether {@code m} is cheap to handle: an acknowledgement, or an append of a few small entries (its handling
     * appends them to the log, a write to the page cache). Anything else (snapshot chunks, fetched history, epoch
     * changes that write the promise durably) goes to the event thread.
     */
    private static boolean smallMessage(Message m) {
        if (m instanceof Message.AppendAck) {
            return true;
        }
        if (m instanceof Message.Append a) {
            long bytes = 0;
            for (Entry e : a.entries()) {
                bytes += e.sizeInBytes();
            }
            return bytes <= SMALL_APPEND_BYTES;
        }
        return false;
    }

    /**
     * Runs {@code event} on the calling thread if the event lane is idle ({@link ReplicaExecutors.Lane#runHereIfIdle}),
     * then up to {@code thenAtMost} events queued meanwhile; returns false, having run nothing (nor {@code before}),
     * if it is busy or shut down. The event sees and changes the replica's state exactly as on the event thread:
     * the lane runs one task at a time, in order.
     */
    private boolean runHere(Runnable event, Runnable before, boolean fromTransport, int thenAtMost) {
        return eventThread.runHereIfIdle(
                new ReplicaExecutors.Droppable() {
                    @Override
                    public void dropped() {
                        before.run();
                    }

                    @Override
                    public void run() {
                        before.run();
                        onTransportThread = fromTransport;
                        try {
                            handle(event);
                        } finally {
                            onTransportThread = false;
                        }
                    }
                },
                thenAtMost);
    }

    /** Runs {@code event} here if the event lane is idle and this replica runs work where it is asked, else posts it. */
    private boolean runHereOrPost(Runnable event) {
        return (runHere && runHere(event, () -> {}, false, 0)) || post(event);
    }

    /**
     * Queues {@code event} on the event thread; {@code before} runs exactly once if this returns true: before the
     * event, or instead of it when the event is dropped (the replica stopped first).
     */
    private boolean post(Runnable event, Runnable before) {
        try {
            eventThread.execute(new ReplicaExecutors.Droppable() {
                @Override
                public void dropped() {
                    before.run();
                }

                @Override
                public void run() {
                    before.run();
                    handle(event);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Event thread: runs one event and the actions it produced. */
    private void handle(Runnable event) {
        if (failure != null) {
            return; // stopped after a failure: events still queued are dropped
        }
        try {
            event.run();
            List<Action> actions = core.takeActions();
            if (promiseStored || held != null) {
                hold(actions);
            } else {
                process(actions);
            }
            if (quiesce) {
                boolean q = core.quiescent() && proposals.isEmpty() && reads.isEmpty();
                if (q) {
                    refreshStatus(); // ticks are rare now: the status must not wait for one
                }
                if (q != quiet) {
                    quiet = q;
                    ticking.quiet(q);
                }
            }
        } catch (RuntimeException e) {
            log.error("replica {} failed handling an event; stopping it", id, e);
            failStop(e);
        }
    }

    /**
     * Event thread: holds {@code actions} until the newest promise stored is durable (docs/replication.md, "A promise
     * is durable before anything leaves the replica"). Nothing of a step that stored a promise, or of a later step,
     * leaves the replica or reaches a caller before then: no message, no acknowledgement, no sync request, no apply.
     */
    private void hold(List<Action> actions) {
        if (held == null) {
            held = new ArrayList<>();
        }
        held.addAll(actions);
        if (promiseStored) {
            promiseStored = false;
            CompletableFuture<Void> durable = deferredPromises.syncAsync();
            heldUntil = durable;
            var unused = durable.whenComplete((v, e) -> post(() -> release(durable, e)));
        }
    }

    /** Event thread: the promise {@code durable} waited for is durable (or failed to be): runs what was held. */
    private void release(CompletableFuture<Void> durable, Throwable failed) {
        if (failed != null) {
            throw new IllegalStateException("the promise of replica " + id + " could not be made durable", failed);
        }
        if (durable != heldUntil) {
            return; // a newer promise is stored: its durability releases everything held
        }
        List<Action> actions = held;
        held = null;
        heldUntil = null;
        process(actions);
        refreshStatus(); // not published while held
    }

    /**
     * Event thread: stops a replica that cannot go on (a state machine that threw, a storage failure, an
     * invariant breach): it must stop, not guess. Leaves the election (another replica can lead), stops
     * replicating, fails every request: those the core accepted may have been applied, the rest were not.
     */
    private void failStop(Throwable reason) {
        stop(reason, Role.FAILED);
    }

    /** Asks the configuration master, off the event thread, to activate a change; a failure is only logged. */
    private void activate(Action.ActivateConfiguration ac) {
        try {
            configurationThread.execute(() -> {
                try {
                    configurationMaster.activate(ac.epoch(), ac.joint());
                } catch (Exception e) {
                    log.warn(
                            "replica {} could not activate {} in epoch {}; the next leader will",
                            id,
                            ac.joint(),
                            ac.epoch(),
                            e);
                }
            });
        } catch (RejectedExecutionException closed) {
            // closing
        }
    }

    /**
     * Event thread: stops this replica for good, as {@code role}: {@link Role#FAILED} after a failure, {@link
     * Role#REMOVED} when the configuration no longer includes it.
     */
    private void stop(Throwable reason, Role role) {
        if (!state.compareAndSet(State.STARTED, State.FAILED)) {
            return;
        }
        failure = reason;
        // The status first: whoever sees a request fail also sees why.
        Status s = lastStatus;
        lastStatus = new Status(
                id,
                role,
                s.epoch(),
                "",
                s.commitOffset(),
                applied.get(),
                s.logEndOffset(),
                List.of(),
                String.valueOf(reason),
                s.logStartOffset(),
                s.snapshot(),
                InstallStatus.NONE,
                s.configuration());
        if (role == Role.FAILED) {
            notify(() -> listener.failed(reason));
        }
        leadership.close();
        ticking.stop();
        threads.release();
        transport.close();
        for (Incoming p : proposals.values()) {
            p.future().completeExceptionally(ReplicaFailedException.mayHaveBeenApplied(id, reason));
        }
        proposals.clear();
        for (Awaiting w : awaitingApply.values()) {
            w.future().completeExceptionally(ReplicaFailedException.mayHaveBeenApplied(id, reason));
        }
        awaitingApply.clear();
        failIncoming(ReplicaFailedException.notAccepted(id, reason));
        for (CompletableFuture<Long> f : reads.values()) {
            f.completeExceptionally(ReplicaFailedException.notAccepted(id, reason));
        }
        reads.clear();
        failWaiters(ReplicaFailedException.notAccepted(id, reason));
        failSnapshotRequests(ReplicaFailedException.notAccepted(id, reason));
        eventThread.shutdown();
        syncThread.shutdown();
        applyThread.shutdown();
        snapshotThread.shutdown();
        configurationThread.shutdown();
    }

    private void process(List<Action> actions) {
        // First register the committed proposals, so that the apply thread completes them when it applies the
        // entries that the commit advance in this same batch hands it.
        for (Action a : actions) {
            if (a instanceof Action.ProposalCommitted pc) {
                Incoming p = proposals.remove(pc.proposalId());
                if (p != null) {
                    awaitingApply.put(pc.offset(), new Awaiting(pc.epoch(), p.future(), p.observed()));
                    if (WriteTrace.ENABLED) {
                        WriteTrace.stamp(id, WriteTrace.Point.COMMITTED, pc.offset());
                    }
                }
            }
        }
        boolean roleChanged = false;
        for (Action a : actions) {
            if (a instanceof Action.RoleChanged) {
                roleChanged = true;
            }
            if (a instanceof Action.Send s) {
                transport.send(s.message());
                if (s.message() instanceof Message.Rejected r && r.rejectedEpoch() < r.epoch()) {
                    notify(() -> listener.staleEpochRefused(r.to(), r.rejectedEpoch(), r.epoch()));
                }
            } else if (a instanceof Action.SyncLog) {
                requestSync();
            } else if (a instanceof Action.Apply c) {
                queueApply(c.applyOffset());
            } else if (a instanceof Action.RestoreSnapshot rs) {
                SnapshotMeta meta = rs.snapshot();
                log.info("replica {} installed snapshot {} ({} bytes)", id, meta.id(), meta.sizeBytes());
                queuedForApply = Math.max(queuedForApply, meta.id().offset());
                lastSnapshot = SnapshotStatus.of(Optional.of(meta), System.currentTimeMillis());
                notify(() -> listener.snapshotInstalled(meta.id(), meta.sizeBytes()));
                try {
                    applyThread.execute(() -> restoreInstalled(meta));
                } catch (RejectedExecutionException closed) {
                    // closing
                }
            } else if (a instanceof Action.ProposalFailed pf) {
                Incoming p = proposals.remove(pf.proposalId());
                if (p != null) {
                    p.future().completeExceptionally(failure(pf.failure(), pf.leaderHint()));
                }
            } else if (a instanceof Action.ReadReady rr) {
                CompletableFuture<Long> f = reads.remove(rr.readId());
                if (f != null) {
                    whenApplied(rr.readOffset(), () -> f.complete(rr.readOffset()));
                }
            } else if (a instanceof Action.ReadFailed rf) {
                CompletableFuture<Long> f = reads.remove(rf.readId());
                if (f != null) {
                    f.completeExceptionally(new NotLeaderException(rf.leaderHint(), endpointOf(rf.leaderHint())));
                }
            } else if (a instanceof Action.RoleChanged rc) {
                log.info("replica {} is {} in epoch {} (leader {})", id, rc.role(), rc.epoch(), rc.leader());
                notify(() -> listener.roleChanged(rc.role(), rc.epoch(), rc.leader()));
            } else if (a instanceof Action.Fenced f) {
                fencedBy = Math.max(fencedBy, f.promisedEpoch());
                log.warn(
                        "replica {}: epoch {} is fenced by epoch {}; giving up the term",
                        id,
                        f.epoch(),
                        f.promisedEpoch());
                leadership.stepDown(f.epoch());
                notify(() -> listener.fenced(f.epoch(), f.promisedEpoch()));
            } else if (a instanceof Action.ActivateConfiguration ac) {
                log.info(
                        "replica {}: epoch {} committed its start under {}; activating the change",
                        id,
                        ac.epoch(),
                        ac.joint());
                activate(ac);
            } else if (a instanceof Action.Removed rm) {
                log.warn("replica {} is not in configuration {}: removed, it stops", id, rm.configuration());
                notify(() -> listener.removed(rm.configuration()));
                stop(new RemovedException(id, rm.configuration()), Role.REMOVED);
            } else if (a instanceof Action.LeaderSuspected ls) {
                log.info("replica {} suspects {}, the leader of epoch {}", id, ls.leader(), ls.epoch());
                leadership.suspectLeader(ls.epoch(), ls.leader());
                notify(() -> listener.leaderSuspected(ls.epoch(), ls.leader()));
            } else if (a instanceof Action.SuspicionCleared sc) {
                if (core.epoch() > sc.epoch()) {
                    leadership.clearSupersededSuspicion(sc.epoch());
                } else {
                    leadership.clearSuspicion(sc.epoch());
                }
            } else if (a instanceof Action.QuorumLost q) {
                log.warn(
                        "replica {}: no majority answered within the check-quorum interval; giving up epoch {}",
                        id,
                        q.epoch());
                leadership.stepDown(q.epoch());
                notify(() -> listener.quorumLost(q.epoch()));
            }
        }
        if (roleChanged) {
            refreshStatus(); // at once; otherwise every tick (not after every event: this is the hot path)
        }
        if (!takeOverWaiters.isEmpty()) {
            checkTakeOverWaiters();
        }
    }

    private void notify(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            log.warn("replica listener of {} threw", id, e);
        }
    }

    private ReplicationException failure(Action.Failure failure, String hint) {
        switch (failure) {
            case NOT_LEADER:
                return fencedBy > 0
                        ? new FencedEpochException(core.epoch(), fencedBy, hint, endpointOf(hint))
                        : new NotLeaderException(hint, endpointOf(hint));
            case OVERLOADED:
                return new OverloadedException(id);
            default:
                return new OutcomeUnknownException(
                        "leadership ended before the entry committed", hint, endpointOf(hint));
        }
    }

    /** The endpoint {@code replicaId} registered for clients, or "" (never throws: it runs in failure paths). */
    private String endpointOf(String replicaId) {
        if (replicaId == null || replicaId.isEmpty()) {
            return "";
        }
        try {
            String endpoint = leaderEndpoints.apply(replicaId);
            return endpoint == null ? "" : endpoint;
        } catch (RuntimeException e) {
            log.warn("replica {}: looking up the endpoint of {} failed", id, replicaId, e);
            return "";
        }
    }

    private void requestSync() {
        if (asyncSyncer != null) {
            if (syncRunning) {
                syncWanted = true;
            } else {
                startAsyncSync();
            }
            return;
        }
        // A follower syncs on its event thread, after the events already queued (so one sync covers every append
        // they bring: group commit): it has little else to do meanwhile, and the acknowledgement then leaves
        // without two thread hand-offs (issue 6). A leader keeps appending and sending while its sync thread
        // waits for the disk.
        if (syncOnEventThread || (followerSyncsInline && core.role() == Role.FOLLOWER && !syncRunning)) {
            if (!inlineSyncPosted) {
                inlineSyncPosted = true;
                // Handling a message on the transport's thread: sync there, once, after the messages of this read
                // (their appends share the sync), and answer from there; else after the events already queued.
                if (!(onTransportThread && transport.runAfterDeliveries(this::syncAfterDeliveries))) {
                    post(this::syncInline);
                }
            }
            return;
        }
        if (syncRunning) {
            syncWanted = true;
            return;
        }
        startSync();
    }

    /** On the transport's thread after a read: the follower's sync, here if the event lane is idle. */
    private void syncAfterDeliveries() {
        if (!runHere(this::syncInline, () -> {}, true, 0)) {
            post(this::syncInline);
        }
    }

    private void syncInline() {
        inlineSyncPosted = false;
        if (!syncOnEventThread && (!followerSyncsInline || core.role() != Role.FOLLOWER || syncRunning)) {
            // Became leader (or a sync thread started) since this was posted: the leader's event thread must
            // not wait for the disk; its sync thread does.
            requestSync();
            return;
        }
        try {
            long syncStart = System.nanoTime();
            Synced synced = syncer.sync();
            observeSync(System.nanoTime() - syncStart);
            if (WriteTrace.ENABLED) {
                traceSync(synced, syncStart);
                WriteTrace.stamp(id, WriteTrace.Point.SYNC_HANDLED, synced.endOffset() - 1);
            }
            core.logSynced(synced.endOffset(), synced.epoch(), clock.getAsLong());
        } catch (Exception e) {
            throw new IllegalStateException("sync of replica " + id + " failed", e);
        }
    }

    /** Stamps the last entry a sync covered, for {@link WriteTrace}. */
    private void traceSync(Synced synced, long syncStart) {
        WriteTrace.stamp(id, WriteTrace.Point.SYNC_START, synced.endOffset() - 1, syncStart);
        WriteTrace.stamp(id, WriteTrace.Point.SYNC_END, synced.endOffset() - 1);
    }

    private void startAsyncSync() {
        syncRunning = true;
        syncWanted = false;
        long syncStart = System.nanoTime();
        var unused = asyncSyncer.requestSync().whenComplete((synced, e) -> {
            if (e == null) {
                observeSync(System.nanoTime() - syncStart);
            }
            if (e != null) {
                log.error("sync of replica {} failed; stopping it", id, e);
                post(() -> {
                    throw new IllegalStateException("sync failed", e);
                });
                return;
            }
            Runnable result = () -> {
                syncRunning = false;
                // As in startSync: the epoch tells the core whether the log changed since.
                core.logSynced(synced.endOffset(), synced.epoch(), clock.getAsLong());
                if (syncWanted) {
                    startAsyncSync();
                }
            };
            // On the thread completing the sync (the write-ahead log's completer, which completes one force's
            // results for every partition) if the event lane is idle: no pool task, no wake-up of an event thread
            // per partition and force. Otherwise after the events already queued, as any event.
            if (!runHere(result, () -> {}, false, 0)) {
                post(result);
            }
        });
    }

    private void startSync() {
        syncRunning = true;
        syncWanted = false;
        try {
            syncThread.execute(() -> {
                try {
                    long syncStart = System.nanoTime();
                    Synced synced = syncer.sync();
                    observeSync(System.nanoTime() - syncStart);
                    if (WriteTrace.ENABLED) {
                        traceSync(synced, syncStart);
                    }
                    // On this thread if the event lane is idle: the core learns of the sync without waking it.
                    runHereOrPost(() -> {
                        if (WriteTrace.ENABLED) {
                            WriteTrace.stamp(id, WriteTrace.Point.SYNC_HANDLED, synced.endOffset() - 1);
                        }
                        syncRunning = false;
                        // The epoch is the one the sync saw: if the log was truncated and appended to since, the
                        // entry at endOffset - 1 has another epoch now and the core ignores this result.
                        core.logSynced(synced.endOffset(), synced.epoch(), clock.getAsLong());
                        if (syncWanted) {
                            startSync();
                        }
                    });
                } catch (Exception e) {
                    log.error("sync of replica {} failed; stopping it", id, e);
                    post(() -> {
                        throw new IllegalStateException("sync failed", e);
                    });
                }
            });
        } catch (RejectedExecutionException closed) {
            syncRunning = false;
        }
    }

    private void queueApply(long applyOffset) {
        while (queuedForApply < applyOffset) {
            // Never past the apply offset: uncommitted entries, and entries not durable here, are not applied.
            int max = (int) Math.min(512, applyOffset - queuedForApply);
            List<Entry> batch = replicaLog.read(queuedForApply, max, 4 << 20);
            if (batch.isEmpty()) {
                break;
            }
            queuedForApply += batch.size();
            // A few entries of a state machine that applies quickly: on this thread if the apply lane is idle (the
            // proposal then completes without waking the apply thread).
            if (runHere
                    && batch.size() <= QUICK_APPLY_ENTRIES
                    && applyNanosAverage <= QUICK_APPLY_NANOS
                    && applyThread.runHereIfIdle(() -> applyBatch(batch, true), 0)) {
                continue;
            }
            try {
                applyThread.execute(() -> applyBatch(batch, false));
            } catch (RejectedExecutionException closed) {
                return;
            }
        }
    }

    private void refreshStatus() {
        if (failure != null) {
            return; // the FAILED status stays
        }
        if (held != null) {
            return; // the core's state may rest on a promise not durable yet: published once it is (the release)
        }
        long now = clock.getAsLong();
        List<FollowerStatus> followers = new ArrayList<>();
        for (ReplicaCore.FollowerProgress f : core.followers()) {
            followers.add(new FollowerStatus(
                    f.id(),
                    f.promised(),
                    f.matchOffset(),
                    Math.max(0, core.logEndOffset() - f.matchOffset()),
                    f.lastHeardNanos() == Long.MIN_VALUE ? -1 : (now - f.lastHeardNanos()) / 1_000_000));
        }
        lastStatus = new Status(
                id,
                core.role(),
                core.epoch(),
                core.leader(),
                core.commitOffset(),
                applied.get(),
                core.logEndOffset(),
                followers,
                "",
                core.logStartOffset(),
                lastSnapshot,
                core.installing()
                        .map(i -> new InstallStatus(
                                i.source(),
                                i.snapshot().offset(),
                                i.snapshot().epoch(),
                                i.receivedBytes(),
                                i.sizeBytes()))
                        .orElse(InstallStatus.NONE),
                core.configuration());
    }

    // ---- apply thread ----

    /**
     * Applies {@code batch}; {@code elsewhere} when it runs on another lane's thread (the apply lane was idle), which
     * must not wait for a snapshot's capture: that is then left to the apply thread.
     */
    private void applyBatch(List<Entry> batch, boolean elsewhere) {
        if (applyFailed) {
            return;
        }
        long started = System.nanoTime();
        for (Entry e : batch) {
            if (e.offset() != applied.get()) {
                continue; // already applied (replay)
            }
            if (WriteTrace.ENABLED) {
                WriteTrace.stamp(id, WriteTrace.Point.APPLY_START, e.offset());
            }
            Object result;
            try {
                result = e.isData() ? stateMachine.apply(e.epoch(), e.offset(), e.payload()) : null;
            } catch (RuntimeException | Error ex) {
                // The state machine's state is unknown now: apply nothing more, and stop (fail-stop).
                applyFailed = true;
                log.error(
                        "replica {}: the state machine threw applying the entry at offset {} (epoch {}); stopping"
                                + " the replica",
                        id,
                        e.offset(),
                        e.epoch(),
                        ex);
                IllegalStateException reason = new IllegalStateException(
                        "the state machine threw applying the entry at offset " + e.offset() + " (epoch " + e.epoch()
                                + "): " + ex,
                        ex);
                if (!post(() -> failStop(reason))) {
                    failure = failure == null ? reason : failure;
                }
                return;
            }
            applied.set(e.offset() + 1);
            appliedLastEpoch = e.epoch();
            entriesSinceSnapshot++;
            bytesSinceSnapshot += e.sizeInBytes();
            Awaiting w = awaitingApply.remove(e.offset());
            if (w != null) {
                w.future().complete(new Committed(w.epoch(), e.offset(), result));
                if (WriteTrace.ENABLED) {
                    WriteTrace.stamp(id, WriteTrace.Point.COMPLETED, e.offset());
                }
            }
        }
        runWaiters();
        long nanos = System.nanoTime() - started;
        long average = applyNanosAverage; // written on the apply lane only
        applyNanosAverage = average + (nanos - average) / 8;
        if (!elsewhere) {
            maybeSnapshot();
        } else if (snapshotDue()) {
            try {
                applyThread.execute(this::maybeSnapshot);
            } catch (RejectedExecutionException closed) {
                // closing
            }
        }
    }

    /** Apply lane: whether {@link #maybeSnapshot} has something to do. */
    private boolean snapshotDue() {
        return applyFailed
                || (stateMachine.supportsSnapshots()
                        && !snapshotRunning
                        && (entriesSinceSnapshot >= entriesThreshold
                                || bytesSinceSnapshot >= bytesThreshold
                                || !snapshotRequests.isEmpty()));
    }

    // ---- snapshots (apply thread, then snapshot thread) ----

    /**
     * Takes a snapshot now, whatever the {@link SnapshotPolicy} says: completes with its id once it is durable (or
     * with the newest snapshot's id if nothing was applied since), on the snapshot thread. Fails if the state machine
     * does not support snapshots, the snapshot cannot be written, or the replica closes first.
     */
    public CompletableFuture<SnapshotId> takeSnapshot() {
        CompletableFuture<SnapshotId> f = new CompletableFuture<>();
        if (!stateMachine.supportsSnapshots()) {
            f.completeExceptionally(
                    new UnsupportedOperationException("the state machine of " + id + " does not support snapshots"));
            return f;
        }
        try {
            applyThread.execute(() -> {
                snapshotRequests.add(f);
                maybeSnapshot();
            });
        } catch (RejectedExecutionException closed) {
            f.completeExceptionally(notRunning());
        }
        return f;
    }

    private void failSnapshotRequests(Exception e) {
        List<CompletableFuture<SnapshotId>> left;
        synchronized (snapshotRequests) {
            left = List.copyOf(snapshotRequests);
            snapshotRequests.clear();
        }
        left.forEach(f -> f.completeExceptionally(e));
    }

    /** Draws the thresholds until the next snapshot: each lowered by a random fraction up to the spread. */
    private void drawSnapshotThresholds() {
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        double spread = snapshotPolicy.randomSpread();
        entriesThreshold = Math.max(1, (long) (snapshotPolicy.entries() * (1 - spread * r.nextDouble())));
        bytesThreshold = Math.max(1, (long) (snapshotPolicy.bytes() * (1 - spread * r.nextDouble())));
    }

    /**
     * On the apply thread: if a snapshot is due (a threshold reached, or requested) and none is being written, captures
     * the state machine's state at the applied offset and hands the writing to the snapshot thread, so that applying
     * and the write path go on. The core learns of the snapshot once it is durable, and compacts the log.
     */
    private void maybeSnapshot() {
        if (applyFailed) {
            failSnapshotRequests(new IllegalStateException("replica " + id + " stopped after a failure: " + failure));
            return;
        }
        if (!stateMachine.supportsSnapshots() || snapshotRunning) {
            return;
        }
        boolean due = entriesSinceSnapshot >= entriesThreshold
                || bytesSinceSnapshot >= bytesThreshold
                || !snapshotRequests.isEmpty();
        long offset = applied.get();
        if (!due) {
            return;
        }
        List<CompletableFuture<SnapshotId>> requests;
        synchronized (snapshotRequests) {
            requests = List.copyOf(snapshotRequests);
            snapshotRequests.clear();
        }
        if (offset == 0) {
            requests.forEach(r -> r.completeExceptionally(
                    new IllegalStateException("replica " + id + " has applied nothing yet: no snapshot to take")));
            return;
        }
        SnapshotStatus newest = lastSnapshot;
        if (offset <= newest.offset()) {
            requests.forEach(r -> r.complete(new SnapshotId(newest.offset(), newest.epoch())));
            return;
        }
        entriesSinceSnapshot = 0;
        bytesSinceSnapshot = 0;
        drawSnapshotThresholds();
        SnapshotId snap = new SnapshotId(offset, appliedLastEpoch);
        StateMachine.SnapshotWriter writer;
        try {
            writer = stateMachine.snapshot();
        } catch (RuntimeException e) {
            log.warn("replica {}: the state machine could not capture snapshot {}", id, snap, e);
            requests.forEach(r -> r.completeExceptionally(e));
            return;
        }
        // Entries below the applied offset are committed: the history below it never changes.
        EpochHistory history = replicaLog.epochHistory().truncatedTo(offset);
        snapshotRunning = true;
        long started = System.nanoTime();
        try {
            snapshotThread.execute(() -> writeSnapshot(snap, history, writer, started, requests));
        } catch (RejectedExecutionException closed) {
            snapshotRunning = false;
            requests.forEach(r -> r.completeExceptionally(notRunning()));
        }
    }

    /** On the snapshot thread: writes the captured state durably, then tells the core and the waiting callers. */
    private void writeSnapshot(
            SnapshotId snap,
            EpochHistory history,
            StateMachine.SnapshotWriter writer,
            long started,
            List<CompletableFuture<SnapshotId>> requests) {
        try {
            SnapshotMeta meta = snapshots.write(snap, history, members, writer::writeTo);
            long nanos = System.nanoTime() - started;
            log.info("replica {} took snapshot {} ({} bytes) in {} ms", id, snap, meta.sizeBytes(), nanos / 1_000_000);
            post(() -> {
                lastSnapshot = SnapshotStatus.of(Optional.of(meta), System.currentTimeMillis());
                core.snapshotTaken(meta, clock.getAsLong());
                notify(() -> listener.snapshotTaken(meta.id(), meta.sizeBytes(), nanos));
            });
            requests.forEach(r -> r.complete(snap));
        } catch (IOException | RuntimeException e) {
            log.warn("replica {} could not write snapshot {}; keeping the previous one", id, snap, e);
            requests.forEach(r -> r.completeExceptionally(e));
        } finally {
            try {
                applyThread.execute(() -> {
                    snapshotRunning = false;
                    if (!snapshotRequests.isEmpty()) {
                        maybeSnapshot();
                    }
                });
            } catch (RejectedExecutionException closed) {
                // closing
            }
        }
    }

    /** On the apply thread: replaces the state machine's state with an installed snapshot's. */
    private void restoreInstalled(SnapshotMeta meta) {
        if (applyFailed) {
            return;
        }
        SnapshotId snap = meta.id();
        try (InputStream in = snapshots.openState(snap)) {
            stateMachine.restore(snap.offset(), in);
            in.transferTo(java.io.OutputStream.nullOutputStream()); // to the end: the stream checks the CRC there
        } catch (IOException | RuntimeException | Error e) {
            applyFailed = true;
            log.error("replica {}: restoring installed snapshot {} failed; stopping the replica", id, snap, e);
            IllegalStateException reason =
                    new IllegalStateException("restoring installed snapshot " + snap + " failed: " + e, e);
            if (!post(() -> failStop(reason))) {
                failure = failure == null ? reason : failure;
            }
            return;
        }
        applied.set(snap.offset());
        appliedLastEpoch = snap.epoch();
        entriesSinceSnapshot = 0;
        bytesSinceSnapshot = 0;
        runWaiters();
    }

    private void whenApplied(long offset, Runnable r) {
        try {
            applyThread.execute(() -> {
                if (applied.get() >= offset) {
                    r.run();
                } else {
                    appliedWaiters
                            .computeIfAbsent(offset, k -> new ArrayList<>())
                            .add(r);
                }
            });
        } catch (RejectedExecutionException closed) {
            // closing
        }
    }

    private void runWaiters() {
        long a = applied.get();
        while (!appliedWaiters.isEmpty() && appliedWaiters.firstKey() <= a) {
            for (Runnable r : appliedWaiters.pollFirstEntry().getValue()) {
                r.run();
            }
        }
    }

    @Override
    public String toString() {
        return "Replica{" + lastStatus + "}";
    }
}
