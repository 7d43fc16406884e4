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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.demo.kv.KvService;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /admin/members} and {@code POST /admin/members/...} over real HTTP on 127.0.0.1, against a service whose
 * role, leader and membership outcome each test chooses: what each outcome answers, and that a follower sends the
 * change to the leader.
 */
class AdminMembersRouteTest {
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    private static final Configuration ABC = Configuration.initial(List.of("r1", "r2", "r3"));
    private static final Configuration ABD = new Configuration(3, List.of("r1", "r2", "r4"), List.of(), List.of());

    private KvHttpApi api;
    private Role role = Role.LEADER;
    private Optional<LeaderInfo> leader = Optional.empty();
    private Function<KvService.MembershipChange, CompletableFuture<Configuration>> outcome =
            c -> CompletableFuture.completedFuture(ABD);
    private final List<KvService.MembershipChange> asked = new ArrayList<>();

    @AfterEach
    void stop() {
        if (api != null) {
            api.close();
        }
    }

    @Test
    void showAnswersTheConfigurationTheReplicaKnows() throws Exception {
        HttpResponse<byte[]> r = send("GET", "/admin/members");
        assertEquals(200, r.statusCode());
        assertEquals(
                json.readTree("{\"version\":0,\"voters\":[\"r1\",\"r2\",\"r3\"],\"previousVoters\":[],\"learners\":[],"
                        + "\"changeInProgress\":false}"),
                json.readTree(r.body()));
        JsonNode status = json.readTree(send("GET", "/status").body());
        assertEquals(json.readTree(r.body()), status.get("configuration"), "the status shows it too");
    }

    @Test
    void aReplaceOnTheLeaderAnswersTheActivatedConfiguration() throws Exception {
        HttpResponse<byte[]> r = send("POST", "/admin/members/replace?old=r3&new=r4&timeout_ms=7500");
        assertEquals(200, r.statusCode());
        assertEquals(List.of("r1", "r2", "r4"), ids(json.readTree(r.body()).get("voters")));
        assertEquals(
                List.of(new KvService.MembershipChange(
                        KvService.MembershipChange.Kind.REPLACE, "r3", "r4", Duration.ofMillis(7500))),
                asked);
    }

    @Test
    void aFollowerRedirectsAChangeToTheLeaderAndDoesNothing() throws Exception {
        role = Role.FOLLOWER;
        leader = Optional.of(new LeaderInfo("r2", "http://127.0.0.1:9", 4));
        HttpResponse<byte[]> r = send("POST", "/admin/members/add?id=r4");
        assertEquals(307, r.statusCode());
        assertEquals(
                "http://127.0.0.1:9/admin/members/add?id=r4",
                r.headers().firstValue("Location").orElseThrow());
        assertEquals(List.of(), asked, "nothing was asked of this replica");
    }

    @Test
    void aFollowerWithoutAKnownLeaderRefusesDefinitely() throws Exception {
        role = Role.FOLLOWER;
        JsonNode body = refused(send("POST", "/admin/members/remove?id=r3"), 503, "no_leader");
        assertFalse(body.get("applied").asBoolean(true));
    }

    @Test
    void badIdsAndTimeoutsAre400AndNothingIsAsked() throws Exception {
        refused(send("POST", "/admin/members/add"), 400, "bad_replica_id");
        refused(send("POST", "/admin/members/add?id=r%2F4"), 400, "bad_replica_id");
        refused(send("POST", "/admin/members/replace?old=r3"), 400, "bad_replica_id");
        refused(send("POST", "/admin/members/add?id=r4&timeout_ms=0"), 400, "bad_timeout");
        refused(send("POST", "/admin/members/add?id=r4&timeout_ms=x"), 400, "bad_timeout");
        assertEquals(405, send("GET", "/admin/members/add?id=r4").statusCode());
        assertEquals(List.of(), asked);
    }

    @Test
    void refusalsAndAStalledChangeSayNothingChangedInTheVoters() throws Exception {
        outcome = c -> CompletableFuture.failedFuture(new KvService.MembershipRefused(
                KvService.MembershipRefused.Reason.CHANGE_IN_PROGRESS, "a change is in progress"));
        refused(send("POST", "/admin/members/add?id=r4"), 409, "change_in_progress");

        outcome = c -> CompletableFuture.failedFuture(new KvService.MembershipRefused(
                KvService.MembershipRefused.Reason.STALLED, "learner r4 has not caught up"));
        JsonNode stalled = refused(send("POST", "/admin/members/add?id=r4"), 409, "stalled");
        assertTrue(stalled.get("detail").asText().contains("r4"), stalled.toString());

        outcome = c -> CompletableFuture.failedFuture(new KvService.MembershipRefused(
                KvService.MembershipRefused.Reason.BAD_REQUEST, "r4 is already a voter"));
        refused(send("POST", "/admin/members/add?id=r4"), 400, "bad_membership_change");
    }

    @Test
    void aChangeNotActiveInTimeIs503TimeoutWithoutAppliedFalse() throws Exception {
        outcome = c -> new CompletableFuture<>(); // never completes
        // The answer waits for the catch-up timeout plus the activation slack (300 ms here, 60 s in the node).
        HttpResponse<byte[]> r = send("POST", "/admin/members/add?id=r4&timeout_ms=1");
        assertEquals(503, r.statusCode());
        JsonNode body = json.readTree(r.body());
        assertEquals("timeout", body.get("error").asText());
        assertNull(body.get("applied"), "it may still complete: " + body);
    }

    @Test
    void cancelRunsOnAFollowerToo() throws Exception {
        role = Role.FOLLOWER;
        outcome = c -> CompletableFuture.completedFuture(ABC);
        HttpResponse<byte[]> r = send("POST", "/admin/members/cancel");
        assertEquals(200, r.statusCode());
        assertEquals(KvService.MembershipChange.Kind.CANCEL, asked.get(0).kind());
    }

    private static List<String> ids(JsonNode array) {
        List<String> ids = new ArrayList<>();
        array.forEach(n -> ids.add(n.asText()));
        return ids;
    }

    private static JsonNode refused(HttpResponse<byte[]> r, int status, String error) throws Exception {
        JsonNode body = json.readTree(r.body());
        assertEquals(status, r.statusCode(), body.toString());
        assertEquals(error, body.get("error").asText(), body.toString());
        assertFalse(body.get("applied").asBoolean(true), "definitely not done: " + body);
        return body;
    }

    private HttpResponse<byte[]> send(String method, String path) throws Exception {
        if (api == null) {
            Router notFound = req -> {
                throw new HttpError(404, "no_such_path", req.rawPath());
            };
            api = KvHttpApi.bind(
                    new StatusRoutes(
                            new Service(),
                            new NoObservations(),
                            notFound,
                            Duration.ofSeconds(5),
                            Duration.ofMillis(300)),
                    new InetSocketAddress("127.0.0.1", 0));
            api.start();
        }
        URI uri = URI.create("http://127.0.0.1:" + api.address().getPort() + path);
        return http.send(
                HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofSeconds(30))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Status, leader and the membership change are what the routes use. */
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
                    role,
                    1,
                    role == Role.LEADER ? "r1" : leader.map(LeaderInfo::id).orElse(""),
                    10,
                    10,
                    10,
                    List.of(),
                    "",
                    0,
                    Replica.SnapshotStatus.NONE,
                    Replica.InstallStatus.NONE,
                    ABC);
            return new Status("r1", "http://127.0.0.1:1", List.of("r1"), replica, 10, Optional.empty(), Map.of(), 0);
        }

        @Override
        public Optional<LeaderInfo> leader() {
            return leader;
        }

        @Override
        public CompletableFuture<SnapshotId> takeSnapshot() {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Configuration> changeMembers(MembershipChange change) {
            asked.add(change);
            return outcome.apply(change);
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
