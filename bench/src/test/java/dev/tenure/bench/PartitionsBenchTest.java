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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PartitionsBenchTest {
    @TempDir
    Path dataDir;

    @Test
    void percentilesAreNearestRank() {
        List<Long> v = List.of(10L, 20L, 30L, 40L, 50L, 60L, 70L, 80L, 90L, 100L);
        assertEquals(50, PartitionsBench.percentile(v, 50));
        assertEquals(90, PartitionsBench.percentile(v, 90));
        assertEquals(100, PartitionsBench.percentile(v, 99));
        assertEquals(7, PartitionsBench.percentile(List.of(7L), 99));
    }

    @Test
    void concurrentOutcomesAddTheirOperationsOverOneInterval() {
        Histogram a = new Histogram(3);
        Histogram b = new Histogram(3);
        for (int i = 0; i < 100; i++) {
            a.recordValue(1_000_000);
            b.recordValue(2_000_000);
        }
        ClosedLoop.Outcome merged = PartitionsBench.concurrent(List.of(
                new ClosedLoop.Outcome(a, 1, 0, Duration.ofSeconds(1), null, 5),
                new ClosedLoop.Outcome(b, 2, 3, Duration.ofSeconds(1), null, 7)));
        assertEquals(200, merged.successes());
        assertEquals(200.0, merged.opsPerSecond(), 1e-9, "two loops at once over the same second");
        assertEquals(3, merged.errors());
        assertEquals(3, merged.unmeasuredErrors());
        assertEquals(7, merged.ioStallMicros(), "the same machine's stall, not a sum");
    }

    @Tag("slow")
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theSectionAtATinyScaleMeasuresEveryFigureAndStopsEverything() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(
                        "--sections", "partitions",
                        "--partitions", "12",
                        "--partitions-small", "3",
                        "--partitions-idle-s", "2",
                        "--partitions-settle-s", "1",
                        "--partitions-node-heap", "192m",
                        "--warmup-s", "0",
                        "--duration-s", "1",
                        "--rounds", "1",
                        "--jit-warmup-s", "0",
                        "--data-dir", dataDir.toString());

        assertEquals(0, exit, "exit code; stderr:\n" + err + "\nstdout:\n" + out);
        String line = out.toString()
                .lines()
                .filter(l -> l.startsWith(Report.RESULT_PREFIX))
                .findFirst()
                .orElseThrow(() -> new AssertionError(out.toString()));
        JsonNode p = new ObjectMapper()
                .readTree(line.substring(Report.RESULT_PREFIX.length()))
                .path("partitions");
        for (String set : List.of("small", "large")) {
            JsonNode s = p.path(set);
            assertTrue(s.path("all_led").asBoolean(), set + ": " + s);
            assertTrue(s.path("balanced").asBoolean(), set + " led by the preferred replicas: " + s);
            assertTrue(s.path("seconds_to_all_led").asDouble() > 0, s.toString());
            JsonNode idle = s.path("idle");
            assertTrue(idle.path("max_cpu_pct").asDouble() > 0, idle.toString());
            assertTrue(idle.path("max_heap_after_full_gc_bytes").asLong() > 0, idle.toString());
            assertTrue(idle.has("messages_per_s_per_node_pair"), idle.toString());
            assertEquals(2, idle.path("n1").path("connected_peers").asInt(), "one connection to each peer: " + idle);
        }
        assertEquals(12, p.path("large").path("partitions").asInt());
        JsonNode w = p.path("writes");
        for (String k : List.of("many_vs_one", "wide_vs_one", "wide_vs_zookeeper")) {
            assertTrue(w.path(k).path("partitions").path("ops").asLong() > 0, k + ": " + w);
            assertEquals(0, w.path(k).path("partitions").path("errors").asLong(), k + ": " + w);
            assertTrue(w.path(k).path("ratio_ops_per_s").asDouble() > 0, k + ": " + w);
            if (!k.equals("wide_vs_zookeeper")) {
                for (String side : List.of("partitions", "one_partition")) {
                    JsonNode cost = w.path(k).path(side);
                    assertTrue(cost.path("node_cpu_us_per_write").asDouble() > 0, k + " " + side + ": " + cost);
                    assertTrue(cost.path("messages_per_write").asDouble() > 0, k + " " + side + ": " + cost);
                }
            }
        }
        JsonNode f = p.path("failover");
        assertEquals(4, f.path("victim_led").asInt(), "a third of the 12 partitions: " + f);
        assertEquals(0, f.path("without_new_leader").asInt(), f.toString());
        assertTrue(f.path("max_ms").asLong() > 0, f.toString());
        // the victim's 4 partitions pass 2 and 2 (their second replicas alternate): the survivors lead 6 each
        assertEquals(2, f.path("leading_after").size(), f.toString());
        f.path("leading_after").forEach(n -> assertEquals(6, n.asInt(), "each survivor leads 6 of 12: " + f));
        assertTrue(f.path("even_after_ms").asLong() > 0, f.toString());
        assertTrue(p.path("targets").size() == 7, p.path("targets").toString());
        assertTrue(out.toString().contains("SIGKILL of"), out.toString());

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

    @Tag("slow")
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theStartOnlyRunMeasuresTheTimeToLeadersAndEachNodesZooKeeperRequestsAndNothingElse() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(
                        "--sections",
                        "partitions",
                        "--partitions",
                        "12",
                        "--partitions-startup-only",
                        "--partitions-node-heap",
                        "192m",
                        "--data-dir",
                        dataDir.toString());

        assertEquals(0, exit, "exit code; stderr:\n" + err + "\nstdout:\n" + out);
        String line = out.toString()
                .lines()
                .filter(l -> l.startsWith(Report.RESULT_PREFIX))
                .findFirst()
                .orElseThrow(() -> new AssertionError(out.toString()));
        JsonNode p = new ObjectMapper()
                .readTree(line.substring(Report.RESULT_PREFIX.length()))
                .path("partitions");
        JsonNode large = p.path("large");
        assertTrue(large.path("all_led").asBoolean(), large.toString());
        assertTrue(large.path("seconds_to_all_led").asDouble() > 0, large.toString());
        assertTrue(large.path("first_led_ms_after_launch").path("max").asLong() > 0, large.toString());
        for (String id : List.of("n1", "n2", "n3")) {
            JsonNode n = large.path("nodes").path(id);
            assertEquals(12, n.path("opened").asInt(), id + ": " + n);
            assertTrue(n.path("zookeeper_operations").size() > 0, id + " counts its ZooKeeper requests: " + n);
            assertEquals(2, n.path("open_log").size(), id + " logs how long opening took: " + n);
        }
        assertTrue(p.path("small").isMissingNode(), "no small set: " + p);
        assertTrue(p.path("writes").isMissingNode(), "no writes: " + p);
        assertTrue(p.path("failover").isMissingNode(), "no failover: " + p);
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
}
