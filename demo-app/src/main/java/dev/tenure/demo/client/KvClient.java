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

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;

/**
 * Client of the demo key-value service's HTTP API. Thread-safe: one instance (and its one {@link HttpClient})
 * may serve any number of threads.
 *
 * <p>No method throws for a failed request; each returns an {@link Outcome} whose {@link Outcome.Kind} says
 * whether the request was committed, certainly not applied, or unknown. A request that may have been applied
 * is never reported as definitely not applied. Methods throw only for bad arguments
 * ({@link IllegalArgumentException}, {@link NullPointerException}), before anything is sent.
 *
 * <p><b>Redirects.</b> A follower answers a write or a linearizable read with {@code 307} and a
 * {@code Location} on the leader. The client follows it itself, with the same method and body, for at most
 * {@link #MAX_REDIRECTS} hops; the {@code Location} may be absolute or relative. ({@link HttpClient}'s own
 * redirect handling is off: it may change the method or drop the body.) When the redirect cannot be followed
 * (too many hops, no usable {@code Location}) the outcome is {@link Outcome.Kind#DEFINITELY_NOT_APPLIED}: every
 * server on the way answered {@code 307}, which applies nothing.
 *
 * <p><b>Retries.</b> Each call has a retry budget of {@link #RETRY_BUDGET}, measured from its start; a retry
 * starts over at the base URL.
 *
 * <ul>
 *   <li>{@code 503} with {@code "applied":false} and a {@code Retry-After} of N seconds (no leader right now):
 *       retried, for reads and writes alike, after min(N s, {@link #MAX_RETRY_WAIT}) (at least 50 ms), while
 *       the wait fits in the budget; then reported as {@link Outcome.Kind#DEFINITELY_NOT_APPLIED}. Without a
 *       {@code Retry-After} it is reported at once.
 *   <li>Could not connect (connection refused), for reads ({@code get}, {@code status}) only: retried up to
 *       5 attempts in all, 200 ms apart, within the budget. For a write it is reported at once as
 *       {@link Outcome.Kind#DEFINITELY_NOT_APPLIED}.
 *   <li>Nothing else. In particular a write that timed out, was reset or got a {@code 5xx} is never retried:
 *       it may have been applied, and a retry could apply it twice.
 * </ul>
 *
 * <p>Each HTTP exchange (each hop, each retry) has its own timeout, so a call can take longer than one timeout.
 * If the calling thread is interrupted during an exchange the outcome is {@link Outcome.Kind#UNKNOWN} and the
 * interrupt flag is set again; interrupted while waiting to retry, it returns the last (definite) outcome.
 */
public final class KvClient {
    /** The per-request timeout when none is given. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    /** Keys are 1 to this many bytes of UTF-8. */
    public static final int MAX_KEY_BYTES = 1024;
    /** Values are at most this many bytes (1 MiB). */
    public static final int MAX_VALUE_BYTES = 1 << 20;
    /** The most {@code 307} redirects one attempt follows. */
    public static final int MAX_REDIRECTS = 5;
    /** The time a call may spend on retries, counted from its start. */
    public static final Duration RETRY_BUDGET = Duration.ofSeconds(5);
    /** The longest single wait before a retry, whatever {@code Retry-After} says. */
    public static final Duration MAX_RETRY_WAIT = Duration.ofSeconds(1);

    static final Duration MIN_RETRY_WAIT = Duration.ofMillis(50);
    static final int MAX_READ_CONNECT_ATTEMPTS = 5;
    static final Duration READ_CONNECT_RETRY_WAIT = Duration.ofMillis(200);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ERROR_SNIPPET = 200;

    private enum Op {
        PUT("PUT", false),
        GET("GET", true),
        DELETE("DELETE", false),
        CAS("POST", false),
        STATUS("GET", true),
        SNAPSHOT("POST", false),
        MEMBERS_SHOW("GET", true),
        MEMBERS_CHANGE("POST", false);

        final String method;
        final boolean read;

        Op(String method, boolean read) {
            this.method = method;
            this.read = read;
        }
    }

    /** One attempt's result; {@code retryAfter} is set only for {@code 503} with {@code "applied":false}. */
    private record Attempt(Outcome outcome, Duration retryAfter, boolean connectRefused) {
        static Attempt of(Outcome outcome) {
            return new Attempt(outcome, null, false);
        }
    }

    private final URI baseUrl;
    private final String base;
    private final Duration timeout;
    private final Sleeper sleeper;
    private final LongSupplier nanoTime;
    private final HttpClient http;
    /** Sent as {@code Authorization: Bearer} with every write and admin request, when set. */
    private volatile String bearerToken;

    /** A client of the replica at {@code baseUrl} (for example {@code http://127.0.0.1:8081}), 5 s timeout. */
    public KvClient(URI baseUrl) {
        this(baseUrl, DEFAULT_TIMEOUT);
    }

    /**
     * A client of the replica at {@code baseUrl}.
     *
     * @param baseUrl {@code http} or {@code https} URL with a host and no query; a path is kept as a prefix
     * @param requestTimeout how long each HTTP exchange may take, from sending to the end of the response
     */
    public KvClient(URI baseUrl, Duration requestTimeout) {
        this(baseUrl, requestTimeout, Sleeper.SYSTEM, System::nanoTime);
    }

    KvClient(URI baseUrl, Duration requestTimeout, Sleeper sleeper, LongSupplier nanoTime) {
        this(baseUrl, requestTimeout, sleeper, nanoTime, null);
    }

    private KvClient(
            URI baseUrl, Duration requestTimeout, Sleeper sleeper, LongSupplier nanoTime, SSLContext sslContext) {
        this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
        this.base = validateBase(baseUrl);
        this.timeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive, got " + requestTimeout);
        }
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        HttpClient.Builder b = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                // HTTP/1.1 only: no h2c upgrade dance. No proxy: a ConnectException then always means the
                // replica itself refused the connection (see classifyFailure).
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(HttpClient.Builder.NO_PROXY);
        if (sslContext != null) {
            b.sslContext(sslContext);
        }
        this.http = b.build();
    }

    /**
     * The same client (URL, timeout, token) speaking HTTPS with {@code sslContext}: the CAs it trusts and, for
     * nodes that authorize writes by client certificate, its own certificate.
     */
    public KvClient withTls(SSLContext sslContext) {
        KvClient c =
                new KvClient(baseUrl, timeout, sleeper, nanoTime, Objects.requireNonNull(sslContext, "sslContext"));
        c.bearerToken = bearerToken;
        return c;
    }

    public URI baseUrl() {
        return baseUrl;
    }

    public Duration requestTimeout() {
        return timeout;
    }

    /** {@code PUT /kv/{key}}: stores {@code value}. OK carries the commit epoch and offset. */
    public Outcome put(String key, byte[] value) {
        String path = kvPath(key);
        Objects.requireNonNull(value, "value");
        checkValueSize(value.length);
        return execute(Op.PUT, path, value.clone(), "application/octet-stream");
    }

    /**
     * {@code GET /kv/{key}}: OK carries the raw value; {@link Outcome.Kind#NOT_FOUND} when the key has none.
     *
     * @param local if true, {@code ?consistency=local}: any replica answers, possibly stale; if false the read
     *     is linearizable and served by the leader
     */
    public Outcome get(String key, boolean local) {
        return execute(Op.GET, kvPath(key) + (local ? "?consistency=local" : ""), null, null);
    }

    /** {@code DELETE /kv/{key}}. OK carries the commit epoch and offset. */
    public Outcome delete(String key) {
        return execute(Op.DELETE, kvPath(key), null, null);
    }

    /**
     * {@code POST /kv/{key}/cas}: replaces the value with {@code update} if it is {@code expectOrNull}, or if
     * the key is absent when {@code expectOrNull} is null. OK carries the commit epoch and offset;
     * {@link Outcome.Kind#CAS_FAILED} carries the {@link Outcome#current() current} value.
     */
    public Outcome cas(String key, String expectOrNull, String update) {
        String path = kvPath(key) + "/cas";
        Objects.requireNonNull(update, "update");
        checkValueSize(Keys.utf8(update).length);
        if (expectOrNull != null) {
            checkValueSize(Keys.utf8(expectOrNull).length);
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("expect", expectOrNull);
        body.put("update", update);
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode the cas request: " + e.getMessage(), e);
        }
        return execute(Op.CAS, path, bytes, "application/json");
    }

    /** {@code GET /status}: OK carries the status JSON document as the {@link Outcome#value() value}. */
    public Outcome status() {
        return execute(Op.STATUS, "/status", null, null);
    }

    /**
     * {@code POST /admin/snapshot}: the replica at the base URL (not the leader: each replica snapshots its own state)
     * takes a snapshot now. OK once it is durable, carrying the answer's JSON document ({@code {"offset":O,"epoch":E}})
     * as the {@link Outcome#value() value} and its {@link Outcome#offset() offset} and {@link Outcome#epoch() epoch};
     * {@link Outcome.Kind#DEFINITELY_NOT_APPLIED} when no snapshot was taken (an answer with {@code "applied":false}:
     * not supported, failed, replica failed; or no connection); {@link Outcome.Kind#UNKNOWN} otherwise (a timeout:
     * the snapshot may still complete). Never retried.
     */
    public Outcome snapshot() {
        return execute(Op.SNAPSHOT, "/admin/snapshot", null, null);
    }

    /** {@code GET /admin/members}: OK carries the configuration's JSON document as the {@link Outcome#value() value}. */
    public Outcome members() {
        return execute(Op.MEMBERS_SHOW, "/admin/members", null, null);
    }

    /**
     * {@code POST /admin/members/ACTION?QUERY} ({@code action} one of add, remove, replace, cancel; {@code query} the
     * already encoded parameters, or empty): follows a follower's redirect to the leader; OK carries the
     * configuration's JSON document once the change is active; {@link Outcome.Kind#DEFINITELY_NOT_APPLIED} for an
     * answer with {@code "applied":false} (refused, stalled, no leader) or no connection; {@link Outcome.Kind#UNKNOWN}
     * otherwise (a timeout: the change may still complete). Never retried.
     */
    public Outcome changeMembers(String action, String query) {
        return execute(
                Op.MEMBERS_CHANGE, "/admin/members/" + action + (query.isEmpty() ? "" : "?" + query), null, null);
    }

    /**
     * {@code POST /admin/reassign?partition=ID&replicas=A,B,C}: asks the controller (a node that is not the controller
     * redirects to it) to move the partition to {@code replicas}, preferred leader first; OK carries the partition's
     * state as JSON once the controller took the request; {@link Outcome.Kind#DEFINITELY_NOT_APPLIED} for a refusal
     * (bad input, no controller); never retried (docs/demo-app.md, "Reassignment").
     */
    public Outcome reassign(String partition, List<String> replicas) {
        return execute(
                Op.MEMBERS_CHANGE,
                "/admin/reassign?partition=" + java.net.URLEncoder.encode(partition, StandardCharsets.UTF_8)
                        + "&replicas=" + java.net.URLEncoder.encode(String.join(",", replicas), StandardCharsets.UTF_8),
                null,
                null);
    }

    /** {@code GET /admin/reassign?partition=ID}: the partition's state as the controller holds it (JSON). */
    public Outcome reassignment(String partition) {
        return execute(
                Op.MEMBERS_SHOW,
                "/admin/reassign?partition=" + java.net.URLEncoder.encode(partition, StandardCharsets.UTF_8),
                null,
                null);
    }

    private static String kvPath(String key) {
        return "/kv/" + Keys.encode(Objects.requireNonNull(key, "key"));
    }

    private static void checkValueSize(int bytes) {
        if (bytes > MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("a value must be at most " + MAX_VALUE_BYTES + " bytes, got " + bytes);
        }
    }

    private static String validateBase(URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("the URL must be http:// or https://, got " + url);
        }
        if (url.getHost() == null) {
            throw new IllegalArgumentException("the URL has no host: " + url);
        }
        if (url.getRawQuery() != null || url.getRawFragment() != null) {
            throw new IllegalArgumentException("the URL must not have a query or fragment: " + url);
        }
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return scheme + "://" + url.getRawAuthority() + path;
    }

    private Outcome execute(Op op, String pathAndQuery, byte[] body, String contentType) {
        URI first = URI.create(base + pathAndQuery);
        long deadline = nanoTime.getAsLong() + RETRY_BUDGET.toNanos();
        int connectAttempts = 0;
        while (true) {
            Attempt attempt = sendFollowingRedirects(op, first, body, contentType);
            Duration wait = null;
            if (attempt.retryAfter() != null) {
                wait = clamp(attempt.retryAfter());
            } else if (attempt.connectRefused() && op.read && ++connectAttempts < MAX_READ_CONNECT_ATTEMPTS) {
                wait = READ_CONNECT_RETRY_WAIT;
            }
            if (wait == null || nanoTime.getAsLong() + wait.toNanos() - deadline > 0) {
                return attempt.outcome();
            }
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return attempt.outcome();
            }
        }
    }

    private static Duration clamp(Duration retryAfter) {
        if (retryAfter.compareTo(MAX_RETRY_WAIT) > 0) {
            return MAX_RETRY_WAIT;
        }
        return retryAfter.compareTo(MIN_RETRY_WAIT) < 0 ? MIN_RETRY_WAIT : retryAfter;
    }

    private Attempt sendFollowingRedirects(Op op, URI first, byte[] body, String contentType) {
        URI target = first;
        for (int redirects = 0; ; redirects++) {
            HttpResponse<byte[]> response;
            try {
                response = http.send(request(op, target, body, contentType), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                Outcome outcome = classifyFailure(e, target);
                return new Attempt(outcome, null, e instanceof ConnectException);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Attempt.of(Outcome.unknown(-1, "interrupted while waiting for the answer", target));
            } catch (RuntimeException e) {
                // Not expected (arguments were validated up front), but once send() was called nothing proves
                // the request did not go out.
                return Attempt.of(Outcome.unknown(-1, "client error: " + message(e), target));
            }
            if (response.statusCode() != 307) {
                return classify(op, target, response);
            }
            // A 307 applies nothing: whatever goes wrong from here on, the outcome stays definite.
            String why = describe(307, parseJson(response.body()), response.body());
            if (redirects == MAX_REDIRECTS) {
                return Attempt.of(Outcome.notApplied(
                        307, "too many redirects (" + MAX_REDIRECTS + " followed); last answer: " + why, target));
            }
            Optional<String> location = response.headers().firstValue("Location");
            if (location.isEmpty()) {
                return Attempt.of(Outcome.notApplied(307, why + "; the redirect has no Location", target));
            }
            URI next = resolve(target, location.get());
            if (next == null) {
                return Attempt.of(Outcome.notApplied(307, why + "; unusable Location: " + location.get(), target));
            }
            target = next;
        }
    }

    /**
     * Sends {@code token} as {@code Authorization: Bearer TOKEN} with every write and admin request from now on (a
     * node started with {@code --http-token-file} refuses them without it); reads never carry it. Returns this.
     */
    public KvClient bearerToken(String token) {
        if (token != null && token.isBlank()) {
            throw new IllegalArgumentException("the token is empty");
        }
        this.bearerToken = token == null ? null : token.trim();
        return this;
    }

    private HttpRequest request(Op op, URI target, byte[] body, String contentType) {
        HttpRequest.Builder b = HttpRequest.newBuilder(target)
                .timeout(timeout)
                .method(
                        op.method,
                        body == null
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType == null && op.method.equals("POST")) {
            contentType = "application/json"; // the node takes no POST of another type (cross-site requests)
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        String token = bearerToken;
        if (token != null && !op.read) {
            b.header("Authorization", "Bearer " + token);
        }
        return b.build();
    }

    /** {@code location} resolved against the URL that answered, or null if it is not an http(s) URL. */
    static URI resolve(URI current, String location) {
        try {
            URI next = current.resolve(new URI(location.trim()));
            String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || next.getHost() == null) {
                return null;
            }
            return next;
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * A request that got no HTTP response. Only a refused connection is definite.
     *
     * <p>{@link HttpClient} raises {@link ConnectException} only while establishing the TCP connection (its
     * connect path wraps every failure there, including unresolved hosts, in one), and an HTTP/1.1 request is
     * written only once that connection exists. With no proxy configured, a ConnectException therefore means no
     * byte of this request reached any server, so nothing can have been applied. The JDK relies on the same fact
     * to retry ConnectException for every method, POST included ({@code MultiExchange.retryOnFailure},
     * {@code jdk.httpclient.disableRetryConnect}), while it retries a dropped pooled connection only for GET and
     * HEAD. Every other failure (timeout, reset, end of stream, TLS) may come after the request was sent: unknown.
     * A connect that hangs until the request timeout is reported as a timeout, hence unknown, too.
     */
    static Outcome classifyFailure(IOException e, URI target) {
        if (e instanceof ConnectException) {
            // The JDK's own message is often lost or replaced by an internal ClosedChannelException.
            return Outcome.notApplied(
                    -1,
                    "could not connect (nothing was sent)" + (e.getMessage() == null ? "" : ": " + e.getMessage()),
                    target);
        }
        if (e instanceof HttpTimeoutException) {
            return Outcome.unknown(-1, "no answer in time: " + message(e), target);
        }
        return Outcome.unknown(-1, "I/O error: " + message(e), target);
    }

    private static String message(Throwable e) {
        Throwable t = e;
        while (t.getMessage() == null && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null
                ? t.getClass().getSimpleName()
                : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** A response other than {@code 307}, classified by the contract's outcome rules. */
    private static Attempt classify(Op op, URI url, HttpResponse<byte[]> response) {
        int status = response.statusCode();
        byte[] body = response.body();
        if (status == 200) {
            if (op.read) {
                return Attempt.of(Outcome.read(status, body, url));
            }
            if (op == Op.MEMBERS_CHANGE) {
                return Attempt.of(Outcome.read(status, body, url));
            }
            JsonNode json = parseJson(body);
            if (op == Op.SNAPSHOT) {
                return Attempt.of(
                        Outcome.snapshot(status, longField(json, "epoch"), longField(json, "offset"), body, url));
            }
            return Attempt.of(Outcome.committed(status, longField(json, "epoch"), longField(json, "offset"), url));
        }
        JsonNode json = parseJson(body);
        String code = textField(json, "error");
        String why = describe(status, json, body);
        if (op == Op.MEMBERS_CHANGE && textField(json, "detail") != null) {
            why = why + ": " + textField(json, "detail"); // why a change was refused or stalled matters here
        }
        if (op == Op.SNAPSHOT || op == Op.MEMBERS_CHANGE) {
            // Not a write: "applied":false says nothing was done, whatever the status; nothing is retried.
            return Attempt.of(
                    appliedFalse(json) ? Outcome.notApplied(status, why, url) : Outcome.unknown(status, why, url));
        }
        switch (status) {
            case 404:
                // Only the service's own not_found is "no such key"; a bare 404 (wrong URL prefix, say) is not.
                return Attempt.of(
                        op == Op.GET && "not_found".equals(code)
                                ? Outcome.notFound(status, why, url)
                                : Outcome.notApplied(status, why, url));
            case 409:
                if (op == Op.CAS && "cas_failed".equals(code)) {
                    String current = textField(json, "current");
                    return Attempt.of(Outcome.casFailed(status, current, currentBytes(json, current), why, url));
                }
                return Attempt.of(Outcome.notApplied(status, why, url));
            case 400:
            case 405:
            case 413:
                return Attempt.of(Outcome.notApplied(status, why, url));
            case 503:
                if (appliedFalse(json)) {
                    return new Attempt(Outcome.notApplied(status, why, url), retryAfter(response.headers()), false);
                }
                return Attempt.of(Outcome.unknown(status, why, url));
            default:
                return Attempt.of(Outcome.unknown(status, why, url));
        }
    }

    /** Whether the answer says {@code "applied":false}: the request was definitely not applied. */
    private static boolean appliedFalse(JsonNode json) {
        JsonNode applied = json == null ? null : json.get("applied");
        return applied != null && applied.isBoolean() && !applied.booleanValue();
    }

    /** {@code Retry-After} in delta-seconds; null if absent or in another form (an HTTP date). */
    static Duration retryAfter(HttpHeaders headers) {
        Optional<String> value = headers.firstValue("Retry-After");
        if (value.isEmpty()) {
            return null;
        }
        String s = value.get().trim();
        if (!s.matches("[0-9]{1,9}")) {
            return null;
        }
        return Duration.ofSeconds(Long.parseLong(s));
    }

    private static String describe(int status, JsonNode json, byte[] body) {
        String code = textField(json, "error");
        if (code != null) {
            if ("not_leader".equals(code) && json.hasNonNull("leader")) {
                String leaderUrl = textField(json, "leaderUrl");
                return code + " (leader " + json.get("leader").asText() + (leaderUrl == null ? "" : " at " + leaderUrl)
                        + ")";
            }
            return code;
        }
        String text = new String(body, 0, Math.min(body.length, MAX_ERROR_SNIPPET), StandardCharsets.UTF_8)
                .replaceAll("\\s+", " ")
                .trim();
        return text.isEmpty() ? "HTTP " + status : "HTTP " + status + ": " + text;
    }

    private static JsonNode parseJson(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(body);
            return node != null && node.isObject() ? node : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String textField(JsonNode json, String name) {
        JsonNode n = json == null ? null : json.get(name);
        return n == null || n.isNull() ? null : n.asText();
    }

    /**
     * The exact bytes of a {@code cas_failed} answer's current value: {@code "currentBase64"}, or the UTF-8 of
     * {@code "current"} from a server that sends no (valid) base64; null when the key was absent.
     */
    private static byte[] currentBytes(JsonNode json, String current) {
        String base64 = textField(json, "currentBase64");
        if (base64 != null) {
            try {
                return Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                // fall back to the text
            }
        }
        return current == null ? null : current.getBytes(StandardCharsets.UTF_8);
    }

    private static Long longField(JsonNode json, String name) {
        JsonNode n = json == null ? null : json.get(name);
        return n != null && n.canConvertToLong() && n.isIntegralNumber() ? n.longValue() : null;
    }
}
