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

import static dev.tenure.demo.http.HttpError.requireMethod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.demo.kv.KvCommand;
import dev.tenure.demo.kv.KvService;
import dev.tenure.demo.kv.KvStateMachine;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicationException;
import dev.tenure.replicator.ReplicationException.ReplicaFailedException;
import dev.tenure.replicator.core.Role;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * What each key request ({@code /kv/...}) of the key-value API does, apart from the HTTP transport: {@link #route}
 * checks the request line (path, key, method, query) before any body is read and says how large a body the request
 * may have; the returned {@link Router.Route} turns the body into a {@link Reply}, at once or when the replica
 * answers. It sees the replica only as a {@link KvService}; any other path is 404 {@code no_such_path} (the
 * operator's routes, which see more, take their paths first). Each request is served by the partition of its key
 * ({@link KvService#partitionOf}): a write or linearizable read of a partition this node does not lead is redirected
 * to that partition's leader, and with several partitions the redirect's body names the partition.
 *
 * <p>Outcome semantics: 200 means committed; 307, 400, 404 (for a key), 405, 409, 413 and 503 with
 * {@code "applied":false} mean definitely not applied; anything else (timeouts, 500, 503 without {@code
 * "applied":false}) means unknown. A request that may have been applied is never answered as definitely not
 * applied.
 *
 * <p>A replica that stopped after a failure ({@link Role#FAILED}: its state machine threw, its storage failed)
 * answers every key request, local reads included, {@code 503 replica_failed} with {@code "applied":false} — its
 * state is unknown after the failure, so it serves nothing and redirects nowhere — except a write it had accepted
 * before it stopped: that one may be committed by the next leader and is answered {@code 503 outcome_unknown}.
 *
 * <p>Thread-safe: it keeps no per-request state. Replies of writes and linearizable reads complete on the
 * replica's threads (apply or event thread) or on the JDK's timeout thread; callbacks must be short.
 */
final class KvRoutes implements Router {
    private static final ObjectMapper json = new ObjectMapper();

    /** Largest value accepted. */
    static final int MAX_VALUE_BYTES = KvHttpApi.MAX_VALUE_BYTES;
    /** Largest key accepted, in UTF-8 bytes. */
    static final int MAX_KEY_BYTES = KvHttpApi.MAX_KEY_BYTES;
    /** Largest compare-and-set request body: two values of the largest size in base64, plus room. */
    static final int MAX_CAS_BYTES = 2 * (4 * ((MAX_VALUE_BYTES + 2) / 3)) + 1024;

    private final KvService service;
    private final RequestListener listener;
    private final long requestTimeoutMs;

    KvRoutes(KvService service, RequestListener listener, long requestTimeoutMs) {
        this.service = service;
        this.listener = listener;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    @Override
    public Route route(Request req) {
        String path = req.rawPath();
        String method = req.method();
        if (!path.startsWith("/kv/")) {
            throw new HttpError(404, "no_such_path", path);
        }
        String rest = path.substring("/kv/".length());
        boolean cas = false;
        if (rest.endsWith("/cas")) {
            rest = rest.substring(0, rest.length() - "/cas".length());
            cas = true;
        }
        String key = decodeKey(rest);
        KvService log = service.partitionOf(key);
        if (cas) {
            requireMethod(method, "POST");
            return new Route(MAX_CAS_BYTES, "value_too_large", body -> cas(req, log, key, body));
        }
        return switch (method) {
            case "PUT" ->
                new Route(MAX_VALUE_BYTES, "value_too_large", body -> write(req, log, KvCommand.put(key, body)));
            case "DELETE" -> new Route(0, "body_not_allowed", body -> write(req, log, KvCommand.delete(key)));
            case "GET" -> get(req, log, key);
            default ->
                throw new HttpError(405, "method_not_allowed", "use GET, PUT or DELETE on /kv/{key}")
                        .allow("GET, PUT, DELETE");
        };
    }

    /** Strict percent-decoding of one path segment into a UTF-8 key of 1..1024 bytes. */
    static String decodeKey(String raw) {
        if (raw.isEmpty()) {
            throw new HttpError(400, "bad_key", "the key is empty");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    throw new HttpError(400, "bad_key", "truncated percent-encoding");
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new HttpError(400, "bad_key", "invalid percent-encoding");
                }
                bytes.write(hi * 16 + lo);
                i += 2;
            } else if (c == '/') {
                throw new HttpError(400, "bad_key", "a '/' in a key must be percent-encoded as %2F");
            } else if (c > 127) {
                throw new HttpError(400, "bad_key", "non-ASCII characters must be percent-encoded");
            } else {
                bytes.write(c);
            }
        }
        byte[] b = bytes.toByteArray();
        if (b.length > MAX_KEY_BYTES) {
            throw new HttpError(400, "bad_key", "the key has " + b.length + " bytes; at most " + MAX_KEY_BYTES);
        }
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new HttpError(400, "bad_key", "the key is not valid UTF-8");
        }
    }

    // ---- operations ----

    private CompletableFuture<Reply> write(Request req, KvService log, KvCommand command) {
        ensureLeader(req, log);
        return propose(req, log, command, c -> Reply.json(200, position(c)));
    }

    private CompletableFuture<Reply> cas(Request req, KvService log, String key, byte[] body) {
        CasRequest cas = CasRequest.parse(body);
        ensureLeader(req, log);
        return propose(req, log, KvCommand.cas(key, cas.expect(), cas.update()), c -> {
            KvStateMachine.CasResult r = (KvStateMachine.CasResult) c.result();
            if (r.replaced()) {
                return Reply.json(200, position(c));
            }
            return Reply.json(409, casFailed(r.current()));
        });
    }

    /**
     * The body of a {@code 409 cas_failed}: {@code "current"} is the value as text, present only when the key is
     * absent (null) or its bytes are valid UTF-8, so that it is never decoded lossily; {@code "currentBase64"} is
     * always present: the exact bytes in standard base64, or null when the key is absent.
     */
    static ObjectNode casFailed(byte[] current) {
        ObjectNode conflict = json.createObjectNode().put("error", "cas_failed");
        if (current == null) {
            conflict.putNull("current");
            conflict.putNull("currentBase64");
            return conflict;
        }
        Optional<String> text = strictUtf8(current);
        if (text.isPresent()) {
            conflict.put("current", text.get());
        }
        conflict.put("currentBase64", Base64.getEncoder().encodeToString(current));
        return conflict;
    }

    /**
     * A compare-and-set request body: the expected value ({@code null}: the key must be absent) and the update, as
     * bytes. Each is given either as text ({@code "expect"}, {@code "update"}: its UTF-8 bytes) or as base64
     * ({@code "expectBase64"}, {@code "updateBase64"}: standard alphabet, padded, no line breaks — RFC 4648 §4), not
     * both; other members are ignored.
     */
    @SuppressWarnings("ArrayRecordComponent") // never compared or printed: the routes read its fields only
    record CasRequest(byte[] expect, byte[] update) {
        /**
         * @throws HttpError 400 {@code malformed_json} for a body that is not such an object (a value missing, given
         *     in both forms, of the wrong JSON type, or text that is not valid Unicode), 400 {@code bad_base64} for a
         *     base64 form that is not canonical standard base64, 413 {@code value_too_large} for a value of more than
         *     {@link #MAX_VALUE_BYTES} bytes
         */
        static CasRequest parse(byte[] body) {
            JsonNode tree;
            try {
                tree = json.readTree(body);
            } catch (IOException e) {
                throw new HttpError(400, "malformed_json", e.getMessage());
            }
            if (tree == null || !tree.isObject()) {
                throw new HttpError(400, "malformed_json", "expected an object");
            }
            byte[] expect = value(tree, "expect", true);
            byte[] update = value(tree, "update", false);
            return new CasRequest(expect, update);
        }

        /** The bytes of member {@code name} or {@code nameBase64}; null only for a JSON null where allowed. */
        private static byte[] value(JsonNode tree, String name, boolean nullable) {
            String base64Name = name + "Base64";
            JsonNode text = tree.get(name);
            JsonNode base64 = tree.get(base64Name);
            String kind = nullable ? "a string or null" : "a string";
            if (text != null && base64 != null) {
                throw new HttpError(400, "malformed_json", "give \"" + name + "\" or \"" + base64Name + "\", not both");
            }
            JsonNode given = text != null ? text : base64;
            String givenName = text != null ? name : base64Name;
            if (given == null) {
                throw new HttpError(
                        400, "malformed_json", "\"" + name + "\" or \"" + base64Name + "\" must be " + kind);
            }
            if (given.isNull() && nullable) {
                return null;
            }
            if (!given.isTextual()) {
                throw new HttpError(400, "malformed_json", "\"" + givenName + "\" must be " + kind);
            }
            byte[] bytes = text != null ? utf8(given.textValue(), name) : base64(given.textValue(), base64Name);
            if (bytes.length > MAX_VALUE_BYTES) {
                throw new HttpError(
                        413,
                        "value_too_large",
                        "\"" + givenName + "\" has " + bytes.length + " bytes; at most " + MAX_VALUE_BYTES);
            }
            return bytes;
        }

        /** The UTF-8 bytes of {@code s}; a lone surrogate (a JSON escape can give one) has none and is refused. */
        private static byte[] utf8(String s, String name) {
            try {
                ByteBuffer b = StandardCharsets.UTF_8
                        .newEncoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .encode(CharBuffer.wrap(s));
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                return bytes;
            } catch (CharacterCodingException e) {
                throw new HttpError(
                        400,
                        "malformed_json",
                        "\"" + name + "\" is not valid Unicode text (a lone surrogate); send its bytes as \"" + name
                                + "Base64\"");
            }
        }

        /** Strict decoding: only the canonical form (padded, no line breaks or other characters, zero spare bits). */
        private static byte[] base64(String s, String name) {
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(s);
            } catch (IllegalArgumentException e) {
                throw new HttpError(400, "bad_base64", "\"" + name + "\" is not base64: " + e.getMessage());
            }
            if (!Base64.getEncoder().encodeToString(bytes).equals(s)) {
                throw new HttpError(
                        400,
                        "bad_base64",
                        "\"" + name
                                + "\" is not canonical base64 (standard alphabet, padded with '=', no line breaks)");
            }
            return bytes;
        }
    }

    /** {@code bytes} as text if they are valid UTF-8. */
    private static Optional<String> strictUtf8(byte[] bytes) {
        try {
            return Optional.of(StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether a GET's query asks for a local read: {@code consistency=local}; {@code consistency=linearizable} or no
     * {@code consistency} parameter is a linearizable read; other parameters are ignored.
     *
     * @throws HttpError 400 {@code bad_consistency} for any other value, or for two different values
     */
    static boolean localRead(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return false;
        }
        String chosen = null;
        for (String param : rawQuery.split("&", -1)) {
            int eq = param.indexOf('=');
            String name = decode(eq < 0 ? param : param.substring(0, eq));
            if (!name.equals("consistency")) {
                continue;
            }
            String value = eq < 0 ? "" : decode(param.substring(eq + 1));
            if (!value.equals("local") && !value.equals("linearizable")) {
                throw new HttpError(
                        400, "bad_consistency", "consistency is local or linearizable, not '" + value + "'");
            }
            if (chosen != null && !chosen.equals(value)) {
                throw new HttpError(400, "bad_consistency", "consistency given twice: " + chosen + " and " + value);
            }
            chosen = value;
        }
        return "local".equals(chosen);
    }

    private static String decode(String s) {
        try {
            return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, "bad_query", "malformed percent-encoding in the query");
        }
    }

    private Route get(Request req, KvService log, String key) {
        boolean local = localRead(req.rawQuery());
        if (local) {
            return Route.now(body -> {
                // Not even a possibly stale value: after a failure the state machine's state is unknown.
                ensureNotFailed(log);
                return read(log, key);
            });
        }
        return new Route(-1, null, body -> {
            ensureLeader(req, log);
            CompletableFuture<Long> barrier;
            try {
                barrier = log.readBarrier();
            } catch (RejectedExecutionException e) {
                ensureNotFailed(log); // failed since ensureLeader: its threads are stopped
                throw e;
            }
            return barrier.copy()
                    .orTimeout(requestTimeoutMs, TimeUnit.MILLISECONDS)
                    .handle((offset, failure) -> {
                        Optional<Throwable> stopped = log.status().failure();
                        if (stopped.isPresent()) {
                            // Also when the barrier was confirmed: the state to read from is unknown now.
                            return replicaFailed(stopped.get()).reply();
                        }
                        if (failure == null) {
                            return read(log, key);
                        }
                        Throwable cause = unwrap(failure);
                        if (cause instanceof ReplicationException r && r.definitelyNotApplied()) {
                            return notLeader(req, log).reply();
                        }
                        if (cause instanceof TimeoutException) {
                            return new HttpError(503, "timeout", "the read could not be confirmed in time").reply();
                        }
                        return new HttpError(503, "read_not_confirmed", String.valueOf(cause)).reply();
                    });
        });
    }

    private Reply read(KvService log, String key) {
        Optional<byte[]> v = log.get(key);
        if (v.isEmpty()) {
            return new HttpError(404, "not_found", null).definite(false).reply();
        }
        return Reply.of(200, "application/octet-stream", v.get());
    }

    /**
     * Proposes a command and answers from its commit: 200 (or what {@code onCommit} makes of the result) when
     * committed, a definite refusal when the replica says it was not applied, 503 {@code outcome_unknown}
     * otherwise — including when the commit does not come within the request timeout.
     */
    private CompletableFuture<Reply> propose(
            Request req, KvService log, KvCommand command, Function<Committed, Reply> onCommit) {
        long start = System.nanoTime();
        String partition = log.partitionId();
        return log.propose(command.encode())
                .copy()
                .orTimeout(requestTimeoutMs, TimeUnit.MILLISECONDS)
                .handle((c, failure) -> {
                    if (failure == null) {
                        listener.proposalEnded(partition, "committed", System.nanoTime() - start);
                        return onCommit.apply(c);
                    }
                    Throwable cause = unwrap(failure);
                    if (cause instanceof ReplicationException r && r.definitelyNotApplied()) {
                        if (cause instanceof ReplicaFailedException) {
                            // Stopped before it accepted the write. One it had accepted fails with a
                            // ReplicaFailedException that is not definite: outcome_unknown below.
                            listener.proposalEnded(partition, "replica_failed", System.nanoTime() - start);
                            return replicaFailed(cause.getCause()).reply();
                        }
                        if (cause instanceof ReplicationException.OverloadedException) {
                            listener.proposalEnded(partition, "overloaded", System.nanoTime() - start);
                            return new HttpError(503, "overloaded", "too many pending writes")
                                    .definite(true)
                                    .header("Retry-After", "1")
                                    .reply();
                        }
                        listener.proposalEnded(partition, "not_leader", System.nanoTime() - start);
                        return notLeader(req, log).reply();
                    }
                    listener.proposalEnded(partition, "unknown", System.nanoTime() - start);
                    if (cause instanceof TimeoutException) {
                        return new HttpError(503, "outcome_unknown", "not committed within " + requestTimeoutMs + " ms")
                                .reply();
                    }
                    return new HttpError(503, "outcome_unknown", String.valueOf(cause)).reply();
                });
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Throws a redirect or refusal unless this replica leads the key's partition and serves its epoch. */
    private void ensureLeader(Request req, KvService log) {
        KvService.Status status = log.status();
        ensureNotFailed(status);
        Replica.Status s = status.replica();
        if (s.role() == Role.LEADER && s.commitOffset() > 0) {
            return;
        }
        throw notLeader(req, log);
    }

    /** Throws 503 {@code replica_failed} (definite) if this replica of the key's partition stopped after a failure. */
    private void ensureNotFailed(KvService log) {
        ensureNotFailed(log.status());
    }

    private static void ensureNotFailed(KvService.Status status) {
        Optional<Throwable> failure = status.failure();
        if (failure.isPresent()) {
            throw replicaFailed(failure.get());
        }
    }

    /**
     * 503 {@code replica_failed}, definite: this replica stopped after a failure and did not take the request. No
     * {@code Retry-After}: it stays failed until it is restarted.
     */
    private static HttpError replicaFailed(Throwable why) {
        return new HttpError(
                        503,
                        "replica_failed",
                        "this replica stopped after a failure and serves nothing until it is restarted: " + why)
                .definite(true);
    }

    /**
     * A redirect to the known leader of the key's partition, or 503 {@code no_leader}; both definite. With several
     * partitions the body names the partition too ({@code "partition"}).
     */
    private HttpError notLeader(Request req, KvService log) {
        listener.fenced();
        boolean partitioned = service.partitions().size() > 1;
        Optional<LeaderInfo> leader = log.leader();
        // The endpoint was read from ZooKeeper: only a member's plain http(s) origin is redirected to.
        Optional<String> url = SafeUrls.leaderOrigin(leader, log.status());
        if (leader.isPresent() && !leader.get().id().equals(log.status().id()) && url.isPresent()) {
            ObjectNode body = json.createObjectNode()
                    .put("error", "not_leader")
                    .put("leader", leader.get().id())
                    .put("leaderUrl", url.get());
            if (partitioned) {
                body.put("partition", log.partitionId());
            }
            return new HttpError(307, body).header("Location", url.get() + req.rawTarget());
        }
        HttpError none = new HttpError(503, "no_leader", partitioned ? "partition " + log.partitionId() : null);
        return none.definite(true).header("Retry-After", "1");
    }

    // ---- JSON ----

    private static ObjectNode position(Committed c) {
        return json.createObjectNode().put("epoch", c.epoch()).put("offset", c.offset());
    }
}
