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
package dev.tenure.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What {@link StatusProbe} reads from the {@code partitions} of a partitioned node's {@code /status}. */
class StatusProbePartitionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<HttpServer> servers = new java.util.ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    /**
     * A partitioned node's status: each of {@code parts} is {@code id:role:epoch:leader:commit}, optionally followed
     * by {@code :preferredLeader}.
     */
    private static ObjectNode node(String id, String... parts) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id);
        o.put("role", "node");
        o.putNull("leader");
        ArrayNode array = o.putArray("partitions");
        for (String p : parts) {
            List<String> f = com.google.common.base.Splitter.on(':').splitToList(p);
            ObjectNode n = array.addObject();
            n.put("id", f.get(0));
            n.put("role", f.get(1));
            n.put("epoch", Long.parseLong(f.get(2)));
            if (f.get(3).equals("-")) {
                n.putNull("leader");
            } else {
                n.put("leader", f.get(3));
            }
            n.put("commitOffset", Long.parseLong(f.get(4)));
            if (f.size() > 5) {
                n.put("preferredLeader", f.get(5));
            }
        }
        return o;
    }

    private static Map<String, StatusProbe.NodeStatus> statuses(ObjectNode... nodes) {
        Map<String, StatusProbe.NodeStatus> m = new LinkedHashMap<>();
        for (ObjectNode n : nodes) {
            m.put(n.get("id").asText(), StatusProbe.NodeStatus.of(n.get("id").asText(), n));
        }
        return m;
    }

    @Test
    void eachPartitionsLeaderIsTheNodeLeadingItInTheHighestEpochAndTheMostLeadingNodeIsTheOneWithMostPartitions() {
        Map<String, StatusProbe.NodeStatus> s = statuses(
                node("r1", "0:leader:3:r1:5", "1:leader:2:r1:4", "2:follower:4:r3:1", "10:leader:1:r1:1"),
                node("r2", "0:follower:3:r1:5", "1:leader:5:r2:9", "2:follower:4:r3:1", "10:follower:1:r1:1"),
                node("r3", "0:follower:3:r1:5", "1:follower:5:r2:9", "2:leader:4:r3:1", "10:follower:1:r1:1"));
        Map<String, StatusProbe.PartitionLeader> leaders = StatusProbe.partitionLeadersOf(s);
        assertEquals(List.of("0", "1", "2", "10"), List.copyOf(leaders.keySet()), "in numeric order");
        assertEquals(new StatusProbe.PartitionLeader("r1", 3), leaders.get("0"));
        assertEquals(new StatusProbe.PartitionLeader("r2", 5), leaders.get("1"), "r1's epoch 2 is a deposed leader's");
        assertEquals(new StatusProbe.PartitionLeader("r3", 4), leaders.get("2"));
        assertEquals(List.of("0", "10"), StatusProbe.ledBy("r1", leaders));
        assertEquals(Optional.of("r1"), StatusProbe.mostLeading(leaders, List.of("r1", "r2", "r3")));
        assertEquals(List.of("0", "1", "10"), s.get("r1").leading(), "what r1 says it leads, deposed or not");
        assertEquals(Optional.empty(), StatusProbe.mostLeading(Map.of(), List.of("r1")));
        assertEquals(Optional.empty(), StatusProbe.leaderOf(s), "a partitioned node's top-level role is node");
    }

    private URI serve(Map<String, ObjectNode> current, String id) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/status", exchange -> {
            byte[] body = JSON.writeValueAsString(current.get(id)).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        servers.add(server);
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    @Timeout(30)
    void awaitingPartitionLeadersReturnsOnlyOnceEveryNodeNamesALeaderOfEveryPartitionThatHasCommitted()
            throws Exception {
        Map<String, ObjectNode> current = new ConcurrentHashMap<>();
        // r2 does not know partition 1's leader yet, and r3 leads partition 1 without a commit.
        current.put("r1", node("r1", "0:leader:2:r1:3", "1:follower:2:r3:0"));
        current.put("r2", node("r2", "0:follower:2:r1:3", "1:follower:2:-:0"));
        current.put("r3", node("r3", "0:follower:2:r1:3", "1:leader:2:r3:0"));
        Map<String, URI> ask = new LinkedHashMap<>();
        for (String id : List.of("r1", "r2", "r3")) {
            ask.put(id, serve(current, id));
        }
        StatusProbe probe = new StatusProbe(Duration.ofSeconds(1), Duration.ofMillis(20));
        TimeoutException e = assertThrows(
                TimeoutException.class, () -> probe.awaitPartitionLeaders(() -> ask, 2, Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("without an agreed leader: [1]"), e.getMessage());
        assertTrue(e.getMessage().contains("r2=follower@2(leader -"), e.getMessage());

        current.put("r2", node("r2", "0:follower:2:r1:3", "1:follower:2:r3:0"));
        current.put("r3", node("r3", "0:follower:2:r1:3", "1:leader:2:r3:1"));
        current.put("r1", node("r1", "0:leader:2:r1:3", "1:follower:2:r3:1"));
        assertThrows(
                TimeoutException.class,
                () -> probe.awaitPartitionLeaders(() -> ask, 3, Duration.ofMillis(300)),
                "a third partition nobody reports");
        Map<String, StatusProbe.PartitionLeader> leaders =
                probe.awaitPartitionLeaders(() -> ask, 2, Duration.ofSeconds(5));
        assertEquals(
                Map.of("0", new StatusProbe.PartitionLeader("r1", 2), "1", new StatusProbe.PartitionLeader("r3", 2)),
                leaders);
    }

    @Test
    @Timeout(30)
    void awaitingPreferredLeadersReturnsOnlyOnceEveryPartitionIsLedByThePreferredLeaderItsLeaderReports()
            throws Exception {
        Map<String, ObjectNode> current = new ConcurrentHashMap<>();
        // Agreed leaders, but r1 still leads partition 1, whose preferred leader is r2 (a hand-over not yet done).
        current.put("r1", node("r1", "0:leader:2:r1:3:r1", "1:leader:2:r1:3:r2"));
        current.put("r2", node("r2", "0:follower:2:r1:3:r1", "1:follower:2:r1:3:r2"));
        Map<String, URI> ask = new LinkedHashMap<>();
        for (String id : List.of("r1", "r2")) {
            ask.put(id, serve(current, id));
        }
        StatusProbe probe = new StatusProbe(Duration.ofSeconds(1), Duration.ofMillis(20));
        assertEquals(
                2,
                probe.awaitPartitionLeaders(() -> ask, 2, Duration.ofSeconds(5)).size(),
                "agreed already");
        TimeoutException e = assertThrows(
                TimeoutException.class, () -> probe.awaitPreferredLeaders(() -> ask, 2, Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("1=r1@2 (preferred r2)"), e.getMessage());
        assertTrue(!e.getMessage().contains("0=r1"), "partition 0 is led by its preferred leader: " + e.getMessage());

        // The hand-over: r2 leads partition 1 in a newer epoch.
        current.put("r2", node("r2", "0:follower:2:r1:3:r1", "1:leader:3:r2:4:r2"));
        current.put("r1", node("r1", "0:leader:2:r1:3:r1", "1:follower:3:r2:4:r2"));
        assertEquals(
                Map.of("0", new StatusProbe.PartitionLeader("r1", 2), "1", new StatusProbe.PartitionLeader("r2", 3)),
                probe.awaitPreferredLeaders(() -> ask, 2, Duration.ofSeconds(5)));
    }

    /** {@code id}'s status saying it knows controller {@code controller} in {@code epoch}, and whether it is it. */
    private static ObjectNode withController(String id, String controller, long epoch, boolean active) {
        ObjectNode o = node(id);
        o.putObject("controller")
                .put("mode", "controller")
                .put("controller", controller)
                .put("controllerEpoch", epoch)
                .put("active", active);
        return o;
    }

    @Test
    void theControllerIsTheNodeSayingItIsActiveInTheHighestEpochAndAgreementNeedsEveryNodeToNameIt() {
        Map<String, StatusProbe.NodeStatus> zombie = statuses(
                withController("r1", "r1", 3, true),
                withController("r2", "r2", 4, true),
                withController("r3", "r2", 4, false));
        StatusProbe.ControllerSeen c = StatusProbe.controllerOf(zombie).orElseThrow();
        assertEquals(new StatusProbe.ControllerSeen("r2", 4), c, "a deposed controller's lower epoch loses");
        assertEquals("r2@4", c.toString());
        assertFalse(StatusProbe.controllerAgreed(c, zombie), "r1 still names itself");
        assertTrue(StatusProbe.controllerAgreed(
                c,
                statuses(
                        withController("r1", "r2", 4, false),
                        withController("r2", "r2", 4, true),
                        withController("r3", "r2", 4, false))));
        assertEquals(Optional.empty(), StatusProbe.controllerOf(statuses(node("r1"), node("r2"))), "elections");
    }
}
