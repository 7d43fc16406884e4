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

import dev.tenure.replicator.testing.InMemoryReplicaLog;
import dev.tenure.replicator.testing.InMemorySnapshotStore;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic, seeded simulation of replicas over an in-memory network that drops, duplicates and
 * reorders messages and partitions replicas. Replicas fail in two ways: a <em>process crash</em> (the process
 * dies, sometimes in the middle of storing a promise; what it wrote stays in the page cache and is read back
 * at restart) and a <em>power loss</em> (everything not synced is gone: log appends and truncations, and a
 * promise file renamed but not yet made durable by a directory sync). A restart reopens the log and the promise
 * store, which force what they find, as {@code SegmentedLog.open} and {@code FilePromiseStore.load} do. The
 * "election" mints strictly increasing epochs and sometimes leaves the old leader running (two leaders).
 * Invariants are checked after every step; a violation throws {@link AssertionError} with the seed and the
 * last events.
 *
 * <p>A simulation is also one <em>partition</em> of a {@link PartitionedSimulation}: one replicated log with its
 * replica set, epochs, election, stores and state machines, whose replicas live on nodes the partitioned world
 * owns. Made by {@link #partition}, it sends its messages through the world's network ({@link Host}), tells the
 * world when one of its replica's processes dies (the whole node goes down) and is driven step by step by the
 * world, which runs the same invariants ({@link #checkInvariants()}) on every partition after every step.
 */
final class Simulation {
    /**
     * Probabilities of the fault kinds; all zero gives a fault-free run. {@code processCrash} also sets how often
     * a promise store is interrupted between its rename and its directory sync.
     */
    record Faults(
            double drop,
            double duplicate,
            double processCrash,
            double powerLoss,
            double partition,
            double election,
            double zombie) {
        static final Faults NONE = new Faults(0, 0, 0, 0, 0, 0.01, 0);
        static final Faults DEFAULT = new Faults(0.03, 0.02, 0.012, 0.008, 0.01, 0.02, 0.3);
    }

    /** A defect the simulation can reintroduce, to show that its invariants catch it. */
    enum Defect {
        NONE,
        /**
         * Followers' acknowledgements are forged: every append a leader sends is acknowledged back to it at once,
         * as if the follower held it durably, so a leader commits without a majority (the verification harness's
         * early-acknowledging transport does the same to real processes).
         */
        FORGED_ACKS,
        /**
         * A restarted replica's log counts what it reads back as durable without forcing it, as {@code
         * SegmentedLog.open} did before issue 12.
         */
        OPEN_LOG_WITHOUT_FORCING,
        /**
         * A restarted replica's promise store returns a promise whose rename was never made durable without
         * forcing it, as {@code FilePromiseStore.load} did before issue 12.
         */
        LOAD_PROMISE_WITHOUT_FORCING,
        /**
         * A replica that installed a snapshot restores its state machine from an older snapshot it kept (taken in an
         * earlier epoch) instead of the one it installed, and goes on applying after the installed one.
         */
        RESTORE_OLDER_SNAPSHOT,
        /**
         * During a membership change, leaders count majorities of the new voters only (the previous voters are
         * ignored from the moment the change is minted): a leader elected by a new majority can miss entries committed
         * by an old majority that it does not meet.
         */
        NEW_VOTERS_ONLY_DURING_A_CHANGE,
        /**
         * {@link PartitionedSimulation} only: the network delivers some messages to another partition hosted on the
         * same two nodes (a transport that routes by node id and ignores the partition a message belongs to).
         */
        CROSSED_PARTITIONS,
        /**
         * {@link PartitionedSimulation} with a node-level write-ahead log only: a partition's sync is acknowledged
         * before the node's write-ahead log was forced (as {@code WriteAheadLog}'s own broken variant
         * {@code ACK_BEFORE_FORCE}).
         */
        WAL_ACK_BEFORE_FORCE,
        /**
         * With fast failover ({@link #withFastFailover}): a leader deposed by a majority's suspicion keeps
         * acknowledging, its followers' acknowledgements forged as if the replicas that deposed it still counted for
         * its epoch: the overlap a depose opens between a live deposed leader and its successor, without the promises
         * fencing it.
         */
        DEPOSED_LEADER_KEEPS_ACKNOWLEDGING,
        /**
         * {@link PartitionedSimulation} with a node-level write-ahead log only: a replica acts on a promise recorded
         * in the write-ahead log before the log was forced (its messages leave at once instead of being held until
         * the promise is durable, as {@code Replica} holds them for a {@code DeferredPromiseStore}).
         */
        SEND_BEFORE_PROMISE_DURABLE,
        /**
         * With fast failover: the replicas' cores take a node-level hearing of the leader's node for news however old
         * ({@code ReplicaCore.Defect.OLD_NODE_HEARING_IS_NEWS}, the flap before rule 1 was fixed).
         */
        CORE_TAKES_OLD_HEARINGS_FOR_NEWS
    }

    /**
     * Set by {@link PartitionedSimulation}: the replicas' syncs go through their node's shared write-ahead log, as
     * {@code ZooKeeperNode} runs them ({@code WriteAheadLog}): a replica asks ({@link #walRequest}), which notes its
     * log's end and epoch at that moment and returns; one force of the node's log makes every append of every
     * partition on the node durable ({@link #walForced}); the acknowledgement reaches the replica later, as an event
     * of its own ({@link #walDeliver}). One request is outstanding per replica; one asked meanwhile follows it.
     */
    boolean writeAheadLog;
    /** Syncs acknowledged through the write-ahead log. */
    int walSyncs;

    /**
     * The node-level world a partition lives in ({@link PartitionedSimulation}): one network and one process (and
     * disk) per node for all the partitions.
     */
    interface Host {
        /** {@code partition}'s replica on node {@code m.from()} sends {@code m}. */
        void send(Simulation partition, Message m);

        /** Messages of {@code partition} in flight to its replica on {@code node} are lost (it died or stopped). */
        void dropMessagesTo(Simulation partition, String node);

        /** The process of {@code partition}'s replica on {@code node} died: the node's whole process is down. */
        void processDied(Simulation partition, String node, String why);

        /**
         * {@code partition}'s replica on {@code node} gave up its term of {@code epoch} (fenced, or its quorum lost),
         * as a replica tells its {@code Leadership.stepDown}; the election the world runs may take note.
         */
        default void steppedDown(Simulation partition, String node, long epoch) {}

        /**
         * {@code partition}'s replica on {@code node}, leading {@code epoch} under {@code joint}, asks for the change
         * to be activated: a world that is the configuration master itself (the controller, issue 17) takes the
         * request and returns true; false lets this simulation's own master activate it.
         */
        default boolean activate(Simulation partition, String node, long epoch, Configuration joint) {
            return false;
        }
    }

    /** Thrown out of a replica's event when its process dies in the middle of it. */
    static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * A promise file: {@link #store} renames the new promise into place ({@link #visible}) and then syncs the
     * directory ({@link #durable}); the process may die in between. A power loss reverts to what is durable.
     */
    final class SimPromiseStore implements PromiseStore {
        private final String owner;
        Promise visible = Promise.NONE;
        Promise durable = Promise.NONE;
        /**
         * With a write-ahead log: a promise is recorded there and durable only once the node's log is forced
         * ({@link #walForced}); meanwhile the replica holds its actions ({@link Replica#held}).
         */
        boolean pending;

        SimPromiseStore(String owner) {
            this.owner = owner;
        }

        @Override
        public Promise load() {
            return visible;
        }

        @Override
        public void store(Promise p) {
            if (p.epoch() < visible.epoch()) {
                throw new IllegalStateException("promise would go back from " + visible + " to " + p);
            }
            visible = p;
            if (writeAheadLog) {
                pending = true; // a record in the write-ahead log's buffer
                return;
            }
            if (!calm && random.nextDouble() < faults.processCrash() * 4) {
                throw new SimulatedCrash(
                        "died after renaming the promise " + p + " into place, before the directory" + " sync");
            }
            durable = p;
        }

        /** Reopened after a crash: forces what it finds, unless that defect is reintroduced. */
        void reopen() {
            pending = false; // read back (from the write-ahead log: the records the writer wrote) and forced
            if (!hasDefect(owner, Defect.LOAD_PROMISE_WITHOUT_FORCING)) {
                durable = visible;
            }
        }

        void powerLoss() {
            visible = durable;
            pending = false;
        }
    }

    /**
     * Snapshot files as {@code FileSnapshotStore} keeps them ({@link InMemorySnapshotStore}, which checks a CRC over
     * each file), with crash points: a written or installed snapshot is durable once returned, and the process may
     * die before that (nothing changed then); a partial install is deleted at a restart and lost at a power loss.
     */
    final class SimSnapshotStore implements SnapshotStore {
        private final InMemorySnapshotStore files = new InMemorySnapshotStore();

        @Override
        public Optional<SnapshotMeta> latest() {
            return files.latest();
        }

        @Override
        public Optional<SnapshotMeta> oldestKept() {
            return files.oldestKept();
        }

        @Override
        public Optional<byte[]> read(SnapshotId id, long position, int maxBytes) {
            return files.read(id, position, maxBytes);
        }

        @Override
        public void beginInstall(SnapshotId id, long sizeBytes) {
            files.beginInstall(id, sizeBytes);
        }

        @Override
        public void writeInstallChunk(long position, byte[] data) {
            files.writeInstallChunk(position, data);
            maybeCrash("while writing a snapshot install chunk");
        }

        @Override
        public SnapshotMeta completeInstall() throws IOException {
            maybeCrash("before the installed snapshot was renamed into place");
            return files.completeInstall();
        }

        @Override
        public void abortInstall() {
            files.abortInstall();
        }

        @Override
        public SnapshotMeta write(SnapshotId id, EpochHistory history, List<String> members, StateWriter state)
                throws IOException {
            maybeCrash("while writing snapshot " + id);
            return files.write(id, history, members, state);
        }

        @Override
        public InputStream openState(SnapshotId id) throws IOException {
            return files.openState(id);
        }

        private void maybeCrash(String where) {
            if (!calm && random.nextDouble() < faults.processCrash() * 2) {
                files.abortInstall();
                throw new SimulatedCrash("died " + where);
            }
        }

        /** Reopened after a crash: partial installs are deleted. */
        void reopen() {
            files.abortInstall();
        }
    }

    /** The simulated state machine's state: the entries it applied, in order. */
    static byte[] encodeState(List<Entry> applied) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(applied.size());
            for (Entry e : applied) {
                out.writeLong(e.epoch());
                out.writeLong(e.offset());
                out.writeByte(e.type());
                out.writeInt(e.payload().length);
                out.write(e.payload());
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Entry> decodeState(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        List<Entry> entries = new ArrayList<>();
        for (int n = in.readInt(); n > 0; n--) {
            long epoch = in.readLong();
            long offset = in.readLong();
            byte type = in.readByte();
            byte[] payload = new byte[in.readInt()];
            in.readFully(payload);
            entries.add(new Entry(epoch, offset, type, payload));
        }
        return entries;
    }

    final class Replica {
        final String id;
        final InMemoryReplicaLog log = new InMemoryReplicaLog();
        final SimPromiseStore promises;
        final SimSnapshotStore snapshots = new SimSnapshotStore();
        ReplicaCore core;
        boolean alive = true;
        boolean syncRequested;
        /** With a write-ahead log: the outstanding sync (the log's end and epoch when asked), whether forced, more. */
        Synced walPending;

        boolean walForced;
        boolean walWanted;
        /**
         * With a write-ahead log: the actions held since a promise was recorded and not yet forced, in order (null
         * when none are), released once it is ({@link #walDeliver}).
         */
        List<Action> held;

        boolean partitioned;
        long checkedCommit;
        final List<Entry> applied = new ArrayList<>();
        long maxEpochSeen;
        /** Told by its core that the configuration removed it: it stopped, as the real driver closes it. */
        boolean removed;
        /** A spare that was added as a learner at some point. */
        boolean wasMember;

        Replica(String id) {
            this.id = id;
            this.promises = new SimPromiseStore(id);
            this.core = newCore(this);
        }

        /**
         * The log its core writes: the simulated disk itself, or (in a partition) the disk behind a check that every
         * data entry appended carries this partition's tag.
         */
        ReplicaLog coreLog() {
            return payloadPrefix.isEmpty() ? log : new TaggedLog(this);
        }
    }

    /**
     * A partition's log as its core sees it: the replica's log with, on every append, the check that no entry proposed
     * to another partition ever enters this partition's log (every payload is tagged with its partition).
     */
    private final class TaggedLog implements ReplicaLog {
        private final Replica r;

        TaggedLog(Replica r) {
            this.r = r;
        }

        @Override
        public long logEndOffset() {
            return r.log.logEndOffset();
        }

        @Override
        public EpochHistory epochHistory() {
            return r.log.epochHistory();
        }

        @Override
        public long epochAt(long offset) {
            return r.log.epochAt(offset);
        }

        @Override
        public void append(List<Entry> entries) {
            for (Entry e : entries) {
                if (e.isData() && !payload(e).startsWith(payloadPrefix)) {
                    String p = payload(e);
                    fail("entry " + e + " (" + p + ") proposed to partition " + p.substring(0, p.indexOf(':') + 1)
                            + " is appended to partition " + name + "'s log on " + r.id);
                }
            }
            r.log.append(entries);
        }

        @Override
        public void truncate(long newEnd) {
            r.log.truncate(newEnd);
        }

        @Override
        public List<Entry> read(long from, int maxEntries, long maxBytes) {
            return r.log.read(from, maxEntries, maxBytes);
        }

        @Override
        public long logStartOffset() {
            return r.log.logStartOffset();
        }

        @Override
        public void compact(long newStart) {
            r.log.compact(newStart);
        }

        @Override
        public void resetTo(long offset, EpochHistory history) {
            r.log.resetTo(offset, history);
        }
    }

    /** How many of the last events a failure shows (-Dsim.trace=N to see more). */
    private static final int TRACE_EVENTS = Integer.getInteger("sim.trace", 60);

    private final Defect defect;
    /** Whether idle leaders go quiet ({@link CoreConfig#quiesce()}): partitions do, as on a node. */
    private final boolean quiesce;

    private final long seed;
    private final Random random;
    private final Faults faults;
    /** "" for a simulation of its own; a partition's name ("p3") in a {@link PartitionedSimulation}. */
    final String name;
    /** The partitioned world this simulation is a partition of; null for a simulation of its own. */
    private final Host host;
    /** Every proposed payload starts with it: "" on its own, "p3:" for partition p3. */
    private final String payloadPrefix;
    /** The replicas (node ids) the {@link #defect} affects; null: all of them. */
    private Set<String> defective;
    /** The replica the election last made leader, or null. */
    String lastElected;
    /** The voters the log was created with. */
    private final List<String> ids = new ArrayList<>();
    /** Every replica that exists: the initial voters and the spares membership changes can add. */
    private final List<String> universe = new ArrayList<>();

    final Map<String, Replica> replicas = new HashMap<>();
    /**
     * The configuration master (ZooKeeper in a real deployment): the current configuration. A change of the voters
     * mints an epoch in the same step ({@link #epochs}), as the real change's conditional multi does.
     */
    Configuration master;
    /** Probability of a membership step (add or remove a learner, start, cancel a change); 0 turns changes off. */
    double changeRate;

    int changesStarted;
    int changesActivated;
    int changesCancelled;
    int removals;
    private final List<Message> network = new ArrayList<>();
    private final Deque<String> trace;
    private long now;
    /**
     * Whether to check that a replica applies only what its log holds durably. The check reads the simulated
     * disk, which no real replica can; a mutation test turns it off to see the defect's effect on clients.
     */
    boolean checkApplyIsDurable = true;

    /**
     * Fast failover (issue 20; {@link #withFastFailover}): followers suspect a silent leader, and the simulated
     * ZooKeeper deposes it once a majority of the voters suspect it — the election grants a newer epoch to another
     * running voter while the deposed leader keeps running.
     */
    private boolean fastFailover;
    /** Suspicions as the simulated ZooKeeper holds them: epoch to the replicas that suspect its leader. */
    private final Map<Long, Set<String>> suspicions = new HashMap<>();
    /** Who the election gave each epoch to. */
    private final Map<Long, String> epochLeaders = new HashMap<>();
    /** Epochs whose leader was deposed. */
    private final Set<Long> deposedEpochs = new HashSet<>();

    int suspicionsReported;
    /** Suspicions withdrawn because the replica heard from the suspected leader (not by a new term). */
    int suspicionsWithdrawnOnNews;
    /**
     * What each replica was given, in truth, of its leaders' lives, kept here rather than read from the core so that
     * the no-withdrawal-without-news check is independent of the code it checks: "r<l" to the latest hearing of l's
     * node that r was told of (the time of the hearing), and to the number of messages from l delivered to r.
     */
    private final Map<String, Long> nodeHeardInTruth = new HashMap<>();

    private final Map<String, Long> messagesDelivered = new HashMap<>();

    /** A suspicion as raised: its leader, and what the replica had been given of it then. */
    private record Suspected(String leader, long nodeHeard, long messages) {}

    /** "r@epoch" to r's suspicion of that epoch's leader, until withdrawn. */
    private final Map<String, Suspected> suspectedBy = new HashMap<>();

    int deposes;
    /** Deposes of a leader whose process was still running: the overlap the promises must fence. */
    int deposesOfARunningLeader;

    /** Set while converging: no faults, not even inside a promise store. */
    private boolean calm;
    /** Whether suspicions depose while calm ({@link #calmWithDeposes}). */
    private boolean deposeWhileCalm;

    private long epochs;
    private long nextProposal;

    /** Everything committed anywhere: offset to entry. Entries never change once here. */
    final Map<Long, Entry> committed = new HashMap<>();

    final Map<Long, String> proposals = new HashMap<>();
    final Map<Long, Long> acknowledged = new HashMap<>(); // proposal id -> offset
    final Set<String> definitelyFailed = new HashSet<>();
    final Set<String> committedPayloads = new HashSet<>();
    int unknownOutcomes;
    int elections;
    int processCrashes;
    int powerLosses;
    int readsServed;
    int quorumLosses;
    int snapshotsTaken;
    /** Ticks of a leader that was quiet ({@link ReplicaCore#quiescent()}) at the time: quiescence is exercised. */
    int quietLeaderTicks;

    int snapshotsInstalled;
    int installsWhileRecovering;
    int restartsFromSnapshot;

    Simulation(long seed, int size, Faults faults) {
        this(seed, size, faults, Defect.NONE);
    }

    /** With a {@link Defect} other than NONE, every replica runs with it, and the invariants must catch it. */
    Simulation(long seed, int size, Faults faults, Defect defect) {
        this(seed, new Random(seed), names(size), faults, defect, "", null, new ArrayDeque<>(), false);
    }

    private static List<String> names(int size) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            names.add("r" + i);
        }
        return names;
    }

    private Simulation(
            long seed,
            Random random,
            List<String> replicaSet,
            Faults faults,
            Defect defect,
            String name,
            Host host,
            Deque<String> trace,
            boolean quiesce) {
        this.defect = defect;
        this.quiesce = quiesce;
        this.seed = seed;
        this.random = random;
        this.faults = faults;
        this.name = name;
        this.host = host;
        this.payloadPrefix = name.isEmpty() ? "" : name + ":";
        this.trace = trace;
        ids.addAll(replicaSet);
        master = Configuration.initial(ids);
        universe.addAll(ids);
        for (String id : ids) {
            replicas.put(id, new Replica(id));
        }
    }

    /**
     * A partition of a {@link PartitionedSimulation}: the log {@code name}, replicated on {@code replicaSet} (node
     * ids), drawing from the world's {@code random}, sending through {@code host}, recording into the world's {@code
     * trace}. Its proposals are tagged {@code name + ":"}.
     */
    static Simulation partition(
            String name,
            List<String> replicaSet,
            long seed,
            Random random,
            Faults faults,
            Defect defect,
            Host host,
            Deque<String> trace) {
        return new Simulation(seed, random, replicaSet, faults, defect, name, host, trace, true);
    }

    /** Only the replicas on {@code nodes} run with the defect (all of them by default). */
    Simulation withDefectOnlyOn(Set<String> nodes) {
        this.defective = Set.copyOf(nodes);
        return this;
    }

    private boolean hasDefect(String replica, Defect d) {
        return defect == d && (defective == null || defective.contains(replica));
    }

    /**
     * Turns membership changes on: {@code spares} more replicas exist (outside the configuration until added as
     * learners) and a fraction {@code rate} of the steps changes the membership.
     */
    Simulation withMembershipChanges(double rate, int spares) {
        this.changeRate = rate;
        for (int i = 0; i < spares; i++) {
            String id = "s" + i;
            universe.add(id);
            replicas.put(id, new Replica(id));
        }
        return this;
    }

    /**
     * Turns fast failover on (see {@link #fastFailover}): every replica suspects a leader it has not heard from for a
     * random 60–300 ms (two heartbeats at least), not before a random minimum term of 0–200 ms.
     */
    Simulation withFastFailover() {
        fastFailover = true;
        for (Replica r : replicas.values()) {
            r.core = newCore(r);
        }
        return this;
    }

    private ReplicaCore newCore(Replica r) {
        ReplicaCore core = new ReplicaCore(config(r.id), r.coreLog(), r.promises, r.snapshots, now);
        if (hasDefect(r.id, Defect.CORE_TAKES_OLD_HEARINGS_FOR_NEWS)) {
            core.defect(ReplicaCore.Defect.OLD_NODE_HEARING_IS_NEWS);
        }
        return core;
    }

    private CoreConfig config(String id) {
        CoreConfig.Builder b = configBuilder(id);
        if (fastFailover) { // only then: the other schedules draw the same random numbers as before
            b.fastFailover(
                    java.time.Duration.ofMillis(60 + random.nextInt(240)),
                    java.time.Duration.ofMillis(random.nextInt(200)));
        }
        return b.build();
    }

    private CoreConfig.Builder configBuilder(String id) {
        return CoreConfig.builder(id, ids)
                .maxBatchEntries(1 + random.nextInt(4))
                .maxInflightBatches(1 + random.nextInt(4))
                .maxPendingProposals(50)
                .catchUpTailEntries(random.nextInt(6))
                .retryInterval(java.time.Duration.ofMillis(50))
                .heartbeatInterval(java.time.Duration.ofMillis(30))
                .checkQuorum(
                        random.nextBoolean()
                                ? java.time.Duration.ZERO
                                : java.time.Duration.ofMillis(200 + random.nextInt(800)))
                .quiesce(quiesce);
    }

    /** Runs {@code steps} random steps with faults. */
    void run(int steps) {
        for (int i = 0; i < steps; i++) {
            try {
                step();
            } catch (RuntimeException e) {
                throw failure("replica threw " + e, e);
            }
            checkInvariants();
        }
    }

    /**
     * Heals everything, restarts every replica, elects one leader and runs without faults until every
     * replica has committed and applied the leader's whole log; fails if that takes more than {@code
     * maxSteps}.
     */
    void converge(int maxSteps) {
        startConverging();
        for (int i = 0; i < maxSteps; i++) {
            try {
                calmStep();
            } catch (RuntimeException e) {
                throw failure("replica threw " + e, e);
            }
            checkInvariants();
            if (convergedOrElectAgain()) {
                return;
            }
        }
        failToConverge(maxSteps);
    }

    /** The replica {@link #converge} elected, which must end as the leader of everything. */
    private Replica convergingLeader;

    /**
     * The start of {@link #converge}: no more faults, every replica running (in a partition, the world restarted
     * the nodes already) and told the configuration, a leader elected among the running voters with a proposal.
     */
    void startConverging() {
        calm = true;
        deposeWhileCalm = false;
        for (Replica r : replicas.values()) {
            r.partitioned = false;
            if (!r.alive && master.contains(r.id)) {
                r.removed = false;
                restart(r);
            }
        }
        for (String id : universe) {
            Replica r = replicas.get(id);
            if (r.alive) {
                event(r, () -> r.core.configure(master, now));
            }
        }
        List<String> voters = master.voters().stream()
                .filter(id -> replicas.get(id).alive)
                .toList(); // all of them, unless (in a partition) the node is kept down
        Replica leader = replicas.get(voters.get(random.nextInt(voters.size())));
        convergingLeader = leader;
        elect(leader, true);
        proposeOn(leader);
    }

    /**
     * After a calm step of {@link #converge}: whether everything converged; if not and the leader gave up its term
     * (check quorum), the election runs again.
     */
    boolean convergedOrElectAgain() {
        Replica leader = convergingLeader;
        if (converged(leader)) {
            return true;
        }
        if (leader.core.role() == Role.FOLLOWER) {
            elect(leader, true); // it gave up its term (check quorum): the election runs again
            proposeOn(leader);
        }
        return false;
    }

    void failToConverge(int maxSteps) {
        fail("no convergence within " + maxSteps + " calm steps: "
                + replicas.values().stream().map(r -> r.core.toString()).toList());
    }

    private boolean converged(Replica leader) {
        if (leader.core.role() != Role.LEADER) {
            return false;
        }
        if (master.joint()) {
            return false; // the change must be activated (or cancelled) first
        }
        long end = leader.core.logEndOffset();
        for (Replica r : replicas.values()) {
            if (!master.contains(r.id)) {
                continue; // removed: stopped, or never added
            }
            if (r.core.commitOffset() < end || r.applied.size() < countData(end)) {
                return false;
            }
        }
        for (Map.Entry<Long, Long> a : acknowledged.entrySet()) {
            if (!committed.containsKey(a.getValue())) {
                fail("acknowledged proposal " + a.getKey() + " is not committed after convergence");
            }
        }
        return true;
    }

    private long countData(long end) {
        long n = 0;
        for (long o = 0; o < end; o++) {
            if (committed.containsKey(o) && committed.get(o).isData()) {
                n++;
            }
        }
        return n;
    }

    private void calmStep() {
        int k = random.nextInt(10);
        if (k < 5 && !network.isEmpty()) {
            deliver(network.remove(random.nextInt(network.size())));
        } else if (k < 8) {
            syncSome();
        } else if (k == 9 && changeRate > 0 && random.nextBoolean()) {
            Replica r = randomReplica();
            if (r.alive) {
                event(r, () -> r.core.configure(master, now));
            }
        } else {
            tickSome();
        }
    }

    private void step() {
        double x = random.nextDouble();
        if (x < 0.40) {
            if (!network.isEmpty()) {
                Message m = network.remove(random.nextInt(network.size()));
                if (random.nextDouble() < faults.drop()) {
                    record("drop " + m);
                } else {
                    if (random.nextDouble() < faults.duplicate()) {
                        network.add(m);
                    }
                    deliver(m);
                }
            }
            return;
        }
        x = (x - 0.40) / 0.60; // the rest of the step kinds, by weight
        if (changeRate > 0 && (x -= changeRate) < 0) {
            changeMembership();
        } else if (changeRate > 0 && (x -= 0.05) < 0) {
            Replica r = randomReplica();
            if (r.alive) {
                event(r, () -> r.core.configure(master, now)); // the replica's watch on the configuration fires
            }
        } else if ((x -= 0.22) < 0) {
            syncSome();
        } else if ((x -= 0.25) < 0) {
            tickSome();
        } else if ((x -= 0.30) < 0) {
            proposeOn(randomReplica());
        } else if ((x -= 0.04) < 0) {
            readBarrierOn(randomReplica());
        } else if ((x -= faults.processCrash()) < 0) {
            Replica r = randomReplica();
            if (r.alive) {
                processCrash(r, "process crash");
            }
        } else if ((x -= faults.powerLoss()) < 0) {
            powerLoss(randomReplica());
        } else if ((x -= 0.06) < 0) {
            Replica r = randomReplica();
            if (!r.alive) {
                restart(r);
            }
        } else if ((x -= faults.election()) < 0) {
            Replica r = randomReplica();
            if (r.alive && master.voters().contains(r.id)) { // only voters campaign
                elect(r, random.nextDouble() >= faults.zombie());
            }
        } else if ((x -= faults.partition()) < 0) {
            Replica r = randomReplica();
            r.partitioned = true;
            record("partition " + r.id);
        } else if ((x -= 0.03) < 0) {
            for (Replica r : replicas.values()) {
                r.partitioned = false;
            }
        } else if ((x -= 0.03) < 0) {
            takeSnapshot(randomReplica());
        }
    }

    /**
     * One membership step at the configuration master: with a change in progress, sometimes cancel it (back to the
     * previous voters, minting an epoch); otherwise add a learner (a spare, restarted with whatever data it has if
     * it was removed before), remove one, or change the voters (promote a learner, remove a voter, replace one by a
     * learner; between 3 and 5 voters) by a joint configuration minted with a new epoch. A change of the voters
     * revokes the running leaders (most of the time: the others go on as zombies, fenced by the promises).
     */
    void changeMembership() {
        Configuration c = master;
        double y = random.nextDouble();
        if (c.joint()) {
            if (y < 0.05) {
                master = new Configuration(c.version() + 1, c.previousVoters(), List.of(), c.learners());
                changesCancelled++;
                mintForChange("cancelled the change: back to " + master);
            }
            return;
        }
        List<String> outside = new ArrayList<>();
        for (String id : universe) {
            if (!c.contains(id)) {
                outside.add(id);
            }
        }
        List<String> voters = new ArrayList<>(c.voters());
        List<String> learners = new ArrayList<>(c.learners());
        if (y < 0.35) {
            if (outside.isEmpty()) {
                return;
            }
            String id = outside.get(random.nextInt(outside.size()));
            learners.add(id);
            master = new Configuration(c.version() + 1, voters, List.of(), learners);
            record("configuration " + master + ": " + id + " added as a learner");
            Replica r = replicas.get(id);
            r.wasMember = true;
            if (r.removed || !r.alive) {
                r.removed = false;
                restart(r);
            }
            return;
        }
        if (y < 0.45) {
            if (learners.isEmpty()) {
                return;
            }
            String id = learners.remove(random.nextInt(learners.size()));
            master = new Configuration(c.version() + 1, voters, List.of(), learners);
            record("configuration " + master + ": learner " + id + " removed");
            return;
        }
        int kind = random.nextInt(3);
        if (kind == 0 && !learners.isEmpty() && voters.size() < 5) {
            voters.add(learners.remove(random.nextInt(learners.size())));
        } else if (kind == 1 && voters.size() > 3) {
            voters.remove(random.nextInt(voters.size()));
        } else if (kind == 2 && !learners.isEmpty()) {
            voters.remove(random.nextInt(voters.size()));
            voters.add(learners.remove(random.nextInt(learners.size())));
        } else {
            return;
        }
        master = new Configuration(c.version() + 1, voters, c.voters(), learners);
        changesStarted++;
        mintForChange("change started: " + master);
    }

    /** The change's conditional multi also mints an epoch; the election then revokes the running leaders. */
    private void mintForChange(String what) {
        long epoch = ++epochs;
        record(what + " (epoch " + epoch + " minted)");
        if (random.nextDouble() < 0.7) {
            for (Replica o : replicas.values()) {
                if (o.alive && o.core.role() != Role.FOLLOWER) {
                    event(o, () -> o.core.resign(o.core.epoch(), now));
                }
            }
        }
    }

    /**
     * The replica snapshots its state machine at its applied offset (as {@code Replica} does on its apply and
     * snapshot threads) and tells its core, which compacts the log. The process may die while writing.
     */
    void takeSnapshot(Replica r) {
        long offset = appliedEnd(r);
        if (!r.alive
                || offset == 0
                || r.snapshots.latest().map(m -> m.id().offset() >= offset).orElse(false)) {
            return;
        }
        SnapshotId id = new SnapshotId(offset, r.log.epochAt(offset - 1));
        byte[] state = encodeState(r.applied);
        SnapshotMeta meta;
        try {
            meta = r.snapshots.write(id, r.log.epochHistory().truncatedTo(offset), ids, out -> out.write(state));
        } catch (SimulatedCrash c) {
            processCrash(r, c.getMessage());
            return;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        snapshotsTaken++;
        record(r.id + " took snapshot " + id);
        event(r, () -> r.core.snapshotTaken(meta, now));
    }

    /** The replicas this log is replicated on (with membership changes: every replica that may be added). */
    List<String> replicaSet() {
        return List.copyOf(universe);
    }

    private Replica randomReplica() {
        return replicas.get(universe.get(random.nextInt(universe.size())));
    }

    private void syncSome() {
        sync(randomReplica());
    }

    /** The replica's log sync completes, if it asked for one. */
    void sync(Replica r) {
        if (r.alive && r.syncRequested) {
            r.syncRequested = false;
            long end = r.log.sync();
            long epoch = end == 0 ? 0 : r.log.epochAt(end - 1);
            record("sync " + r.id + " to " + end);
            event(r, () -> r.core.logSynced(end, epoch, now));
        }
    }

    /** With a write-ahead log: {@code r} asks for a sync of what its log holds now. */
    void walRequest(Replica r) {
        if (r.walPending != null) {
            r.walWanted = true;
            return;
        }
        long end = r.log.logEndOffset();
        r.walPending = new Synced(end, end == 0 ? 0 : r.log.epochAt(end - 1));
        r.walForced = false;
    }

    /** The node's write-ahead log was forced: everything {@code r}'s log holds is durable, its request covered. */
    void walForced(Replica r) {
        if (r.alive) {
            r.log.sync();
            if (r.promises.pending) { // recorded before the force: durable with the log
                r.promises.durable = r.promises.visible;
                r.promises.pending = false;
            }
            if (r.walPending != null) {
                r.walForced = true;
            }
        }
    }

    /** {@code r}'s covered request is acknowledged to it (unless the defect acknowledges it uncovered). */
    void walDeliver(Replica r) {
        if (r.alive && r.held != null && !r.promises.pending) {
            List<Action> held = r.held;
            r.held = null;
            record(r.id + " promise " + r.promises.durable + " durable: " + held.size() + " held actions run");
            process(r, held);
        }
        if (!r.alive || r.walPending == null || !(r.walForced || hasDefect(r.id, Defect.WAL_ACK_BEFORE_FORCE))) {
            return;
        }
        Synced s = r.walPending;
        r.walPending = null;
        walSyncs++;
        if (r.walWanted) {
            r.walWanted = false;
            walRequest(r);
        }
        record("wal sync " + r.id + " to " + s.endOffset() + (r.walForced ? "" : " (not forced)"));
        event(r, () -> r.core.logSynced(s.endOffset(), s.epoch(), now));
    }

    private void tickSome() {
        now += 1_000_000L * (1 + random.nextInt(20));
        tick(randomReplica());
    }

    void tick(Replica r) {
        if (r.alive) {
            if (r.core.role() == Role.LEADER && r.core.quiescent()) {
                quietLeaderTicks++;
            }
            event(r, () -> r.core.tick(now));
        }
    }

    /**
     * In a partition: {@code r}'s node last heard from node {@code peer} at {@code atNanos} (a message of any partition
     * or a ping), which a quiet leader counts for check-quorum.
     */
    void heard(Replica r, String peer, long atNanos) {
        if (!r.alive) {
            return;
        }
        if (r.core.role() == Role.LEADER) {
            event(r, () -> r.core.heard(peer, atNanos));
        } else if (fastFailover) {
            // A follower counts its node's hearing of the leader's node as hearing the leader (fast failover); the
            // other schedules skip it, so that they draw the same random numbers as before.
            nodeHeardInTruth.merge(r.id + "<" + peer, atNanos, Math::max);
            event(r, () -> r.core.heard(peer, atNanos));
        }
    }

    /** In a partition: the world's clock moved on. */
    void clock(long nowNanos) {
        this.now = nowNanos;
    }

    /** No faults from now on, not even inside a store (a partition's world converging). */
    void calm() {
        this.calm = true;
    }

    /**
     * Calm, but a majority's suspicions still depose (a scenario that watches fast failover alone move a dead node's
     * partitions); converging turns deposes off again.
     */
    void calmWithDeposes() {
        this.calm = true;
        this.deposeWhileCalm = true;
    }

    /** A read barrier on {@code r}, if it runs. */
    void readBarrierOn(Replica r) {
        if (r.alive) {
            long id = nextProposal++;
            event(r, () -> r.core.readBarrier(id, now));
        }
    }

    /** Proposes a new payload on {@code r}; returns the proposal's id, or -1 if r does not run. */
    long proposeOn(Replica r) {
        if (!r.alive) {
            return -1;
        }
        long id = nextProposal++;
        String payload = payloadPrefix + "v" + id;
        proposals.put(id, payload);
        event(r, () -> r.core.propose(id, payload.getBytes(StandardCharsets.UTF_8), now));
        return id;
    }

    /** The election: a new, strictly greater epoch for {@code r}; the previous leader may keep running. */
    void elect(Replica r, boolean resignOthers) {
        long epoch = ++epochs;
        elections++;
        lastElected = r.id;
        epochLeaders.put(epoch, r.id);
        record("elect " + r.id + " epoch " + epoch + (resignOthers ? "" : " (old leader keeps running)"));
        if (resignOthers) {
            for (Replica o : replicas.values()) {
                if (o != r && o.alive && o.core.role() != Role.FOLLOWER) {
                    event(o, () -> o.core.resign(o.core.epoch(), now));
                }
            }
        }
        if (defect == Defect.NEW_VOTERS_ONLY_DURING_A_CHANGE && master.joint()) {
            master = master.activated(); // the defect: the new voters count alone from the change on
            changesActivated++;
        }
        Configuration c = master;
        event(r, () -> r.core.becomeLeader(epoch, c, now));
    }

    /**
     * An election run outside this simulation (the controller, issue 17) made {@code r} leader of {@code epoch}: the
     * epoch is given, not minted, so the caller must never give one epoch to two replicas (its own invariants check
     * that). Unlike {@link #elect}, no other leader is resigned: ending terms is the caller's business ({@link
     * #revoke}).
     */
    void lead(Replica r, long epoch) {
        elections++;
        lastElected = r.id;
        epochLeaders.put(epoch, r.id);
        epochs = Math.max(epochs, epoch);
        record("lead " + r.id + " epoch " + epoch + " (given by the controller)");
        Configuration c = master;
        event(r, () -> r.core.becomeLeader(epoch, c, now));
    }

    /** As {@link #lead(Replica, long)}, under {@code c}: the configuration the outside election gave with the epoch. */
    void lead(Replica r, long epoch, Configuration c) {
        elections++;
        lastElected = r.id;
        epochLeaders.put(epoch, r.id);
        epochs = Math.max(epochs, epoch);
        record("lead " + r.id + " epoch " + epoch + " under " + c + " (given by the controller)");
        event(r, () -> r.core.becomeLeader(epoch, c, now));
    }

    /** The configuration master outside this simulation hands {@code r} the configuration {@code c}. */
    void configure(Replica r, Configuration c) {
        if (r.alive) {
            event(r, () -> r.core.configure(c, now));
        }
    }

    /**
     * A replica on {@code id} joins this partition's universe (a reassignment outside this simulation adds it), down
     * until its host starts it; nothing if it exists.
     */
    Replica addReplica(String id) {
        Replica r = replicas.get(id);
        if (r == null) {
            r = new Replica(id);
            r.alive = false;
            universe.add(id);
            replicas.put(id, r);
            record("replica " + id + " added to the universe");
        }
        return r;
    }

    /** {@code r}'s host closes it for good and deletes its data: a reassignment removed it. */
    void close(Replica r) {
        record("close " + r.id + " (removed from the partition)");
        r.alive = false;
        r.removed = true;
        dropMessagesTo(r.id);
    }

    /** The term of {@code epoch} that {@code r} was given by an election run outside this simulation is over. */
    void revoke(Replica r, long epoch) {
        record("revoke " + r.id + " epoch " + epoch);
        if (r.alive) {
            event(r, () -> r.core.resign(epoch, now));
        }
    }

    /**
     * The simulated ZooKeeper's depose: once the voters suspecting the leader of {@code epoch} (the leader itself never
     * counts) are a majority of the configuration's voters — of both sets during a change — and {@code epoch} is still
     * the latest (the depose is conditional on the epoch node), the next participant in line, a running voter other
     * than the deposed leader, is granted a newer epoch. The deposed leader keeps running: only the promises fence it.
     */
    private void deposeIfAMajoritySuspects(long epoch) {
        String leader = epochLeaders.get(epoch);
        Set<String> suspecting = suspicions.getOrDefault(epoch, Set.of());
        if ((calm && !deposeWhileCalm)
                || epoch != epochs
                || leader == null
                || !master.hasQuorum(id -> !id.equals(leader) && suspecting.contains(id))) {
            return;
        }
        List<Replica> inLine = replicas.values().stream()
                .filter(x -> x.alive && !x.removed && master.voters().contains(x.id) && !x.id.equals(leader))
                .sorted(java.util.Comparator.comparing(x -> x.id))
                .toList();
        if (inLine.isEmpty()) {
            return; // nobody else takes part in the election
        }
        deposes++;
        if (replicas.get(leader).alive) {
            deposesOfARunningLeader++;
        }
        deposedEpochs.add(epoch);
        record("depose " + leader + ", the leader of epoch " + epoch + ", suspected by "
                + new java.util.TreeSet<>(suspecting));
        elect(inLine.get(random.nextInt(inLine.size())), false);
    }

    /**
     * Fast failover, rule 1 (docs/replication.md): a suspicion of the leader of the epoch a replica still promises is
     * withdrawn only on news — a message from that leader, or a hearing of its node, later than everything the replica
     * had heard of it when it suspected. A withdrawal on anything older makes the suspicion flap after the leader died
     * (withdrawn at one tick, raised again at the next), and no majority of suspicions stands long enough to depose.
     * A withdrawal because the promise moved on (a new term, a removal) is not news and is not checked here.
     */
    private void checkWithdrawalOnNews(Replica r, long epoch, boolean removedNow) {
        Suspected then = suspectedBy.remove(r.id + "@" + epoch);
        if (then == null || removedNow || r.removed || r.core.epoch() != epoch) {
            return; // a new term or a removal withdrew it
        }
        suspicionsWithdrawnOnNews++;
        String leader = then.leader();
        long heard = nodeHeardInTruth.getOrDefault(r.id + "<" + leader, Long.MIN_VALUE);
        long messages = messagesDelivered.getOrDefault(r.id + "<" + leader, 0L);
        if (heard <= then.nodeHeard() && messages <= then.messages()) {
            fail(r.id + " withdrew its suspicion of " + leader + ", the leader of epoch " + epoch
                    + ", without news: no message from it since it suspected it, and its node's latest hearing is from "
                    + heard + " ns, as then");
        }
    }

    /** Runs one event on {@code r} and executes its actions; a process that dies inside the event stops. */
    private void event(Replica r, Runnable event) {
        try {
            event.run();
        } catch (SimulatedCrash c) {
            processCrash(r, c.getMessage());
            return;
        }
        drain(r);
    }

    /** The process dies: what it wrote stays in the page cache, messages to it are lost. */
    void processCrash(Replica r, String why) {
        processCrashes++;
        record("crash " + r.id + ": " + why);
        r.alive = false;
        r.held = null;
        if (writeAheadLog && r.promises.pending && random.nextBoolean()) {
            // The write-ahead log's buffer died with the process before the writer wrote it: the promise and every
            // record after it are lost (recovery cuts the partition's files at what its records cover).
            record(r.id + " lost its unwritten write-ahead log buffer, promise " + r.promises.visible);
            r.promises.powerLoss();
            r.log.powerLoss();
        }
        dropMessagesTo(r.id);
        if (host != null) {
            host.processDied(this, r.id, why);
        }
    }

    private void send(Replica r, Message m) {
        if (host != null) {
            host.send(this, m);
        } else if (!r.partitioned) {
            network.add(m);
        }
    }

    private void dropMessagesTo(String id) {
        if (host != null) {
            host.dropMessagesTo(this, id);
        } else {
            network.removeIf(m -> m.to().equals(id));
        }
    }

    /** The machine loses power: the process (if running) dies and everything not synced is gone. */
    void powerLoss(Replica r) {
        powerLosses++;
        record("power loss " + r.id + (r.alive ? "" : " (already down)"));
        r.alive = false;
        r.held = null;
        r.log.powerLoss();
        r.promises.powerLoss();
        dropMessagesTo(r.id);
    }

    void restart(Replica r) {
        record("restart " + r.id);
        for (Set<String> s : suspicions.values()) {
            s.remove(r.id); // a new session: the old one's ephemeral suspicions are gone
        }
        r.alive = true;
        r.syncRequested = false;
        r.walPending = null;
        r.walForced = false;
        r.walWanted = false;
        if (hasDefect(r.id, Defect.OPEN_LOG_WITHOUT_FORCING)) {
            r.log.reopenWithoutForcing();
        } else {
            r.log.reopen();
        }
        r.promises.reopen();
        r.snapshots.reopen();
        r.core = newCore(r);
        r.applied.clear();
        r.checkedCommit = 0;
        if (random.nextDouble() < 0.8) {
            r.core.configure(master, now); // read at start; otherwise its watch delivers it later
        }
        Optional<SnapshotMeta> latest = r.snapshots.latest();
        if (latest.isPresent()) {
            restartsFromSnapshot++;
            restore(r, latest.get().id(), "restart");
        }
        drain(r);
    }

    /**
     * Delivers {@code m} to its receiver in this simulation (in a partition: the world found the link up). A
     * message from or to a replica outside this log's replicas fails: a partition hears only its replica set.
     */
    void deliver(Message m) {
        Replica to = replicas.get(m.to());
        Replica from = replicas.get(m.from());
        if (to == null || from == null) {
            fail((name.isEmpty() ? "" : "partition " + name + " ") + "received " + m + " from outside its replica set "
                    + universe);
        }
        if (!to.alive || to.partitioned || from.partitioned) {
            record("lost " + m);
            return;
        }
        record("deliver " + m);
        messagesDelivered.merge(to.id + "<" + from.id, 1L, Long::sum);
        event(to, () -> to.core.receive(m, now));
    }

    private void drain(Replica r) {
        List<Action> actions = r.core.takeActions();
        boolean removedNow = actions.stream().anyMatch(a -> a instanceof Action.Removed);
        for (Action a : actions) { // as the core produced them, whether held or not
            if (a instanceof Action.LeaderSuspected ls) {
                String from = r.id + "<" + ls.leader();
                suspectedBy.put(
                        r.id + "@" + ls.epoch(),
                        new Suspected(
                                ls.leader(),
                                nodeHeardInTruth.getOrDefault(from, Long.MIN_VALUE),
                                messagesDelivered.getOrDefault(from, 0L)));
            } else if (a instanceof Action.SuspicionCleared sc) {
                checkWithdrawalOnNews(r, sc.epoch(), removedNow);
            }
        }
        if (writeAheadLog
                && (r.promises.pending || r.held != null)
                && !hasDefect(r.id, Defect.SEND_BEFORE_PROMISE_DURABLE)) {
            // A promise recorded and not yet forced: nothing of this step, or of a later one, leaves the replica
            // until it is (Replica does the same for a DeferredPromiseStore).
            if (r.held == null) {
                r.held = new ArrayList<>();
            }
            r.held.addAll(actions);
            return;
        }
        process(r, actions);
    }

    private void process(Replica r, List<Action> actions) {
        List<Message> forged = new ArrayList<>();
        boolean activated = false;
        long suspected = 0;
        for (Action a : actions) {
            if (a instanceof Action.Send s) {
                if (s.message().epoch() > r.promises.durable.epoch()) {
                    fail(r.id + " sends " + s.message() + " of an epoch above its durable promise " + r.promises.durable
                            + " (promised: " + r.promises.visible + ")");
                }
                send(r, s.message());
                if (hasDefect(r.id, Defect.DEPOSED_LEADER_KEEPS_ACKNOWLEDGING)
                        && s.message() instanceof Message.Append ap
                        && !ap.entries().isEmpty()
                        && deposedEpochs.contains(ap.epoch())) {
                    forged.add(new Message.AppendAck(
                            ap.to(),
                            ap.from(),
                            ap.epoch(),
                            ap.prevOffset() + 1 + ap.entries().size(),
                            ap.probe()));
                }
                if (hasDefect(r.id, Defect.FORGED_ACKS)
                        && s.message() instanceof Message.Append ap
                        && !ap.entries().isEmpty()) {
                    forged.add(new Message.AppendAck(
                            ap.to(),
                            ap.from(),
                            ap.epoch(),
                            ap.prevOffset() + 1 + ap.entries().size(),
                            ap.probe()));
                }
            } else if (a instanceof Action.SyncLog) {
                if (writeAheadLog) {
                    walRequest(r);
                } else {
                    r.syncRequested = true;
                }
            } else if (a instanceof Action.Apply c) {
                apply(r, c.applyOffset());
            } else if (a instanceof Action.RestoreSnapshot rs) {
                snapshotsInstalled++;
                if (r.core.role() == Role.RECOVERING) {
                    installsWhileRecovering++;
                }
                SnapshotId id = rs.snapshot().id();
                if (hasDefect(r.id, Defect.RESTORE_OLDER_SNAPSHOT)) {
                    id = r.snapshots.oldestKept().map(SnapshotMeta::id).orElse(id);
                }
                restore(r, id, "install");
            } else if (a instanceof Action.ProposalCommitted pc) {
                record(r.id + " acknowledges proposal " + pc.proposalId() + " at " + pc.epoch() + ":" + pc.offset());
                checkCommittedOn(r);
                Entry e = committed.get(pc.offset());
                String expected = proposals.get(pc.proposalId());
                if (e == null || e.epoch() != pc.epoch() || !payload(e).equals(expected)) {
                    fail("proposal " + pc.proposalId() + " (" + expected + ") acknowledged at " + pc.offset()
                            + " but committed there is " + e);
                }
                acknowledged.put(pc.proposalId(), pc.offset());
            } else if (a instanceof Action.ProposalFailed pf) {
                if (pf.failure().definitelyNotApplied()) {
                    String p = proposals.get(pf.proposalId());
                    if (p != null) {
                        if (committedPayloads.contains(p)) {
                            fail("proposal " + p + " reported definitely failed (" + pf.failure()
                                    + ") but is committed");
                        }
                        definitelyFailed.add(p);
                    }
                } else {
                    unknownOutcomes++;
                }
            } else if (a instanceof Action.ReadReady rr) {
                if (rr.readOffset() > r.core.commitOffset()) {
                    fail("read ready at " + rr.readOffset() + " beyond commit " + r.core.commitOffset());
                }
                readsServed++;
            } else if (a instanceof Action.Fenced f) {
                record(r.id + " fenced: epoch " + f.epoch() + " < " + f.promisedEpoch());
                if (host != null) {
                    host.steppedDown(this, r.id, f.epoch());
                }
            } else if (a instanceof Action.LeaderSuspected ls) {
                suspicionsReported++;
                record(r.id + " suspects " + ls.leader() + ", the leader of epoch " + ls.epoch());
                if (!fastFailover) {
                    fail(r.id + " suspected a leader with fast failover off");
                }
                suspicions.computeIfAbsent(ls.epoch(), e -> new HashSet<>()).add(r.id);
                suspected = ls.epoch();
            } else if (a instanceof Action.SuspicionCleared sc) {
                Set<String> s = suspicions.get(sc.epoch());
                if (s != null) {
                    s.remove(r.id);
                }
            } else if (a instanceof Action.QuorumLost q) {
                quorumLosses++;
                record(r.id + " lost its quorum in epoch " + q.epoch() + " and stepped down");
                if (host != null) {
                    host.steppedDown(this, r.id, q.epoch());
                }
            } else if (a instanceof Action.RoleChanged rc) {
                record(r.id + " is " + rc.role() + " of epoch " + rc.epoch());
            } else if (a instanceof Action.ActivateConfiguration ac
                    && host != null
                    && host.activate(this, r.id, ac.epoch(), ac.joint())) {
                record(r.id + " asked its host to activate " + ac.joint() + " in epoch " + ac.epoch());
            } else if (a instanceof Action.ActivateConfiguration ac) {
                // A fenced transaction: the leader's epoch must be the latest, the configuration the current one.
                if (ac.epoch() == epochs && master.equals(ac.joint())) {
                    master = master.activated();
                    changesActivated++;
                    record(r.id + " activated " + master + " in epoch " + ac.epoch());
                    activated = true;
                } else {
                    record(r.id + " could not activate " + ac.joint() + " in epoch " + ac.epoch());
                }
            } else if (a instanceof Action.Removed rm) {
                if (!r.id.startsWith("s") || r.wasMember) {
                    removals++; // a spare never added is told so too: that is no removal
                }
                record(r.id + " removed by " + rm.configuration() + ": it stops");
                r.removed = true;
                r.alive = false;
                dropMessagesTo(r.id);
            }
        }
        for (Message m : forged) {
            if (!r.alive) {
                return;
            }
            record("forged " + m);
            event(r, () -> r.core.receive(m, now));
        }
        if (suspected != 0) {
            deposeIfAMajoritySuspects(suspected);
        }
        if (activated && r.alive) {
            event(r, () -> r.core.configure(master, now)); // its own watch reports the write
        }
    }

    private void apply(Replica r, long applyOffset) {
        checkCommittedOn(r);
        if (checkApplyIsDurable && applyOffset > r.log.durablePrefix()) {
            fail(r.id + " may apply up to " + applyOffset + " but its log is durable only below "
                    + r.log.durablePrefix());
        }
        if (appliedEnd(r) < r.core.applyOffset() && appliedEnd(r) < r.log.logStartOffset()) {
            fail(r.id + " applied up to " + appliedEnd(r) + " but its log starts at " + r.log.logStartOffset()
                    + ": committed entries " + appliedEnd(r) + ".." + r.log.logStartOffset() + " are missing from its"
                    + " state");
        }
        for (long o = appliedEnd(r); o < applyOffset; o++) {
            Entry e = r.log.get(o);
            Entry c = committed.get(o);
            if (!e.equals(c)) {
                fail(r.id + " applies " + e + " at " + o + " but committed there is " + c);
            }
            r.applied.add(e);
        }
    }

    /**
     * Replaces r's state machine with snapshot {@code id}'s state, checking that it is the committed prefix up to the
     * snapshot's offset; applying goes on from the core's apply offset.
     */
    private void restore(Replica r, SnapshotId id, String why) {
        List<Entry> state;
        try (InputStream in = r.snapshots.openState(id)) {
            state = decodeState(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        record(r.id + " restores snapshot " + id + " (" + why + ")");
        for (int o = 0; o < state.size(); o++) {
            Entry e = state.get(o);
            if (e.offset() != o || !e.equals(committed.get((long) o))) {
                fail(r.id + " restored snapshot " + id + " holding " + e + " at " + o + " but committed there is "
                        + committed.get((long) o));
            }
        }
        r.applied.clear();
        r.applied.addAll(state);
    }

    private long appliedEnd(Replica r) {
        return r.applied.isEmpty() ? 0 : r.applied.get(r.applied.size() - 1).offset() + 1;
    }

    private static String payload(Entry e) {
        return new String(e.payload(), StandardCharsets.UTF_8);
    }

    /** Records r's newly committed entries in the global map, failing on any disagreement. */
    private void checkCommittedOn(Replica r) {
        long c = r.core.commitOffset();
        if (c > r.log.logEndOffset()) {
            fail(r.id + " commit offset " + c + " beyond its log end " + r.log.logEndOffset());
        }
        for (long o = Math.max(r.checkedCommit, r.log.logStartOffset()); o < c; o++) {
            Entry e = r.log.get(o);
            Entry prior = committed.putIfAbsent(o, e);
            if (prior != null && !prior.equals(e)) {
                fail("offset " + o + " committed as " + prior + " and as " + e + " on " + r.id);
            }
            if (prior == null && e.isData()) {
                String p = payload(e);
                if (!committedPayloads.add(p)) {
                    fail("payload " + p + " committed twice (again at " + o + ")");
                }
                if (definitelyFailed.contains(p)) {
                    fail("payload " + p + " was reported definitely failed but committed at " + o);
                }
            }
        }
        r.checkedCommit = Math.max(r.checkedCommit, c);
    }

    void checkInvariants() {
        for (Replica r : replicas.values()) {
            if (!r.alive) {
                continue;
            }
            checkCommittedOn(r);
            // A promise not yet forced may be lost with the write-ahead log's buffer (nothing acted on it): the
            // durable one never goes back.
            long promised = writeAheadLog
                    ? r.promises.durable.epoch()
                    : r.promises.load().epoch();
            if (promised < r.maxEpochSeen) {
                fail(r.id + " promise went back from " + r.maxEpochSeen + " to " + promised);
            }
            r.maxEpochSeen = promised;
            // Entries below the replica's commit offset are the committed ones (also after truncations).
            long c = r.core.commitOffset();
            if (c > 0 && c - 1 < r.log.logStartOffset()) {
                if (committed.get(c - 1) == null
                        || r.log.epochAt(c - 1) != committed.get(c - 1).epoch()) {
                    fail(r.id + " has epoch " + r.log.epochAt(c - 1) + " at " + (c - 1) + " below its commit offset,"
                            + " committed is " + committed.get(c - 1));
                }
            } else if (c > 0 && !r.log.get(c - 1).equals(committed.get(c - 1))) {
                fail(r.id + " holds " + r.log.get(c - 1) + " below its commit offset, committed is "
                        + committed.get(c - 1));
            }
        }
        for (long o = 0; o < committed.size(); o++) {
            if (!committed.containsKey(o)) {
                fail("committed offsets have a gap at " + o);
            }
        }
    }

    private void record(String event) {
        trace.addLast("t=" + now / 1_000_000 + "ms " + (name.isEmpty() ? "" : name + " ") + event);
        if (trace.size() > TRACE_EVENTS) {
            trace.removeFirst();
        }
    }

    void fail(String why) {
        throw failure(why, null);
    }

    private AssertionError failure(String why, Throwable cause) {
        return new AssertionError(
                (name.isEmpty()
                                ? "simulation seed=" + seed
                                : "partitioned simulation seed=" + seed + ", partition " + name)
                        + ": " + why + "\nlast events:\n  " + String.join("\n  ", trace),
                cause);
    }
}
