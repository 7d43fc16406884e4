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
 * A write that may have been applied is never answered as failed: when a proposal times out, or fails with {@code
 * OutcomeUnknownException}, the HTTP API answers 503 {@code outcome_unknown} without {@code "applied":false}.
 * Driven for real: the embedded 3-replica cluster (in-process ZooKeeper ensemble) with both followers'
 * replication traffic held, so the leader accepts a PUT into its log but cannot commit it.
 */
class KvRoutesOutcomeUnknownTest {
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private EmbeddedCluster cluster;

    @AfterEach
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Timeout(120)
    void aWriteThatCannotCommitInTimeIsAnsweredOutcomeUnknownNotFailed() throws Exception {
        // Far below the replica's own proposal timeout (10 s) and check-quorum interval (the 4 s session timeout):
        // the HTTP request timeout is what ends the wait.
        cluster = new EmbeddedCluster(0).requestTimeout(Duration.ofMillis(300));
        cluster.start();
        KvNode leader = awaitServingLeader();
        List<String> followers = holdFollowersOf(leader);

        HttpResponse<byte[]> put = put(leader, "maybe", "applied later");

        JsonNode answer = assertOutcomeUnknown(put);
        assertEquals("not committed within 300 ms", answer.path("detail").asText(), answer.toString());
        // Rightly not "failed": the write is in the leader's log and commits once the followers hear it.
        long logEnd = leader.status().logEndOffset();
        followers.forEach(cluster::resume);
        leader.replica().awaitApplied(logEnd).get(30, TimeUnit.SECONDS);
        assertEquals(
                "applied later",
                new String(leader.store().get("maybe").orElseThrow(), StandardCharsets.UTF_8),
                "the write answered outcome_unknown was applied");
    }

    @Test
    @Timeout(120)
    void aWriteWhoseLeaderGivesUpBeforeItCommitsIsAnsweredOutcomeUnknownNotFailed() throws Exception {
        // Far above the check-quorum interval (the 4 s session timeout): the leader, hearing from no majority, gives
        // its term up first, and the pending proposal fails with OutcomeUnknownException.
        cluster = new EmbeddedCluster(0).requestTimeout(Duration.ofSeconds(60));
        cluster.start();
        KvNode leader = awaitServingLeader();
        List<String> followers = holdFollowersOf(leader);

        HttpResponse<byte[]> put = put(leader, "orphan", "maybe applied");

        JsonNode answer = assertOutcomeUnknown(put);
        assertTrue(answer.path("detail").asText().contains("OutcomeUnknownException"), answer.toString());
        followers.forEach(cluster::resume);
    }

    /** The replica that leads and serves its epoch (what the API requires of a write). */
    private KvNode awaitServingLeader() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (KvNode n : cluster.nodes()) {
                if (n.status().role() == Role.LEADER && n.status().commitOffset() > 0) {
                    return n;
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException("no replica served as leader within 30 s");
    }

    /** Holds the followers' replication traffic in both directions; returns their ids. */
    private List<String> holdFollowersOf(KvNode leader) {
        List<String> followers = cluster.nodes().stream()
                .map(KvNode::id)
                .filter(id -> !id.equals(leader.id()))
                .toList();
        followers.forEach(cluster::holdReplication);
        return followers;
    }

    private static HttpResponse<byte[]> put(KvNode node, String key, String value) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(node.url() + "/kv/" + key))
                        .timeout(Duration.ofSeconds(90))
                        .PUT(HttpRequest.BodyPublishers.ofString(value, StandardCharsets.UTF_8))
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
