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
import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.kv.KvService;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP API's protections (issue 18) over real sockets on 127.0.0.1, against a stub replica: the {@code Host}
 * allow-list, {@code application/json} on {@code POST}, the optional bearer token, URLs read from ZooKeeper, the
 * header-receipt deadline and the connection cap.
 */
@Timeout(120)
class HttpSecurityTest {
    private static final ObjectMapper json = new ObjectMapper();
    private static final String EVIL = "javascript:alert(document.domain)//";

    private KvHttpApi api;
    private int port;
    private volatile boolean leading = true;
    private volatile String leaderEndpoint = "http://127.0.0.1:9";
    private volatile String leaderId = "r2";
    private volatile Map<String, String> urls = Map.of();
    private final AtomicInteger proposals = new AtomicInteger();
    private final AtomicInteger snapshots = new AtomicInteger();
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (api != null) {
            api.close();
        }
    }

    private void start(HttpOptions options) throws IOException {
        api = KvHttpApi.bind(
                new Service(),
                new NoObservations(),
                RequestListener.NONE,
                new InetSocketAddress("127.0.0.1", 0),
                Duration.ofSeconds(2),
                options);
        api.start();
        port = api.address().getPort();
    }

    // ---- Host ----

    @Test
    void aHostThatDoesNotNameTheNodeIsRefused421AndItsOwnNamesAreAccepted() throws Exception {
        start(HttpOptions.DEFAULT.withAllowedHosts(List.of("kv.internal", "proxy.example:443")));

        Response evil = exchange(request("GET", "/status", "rebound.attacker.example:" + port, null, null));
        assertEquals(421, evil.status(), evil.text());
        assertEquals("host_not_allowed", evil.json().get("error").asText());
        assertFalse(evil.json().get("applied").asBoolean(true));
        assertEquals(
                421,
                exchange(request("GET", "/status", "127.0.0.1:" + (port + 1), null, null))
                        .status());
        assertEquals(400, exchange(request("GET", "/status", null, null, null)).status(), "no Host at all");

        for (String good : List.of(
                "127.0.0.1:" + port,
                "localhost:" + port,
                "LOCALHOST:" + port,
                "kv.internal:" + port,
                "proxy.example:443")) {
            Response r = exchange(request("GET", "/status", good, null, null));
            assertEquals(200, r.status(), good + ": " + r.text());
        }
    }

    @Test
    void aWriteWithABadHostIsRefusedBeforeItIsApplied() throws Exception {
        start(HttpOptions.DEFAULT);

        Response r = exchange(request("PUT", "/kv/k", "evil.example:" + port, "application/octet-stream", "v"));

        assertEquals(421, r.status(), r.text());
        assertEquals(0, proposals.get());
    }

    // ---- cross-site writes ----

    @Test
    void aCrossSiteShapedWriteIsRefused415AndNothingIsApplied() throws Exception {
        start(HttpOptions.DEFAULT);
        String cas = "{\"expect\":null,\"update\":\"pwned\"}";
        // What a form or fetch(..., {mode: 'no-cors'}) from another site can send: a simple type, or none.
        for (String type : new String[] {
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            null
        }) {
            Response r = exchange(request("POST", "/kv/k/cas", "127.0.0.1:" + port, type, cas));
            assertEquals(415, r.status(), type + ": " + r.text());
            assertEquals("unsupported_media_type", r.json().get("error").asText());
            assertFalse(r.json().get("applied").asBoolean(true));
            Response admin = exchange(request("POST", "/admin/snapshot", "127.0.0.1:" + port, type, null));
            assertEquals(415, admin.status(), type + ": " + admin.text());
        }
        assertEquals(0, proposals.get(), "no compare-and-set was proposed");
        assertEquals(0, snapshots.get(), "no snapshot was asked for");

        Response json = exchange(request("POST", "/kv/k/cas", "127.0.0.1:" + port, "application/json", cas));
        assertNotEquals(415, json.status(), json.text());
        assertEquals(1, proposals.get(), "the same request as JSON reaches the replica");
    }

    // ---- token ----

    @Test
    void withATokenWritesAndAdminRoutesNeedItAndReadsStayOpen() throws Exception {
        start(HttpOptions.DEFAULT.withToken(Optional.of("s3cret-token")));
        String host = "127.0.0.1:" + port;

        for (String auth :
                new String[] {null, "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer s3cret-token-and-more"}) {
            Response put = exchange(request("PUT", "/kv/k", host, "application/octet-stream", "v", auth));
            assertEquals(401, put.status(), auth + ": " + put.text());
            assertEquals("unauthorized", put.json().get("error").asText());
            assertFalse(put.json().get("applied").asBoolean(true));
            assertTrue(put.text().contains("WWW-Authenticate: Bearer"), put.text());
            assertEquals(
                    401,
                    exchange(request("POST", "/admin/snapshot", host, "application/json", null, auth))
                            .status());
        }
        assertEquals(0, proposals.get());
        assertEquals(0, snapshots.get());
        assertEquals(200, exchange(request("GET", "/status", host, null, null)).status(), "reads need no token");

        Response ok = exchange(request("PUT", "/kv/k", host, "application/octet-stream", "v", "Bearer s3cret-token"));
        assertEquals(200, ok.status(), ok.text());
        assertEquals(1, proposals.get());
    }

    @Test
    void theDemoClientSendsItsTokenWithWritesAndItsCompareAndSetAndSnapshotAsJson() throws Exception {
        start(HttpOptions.DEFAULT.withToken(Optional.of("s3cret-token")));
        java.net.URI base = java.net.URI.create("http://127.0.0.1:" + port);

        KvClient anonymous = new KvClient(base, Duration.ofSeconds(10));
        assertEquals(401, anonymous.put("k", new byte[] {1}).httpStatus());
        assertEquals(0, proposals.get());

        KvClient client = new KvClient(base, Duration.ofSeconds(10)).bearerToken("s3cret-token");
        assertEquals(200, client.put("k", new byte[] {1}).httpStatus());
        int cas = client.cas("k", null, "x").httpStatus(); // the stub's commit has no result: 500 after it
        assertTrue(cas != 401 && cas != 415, "compare-and-set reached the replica: " + cas);
        assertEquals(200, client.snapshot().httpStatus());
        assertEquals(2, proposals.get());
        assertEquals(1, snapshots.get());
    }

    @Test
    void withoutATokenWritesNeedNoAuthorization() throws Exception {
        start(HttpOptions.DEFAULT);

        Response ok = exchange(request("PUT", "/kv/k", "127.0.0.1:" + port, null, "v"));

        assertEquals(200, ok.status(), ok.text());
        assertEquals(1, proposals.get());
    }

    // ---- URLs read from ZooKeeper ----

    @Test
    void aJavascriptUrlPlantedAsAMembersUrlNeverReachesALocationTheStatusOrThePage() throws Exception {
        leading = false;
        leaderEndpoint = EVIL;
        urls = Map.of("r1", "http://127.0.0.1:1", "r2", EVIL);
        start(HttpOptions.DEFAULT);
        String host = "127.0.0.1:" + port;

        Response put = exchange(request("PUT", "/kv/k", host, null, "v"));
        assertNotEquals(307, put.status(), put.text());
        assertFalse(put.text().toLowerCase(java.util.Locale.ROOT).contains("javascript"), put.text());
        assertEquals(0, proposals.get());
        Response snapshot = exchange(request("POST", "/admin/snapshot", host, "application/json", null));
        assertFalse(snapshot.text().toLowerCase(java.util.Locale.ROOT).contains("javascript"), snapshot.text());

        Response status = exchange(request("GET", "/status", host, null, null));
        assertEquals(200, status.status());
        assertFalse(status.text().toLowerCase(java.util.Locale.ROOT).contains("javascript"), status.text());
        assertTrue(status.json().get("leaderUrl").isNull());
        JsonNode r2 = status.json().get("replicas").get(1);
        assertEquals("r2", r2.get("id").asText());
        assertTrue(r2.get("url").isNull(), status.text());

        Response page = exchange(request("GET", "/", host, null, null));
        assertEquals(200, page.status());
        assertFalse(page.text().contains(EVIL));
        assertTrue(page.text().contains("safeUrl(r.url)"), "the page checks each URL itself too");

        leaderEndpoint = "http://127.0.0.1:8082";
        Response moved = exchange(request("PUT", "/kv/k", host, null, "v"));
        assertEquals(307, moved.status(), moved.text());
        assertTrue(moved.text().contains("Location: http://127.0.0.1:8082/kv/k\r\n"), moved.text());
    }

    @Test
    void aLeaderThatIsNotAMemberOfTheReplicaSetIsNeverRedirectedTo() throws Exception {
        leading = false;
        leaderId = "mallory"; // a participant planted in the election path with a well-formed URL
        leaderEndpoint = "http://127.0.0.1:8666";
        start(HttpOptions.DEFAULT);
        String host = "127.0.0.1:" + port;

        Response put = exchange(request("PUT", "/kv/k", host, null, "v"));
        assertEquals(503, put.status(), put.text());
        assertFalse(put.text().contains("8666"), put.text());
        assertEquals(0, proposals.get());
        Response status = exchange(request("GET", "/status", host, null, null));
        assertTrue(status.json().get("leaderUrl").isNull(), status.text());

        leaderId = "r2"; // a member with the same URL is redirected to
        Response moved = exchange(request("PUT", "/kv/k", host, null, "v"));
        assertEquals(307, moved.status(), moved.text());
        assertTrue(moved.text().contains("Location: http://127.0.0.1:8666/kv/k\r\n"), moved.text());
    }

    @Test
    void onlyPlainHttpOriginsAreSafeUrls() {
        assertEquals(Optional.of("http://127.0.0.1:8081"), SafeUrls.origin("http://127.0.0.1:8081"));
        assertEquals(Optional.of("https://kv.example:443"), SafeUrls.origin("https://KV.example:443/"));
        for (String bad : new String[] {
            EVIL,
            "JavaScript:alert(1)",
            "data:text/html,<script>x</script>",
            "http://127.0.0.1",
            "http://:80",
            "http://user@127.0.0.1:80",
            "http://127.0.0.1:80/path",
            "http://127.0.0.1:80?q",
            "http://127.0.0.1:80#f",
            "http://127.0.0.1:80\r\nSet-Cookie: x",
            "ftp://127.0.0.1:21",
            "//127.0.0.1:80",
            "",
            null,
            "http://127.0.0.1:0"
        }) {
            assertEquals(Optional.empty(), SafeUrls.origin(bad), String.valueOf(bad));
        }
    }

    // ---- connections ----

    @Test
    void aConnectionThatTricklesAPartialHeaderIsClosedWithinTheHeaderDeadline() throws Exception {
        start(HttpOptions.DEFAULT.withHeaderTimeout(Duration.ofSeconds(1)));
        Socket s = connect();
        s.setSoTimeout(200);
        s.getOutputStream().write("GET /status HTTP/1.1\r\nHost: 127.0.0.1:".getBytes(StandardCharsets.US_ASCII));
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(30).toNanos(); // the idle rule alone would keep it 60 s per byte
        boolean closed = false;
        while (!closed && System.nanoTime() < deadline) {
            try {
                s.getOutputStream().write('1'); // one more byte of the header each round: never complete
                closed = s.getInputStream().read() < 0;
            } catch (SocketTimeoutException stillOpen) {
                // poll again
            } catch (IOException reset) {
                closed = true;
            }
        }
        assertTrue(closed, "a connection trickling its header was not closed in 30 s");
        long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
        assertTrue(seconds < 20, "closed after " + seconds + " s");

        // A connection that sends its request in time is served, and may stay idle between requests.
        Socket ok = connect();
        ok.getOutputStream()
                .write(request("GET", "/status", "127.0.0.1:" + port, null, null)
                        .getBytes(StandardCharsets.US_ASCII));
        assertTrue(readResponse(ok.getInputStream()).startsWith("HTTP/1.1 200"));
    }

    @Test
    void beyondTheConnectionCapConnectionsAreRefusedWhileAnOpenOneIsStillAnswered() throws Exception {
        start(HttpOptions.DEFAULT.withMaxConnections(3));
        String get = request("GET", "/status", "127.0.0.1:" + port, null, null).replace("Connection: close\r\n", "");
        List<Socket> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Socket s = connect();
            s.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
            assertTrue(readResponse(s.getInputStream()).startsWith("HTTP/1.1 200"));
            held.add(s);
        }

        for (int i = 0; i < 5; i++) {
            Socket extra = connect();
            String refusal = new String(extra.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(refusal.startsWith("HTTP/1.1 503"), refusal);
            assertTrue(refusal.contains("too_many_connections"), refusal);
        }

        Socket client = held.get(0);
        client.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
        assertTrue(readResponse(client.getInputStream()).startsWith("HTTP/1.1 200"), "an open connection is served");

        held.get(1).close();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        boolean served = false;
        while (!served && System.nanoTime() < deadline) { // the slot frees once the server sees the close
            Socket again = connect();
            again.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
            served = readResponse(again.getInputStream()).startsWith("HTTP/1.1 200");
            if (!served) {
                again.close();
            }
        }
        assertTrue(served, "a closed connection frees its slot");
    }

    // ---- helpers ----

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(15_000);
        sockets.add(s);
        return s;
    }

    private static String request(String method, String path, String host, String type, String body) {
        return request(method, path, host, type, body, null);
    }

    private static String request(String method, String path, String host, String type, String body, String auth) {
        StringBuilder r = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        if (host != null) {
            r.append("Host: ").append(host).append("\r\n");
        }
        if (type != null) {
            r.append("Content-Type: ").append(type).append("\r\n");
        }
        if (auth != null) {
            r.append("Authorization: ").append(auth).append("\r\n");
        }
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        r.append("Content-Length: ").append(b.length).append("\r\nConnection: close\r\n\r\n");
        return r.append(body == null ? "" : body).toString();
    }

    /** Sends one request on a new connection and reads the answer to its end (the server closes). */
    private Response exchange(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            return new Response(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** One response on a kept-alive connection: its head and as many body bytes as Content-Length says. */
    private static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            String h = head.toString(StandardCharsets.US_ASCII);
            if (h.endsWith("\r\n\r\n")) {
                int i = h.toLowerCase(java.util.Locale.ROOT).indexOf("content-length:");
                int n = Integer.parseInt(h.substring(i + 15, h.indexOf('\r', i)).trim());
                return h + new String(in.readNBytes(n), StandardCharsets.UTF_8);
            }
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private record Response(String text) {
        int status() {
            return Integer.parseInt(text.substring(9, 12));
        }

        JsonNode json() throws IOException {
            return HttpSecurityTest.json.readTree(text.substring(text.indexOf("\r\n\r\n") + 4));
        }
    }

    private final class Service implements KvService {
        @Override
        public CompletableFuture<Committed> propose(byte[] command) {
            proposals.incrementAndGet();
            return CompletableFuture.completedFuture(new Committed(1, 2, null));
        }

        @Override
        public CompletableFuture<Long> readBarrier() {
            return CompletableFuture.completedFuture(10L);
        }

        @Override
        public Optional<byte[]> get(String key) {
            return Optional.empty();
        }

        @Override
        public Status status() {
            Replica.Status replica = new Replica.Status(
                    "r1",
                    leading ? Role.LEADER : Role.FOLLOWER,
                    1,
                    leading ? "r1" : "r2",
                    10,
                    10,
                    10,
                    List.of(),
                    "",
                    0,
                    Replica.SnapshotStatus.NONE,
                    Replica.InstallStatus.NONE,
                    dev.tenure.replicator.core.Configuration.initial(List.of("r1", "r2")));
            return new Status("r1", "http://127.0.0.1:1", List.of("r1", "r2"), replica, 10, Optional.empty(), urls, 0);
        }

        @Override
        public Optional<LeaderInfo> leader() {
            return leading
                    ? Optional.of(new LeaderInfo("r1", "http://127.0.0.1:1", 1))
                    : Optional.of(new LeaderInfo(leaderId, leaderEndpoint, 1));
        }

        @Override
        public CompletableFuture<dev.tenure.replicator.core.Configuration> changeMembers(MembershipChange change) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<SnapshotId> takeSnapshot() {
            snapshots.incrementAndGet();
            return CompletableFuture.completedFuture(new SnapshotId(1, 1));
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
