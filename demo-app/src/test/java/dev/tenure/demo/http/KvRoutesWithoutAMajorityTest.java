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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the HTTP API answers when the leader hears from no majority, driven for real: the embedded 3-replica cluster
 * (in-process ZooKeeper ensemble) with both followers' replication traffic held. A write that may have been applied
 * is never answered as failed (503 {@code outcome_unknown} without {@code "applied"}); a linearizable read that
 * cannot be confirmed is answered 503 {@code timeout}, not with a possibly stale value.
 */
@Timeout(120)
class KvRoutesWithoutAMajorityTest {
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private EmbeddedCluster cluster;
    private KvNode leader;
    private List<String> followers;

    @AfterEach
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aWriteThatCannotCommitInTimeIsAnsweredOutcomeUnknownNotFailed() throws Exception {
        // Far below the replica's own proposal timeout (10 s) and check-quorum interval (the 4 s session timeout):
        // the HTTP request timeout is what ends the wait.
        startAndHoldFollowers(Duration.ofMillis(300), null);

        JsonNode answer = assertOutcomeUnknown(send("/kv/maybe", "PUT", "applied later"));

        assertEquals("not committed within 300 ms", answer.path("detail").asText(), answer.toString());
        // Rightly not "failed": the write is in the leader's log and commits once the followers hear it.
        long logEnd = leader.status().replica().logEndOffset();
        followers.forEach(cluster::resume);
        leader.replica().awaitApplied(logEnd).get(30, TimeUnit.SECONDS);
        assertEquals(
                "applied later",
                new String(leader.store().get("maybe").orElseThrow(), StandardCharsets.UTF_8),
                "the write answered outcome_unknown was applied");
    }

    @Test
    void aWriteWhoseLeaderGivesUpBeforeItCommitsIsAnsweredOutcomeUnknownNotFailed() throws Exception {
        // Far above the check-quorum interval (the 4 s session timeout): the leader, hearing from no majority, gives
        // its term up first, and the pending proposal fails with OutcomeUnknownException.
        startAndHoldFollowers(Duration.ofSeconds(60), null);

        JsonNode answer = assertOutcomeUnknown(send("/kv/orphan", "PUT", "maybe applied"));

        assertTrue(answer.path("detail").asText().contains("OutcomeUnknownException"), answer.toString());
    }

    @Test
    void aLinearizableReadThatCannotConfirmLeadershipInTimeIsAnsweredTimeout() throws Exception {
        // Far below the replica's own read-barrier timeout and the check-quorum interval: the HTTP request timeout
        // ends the wait while the leader still leads. The key has a value, so an unconfirmed read that went ahead
        // anyway would answer 200 with it.
        startAndHoldFollowers(Duration.ofMillis(300), "k");

        HttpResponse<byte[]> get = send("/kv/k?consistency=linearizable", "GET", null);

        String text = new String(get.body(), StandardCharsets.UTF_8);
        assertEquals(503, get.statusCode(), text);
        // Exactly KvRoutes' answer to a read barrier that times out: no value, no "applied" (a read changes nothing).
        assertEquals(
                json.createObjectNode()
                        .put("error", "timeout")
                        .put("detail", "the read could not be confirmed in time"),
                json.readTree(get.body()),
                text);
    }

    /**
     * Starts the cluster with {@code requestTimeout}, waits for a leader that serves its epoch, writes {@code
     * keyToWrite} (if not null) while a majority still answers, then holds both followers' replication traffic.
     */
    private void startAndHoldFollowers(Duration requestTimeout, String keyToWrite) throws Exception {
        cluster = new EmbeddedCluster(0).requestTimeout(requestTimeout);
        cluster.start();
        leader = awaitServingLeader();
        if (keyToWrite != null) {
            HttpResponse<byte[]> put = send("/kv/" + keyToWrite, "PUT", "v");
            assertEquals(200, put.statusCode(), new String(put.body(), StandardCharsets.UTF_8));
        }
        followers = cluster.nodes().stream()
                .map(KvNode::id)
                .filter(id -> !id.equals(leader.id()))
                .toList();
        followers.forEach(cluster::holdReplication);
    }

    /** The replica that leads and serves its epoch (what the API requires of a write and a linearizable read). */
    private KvNode awaitServingLeader() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (KvNode n : cluster.nodes()) {
                if (n.status().replica().role() == Role.LEADER
                        && n.status().replica().commitOffset() > 0) {
                    return n;
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException("no replica served as leader within 30 s");
    }

    /** {@code method target} on the leader, with {@code body} as text if not null. */
    private HttpResponse<byte[]> send(String target, String method, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(leader.url() + target))
                        .timeout(Duration.ofSeconds(90))
                        .header("Content-Type", method.equals("POST") ? "application/json" : "application/octet-stream")
                        .method(
                                method,
                                body == null
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** 503 {@code outcome_unknown} with no {@code applied} field; returns the JSON body. */
    private static JsonNode assertOutcomeUnknown(HttpResponse<byte[]> r) throws Exception {
        String text = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(503, r.statusCode(), text);
        JsonNode body = json.readTree(r.body());
        assertEquals("outcome_unknown", body.path("error").asText(), text);
        assertFalse(body.has("applied"), "a write that may have been applied says nothing about applied: " + text);
        return body;
    }
}
