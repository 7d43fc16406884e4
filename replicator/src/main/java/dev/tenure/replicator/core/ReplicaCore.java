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
package dev.tenure.replicator.core;

import dev.tenure.replicator.core.Action.Failure;
import dev.tenure.replicator.core.Message.Append;
import dev.tenure.replicator.core.Message.AppendAck;
import dev.tenure.replicator.core.Message.AppendReject;
import dev.tenure.replicator.core.Message.EpochAck;
import dev.tenure.replicator.core.Message.Fetch;
import dev.tenure.replicator.core.Message.FetchResponse;
import dev.tenure.replicator.core.Message.FetchSnapshot;
import dev.tenure.replicator.core.Message.InstallSnapshot;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.core.Message.Rejected;
import dev.tenure.replicator.core.Message.SnapshotChunk;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The replication protocol of one replica, as a state machine without IO: the driver feeds it events
 * (elected, revoked, message received, log synced, proposal, read barrier, tick) and executes the {@link
 * Action}s it returns from {@link #takeActions()}, in order. It never reads a clock or touches a socket;
 * the log and the promise store are behind {@link ReplicaLog} and {@link PromiseStore}.
 *
 * <p>The protocol (see {@code docs/replication.md}):
 *
 * <ol>
 *   <li>An elected replica with epoch e stores the promise (e, itself) and sends NewEpoch(e). A follower
 *       stores the promise durably, syncs its log and answers EpochAck(history, log end); from then on it
 *       refuses every message of a lower epoch, and messages of e from anyone else.
 *   <li>With promises from a majority (itself included), the leader adopts the most up-to-date log among
 *       them (highest last epoch, then longest): it truncates its own log where it diverges from that log
 *       and fetches the rest.
 *   <li>It appends an epoch-start entry and replicates: each follower's log is matched by comparing epoch
 *       histories; conflicting entries are truncated (never below the commit offset).
 *   <li>An offset is committed when a majority, the leader included, has it durably and the entry before
 *       it is of the current epoch. Proposals complete only then; entries of earlier epochs commit only
 *       through an entry of the current epoch.
 *   <li>A leader that is revoked or sees a higher epoch steps down at once: proposals already in its log
 *       fail as {@link Failure#OUTCOME_UNKNOWN}, never as a definite failure.
 * </ol>
 *
 * <p>Not thread-safe: one event thread drives a core.
 */
public final class ReplicaCore {
    /**
     * Unacknowledged bytes per follower, in batches of {@link CoreConfig#maxBatchBytes()}: 2 (2 MiB by default),
     * so that a transport buffering a few MiB per peer never has to drop an append.
     */
    static final int INFLIGHT_BATCHES_OF_BYTES = 2;

    private final CoreConfig cfg;

    /** Deliberately broken variants, for the simulation tests that show the invariants catch them. */
    enum Defect {
        NONE,
        /**
         * A node-level hearing of the leader's node is news however old (as before the fix of rule 1 of fast
         * failover): the node's last hearing of a dead leader's node, reported at every tick, withdraws the suspicion.
         */
        OLD_NODE_HEARING_IS_NEWS
    }

    private Defect defect = Defect.NONE;
    private final ReplicaLog log;
    private final PromiseStore promises;
    private final SnapshotStore snapshots;
    private final List<Action> out = new ArrayList<>();
    /** The snapshot being received from another replica, or null. */
    private Install install;

    private Promise promise;
    /** The newest configuration this replica was given: who may send to it. */
    private Configuration config;
    /** The configuration of this replica's term while RECOVERING or LEADER: whose majorities count. */
    private Configuration termConfig;
    /** Whether this term asked for its joint configuration to be activated. */
    private boolean activationAsked;
    /** Whether this replica learnt that it was removed; it then refuses everything. */
    private boolean removed;

    private Role role = Role.FOLLOWER;
    private long now;
    /**
     * The log is durable, and equal to the in-memory log, below this offset. 0 at construction: what the log
     * holds at start-up counts only once a sync has reported it (see the constructor).
     */
    private long durableEnd;
    /** When this replica last started leading (for the check-quorum grace period). */
    private long leadingSince;
    /** When this replica, recovering, last made progress: its election, a promise, a fetched batch. */
    private long recoveryProgressAt;

    private long commit;
    /** The highest apply offset handed to the driver: min(commit, durableEnd) when it was last raised. */
    private long applyOffset;

    // Follower state.
    /** Entries below this offset match the promised leader's log (verified by its appends). */
    private long ackableEnd;

    private long lastAckedMatch = -1;
    private long lastProbe;
    private boolean epochAckPending;

    // Leader state (RECOVERING or LEADER).
    private long leaderEpoch;
    private Map<String, Progress> progress = Map.of();
    private String best;
    private long fetchTarget;
    private long lastFetchSent;
    private boolean fetched;
    private long epochStartOffset = -1;
    /** This leader's uncommitted proposals, in offset order (appended in that order, committed from the head). */
    private final Deque<Pending> pending = new ArrayDeque<>();

    private final Deque<Proposal> queued = new ArrayDeque<>();
    /** Scratch space for the commit rule: each replica's durable match. */
    private final Map<String, Long> matchScratch = new java.util.HashMap<>();

    private long probeSeq;
    private final List<Read> reads = new ArrayList<>();
    /** The probe of the heartbeat that tells every follower the commit offset {@link #quietCommit}; -1 if none. */
    private long quietProbe = -1;
    /** The commit offset the leader went quiet at ({@link CoreConfig#quiesce()}); -1 if it is not quiet. */
    private long quietCommit = -1;
    /** When the commit offset last moved: a leader goes quiet only a heartbeat interval after that. */
    private long committedAt;
    // Fast failover (follower side): see docs/replication.md, "Fast failover".
    /** When this replica last heard from the leader of its promised epoch (or promised it). */
    private long leaderHeardAt;
    /** When this replica promised its current epoch (or started). */
    private long promisedAt;
    /** The epoch whose leader this replica reported suspected, or 0. */
    private long suspectedEpoch;
    /** The transport found the promised leader's port closed since it was last heard from. */
    private boolean leaderRefused;
    /** When the transport last found the promised leader's port closed. */
    private long leaderRefusedAt;

    /**
     * A proposal for {@link #proposeAll}: the driver's request id and the payload.
     *
     * @param id the driver's request id, echoed in {@link Action.ProposalCommitted} or {@link
     *     Action.ProposalFailed}
     * @param payload the entry's payload; must not be modified afterwards
     */
    // Never compared: the core reads its fields only.
    @SuppressWarnings("ArrayRecordComponent")
    public record Proposal(long id, byte[] payload) {}

    private record Pending(long offset, long id) {}

    private record Read(long id, long probe) {}

    /** A snapshot being received: from whom, in which epoch, which one, how far. */
    private static final class Install {
        final String source;
        final long epoch;
        final SnapshotId id;
        final long size;
        /** Bytes received and written: the position the next accepted chunk must start at. */
        long position;
        /** End of the bytes requested so far; {@code requested - position} bytes are in flight. */
        long requested;
        /** Size of each chunk asked for: {@code maxBatchBytes}, or less if the source serves less. */
        long chunk;

        long lastRequest;

        Install(String source, long epoch, SnapshotId id, long size) {
            this.source = source;
            this.epoch = epoch;
            this.id = id;
            this.size = size;
        }
    }

    /** What the leader knows of one follower. */
    private static final class Progress {
        final String id;
        boolean promised;
        EpochHistory history = EpochHistory.empty();
        long reportedEnd;
        long next;
        long match;
        long probeAcked;
        long lastNewEpochSent;
        long lastSnapshotOffer = Long.MIN_VALUE;
        long lastSent;
        long lastProgress;
        long lastHeard = Long.MIN_VALUE;
        /** Unacknowledged append messages: the end offset of each and its payload bytes. */
        final Deque<long[]> inflight = new ArrayDeque<>();

        long inflightBytes;

        void clearInflight() {
            inflight.clear();
            inflightBytes = 0;
        }

        Progress(String id) {
            this.id = id;
        }
    }

    /**
     * The leader's replication progress with one follower, in the core's own terms (offsets, the driver's clock);
     * {@code Replica.FollowerStatus} is what the API reports from it.
     *
     * @param lastHeardNanos when the follower last answered, on the driver's clock; {@link Long#MIN_VALUE} if never
     */
    public record FollowerProgress(
            String id, boolean promised, long matchOffset, long nextOffset, long lastHeardNanos) {}

    /** A core without snapshots: see {@link #ReplicaCore(CoreConfig, ReplicaLog, PromiseStore, SnapshotStore, long)}. */
    public ReplicaCore(CoreConfig cfg, ReplicaLog log, PromiseStore promises, long nowNanos) {
        this(cfg, log, promises, SnapshotStore.NONE, nowNanos);
    }

    /**
     * Nothing the log holds at construction counts as durable: after a process crash the page cache still holds
     * bytes that were never forced, and a recovered log may read them back. The core asks for a sync at once
     * ({@link Action.SyncLog}, in the first {@link #takeActions()}) and acknowledges, reports or applies the
     * recovered entries only once {@link #logSynced} has reported them (docs/replication.md, "What is durable at
     * start-up"; ReplicaCoreDurabilityTest).
     *
     * <p>With a snapshot, the log is made to continue it: a log that does not hold the snapshot's last entry (it
     * ends before it, or holds another epoch there: a crash during an install, or an uncommitted divergent suffix) is
     * reset to start at the snapshot. The snapshot's entries are committed, so the commit and apply offsets start at
     * its offset; the driver restores the state machine from it before the core runs.
     *
     * @param cfg settings
     * @param log the replica's log as recovered from disk
     * @param promises the replica's promise store; {@link PromiseStore#load()} must return a durable promise
     * @param snapshots the replica's snapshots, as recovered from disk ({@link SnapshotStore#NONE} for none)
     * @param nowNanos the driver's clock
     * @throws IllegalStateException if the log starts after the newest snapshot (entries between them are lost)
     */
    public ReplicaCore(CoreConfig cfg, ReplicaLog log, PromiseStore promises, SnapshotStore snapshots, long nowNanos) {
        this.cfg = cfg;
        this.log = log;
        this.promises = promises;
        this.snapshots = snapshots;
        this.now = nowNanos;
        this.committedAt = nowNanos;
        this.leaderHeardAt = nowNanos;
        this.promisedAt = nowNanos;
        this.config = Configuration.initial(cfg.members());
        this.termConfig = config;
        try {
            this.promise = promises.load();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the promise of replica " + cfg.self(), e);
        }
        Optional<SnapshotMeta> latest = snapshots.latest();
        long snapshotEnd = latest.map(m -> m.id().offset()).orElse(0L);
        if (log.logStartOffset() > snapshotEnd) {
            throw new IllegalStateException("replica " + cfg.self() + ": the log starts at " + log.logStartOffset()
                    + " but the newest usable snapshot ends at " + snapshotEnd
                    + ": the entries between them are gone. Remove the replica's data directory to rejoin by a"
                    + " snapshot install from the leader");
        }
        if (latest.isPresent() && !holdsLastEntryOf(latest.get().id())) {
            log.resetTo(snapshotEnd, latest.get().history());
        }
        this.commit = snapshotEnd;
        this.applyOffset = snapshotEnd;
        this.durableEnd = 0;
        if (log.logEndOffset() > 0) {
            out.add(new Action.SyncLog());
        }
    }

    // ---- queries ----

    /** This replica's role in its current epoch. */
    public Role role() {
        return role;
    }

    /** The newest configuration this replica was given. */
    public Configuration configuration() {
        return config;
    }

    /** The configuration whose majorities this replica's term counts; its newest configuration when not leading. */
    public Configuration termConfiguration() {
        return role == Role.FOLLOWER ? config : termConfig;
    }

    /** The promised epoch (the current epoch as this replica knows it). */
    public long epoch() {
        return promise.epoch();
    }

    /** The current leader as this replica knows it (itself when leading), or "" if unknown. */
    public String leader() {
        return promise.leader();
    }

    /** The commit offset as this replica knows it. */
    public long commitOffset() {
        return commit;
    }

    /** The log's end offset: the offset of the next entry. */
    public long logEndOffset() {
        return log.logEndOffset();
    }

    /** The end of the log known to be durable, from the last sync reported. */
    public long durableOffset() {
        return durableEnd;
    }

    /** The first offset the log holds (entries below it are in the snapshot). */
    public long logStartOffset() {
        return log.logStartOffset();
    }

    /** The snapshot being installed from another replica and how many of its bytes arrived, if any. */
    public Optional<InstallProgress> installing() {
        return install == null
                ? Optional.empty()
                : Optional.of(new InstallProgress(install.source, install.id, install.position, install.size));
    }

    /** A snapshot install in progress: from which replica, which snapshot, bytes received of its size. */
    public record InstallProgress(String source, SnapshotId snapshot, long receivedBytes, long sizeBytes) {}

    /** Entries below this offset may be applied: committed, and durable here. */
    public long applyOffset() {
        return applyOffset;
    }

    /** The first offset of this leader's epoch, or -1 when not leading. */
    public long epochStartOffset() {
        return role == Role.LEADER ? epochStartOffset : -1;
    }

    /** Per-follower progress when leading; empty otherwise. */
    public List<FollowerProgress> followers() {
        List<FollowerProgress> list = new ArrayList<>();
        for (Progress p : progress.values()) {
            list.add(new FollowerProgress(p.id, p.promised, p.match, p.next, p.lastHeard));
        }
        return list;
    }

    /** Returns and clears the actions produced so far. */
    public List<Action> takeActions() {
        if (out.isEmpty()) {
            return List.of();
        }
        List<Action> a = new ArrayList<>(out);
        out.clear();
        return a;
    }

    // ---- events ----

    /**
     * The election made this replica leader of {@code epoch}, under {@code configuration}: the configuration the
     * driver read from the configuration master after {@code epoch} was minted (so no change of the voters came
     * between them; every such change mints an epoch).
     */
    public void becomeLeader(long epoch, Configuration configuration, long nowNanos) {
        configure(configuration, nowNanos);
        becomeLeader(epoch, nowNanos);
    }

    /** The election made this replica leader of {@code epoch}, under the newest configuration it was given. */
    public void becomeLeader(long epoch, long nowNanos) {
        now = nowNanos;
        if (removed || !config.counts(cfg.self())) {
            // Not a voter: a learner or a removed replica never leads. Give the term up.
            out.add(new Action.QuorumLost(epoch));
            return;
        }
        if (epoch <= promise.epoch()) {
            // Another leader's epoch is already promised here: this term is stale.
            out.add(new Action.Fenced(epoch, promise.epoch()));
            return;
        }
        if (role != Role.FOLLOWER) {
            stepDown(promise.leader());
        }
        storePromise(new Promise(epoch, cfg.self()));
        abortInstall(); // an install belongs to the epoch it began in
        role = Role.RECOVERING;
        leaderEpoch = epoch;
        recoveryProgressAt = now;
        best = null;
        fetched = false;
        epochStartOffset = -1;
        epochAckPending = false;
        termConfig = config;
        activationAsked = false;
        Map<String, Progress> p = new LinkedHashMap<>();
        for (String m : termConfig.members()) {
            if (!m.equals(cfg.self())) {
                p.put(m, new Progress(m));
            }
        }
        progress = p;
        out.add(new Action.RoleChanged(Role.RECOVERING, epoch, cfg.self()));
        for (Progress f : progress.values()) {
            sendNewEpoch(f);
        }
        if (durableEnd < log.logEndOffset()) {
            out.add(new Action.SyncLog());
        }
        maybeFinishRecovery();
    }

    /**
     * The configuration master holds {@code next} (a newer version than this replica's newest, or ignored). From
     * now on only its members may send to this replica. A leader whose term configuration it changes only in the
     * learners, or activates, takes it over: it starts replicating to new learners, stops sending to replicas no
     * longer members, and counts the new voters only. Any other change of the voters was minted with a newer epoch
     * that fences this term: the leader steps down now rather than when the election tells it. A configuration
     * without this replica removes it ({@link Action.Removed}).
     */
    public void configure(Configuration next, long nowNanos) {
        now = nowNanos;
        if (removed || next.version() <= config.version()) {
            return;
        }
        config = next;
        if (role != Role.FOLLOWER) {
            if (termConfig.sameQuorumsOrActivated(next)) {
                retune(next);
            } else {
                stepDown(""); // the change minted a newer epoch: the election revokes this term too
            }
        }
        if (!next.contains(cfg.self())) {
            if (role != Role.FOLLOWER) {
                stepDown("");
            }
            removed = true;
            abortInstall();
            clearStaleSuspicion();
            out.add(new Action.Removed(next));
        }
    }

    /** Takes over {@code next} as this term's configuration: same quorums, or this change activated. */
    private void retune(Configuration next) {
        termConfig = next;
        Map<String, Progress> p = new LinkedHashMap<>();
        for (String m : next.members()) {
            if (m.equals(cfg.self())) {
                continue;
            }
            Progress known = progress.get(m);
            if (known != null) {
                p.put(m, known);
            } else {
                Progress added = new Progress(m);
                p.put(m, added);
                sendNewEpoch(added);
            }
        }
        progress = p;
        if (role == Role.LEADER) {
            advanceCommit();
            checkReads();
        } else {
            maybeFinishRecovery();
        }
    }

    /** The election revoked this replica's term of {@code epoch}. */
    public void resign(long epoch, long nowNanos) {
        now = nowNanos;
        if (role != Role.FOLLOWER && leaderEpoch == epoch) {
            stepDown("");
        }
    }

    /** The log is durable up to {@code offset}, whose last entry (at {@code offset - 1}) has {@code epoch}. */
    public void logSynced(long offset, long epoch, long nowNanos) {
        now = nowNanos;
        if (offset > log.logEndOffset() || (offset > 0 && log.epochAt(offset - 1) != epoch)) {
            return; // the log was truncated after the sync began; a later sync will report
        }
        if (offset <= durableEnd) {
            return;
        }
        durableEnd = offset;
        raiseApplyOffset();
        switch (role) {
            case FOLLOWER:
                if (epochAckPending && durableEnd >= log.logEndOffset()) {
                    epochAckPending = false;
                    sendEpochAck();
                }
                sendAppendAck();
                break;
            case RECOVERING:
                maybeFinishRecovery();
                break;
            case LEADER:
                advanceCommit();
                break;
            default:
                throw new IllegalStateException();
        }
    }

    /** Proposes a payload; the outcome arrives as {@link Action.ProposalCommitted} or {@link Action.ProposalFailed}. */
    public void propose(long id, byte[] payload, long nowNanos) {
        proposeAll(List.of(new Proposal(id, payload)), nowNanos);
    }

    /**
     * Proposes several payloads at once, in list order: a leader appends them to its log in one append, asks
     * for one sync and sends them to each follower in the same messages (group commit and batching). Each
     * outcome arrives as {@link Action.ProposalCommitted} or {@link Action.ProposalFailed}, as if each had been
     * proposed alone in this order; proposals beyond the pending limit fail as overloaded.
     */
    public void proposeAll(List<Proposal> proposals, long nowNanos) {
        now = nowNanos;
        if (role == Role.FOLLOWER) {
            for (Proposal p : proposals) {
                out.add(new Action.ProposalFailed(p.id(), Failure.NOT_LEADER, promise.leader()));
            }
            return;
        }
        List<Entry> entries = role == Role.LEADER ? new ArrayList<>(proposals.size()) : List.of();
        long offset = log.logEndOffset();
        for (Proposal p : proposals) {
            if (pending.size() + queued.size() >= cfg.maxPendingProposals()) {
                out.add(new Action.ProposalFailed(p.id(), Failure.OVERLOADED, cfg.self()));
            } else if (role == Role.RECOVERING) {
                queued.add(p);
            } else {
                entries.add(Entry.data(leaderEpoch, offset, p.payload()));
                pending.add(new Pending(offset, p.id()));
                offset++;
            }
        }
        if (entries.isEmpty()) {
            return;
        }
        log.append(entries);
        out.add(new Action.SyncLog());
        replicateAll();
    }

    /**
     * Asks for a linearizable read: answered with {@link Action.ReadReady} once a majority confirmed this
     * leader's epoch after the request and the epoch's first entry is committed.
     */
    public void readBarrier(long id, long nowNanos) {
        now = nowNanos;
        if (role != Role.LEADER) {
            out.add(new Action.ReadFailed(id, Failure.NOT_LEADER, role == Role.FOLLOWER ? promise.leader() : ""));
            return;
        }
        probeSeq++;
        reads.add(new Read(id, probeSeq));
        for (Progress p : progress.values()) {
            if (p.promised) {
                sendAppend(p, p.match, List.of());
            }
        }
        checkReads();
    }

    /** Runs this core with {@code d}: for the simulation's tests of its invariants only. */
    void defect(Defect d) {
        this.defect = d;
    }

    /** Time passes: resend what went unanswered and send heartbeats. */
    public void tick(long nowNanos) {
        now = nowNanos;
        if (install != null && now - install.lastRequest >= cfg.retryNanos()) {
            install.requested = install.position; // a request or its answer was lost: ask again from here
            sendFetchSnapshot();
        }
        if (role == Role.FOLLOWER) {
            maybeSuspectLeader();
            return;
        }
        if ((role == Role.LEADER && quorumLost()) || (role == Role.RECOVERING && recoveryStalled())) {
            out.add(new Action.QuorumLost(leaderEpoch));
            stepDown(null);
            return;
        }
        boolean settled = settled();
        boolean quieting = false;
        if (!settled) {
            quietCommit = -1;
        } else if (quietCommit != commit && now - committedAt >= cfg.heartbeatNanos()) {
            // Idle for a heartbeat interval: one last heartbeat, with a probe of its own, tells every follower the
            // commit offset. (Not sooner: a partition with one write in flight after another is settled between
            // them, and going quiet each time would cost two more messages per follower and write.)
            quietCommit = commit;
            quietProbe = ++probeSeq;
            quieting = true;
        }
        for (Progress p : progress.values()) {
            if (!p.promised) {
                if (now - p.lastNewEpochSent >= cfg.retryNanos()) {
                    sendNewEpoch(p);
                }
            } else if (role == Role.LEADER) {
                // Quiet: this follower holds everything and answered the heartbeat that told it the commit offset.
                boolean quiet = settled && !quieting && p.probeAcked >= quietProbe;
                if (p.next < log.logStartOffset()) {
                    replicate(p); // a snapshot offer, repeated while the follower has not installed it
                } else if (p.next > p.match && now - p.lastProgress >= cfg.retryNanos()) {
                    p.next = p.match; // resend everything unacknowledged
                    p.clearInflight();
                    p.lastProgress = now;
                    replicate(p);
                }
                if (!quiet && (quieting || now - p.lastSent >= cfg.heartbeatNanos())) {
                    sendAppend(p, p.match, List.of());
                }
            }
        }
        if (role == Role.RECOVERING && best != null && !fetched && now - lastFetchSent >= cfg.retryNanos()) {
            sendFetch();
        }
    }

    /**
     * The driver heard from replica {@code id} by other means than this log's messages: a node that hosts many
     * partitions hears one heartbeat per node pair for all of them. Counts for check-quorum as an answer from a
     * quiet follower would ({@link CoreConfig#quiesce()}); only a promised follower's is noted, and never moves its
     * last answer back. {@code heardAtNanos} is on the driver's clock; {@link Long#MIN_VALUE} means never.
     */
    public void heard(String id, long heardAtNanos) {
        if (role == Role.FOLLOWER && heardAtNanos != Long.MIN_VALUE && id.equals(promise.leader())) {
            // A quiet leader's node is alive: its partition's leader counts as heard (fast failover).
            heardFromLeader(heardAtNanos, false);
        }
        Progress p = progress.get(id);
        if (role == Role.LEADER && p != null && p.promised && heardAtNanos != Long.MIN_VALUE) {
            p.lastHeard = Math.max(p.lastHeard, heardAtNanos);
        }
    }

    /**
     * Whether this replica has nothing timed to do, so that a driver may tick it seldom (about once per
     * check-quorum interval's tenth) instead of every few milliseconds: a follower that installs no snapshot, or a
     * leader that went quiet ({@link CoreConfig#quiesce()}) with every follower acknowledging. Anything new — a
     * proposal, a read, a message that changes the state — makes it false until the replica is idle again.
     */
    public boolean quiescent() {
        if (install != null) {
            return false;
        }
        if (role == Role.FOLLOWER) {
            return true;
        }
        if (role != Role.LEADER || !settled() || quietCommit != commit) {
            return false;
        }
        for (Progress p : progress.values()) {
            if (!p.promised || p.probeAcked < quietProbe) {
                return false;
            }
        }
        return true;
    }

    /**
     * A leader with quiescence on, nothing pending, every entry committed, and every follower promised and matching
     * the whole log with nothing in flight.
     */
    private boolean settled() {
        if (!cfg.quiesce() || role != Role.LEADER) {
            return false;
        }
        long end = log.logEndOffset();
        if (!pending.isEmpty() || !queued.isEmpty() || !reads.isEmpty() || commit != end || durableEnd != end) {
            return false;
        }
        for (Progress p : progress.values()) {
            if (!p.promised || p.match != end || p.next != end) {
                return false;
            }
        }
        return true;
    }

    /**
     * The driver wrote a snapshot of the state machine ({@code snapshot}, now {@link SnapshotStore#latest()}):
     * compact the log below it, keeping the catch-up tail ({@link CoreConfig#catchUpTailEntries()}) and every entry
     * from the oldest snapshot kept (the fallback if the newest is found corrupt at a restart).
     */
    public void snapshotTaken(SnapshotMeta snapshot, long nowNanos) {
        now = nowNanos;
        long newStart = Math.max(0, snapshot.id().offset() - cfg.catchUpTailEntries());
        Optional<SnapshotMeta> oldest = snapshots.oldestKept();
        if (oldest.isPresent()) {
            newStart = Math.min(newStart, oldest.get().id().offset());
        }
        // A snapshot holds applied entries only, and those are committed and durable here: never past them.
        newStart = Math.min(newStart, Math.min(applyOffset, durableEnd));
        if (newStart > log.logStartOffset()) {
            log.compact(newStart);
        }
    }

    /** A message arrived. Malformed messages are ignored. */
    public void receive(Message m, long nowNanos) {
        now = nowNanos;
        if (removed
                || !m.to().equals(cfg.self())
                || !(config.contains(m.from()) || (role != Role.FOLLOWER && termConfig.contains(m.from())))
                || m.from().equals(cfg.self())) {
            return;
        }
        if (role != Role.FOLLOWER && m.epoch() > leaderEpoch && !(m instanceof Rejected)) {
            // A newer epoch exists: stop acting as leader at once.
            out.add(new Action.Fenced(leaderEpoch, m.epoch()));
            stepDown(m.from());
        }
        if (m instanceof NewEpoch) {
            onNewEpoch((NewEpoch) m);
        } else if (m instanceof EpochAck) {
            onEpochAck((EpochAck) m);
        } else if (m instanceof Rejected) {
            onRejected((Rejected) m);
        } else if (m instanceof Fetch) {
            onFetch((Fetch) m);
        } else if (m instanceof FetchResponse) {
            onFetchResponse((FetchResponse) m);
        } else if (m instanceof Append) {
            onAppend((Append) m);
        } else if (m instanceof AppendAck) {
            onAppendAck((AppendAck) m);
        } else if (m instanceof AppendReject) {
            onAppendReject((AppendReject) m);
        } else if (m instanceof InstallSnapshot) {
            onInstallSnapshot((InstallSnapshot) m);
        } else if (m instanceof FetchSnapshot) {
            onFetchSnapshot((FetchSnapshot) m);
        } else if (m instanceof SnapshotChunk) {
            onSnapshotChunk((SnapshotChunk) m);
        }
        if (role == Role.FOLLOWER && fromPromisedLeader(m)) {
            heardFromLeader(now, true);
        }
    }

    /**
     * The driver's transport found the port of replica {@code id} closed (a connection to it was refused: the process
     * is gone on a live host). If it is the leader this replica promised, the leader may be suspected at once, without
     * waiting out the suspicion timeout (still not before the minimum term). Hearing from the leader again withdraws
     * the hint.
     */
    public void connectionRefused(String id, long nowNanos) {
        now = nowNanos;
        if (role == Role.FOLLOWER && id.equals(promise.leader()) && !id.equals(cfg.self())) {
            leaderRefused = true;
            leaderRefusedAt = nowNanos;
            maybeSuspectLeader();
        }
    }

    /**
     * The leader of the promised epoch was heard from at {@code at}: a message of this log ({@code message}), always
     * news, or the node's last hearing of the leader's node ({@link #heard}), news only if later than anything heard
     * from the leader before and than the refusal of its port, if there was one. News withdraws any suspicion of the
     * leader. The node's last hearing of a dead node is reported again at every tick, and may be later than this
     * log's last message from it (another partition's message, a ping) yet earlier than the refusal: withdrawing on
     * it would make the suspicion flap (withdrawn at one tick, suspected again at the next or after another timeout),
     * and every flap is two ZooKeeper writes per partition, with a quorum of suspicions never standing long enough
     * to depose.
     */
    private void heardFromLeader(long at, boolean message) {
        if (!message
                && defect != Defect.OLD_NODE_HEARING_IS_NEWS
                && (at <= leaderHeardAt || (leaderRefused && at <= leaderRefusedAt))) {
            leaderHeardAt = Math.max(leaderHeardAt, at);
            return;
        }
        leaderHeardAt = Math.max(leaderHeardAt, at);
        leaderRefused = false;
        if (suspectedEpoch != 0 && suspectedEpoch == promise.epoch()) {
            out.add(new Action.SuspicionCleared(suspectedEpoch));
            suspectedEpoch = 0;
        }
    }

    /**
     * A follower suspects the leader of its promised epoch once it has heard nothing from it for the suspicion timeout
     * (or its port was found closed), the term has lasted the minimum term, and this replica is a voter: learners never
     * count. Reported once per epoch; the driver counts suspicions and deposes (docs/replication.md, "Fast failover").
     * A replica holding only a floor (the latest epoch, read at start, with no leader known) suspects that epoch's
     * unknown leader the same way: it restarted after that leader was elected and has never heard from it, so it has
     * lost the leader as surely as a follower that stopped hearing it (reported with an empty leader).
     */
    private void maybeSuspectLeader() {
        long timeout = cfg.suspicionNanos();
        String leader = promise.leader();
        if (timeout == 0
                || removed
                || role != Role.FOLLOWER
                || promise.epoch() <= 0
                || suspectedEpoch == promise.epoch()
                || leader.equals(cfg.self())
                || !config.counts(cfg.self())
                || now - promisedAt < cfg.minimumTermNanos()) {
            return;
        }
        if (leaderRefused || now - leaderHeardAt >= timeout) {
            suspectedEpoch = promise.epoch();
            out.add(new Action.LeaderSuspected(promise.epoch(), leader));
        }
    }

    /** Withdraws a suspicion reported for an epoch other than the one now promised, or on removal. */
    private void clearStaleSuspicion() {
        if (suspectedEpoch != 0 && (removed || suspectedEpoch != promise.epoch())) {
            out.add(new Action.SuspicionCleared(suspectedEpoch));
            suspectedEpoch = 0;
        }
    }

    // ---- follower side ----

    private boolean fromPromisedLeader(Message m) {
        return m.epoch() == promise.epoch() && m.from().equals(promise.leader());
    }

    private void onNewEpoch(NewEpoch m) {
        // A promise without a leader is a floor ("nothing below this epoch"), stored by a replica that lost its state:
        // the election gives each epoch to one leader, so the first NewEpoch of that epoch comes from its leader.
        boolean floor = m.epoch() == promise.epoch() && promise.leader().isEmpty() && role == Role.FOLLOWER;
        if (m.epoch() > promise.epoch() || floor) {
            if (role != Role.FOLLOWER) {
                out.add(new Action.Fenced(leaderEpoch, m.epoch()));
                stepDown(m.from());
            }
            storePromise(new Promise(m.epoch(), m.from()));
            abortInstall(); // a leader change restarts an install under the new epoch
            ackableEnd = 0;
            lastAckedMatch = -1;
            lastProbe = 0;
            out.add(new Action.RoleChanged(Role.FOLLOWER, m.epoch(), m.from()));
        }
        if (!fromPromisedLeader(m)) {
            sendRejected(m);
            return;
        }
        if (durableEnd >= log.logEndOffset()) {
            sendEpochAck();
        } else {
            // The ack reports the log; only a durable log may be reported, or a crash could lose what the new
            // leader counted on.
            epochAckPending = true;
            out.add(new Action.SyncLog());
        }
    }

    private void sendEpochAck() {
        send(new EpochAck(cfg.self(), promise.leader(), promise.epoch(), log.epochHistory(), log.logEndOffset()));
    }

    private void onFetch(Fetch m) {
        if (!fromPromisedLeader(m) || role != Role.FOLLOWER) {
            sendRejected(m);
            return;
        }
        if (m.fromOffset() < 0 || m.fromOffset() > log.logEndOffset()) {
            return;
        }
        if (m.fromOffset() < log.logStartOffset()) {
            // The recovering leader needs entries this replica compacted: it must take the snapshot.
            offerSnapshot(m.from(), m.epoch());
            return;
        }
        List<Entry> entries = m.fromOffset() == log.logEndOffset()
                ? List.of()
                : log.read(m.fromOffset(), cfg.maxBatchEntries(), Math.min(m.maxBytes(), cfg.maxBatchBytes()));
        send(new FetchResponse(cfg.self(), m.from(), m.epoch(), m.fromOffset(), entries, log.logEndOffset()));
    }

    private void onAppend(Append m) {
        if (!fromPromisedLeader(m) || role != Role.FOLLOWER) {
            sendRejected(m);
            return;
        }
        if (!wellFormed(m)) {
            return;
        }
        lastProbe = Math.max(lastProbe, m.probe());
        long prev = m.prevOffset();
        if (prev >= 0 && (prev >= log.logEndOffset() || log.epochAt(prev) != m.prevEpoch())) {
            long hint = prev >= log.logEndOffset() ? log.logEndOffset() : prev;
            send(new AppendReject(cfg.self(), m.from(), m.epoch(), hint, lastProbe));
            return;
        }
        List<Entry> entries = m.entries();
        int i = 0;
        for (; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.offset() >= log.logEndOffset()) {
                break;
            }
            if (log.epochAt(e.offset()) != e.epoch()) {
                truncateLog(e.offset());
                break;
            }
        }
        boolean appended = i < entries.size();
        if (appended) {
            log.append(entries.subList(i, entries.size()));
            out.add(new Action.SyncLog());
        }
        long verifiedEnd = prev + 1 + entries.size();
        ackableEnd = Math.max(ackableEnd, verifiedEnd);
        long newCommit = Math.min(m.commitOffset(), verifiedEnd);
        if (newCommit > commit) {
            setCommit(newCommit);
        }
        // New entries are acknowledged once durable (logSynced), carrying the probe too: one answer per append,
        // not two. Anything else (a heartbeat, a probe, a repeat) is answered now.
        sendAppendAck(!appended);
    }

    private boolean wellFormed(Append m) {
        long expected = m.prevOffset() + 1;
        long lastEpoch = m.prevEpoch();
        if (m.prevOffset() < -1 || m.commitOffset() < 0) {
            return false;
        }
        for (Entry e : m.entries()) {
            if (e.offset() != expected++ || e.epoch() < lastEpoch || e.epoch() > m.epoch()) {
                return false;
            }
            lastEpoch = e.epoch();
        }
        return true;
    }

    private void sendAppendAck() {
        sendAppendAck(false);
    }

    /** Acknowledges what is durable and verified; {@code always} also when nothing new is (a probe answer). */
    private void sendAppendAck(boolean always) {
        if (promise.leader().isEmpty() || promise.leader().equals(cfg.self())) {
            return;
        }
        long match = Math.min(ackableEnd, durableEnd);
        if (always || match > lastAckedMatch) {
            lastAckedMatch = Math.max(lastAckedMatch, match);
            send(new AppendAck(cfg.self(), promise.leader(), promise.epoch(), match, lastProbe));
        }
    }

    private void sendRejected(Message m) {
        send(new Rejected(cfg.self(), m.from(), promise.epoch(), promise.leader(), m.epoch()));
    }

    // ---- leader side ----

    private void sendNewEpoch(Progress p) {
        p.lastNewEpochSent = now;
        send(new NewEpoch(cfg.self(), p.id, leaderEpoch));
    }

    private void onEpochAck(EpochAck m) {
        if (role == Role.FOLLOWER || m.epoch() != leaderEpoch) {
            return;
        }
        Progress p = progress.get(m.from());
        if (p == null || p.promised) {
            return;
        }
        p.promised = true;
        p.history = m.history();
        p.reportedEnd = m.logEnd();
        p.lastHeard = now;
        recoveryProgressAt = now;
        if (role == Role.RECOVERING) {
            maybeFinishRecovery();
        } else {
            startReplicating(p);
        }
    }

    private void onRejected(Rejected m) {
        if (role == Role.FOLLOWER || m.rejectedEpoch() != leaderEpoch) {
            return;
        }
        if (m.epoch() > leaderEpoch
                || (m.epoch() == leaderEpoch
                        && !m.promisedLeader().equals(cfg.self())
                        && !m.promisedLeader().isEmpty())) {
            out.add(new Action.Fenced(leaderEpoch, m.epoch()));
            stepDown(m.promisedLeader());
            return;
        }
        Progress p = progress.get(m.from());
        if (p != null && p.promised) {
            // It has not promised this epoch (it never got NewEpoch): ask again.
            p.promised = false;
            sendNewEpoch(p);
        }
    }

    private void maybeFinishRecovery() {
        if (role != Role.RECOVERING) {
            return;
        }
        if (best != null) {
            if (fetched && durableEnd >= log.logEndOffset()) {
                startLeading();
            }
            return;
        }
        if (durableEnd < log.logEndOffset()) {
            return; // this replica's own log counts only once durable
        }
        Progress bestFollower = null;
        for (Progress p : progress.values()) {
            if (p.promised && termConfig.counts(p.id)) {
                if (EpochHistory.compareUpToDate(
                                p.history,
                                p.reportedEnd,
                                bestFollower == null ? log.epochHistory() : bestFollower.history,
                                bestFollower == null ? log.logEndOffset() : bestFollower.reportedEnd)
                        > 0) {
                    bestFollower = p;
                }
            }
        }
        if (!termConfig.hasQuorum(this::promisedHere)) {
            return;
        }
        if (bestFollower == null) {
            startLeading();
            return;
        }
        long common = EpochHistory.commonPrefix(
                log.epochHistory(), log.logEndOffset(), bestFollower.history, bestFollower.reportedEnd);
        truncateLog(common);
        best = bestFollower.id;
        fetchTarget = bestFollower.reportedEnd;
        fetched = log.logEndOffset() >= fetchTarget;
        if (fetched) {
            maybeFinishRecovery();
        } else {
            sendFetch();
        }
    }

    private void sendFetch() {
        lastFetchSent = now;
        send(new Fetch(cfg.self(), best, leaderEpoch, log.logEndOffset(), cfg.maxBatchBytes()));
    }

    private void onFetchResponse(FetchResponse m) {
        if (role != Role.RECOVERING || fetched || !m.from().equals(best) || m.epoch() != leaderEpoch) {
            return;
        }
        if (m.fromOffset() != log.logEndOffset()) {
            return; // a duplicate or a reordered response
        }
        long expected = m.fromOffset();
        long lastEpoch = log.epochHistory().lastEpoch();
        for (Entry e : m.entries()) {
            if (e.offset() != expected++ || e.epoch() < lastEpoch || e.epoch() >= leaderEpoch) {
                return; // malformed
            }
            lastEpoch = e.epoch();
        }
        if (!m.entries().isEmpty()) {
            log.append(m.entries());
        }
        recoveryProgressAt = now;
        fetchTarget = Math.min(fetchTarget, m.logEnd());
        continueFetching();
    }

    /** Recovery: fetched up to the target, the log is synced and recovery may finish; else the next batch is asked. */
    private void continueFetching() {
        if (log.logEndOffset() >= fetchTarget) {
            fetched = true;
            out.add(new Action.SyncLog());
            maybeFinishRecovery();
        } else {
            sendFetch();
        }
    }

    private void startLeading() {
        role = Role.LEADER;
        leadingSince = now;
        epochStartOffset = log.logEndOffset();
        List<Entry> entries = new ArrayList<>(1 + queued.size());
        entries.add(Entry.epochStart(leaderEpoch, epochStartOffset));
        for (Proposal q : queued) {
            long offset = epochStartOffset + entries.size();
            entries.add(Entry.data(leaderEpoch, offset, q.payload()));
            pending.add(new Pending(offset, q.id()));
        }
        queued.clear();
        log.append(entries);
        out.add(new Action.SyncLog());
        out.add(new Action.RoleChanged(Role.LEADER, leaderEpoch, cfg.self()));
        for (Progress p : progress.values()) {
            if (p.promised) {
                startReplicating(p);
            }
        }
        advanceCommit();
    }

    private void startReplicating(Progress p) {
        long common = EpochHistory.commonPrefix(log.epochHistory(), log.logEndOffset(), p.history, p.reportedEnd);
        // The follower reported a durable log, so the common prefix is durably matched already.
        p.match = common;
        p.next = common;
        p.clearInflight();
        p.lastProgress = now;
        replicate(p);
        advanceCommit();
    }

    private void replicateAll() {
        for (Progress p : progress.values()) {
            replicate(p);
        }
    }

    private void replicate(Progress p) {
        if (role != Role.LEADER || !p.promised) {
            return;
        }
        if (p.next < log.logStartOffset()) {
            // The follower needs entries compacted into the snapshot: it pulls the snapshot, then appends go on.
            if (p.lastSnapshotOffer == Long.MIN_VALUE || now - p.lastSnapshotOffer >= cfg.retryNanos()) {
                p.lastSnapshotOffer = now;
                p.lastSent = now;
                offerSnapshot(p.id, leaderEpoch);
            }
            return;
        }
        // Bounded in messages and in bytes: a transport drops what it cannot buffer (NettyTransport: 4 MiB per
        // peer), and a dropped append costs a retry interval. Large entries (or a catch-up) so stay within a few
        // batches' worth of bytes; small ones within maxInflightBatches messages.
        long byteBudget = INFLIGHT_BATCHES_OF_BYTES * cfg.maxBatchBytes();
        while (p.inflight.size() < cfg.maxInflightBatches()
                && p.next < log.logEndOffset()
                && (p.inflightBytes == 0 || p.inflightBytes < byteBudget)) {
            List<Entry> batch = log.read(p.next, cfg.maxBatchEntries(), cfg.maxBatchBytes());
            if (batch.isEmpty()) {
                return;
            }
            long bytes = 0;
            for (Entry e : batch) {
                bytes += e.sizeInBytes();
            }
            sendAppend(p, p.next, batch);
            p.next += batch.size();
            p.inflight.add(new long[] {p.next, bytes});
            p.inflightBytes += bytes;
        }
    }

    private void sendAppend(Progress p, long from, List<Entry> entries) {
        p.lastSent = now;
        send(new Append(cfg.self(), p.id, leaderEpoch, from - 1, log.epochAt(from - 1), entries, commit, probeSeq));
    }

    /** The progress of a promised follower answering this leader's epoch, noting that it answered; or null. */
    private Progress answered(String from, long epoch, long probe) {
        if (role != Role.LEADER || epoch != leaderEpoch) {
            return null;
        }
        Progress p = progress.get(from);
        if (p == null || !p.promised) {
            return null;
        }
        p.lastHeard = now;
        p.probeAcked = Math.max(p.probeAcked, probe);
        return p;
    }

    private void onAppendAck(AppendAck m) {
        Progress p = answered(m.from(), m.epoch(), m.probe());
        if (p == null) {
            return;
        }
        if (m.matchOffset() > p.match && m.matchOffset() <= log.logEndOffset()) {
            p.match = m.matchOffset();
            p.lastProgress = now;
            while (!p.inflight.isEmpty() && p.inflight.peek()[0] <= p.match) {
                p.inflightBytes -= p.inflight.poll()[1];
            }
            if (p.next < p.match) {
                p.next = p.match;
            }
            advanceCommit();
        }
        checkReads();
        replicate(p);
    }

    private void onAppendReject(AppendReject m) {
        Progress p = answered(m.from(), m.epoch(), m.probe());
        if (p == null) {
            return;
        }
        long next = Math.max(p.match, Math.min(p.next, m.logEnd()));
        if (next != p.next) {
            p.next = next;
            p.clearInflight();
            p.lastProgress = now;
        }
        checkReads();
        replicate(p);
    }

    // ---- snapshots ----

    /** True if the log holds the last entry of snapshot {@code id} (so it matches the log the snapshot ends). */
    private boolean holdsLastEntryOf(SnapshotId id) {
        return id.offset() <= log.logEndOffset() && log.epochAt(id.offset() - 1) == id.epoch();
    }

    /** Tells {@code to} to pull the newest snapshot, in {@code epoch}. */
    private void offerSnapshot(String to, long epoch) {
        Optional<SnapshotMeta> latest = snapshots.latest();
        if (latest.isPresent()) { // always, when the log starts above 0
            send(new InstallSnapshot(
                    cfg.self(), to, epoch, latest.get().id(), latest.get().sizeBytes()));
        }
    }

    /**
     * An offer to pull a snapshot: from the promised leader to its follower, or from the replica a recovering leader
     * fetches from. A log that already holds the snapshot's last entry matches the sender's up to it and needs no
     * install; otherwise the install starts (or, the same offer repeated, goes on).
     */
    private void onInstallSnapshot(InstallSnapshot m) {
        boolean fromLeader = role == Role.FOLLOWER && fromPromisedLeader(m);
        boolean fromBest =
                role == Role.RECOVERING && m.epoch() == leaderEpoch && m.from().equals(best) && !fetched;
        if (!fromLeader && !fromBest) {
            if (m.epoch() < promise.epoch()) {
                sendRejected(m);
            }
            return;
        }
        SnapshotId id = m.snapshot();
        if (m.sizeBytes() <= 0) {
            return; // malformed
        }
        if (holdsLastEntryOf(id)) {
            if (fromLeader) {
                ackableEnd = Math.max(ackableEnd, id.offset());
                sendAppendAck(true);
            }
            return;
        }
        if (id.offset() <= commit) {
            return; // committed entries are held here: an offer that contradicts them is malformed
        }
        if (install != null
                && install.id.equals(id)
                && install.source.equals(m.from())
                && install.epoch == m.epoch()
                && install.size == m.sizeBytes()) {
            return; // already receiving it; lost requests are repeated on tick
        }
        abortInstall();
        try {
            snapshots.beginInstall(id, m.sizeBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + cfg.self() + " cannot begin installing snapshot " + id, e);
        }
        install = new Install(m.from(), m.epoch(), id, m.sizeBytes());
        install.chunk = Math.min(cfg.maxBatchBytes(), Integer.MAX_VALUE);
        if (fromBest) {
            recoveryProgressAt = now;
        }
        sendFetchSnapshot();
    }

    /**
     * Keeps up to {@link CoreConfig#snapshotChunksInFlight()} chunk requests unanswered, each for the next {@code
     * maxBatchBytes} not yet asked for. Chunks arrive in order on the one connection to the source; one that does
     * not start at the position reached is ignored, and the retry interval asks again from there.
     */
    private void sendFetchSnapshot() {
        Install in = install;
        in.lastRequest = now;
        long window = in.chunk * cfg.snapshotChunksInFlight();
        while (in.requested < in.size && in.requested - in.position < window) {
            send(new FetchSnapshot(cfg.self(), in.source, in.epoch, in.id, in.requested, (int) in.chunk));
            in.requested = Math.min(in.size, in.requested + in.chunk);
        }
    }

    /**
     * Serves a chunk of a kept snapshot: as leader to a promised follower of its epoch, or as follower to its
     * recovering leader. A snapshot no longer kept is answered with an offer of the newest.
     */
    private void onFetchSnapshot(FetchSnapshot m) {
        Progress follower = role == Role.LEADER && m.epoch() == leaderEpoch ? progress.get(m.from()) : null;
        boolean toFollower = follower != null && follower.promised;
        boolean toRecoveringLeader = role == Role.FOLLOWER && fromPromisedLeader(m);
        if (!toFollower && !toRecoveringLeader) {
            if (m.epoch() < promise.epoch()) {
                sendRejected(m);
            }
            return;
        }
        if (toFollower) {
            follower.lastHeard = now;
        }
        long size = sizeOfKept(m.snapshot());
        if (size < 0) {
            offerSnapshot(m.from(), m.epoch());
            return;
        }
        if (m.position() < 0 || m.position() >= size || m.maxBytes() <= 0) {
            return; // malformed
        }
        Optional<byte[]> data;
        try {
            data = snapshots.read(m.snapshot(), m.position(), (int) Math.min(m.maxBytes(), cfg.maxBatchBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + cfg.self() + " cannot read snapshot " + m.snapshot(), e);
        }
        if (data.isEmpty()) {
            offerSnapshot(m.from(), m.epoch()); // deleted since: start over with the newest
            return;
        }
        byte[] bytes = data.get();
        send(new SnapshotChunk(
                cfg.self(), m.from(), m.epoch(), m.snapshot(), m.position(), size, bytes, crc32c(bytes)));
    }

    /** The file size of a kept snapshot, or -1. */
    private long sizeOfKept(SnapshotId id) {
        for (Optional<SnapshotMeta> m : List.of(snapshots.latest(), snapshots.oldestKept())) {
            if (m.isPresent() && m.get().id().equals(id)) {
                return m.get().sizeBytes();
            }
        }
        return -1;
    }

    /**
     * A chunk of the snapshot being installed. Refused (ignored; the request is repeated on tick) unless it comes
     * from the install's source, in its epoch, for its snapshot and size, at the position reached, and its data
     * passes its CRC.
     */
    private void onSnapshotChunk(SnapshotChunk c) {
        Install in = install;
        if (in == null
                || !c.from().equals(in.source)
                || c.epoch() != in.epoch
                || !c.snapshot().equals(in.id)
                || c.sizeBytes() != in.size
                || c.position() != in.position
                || c.data().length == 0
                || c.data().length > in.size - in.position
                || crc32c(c.data()) != c.crc()) {
            return;
        }
        try {
            snapshots.writeInstallChunk(in.position, c.data());
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + cfg.self() + " cannot write snapshot " + in.id, e);
        }
        long asked = Math.min(in.chunk, in.size - in.position);
        in.position += c.data().length;
        if (role == Role.RECOVERING) {
            recoveryProgressAt = now;
        }
        if (in.position < in.size) {
            if (c.data().length < asked) {
                // The source serves smaller chunks than asked for: the requests in flight start at positions that
                // will not line up, so ask again from the position reached, for chunks of the size it serves.
                in.chunk = c.data().length;
                in.requested = in.position;
            }
            sendFetchSnapshot();
        } else {
            finishInstall();
        }
    }

    /**
     * The whole snapshot arrived: make it durable and the newest, reset the log to start at it (the log does not hold
     * its last entry, or there would have been no install), restore the state machine from it, and go on: a follower
     * acknowledges the snapshot's offset, a recovering leader fetches from there.
     */
    private void finishInstall() {
        Install done = install;
        install = null;
        SnapshotMeta meta;
        try {
            meta = snapshots.completeInstall();
        } catch (SnapshotStore.CorruptSnapshotException e) {
            // Every chunk passed its CRC, so the source's file itself is bad; the next offer starts over.
            return;
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + cfg.self() + " cannot complete snapshot " + done.id, e);
        }
        if (!meta.id().equals(done.id)) {
            throw new IllegalStateException(
                    "replica " + cfg.self() + " installed snapshot " + meta.id() + " while receiving " + done.id);
        }
        long s = meta.id().offset();
        if (!holdsLastEntryOf(meta.id())) {
            log.resetTo(s, meta.history());
            durableEnd = s; // a reset is durable when it returns
        }
        if (s > applyOffset) {
            applyOffset = s;
            out.add(new Action.RestoreSnapshot(meta));
        }
        if (s > commit) {
            commit = s;
        }
        raiseApplyOffset();
        if (role == Role.FOLLOWER) {
            ackableEnd = Math.max(ackableEnd, s);
            sendAppendAck(true);
        } else if (role == Role.RECOVERING) {
            recoveryProgressAt = now;
            continueFetching();
        }
    }

    private void abortInstall() {
        if (install != null) {
            install = null;
            snapshots.abortInstall();
        }
    }

    private static int crc32c(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data, 0, data.length);
        return (int) crc.getValue();
    }

    private void advanceCommit() {
        if (role != Role.LEADER) {
            return;
        }
        Map<String, Long> matches = matchScratch;
        matches.clear();
        matches.put(cfg.self(), Math.min(durableEnd, log.logEndOffset()));
        for (Progress p : progress.values()) {
            if (p.promised) {
                matches.put(p.id, p.match);
            }
        }
        // What a quorum has durably: the majority-th highest match of the voters (and of the previous voters).
        long candidate = termConfig.quorumOffset(matches);
        // Only an entry of the current epoch commits (with everything before it): Raft section 5.4.2.
        if (candidate > commit && log.epochAt(candidate - 1) == leaderEpoch) {
            setCommit(candidate);
            while (!pending.isEmpty() && pending.peek().offset() < candidate) {
                Pending e = pending.poll();
                out.add(new Action.ProposalCommitted(e.id(), leaderEpoch, e.offset()));
            }
            checkReads();
        }
        maybeAskActivation();
    }

    /**
     * A joint configuration is activated once this leader's epoch-start entry is committed: commits need majorities
     * of both sets, so the start entry, and the adopted log before it with every committed entry, are on a majority
     * of the new voters.
     */
    private void maybeAskActivation() {
        if (role == Role.LEADER && termConfig.joint() && !activationAsked && commit > epochStartOffset) {
            activationAsked = true;
            out.add(new Action.ActivateConfiguration(leaderEpoch, termConfig));
        }
    }

    private void checkReads() {
        if (role != Role.LEADER || reads.isEmpty() || commit <= epochStartOffset) {
            return;
        }
        Iterator<Read> it = reads.iterator();
        while (it.hasNext()) {
            Read r = it.next();
            if (termConfig.hasQuorum(id -> id.equals(cfg.self()) || confirmedRead(id, r.probe()))) {
                out.add(new Action.ReadReady(r.id(), commit));
                it.remove();
            }
        }
    }

    private boolean confirmedRead(String id, long probe) {
        Progress p = progress.get(id);
        return p != null && p.promised && p.probeAcked >= probe;
    }

    /** Whether {@code id} (this replica, or a follower that promised this term) counts toward the promise quorum. */
    private boolean promisedHere(String id) {
        if (id.equals(cfg.self())) {
            return true;
        }
        Progress p = progress.get(id);
        return p != null && p.promised;
    }

    /**
     * True if this leader has led for the check-quorum interval and fewer than a majority (itself included) have
     * answered it within that interval: it cannot commit, and replicas that reach each other could elect one of
     * them (Raft's CheckQuorum).
     */
    private boolean quorumLost() {
        long window = cfg.checkQuorumNanos();
        if (window == 0 || now - leadingSince < window) {
            return false;
        }
        return !termConfig.hasQuorum(id -> {
            if (id.equals(cfg.self())) {
                return true;
            }
            Progress p = progress.get(id);
            return p != null && p.promised && p.lastHeard != Long.MIN_VALUE && now - p.lastHeard < window;
        });
    }

    /**
     * True if this replica, elected, has gone the check-quorum interval without recovery progress (its election,
     * a promise, a fetched batch): its peers are unreachable or the replica it fetches from stopped answering.
     * Holding the term would keep the replicas that can reach each other from electing one of them.
     */
    private boolean recoveryStalled() {
        long window = cfg.checkQuorumNanos();
        return window != 0 && now - recoveryProgressAt >= window;
    }

    /** Stops leading: entries already in the log have an unknown outcome; the rest definitely failed. */
    private void stepDown(String leaderHint) {
        for (Pending e : pending) {
            out.add(new Action.ProposalFailed(e.id(), Failure.OUTCOME_UNKNOWN, leaderHint));
        }
        pending.clear();
        for (Proposal q : queued) {
            out.add(new Action.ProposalFailed(q.id(), Failure.NOT_LEADER, leaderHint));
        }
        queued.clear();
        for (Read r : reads) {
            out.add(new Action.ReadFailed(r.id(), Failure.NOT_LEADER, leaderHint));
        }
        reads.clear();
        role = Role.FOLLOWER;
        progress = Map.of();
        best = null;
        abortInstall();
        epochStartOffset = -1;
        // Not a follower of anyone until a newer leader's NewEpoch arrives.
        ackableEnd = 0;
        lastAckedMatch = -1;
        out.add(new Action.RoleChanged(Role.FOLLOWER, promise.epoch(), leaderHint));
    }

    // ---- shared ----

    private void truncateLog(long newEnd) {
        if (newEnd >= log.logEndOffset()) {
            return;
        }
        if (newEnd < commit) {
            throw new IllegalStateException("replica " + cfg.self() + " was asked to truncate to " + newEnd
                    + " below its commit offset " + commit + ": committed entries would be lost");
        }
        log.truncate(newEnd);
        durableEnd = Math.min(durableEnd, newEnd);
    }

    private void setCommit(long c) {
        if (c != commit) {
            committedAt = now;
        }
        commit = c;
        raiseApplyOffset();
    }

    /**
     * Hands the driver what may be applied: committed entries that are also durable here. A follower learns a
     * commit offset from its leader before its own sync, and a leader can commit on its followers' copies before
     * its own sync; applying those early would let a state machine that persists its applied offset end up ahead
     * of the log a power loss leaves (docs/replication.md, "Apply only what is durable here").
     */
    private void raiseApplyOffset() {
        long a = Math.min(commit, durableEnd);
        if (a > applyOffset) {
            applyOffset = a;
            out.add(new Action.Apply(a));
        }
    }

    private void storePromise(Promise p) {
        try {
            promises.store(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store the promise of replica " + cfg.self(), e);
        }
        if (p.epoch() != promise.epoch() || !p.leader().equals(promise.leader())) {
            // A new term: its leader has the minimum term and a full suspicion timeout before it can be suspected.
            promisedAt = now;
            leaderHeardAt = now;
            leaderRefused = false;
            if (suspectedEpoch != 0) {
                // Whatever was suspected (an older epoch's leader, or a floor's unknown one) is not this term's.
                out.add(new Action.SuspicionCleared(suspectedEpoch));
                suspectedEpoch = 0;
            }
        }
        promise = p;
        clearStaleSuspicion();
    }

    private void send(Message m) {
        out.add(new Action.Send(m));
    }

    @Override
    public String toString() {
        return cfg.self() + "{" + role + " epoch=" + promise.epoch() + " leader=" + promise.leader() + " commit="
                + commit + " durable=" + durableEnd + " end=" + log.logEndOffset() + " history="
                + log.epochHistory() + "}";
    }
}
