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
import dev.tenure.demo.kv.KvService;
import dev.tenure.demo.kv.Partitioning;
import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP API of a partitioned cluster: the embedded 3 replicas with their keys spread over 6 partitions, over real
 * sockets, on an in-process ZooKeeper ensemble.
 */
class PartitionedKvHttpApiTest {
    private static final int PARTITIONS = 6;
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new EmbeddedCluster(0).partitions(PARTITIONS);
        cluster.start();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void aWriteToAPartitionLedElsewhereIsRedirectedToItsLeader() throws Exception {
        // r1 starts first and may lead every partition until the leaders spread; once each leads its preferred
        // partitions it leads some, not all, and no hand-over moves a partition under the writes below
        Map<String, KvNode> leaders = awaitPreferredLeaders();
        KvNode asked = cluster.node("r1");
        String elsewhere = keyWhere(p -> !leaders.get(p).id().equals(asked.id()));
        String here = keyWhere(p -> leaders.get(p).id().equals(asked.id()));
        String partition = Partitioning.id(Partitioning.partitionOf(elsewhere, PARTITIONS));
        KvNode leader = leaders.get(partition);

        HttpResponse<byte[]> r = send("PUT", asked.url() + "/kv/" + elsewhere + "?x=1", utf8("v"));
        assertEquals(307, r.statusCode(), text(r));
        assertEquals(
                leader.url() + "/kv/" + elsewhere + "?x=1",
                r.headers().firstValue("Location").orElseThrow());
        JsonNode b = body(r);
        assertEquals("not_leader", b.get("error").asText());
        assertEquals(leader.id(), b.get("leader").asText());
        assertEquals(leader.url(), b.get("leaderUrl").asText());
        assertEquals(partition, b.get("partition").asText(), "the redirect names the key's partition");
        assertEquals(307, send("GET", asked.url() + "/kv/" + elsewhere, null).statusCode(), "linearizable reads too");
        assertEquals(
                200, send("PUT", leader.url() + "/kv/" + elsewhere, utf8("v")).statusCode(), "its leader takes it");

        HttpResponse<byte[]> mine = send("PUT", asked.url() + "/kv/" + here, utf8("w"));
        assertEquals(200, mine.statusCode(), "a partition this node leads takes the write here: " + text(mine));
        HttpResponse<byte[]> read = send("GET", asked.url() + "/kv/" + here, null);
        assertEquals("w", text(read));
    }

    @Test
    void keysSpreadOverThePartitionsByTheirCrc32AndEachLivesInItsPartitionOnly() throws Exception {
        awaitPreferredLeaders();
        HttpClient following = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            keys.add("spread-" + i);
        }
        for (String k : keys) {
            HttpResponse<String> put = following.send(
                    HttpRequest.newBuilder(URI.create(cluster.node("r2").url() + "/kv/" + k))
                            .PUT(HttpRequest.BodyPublishers.ofString(k))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, put.statusCode(), put.body());
        }
        java.util.Set<Integer> used = new java.util.HashSet<>();
        for (String k : keys) {
            int p = Partitioning.partitionOf(k, PARTITIONS);
            used.add(p);
            KvService log = cluster.node("r1").partitionOf(k); // read on the leader of each after a barrier
            assertEquals(Partitioning.id(p), log.partitionId());
            KvNode leader = awaitPreferredLeaders().get(Partitioning.id(p));
            KvService onLeader = leader.partitions().get(p);
            onLeader.readBarrier().get();
            assertEquals(k, new String(onLeader.get(k).orElseThrow(), StandardCharsets.UTF_8));
            for (int other = 0; other < PARTITIONS; other++) {
                if (other != p) {
                    assertFalse(leader.partitions().get(other).get(k).isPresent(), k + " in partition " + other);
                }
            }
        }
        assertTrue(used.size() >= 5, "24 keys spread over the partitions: " + used);
    }

    @Test
    void statusListsEveryPartitionWithItsLeaderAndLeadersSpreadTwoPerNode() throws Exception {
        Map<String, KvNode> leaders = awaitPreferredLeaders();
        for (KvNode n : cluster.nodes()) {
            JsonNode s = body(send("GET", n.url() + "/status", null));
            assertEquals(n.id(), s.get("id").asText());
            assertEquals(PARTITIONS, s.get("partitionCount").asInt());
            assertEquals(PARTITIONS, s.get("partitions").size());
            List<String> leading = new ArrayList<>();
            s.get("leading").forEach(x -> leading.add(x.asText()));
            assertEquals(2, leading.size(), "each node leads two partitions: " + s);
            for (int i = 0; i < PARTITIONS; i++) {
                JsonNode p = s.get("partitions").get(i);
                KvNode leader = leaders.get(Partitioning.id(i));
                assertEquals(Partitioning.id(i), p.get("id").asText());
                assertEquals(leader.id(), p.get("leader").asText(), p.toString());
                assertEquals(leader.url(), p.get("leaderUrl").asText(), p.toString());
                assertEquals("r" + (i % 3 + 1), p.get("preferredLeader").asText(), p.toString());
                assertEquals(3, p.get("replicas").size(), p.toString());
                assertTrue(p.get("epoch").asLong() > 0, p.toString());
                assertTrue(p.get("commitOffset").asLong() > 0, p.toString());
                assertTrue(p.has("appliedOffset") && p.has("logEndOffset"), p.toString());
                assertEquals(leader == n ? "leader" : "follower", p.get("role").asText(), p.toString());
                assertEquals(leader == n, leading.contains(Partitioning.id(i)));
            }
            assertEquals(3, s.get("replicas").size(), s.toString());
            JsonNode c = s.get("controller");
            assertEquals("election", c.get("mode").asText(), "elections, not the controller: " + c);
            assertTrue(c.get("controller").isNull() && c.get("controllerEpoch").isNull(), c.toString());
            assertTrue(c.get("nodeEpoch").isNull() && c.get("nodes").isNull(), c.toString());
            assertFalse(c.get("active").asBoolean(), c.toString());
        }
    }

    @Test
    void metricsCarryThePartitionAsALabel() throws Exception {
        Map<String, KvNode> leaders = awaitPreferredLeaders();
        KvNode leader = leaders.get("0");
        assertEquals(
                200, send("PUT", leader.url() + "/kv/" + keyIn(0), utf8("m")).statusCode());
        String metrics = text(send("GET", leader.url() + "/metrics", null));
        for (int i = 0; i < PARTITIONS; i++) {
            for (String meter : List.of("tenure_is_leader", "tenure_epoch", "tenure_commit_offset")) {
                assertTrue(metrics.contains(meter + "{partition=\"" + i + "\"}"), meter + " of " + i + ": " + metrics);
            }
        }
        assertTrue(metrics.contains("tenure_is_leader{partition=\"0\"} 1.0"), metrics);
        assertTrue(
                metrics.contains("tenure_proposals_total{outcome=\"committed\",partition=\"0\"}"),
                "proposals by partition: " + metrics);
        assertTrue(metrics.contains("tenure_partitions_led "), metrics);
    }

    @Test
    void snapshotsNameTheirPartitionAndMembershipChangesAreRefused() throws Exception {
        awaitPreferredLeaders();
        awaitApplied(cluster.node("r3"), 2);
        String base = cluster.node("r3").url();
        HttpResponse<byte[]> snap = send("POST", base + "/admin/snapshot?partition=2", null);
        assertEquals(200, snap.statusCode(), text(snap));
        assertTrue(body(snap).get("offset").asLong() > 0, text(snap));
        HttpResponse<byte[]> unnamed = send("POST", base + "/admin/snapshot", null);
        assertEquals(400, unnamed.statusCode());
        assertEquals("partition_required", body(unnamed).get("error").asText());
        assertEquals(
                404, send("POST", base + "/admin/snapshot?partition=9", null).statusCode());
        HttpResponse<byte[]> members = send("POST", base + "/admin/members/remove?id=r2", null);
        assertEquals(501, members.statusCode());
        assertEquals("unsupported_with_partitions", body(members).get("error").asText());
        assertFalse(body(members).get("applied").asBoolean());
    }

    @Test
    void aNodeStartedWithAnotherNumberOfPartitionsIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        KvNode other = new KvNode(new KvNode.Config(
                        "r4",
                        cluster.ensemble().connectString(),
                        dir,
                        new java.net.InetSocketAddress("127.0.0.1", 0),
                        new java.net.InetSocketAddress("127.0.0.1", 0),
                        List.of("r1", "r2", "r3", "r4"),
                        null,
                        null,
                        "kv",
                        4000))
                .zooKeeperAcls(cluster.zooKeeperAcls()) // the cluster's tree is writable with its credential only
                .partitions(3);
        try {
            IllegalStateException e =
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, other::start);
            assertTrue(e.getMessage().contains("crc32 " + PARTITIONS), e.getMessage());
            assertTrue(e.getMessage().contains("--partitions"), e.getMessage());
        } finally {
            other.close();
        }
    }

    @Test
    void aNodeStartedWithTheControllerInAClusterOfElectionsIsRefused(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        KvNode other = new KvNode(new KvNode.Config(
                        "r4",
                        cluster.ensemble().connectString(),
                        dir,
                        new java.net.InetSocketAddress("127.0.0.1", 0),
                        new java.net.InetSocketAddress("127.0.0.1", 0),
                        List.of("r1", "r2", "r3", "r4"),
                        null,
                        null,
                        "kv",
                        4000))
                .zooKeeperAcls(cluster.zooKeeperAcls())
                .partitions(PARTITIONS)
                .leadership(KvNode.Leadership.CONTROLLER);
        try {
            IllegalStateException e =
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, other::start);
            assertTrue(
                    e.getMessage().contains("'election'") && e.getMessage().contains("cannot switch"), e.getMessage());
        } finally {
            other.close();
        }
    }

    /**
     * Waits until every partition is led by its preferred replica (partition i prefers replica i mod 3, so each node
     * leads two), as below: the leaders spread at start by hand-overs, and a write sent to a leader that is handing
     * its partition over may be answered {@code 503 outcome_unknown} or redirected anew; once every partition is led by
     * its preferred replica, no hand-over follows.
     */
    private static Map<String, KvNode> awaitPreferredLeaders() throws Exception {
        return awaitLeaders(l -> {
            for (int i = 0; i < PARTITIONS; i++) {
                if (!l.get(Partitioning.id(i)).id().equals("r" + (i % 3 + 1))) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * Waits until every partition has a leader that committed in its epoch, every node's discovery names it, and
     * {@code condition} holds for the leaders; returns them by partition id.
     */
    private static Map<String, KvNode> awaitLeaders(Predicate<Map<String, KvNode>> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Map<String, KvNode> last = Map.of();
        while (System.nanoTime() < deadline) {
            Map<String, KvNode> leaders = new TreeMap<>();
            for (int i = 0; i < PARTITIONS; i++) {
                for (KvNode n : cluster.nodes()) {
                    KvService.Status s = n.partitions().get(i).status();
                    if (s.replica().role() == dev.tenure.replicator.core.Role.LEADER
                            && s.replica().commitOffset() > 0) {
                        leaders.put(Partitioning.id(i), n);
                    }
                }
            }
            boolean agreed = leaders.size() == PARTITIONS;
            for (int i = 0; agreed && i < PARTITIONS; i++) {
                for (KvNode n : cluster.nodes()) {
                    var seen = n.partitions().get(i).leader();
                    agreed &= seen.isPresent()
                            && seen.get()
                                    .id()
                                    .equals(leaders.get(Partitioning.id(i)).id());
                }
            }
            if (agreed && condition.test(leaders)) {
                return leaders;
            }
            last = leaders;
            Thread.sleep(20); // polling status snapshots
        }
        throw new TimeoutException("leaders never settled; last " + last);
    }

    /**
     * Waits until {@code node} has applied an entry of {@code partition}: a leader's start entry is
     * committed before a follower learns the commit offset, so a follower may have applied nothing
     * yet when the leaders have settled.
     */
    private static void awaitApplied(KvNode node, int partition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (node.partitions().get(partition).status().replica().appliedOffset() <= 0) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(node.id() + " never applied an entry of partition " + partition);
            }
            Thread.sleep(20); // polling status snapshots
        }
    }

    /** The first key {@code k-N} whose partition satisfies {@code p}. */
    private static String keyWhere(Predicate<String> p) {
        for (int i = 0; i < 10_000; i++) {
            String k = "k-" + i;
            if (p.test(Partitioning.id(Partitioning.partitionOf(k, PARTITIONS)))) {
                return k;
            }
        }
        throw new AssertionError("no key's partition satisfies the condition");
    }

    private static String keyIn(int partition) {
        return keyWhere(p -> p.equals(Partitioning.id(partition)));
    }

    private static HttpResponse<byte[]> send(String method, String url, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", method.equals("POST") ? "application/json" : "application/octet-stream");
        b.method(
                method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static JsonNode body(HttpResponse<byte[]> r) throws Exception {
        return json.readTree(r.body());
    }

    private static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyNodeAgreesOnEachKeysPartition() {
        for (KvNode n : cluster.nodes()) {
            assertEquals(PARTITIONS, n.partitions().size());
            for (int i = 0; i < PARTITIONS; i++) {
                assertNotEquals(null, n.partitions().get(i));
                assertEquals(Partitioning.id(i), n.partitions().get(i).partitionId());
            }
        }
        assertEquals(5, Partitioning.partitionOf("greeting", PARTITIONS), "CRC-32 of \"greeting\" mod 6");
    }
}
