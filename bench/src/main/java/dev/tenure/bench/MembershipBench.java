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
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The membership section (issue 15): the time to replace a follower holding a large history, from the command to
 * the change being active, and the writes at 64 in flight during the change against before it.
 *
 * <p>Three replica processes ({@link ReplicaProcessMain}, the key-value state machine, the library's snapshot
 * policy) get a history of {@code historyBytes} in 64 KiB values to 100 keys (so the state stays small and the
 * leader's log is compacted by its snapshots). Then writes of 100-byte values to 1,000 keys run in back-to-back
 * slices of {@link #SLICE} on whichever replica leads (the load runs inside the leader's process; a leadership change
 * ends a slice with errors and the next slice goes to the new leader), {@code --jit-warmup-s} unmeasured (15 s by
 * default: the JIT compilers warm up), then {@code --membership-before-s} (10 s) before the change, then during it: the
 * leader is asked to replace a follower by a new replica {@code r4} ({@code POST /members/replace}), which is
 * launched, empty, once the configuration lists it as a learner; the answer comes when the change is active.
 */
final class MembershipBench {
    static final List<String> SECTIONS = List.of("membership");
    private static final Duration SLICE = Duration.ofMillis(500);
    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(60);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private final ProcessBench b;
    private final ProcessBench.Config cfg;
    private final ObjectNode result;
    private final long historyBytes;

    MembershipBench(ProcessBench b, ProcessBench.Config cfg, ObjectNode result, long historyBytes) {
        this.b = b;
        this.cfg = cfg;
        this.result = result;
        this.historyBytes = historyBytes;
    }

    void run(ZooKeeperProcessEnsemble zk, Path root) throws Exception {
        try (ReplicaProcesses t = ReplicaProcesses.start(
                List.of("r1", "r2", "r3"),
                zk.connectString(),
                root.resolve("membership"),
                cfg.sessionTimeoutMs(),
                cfg.fsync(),
                cfg.snapshots().snapshotHeap(),
                "/tenure-bench-membership",
                "state_machine=kv")) {
            String leader = t.awaitLeader(LEADER_TIMEOUT);
            int blob = 64 * 1024;
            long blobs = Math.max(1, historyBytes / blob);
            b.say("membership: writing a history of %d values of 64 KiB to 100 keys on %s", blobs, leader);
            ReplicaProcesses.Answer fill = t.call(
                    leader,
                    "POST",
                    "/fill?first_key=0&keys=100&count=" + blobs + "&value_bytes=" + blob + "&inflight=64",
                    Duration.ofMinutes(30));
            if (fill.code() != 200 || fill.body().path("errors").asLong() > 0) {
                throw new IllegalStateException("the history could not be written: " + fill.body());
            }
            ObjectNode o = result.putObject("membership");
            o.put("history_bytes", blobs * blob);
            o.put("history_entries", t.status(leader).commitOffset());
            o.put(
                    "leader_log_start",
                    t.status(leader).json().path("logStartOffset").asLong());

            if (!cfg.jitWarmup().isZero()) {
                slices(t, cfg.jitWarmup(), null); // not measured: the JIT compilers warm up the write path
            }
            List<JsonNode> before = slices(t, cfg.membershipBefore(), null);
            String old = t.ids().stream()
                    .filter(id -> !id.equals(leader))
                    .findFirst()
                    .orElseThrow();
            AtomicBoolean changing = new AtomicBoolean(true);
            long started = System.nanoTime();
            CompletableFuture<ReplicaProcesses.Answer> replace = CompletableFuture.supplyAsync(() -> {
                try {
                    return t.call(leader, "POST", "/members/replace?old=" + old + "&new=r4", Duration.ofMinutes(10));
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                } finally {
                    changing.set(false);
                }
            });
            CompletableFuture<List<JsonNode>> during = CompletableFuture.supplyAsync(() -> {
                try {
                    return slices(t, Duration.ofMinutes(10), changing);
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            awaitLearner(t, leader, "r4");
            long learnerAt = System.nanoTime();
            t.launchNew("r4");
            t.awaitReady("r4");
            ReplicaProcesses.Answer answer = replace.get();
            long active = System.nanoTime();
            List<JsonNode> changeSlices = during.get();
            if (answer.code() != 200) {
                b.unclean();
                throw new IllegalStateException("the replacement failed: " + answer.body());
            }
            o.put("replaced", old);
            o.set("configuration", answer.body());
            o.put("seconds_to_active", ProcessBench.round((active - started) / 1e9));
            o.put("seconds_to_learner", ProcessBench.round((learnerAt - started) / 1e9));
            o.set("before", summary(before));
            o.set("during", summary(changeSlices));
            o.put("session_timeout_ms", cfg.sessionTimeoutMs());
            String newLeader = t.awaitLeader(LEADER_TIMEOUT);
            JsonNode r4 = t.status("r4").json();
            o.put("r4_snapshot_offset", r4.path("snapshot").path("offset").asLong());
            o.put("r4_applied", r4.path("appliedOffset").asLong());
            o.put("leader_after", newLeader);
            b.say(
                    "membership: %s replaced by r4 in %.1f s (r4 a learner after %.1f s); writes before %.0f/s, p99"
                            + " %.1f ms; during %.0f/s, worst slice p99 %.1f ms, longest write %.0f ms, longest"
                            + " stretch without a write %.0f ms",
                    old,
                    (active - started) / 1e9,
                    (learnerAt - started) / 1e9,
                    o.path("before").path("ops_per_s").asDouble(),
                    o.path("before").path("worst_p99_us").asDouble() / 1e3,
                    o.path("during").path("ops_per_s").asDouble(),
                    o.path("during").path("worst_p99_us").asDouble() / 1e3,
                    o.path("during").path("max_us").asDouble() / 1e3,
                    o.path("during").path("longest_gap_ms").asDouble());
        }
    }

    /** Waits until the leader's configuration lists {@code id} as a learner. */
    private static void awaitLearner(ReplicaProcesses t, String leader, String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            ReplicaProcesses.Answer a = t.call(leader, "GET", "/members", Duration.ofSeconds(5));
            if (a.code() == 200 && a.body().path("learners").toString().contains("\"" + id + "\"")) {
                return;
            }
            Thread.sleep(20); // polling the configuration
        }
        throw new IllegalStateException(id + " was not added as a learner within 2 minutes");
    }

    /**
     * Back-to-back load slices on whichever replica leads, for {@code max} or (if {@code going} is given) while it
     * is true; each slice's answer, with its start time in {@code t_ms}. A slice that finds no leader is recorded
     * as a gap.
     */
    private List<JsonNode> slices(ReplicaProcesses t, Duration max, AtomicBoolean going) throws Exception {
        List<JsonNode> list = new ArrayList<>();
        long end = System.nanoTime() + max.toNanos();
        long origin = System.nanoTime();
        while (System.nanoTime() < end && (going == null || going.get())) {
            long at = System.nanoTime();
            Optional<String> leader = leaderNow(t);
            ObjectNode slice;
            if (leader.isEmpty()) {
                slice = JSON.createObjectNode();
                slice.put("no_leader", true);
                Thread.sleep(SLICE.toMillis() / 5); // no one to send the load to yet
            } else {
                try {
                    slice = t.load(
                            leader.get(),
                            "kind=write&inflight=64&warmup_ms=0&duration_ms=" + SLICE.toMillis()
                                    + "&value_bytes=100&keys=1000&reset_peaks=false",
                            Duration.ofSeconds(40));
                } catch (Exception e) {
                    slice = JSON.createObjectNode();
                    slice.put("failed", String.valueOf(e));
                }
            }
            slice.put("t_ms", (at - origin) / 1_000_000);
            slice.put("took_ms", (System.nanoTime() - at) / 1_000_000);
            list.add(slice);
        }
        return list;
    }

    private static Optional<String> leaderNow(ReplicaProcesses t) {
        try {
            return Optional.of(t.awaitLeader(Duration.ofMillis(200)));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /**
     * Totals of slices: writes per second over the slices' time, the worst slice's p99, the longest write, errors,
     * and the longest stretch of consecutive slices without a successful write (gaps and failed slices included).
     */
    private static ObjectNode summary(List<JsonNode> slices) {
        ObjectNode s = JSON.createObjectNode();
        long ops = 0;
        long errors = 0;
        double worstP99 = 0;
        double max = 0;
        long tookMs = 0;
        long gap = 0;
        long longestGap = 0;
        ArrayNode perSlice = s.putArray("slices");
        for (JsonNode sl : slices) {
            JsonNode side = sl.path("side");
            long n = side.path("ops").asLong();
            ops += n;
            errors += side.path("errors").asLong();
            worstP99 = Math.max(worstP99, side.path("p99_us").asDouble());
            max = Math.max(max, side.path("max_us").asDouble());
            tookMs += sl.path("took_ms").asLong();
            gap = n > 0 ? 0 : gap + sl.path("took_ms").asLong();
            longestGap = Math.max(longestGap, gap);
            perSlice.addObject()
                    .put("t_ms", sl.path("t_ms").asLong())
                    .put("ops", n)
                    .put("errors", side.path("errors").asLong())
                    .put("p99_us", side.path("p99_us").asDouble())
                    .put("no_leader", sl.path("no_leader").asBoolean(false));
        }
        s.put("ops", ops);
        s.put("errors", errors);
        s.put("seconds", tookMs / 1e3);
        s.put("ops_per_s", ProcessBench.round(ops / Math.max(1e-9, tookMs / 1e3)));
        s.put("worst_p99_us", ProcessBench.round(worstP99));
        s.put("max_us", ProcessBench.round(max));
        s.put("longest_gap_ms", longestGap);
        return s;
    }

    /** The section's lines of the table. */
    static void print(JsonNode result, PrintWriter out) {
        if (!result.has("membership")) {
            return;
        }
        JsonNode m = result.path("membership");
        out.printf(
                Locale.ROOT,
                "%nmembership: %s replaced by r4 (history %.0f MB, %d entries) in %.1f s from the command to the change"
                        + " being active; writes at 64 in flight before: %.0f/s (worst slice p99 %.1f ms); during:"
                        + " %.0f/s (worst slice p99 %.1f ms, longest write %.0f ms, %d errors, longest stretch without"
                        + " a write %d ms; session timeout %d ms)%n",
                m.path("replaced").asText(),
                m.path("history_bytes").asLong() / 1e6,
                m.path("history_entries").asLong(),
                m.path("seconds_to_active").asDouble(),
                m.path("before").path("ops_per_s").asDouble(),
                m.path("before").path("worst_p99_us").asDouble() / 1e3,
                m.path("during").path("ops_per_s").asDouble(),
                m.path("during").path("worst_p99_us").asDouble() / 1e3,
                m.path("during").path("max_us").asDouble() / 1e3,
                m.path("during").path("errors").asLong(),
                m.path("during").path("longest_gap_ms").asLong(),
                m.path("session_timeout_ms").asLong());
    }
}
