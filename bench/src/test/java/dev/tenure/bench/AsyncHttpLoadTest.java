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
package dev.tenure.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.tenure.testkit.LoopbackPorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The benchmark's HTTP load client against a local server: what counts as success and as failure. */
class AsyncHttpLoadTest {
    private HttpServer server;
    private final AtomicInteger puts = new AtomicInteger();
    private final Set<String> paths = ConcurrentHashMap.newKeySet();
    private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/kv/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            paths.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + body.length);
            clientPorts.add(ex.getRemoteAddress().getPort());
            puts.incrementAndGet();
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.createContext("/refuse/", ex -> {
            byte[] answer = "{\"error\":\"no\"}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(503, answer.length);
            ex.getResponseBody().write(answer);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    void aClosedLoopOfPutsSucceedsOnTwoHundredAnswersWithOneConnectionPerWriter() throws Exception {
        try (AsyncHttpLoad load = new AsyncHttpLoad(base(), 8)) {
            ClosedLoop.Outcome o = ClosedLoop.run(
                    load.puts("/kv/w"), 8, Duration.ZERO, Duration.ofSeconds(2), 10, Duration.ofSeconds(10));
            assertEquals(0, o.errors(), String.valueOf(o.firstError()));
            // Counted from the first request on (no warm-up): a busy machine may take a while to connect.
            assertTrue(o.latencies().getTotalCount() > 0, "no PUT completed within 2 s");
        }
        assertTrue(paths.contains("PUT /kv/w7 10"), paths.toString());
        assertTrue(puts.get() >= 8);
    }

    @Test
    void writersSharingAConnectionPipelineTheirRequestsAndEachGetsItsOwnAnswer() throws Exception {
        try (AsyncHttpLoad load = new AsyncHttpLoad(base(), 8, 2)) {
            ClosedLoop.Outcome o = ClosedLoop.run(
                    load.puts("/kv/w"), 8, Duration.ZERO, Duration.ofSeconds(2), 10, Duration.ofSeconds(10));
            assertEquals(0, o.errors() + o.unmeasuredErrors(), String.valueOf(o.firstError()));
            assertTrue(o.latencies().getTotalCount() > 0, "no PUT completed within 2 s");
        }
        assertEquals(2, clientPorts.size(), "8 writers over 2 connections: " + clientPorts);
        for (int w = 0; w < 8; w++) {
            assertTrue(paths.contains("PUT /kv/w" + w + " 10"), paths.toString());
        }
    }

    @Test
    void moreConnectionsThanWritersOrNoneAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new AsyncHttpLoad(base(), 2, 3));
        assertThrows(IllegalArgumentException.class, () -> new AsyncHttpLoad(base(), 2, 0));
    }

    @Test
    void aNonTwoHundredAnswerIsTheOperationsFailureWithItsBody() throws Exception {
        try (AsyncHttpLoad load = new AsyncHttpLoad(base(), 1)) {
            Throwable failure = call(load.gets("/refuse/", "?x=1"));
            assertInstanceOf(IOException.class, failure);
            assertTrue(
                    failure.getMessage().contains("503") && failure.getMessage().contains("no"), failure.getMessage());
            assertNull(call(load.puts("/kv/")), "the connection goes on after a refusal");
        }
    }

    @Test
    void aServerThatIsNotThereFailsTheOperation() throws Exception {
        int port = LoopbackPorts.freePort();
        try (AsyncHttpLoad load = new AsyncHttpLoad(URI.create("http://127.0.0.1:" + port), 1)) {
            assertInstanceOf(Throwable.class, call(load.puts("/kv/")));
        }
    }

    /** One operation of writer 0; its failure, or null. */
    private static Throwable call(ClosedLoop.Operation op) throws Exception {
        CompletableFuture<Throwable> done = new CompletableFuture<>();
        op.start(0, new byte[3], done::complete);
        return done.get(10, TimeUnit.SECONDS);
    }
}
