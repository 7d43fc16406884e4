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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fast failover as an operator sees it, on the embedded 3-replica cluster (4 s session, fast failover on by default):
 * {@code /status} reports the setting in force with its bounds, and when the leader freezes (its replication held and
 * its ZooKeeper link cut, as a SIGSTOP would) the followers' timelines and metrics show the suspicion, and another
 * replica leads a newer epoch.
 */
@Timeout(120)
class FastFailoverStatusTest {
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
    void statusShowsTheBoundsInForceAndAFrozenLeaderIsSuspectedInTheFollowersTimelineAndMetrics() throws Exception {
        cluster = new EmbeddedCluster(0);
        cluster.start();
        KvNode leader = awaitLeader(-1, null);
        long epoch = leader.status().replica().epoch();
        for (KvNode n : cluster.nodes()) {
            JsonNode ff = get(n, "/status").get("fastFailover");
            assertTrue(ff.get("enabled").asBoolean(), n.id() + ": " + ff);
            long suspicion = ff.get("suspicionTimeoutMs").asLong();
            assertTrue(suspicion >= 300 && suspicion < 4000, "a third of the session, within 300..5000: " + ff);
            assertEquals(suspicion, ff.get("minimumTermMs").asLong(), ff.toString());
            assertEquals(suspicion, ff.get("deposeBackoffMs").asLong(), ff.toString());
        }
        List<KvNode> followers = cluster.nodes().stream()
                .filter(n -> !n.id().equals(leader.id()))
                .toList();

        cluster.pause(leader.id());
        try {
            KvNode next = awaitLeader(epoch, leader.id());
            String suspected = "suspected leader " + leader.id() + " of epoch " + epoch;
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            KvNode suspecting = null;
            while (suspecting == null) {
                for (KvNode f : followers) {
                    if (get(f, "/status").get("events").toString().contains(suspected)) {
                        suspecting = f;
                    }
                }
                if (suspecting == null) {
                    assertTrue(System.nanoTime() < deadline, "no follower's timeline says '" + suspected + "'");
                    Thread.sleep(50); // polling the followers' status
                }
            }
            assertTrue(suspicions(suspecting) >= 1, suspecting.id() + "'s tenure_leader_suspicions_total");
            assertTrue(next.status().replica().epoch() > epoch, "deposed: a newer epoch leads");
        } finally {
            cluster.resume(leader.id());
        }
    }

    /** The first replica other than {@code excluding} that leads an epoch above {@code aboveEpoch} and has committed. */
    private KvNode awaitLeader(long aboveEpoch, String excluding) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (KvNode n : cluster.nodes()) {
                if (!n.id().equals(excluding)
                        && n.status().replica().role() == Role.LEADER
                        && n.status().replica().epoch() > aboveEpoch
                        && n.status().replica().commitOffset() > 0) {
                    return n;
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException("no replica led an epoch above " + aboveEpoch + " within 30 s");
    }

    private static JsonNode get(KvNode n, String path) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(n.url() + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return json.readTree(r.body());
    }

    /** {@code tenure_leader_suspicions_total} in {@code n}'s {@code /metrics}. */
    private static double suspicions(KvNode n) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(n.url() + "/metrics"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        return r.body()
                .lines()
                .filter(l -> l.startsWith("tenure_leader_suspicions_total "))
                .mapToDouble(
                        l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim()))
                .findFirst()
                .orElse(-1);
    }
}
