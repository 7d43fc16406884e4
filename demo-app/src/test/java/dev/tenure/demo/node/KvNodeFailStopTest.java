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
package dev.tenure.demo.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.replicator.core.Role;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A replica whose state machine throws is fail-stop (issue 12, defect 6), seen through the demo: the embedded
 * 3-replica cluster on an in-process ZooKeeper ensemble, each replica's state machine wrapped so that it can be
 * armed to throw. The failed replica's answers keep the HTTP contract, its {@code /status}, timeline and metrics
 * say it failed and why, and another replica leads.
 */
@Timeout(120)
class KvNodeFailStopTest {
    private static final ObjectMapper json = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private EmbeddedCluster cluster;

    /** What an answer says about a write, per the HTTP contract. */
    enum Answer {
        COMMITTED,
        NOT_APPLIED,
        UNKNOWN;

        /** Classifies an answer, failing on any answer the contract does not allow here. */
        static Answer of(HttpResponse<byte[]> r) throws Exception {
            if (r.statusCode() == 200) {
                return COMMITTED;
            }
            JsonNode body = json.readTree(r.body());
            assertEquals(503, r.statusCode(), body.toString());
            if (body.path("error").asText().equals("outcome_unknown")) {
                assertTrue(body.path("applied").isMissingNode(), body.toString());
                return UNKNOWN;
            }
            assertEquals("replica_failed", body.path("error").asText(), body.toString());
            assertFalse(body.path("applied").asBoolean(true), body.toString());
            assertTrue(r.headers().firstValue("Location").isEmpty(), "a failed replica redirects nowhere");
            return NOT_APPLIED;
        }
    }

    private static List<String> keys(Map<String, Answer> answers, Answer kind) {
        return answers.entrySet().stream()
                .filter(e -> e.getValue() == kind)
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
    }

    @AfterEach
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void leaderWhoseStateMachineThrowsReportsFailedAndAnotherLeads() throws Exception {
        cluster = new EmbeddedCluster(0);
        Map<String, ThrowingStateMachine> machines = ThrowingStateMachine.wrapEvery(cluster);
        cluster.start();
        KvNode failed = awaitNode(n -> leading(n.status().replica()), "leading");
        machines.get(failed.id()).throwOnNth(5, "armed to refuse");

        // Concurrent writers, each writing its own keys until the leader refuses: the 5th entry applied after arming
        // throws; the writes in flight then, and those after, must each get an answer the contract allows.
        Map<String, Answer> answers = new ConcurrentHashMap<>();
        List<Callable<Void>> writers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            int writer = w;
            writers.add(() -> {
                for (int i = 0; ; i++) {
                    String key = "w" + writer + "-" + i;
                    Answer a = Answer.of(send("PUT", failed.url() + "/kv/" + key, "v-" + key));
                    answers.put(key, a);
                    if (a != Answer.COMMITTED && a != Answer.UNKNOWN) {
                        return null; // refused: the replica has stopped
                    }
                }
            });
        }
        ExecutorService pool = Executors.newFixedThreadPool(writers.size());
        try {
            for (Future<Void> f : pool.invokeAll(writers, WAIT.toSeconds(), TimeUnit.SECONDS)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        List<String> committed = keys(answers, Answer.COMMITTED);
        List<String> notApplied = keys(answers, Answer.NOT_APPLIED);
        List<String> unknown = keys(answers, Answer.UNKNOWN);
        assertEquals(4, committed.size(), "the entries applied before the state machine threw: " + committed);
        assertFalse(unknown.isEmpty(), "the entry the state machine threw on was accepted: its outcome is unknown");
        assertEquals(writers.size(), notApplied.size(), "each writer ends refused: " + notApplied);

        // The failed replica says so, and why: /status, its timeline, /metrics.
        JsonNode status = awaitStatus(
                failed,
                s -> s.path("role").asText().equals("failed")
                        && events(s).stream().anyMatch(e -> e.startsWith("failed in epoch")),
                "failed, with the failure in its timeline");
        String reason = status.path("failure").asText();
        assertTrue(reason.contains("the state machine threw") && reason.contains("armed to refuse"), reason);
        assertTrue(
                events(status).stream().anyMatch(e -> e.startsWith("failed in epoch") && e.contains(reason)),
                "the timeline gives the reason: " + events(status));
        assertEquals(Role.FAILED, failed.status().replica().role());
        String metrics = text(send("GET", failed.url() + "/metrics", null));
        assertMetric(metrics, "tenure_replica_failed", "1.0");
        assertMetric(metrics, "tenure_is_leader", "0.0");

        // Another replica leads and accepts a write.
        KvNode next = awaitNode(
                n -> n != failed && statusOf(n).path("role").asText().equals("leader"), "leading in its place");
        JsonNode nextStatus = statusOf(next);
        assertTrue(nextStatus.path("failure").isNull(), nextStatus.toString());
        assertTrue(nextStatus.path("epoch").asLong() > status.path("epoch").asLong(), nextStatus.toString());
        assertMetric(text(send("GET", next.url() + "/metrics", null)), "tenure_replica_failed", "0.0");
        HttpResponse<byte[]> after = send("PUT", next.url() + "/kv/after", "ok");
        assertEquals(200, after.statusCode(), text(after));

        // The contract held: every write answered 200 is there, every one answered "applied":false is not.
        for (String key : committed) {
            HttpResponse<byte[]> get = send("GET", next.url() + "/kv/" + key, null);
            assertEquals(200, get.statusCode(), key + " was answered 200");
            assertEquals("v-" + key, text(get));
        }
        for (String key : notApplied) {
            assertEquals(404, send("GET", next.url() + "/kv/" + key, null).statusCode(), key + " was not applied");
        }

        // The failed replica serves nothing: not a linearizable read, not a possibly stale local one, no write.
        for (String[] request : List.of(
                new String[] {"GET", "/kv/w0-0", null},
                new String[] {"GET", "/kv/w0-0?consistency=local", null},
                new String[] {"PUT", "/kv/late", "late"},
                new String[] {"DELETE", "/kv/w0-0", null},
                new String[] {"POST", "/kv/w0-0/cas", "{\"expect\":\"v-w0-0\",\"update\":\"x\"}"})) {
            HttpResponse<byte[]> r = send(request[0], failed.url() + request[1], request[2]);
            JsonNode body = json.readTree(r.body());
            String what = request[0] + " " + request[1] + ": " + body;
            assertEquals(503, r.statusCode(), what);
            assertEquals("replica_failed", body.path("error").asText(), what);
            assertFalse(body.path("applied").asBoolean(true), what);
            assertTrue(body.path("detail").asText().contains("armed to refuse"), what);
        }
    }

    private static boolean leading(dev.tenure.replicator.Replica.Status s) {
        return s.role() == Role.LEADER && s.commitOffset() > 0;
    }

    private KvNode awaitNode(Predicate<KvNode> condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (KvNode n : cluster.nodes()) {
                if (condition.test(n)) {
                    return n;
                }
            }
            Thread.sleep(20); // polling status snapshots
        }
        throw new TimeoutException("no replica is " + what);
    }

    private static JsonNode awaitStatus(KvNode node, Predicate<JsonNode> condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode s = statusOf(node);
        while (!condition.test(s)) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(node.id() + " is not " + what + ": " + s);
            }
            Thread.sleep(20); // polling /status
            s = statusOf(node);
        }
        return s;
    }

    private static JsonNode statusOf(KvNode node) {
        try {
            HttpResponse<byte[]> r = send("GET", node.url() + "/status", null);
            assertEquals(200, r.statusCode(), text(r));
            return json.readTree(r.body());
        } catch (Exception e) {
            throw new AssertionError("GET /status of " + node.id(), e);
        }
    }

    private static List<String> events(JsonNode status) {
        List<String> texts = new ArrayList<>();
        status.path("events").forEach(e -> texts.add(e.path("text").asText()));
        return texts;
    }

    private static void assertMetric(String scrape, String name, String value) {
        assertTrue(
                Pattern.compile("^" + name + " " + Pattern.quote(value) + "$", Pattern.MULTILINE)
                        .matcher(scrape)
                        .find(),
                name + " " + value + " in:\n" + scrape);
    }

    private static HttpRequest request(String method, String url, String body) {
        return HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", method.equals("POST") ? "application/json" : "application/octet-stream")
                .method(
                        method,
                        body == null
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                .build();
    }

    private static HttpResponse<byte[]> send(String method, String url, String body) throws Exception {
        return http.send(request(method, url, body), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }
}
