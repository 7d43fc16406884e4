package dev.tenure.demo.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A linearizable read whose leader cannot confirm its leadership with a majority within the request timeout is
 * answered 503 {@code timeout}, not with a possibly stale value. Driven for real: the embedded 3-replica cluster
 * (in-process ZooKeeper ensemble) with both followers' replication traffic held, so the leader's read barrier gets
 * no answer.
 */
class KvRoutesLinearizableReadTimeoutTest {
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
    void aLinearizableReadThatCannotConfirmLeadershipInTimeIsAnsweredTimeout() throws Exception {
        // Far below the replica's own read-barrier timeout (10 s) and check-quorum interval (the 4 s session
        // timeout): the HTTP request timeout is what ends the wait, while the leader still leads.
        cluster = new EmbeddedCluster(0).requestTimeout(Duration.ofMillis(300));
        cluster.start();
        KvNode leader = awaitServingLeader();
        // The key has a value, so an unconfirmed read that went ahead anyway would answer 200 with it.
        HttpResponse<byte[]> put = send(leader, "/kv/k", "PUT", "v");
        assertEquals(200, put.statusCode(), new String(put.body(), StandardCharsets.UTF_8));
        List<String> followers = holdFollowersOf(leader);

        HttpResponse<byte[]> get = send(leader, "/kv/k?consistency=linearizable", "GET", null);

        String text = new String(get.body(), StandardCharsets.UTF_8);
        assertEquals(503, get.statusCode(), text);
        // Exactly KvRoutes' answer to a read barrier that times out: no value, no "applied" (a read changes nothing).
        assertEquals(
                json.createObjectNode()
                        .put("error", "timeout")
                        .put("detail", "the read could not be confirmed in time"),
                json.readTree(get.body()),
                text);
        followers.forEach(cluster::resume);
    }

    /** The replica that leads and serves its epoch (what the API requires of a write and a linearizable read). */
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

    private static HttpResponse<byte[]> send(KvNode node, String target, String method, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(node.url() + target))
                        .timeout(Duration.ofSeconds(30))
                        .method(
                                method,
                                body == null
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }
}
