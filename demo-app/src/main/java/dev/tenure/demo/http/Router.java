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

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Routes a request by its line alone, before its body is read: the {@link Route} says how large a body the
 * request may carry and turns the body into a {@link Reply}. Implementations are thread-safe.
 */
interface Router {
    /**
     * Routes a request line; throws {@link HttpError} for what its line alone refuses (unknown path, bad key,
     * method).
     */
    Route route(Request request);

    /**
     * The request line: method, raw (still percent-encoded) path and raw query, or {@code null}; and what {@link
     * HttpGuard} checks: the {@code Host}, {@code Content-Type} and {@code Authorization} headers (each {@code null}
     * when absent), the address the connection reached ({@code null} when not a socket), and the subject of the
     * client's verified certificate ({@code null} when none: plain HTTP, or no certificate presented).
     */
    record Request(
            String method,
            String rawPath,
            String rawQuery,
            String host,
            String contentType,
            String authorization,
            java.net.InetSocketAddress local,
            String clientCertificate) {
        Request(String method, String rawPath, String rawQuery) {
            this(method, rawPath, rawQuery, null, null, null, null, null);
        }

        Request(
                String method,
                String rawPath,
                String rawQuery,
                String host,
                String contentType,
                String authorization,
                java.net.InetSocketAddress local) {
            this(method, rawPath, rawQuery, host, contentType, authorization, local, null);
        }

        @Override
        public String toString() {
            return method + " " + rawTarget(); // never the Authorization header
        }

        String rawTarget() {
            return rawQuery == null ? rawPath : rawPath + "?" + rawQuery;
        }
    }

    /**
     * A routed request.
     *
     * @param maxBody the largest body the request may carry, or {@code -1} when its body is not read (discarded)
     * @param tooLarge the error code of a body larger than {@code maxBody}
     * @param handler turns the whole body into the reply, at once or later; may throw {@link HttpError}
     */
    record Route(int maxBody, String tooLarge, Function<byte[], CompletableFuture<Reply>> handler) {
        /** A route that ignores the body and answers at once. */
        static Route now(Function<byte[], Reply> handler) {
            return new Route(-1, null, body -> CompletableFuture.completedFuture(handler.apply(body)));
        }
    }
}
