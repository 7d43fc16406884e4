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
package dev.tenure.demo.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.demo.client.StubReplica.Reply;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code snapshot --url URL} against a stub replica on 127.0.0.1: it posts to that replica's {@code /admin/snapshot}
 * once, never retries, and its exit code says whether the snapshot is durable (0), certainly not taken (1) or unknown
 * (2).
 */
class SnapshotCommandTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final FakeTime time = new FakeTime();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private StubReplica stub(StubReplica.Responder responder) {
        StubReplica s = StubReplica.start(responder);
        closeables.add(s);
        return s;
    }

    private int run(String... args) {
        ClientEnvironment env = new ClientEnvironment(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                time::client);
        return ClientCommands.run(env, args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aDurableSnapshotPrintsItsOffsetAndEpochAndExitsZero() {
        StubReplica s = stub(r -> Reply.json(200, "{\"offset\":1234,\"epoch\":7}"));

        int code = run("snapshot", "--url", s.url().toString());

        assertEquals(0, code, err());
        assertEquals("snapshot durable at offset 1234 (epoch 7) on " + s.url() + "/\n", out());
        assertEquals(1, s.requests().size());
        assertEquals("POST", s.requests().get(0).method());
        assertEquals("/admin/snapshot", s.requests().get(0).pathAndQuery());
    }

    @Test
    void snapshotsNotSupportedExitsOneAndSaysNoSnapshotWasTaken() {
        StubReplica s = stub(r -> Reply.json(501, "{\"error\":\"snapshots_unsupported\",\"applied\":false}"));

        int code = run("snapshot", "--url", s.url().toString());

        assertEquals(1, code);
        assertTrue(err().startsWith("no snapshot taken: snapshots_unsupported [HTTP 501 from "), err());
        assertEquals("", out());
    }

    @Test
    void aFailedSnapshotExitsOneAndIsNotRetried() {
        StubReplica s = stub(r -> Reply.json(500, "{\"error\":\"snapshot_failed\",\"applied\":false}"));

        assertEquals(1, run("snapshot", "--url", s.url().toString()));
        assertEquals(1, s.requests().size());
        assertTrue(err().startsWith("no snapshot taken: snapshot_failed"), err());
    }

    @Test
    void aFailedReplicaExitsOneAndIsNotRetried() {
        StubReplica s = stub(r -> Reply.json(503, "{\"error\":\"replica_failed\",\"applied\":false}")
                .header("Retry-After", "1"));

        assertEquals(1, run("snapshot", "--url", s.url().toString()));
        assertEquals(1, s.requests().size());
        assertTrue(time.sleeps().isEmpty());
    }

    @Test
    void aTimeoutAnswerExitsTwoSinceTheSnapshotMayStillComplete() {
        StubReplica s = stub(r -> Reply.json(503, "{\"error\":\"timeout\"}"));

        assertEquals(2, run("snapshot", "--url", s.url().toString()));
        assertTrue(err().startsWith("outcome unknown: timeout"), err());
        assertTrue(err().contains("may still complete"), err());
    }

    @Test
    void noAnswerInTimeExitsTwo() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int code = run("snapshot", "--url", "http://127.0.0.1:" + silent.getLocalPort(), "--timeout-ms", "200");

            assertEquals(2, code);
            assertTrue(err().startsWith("outcome unknown: no answer in time"), err());
        }
    }

    @Test
    void aRefusedConnectionExitsOne() throws Exception {
        assertEquals(1, run("snapshot", "--url", KvClientTest.refusingUrl().toString()));
        assertTrue(err().startsWith("no snapshot taken: could not connect"), err());
    }

    @Test
    void helpDocumentsTheExitCodes() {
        assertEquals(0, run("snapshot", "--help"));

        assertTrue(out().contains("  0   the snapshot is durable"), out());
        assertTrue(out().contains("  1   no snapshot was taken"), out());
        assertTrue(out().contains("  2   unknown"), out());
        assertTrue(out().contains("  64  usage error"), out());
    }
}
