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
import dev.tenure.demo.kv.KvService;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /admin/snapshot} over real HTTP on 127.0.0.1, against a service whose snapshot outcome each test
 * chooses: a durable snapshot is 200 with its id; unsupported, failed and a failed replica are refusals with {@code
 * "applied":false} (no snapshot was taken); no answer in time is 503 {@code timeout} without it. Also the snapshot
 * install in progress that {@code GET /status} shows.
 */
class AdminSnapshotRouteTest {
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private KvHttpApi api;
    private Supplier<CompletableFuture<SnapshotId>> snapshots = () -> CompletableFuture.completedFuture(null);
    private Optional<Throwable> failure = Optional.empty();
    private Replica.InstallStatus install = Replica.InstallStatus.NONE;
    private final AtomicInteger requested = new AtomicInteger();

    @AfterEach
    void stop() {
        if (api != null) {
            api.close();
        }
    }

    @Test
    void aDurableSnapshotIsAnsweredWithItsOffsetAndEpoch() throws Exception {
        snapshots = () -> CompletableFuture.completedFuture(new SnapshotId(42, 3));

        HttpResponse<byte[]> r = post(Duration.ofSeconds(5));

        assertEquals(200, r.statusCode());
        assertEquals(json.readTree("{\"offset\":42,\"epoch\":3}"), json.readTree(r.body()));
        assertEquals(1, requested.get());
    }

    @Test
    void aStateMachineWithoutSnapshotsIs501AndNothingWasTaken() throws Exception {
        snapshots = () -> CompletableFuture.failedFuture(new UnsupportedOperationException("no snapshots here"));

        JsonNode body = assertRefused(post(Duration.ofSeconds(5)), 501, "snapshots_unsupported");

        assertEquals("no snapshots here", body.get("detail").asText());
    }

    @Test
    void aSnapshotThatCannotBeWrittenIs500WithARequestIdAndNoExceptionTextAndNothingWasTaken() throws Exception {
        snapshots = () -> CompletableFuture.failedFuture(new IOException("disk full at /secret/path"));

        JsonNode body = assertRefused(post(Duration.ofSeconds(5)), 500, "snapshot_failed");

        assertFalse(body.toString().contains("disk full"), body.toString());
        assertFalse(body.toString().contains("IOException"), body.toString());
        assertFalse(body.toString().contains("/secret/path"), body.toString());
        assertTrue(body.get("detail").asText().contains(body.get("requestId").asText()), body.toString());
    }

    @Test
    void aFailedReplicaRefusesWithoutAskingForASnapshot() throws Exception {
        failure = Optional.of(new IllegalStateException("the state machine threw"));

        JsonNode body = assertRefused(post(Duration.ofSeconds(5)), 503, "replica_failed");

        assertTrue(body.get("detail").asText().contains("the state machine threw"), body.toString());
        assertEquals(0, requested.get());
    }

    @Test
    void aSnapshotNotDurableInTimeIs503TimeoutWithoutAppliedFalse() throws Exception {
        snapshots = CompletableFuture::new; // never completes

        HttpResponse<byte[]> r = post(Duration.ofMillis(200));

        assertEquals(503, r.statusCode());
        JsonNode body = json.readTree(r.body());
        assertEquals("timeout", body.get("error").asText());
        assertFalse(body.has("applied"), "it may still complete: " + body);
    }

    @Test
    void theStatusShowsAnInstallInProgressWithItsSourceSnapshotAndBytes() throws Exception {
        install = new Replica.InstallStatus("r2", 700, 4, 1_024, 4_096);

        JsonNode status = json.readTree(get("/status").body());

        assertEquals(
                json.readTree(
                        "{\"source\":\"r2\",\"offset\":700,\"epoch\":4,\"receivedBytes\":1024,\"sizeBytes\":4096}"),
                status.get("install"),
                status.toString());
    }

    @Test
    void theStatusShowsNoInstallAsNull() throws Exception {
        JsonNode status = json.readTree(get("/status").body());

        assertTrue(status.has("install") && status.get("install").isNull(), status.toString());
    }

    private JsonNode assertRefused(HttpResponse<byte[]> r, int status, String error) throws IOException {
        JsonNode body = json.readTree(r.body());
        assertEquals(status, r.statusCode(), body.toString());
        assertEquals(error, body.get("error").asText());
        assertFalse(body.get("applied").asBoolean(true), "no snapshot was taken: " + body);
        return body;
    }

    private HttpResponse<byte[]> post(Duration snapshotTimeout) throws Exception {
        return send("POST", "/admin/snapshot", snapshotTimeout);
    }

    private HttpResponse<byte[]> get(String path) throws Exception {
        return send("GET", path, Duration.ofSeconds(5));
    }

    private HttpResponse<byte[]> send(String method, String path, Duration snapshotTimeout) throws Exception {
        Router notFound = req -> {
            throw new HttpError(404, "no_such_path", req.rawPath());
        };
        api = KvHttpApi.bind(
                new StatusRoutes(new Service(), new NoObservations(), notFound, snapshotTimeout),
                new InetSocketAddress("127.0.0.1", 0));
        api.start();
        URI uri = URI.create("http://127.0.0.1:" + api.address().getPort() + path);
        return http.send(
                HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofSeconds(10))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Only status and takeSnapshot are used by the route. */
    private final class Service implements KvService {
        @Override
        public CompletableFuture<Committed> propose(byte[] command) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Long> readBarrier() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<byte[]> get(String key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Status status() {
            Replica.Status replica = new Replica.Status(
                    "r1",
                    failure.isPresent() ? Role.FAILED : Role.FOLLOWER,
                    1,
                    "",
                    10,
                    10,
                    10,
                    List.of(),
                    failure.map(String::valueOf).orElse(""),
                    0,
                    Replica.SnapshotStatus.NONE,
                    install,
                    dev.tenure.replicator.core.Configuration.initial(List.of("r1")));
            return new Status("r1", "http://127.0.0.1:1", List.of("r1"), replica, 10, failure, Map.of(), 0);
        }

        @Override
        public Optional<LeaderInfo> leader() {
            return Optional.empty();
        }

        @Override
        public CompletableFuture<dev.tenure.replicator.core.Configuration> changeMembers(MembershipChange change) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<SnapshotId> takeSnapshot() {
            requested.incrementAndGet();
            return snapshots.get();
        }
    }

    private static final class NoObservations implements NodeObservations {
        @Override
        public List<Event> events() {
            return List.of();
        }

        @Override
        public long lagMillis(String follower) {
            return 0;
        }

        @Override
        public String scrapeMetrics() {
            return "";
        }
    }
}
