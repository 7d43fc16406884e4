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
package dev.tenure.examples.counter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three counter replicas on an in-process ZooKeeper ensemble, real files and real sockets: additions sent to any
 * replica are forwarded to the leader, and keep succeeding, each counted once, across the leader's crash.
 */
class CounterNodeTest {
    private static final List<String> IDS = List.of("c1", "c2", "c3");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final String clusterPath = "/counter/" + UUID.randomUUID();
    private final Map<String, CounterNode> nodes = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void startThreeReplicas() throws Exception {
        for (String id : IDS) {
            CounterNode n = new CounterNode(zk.ensemble().newClient(), clusterPath, id, IDS, dataDir.resolve(id));
            n.start();
            nodes.put(id, n);
        }
    }

    @AfterEach
    void stop() {
        nodes.values().forEach(CounterNode::close);
    }

    private HttpResponse<String> add(CounterNode via, long delta) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://" + via.address() + "/add"))
                        .timeout(WAIT)
                        .POST(HttpRequest.BodyPublishers.ofString(Long.toString(delta)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void awaitTotals(long expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (CounterNode n : nodes.values()) {
            while (n.total() != expected) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("total " + n.total() + " on " + n.address() + ", expected " + expected);
                }
                Thread.sleep(10); // polling a follower's applied total
            }
        }
    }

    @Test
    void additionsThroughAnyReplicaReachTheLeaderAndSurviveItsCrashCountedOnce() throws Exception {
        List<Long> answers = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> r = add(nodes.get(IDS.get(i % 3)), 1);
            assertEquals(200, r.statusCode(), r.body());
            answers.add(Long.parseLong(r.body().trim()));
        }
        awaitTotals(30);
        String leader = nodes.values()
                .iterator()
                .next()
                .replica()
                .leader()
                .orElseThrow()
                .id();
        nodes.remove(leader).close(); // the leader crashes; the others forward to the next one
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> r = add(new ArrayList<>(nodes.values()).get(i % 2), 1);
            assertEquals(200, r.statusCode(), r.body());
            answers.add(Long.parseLong(r.body().trim()));
        }
        awaitTotals(60);
        List<Long> expected = new ArrayList<>();
        for (long t = 1; t <= 60; t++) {
            expected.add(t);
        }
        assertEquals(expected, answers, "each addition was applied once, in the order it was answered");
    }

    @Test
    void aMalformedAdditionIsRefusedAndChangesNothing() throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://" + nodes.get("c1").address() + "/add"))
                        .POST(HttpRequest.BodyPublishers.ofString("twelve"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, r.statusCode());
        assertEquals(200, add(nodes.get("c2"), 5).statusCode());
        awaitTotals(5);
    }
}
