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
package dev.tenure.demo.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tenure.demo.client.Outcome.Kind;
import dev.tenure.demo.client.StubReplica.Reply;
import dev.tenure.demo.client.StubReplica.Request;
import dev.tenure.testkit.LoopbackPorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KvClientTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final FakeTime time = new FakeTime();
    private FakeLeader kv;
    private StubReplica leader;
    private StubReplica follower;

    @BeforeEach
    void startReplicas() {
        kv = new FakeLeader();
        leader = stub(kv);
        follower = stub(kv.follower(leader.url()));
    }

    @AfterEach
    void stopAll() throws Exception {
        Collections.reverse(closeables);
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private StubReplica stub(StubReplica.Responder responder) {
        StubReplica s = StubReplica.start(responder);
        closeables.add(s);
        return s;
    }

    private KvClient client(URI url) {
        return time.client(url, TIMEOUT);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A URL on which nothing listens: the port was bound, then released. */
    static URI refusingUrl() throws IOException {
        return URI.create("http://127.0.0.1:" + LoopbackPorts.freePort());
    }

    // ---- happy paths and JSON parsing ----

    @Test
    void putThroughAFollowerIsCommittedByTheLeaderWithEpochAndOffset() {
        Outcome o = client(follower.url()).put("k", utf8("v1"));

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertEquals(200, o.httpStatus());
        assertEquals(OptionalLong.of(3), o.epoch());
        assertEquals(OptionalLong.of(1), o.offset());
        assertEquals(leader.url().resolve("/kv/k"), o.url());
        assertTrue(o.error().isEmpty());
        assertArrayEquals(utf8("v1"), kv.value("k"));
    }

    @Test
    void getReturnsTheRawValueBytes() {
        byte[] binary = {0, (byte) 0xFF, (byte) 0xC3, 0x28, '\n'};
        KvClient c = client(leader.url());
        assertEquals(Kind.OK, c.put("bin", binary).kind());

        Outcome o = c.get("bin", false);

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertArrayEquals(binary, o.value().orElseThrow());
        assertTrue(o.epoch().isEmpty());
    }

    @Test
    void linearizableGetThroughAFollowerIsRedirectedButALocalGetIsNot() {
        kv.values.put("k", utf8("v"));
        KvClient c = client(follower.url());

        Outcome linearizable = c.get("k", false);
        Outcome local = c.get("k", true);

        assertArrayEquals(utf8("v"), linearizable.value().orElseThrow());
        assertEquals(leader.url().resolve("/kv/k"), linearizable.url());
        assertArrayEquals(utf8("v"), local.value().orElseThrow());
        assertEquals(follower.url().resolve("/kv/k?consistency=local"), local.url());
        assertEquals("consistency=local", follower.requests().get(1).rawQuery());
        assertEquals(1, leader.requests().size());
    }

    @Test
    void getOfAMissingKeyIsNotFound() {
        Outcome o = client(follower.url()).get("missing", false);

        assertEquals(Kind.NOT_FOUND, o.kind());
        assertEquals(404, o.httpStatus());
        assertEquals("not_found", o.error().orElseThrow());
        assertTrue(o.kind().isDefinite());
    }

    @Test
    void deleteIsCommittedAndTheKeyIsThenNotFound() {
        KvClient c = client(follower.url());
        c.put("k", utf8("v"));

        Outcome o = c.delete("k");

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertEquals(OptionalLong.of(3), o.epoch());
        assertEquals(OptionalLong.of(2), o.offset());
        assertEquals("DELETE", leader.requests().get(1).method());
        assertEquals(Kind.NOT_FOUND, c.get("k", false).kind());
    }

    @Test
    void casReplacesTheExpectedValue() throws Exception {
        kv.values.put("k", utf8("old"));

        Outcome o = client(follower.url()).cas("k", "old", "new");

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertEquals(OptionalLong.of(1), o.offset());
        assertArrayEquals(utf8("new"), kv.value("k"));
        Request sent = leader.requests().get(0);
        assertEquals("/kv/k/cas", sent.rawPath());
        assertEquals("application/json", sent.contentType());
        JsonNode body = FakeLeader.JSON.readTree(sent.body());
        assertEquals("old", body.get("expect").asText());
        assertEquals("new", body.get("update").asText());
    }

    @Test
    void casWithANullExpectationSendsJsonNullAndSucceedsOnAnAbsentKey() throws Exception {
        Outcome o = client(leader.url()).cas("fresh", null, "first");

        assertEquals(Kind.OK, o.kind(), o::toString);
        JsonNode body = FakeLeader.JSON.readTree(leader.requests().get(0).body());
        assertTrue(body.has("expect") && body.get("expect").isNull(), body::toString);
    }

    @Test
    void casMismatchIsCasFailedWithTheCurrentValue() {
        kv.values.put("k", utf8("actual \"quoted\" ключ"));

        Outcome o = client(follower.url()).cas("k", "guess", "new");

        assertEquals(Kind.CAS_FAILED, o.kind(), o::toString);
        assertEquals(409, o.httpStatus());
        assertEquals("actual \"quoted\" ключ", o.current());
        assertEquals("cas_failed", o.error().orElseThrow());
    }

    @Test
    void casExpectingAbsenceOnAPresentKeyFailsAndACasOnAnAbsentKeyReportsCurrentNull() {
        kv.values.put("present", utf8("x"));
        KvClient c = client(leader.url());

        assertEquals("x", c.cas("present", null, "y").current());
        Outcome o = c.cas("absent", "something", "y");
        assertEquals(Kind.CAS_FAILED, o.kind());
        assertNull(o.current());
    }

    @Test
    void casMismatchOnAValueThatIsNotUtf8CarriesItsExactBytesAndNoText() {
        byte[] binary = {(byte) 0xC3, 0x28, (byte) 0xFF};
        kv.values.put("k", binary);

        Outcome o = client(follower.url()).cas("k", "guess", "new");

        assertEquals(Kind.CAS_FAILED, o.kind(), o::toString);
        assertNull(o.current(), "not lossily decoded");
        assertArrayEquals(binary, o.value().orElseThrow());
        kv.values.put("t", utf8("text"));
        assertArrayEquals(
                utf8("text"), client(leader.url()).cas("t", null, "y").value().orElseThrow());
        assertTrue(client(leader.url()).cas("absent", "x", "y").value().isEmpty(), "absent: no bytes");
    }

    @Test
    void statusReturnsTheJsonDocument() throws Exception {
        Outcome o = client(follower.url()).status();

        assertEquals(Kind.OK, o.kind(), o::toString);
        JsonNode json = FakeLeader.JSON.readTree(o.value().orElseThrow());
        assertEquals("follower", json.get("role").asText());
        assertEquals(42, json.get("commitOffset").asLong());
        assertEquals("node-3", json.get("replicas").get(0).get("id").asText());
        assertEquals(follower.url().resolve("/status"), o.url());
    }

    @Test
    void aBasePathIsKeptAsAPrefix() {
        client(URI.create(leader.url() + "/prefix/")).put("k", utf8("v"));

        assertEquals("/prefix/kv/k", leader.requests().get(0).rawPath());
    }

    @Test
    void oneClientServesManyThreads() throws Exception {
        KvClient c = client(follower.url());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<Outcome>> results = new ArrayList<>();
            for (int i = 0; i < 80; i++) {
                String key = "k" + i;
                results.add(pool.submit(() -> c.put(key, utf8(key))));
            }
            java.util.Set<Long> offsets = new java.util.HashSet<>();
            for (java.util.concurrent.Future<Outcome> f : results) {
                Outcome o = f.get();
                assertEquals(Kind.OK, o.kind(), o::toString);
                offsets.add(o.offset().orElseThrow());
            }
            assertEquals(80, offsets.size());
            assertArrayEquals(utf8("k42"), kv.value("k42"));
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- key encoding on the wire ----

    @Test
    void keysWithSlashesSpacesAndUnicodeArePercentEncodedOnTheWire() {
        String key = "dir/sub dir/ключ?x#y%z+😀";
        KvClient c = client(follower.url());

        assertEquals(Kind.OK, c.put(key, utf8("v")).kind());
        Outcome read = c.get(key, false);

        String expected = "/kv/dir%2Fsub%20dir%2F%D0%BA%D0%BB%D1%8E%D1%87%3Fx%23y%25z%2B%F0%9F%98%80";
        assertEquals(expected, follower.requests().get(0).rawPath());
        assertNull(follower.requests().get(0).rawQuery());
        assertEquals(expected, leader.requests().get(0).rawPath());
        assertEquals(key, FakeLeader.decode(leader.requests().get(0).rawPath().substring(4)));
        assertArrayEquals(utf8("v"), read.value().orElseThrow());
        assertArrayEquals(utf8("v"), kv.value(key));
    }

    @Test
    void badArgumentsAreRejectedBeforeAnythingIsSent() {
        KvClient c = client(leader.url());

        assertThrows(IllegalArgumentException.class, () -> c.put("", utf8("v")));
        assertThrows(IllegalArgumentException.class, () -> c.get("x".repeat(1025), false));
        assertThrows(IllegalArgumentException.class, () -> c.put("k", new byte[KvClient.MAX_VALUE_BYTES + 1]));
        assertThrows(IllegalArgumentException.class, () -> c.cas("k", null, "x".repeat(KvClient.MAX_VALUE_BYTES + 1)));
        assertThrows(IllegalArgumentException.class, () -> c.cas("k", "a\uDC00", "b"));
        assertThrows(NullPointerException.class, () -> c.put("k", null));
        assertThrows(IllegalArgumentException.class, () -> client(URI.create("ftp://h/")));
        assertThrows(IllegalArgumentException.class, () -> client(URI.create("http://h:1/?q=1")));
        assertThrows(IllegalArgumentException.class, () -> new KvClient(leader.url(), Duration.ZERO));
        assertEquals(0, leader.requests().size());
    }

    // ---- redirects ----

    @Test
    void redirectOfAPutKeepsTheMethodAndTheBody() {
        byte[] value = new byte[100_000];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) i;
        }

        client(follower.url()).put("big", value);

        Request atFollower = follower.requests().get(0);
        Request atLeader = leader.requests().get(0);
        assertEquals("PUT", atFollower.method());
        assertEquals("PUT", atLeader.method());
        assertArrayEquals(value, atFollower.body());
        assertArrayEquals(value, atLeader.body());
        assertEquals(atFollower.contentType(), atLeader.contentType());
    }

    @Test
    void redirectOfACasPostKeepsTheMethodAndTheBody() {
        kv.values.put("k", utf8("a"));

        client(follower.url()).cas("k", "a", "b");

        Request atFollower = follower.requests().get(0);
        Request atLeader = leader.requests().get(0);
        assertEquals("POST", atFollower.method());
        assertEquals("POST", atLeader.method());
        assertEquals("/kv/k/cas", atLeader.rawPath());
        assertEquals(atFollower.bodyText(), atLeader.bodyText());
        assertEquals("application/json", atLeader.contentType());
    }

    /** A replica that redirects its first {@code times} requests to itself, then commits. */
    private StubReplica redirecting(int times, boolean relative) {
        AtomicInteger seen = new AtomicInteger();
        AtomicReference<StubReplica> self = new AtomicReference<>();
        StubReplica s = stub(r -> {
            if (seen.getAndIncrement() < times) {
                String location = relative ? r.pathAndQuery() : self.get().url() + r.pathAndQuery();
                return Reply.json(307, "{\"error\":\"not_leader\",\"leader\":\"x\",\"leaderUrl\":\"y\"}")
                        .header("Location", location);
            }
            return Reply.json(200, "{\"epoch\":9,\"offset\":99}");
        });
        self.set(s);
        return s;
    }

    @Test
    void fiveRedirectsAreFollowed() {
        StubReplica s = redirecting(5, false);

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertEquals(OptionalLong.of(9), o.epoch());
        assertEquals(6, s.requests().size());
    }

    @Test
    void aSixthRedirectIsNotFollowedAndNothingWasApplied() {
        StubReplica s = redirecting(Integer.MAX_VALUE, false);

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind(), o::toString);
        assertEquals(307, o.httpStatus());
        assertTrue(o.error().orElseThrow().startsWith("too many redirects"), o::toString);
        assertEquals(1 + KvClient.MAX_REDIRECTS, s.requests().size());
        assertTrue(s.requests().stream()
                .allMatch(r -> r.method().equals("PUT") && r.bodyText().equals("v")));
        assertTrue(time.sleeps().isEmpty());
    }

    @Test
    void aRelativeLocationIsResolvedAgainstTheUrlThatAnswered() {
        StubReplica s = redirecting(1, true);

        Outcome o = client(s.url()).cas("a/b", null, "v");

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertEquals(2, s.requests().size());
        assertEquals("/kv/a%2Fb/cas", s.requests().get(1).rawPath());
        assertEquals("POST", s.requests().get(1).method());
        assertEquals(s.requests().get(0).bodyText(), s.requests().get(1).bodyText());
    }

    @Test
    void aRedirectWithoutLocationIsDefinitelyNotApplied() {
        StubReplica s = stub(r -> Reply.json(307, "{\"error\":\"not_leader\",\"leader\":\"node-1\"}"));

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind());
        assertTrue(o.error().orElseThrow().contains("not_leader"), o::toString);
    }

    @Test
    void aRedirectToADeadLeaderIsDefinitelyNotApplied() throws Exception {
        URI dead = refusingUrl();
        StubReplica s = stub(r -> Reply.json(307, "{\"error\":\"not_leader\"}").header("Location", dead + r.rawPath()));

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind(), o::toString);
        assertEquals(-1, o.httpStatus());
        assertEquals(dead.resolve("/kv/k"), o.url());
    }

    // ---- 503 and retries ----

    private static Reply noLeader(String retryAfter) {
        Reply r = Reply.json(503, "{\"error\":\"no_leader\",\"applied\":false}");
        return retryAfter == null ? r : r.header("Retry-After", retryAfter);
    }

    @Test
    void noLeaderIsRetriedWithinTheBudgetThenDefinitelyNotApplied() {
        StubReplica s = stub(r -> noLeader("1"));

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind(), o::toString);
        assertEquals(503, o.httpStatus());
        assertEquals("no_leader", o.error().orElseThrow());
        assertEquals(Collections.nCopies(5, Duration.ofSeconds(1)), time.sleeps());
        assertEquals(6, s.requests().size());
    }

    @Test
    void aLongRetryAfterIsCappedAtOneSecondPerWait() {
        StubReplica s = stub(r -> noLeader("30"));

        client(s.url()).put("k", utf8("v"));

        assertTrue(time.sleeps().stream().allMatch(d -> d.equals(KvClient.MAX_RETRY_WAIT)), time.sleeps()::toString);
        assertTrue(time.slept().compareTo(KvClient.RETRY_BUDGET) <= 0);
    }

    @Test
    void aZeroRetryAfterStillWaitsAMinimumAndStaysWithinTheBudget() {
        StubReplica s = stub(r -> noLeader("0"));

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind());
        assertTrue(time.sleeps().stream().allMatch(d -> d.equals(KvClient.MIN_RETRY_WAIT)));
        assertTrue(time.slept().compareTo(KvClient.RETRY_BUDGET) <= 0);
        assertEquals(time.sleeps().size() + 1, s.requests().size());
    }

    @Test
    void aWriteSucceedsOnceALeaderIsElected() {
        AtomicInteger calls = new AtomicInteger();
        StubReplica s = stub(r -> calls.getAndIncrement() < 2 ? noLeader("1") : kv.respond(r));

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertEquals(2, time.sleeps().size());
        assertTrue(s.requests().stream()
                .allMatch(r -> r.method().equals("PUT") && r.bodyText().equals("v")));
    }

    @Test
    void aRetryStartsOverAtTheBaseUrl() {
        AtomicInteger calls = new AtomicInteger();
        StubReplica oldLeader = stub(r -> calls.getAndIncrement() == 0 ? noLeader("1") : kv.respond(r));
        StubReplica f = stub(r -> Reply.json(307, "{}").header("Location", oldLeader.url() + r.pathAndQuery()));

        Outcome o = client(f.url()).put("k", utf8("v"));

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertEquals(2, f.requests().size());
        assertEquals(2, oldLeader.requests().size());
    }

    @Test
    void noLeaderWithoutRetryAfterIsReportedAtOnce() {
        StubReplica s = stub(r -> noLeader(null));

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind());
        assertEquals(1, s.requests().size());
        assertTrue(time.sleeps().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"error\":\"no_leader\"}",
                "{\"error\":\"no_leader\",\"applied\":true}",
                "{\"error\":\"no_leader\",\"applied\":\"false\"}",
                "Service Unavailable"
            })
    void a503ThatDoesNotSayAppliedFalseIsUnknownAndNotRetried(String body) {
        StubReplica s = stub(r -> Reply.json(503, body).header("Retry-After", "1"));

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.UNKNOWN, o.kind(), o::toString);
        assertEquals(503, o.httpStatus());
        assertEquals(1, s.requests().size());
        assertTrue(time.sleeps().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 502, 504, 201, 204, 302, 429})
    void statusesOutsideTheContractAreUnknownAndAWriteIsNeverRetried(int status) {
        StubReplica s = stub(r -> Reply.json(status, "{\"error\":\"boom\"}").header("Location", "/elsewhere"));

        Outcome o = client(s.url()).delete("k");

        assertEquals(Kind.UNKNOWN, o.kind(), o::toString);
        assertEquals(status, o.httpStatus());
        assertEquals(1, s.requests().size());
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 404, 405, 409, 413})
    void refusalsAreDefinitelyNotApplied(int status) {
        StubReplica s = stub(r -> Reply.json(status, "{\"error\":\"refused\"}"));

        Outcome o = client(s.url()).put("k", utf8("v"));

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind(), o::toString);
        assertEquals("refused", o.error().orElseThrow());
        assertEquals(1, s.requests().size());
    }

    @Test
    void aBare404OnAGetIsNotMistakenForAMissingKey() {
        StubReplica s = stub(r -> Reply.json(404, "no such path"));

        Outcome o = client(s.url()).get("k", false);

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind());
        assertEquals("HTTP 404: no such path", o.error().orElseThrow());
    }

    // ---- transport failures ----

    @Test
    void aServerThatNeverAnswersIsATimeoutAndUnknown() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            URI url = URI.create("http://127.0.0.1:" + silent.getLocalPort());

            Outcome o = time.client(url, Duration.ofMillis(200)).put("k", utf8("v"));

            assertEquals(Kind.UNKNOWN, o.kind(), o::toString);
            assertEquals(-1, o.httpStatus());
            assertTrue(o.error().orElseThrow().startsWith("no answer in time"), o::toString);
            assertTrue(time.sleeps().isEmpty());
        }
    }

    @Test
    void aRefusedConnectionForAWriteIsDefinitelyNotAppliedAndNotRetried() throws Exception {
        Outcome o = client(refusingUrl()).put("k", utf8("v"));

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind(), o::toString);
        assertTrue(o.error().orElseThrow().startsWith("could not connect"), o::toString);
        assertTrue(time.sleeps().isEmpty());
    }

    @Test
    void aRefusedConnectionForAReadIsRetriedBoundedly() throws Exception {
        Outcome o = client(refusingUrl()).get("k", false);

        assertEquals(Kind.DEFINITELY_NOT_APPLIED, o.kind(), o::toString);
        assertEquals(
                Collections.nCopies(KvClient.MAX_READ_CONNECT_ATTEMPTS - 1, KvClient.READ_CONNECT_RETRY_WAIT),
                time.sleeps());
    }

    @Test
    void aReadSucceedsWhenTheReplicaComesUpDuringTheRetries() throws Exception {
        URI url = refusingUrl();
        time.onSleep(() -> {
            if (time.sleeps().size() == 2) {
                closeables.add(StubReplica.startOn(url.getPort(), kv));
            }
        });

        Outcome o = client(url).status();

        assertEquals(Kind.OK, o.kind(), o::toString);
        assertEquals(2, time.sleeps().size());
    }

    @Test
    void aConnectFailureIsDefiniteButOtherIoFailuresAreUnknown() {
        URI u = URI.create("http://127.0.0.1:1/kv/k");
        assertEquals(
                Kind.DEFINITELY_NOT_APPLIED,
                KvClient.classifyFailure(new java.net.ConnectException("refused"), u)
                        .kind());
        assertEquals(
                Kind.UNKNOWN,
                KvClient.classifyFailure(new java.net.http.HttpTimeoutException("t"), u)
                        .kind());
        assertEquals(
                Kind.UNKNOWN,
                KvClient.classifyFailure(new java.net.http.HttpConnectTimeoutException("t"), u)
                        .kind());
        assertEquals(
                Kind.UNKNOWN,
                KvClient.classifyFailure(new java.net.SocketException("Connection reset"), u)
                        .kind());
        assertEquals(
                Kind.UNKNOWN,
                KvClient.classifyFailure(new java.io.EOFException(), u).kind());
    }

    @Test
    void aServerThatClosesTheConnectionWithoutAnsweringIsUnknown() throws Exception {
        try (ServerSocket rude = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread closer = new Thread(() -> {
                try (var socket = rude.accept()) {
                    socket.getInputStream().read(); // the request has started to arrive; hang up
                } catch (IOException ignored) {
                    // the test ends either way
                }
            });
            closer.start();

            Outcome o = client(URI.create("http://127.0.0.1:" + rude.getLocalPort()))
                    .put("k", utf8("v"));

            closer.join();
            assertEquals(Kind.UNKNOWN, o.kind(), o::toString);
            assertTrue(time.sleeps().isEmpty());
        }
    }
}
