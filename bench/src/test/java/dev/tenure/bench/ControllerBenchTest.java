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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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

class ControllerBenchTest {
    @TempDir
    Path dataDir;

    @Test
    void srvrFieldsAreReadInDecimalAndTheZxidInHexadecimal() throws Exception {
        String srvr = "Zookeeper version: 3.9.5\nLatency min/avg/max: 0/0.5/12\nReceived: 1234\nSent: 1233\n"
                + "Connections: 3\nOutstanding: 0\nZxid: 0x30000002a\nMode: leader\nNode count: 99\n";
        assertEquals(1234, ControllerBench.ZooKeeperCount.field(srvr, "Received:"));
        assertEquals(0x30000002aL, ControllerBench.ZooKeeperCount.field(srvr, "Zxid:"));
    }

    @Tag("slow")
    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void bothModesAtATinyScaleMeasureEveryFaultAndStopEverything() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new BenchMain())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(
                        "--sections", "controller",
                        "--controller-partitions", "8",
                        "--controller-trials", "1",
                        "--controller-session-timeout-ms", "1500",
                        "--controller-rebalance-ms", "500",
                        "--controller-node-heap", "128m",
                        "--controller-idle-window-ms", "200",
                        "--controller-zookeeper-tail-ms", "100",
                        "--controller-quiet-requests-per-s", "1000", // no wait for a quiet ensemble: short
                        // elections hand a partition over again only 10 rebalance intervals (20 s) after a miss
                        "--controller-balance-timeout-s", "6",
                        "--controller-writes-per-s", "400",
                        "--data-dir", dataDir.toString());

        assertEquals(0, exit, "exit code; stderr:\n" + err + "\nstdout:\n" + out);
        String line = out.toString()
                .lines()
                .filter(l -> l.startsWith(Report.RESULT_PREFIX))
                .findFirst()
                .orElseThrow(() -> new AssertionError(out.toString()));
        JsonNode o = new ObjectMapper()
                .readTree(line.substring(Report.RESULT_PREFIX.length()))
                .path("controller");
        assertEquals(2, o.path("runs").size(), o.toString());
        for (JsonNode r : o.path("runs")) {
            String mode = r.path("mode").asText();
            assertTrue(!r.has("error"), mode + ": " + r);
            assertTrue(r.path("start").path("balanced").asBoolean(), mode + " led by the preferred replicas: " + r);
            JsonNode kill = r.path("sigkill").get(0);
            assertEquals(3, kill.path("victim_led").asInt(), mode + ": the node leading the most of 8: " + kill);
            assertEquals(0, kill.path("without_new_leader").asInt(), mode + ": " + kill);
            assertTrue(kill.path("max_ms").asLong() > 0, mode + ": " + kill);
            assertTrue(kill.path("zookeeper").path("requests").asLong() > 0, mode + " counts requests: " + kill);
            assertTrue(kill.path("zookeeper").path("transactions").asLong() >= 0, mode + ": " + kill);
            assertTrue(kill.path("zookeeper").path("client_writes").asLong() > 0, mode + " counts writes: " + kill);
            JsonNode term = r.path("sigterm").get(0);
            assertEquals(0, term.path("without_new_leader").asInt(), mode + ": " + term);
            assertTrue(term.path("process_exit_ms").asLong() > 0, mode + ": " + term);
            JsonNode writes = term.path("writes");
            assertTrue(writes.path("victim_counts_read").asBoolean(), mode + ": the stopped node's counts: " + writes);
            assertTrue(writes.path("committed").asLong() > 0, mode + ": " + writes);
            assertEquals(8, writes.path("partitions_written_after").asInt(), mode + ": every partition: " + writes);
            assertTrue(
                    writes.has("refusals")
                            && writes.path("committed_after_retry").asLong()
                                    <= writes.path("committed").asLong()
                            && writes.path("committed_after_retry").asLong()
                                    <= writes.path("retried").asLong(),
                    mode + ": refusals counted beside the retried writes: " + writes);
            if (mode.equals("controller")) {
                JsonNode shutdown = term.path("shutdown");
                assertTrue(shutdown.path("reported").asBoolean(), "the stopped node's shutdown report: " + term);
                assertEquals(3, shutdown.path("drained").asInt(), "it drained the 3 partitions it led: " + shutdown);
                assertTrue(shutdown.path("moved").asBoolean(), "the controller moved them: " + shutdown);
                assertEquals(0, shutdown.path("left_leading").asInt(), shutdown.toString());
                assertTrue(
                        shutdown.path("hook_ms").asLong() >= 0
                                && shutdown.path("drain_ms").asLong() >= 0
                                && shutdown.path("move_ms").asLong() >= 0
                                && shutdown.path("still_in_flight").asInt() >= 0
                                && shutdown.path("closed_ms").asLong()
                                        >= shutdown.path("drain_ms").asLong()
                                                + shutdown.path("move_ms").asLong()
                                && shutdown.path("closed_ms").asLong()
                                        <= term.path("process_exit_ms").asLong(),
                        "the phases of the controlled shutdown, in order, before the exit: " + shutdown);
                JsonNode summary = r.path("summary").path("sigterm");
                assertEquals(1, summary.path("shutdown_reports").asInt(), summary.toString());
                assertTrue(summary.has("drain_ms_max") && summary.has("move_ms_max"), summary.toString());
                assertTrue(
                        term.path("balanced_before").asBoolean(),
                        "the controller spreads the leaders again after a restart: " + term);
                JsonNode ctl = r.path("controller_sigkill").get(0);
                assertNotEquals(
                        ctl.path("victim").asText(), ctl.path("new_controller").asText(), ctl.toString());
                assertTrue(
                        ctl.path("new_controller_epoch").asLong()
                                > ctl.path("controller_epoch_before").asLong(),
                        ctl.toString());
                assertTrue(ctl.path("new_controller_active_ms").asLong() > 0, ctl.toString());
                assertEquals(0, ctl.path("without_new_leader").asInt(), ctl.toString());
                assertTrue(
                        kill.path("zookeeper").path("controller_round_trips").asLong() > 0,
                        "the controller counts its requests: " + kill);
            } else {
                assertTrue(!term.has("shutdown"), "elections have no controlled shutdown: " + term);
                assertEquals(0, r.path("controller_sigkill").size(), r.toString());
            }
        }
        assertTrue(o.path("targets").has("controller"), o.path("targets").toString());
        assertTrue(o.path("targets").has("election"), o.path("targets").toString());
        assertTrue(out.toString().contains("controller vs elections"), out.toString());
        assertTrue(out.toString().contains("SIGTERM: drain / move"), out.toString());
        assertTrue(out.toString().contains("controller 8 SIGTERM 1: moved p50 / p100"), out.toString());

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
