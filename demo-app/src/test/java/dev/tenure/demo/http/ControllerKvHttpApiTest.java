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
import dev.tenure.demo.kv.Partitioning;
import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import dev.tenure.replicator.core.Role;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP API of a cluster whose partitions take their leaders from the controller ({@code node --leadership
 * controller}): the embedded 3 replicas with 4 partitions, over real sockets, on an in-process ZooKeeper ensemble.
 */
@Timeout(120)
class ControllerKvHttpApiTest {
    private static final int PARTITIONS = 4;
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new EmbeddedCluster(0).partitions(PARTITIONS).leadership(KvNode.Leadership.CONTROLLER);
        cluster.start();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void everyNodeNamesTheOneControllerAndItsEpochAndTheControllerListsEveryNodeWithItsRegistrationEpoch()
            throws Exception {
        Map<String, JsonNode> controllers = await(
                () -> {
                    Map<String, JsonNode> m = new LinkedHashMap<>();
                    for (KvNode n : cluster.nodes()) {
                        m.put(n.id(), status(n).get("controller"));
                    }
                    return m;
                },
                m -> m.values().stream()
                                        .filter(c -> c.get("active").asBoolean())
                                        .count()
                                == 1
                        && m.values().stream()
                                        .map(c -> c.get("controller").asText() + "@" + c.path("controllerEpoch"))
                                        .distinct()
                                        .count()
                                == 1
                        && m.values().stream()
                                .allMatch(c -> !c.get("controller").isNull()),
                "one controller that every node names");
        String controller =
                controllers.values().iterator().next().get("controller").asText();
        long epoch = controllers.get(controller).get("controllerEpoch").asLong();
        assertTrue(epoch >= 1, controllers.toString());
        Set<Long> nodeEpochs = new HashSet<>();
        for (Map.Entry<String, JsonNode> e : controllers.entrySet()) {
            JsonNode c = e.getValue();
            assertEquals("controller", c.get("mode").asText(), c.toString());
            assertEquals(e.getKey().equals(controller), c.get("active").asBoolean(), c.toString());
            assertTrue(c.get("nodeEpoch").asLong() > 0, "registered: " + c);
            assertEquals(epoch, c.get("highestControllerEpoch").asLong(), c.toString());
            nodeEpochs.add(c.get("nodeEpoch").asLong());
            assertEquals(e.getKey().equals(controller), !c.get("nodes").isNull(), "only the controller lists: " + c);
        }
        assertEquals(3, nodeEpochs.size(), "each registration its own epoch: " + controllers);
        JsonNode nodes = controllers.get(controller).get("nodes");
        assertEquals(3, nodes.size(), nodes.toString());
        for (JsonNode n : nodes) {
            assertEquals(
                    controllers.get(n.get("id").asText()).get("nodeEpoch").asLong(),
                    n.get("nodeEpoch").asLong(),
                    "the controller sees each node's own registration: " + nodes);
            assertFalse(n.get("shuttingDown").asBoolean(), n.toString());
        }
        JsonNode ff = status(cluster.node(controller)).get("fastFailover");
        assertFalse(ff.get("enabled").asBoolean(), "fast failover is the elections': " + ff);
    }

    @Test
    void aWriteToAPartitionLedElsewhereIsRedirectedToTheLeaderTheControllerAssignedIt() throws Exception {
        // wait until every node leads, and names as leader, the same node for each partition; then ask another node
        Map<String, KvNode> leaders = awaitLeaders();
        String elsewhere = "k-0";
        String partition = Partitioning.id(Partitioning.partitionOf(elsewhere, PARTITIONS));
        KvNode leader = leaders.get(partition);
        KvNode asked =
                cluster.nodes().stream().filter(n -> n != leader).findFirst().orElseThrow();

        HttpResponse<byte[]> r = send("PUT", asked.url() + "/kv/" + elsewhere, utf8("v"));
        assertEquals(307, r.statusCode(), text(r));
        assertEquals(
                leader.url() + "/kv/" + elsewhere,
                r.headers().firstValue("Location").orElseThrow());
        JsonNode b = json.readTree(r.body());
        assertEquals(leader.id(), b.get("leader").asText(), b.toString());
        assertEquals(partition, b.get("partition").asText(), b.toString());
        assertEquals(
                200, send("PUT", leader.url() + "/kv/" + elsewhere, utf8("v")).statusCode(), "its leader takes it");

        JsonNode p = status(asked).get("partitions").get(Integer.parseInt(partition));
        assertEquals(leader.id(), p.get("leader").asText(), p.toString());
        assertEquals(leader.url(), p.get("leaderUrl").asText(), p.toString());
    }

    @Test
    void aNodeStartedWithElectionsInTheControllersClusterIsRefused(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        KvNode other = new KvNode(new KvNode.Config(
                        "r4",
                        cluster.ensemble().connectString(),
                        dir,
                        new java.net.InetSocketAddress("127.0.0.1", 0),
                        new java.net.InetSocketAddress("127.0.0.1", 0),
                        java.util.List.of("r1", "r2", "r3", "r4"),
                        null,
                        null,
                        "kv",
                        4000))
                .zooKeeperAcls(cluster.zooKeeperAcls())
                .partitions(PARTITIONS);
        try {
            IllegalStateException e =
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, other::start);
            assertTrue(
                    e.getMessage().contains("'controller'") && e.getMessage().contains("--leadership"), e.getMessage());
        } finally {
            other.close();
        }
    }

    /** Each partition's leader once every node's replica agrees on it and the leader has committed in its epoch. */
    private static Map<String, KvNode> awaitLeaders() throws Exception {
        return await(
                () -> {
                    Map<String, KvNode> m = new LinkedHashMap<>();
                    for (int i = 0; i < PARTITIONS; i++) {
                        for (KvNode n : cluster.nodes()) {
                            var s = n.partitions().get(i).status().replica();
                            if (s.role() == Role.LEADER && s.commitOffset() > 0) {
                                m.put(Partitioning.id(i), n);
                            }
                        }
                    }
                    return m;
                },
                m -> {
                    if (m.size() != PARTITIONS) {
                        return false;
                    }
                    for (int i = 0; i < PARTITIONS; i++) {
                        for (KvNode n : cluster.nodes()) {
                            var seen = n.partitions().get(i).leader();
                            if (seen.isEmpty()
                                    || !seen.get()
                                            .id()
                                            .equals(m.get(Partitioning.id(i)).id())) {
                                return false;
                            }
                        }
                    }
                    return true;
                },
                "every partition led, and its leader named by every node");
    }

    private interface Probe<T> {
        T get() throws Exception;
    }

    private static <T> T await(Probe<T> probe, Predicate<T> done, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            last = probe.get();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(50); // polling the nodes' status
        }
        throw new TimeoutException("not within 60 s: " + what + "; last " + last);
    }

    private static JsonNode status(KvNode n) throws Exception {
        HttpResponse<byte[]> r = send("GET", n.url() + "/status", null);
        assertEquals(200, r.statusCode(), text(r));
        return json.readTree(r.body());
    }

    private static HttpResponse<byte[]> send(String method, String url, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/octet-stream");
        b.method(
                method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
