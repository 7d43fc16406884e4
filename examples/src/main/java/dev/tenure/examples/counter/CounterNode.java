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
package dev.tenure.examples.counter;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.PayloadCodec;
import dev.tenure.replicator.ReplicationException;
import dev.tenure.replicator.TypedProposer;
import dev.tenure.replicator.TypedStateMachine;
import dev.tenure.replicator.zookeeper.LeaderClient;
import dev.tenure.replicator.zookeeper.ZooKeeperReplica;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;

/**
 * A replicated counter: a user's own state machine on the replicator, with a small HTTP API on 127.0.0.1 that any
 * replica answers. {@code POST /add} with a number as its body adds it and answers the new total; a follower forwards
 * the request to the leader with {@link LeaderClient}, which finds the leader's HTTP address through leader discovery
 * (each replica registers it as its election endpoint) and retries at the next leader when a refusal is definite.
 * {@code GET /total} answers this replica's applied total (possibly stale on a follower).
 *
 * <p>Answers: 200 with the new total; 503 when the addition was definitely not applied (no leader in time, or every
 * leader tried refused it) — the client may retry; 500 when it may have been applied (the leader failed before the
 * addition committed, or a forwarded request got no answer) — the client must not assume either way.
 *
 * <p>Thread-safe. Start once, close once; close stops the HTTP server and the replica.
 */
public final class CounterNode implements Closeable {
    /** Marks a request a replica forwarded, so that the receiver proposes it itself and never forwards it again. */
    static final String FORWARDED = "X-Counter-Forwarded";

    private final ZooKeeperReplica.Builder replicaBuilder;
    private final String id;
    private final AtomicLong total = new AtomicLong(); // written by the apply thread only
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final ExecutorService handlers = Executors.newFixedThreadPool(4);
    private HttpServer server;
    private ZooKeeperReplica replica;
    private TypedProposer<Long, Long> proposer;
    private LeaderClient<Long, Long> toLeader;

    /**
     * A counter replica {@code id} of the replica set {@code members}, kept under {@code clusterPath} in ZooKeeper
     * and in {@code dataDir} on disk. (Plaintext replication on loopback: see {@code docs/security.md} for TLS.)
     */
    public CounterNode(CuratorFramework client, String clusterPath, String id, List<String> members, Path dataDir) {
        this.id = id;
        // snippet: state-machine
        TypedStateMachine<Long, Long> counter = (epoch, offset, delta) -> total.addAndGet(delta);
        this.replicaBuilder = ZooKeeperReplica.builder(client, clusterPath)
                .id(id)
                .members(members)
                .dataDir(dataDir)
                .stateMachine(TypedStateMachine.of(counter, PayloadCodec.int64()));
        // end snippet
    }

    /** Starts the HTTP server, then the replica with the server's address as its endpoint. */
    public synchronized void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(handlers);
        server.createContext("/add", this::add);
        server.createContext("/total", this::total);
        server.start();
        // snippet: forwarding
        replica = replicaBuilder.endpoint(address()).build(); // discovery shows the HTTP address
        replica.start();
        proposer = TypedProposer.of(replica.replica(), PayloadCodec.int64(), Long.class);
        toLeader = LeaderClient.<Long, Long>builder(
                        replica.discovery(),
                        (leader, delta) -> leader.id().equals(id)
                                ? proposer.propose(delta).thenApply(TypedProposer.Result::result)
                                : forward(leader, delta))
                .timeout(Duration.ofSeconds(20))
                .build();
        // end snippet
    }

    /** The HTTP API's address, {@code host:port}. */
    public String address() {
        InetSocketAddress a = server.getAddress();
        return a.getHostString() + ":" + a.getPort();
    }

    /** This replica's applied total. */
    public long total() {
        return total.get();
    }

    /** The replica underneath (for status and tests). */
    public ZooKeeperReplica replica() {
        return replica;
    }

    private void add(HttpExchange exchange) throws IOException {
        long delta;
        try (InputStream in = exchange.getRequestBody()) {
            delta = Long.parseLong(new String(in.readNBytes(32), StandardCharsets.US_ASCII).trim());
        } catch (NumberFormatException e) {
            respond(exchange, 400, "the body must be a number");
            return;
        }
        if (!"POST".equals(exchange.getRequestMethod())) {
            respond(exchange, 405, "POST a number");
            return;
        }
        CompletionStage<Long> sum = exchange.getRequestHeaders().containsKey(FORWARDED)
                ? proposer.propose(delta).thenApply(TypedProposer.Result::result) // forwarded to us: never again
                : toLeader.propose(delta);
        sum.whenComplete((newTotal, failure) -> {
            try {
                if (failure == null) {
                    respond(exchange, 200, Long.toString(newTotal));
                } else if (LeaderClient.isDefinitelyNotApplied(failure)) {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause()
                            : failure;
                    ReplicationException r = cause instanceof ReplicationException e ? e : null;
                    exchange.getResponseHeaders().set("X-Leader-Id", r == null ? "" : r.leaderHint());
                    exchange.getResponseHeaders().set("X-Leader-Endpoint", r == null ? "" : r.leaderEndpoint());
                    respond(exchange, 503, "not applied: " + failure);
                } else {
                    respond(exchange, 500, "outcome unknown: " + failure);
                }
            } catch (IOException e) {
                exchange.close(); // the client went away; nothing to tell it
            }
        });
    }

    private void total(HttpExchange exchange) throws IOException {
        respond(exchange, 200, Long.toString(total.get()));
    }

    /**
     * Sends {@code delta} to the leader's HTTP API: its 200 is the new total; its 503 (a definite refusal) becomes
     * a {@link ReplicationException.NotLeaderException} naming whom it names, so that the client retries; anything
     * else, including a request that got no answer, may have been applied.
     */
    private CompletableFuture<Long> forward(LeaderInfo leader, long delta) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + leader.endpoint() + "/add"))
                .header(FORWARDED, id)
                .timeout(Duration.ofSeconds(15))
                .POST(HttpRequest.BodyPublishers.ofString(Long.toString(delta)))
                .build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenCompose(r -> {
            if (r.statusCode() == 200) {
                return CompletableFuture.completedFuture(Long.parseLong(r.body().trim()));
            }
            if (r.statusCode() == 503) {
                return CompletableFuture.failedFuture(new ReplicationException.NotLeaderException(
                        r.headers().firstValue("X-Leader-Id").orElse(""),
                        r.headers().firstValue("X-Leader-Endpoint").orElse("")));
            }
            return CompletableFuture.failedFuture(
                    new IOException(leader + " answered " + r.statusCode() + ": " + r.body()));
        });
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
        }
        if (replica != null) {
            replica.close();
        }
        handlers.shutdownNow();
    }
}
