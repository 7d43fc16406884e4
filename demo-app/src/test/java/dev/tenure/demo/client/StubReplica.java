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

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A fake replica on 127.0.0.1: records every request and answers with its {@link Responder}. */
final class StubReplica implements AutoCloseable {
    /** A request as the server saw it: the path and query still percent-encoded. */
    @SuppressWarnings("ArrayRecordComponent") // never compared or printed: tests read its fields
    record Request(
            String method, String rawPath, String rawQuery, String contentType, byte[] body, String authorization) {
        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String pathAndQuery() {
            return rawQuery == null ? rawPath : rawPath + "?" + rawQuery;
        }
    }

    @SuppressWarnings("ArrayRecordComponent") // never compared or printed: the stub writes its fields
    record Reply(int status, Map<String, String> headers, byte[] body) {
        static Reply json(int status, String json) {
            return new Reply(status, Map.of("Content-Type", "application/json"), json.getBytes(StandardCharsets.UTF_8));
        }

        static Reply bytes(int status, byte[] body) {
            return new Reply(status, Map.of("Content-Type", "application/octet-stream"), body);
        }

        Reply header(String name, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(name, value);
            return new Reply(status, h, body);
        }
    }

    interface Responder {
        Reply respond(Request request) throws IOException;
    }

    static {
        // The JDK server writes headers and body separately; without TCP_NODELAY each exchange can stall ~40 ms
        // on Nagle + delayed ACK. Read once, when the server implementation is first used.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private volatile Responder responder;

    private StubReplica(int port, Responder responder) {
        this.responder = responder;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    static StubReplica start(Responder responder) {
        return new StubReplica(0, responder);
    }

    static StubReplica startOn(int port, Responder responder) {
        return new StubReplica(port, responder);
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    int port() {
        return server.getAddress().getPort();
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    void respondWith(Responder responder) {
        this.responder = responder;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange;
                InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readAllBytes();
            URI uri = exchange.getRequestURI();
            Request request = new Request(
                    exchange.getRequestMethod(),
                    uri.getRawPath(),
                    uri.getRawQuery(),
                    exchange.getRequestHeaders().getFirst("Content-Type"),
                    body,
                    exchange.getRequestHeaders().getFirst("Authorization"));
            requests.add(request);
            Reply reply;
            try {
                reply = responder.respond(request);
            } catch (RuntimeException e) {
                reply = Reply.json(599, "{\"error\":\"stub failed: " + e + "\"}");
            }
            reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            exchange.sendResponseHeaders(reply.status(), reply.body().length == 0 ? -1 : reply.body().length);
            if (reply.body().length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(reply.body());
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
