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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.demo.client.StubReplica.Reply;
import dev.tenure.demo.client.StubReplica.Request;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server side of the contract, in memory: a leader in epoch 3 that commits every write at the next offset,
 * and {@link #follower} replicas that redirect to it.
 */
final class FakeLeader implements StubReplica.Responder {
    static final long EPOCH = 3;
    static final ObjectMapper JSON = new ObjectMapper();

    final Map<String, byte[]> values = new ConcurrentHashMap<>();
    private final AtomicLong offset = new AtomicLong();

    @Override
    public synchronized Reply respond(Request r) throws IOException {
        if (r.rawPath().equals("/status")) {
            return Reply.json(200, statusJson("leader"));
        }
        if (!r.rawPath().startsWith("/kv/")) {
            return Reply.json(404, "{\"error\":\"no_route\"}");
        }
        String rest = r.rawPath().substring("/kv/".length());
        boolean cas = rest.endsWith("/cas");
        String key = decode(cas ? rest.substring(0, rest.length() - "/cas".length()) : rest);
        if (cas && r.method().equals("POST")) {
            JsonNode body = JSON.readTree(r.body());
            byte[] expect = bytes(body, "expect");
            byte[] update = bytes(body, "update");
            byte[] now = values.get(key);
            if (!Arrays.equals(now, expect)) {
                ObjectNode failed = JSON.createObjectNode().put("error", "cas_failed");
                if (now == null) {
                    failed.putNull("current").putNull("currentBase64");
                } else {
                    if (isUtf8(now)) {
                        failed.put("current", new String(now, StandardCharsets.UTF_8));
                    }
                    failed.put("currentBase64", Base64.getEncoder().encodeToString(now));
                }
                return Reply.json(409, JSON.writeValueAsString(failed));
            }
            values.put(key, update);
            return committed();
        }
        switch (r.method()) {
            case "PUT":
                values.put(key, r.body());
                return committed();
            case "DELETE":
                values.remove(key);
                return committed();
            case "GET":
                byte[] v = values.get(key);
                return v == null ? Reply.json(404, "{\"error\":\"not_found\"}") : Reply.bytes(200, v);
            default:
                return Reply.json(405, "{\"error\":\"method_not_allowed\"}");
        }
    }

    /** The bytes of {@code name} (text) or {@code nameBase64}, as the server reads a cas body; null for JSON null. */
    private static byte[] bytes(JsonNode body, String name) {
        JsonNode n = body.has(name) ? body.get(name) : body.get(name + "Base64");
        if (n == null || n.isNull()) {
            return null;
        }
        return body.has(name)
                ? n.asText().getBytes(StandardCharsets.UTF_8)
                : Base64.getDecoder().decode(n.asText());
    }

    private static boolean isUtf8(byte[] b) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    private Reply committed() {
        return Reply.json(200, "{\"epoch\":" + EPOCH + ",\"offset\":" + offset.incrementAndGet() + "}");
    }

    /**
     * A follower: redirects writes and linearizable reads to {@code leaderUrl} with an absolute Location and
     * serves {@code ?consistency=local} reads itself, from the same store.
     */
    StubReplica.Responder follower(URI leaderUrl) {
        return r -> {
            if (r.method().equals("GET") && "consistency=local".equals(r.rawQuery())) {
                return respond(r);
            }
            if (r.rawPath().equals("/status")) {
                return Reply.json(200, statusJson("follower"));
            }
            return Reply.json(
                            307, "{\"error\":\"not_leader\",\"leader\":\"node-1\",\"leaderUrl\":\"" + leaderUrl + "\"}")
                    .header("Location", leaderUrl + r.pathAndQuery());
        };
    }

    static String statusJson(String role) {
        return "{\"id\":\"node-2\",\"role\":\"" + role
                + "\",\"leader\":\"node-1\",\"leaderUrl\":\"http://127.0.0.1:1\","
                + "\"epoch\":3,\"commitOffset\":42,\"appliedOffset\":42,\"logEndOffset\":43,"
                + "\"replicas\":[{\"id\":\"node-3\",\"url\":\"http://127.0.0.1:2\",\"matchOffset\":41,\"lagMs\":7,"
                + "\"connected\":true}]}";
    }

    /**
     * Strict percent-decoding: fails unless every literal character is unreserved, so a test also checks that
     * the client encoded everything else.
     */
    static String decode(String raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                out.write(Integer.parseInt(raw.substring(i + 1, i + 3), 16));
                i += 2;
            } else if ((c >= 'A' && c <= 'Z')
                    || (c >= 'a' && c <= 'z')
                    || (c >= '0' && c <= '9')
                    || "-._~".indexOf(c) >= 0) {
                out.write(c);
            } else {
                throw new IllegalArgumentException("unencoded '" + c + "' in " + raw);
            }
        }
        return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }

    byte[] value(String key) {
        byte[] v = values.get(key);
        return v == null ? null : Arrays.copyOf(v, v.length);
    }
}
