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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@Tag("slow")
class BenchSmokeTest {
    @TempDir
    Path dataDir;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aShortInProcessRunMeasuresBothSidesPrintsAParsableResultAndLeavesNothingBehind() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(
                        "--in-process",
                        "--warmup-s",
                        "0",
                        "--duration-s",
                        "1",
                        "--inflight",
                        "1,8",
                        "--data-dir",
                        dataDir.toString());

        assertEquals(0, exit, "exit code; stderr:\n" + err + "\nstdout:\n" + out);
        List<String> lines = out.toString()
                .lines()
                .filter(l -> l.startsWith(Report.RESULT_PREFIX))
                .collect(Collectors.toList());
        assertEquals(1, lines.size(), out.toString());
        JsonNode result = new ObjectMapper().readTree(lines.get(0).substring(Report.RESULT_PREFIX.length()));

        assertTrue(result.path("config").path("fsync").asBoolean(), "fsync is on by default");
        assertTrue(result.path("machine").path("cores").asInt() > 0, result.toString());
        JsonNode levels = result.path("results");
        assertEquals(2, levels.size(), result.toString());
        int[] expected = {1, 8};
        for (int i = 0; i < expected.length; i++) {
            JsonNode level = levels.get(i);
            assertEquals(expected[i], level.path("inflight").asInt());
            for (String side : new String[] {"tenure", "zookeeper"}) {
                JsonNode s = level.path(side);
                assertTrue(s.path("ops").asLong() > 0, side + " wrote nothing: " + level);
                assertTrue(s.path("ops_per_s").asDouble() > 0, side + ": " + level);
                assertTrue(s.path("p50_us").asDouble() > 0, side + ": " + level);
                assertTrue(s.path("p50_us").asDouble() <= s.path("p99_us").asDouble(), side + ": " + level);
                assertTrue(s.path("p99_us").asDouble() <= s.path("p999_us").asDouble(), side + ": " + level);
                assertEquals(0, s.path("errors").asLong(), side + ": " + level);
                if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/pressure/io"))) {
                    double stall = s.path("io_stall_pct").asDouble(-1);
                    assertTrue(stall >= 0 && stall <= 110, "IO stall share of the interval: " + level);
                }
            }
            assertTrue(level.path("ratio_ops_per_s").asDouble() > 0, level.toString());
        }
        JsonNode applied = result.path("tenure_applied_offsets");
        assertEquals(3, applied.size(), applied.toString());
        long first = applied.elements().next().asLong();
        applied.elements().forEachRemaining(a -> assertEquals(first, a.asLong(), "replicas diverge: " + applied));

        try (Stream<Path> left = Files.list(dataDir)) {
            assertEquals(List.of(), left.collect(Collectors.toList()), "the replicas' files are deleted");
        }
        assertTrue(benchThreads().isEmpty(), "threads left running: " + benchThreads());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aShortProcessRunDrivesReplicaProcessesAndAZooKeeperEnsembleAndStopsThemAll() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(
                        "--sections", "writes,reads",
                        "--warmup-s", "0",
                        "--duration-s", "1",
                        "--inflight", "1,8",
                        "--rounds", "2",
                        "--jit-warmup-s", "1",
                        "--replica-heap", "128m",
                        "--data-dir", dataDir.toString());

        assertEquals(0, exit, "exit code; stderr:\n" + err + "\nstdout:\n" + out);
        List<String> lines = out.toString()
                .lines()
                .filter(l -> l.startsWith(Report.RESULT_PREFIX))
                .collect(Collectors.toList());
        assertEquals(1, lines.size(), out.toString());
        JsonNode result = new ObjectMapper().readTree(lines.get(0).substring(Report.RESULT_PREFIX.length()));
        assertEquals("processes", result.path("config").path("mode").asText(), result.toString());
        JsonNode writes = result.path("writes");
        assertEquals(2, writes.size(), result.toString());
        for (JsonNode level : writes) {
            for (String side : new String[] {"tenure", "zookeeper"}) {
                JsonNode s = level.path(side);
                assertTrue(s.path("ops").asLong() > 0, side + " wrote nothing: " + level);
                assertEquals(0, s.path("errors").asLong(), side + ": " + level);
                assertTrue(s.path("cpu_probe_us").asDouble() > 0, side + ": " + level);
            }
            assertEquals(2, level.path("ratio_rounds").size(), "one ratio per alternating round: " + level);
            assertTrue(level.path("ratio_ops_per_s").asDouble() > 0, level.toString());
        }
        assertTrue(result.path("machine").path("cpu_probe_fastest_us").asDouble() > 0, result.toString());
        assertTrue(out.toString().contains("median of 2 rounds"), "the table shows the rounds:\n" + out);
        assertEquals(2, result.path("jit_warmup").size(), "library API and ZooKeeper warmed up: " + result);
        assertTrue(result.path("reads_library").path("linearizable").path("ops").asLong() > 0, result.toString());
        JsonNode leaderMemory = result.path("memory").path("leader_under_load");
        assertTrue(leaderMemory.path("heap_peak_used_bytes").asLong() > 0, result.toString());
        assertTrue(
                leaderMemory.path("heap_max_bytes").asLong() <= 128L << 20,
                "the replica process runs with the heap it was given: " + leaderMemory);

        try (Stream<Path> left = Files.list(dataDir)) {
            assertEquals(List.of(), left.collect(Collectors.toList()), "every file is deleted");
        }
        List<ProcessHandle> children = ProcessHandle.current()
                .children()
                .filter(ProcessHandle::isAlive)
                .toList();
        assertEquals(List.of(), children, "every process the benchmark started has exited");
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theSnapshotSectionsAtTinySizesMeasureEachFigureAndStopEverything() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(
                        "--sections", "snapshots",
                        "--warmup-s", "0",
                        "--duration-s", "1",
                        "--rounds", "1",
                        "--jit-warmup-s", "0",
                        "--replica-heap", "128m",
                        "--snapshot-heap", "512m",
                        "--soak-s", "3",
                        "--soak-report-s", "1",
                        "--soak-snapshot-entries", "200",
                        "--snapshot-keys", "50",
                        "--snapshot-busy-entries", "50",
                        "--snapwrites-keys", "100",
                        "--soak-segment-bytes", "16384",
                        "--restart-history-mb", "2",
                        "--restart-keys", "200",
                        "--restart-value-sizes", "1024", // one cluster: the section's loop over sizes is the same
                        "--restart-tail-entries", "50",
                        "--restart-trials", "1",
                        "--catch-up-s", "2",
                        "--data-dir", dataDir.toString());

        assertEquals(0, exit, "exit code; stderr:\n" + err + "\nstdout:\n" + out);
        List<String> lines = out.toString()
                .lines()
                .filter(l -> l.startsWith(Report.RESULT_PREFIX))
                .collect(Collectors.toList());
        assertEquals(1, lines.size(), out.toString());
        JsonNode result = new ObjectMapper().readTree(lines.get(0).substring(Report.RESULT_PREFIX.length()));

        JsonNode soak = result.path("soak");
        assertTrue(soak.path("samples").size() >= 3, "a sample a second and one at the end: " + soak);
        for (String id : List.of("k1", "k2", "k3")) {
            JsonNode r = soak.path("replicas").path(id);
            assertTrue(r.path("max_data_bytes").asLong() > 0, id + ": " + soak);
            assertTrue(r.path("max_snapshot_bytes").asLong() > 0, "snapshots were taken on " + id + ": " + soak);
            assertTrue(r.path("bound_bytes").asLong() > 0, id + ": " + soak);
            assertTrue(
                    r.path("design_bound_bytes").asLong()
                            > r.path("bound_bytes").asLong(),
                    id + ": " + soak);
        }
        assertEquals(16384, soak.path("segment_bytes").asLong(), soak.toString());
        JsonNode last = soak.path("samples").get(soak.path("samples").size() - 1);
        assertTrue(last.path("k1").path("log_start").asLong() > 0
                || last.path("k1").path("log_bytes").asLong() > 0);

        JsonNode restart = result.path("restart");
        assertEquals(1, restart.size(), "one history per value size: " + restart);
        for (JsonNode r : restart) {
            assertTrue(r.path("snapshot_side_restored").asBoolean(), r.toString());
            assertTrue(r.path("full_side_had_no_snapshot").asBoolean(), r.toString());
            assertTrue(r.path("history_bytes").asLong() >= 2_000_000, r.toString());
            assertTrue(r.path("snapshot_bytes").asLong() > 0, r.toString());
            // At most the 50 written after the requested snapshot: the policy may snapshot again during them.
            long tail = r.path("tail_entries").asLong();
            assertTrue(tail >= 0 && tail <= 50, r.toString());
            assertTrue(r.path("full_replay_median_s").asDouble() > 0, r.toString());
            assertTrue(r.path("snapshot_tail_median_s").asDouble() > 0, r.toString());
            assertTrue(r.path("snapshot_tail_replica_median_s").asDouble() > 0, r.toString());
            assertTrue(
                    r.path("snapshot_tail_replica_median_s").asDouble()
                            < r.path("snapshot_tail_median_s").asDouble(),
                    "the replica is built after its process starts: " + r);
        }

        JsonNode install = result.path("install");
        assertTrue(install.path("installed").asBoolean(), "the follower got the snapshot: " + install);
        assertTrue(install.path("leader_log_start").asLong() > 0, install.toString());
        assertTrue(install.path("mb_per_s").asDouble() > 0, install.toString());

        assertEquals(1, result.path("snapshot_writes").size(), result.toString());
        JsonNode writes = result.path("snapshot_writes").get(0);
        assertEquals(100, writes.path("keys").asInt(), writes.toString());
        assertTrue(writes.path("leader_share_of_time_snapshotting").asDouble() > 0, writes.toString());
        assertTrue(writes.path("snapshots").path("ops").asLong() > 0, writes.toString());
        assertTrue(writes.path("no_snapshots").path("ops").asLong() > 0, writes.toString());
        assertEquals(0, writes.path("snapshots").path("errors").asLong(), writes.toString());
        assertTrue(writes.path("leader_snapshots_during_rounds").asLong() > 0, "snapshots ran: " + writes);
        assertTrue(out.toString().contains("snapshot install"), out.toString());

        try (Stream<Path> left = Files.list(dataDir)) {
            assertEquals(List.of(), left.collect(Collectors.toList()), "every file is deleted");
        }
        List<ProcessHandle> children = ProcessHandle.current()
                .children()
                .filter(ProcessHandle::isAlive)
                .toList();
        assertEquals(List.of(), children, "every process the benchmark started has exited");
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theMembershipSectionReplacesAFollowerAndMeasuresTheWritesAroundTheChange() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(
                        "--sections", "membership",
                        "--jit-warmup-s", "0",
                        "--membership-before-s", "2",
                        "--snapshot-heap", "256m",
                        "--membership-history-mb", "4",
                        "--data-dir", dataDir.toString());

        assertEquals(0, exit, "exit code; stderr:\n" + err + "\nstdout:\n" + out);
        String line = out.toString()
                .lines()
                .filter(l -> l.startsWith(Report.RESULT_PREFIX))
                .findFirst()
                .orElseThrow(() -> new AssertionError(out.toString()));
        JsonNode m = new ObjectMapper()
                .readTree(line.substring(Report.RESULT_PREFIX.length()))
                .path("membership");
        assertTrue(m.path("seconds_to_active").asDouble() > 0, m.toString());
        assertTrue(m.path("configuration").path("voters").toString().contains("\"r4\""), m.toString());
        assertTrue(
                !m.path("configuration")
                        .path("voters")
                        .toString()
                        .contains("\"" + m.path("replaced").asText() + "\""),
                "the replaced follower is no voter any more: " + m);
        assertTrue(m.path("before").path("ops").asLong() > 0, m.toString());
        assertTrue(m.path("during").path("slices").size() > 0, m.toString());
        assertTrue(m.path("r4_applied").asLong() >= m.path("history_entries").asLong(), "r4 caught up: " + m);

        try (Stream<Path> left = Files.list(dataDir)) {
            assertEquals(List.of(), left.collect(Collectors.toList()), "every file is deleted");
        }
        assertEquals(
                List.of(),
                ProcessHandle.current()
                        .children()
                        .filter(ProcessHandle::isAlive)
                        .toList(),
                "every process the benchmark started has exited");
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theFailoverPauseAndSteadySectionsKillPauseAndLoadTheLeaderWithFastFailoverOnAndOff() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(
                        "--sections", "failover,pause,steady",
                        "--failover-trials", "1",
                        "--pause-trials", "1",
                        "--pause-ms", "300",
                        "--steady-s", "2",
                        "--steady-inflight", "8",
                        "--jit-warmup-s", "0",
                        "--replica-heap", "128m",
                        "--data-dir", dataDir.toString());

        assertEquals(0, exit, "exit code; stderr:\n" + err + "\nstdout:\n" + out);
        String line = out.toString()
                .lines()
                .filter(l -> l.startsWith(Report.RESULT_PREFIX))
                .findFirst()
                .orElseThrow(() -> new AssertionError(out.toString()));
        JsonNode result = new ObjectMapper().readTree(line.substring(Report.RESULT_PREFIX.length()));

        JsonNode f = result.path("failover");
        assertEquals(3000, f.path("session_timeout_ms").asInt(), f.toString());
        assertTrue(f.path("on_settings").asText().contains("suspicion PT1S"), "derived from 3 s: " + f);
        assertTrue(f.path("off_settings").asText().contains("off"), f.toString());
        for (String k : List.of("sigkill_fast_failover_on", "sigkill_fast_failover_off", "sigterm")) {
            JsonNode x = f.path(k);
            assertEquals(1, x.path("trials").asInt(), k + ": " + f);
            assertEquals(1, x.path("all_ms").size(), k + ": " + f);
            assertTrue(x.path("min_ms").asDouble() > 0, k + ": " + f);
            assertTrue(x.path("min_ms").asDouble() <= x.path("median_ms").asDouble(), k + ": " + f);
            assertTrue(x.path("median_ms").asDouble() <= x.path("max_ms").asDouble(), k + ": " + f);
        }
        assertEquals(
                0,
                f.path("sigkill_fast_failover_off")
                        .path("trials_with_suspicions")
                        .asInt(),
                "with fast failover off nobody suspects: " + f);
        assertTrue(
                f.path("sigkill_fast_failover_on")
                                .path("trials_with_suspicions")
                                .asInt()
                        > 0,
                "the survivors suspected the killed leader: " + f);

        JsonNode p = result.path("pause");
        assertEquals(1000, p.path("suspicion_ms").asInt(), p.toString());
        assertEquals(1, p.path("pauses").size(), p.toString());
        JsonNode trial = p.path("pauses").get(0).path("trials").get(0);
        assertTrue(trial.path("stopped_ms").asDouble() >= 300, p.toString());
        assertTrue(trial.path("epoch_before").asLong() > 0, p.toString());
        assertTrue(trial.has("changed"), p.toString());

        JsonNode steady = result.path("steady");
        assertTrue(steady.path("writes").path("ops").asLong() > 0, steady.toString());
        assertTrue(steady.has("leader_changes"), steady.toString());
        assertTrue(out.toString().contains("sigkill fast failover off"), out.toString());

        try (Stream<Path> left = Files.list(dataDir)) {
            assertEquals(List.of(), left.collect(Collectors.toList()), "every file is deleted");
        }
        assertEquals(
                List.of(),
                ProcessHandle.current()
                        .children()
                        .filter(ProcessHandle::isAlive)
                        .toList(),
                "every process the benchmark started has exited");
    }

    /** The benchmark's and the replicas' own threads; ZooKeeper's and Netty's are stopped by their owners. */
    private static List<String> benchThreads() throws InterruptedException {
        List<String> alive = List.of();
        for (int attempt = 0; attempt < 50; attempt++) {
            alive = Thread.getAllStackTraces().keySet().stream()
                    .filter(Thread::isAlive)
                    .map(Thread::getName)
                    .filter(n -> n.startsWith("bench-") || n.startsWith("tenure-"))
                    .sorted()
                    .collect(Collectors.toList());
            if (alive.isEmpty()) {
                break;
            }
            Thread.sleep(100); // executors finish terminating their threads shortly after shutdown returns
        }
        return alive;
    }
}
