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
package dev.tenure.demo.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import dev.tenure.replicator.core.Role;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The HTTP API contract, against the embedded 3-replica cluster. */
class KvHttpApiTest {
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new EmbeddedCluster(0);
        cluster.start();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    static KvNode leader() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (KvNode n : cluster.nodes()) {
                if (n.status().replica().role() == Role.LEADER
                        && n.status().replica().commitOffset() > 0
                        && n.leader().isPresent()) {
                    return n;
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException("no leader");
    }

    static KvNode follower() throws Exception {
        KvNode l = leader();
        return cluster.nodes().stream().filter(n -> n != l).findFirst().orElseThrow();
    }

    static HttpResponse<byte[]> send(String method, String url, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", method.equals("POST") ? "application/json" : "application/octet-stream");
        b.method(
                method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static JsonNode body(HttpResponse<byte[]> r) throws Exception {
        return json.readTree(r.body());
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putThenLinearizableGetOnTheLeaderReturnsTheValueWithItsPosition() throws Exception {
        String base = leader().url();
        HttpResponse<byte[]> put = send("PUT", base + "/kv/greeting", utf8("hello"));
        assertEquals(200, put.statusCode());
        assertTrue(body(put).get("epoch").asLong() > 0);
        assertTrue(body(put).get("offset").asLong() > 0);
        HttpResponse<byte[]> get = send("GET", base + "/kv/greeting", null);
        assertEquals(200, get.statusCode());
        assertEquals("hello", new String(get.body(), StandardCharsets.UTF_8));
    }

    @Test
    void writesAndLinearizableReadsOnAFollowerAreRedirectedToTheLeader() throws Exception {
        KvNode leader = leader();
        KvNode follower = follower();
        HttpResponse<byte[]> r = send("PUT", follower.url() + "/kv/a%2Fb?x=1", utf8("v"));
        assertEquals(307, r.statusCode());
        assertEquals(
                leader.url() + "/kv/a%2Fb?x=1",
                r.headers().firstValue("Location").orElseThrow());
        assertEquals("not_leader", body(r).get("error").asText());
        assertEquals(leader.id(), body(r).get("leader").asText());
        assertEquals(leader.url(), body(r).get("leaderUrl").asText());
        assertEquals(307, send("GET", follower.url() + "/kv/x", null).statusCode());
    }

    @Test
    void localReadsOnAFollowerSeeAppliedValues() throws Exception {
        HttpResponse<byte[]> put = send("PUT", leader().url() + "/kv/local", utf8("seen"));
        long offset = body(put).get("offset").asLong();
        KvNode follower = follower();
        follower.replica().awaitApplied(offset + 1).get();
        HttpResponse<byte[]> get = send("GET", follower.url() + "/kv/local?consistency=local", null);
        assertEquals(200, get.statusCode());
        assertEquals("seen", new String(get.body(), StandardCharsets.UTF_8));
    }

    @Test
    void deleteAndCompareAndSetFollowTheContract() throws Exception {
        String base = leader().url();
        assertEquals(200, send("DELETE", base + "/kv/absent", null).statusCode(), "deleting an absent key is fine");
        HttpResponse<byte[]> missing = send("GET", base + "/kv/absent", null);
        assertEquals(404, missing.statusCode());
        assertEquals("not_found", body(missing).get("error").asText());

        HttpResponse<byte[]> create = send("POST", base + "/kv/c/cas", utf8("{\"expect\":null,\"update\":\"one\"}"));
        assertEquals(200, create.statusCode());
        HttpResponse<byte[]> wrong = send("POST", base + "/kv/c/cas", utf8("{\"expect\":\"zero\",\"update\":\"two\"}"));
        assertEquals(409, wrong.statusCode());
        assertEquals("cas_failed", body(wrong).get("error").asText());
        assertEquals("one", body(wrong).get("current").asText());
        HttpResponse<byte[]> right = send("POST", base + "/kv/c/cas", utf8("{\"expect\":\"one\",\"update\":\"two\"}"));
        assertEquals(200, right.statusCode());
        assertEquals("two", new String(send("GET", base + "/kv/c", null).body(), StandardCharsets.UTF_8));
        HttpResponse<byte[]> absentExpected =
                send("POST", base + "/kv/nothing/cas", utf8("{\"expect\":\"x\",\"update\":\"y\"}"));
        assertEquals(409, absentExpected.statusCode());
        assertTrue(body(absentExpected).get("current").isNull());
    }

    @Test
    void badInputGetsAClearErrorAndChangesNothing() throws Exception {
        String base = leader().url();
        assertError(send("PUT", base + "/kv/", utf8("v")), 400, "bad_key");
        assertEquals(400, rawStatus(base, "PUT /kv/%zz HTTP/1.1"), "invalid percent-encoding");
        assertEquals(400, rawStatus(base, "PUT /kv/ab%2 HTTP/1.1"), "truncated percent-encoding");
        assertError(send("PUT", base + "/kv/%E2%28%A1", utf8("v")), 400, "bad_key"); // not UTF-8
        assertError(send("PUT", base + "/kv/" + "k".repeat(1025), utf8("v")), 400, "bad_key");
        assertEquals(
                200, send("PUT", base + "/kv/" + "k".repeat(1024), utf8("v")).statusCode());
        assertError(send("PUT", base + "/kv/big", new byte[(1 << 20) + 1]), 413, "value_too_large");
        assertEquals(404, send("GET", base + "/kv/big", null).statusCode(), "nothing partially applied");
        assertEquals(200, send("PUT", base + "/kv/max", new byte[1 << 20]).statusCode());
        HttpResponse<byte[]> post = send("POST", base + "/kv/k", utf8("v"));
        assertError(post, 405, "method_not_allowed");
        assertTrue(post.headers().firstValue("Allow").isPresent());
        assertError(send("GET", base + "/kv/k/cas", null), 405, "method_not_allowed");
        assertError(send("POST", base + "/kv/k/cas", utf8("{nope")), 400, "malformed_json");
        assertError(send("POST", base + "/kv/k/cas", utf8("{\"expect\":null}")), 400, "malformed_json");
        assertError(send("POST", base + "/kv/k/cas", utf8("[1]")), 400, "malformed_json");
        assertEquals(404, send("GET", base + "/kv/k", null).statusCode(), "nothing partially applied");
    }

    /** Sends a request line the JDK client refuses to build; returns the status code. */
    private static int rawStatus(String base, String requestLine) throws Exception {
        URI u = URI.create(base);
        try (java.net.Socket s = new java.net.Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(10_000);
            String req = requestLine + "\r\nHost: " + u.getAuthority()
                    + "\r\nContent-Length: 1\r\nConnection: close\r\n\r\nv";
            s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
            String status = new java.io.BufferedReader(
                            new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
            return Integer.parseInt(status.split(" ", -1)[1]);
        }
    }

    private static void assertError(HttpResponse<byte[]> r, int status, String error) throws Exception {
        assertEquals(status, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertEquals(error, body(r).get("error").asText());
        assertFalse(body(r).path("applied").asBoolean(true), "a definite refusal says applied:false");
    }

    @Test
    void statusMetricsAndPageAreServed() throws Exception {
        KvNode leader = leader();
        JsonNode s = body(send("GET", leader.url() + "/status", null));
        assertEquals(leader.id(), s.get("id").asText());
        assertEquals("leader", s.get("role").asText());
        assertEquals(leader.id(), s.get("leader").asText());
        assertEquals(leader.url(), s.get("leaderUrl").asText());
        for (String f : new String[] {"epoch", "commitOffset", "appliedOffset", "logEndOffset"}) {
            assertTrue(s.get(f).asLong() > 0, f);
        }
        assertEquals(3, s.get("replicas").size());
        for (JsonNode r : s.get("replicas")) {
            assertTrue(r.has("id") && r.has("url") && r.has("matchOffset") && r.has("lagMs") && r.has("connected"));
        }
        JsonNode fs = body(send("GET", follower().url() + "/status", null));
        assertEquals("follower", fs.get("role").asText());
        String metrics = new String(send("GET", leader.url() + "/metrics", null).body(), StandardCharsets.UTF_8);
        for (String m : new String[] {
            "tenure_epoch",
            "tenure_commit_latency",
            "tenure_follower_lag_entries",
            "tenure_elections",
            "tenure_fenced_requests",
            "tenure_transport_dropped_messages_total",
            "jvm_memory_used_bytes"
        }) {
            assertTrue(metrics.contains(m), m);
        }
        HttpResponse<byte[]> page = send("GET", leader.url() + "/", null);
        assertEquals(200, page.statusCode());
        assertTrue(new String(page.body(), StandardCharsets.UTF_8).contains("Tenure key-value store"));
    }

    @Test
    void postAdminSnapshotAnswersTheDurableSnapshotAndStatusAndMetricsShowIt() throws Exception {
        KvNode leader = leader();
        long written = body(send("PUT", leader.url() + "/kv/snap", utf8("shot")))
                .get("offset")
                .asLong();
        KvNode follower = follower();
        follower.replica().awaitApplied(written + 1).get(30, TimeUnit.SECONDS);

        HttpResponse<byte[]> r = send("POST", follower.url() + "/admin/snapshot", null);

        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        long offset = body(r).get("offset").asLong();
        assertTrue(offset > written, "the snapshot holds the write: " + offset + " > " + written);
        assertTrue(body(r).get("epoch").asLong() > 0);
        JsonNode snapshot = awaitSnapshotInStatus(follower.url(), offset);
        assertEquals(body(r).get("epoch").asLong(), snapshot.get("epoch").asLong());
        assertTrue(snapshot.get("sizeBytes").asLong() > 0, snapshot.toString());
        assertTrue(!snapshot.get("at").isNull(), "taken now: " + snapshot);
        String metrics =
                new String(send("GET", follower.url() + "/metrics", null).body(), StandardCharsets.UTF_8);
        assertTrue(metricValue(metrics, "tenure_snapshots_taken_total") >= 1, metrics);
        assertTrue(metricValue(metrics, "tenure_snapshot_size_bytes") > 0, metrics);
        assertTrue(metricValue(metrics, "tenure_snapshot_duration_seconds_count") >= 1, metrics);
        assertTrue(metrics.contains("tenure_snapshot_installs_total"), metrics);
        assertTrue(metrics.contains("tenure_log_start_offset"), metrics);
    }

    @Test
    void theSnapshotCommandTakesASnapshotOfTheReplicaAtItsUrlAndExitsZero() throws Exception {
        KvNode leader = leader();
        long written = body(send("PUT", leader.url() + "/kv/cli-snap", utf8("shot")))
                .get("offset")
                .asLong();

        int exit = dev.tenure.demo.client.ClientCommands.run("snapshot", "--url", leader.url());

        assertEquals(0, exit);
        assertTrue(
                awaitSnapshotInStatus(leader.url(), written + 1).get("offset").asLong() > written);
    }

    @Test
    void adminSnapshotRefusesOtherMethodsAndABody() throws Exception {
        String base = leader().url();

        HttpResponse<byte[]> get = send("GET", base + "/admin/snapshot", null);
        assertEquals(405, get.statusCode());
        assertEquals("POST", get.headers().firstValue("Allow").orElseThrow());
        assertEquals(413, send("POST", base + "/admin/snapshot", utf8("x")).statusCode());
    }

    /**
     * The status's snapshot once its offset reaches {@code offset}: the answer to the request comes once the file is
     * durable, the status a moment later, from the replica's event thread.
     */
    private static JsonNode awaitSnapshotInStatus(String url, long offset) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            JsonNode s = body(send("GET", url + "/status", null));
            assertTrue(s.get("logStartOffset").asLong() >= 0, s.toString());
            JsonNode snapshot = s.get("snapshot");
            if (snapshot.get("offset").asLong() >= offset) {
                return snapshot;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no snapshot at offset " + offset + " in the status: " + s);
            }
            Thread.sleep(10); // polling the status
        }
    }

    /** The value of the sample named exactly {@code name} (no labels) in Prometheus text. */
    private static double metricValue(String metrics, String name) {
        for (String line : metrics.lines().toList()) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError("no sample " + name);
    }

    @Test
    void handOffMovesLeadershipPromptlyAndKeepsEveryWrite() throws Exception {
        KvNode leader = leader();
        for (int i = 0; i < 20; i++) {
            assertEquals(
                    200, send("PUT", leader.url() + "/kv/h" + i, utf8("v" + i)).statusCode());
        }
        long started = System.nanoTime();
        assertTrue(leader.handOff(Duration.ofSeconds(5)), "another replica leads");
        long ms = (System.nanoTime() - started) / 1_000_000;
        System.out.println("hand-off took " + ms + " ms");
        KvNode next = leader();
        assertNotEquals(leader.id(), next.id());
        for (int i = 0; i < 20; i++) {
            HttpResponse<byte[]> g = send("GET", next.url() + "/kv/h" + i, null);
            assertEquals("v" + i, new String(g.body(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void moreConcurrentWritesThanServerThreadsAreAllAnsweredFromTheirCommits() throws Exception {
        // The server has two event-loop threads and no thread per request: 300 PUTs on 300 connections wait
        // for their commits at once.
        String base = leader().url();
        HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<CompletableFuture<HttpResponse<byte[]>>> puts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            puts.add(client.sendAsync(
                    HttpRequest.newBuilder(URI.create(base + "/kv/many-" + i))
                            .timeout(Duration.ofSeconds(30))
                            .PUT(HttpRequest.BodyPublishers.ofByteArray(utf8("v" + i)))
                            .build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        long lastOffset = 0;
        for (CompletableFuture<HttpResponse<byte[]>> put : puts) {
            HttpResponse<byte[]> r = put.get(60, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
            lastOffset = Math.max(lastOffset, body(r).get("offset").asLong());
        }
        assertTrue(lastOffset >= 300, "each write has its own offset");
        for (int i = 0; i < 300; i += 37) {
            assertEquals(
                    "v" + i,
                    new String(send("GET", base + "/kv/many-" + i, null).body(), StandardCharsets.UTF_8));
        }
    }
}
