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
package dev.tenure.demo.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.NodeLauncher;
import dev.tenure.harness.StatusProbe;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import dev.tenure.testkit.LoopbackPorts;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar's {@code node} with tiny snapshot and segment settings ({@code --snapshot-entries},
 * {@code --segment-bytes}, {@code --catch-up-tail}): every replica snapshots and compacts its log while writes go on
 * ({@code /status} shows a snapshot and a log start above 0, and at most two snapshot files stay on disk), and after
 * all of them are killed (SIGKILL) and restarted from their files, which hold a snapshot and a compacted log, they
 * serve exactly the data written. Three replica processes and one ZooKeeper server on loopback.
 */
class SnapshotCompactionIT {
    private static final List<String> IDS = List.of("r1", "r2", "r3");
    private static final List<String> TINY_SNAPSHOTS = List.of(
            "--snapshot-entries",
            "40",
            "--snapshot-spread",
            "0",
            "--segment-bytes",
            "2KiB",
            "--catch-up-tail",
            "10",
            "--transport-plaintext"); // the explicit setting; VerifyIT and MultiProcessClusterIT run over mutual TLS

    @TempDir
    Path dir;

    private ZooKeeperProcessEnsemble zk;
    private final Map<String, ChildProcess> nodes = new LinkedHashMap<>();
    private final Map<String, Integer> httpPorts = new LinkedHashMap<>();
    private final Map<String, Integer> replPorts = new LinkedHashMap<>();
    private final StatusProbe probe = new StatusProbe(Duration.ofSeconds(2), Duration.ofMillis(50));

    @AfterEach
    void stopEverything() throws IOException {
        ChildProcess.closeAll(nodes.values());
        if (zk != null) {
            zk.close();
        }
    }

    @Test
    @Timeout(value = 300)
    void tinySnapshotSettingsSnapshotAndCompactAndARestartServesTheSameData() throws Exception {
        zk = ZooKeeperProcessEnsemble.builder(dir.resolve("zk")).servers(1).build();
        zk.start();
        for (String id : IDS) {
            nodes.put(id, startNode(id));
        }
        String leader = awaitLeader(-1);

        // 300 writes over 60 keys, some deleted: far more entries than a snapshot, a segment and the tail.
        KvClient client = new KvClient(URI.create(url(leader)), Duration.ofSeconds(10));
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < 300; i++) {
            String key = "k" + (i % 60);
            Outcome o;
            if (i % 7 == 6) {
                o = client.delete(key);
                expected.remove(key);
            } else {
                String value = "value " + i + " of " + key + " " + "x".repeat(i % 40);
                o = client.put(key, value.getBytes(StandardCharsets.UTF_8));
                expected.put(key, value);
            }
            assertEquals(Outcome.Kind.OK, o.kind(), o.toString());
        }
        long commit = status(leader).get("commitOffset").asLong();
        for (String id : IDS) {
            probe.awaitApplied(id, URI.create(url(id)), commit, Duration.ofSeconds(60));
            JsonNode compacted = awaitCompacted(id);
            System.out.println(id + " before the restart: log start " + compacted.get("logStartOffset") + ", snapshot "
                    + compacted.get("snapshot") + ", log end " + compacted.get("logEndOffset"));
            assertTrue(snapshotFiles(id) <= 2, id + " keeps at most two snapshots: " + snapshotFiles(id));
        }

        for (String id : IDS) {
            nodes.get(id).kill(); // SIGKILL: no snapshot on stop; the restart reads the newest snapshot plus the tail
        }
        for (String id : IDS) {
            nodes.put(id, startNode(id));
        }
        String next = awaitLeader(-1);

        for (String id : IDS) {
            probe.awaitApplied(id, URI.create(url(id)), commit, Duration.ofSeconds(60));
            JsonNode s = status(id);
            assertTrue(s.get("logStartOffset").asLong() > 0, id + " restarted with a compacted log: " + s);
            assertTrue(s.get("snapshot").get("offset").asLong() > 0, id + " restarted with its snapshot: " + s);
            assertEquals(expected, readAll(id, true), id + " serves the data written (local reads)");
        }
        assertEquals(expected, readAll(next, false), "linearizable reads on the leader");
    }

    private ChildProcess startNode(String id) throws IOException {
        httpPorts.computeIfAbsent(id, k -> freePort());
        replPorts.computeIfAbsent(id, k -> freePort());
        return NodeLauncher.builder(id)
                .jar(Path.of(System.getProperty("demo.jar")))
                .jvmOptions(List.of("-Xmx256m"))
                .zooKeeper(zk.connectString())
                .dataDir(dataDir(id))
                .http("127.0.0.1:" + httpPorts.get(id))
                .repl("127.0.0.1:" + replPorts.get(id))
                .replicas(IDS)
                .sessionTimeout(Duration.ofSeconds(4))
                .extraArguments(TINY_SNAPSHOTS)
                .logFile(dir.resolve(id + "-" + System.nanoTime() + ".out"))
                .stopGrace(Duration.ZERO)
                .build()
                .start();
    }

    private Path dataDir(String id) {
        return dir.resolve("data-" + id);
    }

    private static int freePort() {
        try {
            return LoopbackPorts.serverPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String url(String id) {
        return "http://127.0.0.1:" + httpPorts.get(id);
    }

    private JsonNode status(String id) throws InterruptedException {
        return probe.status(id, URI.create(url(id)))
                .map(StatusProbe.NodeStatus::json)
                .orElseThrow(() -> new AssertionError(id + " does not answer /status"));
    }

    private String awaitLeader(long aboveEpoch) throws Exception {
        return probe.awaitLeader(
                        () -> {
                            Map<String, URI> live = new LinkedHashMap<>();
                            nodes.forEach((id, p) -> {
                                if (p.isAlive()) {
                                    live.put(id, URI.create(url(id)));
                                }
                            });
                            return live;
                        },
                        aboveEpoch,
                        true,
                        Duration.ofSeconds(60))
                .id();
    }

    /**
     * The status of replica {@code id} once it shows a snapshot and a log start above 0: a snapshot is written on the
     * replica's snapshot thread, and the log is compacted after it is durable, so both come a little after the apply.
     */
    private JsonNode awaitCompacted(String id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            JsonNode s = status(id);
            if (s.get("snapshot").get("offset").asLong() > 0
                    && s.get("logStartOffset").asLong() > 0) {
                return s;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(id + " did not snapshot and compact within 30 s: " + s);
            }
            Thread.sleep(50); // polling another process's status
        }
    }

    private long snapshotFiles(String id) throws IOException {
        try (Stream<Path> files = Files.list(dataDir(id).resolve("snapshots"))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".snap"))
                    .count();
        }
    }

    /** Every key of the 60 written, read from replica {@code id}; absent keys are left out. */
    private Map<String, String> readAll(String id, boolean local) {
        KvClient client = new KvClient(URI.create(url(id)), Duration.ofSeconds(10));
        Map<String, String> values = new TreeMap<>();
        for (int k = 0; k < 60; k++) {
            Outcome o = client.get("k" + k, local);
            if (o.kind() == Outcome.Kind.OK) {
                values.put("k" + k, new String(o.value().orElseThrow(), StandardCharsets.UTF_8));
            } else {
                assertEquals(Outcome.Kind.NOT_FOUND, o.kind(), "k" + k + " on " + id + ": " + o);
            }
        }
        return values;
    }
}
