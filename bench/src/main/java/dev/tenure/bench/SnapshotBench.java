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
package dev.tenure.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.harness.StatusProbe;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The snapshot sections of the process-mode benchmark (issue 14), each on its own replica processes running the
 * {@link KeyValueStateMachine} through the library API, driven over their control servers:
 *
 * <ul>
 *   <li>{@code soak}: writes to a fixed set of keys for a while, sampling every replica's data directory, snapshot
 *       and log range at an interval (does the disk stay bounded?);
 *   <li>{@code restart}: a follower's restart with a snapshot plus a tail against one replaying its whole log, on
 *       the same history;
 *   <li>{@code install}: an empty-disk follower brought up to date by snapshot install (compare the {@code catchup}
 *       section's log catch-up);
 *   <li>{@code snapwrites}: write throughput with snapshots taken back to back against snapshots off, interleaved.
 * </ul>
 *
 * Not thread-safe; one section at a time. Every process is stopped when its section ends.
 */
final class SnapshotBench {
    static final List<String> SECTIONS = List.of("soak", "restart", "install", "snapwrites");

    /** A snapshot threshold no run reaches: snapshots are taken on request only. */
    private static final long NEVER = 1L << 50;

    /**
     * The install section's segments: compaction deletes whole segments, and the leader's log must start after the
     * emptied follower's position (0) for the follower to be sent the snapshot, also after a short fill.
     */
    private static final long INSTALL_SEGMENT_BYTES = 8L << 20;

    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(60);

    /**
     * The snapshot sections' settings.
     *
     * @param soak how long the soak writes
     * @param soakReport the interval between two samples of the soak
     * @param keys distinct keys written by the soak and the snapshot-write comparison
     * @param restartHistoryBytes the history the restarted replicas hold
     * @param restartKeys distinct keys in that history
     * @param restartValueBytes one restart measurement per size: every key is written once with a value of this
     *     size, then the history is filled up to {@link #restartHistoryBytes} with 64 KiB values overwriting 100 keys
     * @param restartTailEntries 100-byte writes after the snapshot, replayed on restart
     * @param restartTrials restarts of each replica
     * @param restartCold also restart each replica {@code restartTrials} times after dropping the page cache
     * @param snapshotHeap the heap of the restart section's replicas, which hold the whole state in memory
     * @param busySnapshotEntries the snapshot thresholds of the snapshot-write comparison: one comparison each
     * @param busyKeys distinct keys the snapshot-write comparison writes (its state's size)
     * @param soakSnapshotEntries the soak's snapshot threshold in entries (the library's default, 100,000, unless
     *     set)
     * @param soakSegmentBytes the soak's log segment size, 0 for the library's default (64 MiB)
     */
    record Config(
            Duration soak,
            Duration soakReport,
            int keys,
            long restartHistoryBytes,
            int restartKeys,
            List<Integer> restartValueBytes,
            long restartTailEntries,
            int restartTrials,
            boolean restartCold,
            String snapshotHeap,
            List<Long> busySnapshotEntries,
            int busyKeys,
            long soakSnapshotEntries,
            long soakSegmentBytes) {}

    private final ProcessBench b;
    private final ProcessBench.Config cfg;
    private final Config sc;
    private final ObjectNode result;

    SnapshotBench(ProcessBench b, ProcessBench.Config cfg, ObjectNode result) {
        this.b = b;
        this.cfg = cfg;
        this.sc = cfg.snapshots();
        this.result = result;
    }

    private ReplicaProcesses start(
            ZooKeeperProcessEnsemble zk, Path root, String name, List<String> ids, String heap, String options)
            throws Exception {
        b.say("starting 3 Tenure replica processes for %s (%s)", name, options);
        return ReplicaProcesses.start(
                ids,
                zk.connectString(),
                root.resolve(name),
                cfg.sessionTimeoutMs(),
                cfg.fsync(),
                heap,
                "/tenure-bench-" + name,
                options);
    }

    /** A closed loop of writes to {@code keys} keys in {@code leader}'s process; its answer. */
    private ObjectNode load(
            ReplicaProcesses t, String leader, int inflight, int valueBytes, int keys, Duration warmup, Duration d)
            throws Exception {
        ObjectNode answer = t.load(
                leader,
                "kind=write&inflight=" + inflight + "&warmup_ms=" + warmup.toMillis() + "&duration_ms=" + d.toMillis()
                        + "&value_bytes=" + valueBytes + "&keys=" + keys,
                Duration.ofMillis(warmup.toMillis() + d.toMillis() + 60_000));
        if (!ReplicaProcesses.cleanLoad(answer)) {
            b.unclean();
        }
        return answer;
    }

    /** {@code count} writes of {@code valueBytes} to keys {@code firstKey ..}, 64 outstanding; the seconds taken. */
    private double fill(ReplicaProcesses t, String leader, int firstKey, int keys, long count, int valueBytes)
            throws Exception {
        ReplicaProcesses.Answer a = t.call(
                leader,
                "POST",
                "/fill?first_key=" + firstKey + "&keys=" + keys + "&count=" + count + "&value_bytes=" + valueBytes
                        + "&inflight=64",
                Duration.ofMinutes(30));
        if (a.code() != 200 || a.body().path("errors").asLong() > 0) {
            throw new IllegalStateException("writes on " + leader + " failed: " + a.body());
        }
        return a.body().path("seconds").asDouble();
    }

    private JsonNode takeSnapshot(ReplicaProcesses t, String id) throws Exception {
        ReplicaProcesses.Answer a = t.call(id, "POST", "/snapshot?timeout_ms=600000", Duration.ofMinutes(11));
        if (a.code() != 200) {
            throw new IllegalStateException("snapshot on " + id + " failed: " + a.body());
        }
        return a.body();
    }

    /** Waits (at most 30 s) until compaction after a snapshot moved {@code id}'s log start above 0. */
    private static StatusProbe.NodeStatus awaitCompacted(ReplicaProcesses t, String id) throws Exception {
        StatusProbe.NodeStatus s = t.status(id);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (s.json().path("logStartOffset").asLong() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(50); // compaction follows the snapshot on the replica's event thread
            s = t.status(id);
        }
        return s;
    }

    private static String otherThan(ReplicaProcesses t, String... not) {
        return t.ids().stream()
                .filter(id -> !List.of(not).contains(id))
                .findFirst()
                .orElseThrow();
    }

    // ---- soak: the disk stays bounded ----

    void soak(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        // The library's defaults but for the entry threshold: bytes threshold, spread, catch-up tail, segment size.
        try (ReplicaProcesses t = start(
                zk,
                root,
                "soak",
                List.of("k1", "k2", "k3"),
                cfg.replicaHeap(),
                "state_machine=kv,snapshot_entries=" + sc.soakSnapshotEntries()
                        + (sc.soakSegmentBytes() > 0 ? ",segment_bytes=" + sc.soakSegmentBytes() : ""))) {
            String leader = t.awaitLeader(LEADER_TIMEOUT);
            b.say(
                    "soak: %d s of writes to %d keys (%d-byte values, 64 in flight) on %s, a sample every %d s",
                    sc.soak().toSeconds(),
                    sc.keys(),
                    cfg.valueBytes(),
                    leader,
                    sc.soakReport().toSeconds());
            ObjectNode o = result.putObject("soak");
            o.put("seconds", sc.soak().toSeconds());
            o.put("keys", sc.keys());
            o.put("value_bytes", cfg.valueBytes());
            o.put("catch_up_tail_entries", 5000);
            o.put("segment_bytes", sc.soakSegmentBytes() > 0 ? sc.soakSegmentBytes() : 64L << 20);
            o.put("snapshot_entries", sc.soakSnapshotEntries());
            ArrayNode samples = o.putArray("samples");
            CompletableFuture<ObjectNode> writes = CompletableFuture.supplyAsync(() -> {
                try {
                    return load(t, leader, 64, cfg.valueBytes(), sc.keys(), Duration.ZERO, sc.soak());
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            long start = System.nanoTime();
            long next = start;
            while (true) {
                next += sc.soakReport().toNanos();
                long wait = next - System.nanoTime();
                boolean finished = false;
                try {
                    writes.get(Math.max(0, wait), TimeUnit.NANOSECONDS);
                    finished = true;
                } catch (java.util.concurrent.TimeoutException stillWriting) {
                    // the next sample is due
                }
                sample(t, samples, (System.nanoTime() - start) / 1e9);
                if (finished) {
                    break;
                }
            }
            o.set("writes", writes.get().get("side"));
            summariseSoak(t, o);
        }
    }

    private void sample(ReplicaProcesses t, ArrayNode samples, double seconds) throws Exception {
        ObjectNode s = samples.addObject();
        s.put("t_s", Math.round(seconds));
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "soak %4.0f s:", seconds));
        for (String id : t.ids()) {
            Path dir = t.node(id).dataDir;
            StatusProbe.NodeStatus st = t.status(id);
            ObjectNode r = s.putObject(id);
            long data = ReplicaProcesses.directoryBytes(dir);
            long log = ReplicaProcesses.directoryBytes(dir.resolve("log"));
            long snaps = ReplicaProcesses.directoryBytes(dir.resolve("snapshots"));
            long snapshot = st.json().path("snapshot").path("sizeBytes").asLong();
            long logStart = st.json().path("logStartOffset").asLong();
            r.put("data_bytes", data);
            r.put("log_bytes", log);
            r.put("snapshots_bytes", snaps);
            r.put("snapshot_bytes", snapshot);
            r.put("snapshot_offset", st.json().path("snapshot").path("offset").asLong());
            r.put("log_start", logStart);
            r.put("log_end", st.logEndOffset());
            line.append(String.format(
                    Locale.ROOT,
                    "  %s data %.1f MB (log %.1f, snapshots %.2f) snapshot %.0f kB, log [%d, %d)",
                    id,
                    data / 1e6,
                    log / 1e6,
                    snaps / 1e6,
                    snapshot / 1e3,
                    logStart,
                    st.logEndOffset()));
        }
        b.say("%s", line);
    }

    /**
     * Per replica: the largest data directory after the first sample, against 3 × its largest snapshot + the catch-up
     * tail (5,000 entries at the log's bytes per entry); and how the largest of the run's second half compares with
     * the largest of its first.
     */
    private void summariseSoak(ReplicaProcesses t, ObjectNode o) {
        JsonNode samples = o.path("samples");
        ObjectNode per = o.putObject("replicas");
        int n = samples.size();
        for (String id : t.ids()) {
            long maxData = 0;
            long maxSnapshot = 0;
            long firstHalf = 0;
            long secondHalf = 0;
            double bytesPerEntry = 0;
            for (int i = 0; i < n; i++) {
                JsonNode r = samples.get(i).path(id);
                long entries = r.path("log_end").asLong() - r.path("log_start").asLong();
                if (entries > 0) {
                    bytesPerEntry = r.path("log_bytes").asDouble() / entries;
                }
                maxSnapshot = Math.max(maxSnapshot, r.path("snapshot_bytes").asLong());
                if (i == 0 && n > 1) {
                    continue; // the first sample may precede the first snapshot
                }
                long data = r.path("data_bytes").asLong();
                maxData = Math.max(maxData, data);
                if (i <= n / 2) {
                    firstHalf = Math.max(firstHalf, data);
                } else {
                    secondHalf = Math.max(secondHalf, data);
                }
            }
            long tail = o.path("catch_up_tail_entries").asLong();
            long interval = o.path("snapshot_entries").asLong();
            long bound = 3 * maxSnapshot + Math.round(tail * bytesPerEntry);
            // What the design keeps: two snapshots and one being written; the log back to the older kept snapshot
            // (or the tail below the newest, whichever reaches further) plus the entries since the newest, at most
            // two snapshot intervals or the tail and one interval; and up to one segment more, as compaction deletes
            // whole segments only.
            long keptEntries = Math.max(2 * interval, tail + interval);
            long designBound = 3 * maxSnapshot
                    + Math.round(keptEntries * bytesPerEntry)
                    + o.path("segment_bytes").asLong();
            ObjectNode p = per.putObject(id);
            p.put("max_data_bytes", maxData);
            p.put("max_snapshot_bytes", maxSnapshot);
            p.put("log_bytes_per_entry", ProcessBench.round(bytesPerEntry));
            p.put("bound_bytes", bound);
            p.put("max_over_bound", ProcessBench.round(maxData / (double) Math.max(1, bound)));
            p.put("design_bound_bytes", designBound);
            p.put("max_over_design_bound", ProcessBench.round(maxData / (double) Math.max(1, designBound)));
            p.put("second_half_over_first_half", ProcessBench.round(secondHalf / (double) Math.max(1, firstHalf)));
        }
    }

    // ---- restart: snapshot + tail against full replay ----

    void restart(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        ArrayNode shapes = result.putArray("restart");
        for (int valueBytes : sc.restartValueBytes()) {
            restartShape(zk, root, valueBytes, shapes.addObject());
        }
    }

    private void restartShape(ZooKeeperProcessEnsemble zk, Path root, int valueBytes, ObjectNode o) throws Exception {
        String options = "state_machine=kv,snapshot_entries=" + NEVER + ",snapshot_bytes=" + NEVER
                + ",snapshot_spread=0,snapshot_on_stop=false";
        try (ReplicaProcesses t =
                start(zk, root, "restart-" + valueBytes, List.of("s1", "s2", "s3"), sc.snapshotHeap(), options)) {
            String leader = t.awaitLeader(LEADER_TIMEOUT);
            String withSnapshot = otherThan(t, leader);
            String fullReplay = otherThan(t, leader, withSnapshot);
            int blobBytes = 64 * 1024;
            int blobKeys = Math.min(100, sc.restartKeys());
            long keyBytes = (long) sc.restartKeys() * valueBytes;
            long blobs = Math.max(0, (sc.restartHistoryBytes() - keyBytes + blobBytes - 1) / blobBytes);
            b.say(
                    "restart, %d-byte values: writing %d keys once, then %d values of 64 KiB to %d of them",
                    valueBytes, sc.restartKeys(), blobs, blobKeys);
            double seconds = fill(t, leader, 0, sc.restartKeys(), sc.restartKeys(), valueBytes);
            if (blobs > 0) {
                seconds += fill(t, leader, 0, blobKeys, blobs, blobBytes);
            }
            long history = keyBytes + blobs * blobBytes;
            long built = t.status(leader).commitOffset();
            for (String id : t.ids()) {
                t.awaitApplied(id, built, Duration.ofMinutes(5));
            }
            JsonNode snap = takeSnapshot(t, withSnapshot);
            fill(t, leader, 0, sc.restartKeys(), sc.restartTailEntries(), 100);
            long target = t.status(leader).commitOffset();
            for (String id : t.ids()) {
                t.awaitApplied(id, target, Duration.ofMinutes(5));
            }
            StatusProbe.NodeStatus ss = t.status(withSnapshot);
            o.put("value_bytes", valueBytes);
            o.put("keys", sc.restartKeys());
            o.put("overwrites_64k", blobs);
            o.put("history_bytes", history);
            o.put("entries", target);
            o.put("build_s", ProcessBench.round(seconds));
            o.put("build_mb_per_s", ProcessBench.round(history / 1e6 / seconds));
            o.put("state_keys", ss.json().path("keys").asLong());
            o.put("snapshot_offset", snap.path("offset").asLong());
            o.put("snapshot_bytes", ss.json().path("snapshot").path("sizeBytes").asLong());
            o.put("tail_entries", target - snap.path("offset").asLong());
            o.put(
                    "log_bytes_full",
                    ReplicaProcesses.directoryBytes(t.node(fullReplay).dataDir.resolve("log")));
            o.put(
                    "log_bytes_snapshot_replica",
                    ReplicaProcesses.directoryBytes(t.node(withSnapshot).dataDir.resolve("log")));
            b.say(
                    "restart: history %.0f MB in %d entries (%.1f s to write), snapshot of %s %.1f MB at %d, tail %d",
                    history / 1e6,
                    target,
                    seconds,
                    withSnapshot,
                    o.path("snapshot_bytes").asLong() / 1e6,
                    snap.path("offset").asLong(),
                    target - snap.path("offset").asLong());
            ArrayNode full = o.putArray("full_replay_s");
            ArrayNode fast = o.putArray("snapshot_tail_s");
            ArrayNode fullReady = o.putArray("full_replay_process_ready_s");
            ArrayNode fastReady = o.putArray("snapshot_tail_process_ready_s");
            ArrayNode fullReplica = o.putArray("full_replay_replica_s");
            ArrayNode fastReplica = o.putArray("snapshot_tail_replica_s");
            ArrayNode fullOpen = o.putArray("full_replay_replica_start_s");
            ArrayNode fastOpen = o.putArray("snapshot_tail_replica_start_s");
            for (int i = 0; i < sc.restartTrials(); i++) {
                for (String id : i % 2 == 0 ? List.of(fullReplay, withSnapshot) : List.of(withSnapshot, fullReplay)) {
                    double[] took = restartOnce(t, id, target, false);
                    boolean snapshotSide = id.equals(withSnapshot);
                    (snapshotSide ? fast : full).add(ProcessBench.round(took[0]));
                    (snapshotSide ? fastReady : fullReady).add(ProcessBench.round(took[1]));
                    (snapshotSide ? fastReplica : fullReplica).add(ProcessBench.round(took[2]));
                    (snapshotSide ? fastOpen : fullOpen).add(ProcessBench.round(took[3]));
                    b.say(
                            "restart of %s (%s) after SIGKILL: applied up to %d %.2f s after its process started"
                                    + " (control server up after %.2f s); %.2f s after the replica was built"
                                    + " (start() took %.2f s)",
                            id,
                            snapshotSide ? "snapshot + tail" : "full replay",
                            target,
                            took[0],
                            took[1],
                            took[2],
                            took[3]);
                }
            }
            if (sc.restartCold()) {
                ArrayNode coldFull = o.putArray("cold_full_replay_replica_s");
                ArrayNode coldFast = o.putArray("cold_snapshot_tail_replica_s");
                ArrayNode coldFullLaunch = o.putArray("cold_full_replay_s");
                ArrayNode coldFastLaunch = o.putArray("cold_snapshot_tail_s");
                for (int i = 0; i < sc.restartTrials(); i++) {
                    for (String id :
                            i % 2 == 0 ? List.of(fullReplay, withSnapshot) : List.of(withSnapshot, fullReplay)) {
                        double[] took = restartOnce(t, id, target, true);
                        boolean snapshotSide = id.equals(withSnapshot);
                        (snapshotSide ? coldFast : coldFull).add(ProcessBench.round(took[2]));
                        (snapshotSide ? coldFastLaunch : coldFullLaunch).add(ProcessBench.round(took[0]));
                        b.say(
                                "cold restart of %s (%s, page cache dropped): applied up to %d %.2f s after its process"
                                        + " started; %.2f s after the replica was built (start() took %.2f s)",
                                id,
                                snapshotSide ? "snapshot + tail" : "full replay",
                                target,
                                took[0],
                                took[2],
                                took[3]);
                    }
                }
                o.put("cold_full_replay_replica_median_s", medianOf(coldFull));
                o.put("cold_snapshot_tail_replica_median_s", medianOf(coldFast));
                o.put("cold_full_replay_median_s", medianOf(coldFullLaunch));
                o.put("cold_snapshot_tail_median_s", medianOf(coldFastLaunch));
                o.put("cold_replica_speedup", ProcessBench.round(medianOf(coldFull) / medianOf(coldFast)));
                o.put("cold_speedup", ProcessBench.round(medianOf(coldFullLaunch) / medianOf(coldFastLaunch)));
            }
            JsonNode after = t.status(withSnapshot).json();
            JsonNode afterFull = t.status(fullReplay).json();
            o.put(
                    "snapshot_side_restored",
                    after.path("snapshot").path("offset").asLong() > 0);
            o.put(
                    "full_side_had_no_snapshot",
                    afterFull.path("snapshot").path("offset").asLong() == 0);
            List<Double> f = new ArrayList<>();
            List<Double> s = new ArrayList<>();
            full.forEach(x -> f.add(x.asDouble()));
            fast.forEach(x -> s.add(x.asDouble()));
            f.sort(null);
            s.sort(null);
            o.put("full_replay_median_s", ProcessBench.median(f));
            o.put("snapshot_tail_median_s", ProcessBench.median(s));
            o.put("speedup", ProcessBench.round(ProcessBench.median(f) / ProcessBench.median(s)));
            List<Double> fr = new ArrayList<>();
            List<Double> sr = new ArrayList<>();
            fullReplica.forEach(x -> fr.add(x.asDouble()));
            fastReplica.forEach(x -> sr.add(x.asDouble()));
            fr.sort(null);
            sr.sort(null);
            o.put("full_replay_replica_median_s", ProcessBench.median(fr));
            o.put("snapshot_tail_replica_median_s", ProcessBench.median(sr));
            o.put("replica_speedup", ProcessBench.round(ProcessBench.median(fr) / ProcessBench.median(sr)));
        }
    }

    /**
     * SIGKILLs {@code id}, starts it again: seconds to applied >= target and to its control server, from launch; and
     * seconds to applied >= target from the moment the process began building its replica (its JVM started and its
     * ZooKeeper session open: what is left is the replica's own restart), by the wall clock the process reports.
     */
    private double[] restartOnce(ReplicaProcesses t, String id, long target, boolean cold) throws Exception {
        ReplicaProcesses.Node n = t.node(id);
        n.process.kill();
        if (cold) {
            dropPageCache();
        }
        long launched = System.nanoTime();
        t.launch(id);
        t.awaitReady(id);
        long ready = System.nanoTime();
        t.awaitApplied(id, target, Duration.ofMinutes(10));
        long applied = System.nanoTime();
        long appliedWall = System.currentTimeMillis();
        JsonNode startup = t.status(id).json().path("startup");
        double fromReplicaStart =
                (appliedWall - startup.path("replicaStartMillis").asLong()) / 1e3;
        double replicaStart = (startup.path("replicaStartedMillis").asLong()
                        - startup.path("replicaStartMillis").asLong())
                / 1e3;
        return new double[] {(applied - launched) / 1e9, (ready - launched) / 1e9, fromReplicaStart, replicaStart};
    }

    /**
     * Drops the page cache (clean pages only: the replicas run with fsync, so their files hold no dirty pages), so
     * that the next reads come from the disk.
     */
    private static void dropPageCache() {
        try {
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot drop the page cache (--restart-cold needs root): " + e, e);
        }
    }

    private static double medianOf(ArrayNode values) {
        List<Double> list = new ArrayList<>();
        values.forEach(x -> list.add(x.asDouble()));
        list.sort(null);
        return ProcessBench.median(list);
    }

    // ---- install: an empty-disk follower caught up by a snapshot ----

    void install(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        String options = "state_machine=kv,snapshot_entries=" + NEVER + ",snapshot_bytes=" + NEVER
                + ",snapshot_spread=0,snapshot_on_stop=false,catch_up_tail=100,segment_bytes=" + INSTALL_SEGMENT_BYTES;
        try (ReplicaProcesses t = start(zk, root, "install", List.of("i1", "i2", "i3"), sc.snapshotHeap(), options)) {
            String leader = t.awaitLeader(LEADER_TIMEOUT);
            String follower = otherThan(t, leader);
            b.say(
                    "install: stopping %s and emptying its disk, writing 64 KiB values to distinct keys for %d s",
                    follower, cfg.catchup().toSeconds());
            ReplicaProcesses.Node f = t.node(follower);
            f.process.terminate();
            f.process.awaitExit(Duration.ofSeconds(30));
            Benchmark.deleteRecursively(f.dataDir);
            ObjectNode fill = load(t, leader, 16, 64 * 1024, Integer.MAX_VALUE, Duration.ZERO, cfg.catchup());
            // Both survivors snapshot and compact: leadership may move while the machine is loaded, and the
            // follower must find its leader's log starting above its own empty one whichever of them leads.
            String survivor = otherThan(t, leader, follower);
            JsonNode snap = takeSnapshot(t, leader);
            takeSnapshot(t, survivor);
            StatusProbe.NodeStatus ls = awaitCompacted(t, leader);
            awaitCompacted(t, survivor);
            long target = ls.commitOffset();
            long snapshotBytes = ls.json().path("snapshot").path("sizeBytes").asLong();
            long leaderLogBytes =
                    ReplicaProcesses.directoryBytes(t.node(leader).dataDir.resolve("log"));
            long launched = System.nanoTime();
            t.launch(follower);
            t.awaitReady(follower);
            long ready = System.nanoTime();
            Duration took = t.awaitApplied(follower, target, Duration.ofMinutes(10));
            double seconds = took.toNanos() / 1e9;
            JsonNode fs = t.status(follower).json();
            ObjectNode o = result.putObject("install");
            o.put("follower", follower);
            o.put("entries", target);
            o.put("leader_log_start", ls.json().path("logStartOffset").asLong());
            o.put("snapshot_offset", snap.path("offset").asLong());
            o.put("snapshot_bytes", snapshotBytes);
            o.put("leader_log_bytes_after_compaction", leaderLogBytes);
            o.put("follower_data_bytes", ReplicaProcesses.directoryBytes(f.dataDir));
            // The follower takes no snapshot of its own (thresholds never reached, none on stop): one it holds was
            // installed from whichever survivor led it.
            o.put("installed", fs.path("snapshot").path("offset").asLong() > 0);
            o.put("leader_at_catch_up", fs.path("leader").asText());
            o.put("seconds_from_replica_start", ProcessBench.round(seconds));
            o.put("seconds_from_process_launch", ProcessBench.round((System.nanoTime() - launched) / 1e9));
            o.put("process_start_s", ProcessBench.round((ready - launched) / 1e9));
            o.put("mb_per_s", ProcessBench.round(snapshotBytes / 1e6 / seconds));
            o.set("fill", fill.get("side"));
            if (!o.path("installed").asBoolean()) {
                b.unclean();
            }
            b.say(
                    "install: snapshot of %.1f MB at %d (leader's log starts at %d), %s up to %d in %.2f s: %.1f MB/s%s",
                    snapshotBytes / 1e6,
                    snap.path("offset").asLong(),
                    ls.json().path("logStartOffset").asLong(),
                    follower,
                    target,
                    seconds,
                    snapshotBytes / 1e6 / seconds,
                    o.path("installed").asBoolean() ? "" : " (NOT by install)");
        }
    }

    // ---- snapwrites: throughput while snapshots are taken ----

    void snapshotWrites(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        ArrayNode all = result.putArray("snapshot_writes");
        for (long threshold : sc.busySnapshotEntries()) {
            snapshotWrites(zk, root, threshold, all.addObject());
        }
    }

    /**
     * One comparison: writes at 64 in flight to {@link Config#busyKeys()} keys with snapshots every {@code threshold}
     * entries (less the library's random spread of up to half, so that the three replicas do not snapshot together)
     * against the same replicas without snapshots, in alternating rounds. Records how many snapshots the leader took during the busy side's slices and
     * what share of that time it spent writing them.
     */
    private void snapshotWrites(ZooKeeperProcessEnsemble zk, Path root, long threshold, ObjectNode o) throws Exception {
        try (ReplicaProcesses busy = start(
                        zk,
                        root,
                        "snap-busy-" + threshold,
                        List.of("b1", "b2", "b3"),
                        cfg.replicaHeap(),
                        "state_machine=kv,snapshot_entries=" + threshold);
                ReplicaProcesses off = start(
                        zk,
                        root,
                        "snap-off-" + threshold,
                        List.of("o1", "o2", "o3"),
                        cfg.replicaHeap(),
                        "state_machine=kv-nosnap")) {
            String lb = busy.awaitLeader(LEADER_TIMEOUT);
            String lo = off.awaitLeader(LEADER_TIMEOUT);
            int n = 64;
            int keys = sc.busyKeys();
            // Both states hold every key before the first round, so that both sides write the same state's size.
            fill(busy, lb, 0, keys, keys, cfg.valueBytes());
            fill(off, lo, 0, keys, keys, cfg.valueBytes());
            java.util.concurrent.atomic.AtomicLong busyNanos = new java.util.concurrent.atomic.AtomicLong();
            Interleaved.Slice withSnapshots = (settle, interval) -> {
                long t0 = System.nanoTime();
                try {
                    return OutcomeJson.fromJson(load(busy, lb, n, cfg.valueBytes(), keys, settle, interval)
                            .path("outcome"));
                } finally {
                    busyNanos.addAndGet(System.nanoTime() - t0);
                }
            };
            Interleaved.Slice without = (settle, interval) -> OutcomeJson.fromJson(
                    load(off, lo, n, cfg.valueBytes(), keys, settle, interval).path("outcome"));
            b.jitWarmup("writes with snapshots, 64 in flight", withSnapshots);
            b.jitWarmup("writes without snapshots, 64 in flight", without);
            busyNanos.set(0);
            JsonNode before = busy.status(lb).json();
            b.say(
                    "writes, 64 in flight to %d keys: snapshots every %d entries (%s) against snapshots off (%s), %d"
                            + " alternating rounds",
                    keys, threshold, lb, lo, cfg.rounds());
            Interleaved.Result r = b.interleave(withSnapshots, without);
            JsonNode after = busy.status(lb).json();
            o.put("inflight", n);
            o.put("keys", keys);
            o.put("snapshot_entries", threshold);
            b.compared(o, "snapshots", "no_snapshots", r);
            long taken = after.path("snapshotsTaken").asLong()
                    - before.path("snapshotsTaken").asLong();
            double snapshotSeconds = (after.path("snapshotNanos").asLong()
                            - before.path("snapshotNanos").asLong())
                    / 1e9;
            double busySeconds = busyNanos.get() / 1e9;
            o.put("leader_snapshots_during_rounds", taken);
            o.put("busy_side_seconds", ProcessBench.round(busySeconds));
            o.put("leader_snapshots_per_s", ProcessBench.round(taken / Math.max(1e-9, busySeconds)));
            o.put("leader_snapshot_mean_ms", ProcessBench.round(1e3 * snapshotSeconds / Math.max(1, taken)));
            o.put(
                    "leader_share_of_time_snapshotting",
                    ProcessBench.round(snapshotSeconds / Math.max(1e-9, busySeconds)));
            o.put(
                    "leader_capture_max_us",
                    after.path("snapshotCaptureMaxMicros").asLong());
            o.put(
                    "leader_snapshot_bytes",
                    after.path("snapshot").path("sizeBytes").asLong());
            o.put("leader_log_start", after.path("logStartOffset").asLong());
            b.say(
                    "snapshot writes: %d snapshots of %.1f MB on the leader in %.0f s of its load (%.0f %% of that time"
                            + " spent writing snapshots; capture at most %d us), ratio %.2f",
                    taken,
                    after.path("snapshot").path("sizeBytes").asLong() / 1e6,
                    busySeconds,
                    100 * snapshotSeconds / Math.max(1e-9, busySeconds),
                    after.path("snapshotCaptureMaxMicros").asLong(),
                    r.medianRatio());
        }
    }

    /** The section's lines of the table. */
    static void print(JsonNode result, PrintWriter out) {
        if (result.has("soak")) {
            JsonNode s = result.path("soak");
            out.printf(
                    Locale.ROOT,
                    "%nsoak: %d s of writes to %d keys, 64 in flight: %.0f writes/s; data directory per replica"
                            + " (largest after the first sample) against 3 x snapshot + 5,000-entry tail:%n",
                    s.path("seconds").asLong(),
                    s.path("keys").asInt(),
                    s.path("writes").path("ops_per_s").asDouble());
            s.path("replicas")
                    .properties()
                    .forEach(e -> out.printf(
                            Locale.ROOT,
                            "  %s: %.1f MB, bound %.2f MB (snapshot %.0f kB): %.1fx the bound; the design's bound %.2f"
                                    + " MB: %.2fx; second half / first half %.2f%n",
                            e.getKey(),
                            e.getValue().path("max_data_bytes").asLong() / 1e6,
                            e.getValue().path("bound_bytes").asLong() / 1e6,
                            e.getValue().path("max_snapshot_bytes").asLong() / 1e3,
                            e.getValue().path("max_over_bound").asDouble(),
                            e.getValue().path("design_bound_bytes").asLong() / 1e6,
                            e.getValue().path("max_over_design_bound").asDouble(),
                            e.getValue().path("second_half_over_first_half").asDouble()));
        }
        for (JsonNode r : result.path("restart")) {
            out.printf(
                    Locale.ROOT,
                    "%nrestart, %.0f MB history (%d keys of %d B, %d overwrites of 64 KiB), snapshot %.1f MB + %d-entry"
                            + " tail: %.2f s against full replay %.2f s (median of %d): %.1fx from the process's"
                            + " launch; %.2f s against %.2f s: %.1fx from the replica's construction%s%n",
                    r.path("history_bytes").asLong() / 1e6,
                    r.path("keys").asInt(),
                    r.path("value_bytes").asInt(),
                    r.path("overwrites_64k").asLong(),
                    r.path("snapshot_bytes").asLong() / 1e6,
                    r.path("tail_entries").asLong(),
                    r.path("snapshot_tail_median_s").asDouble(),
                    r.path("full_replay_median_s").asDouble(),
                    r.path("full_replay_s").size(),
                    r.path("speedup").asDouble(),
                    r.path("snapshot_tail_replica_median_s").asDouble(),
                    r.path("full_replay_replica_median_s").asDouble(),
                    r.path("replica_speedup").asDouble(),
                    r.has("cold_replica_speedup")
                            ? String.format(
                                    Locale.ROOT,
                                    "; page cache dropped: %.2f s against %.2f s (%.1fx) from the replica's"
                                            + " construction, %.2f s against %.2f s (%.1fx) from the launch",
                                    r.path("cold_snapshot_tail_replica_median_s")
                                            .asDouble(),
                                    r.path("cold_full_replay_replica_median_s").asDouble(),
                                    r.path("cold_replica_speedup").asDouble(),
                                    r.path("cold_snapshot_tail_median_s").asDouble(),
                                    r.path("cold_full_replay_median_s").asDouble(),
                                    r.path("cold_speedup").asDouble())
                            : "");
        }
        if (result.has("install")) {
            JsonNode c = result.path("install");
            out.printf(
                    Locale.ROOT,
                    "%ncatch-up from an empty disk by snapshot install: %.1f MB snapshot + tail to %d in %.2f s = %.1f"
                            + " MB/s (after a %.1f s process start)%s%n",
                    c.path("snapshot_bytes").asLong() / 1e6,
                    c.path("entries").asLong(),
                    c.path("seconds_from_replica_start").asDouble(),
                    c.path("mb_per_s").asDouble(),
                    c.path("process_start_s").asDouble(),
                    c.path("installed").asBoolean() ? "" : " NOT BY INSTALL");
        }
        for (JsonNode w : result.path("snapshot_writes")) {
            out.printf(
                    Locale.ROOT,
                    "%nwrites, 64 in flight to %d keys, snapshots every %d entries (%.1f/s of %.1f MB, %.0f %% of the"
                            + " time): %.0f/s against %.0f/s without: %.2fx (median of rounds; merged %.2fx)%n",
                    w.path("keys").asInt(),
                    w.path("snapshot_entries").asLong(),
                    w.path("leader_snapshots_per_s").asDouble(),
                    w.path("leader_snapshot_bytes").asLong() / 1e6,
                    100 * w.path("leader_share_of_time_snapshotting").asDouble(),
                    w.path("snapshots").path("ops_per_s").asDouble(),
                    w.path("no_snapshots").path("ops_per_s").asDouble(),
                    w.path("ratio_ops_per_s").asDouble(),
                    w.path("ratio_total").asDouble());
        }
    }
}
