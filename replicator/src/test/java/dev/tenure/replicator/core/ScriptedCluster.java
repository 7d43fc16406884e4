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

import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import dev.tenure.replicator.testing.InMemorySnapshotStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Replicas driven step by step for scenario tests: the test decides which messages are delivered, which
 * links are cut, when logs are synced and which replicas crash.
 */
final class ScriptedCluster {
    /** A proposal's fate as the leader reported it. */
    enum Outcome {
        PENDING,
        COMMITTED,
        NOT_LEADER,
        OVERLOADED,
        UNKNOWN
    }

    final class Node {
        final String id;
        final InMemoryReplicaLog log = new InMemoryReplicaLog();
        final InMemoryPromiseStore promises = new InMemoryPromiseStore();
        InMemorySnapshotStore snapshots = new InMemorySnapshotStore();
        /** The state machine: "epoch:payload" of every applied entry, in order. */
        final List<String> applied = new ArrayList<>();

        ReplicaCore core;
        boolean alive = true;
        boolean autoSync = true;
        final List<Action> actions = new ArrayList<>();

        Node(String id) {
            this.id = id;
            this.core = new ReplicaCore(config(id), log, promises, snapshots, now);
        }

        /** Snapshots the applied state and tells the core (which compacts the log). */
        SnapshotMeta snapshot() {
            long offset = applied.size();
            SnapshotId sid = new SnapshotId(offset, log.epochAt(offset - 1));
            byte[] state = String.join("\n", applied).getBytes(StandardCharsets.UTF_8);
            try {
                SnapshotMeta meta =
                        snapshots.write(sid, log.epochHistory().truncatedTo(offset), ids, out -> out.write(state));
                core.snapshotTaken(meta, now);
                drain(this);
                return meta;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The log as "epoch:payload" strings ("epoch:" for epoch-start entries). */
        List<String> entries() {
            List<String> list = new ArrayList<>();
            for (long o = log.logStartOffset(); o < log.logEndOffset(); o++) {
                Entry e = log.get(o);
                list.add(e.epoch() + ":" + new String(e.payload(), StandardCharsets.UTF_8));
            }
            return list;
        }

        List<Long> epochs() {
            List<Long> list = new ArrayList<>();
            for (long o = log.logStartOffset(); o < log.logEndOffset(); o++) {
                list.add(log.get(o).epoch());
            }
            return list;
        }
    }

    private final List<String> ids;
    /** The voters the log was created with (every node, unless made with {@link #withVoters}). */
    private List<String> initialVoters;
    /** Entries kept below a snapshot when compacting; most bytes per append, fetch or snapshot chunk. */
    long catchUpTail = 5_000;

    long maxBatchBytes = 1 << 20;
    /** Per-replica overrides of {@link #maxBatchBytes}, applied when a core is created (or restarted). */
    final Map<String, Long> maxBatchBytesOf = new HashMap<>();
    /** Snapshot chunk requests an installing replica keeps unanswered. */
    int snapshotChunksInFlight = 8;
    /** Whether idle leaders go quiet ({@link CoreConfig#quiesce()}). */
    boolean quiesce;
    /** Fast failover: the suspicion timeout and minimum term ({@link CoreConfig#suspicionNanos()}); 0 is off. */
    long suspicionMs;

    long minimumTermMs;

    final Map<String, Node> nodes = new LinkedHashMap<>();
    final List<Message> inflight = new ArrayList<>();
    private final Set<String> cut = new HashSet<>();
    final Map<Long, Outcome> outcomes = new HashMap<>();
    final Map<Long, String> payloads = new HashMap<>();
    private long now;
    private long nextId;

    ScriptedCluster(String... ids) {
        this.ids = List.of(ids);
        this.initialVoters = List.of(ids);
        for (String id : ids) {
            nodes.put(id, new Node(id));
        }
    }

    private CoreConfig config(String id) {
        return CoreConfig.builder(id, initialVoters)
                .maxBatchEntries(2)
                .maxInflightBatches(8)
                .catchUpTailEntries(catchUpTail)
                .maxBatchBytes(maxBatchBytesOf.getOrDefault(id, maxBatchBytes))
                .snapshotChunksInFlight(snapshotChunksInFlight)
                .quiesce(quiesce)
                .fastFailover(Duration.ofMillis(suspicionMs), Duration.ofMillis(minimumTermMs))
                .build();
    }

    /** A cluster whose replicas keep {@code tail} entries below a snapshot and send chunks of {@code chunkBytes}. */
    static ScriptedCluster withSnapshots(long tail, long chunkBytes, String... ids) {
        return withSnapshots(tail, chunkBytes, 8, ids);
    }

    /** As {@link #withSnapshots(long, long, String...)}, keeping up to {@code chunksInFlight} chunk requests. */
    static ScriptedCluster withSnapshots(long tail, long chunkBytes, int chunksInFlight, String... ids) {
        ScriptedCluster c = new ScriptedCluster(ids);
        c.catchUpTail = tail;
        c.maxBatchBytes = chunkBytes;
        c.snapshotChunksInFlight = chunksInFlight;
        for (Node n : c.nodes.values()) {
            n.core = new ReplicaCore(c.config(n.id), n.log, n.promises, n.snapshots, c.now);
        }
        return c;
    }

    /** A cluster whose idle leaders go quiet ({@link CoreConfig#quiesce()}). */
    static ScriptedCluster withQuiescence(String... ids) {
        ScriptedCluster c = new ScriptedCluster(ids);
        c.quiesce = true;
        for (Node n : c.nodes.values()) {
            n.core = new ReplicaCore(c.config(n.id), n.log, n.promises, n.snapshots, c.now);
        }
        return c;
    }

    /** A cluster whose followers suspect a silent leader after {@code suspicionMs}, not before {@code minimumTermMs}. */
    static ScriptedCluster withFastFailover(long suspicionMs, long minimumTermMs, String... ids) {
        ScriptedCluster c = new ScriptedCluster(ids);
        c.suspicionMs = suspicionMs;
        c.minimumTermMs = minimumTermMs;
        for (Node n : c.nodes.values()) {
            n.core = new ReplicaCore(c.config(n.id), n.log, n.promises, n.snapshots, c.now);
        }
        return c;
    }

    /** The transport of {@code id} found the port of {@code peer} closed. */
    void connectionRefused(String id, String peer) {
        Node n = node(id);
        n.core.connectionRefused(peer, now);
        drain(n);
    }

    /** Nodes {@code all}, of which only {@code voters} are in the configuration the log was created with. */
    static ScriptedCluster withVoters(List<String> voters, String... all) {
        ScriptedCluster c = new ScriptedCluster(all);
        c.initialVoters = List.copyOf(voters);
        for (Node n : c.nodes.values()) {
            n.core = new ReplicaCore(c.config(n.id), n.log, n.promises, n.snapshots, c.now);
        }
        return c;
    }

    /** The configuration master's watch fires on {@code id}: it is given {@code config}. */
    void configure(String id, Configuration config) {
        Node n = node(id);
        n.core.configure(config, now);
        drain(n);
    }

    /** Every live node is given {@code config}. */
    void configureAll(Configuration config) {
        for (Node n : nodes.values()) {
            if (n.alive) {
                configure(n.id, config);
            }
        }
    }

    /** The election makes {@code id} leader of {@code epoch} under {@code config}, read after the mint. */
    void elect(String id, long epoch, Configuration config) {
        node(id).core.becomeLeader(epoch, config, now);
        drain(node(id));
    }

    long now() {
        return now;
    }

    Node node(String id) {
        return nodes.get(id);
    }

    /** Replaces a node's log and promise before anything ran (for scenarios that start from given logs). */
    void preload(String id, long promisedEpoch, long... epochs) {
        Node n = node(id);
        List<Entry> batch = new ArrayList<>();
        for (int o = 0; o < epochs.length; o++) {
            batch.add(Entry.data(epochs[o], o, ("e" + epochs[o] + "o" + o).getBytes(StandardCharsets.UTF_8)));
        }
        n.log.append(batch);
        n.log.sync();
        n.promises.store(new Promise(promisedEpoch, ""));
        n.core = new ReplicaCore(config(id), n.log, n.promises, now);
    }

    void elect(String id, long epoch) {
        node(id).core.becomeLeader(epoch, now);
        drain(node(id));
    }

    void resign(String id) {
        Node n = node(id);
        n.core.resign(n.core.epoch(), now);
        drain(n);
    }

    long propose(String id, String payload) {
        long pid = nextId++;
        payloads.put(pid, payload);
        outcomes.put(pid, Outcome.PENDING);
        node(id).core.propose(pid, payload.getBytes(StandardCharsets.UTF_8), now);
        drain(node(id));
        return pid;
    }

    /** Cuts both directions between two nodes. */
    void cut(String a, String b) {
        cut.add(a + ">" + b);
        cut.add(b + ">" + a);
    }

    /** Cuts a node off from every other. */
    void isolate(String id) {
        for (String o : ids) {
            if (!o.equals(id)) {
                cut(id, o);
            }
        }
    }

    void healAll() {
        cut.clear();
    }

    /** The node's machine loses power: the node stops and its log loses everything not synced. */
    void powerLoss(String id) {
        Node n = node(id);
        n.alive = false;
        n.log.powerLoss();
        n.actions.clear();
        inflight.removeIf(m -> m.to().equals(id));
    }

    /** The node's process is killed: it stops, and its log keeps what it wrote (the page cache survives). */
    void processCrash(String id) {
        Node n = node(id);
        n.alive = false;
        n.actions.clear();
        inflight.removeIf(m -> m.to().equals(id));
    }

    /** Restarts a stopped node: its log is reopened (forcing what it finds) and a new core is built on it. */
    void restart(String id) {
        Node n = node(id);
        n.alive = true;
        n.log.reopen();
        n.core = new ReplicaCore(config(id), n.log, n.promises, n.snapshots, now);
        n.applied.clear();
        n.snapshots.latest().ifPresent(m -> restore(n, m));
        drain(n);
    }

    void sync(String id) {
        Node n = node(id);
        long end = n.log.sync();
        n.core.logSynced(end, end == 0 ? 0 : n.log.epochAt(end - 1), now);
        drain(n);
    }

    /**
     * Delivers messages (and syncs auto-sync nodes) until nothing moves; messages over cut links or to
     * crashed nodes are lost. Returns the number delivered.
     */
    int settle() {
        return settleDropping(m -> false);
    }

    /** As {@link #settle()}, losing every message that matches {@code drop}. */
    int settleDropping(Predicate<Message> drop) {
        int delivered = 0;
        for (int round = 0; round < 10_000; round++) {
            boolean moved = false;
            for (Node n : nodes.values()) {
                if (n.alive && n.autoSync && n.log.logEndOffset() > n.core.durableOffset()) {
                    sync(n.id);
                    moved = true;
                }
            }
            List<Message> batch = new ArrayList<>(inflight);
            inflight.clear();
            for (Message m : batch) {
                if (deliverable(m) && !drop.test(m)) {
                    deliver(m);
                    delivered++;
                    moved = true;
                }
            }
            if (!moved) {
                return delivered;
            }
        }
        throw new AssertionError("the cluster did not settle");
    }

    /** Advances time by {@code ms} on every live node (retries, heartbeats), then settles. */
    void tick(long ms) {
        tickOnly(ms);
        settle();
    }

    /** Advances time by {@code ms} on every live node, leaving what the ticks send in flight. */
    void tickOnly(long ms) {
        now += ms * 1_000_000L;
        for (Node n : nodes.values()) {
            if (n.alive) {
                n.core.tick(now);
                drain(n);
            }
        }
    }

    /** Delivers, once, the in-flight messages of {@code type} (not what they cause: those stay in flight). */
    void deliverAll(Class<? extends Message> type) {
        for (Message m : hold(type::isInstance)) {
            if (deliverable(m)) {
                deliver(m);
            }
        }
    }

    /** Removes and returns in-flight messages matching {@code p} (to deliver them later, or never). */
    List<Message> hold(Predicate<Message> p) {
        List<Message> held = inflight.stream().filter(p).collect(Collectors.toList());
        inflight.removeAll(held);
        return held;
    }

    void deliver(Message m) {
        Node to = node(m.to());
        if (!to.alive) {
            return;
        }
        to.core.receive(m, now);
        drain(to);
    }

    private boolean deliverable(Message m) {
        return node(m.to()).alive && !cut.contains(m.from() + ">" + m.to());
    }

    private void drain(Node n) {
        for (Action a : n.core.takeActions()) {
            n.actions.add(a);
            if (a instanceof Action.Send s) {
                if (!cut.contains(s.message().from() + ">" + s.message().to())) {
                    inflight.add(s.message());
                }
            } else if (a instanceof Action.Apply ap) {
                for (long o = n.applied.size(); o < ap.applyOffset(); o++) {
                    Entry e = n.log.get(o);
                    n.applied.add(e.epoch() + ":" + new String(e.payload(), StandardCharsets.UTF_8));
                }
            } else if (a instanceof Action.RestoreSnapshot rs) {
                restore(n, rs.snapshot());
            } else if (a instanceof Action.ProposalCommitted pc) {
                outcomes.put(pc.proposalId(), Outcome.COMMITTED);
            } else if (a instanceof Action.ProposalFailed pf) {
                outcomes.put(
                        pf.proposalId(),
                        switch (pf.failure()) {
                            case NOT_LEADER -> Outcome.NOT_LEADER;
                            case OVERLOADED -> Outcome.OVERLOADED;
                            case OUTCOME_UNKNOWN -> Outcome.UNKNOWN;
                        });
            }
        }
    }

    private static void restore(Node n, SnapshotMeta meta) {
        try (InputStream in = n.snapshots.openState(meta.id())) {
            String state = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            n.applied.clear();
            n.applied.addAll(List.of(state.split("\n", -1)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    <T extends Action> List<T> actionsOf(String id, Class<T> type) {
        return node(id).actions.stream()
                .filter(type::isInstance)
                .map(type::cast)
                .collect(Collectors.toList());
    }
}
