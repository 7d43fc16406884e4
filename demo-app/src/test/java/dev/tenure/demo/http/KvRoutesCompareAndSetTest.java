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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import dev.tenure.replicator.core.Role;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Compare-and-set over HTTP on values of any bytes, against the embedded 3-replica cluster: values that are not
 * UTF-8 are sent as {@code expectBase64}/{@code updateBase64} and shown as {@code currentBase64}, never lossily
 * decoded; bad input is refused before anything is proposed.
 */
@Timeout(120)
class KvRoutesCompareAndSetTest {
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    /** Not UTF-8: 0xC3 starts a two-byte sequence that 0x28 does not continue; 0xFF never occurs in UTF-8. */
    private static final byte[] NOT_UTF8 = {(byte) 0xC3, 0x28, (byte) 0xFF, 0x00};

    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = new EmbeddedCluster(0);
        cluster.start();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void rawNonUtf8BytesArePutAndReplacedByACasThatSendsThemInBase64() throws Exception {
        byte[] next = {(byte) 0xFE, (byte) 0x80, 0x01};
        assertEquals(200, send("PUT", "/kv/binary", NOT_UTF8).statusCode());

        HttpResponse<byte[]> cas = cas(
                "binary",
                json.createObjectNode().put("expectBase64", b64(NOT_UTF8)).put("updateBase64", b64(next)));

        assertEquals(200, cas.statusCode(), text(cas));
        assertTrue(body(cas).get("offset").asLong() > 0);
        HttpResponse<byte[]> get = send("GET", "/kv/binary", null);
        assertEquals(200, get.statusCode());
        assertArrayEquals(next, get.body(), "GET returns the raw bytes the cas wrote");
    }

    @Test
    void aFailedCasShowsACurrentValueThatIsNotUtf8ExactlyInBase64AndNeverAsLossyText() throws Exception {
        assertEquals(200, send("PUT", "/kv/binary-current", NOT_UTF8).statusCode());

        HttpResponse<byte[]> cas = cas(
                "binary-current",
                json.createObjectNode()
                        .put("expect", new String(NOT_UTF8, StandardCharsets.UTF_8))
                        .put("update", "x"));

        assertEquals(409, cas.statusCode(), text(cas));
        JsonNode answer = body(cas);
        assertEquals("cas_failed", answer.get("error").asText());
        assertFalse(answer.has("current"), "no lossily decoded text: " + answer);
        assertArrayEquals(
                NOT_UTF8, Base64.getDecoder().decode(answer.get("currentBase64").asText()));
        assertArrayEquals(NOT_UTF8, send("GET", "/kv/binary-current", null).body(), "unchanged");
    }

    @Test
    void aFailedCasShowsATextValueAsCurrentTextAsBeforeAndAlsoInBase64() throws Exception {
        assertEquals(200, send("PUT", "/kv/text-current", utf8("déjà vu")).statusCode());

        JsonNode text = body(cas(
                "text-current", json.createObjectNode().put("expect", "other").put("update", "x")));
        JsonNode absent = body(cas(
                "never-written", json.createObjectNode().put("expect", "other").put("update", "x")));

        assertEquals(
                json.createObjectNode()
                        .put("error", "cas_failed")
                        .put("current", "déjà vu")
                        .put("currentBase64", b64(utf8("déjà vu"))),
                text);
        assertEquals(
                json.createObjectNode()
                        .put("error", "cas_failed")
                        .putNull("current")
                        .putNull("currentBase64"),
                absent);
    }

    @Test
    void aCasMayMixTheFormsAndExpectAbsenceWithABase64Null() throws Exception {
        HttpResponse<byte[]> create =
                cas("mixed", json.createObjectNode().putNull("expectBase64").put("updateBase64", b64(NOT_UTF8)));
        assertEquals(200, create.statusCode(), text(create));

        HttpResponse<byte[]> replace = cas(
                "mixed",
                json.createObjectNode().put("expectBase64", b64(NOT_UTF8)).put("update", "text"));

        assertEquals(200, replace.statusCode(), text(replace));
        assertArrayEquals(utf8("text"), send("GET", "/kv/mixed", null).body());
    }

    @Test
    void aCasGivingAValueInBothTheTextAndTheBase64FormIsRefusedAndChangesNothing() throws Exception {
        assertEquals(200, send("PUT", "/kv/both", utf8("a")).statusCode());

        assertRefused(
                cas(
                        "both",
                        json.createObjectNode()
                                .put("expect", "a")
                                .put("expectBase64", b64(utf8("a")))
                                .put("update", "b")),
                400,
                "malformed_json",
                "give \"expect\" or \"expectBase64\", not both");
        assertRefused(
                cas(
                        "both",
                        json.createObjectNode()
                                .put("expect", "a")
                                .put("update", "b")
                                .put("updateBase64", b64(utf8("b")))),
                400,
                "malformed_json",
                "give \"update\" or \"updateBase64\", not both");
        assertArrayEquals(utf8("a"), send("GET", "/kv/both", null).body(), "nothing applied");
    }

    @Test
    void aCasWithBadOrNonCanonicalBase64IsRefusedAsBadBase64AndChangesNothing() throws Exception {
        assertEquals(200, send("PUT", "/kv/bad64", utf8("A")).statusCode());

        // not base64; unpadded; spare bits set ("QR==" would decode to "A" like "QQ=="); a line break; URL-safe
        for (String bad : new String[] {"!!!!", "QQ", "QR==", "QQ==\n", "-_8="}) {
            assertRefused(
                    cas(
                            "bad64",
                            json.createObjectNode().put("expectBase64", bad).put("update", "x")),
                    400,
                    "bad_base64",
                    null);
            assertRefused(
                    cas("bad64", json.createObjectNode().put("expect", "A").put("updateBase64", bad)),
                    400,
                    "bad_base64",
                    null);
        }
        assertArrayEquals(utf8("A"), send("GET", "/kv/bad64", null).body(), "nothing applied");
    }

    @Test
    void aValueOverTheLimitAfterBase64DecodingIsTooLargeAndOneAtTheLimitIsAccepted() throws Exception {
        byte[] max = new byte[KvRoutes.MAX_VALUE_BYTES];
        max[0] = (byte) 0xFF;
        String over = b64(new byte[KvRoutes.MAX_VALUE_BYTES + 1]);

        assertRefused(
                cas("large", json.createObjectNode().putNull("expect").put("updateBase64", over)),
                413,
                "value_too_large",
                null);
        assertRefused(
                cas("large", json.createObjectNode().put("expectBase64", over).put("update", "x")),
                413,
                "value_too_large",
                null);
        assertEquals(404, send("GET", "/kv/large", null).statusCode(), "nothing applied");
        assertEquals(200, send("PUT", "/kv/large", max).statusCode());
        HttpResponse<byte[]> atLimit = cas(
                "large", json.createObjectNode().put("expectBase64", b64(max)).put("updateBase64", b64(max)));
        assertEquals(200, atLimit.statusCode(), "two values at the limit fit in one cas request");
    }

    @Test
    void aTextExpectationThatIsNotValidUnicodeIsRefusedNotComparedAsAQuestionMark() throws Exception {
        assertEquals(200, send("PUT", "/kv/surrogate", utf8("?")).statusCode());

        assertRefused(
                send("POST", "/kv/surrogate/cas", utf8("{\"expect\":\"\\ud800\",\"update\":\"x\"}")),
                400,
                "malformed_json",
                null);
        assertArrayEquals(utf8("?"), send("GET", "/kv/surrogate", null).body(), "nothing applied");
    }

    private static void assertRefused(HttpResponse<byte[]> r, int status, String error, String detail)
            throws Exception {
        assertEquals(status, r.statusCode(), text(r));
        JsonNode answer = body(r);
        assertEquals(error, answer.path("error").asText(), text(r));
        assertFalse(answer.path("applied").asBoolean(true), "definitely not applied: " + text(r));
        if (detail != null) {
            assertEquals(detail, answer.path("detail").asText());
        }
    }

    private static HttpResponse<byte[]> cas(String key, ObjectNode request) throws Exception {
        return send("POST", "/kv/" + key + "/cas", json.writeValueAsBytes(request));
    }

    /** {@code method target} on the serving leader. */
    private static HttpResponse<byte[]> send(String method, String target, byte[] body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(leader().url() + target))
                        .timeout(Duration.ofSeconds(20))
                        .header("Content-Type", method.equals("POST") ? "application/json" : "application/octet-stream")
                        .method(
                                method,
                                body == null
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static KvNode leader() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (KvNode n : cluster.nodes()) {
                if (n.status().replica().role() == Role.LEADER
                        && n.status().replica().commitOffset() > 0) {
                    return n;
                }
            }
            Thread.sleep(10); // polling status snapshots
        }
        throw new TimeoutException("no replica served as leader within 30 s");
    }

    private static JsonNode body(HttpResponse<byte[]> r) throws Exception {
        return json.readTree(r.body());
    }

    private static String text(HttpResponse<byte[]> r) {
        return r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8);
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
