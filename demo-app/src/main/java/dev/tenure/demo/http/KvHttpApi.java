package dev.tenure.demo.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tenure.demo.kv.KvCommand;
import dev.tenure.demo.kv.KvStateMachine;
import dev.tenure.demo.node.KvNode;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicationException;
import dev.tenure.replicator.core.Role;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key-value HTTP API of one replica (see {@code docs/demo-app.md}). Outcome semantics: 200 means
 * committed; 307, 400, 404, 405, 409, 413 and 503 with {@code "applied":false} mean definitely not applied;
 * anything else (timeouts, 500, 503 without {@code "applied":false}) means unknown. A request that may
 * have been applied is never answered as definitely not applied.
 */
public final class KvHttpApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KvHttpApi.class);
    private static final ObjectMapper json = new ObjectMapper();

    /** Largest value accepted. */
    public static final int MAX_VALUE_BYTES = 1 << 20;
    /** Largest key accepted, in UTF-8 bytes. */
    public static final int MAX_KEY_BYTES = 1024;

    private static final long REQUEST_TIMEOUT_MS = 10_000;

    private final KvNode node;
    private final HttpServer server;
    private final ExecutorService executor;

    private KvHttpApi(KvNode node, HttpServer server) {
        this.node = node;
        this.server = server;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(256, r -> {
            Thread t = new Thread(r, "kv-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /** Binds the server (not yet serving). */
    public static KvHttpApi bind(KvNode node, InetSocketAddress address) throws IOException {
        // The JDK server writes the response headers and body separately; without TCP_NODELAY, Nagle's
        // algorithm holds the body until the client's delayed ACK (about 40 ms per request on Linux; issue 6).
        // Read once, when the first server is created; an explicit -D setting wins.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        return new KvHttpApi(node, HttpServer.create(address, 1024));
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    public void start() {
        server.start();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ---- routing ----

    private void handle(HttpExchange ex) throws IOException {
        try {
            dispatch(ex);
        } finally {
            ex.close();
        }
    }

    private void dispatch(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getRawPath();
            String method = ex.getRequestMethod();
            if (path.equals("/status")) {
                requireMethod(ex, "GET");
                sendJson(ex, 200, statusJson());
            } else if (path.equals("/metrics")) {
                requireMethod(ex, "GET");
                send(
                        ex,
                        200,
                        "text/plain; version=0.0.4; charset=utf-8",
                        node.metrics().scrape().getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/")) {
                requireMethod(ex, "GET");
                send(ex, 200, "text/html; charset=utf-8", StatusPage.html());
            } else if (path.startsWith("/kv/")) {
                String rest = path.substring("/kv/".length());
                boolean cas = false;
                if (rest.endsWith("/cas")) {
                    rest = rest.substring(0, rest.length() - "/cas".length());
                    cas = true;
                }
                String key = decodeKey(rest);
                if (cas) {
                    requireMethod(ex, "POST");
                    cas(ex, key);
                } else {
                    switch (method) {
                        case "PUT" -> put(ex, key);
                        case "GET" -> get(ex, key);
                        case "DELETE" -> delete(ex, key);
                        default ->
                            throw new HttpError(405, "method_not_allowed", "use GET, PUT or DELETE on /kv/{key}")
                                    .allow("GET, PUT, DELETE");
                    }
                }
            } else {
                throw new HttpError(404, "no_such_path", path);
            }
        } catch (HttpError e) {
            drain(ex);
            if (e.allow != null) {
                ex.getResponseHeaders().set("Allow", e.allow);
            }
            if (e.body != null) {
                sendJson(ex, e.status, e.body);
                return;
            }
            ObjectNode body = json.createObjectNode().put("error", e.code);
            if (e.detail != null) {
                body.put("detail", e.detail);
            }
            if (e.definite) {
                body.put("applied", false);
            }
            sendJson(ex, e.status, body);
        } catch (RuntimeException e) {
            log.error("request {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
            sendJson(ex, 500, json.createObjectNode().put("error", "internal").put("detail", String.valueOf(e)));
        }
    }

    /** Reads what is left of the request (bounded), so the answer reaches a client still sending. */
    private static void drain(HttpExchange ex) {
        try (InputStream in = ex.getRequestBody()) {
            byte[] buf = new byte[64 * 1024];
            long left = 16L << 20;
            int n;
            while (left > 0 && (n = in.read(buf)) > 0) {
                left -= n;
            }
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private static void requireMethod(HttpExchange ex, String method) {
        if (!ex.getRequestMethod().equals(method)) {
            throw new HttpError(405, "method_not_allowed", "use " + method).allow(method);
        }
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

    private void put(HttpExchange ex, String key) throws IOException {
        byte[] value = readBody(ex, MAX_VALUE_BYTES, "value_too_large");
        ensureLeader(ex);
        Committed c = propose(ex, KvCommand.put(key, value));
        sendJson(ex, 200, position(c));
    }

    private void delete(HttpExchange ex, String key) throws IOException {
        readBody(ex, 0, "body_not_allowed");
        ensureLeader(ex);
        Committed c = propose(ex, KvCommand.delete(key));
        sendJson(ex, 200, position(c));
    }

    private void cas(HttpExchange ex, String key) throws IOException {
        byte[] body = readBody(ex, 2 * MAX_VALUE_BYTES + 1024, "value_too_large");
        JsonNode req;
        try {
            req = json.readTree(body);
        } catch (IOException e) {
            throw new HttpError(400, "malformed_json", e.getMessage());
        }
        if (req == null || !req.isObject()) {
            throw new HttpError(400, "malformed_json", "expected an object");
        }
        JsonNode expect = req.get("expect");
        JsonNode update = req.get("update");
        if (expect == null || !(expect.isNull() || expect.isTextual())) {
            throw new HttpError(400, "malformed_json", "\"expect\" must be a string or null");
        }
        if (update == null || !update.isTextual()) {
            throw new HttpError(400, "malformed_json", "\"update\" must be a string");
        }
        if (update.asText().getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
            throw new HttpError(413, "value_too_large", "at most " + MAX_VALUE_BYTES + " bytes");
        }
        ensureLeader(ex);
        Committed c = propose(ex, KvCommand.cas(key, expect.isNull() ? null : expect.asText(), update.asText()));
        KvStateMachine.CasResult r = (KvStateMachine.CasResult) c.result();
        if (r.replaced()) {
            sendJson(ex, 200, position(c));
        } else {
            ObjectNode body409 = json.createObjectNode().put("error", "cas_failed");
            if (r.current() == null) {
                body409.putNull("current");
            } else {
                body409.put("current", new String(r.current(), StandardCharsets.UTF_8));
            }
            sendJson(ex, 409, body409);
        }
    }

    private void get(HttpExchange ex, String key) throws IOException {
        String query = ex.getRequestURI().getRawQuery();
        boolean local = query != null && query.contains("consistency=local");
        if (query != null && query.contains("consistency=") && !local && !query.contains("consistency=linearizable")) {
            throw new HttpError(400, "bad_consistency", "consistency is local or linearizable");
        }
        if (!local) {
            ensureLeader(ex);
            try {
                node.replica().readBarrier().get(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof ReplicationException r && r.definitelyNotApplied()) {
                    notLeader(ex);
                }
                throw new HttpError(503, "read_not_confirmed", String.valueOf(e.getCause()));
            } catch (TimeoutException e) {
                throw new HttpError(503, "timeout", "the read could not be confirmed in time");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HttpError(503, "interrupted", null);
            }
        }
        Optional<byte[]> v = node.store().get(key);
        if (v.isEmpty()) {
            throw new HttpError(404, "not_found", null).definite(false);
        }
        send(ex, 200, "application/octet-stream", v.get());
    }

    private Committed propose(HttpExchange ex, KvCommand command) {
        long start = System.nanoTime();
        CompletableFuture<Committed> f = node.replica().propose(command.encode());
        try {
            Committed c = f.get(REQUEST_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            node.commitLatency().record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            node.count("committed");
            return c;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ReplicationException r && r.definitelyNotApplied()) {
                if (cause instanceof ReplicationException.OverloadedException) {
                    node.count("overloaded");
                    ex.getResponseHeaders().set("Retry-After", "1");
                    throw new HttpError(503, "overloaded", "too many pending writes").definite(true);
                }
                node.count("not_leader");
                notLeader(ex);
            }
            node.count("unknown");
            throw new HttpError(503, "outcome_unknown", String.valueOf(cause));
        } catch (TimeoutException e) {
            node.count("unknown");
            throw new HttpError(503, "outcome_unknown", "not committed within " + REQUEST_TIMEOUT_MS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HttpError(503, "outcome_unknown", "interrupted");
        }
    }

    /** Redirects or refuses unless this replica leads and serves its epoch. */
    private void ensureLeader(HttpExchange ex) {
        Replica.Status s = node.status();
        if (s.role() == Role.LEADER && s.commitOffset() > 0) {
            return;
        }
        notLeader(ex);
    }

    private void notLeader(HttpExchange ex) {
        node.countFenced();
        Optional<LeaderInfo> leader = node.leader();
        if (leader.isPresent()
                && !leader.get().id().equals(node.id())
                && !leader.get().endpoint().isEmpty()) {
            String location = leader.get().endpoint()
                    + ex.getRequestURI().getRawPath()
                    + (ex.getRequestURI().getRawQuery() == null
                            ? ""
                            : "?" + ex.getRequestURI().getRawQuery());
            ex.getResponseHeaders().set("Location", location);
            ObjectNode body = json.createObjectNode()
                    .put("error", "not_leader")
                    .put("leader", leader.get().id())
                    .put("leaderUrl", leader.get().endpoint());
            throw new HttpError(307, body);
        }
        ex.getResponseHeaders().set("Retry-After", "1");
        throw new HttpError(503, "no_leader", null).definite(true);
    }

    private static byte[] readBody(HttpExchange ex, int max, String tooLarge) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long n;
            try {
                n = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                throw new HttpError(400, "bad_content_length", length);
            }
            if (n > max) {
                throw new HttpError(413, tooLarge, "at most " + max + " bytes");
            }
        }
        InputStream in = ex.getRequestBody();
        byte[] body = in.readNBytes(max + 1);
        if (body.length > max) {
            throw new HttpError(413, tooLarge, "at most " + max + " bytes");
        }
        return body;
    }

    // ---- JSON ----

    private static ObjectNode position(Committed c) {
        return json.createObjectNode().put("epoch", c.epoch()).put("offset", c.offset());
    }

    private ObjectNode statusJson() {
        Replica.Status s = node.status();
        Optional<LeaderInfo> leader = node.leader();
        ObjectNode o = json.createObjectNode();
        o.put("id", node.id());
        o.put("url", node.url());
        o.put("role", roleName(s));
        if (leader.isPresent()) {
            o.put("leader", leader.get().id());
            o.put("leaderUrl", leader.get().endpoint());
        } else {
            o.putNull("leader");
            o.putNull("leaderUrl");
        }
        o.put("epoch", s.epoch());
        o.put("commitOffset", s.commitOffset());
        o.put("appliedOffset", node.replica().appliedOffset());
        o.put("logEndOffset", s.logEndOffset());
        o.put("keys", node.store().size());
        ArrayNode replicas = o.putArray("replicas");
        for (String id : node.config().replicas()) {
            ObjectNode r = replicas.addObject();
            r.put("id", id);
            String u = node.urls().get(id);
            if (u == null) {
                r.putNull("url");
            } else {
                r.put("url", u);
            }
            if (id.equals(node.id())) {
                r.put("matchOffset", s.logEndOffset());
                r.put("lagMs", 0);
                r.put("connected", true);
                continue;
            }
            Optional<Replica.FollowerStatus> f =
                    s.followers().stream().filter(x -> x.id().equals(id)).findFirst();
            if (f.isPresent() && s.role() == Role.LEADER) {
                r.put("matchOffset", f.get().matchOffset());
                r.put("lagMs", node.lagMillis(id));
                r.put("connected", f.get().lastHeardMillisAgo() >= 0 && f.get().lastHeardMillisAgo() < 1000);
            } else {
                r.putNull("matchOffset");
                r.putNull("lagMs");
                r.put("connected", u != null);
            }
        }
        ArrayNode events = o.putArray("events");
        for (KvNode.Event e : node.events()) {
            events.addObject().put("at", e.at().toString()).put("text", e.text());
        }
        return o;
    }

    private static String roleName(Replica.Status s) {
        return switch (s.role()) {
            case LEADER -> "leader";
            case RECOVERING -> "recovering";
            case FOLLOWER -> s.leader().isEmpty() ? "offline" : "follower";
        };
    }

    private static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json; charset=utf-8", json.writeValueAsBytes(body));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** An HTTP error answer; definite ones carry {@code "applied":false}. */
    static final class HttpError extends RuntimeException {
        final int status;
        final String code;
        final String detail;
        boolean definite;
        String allow;
        JsonNode body;

        HttpError(int status, String code, String detail) {
            super(code, null, false, false);
            this.status = status;
            this.code = code;
            this.detail = detail;
            this.definite = status == 400 || status == 405 || status == 413;
        }

        HttpError(int status, JsonNode body) {
            this(status, body.get("error").asText(), null);
            this.body = body;
        }

        HttpError definite(boolean d) {
            this.definite = d;
            return this;
        }

        HttpError allow(String methods) {
            this.allow = methods;
            return this;
        }
    }
}
