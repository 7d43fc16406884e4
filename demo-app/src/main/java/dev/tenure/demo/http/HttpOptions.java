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

import com.google.common.base.Preconditions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The HTTP API's protections (see {@code docs/security.md}). Immutable; {@link #toString} never shows the token.
 *
 * @param allowedHosts extra {@code Host} names accepted besides the node's own ({@code 127.0.0.1}, {@code localhost}
 *     and {@code [::1]} with the bound port, and the bound address): {@code name:port}, or {@code name} for the bound
 *     port
 * @param token when present, every request that is not {@code GET} or {@code HEAD} must carry {@code Authorization:
 *     Bearer TOKEN} (401 otherwise); reads stay open
 * @param maxConnections connections beyond this many at once are answered 503 and closed at once
 * @param headerTimeout a connection that has not sent a complete request head this long after it opened, or after
 *     the first byte of its next request, is closed (slowloris)
 * @param tls when present, the API speaks HTTPS only; with client certificates, a verified one authorizes writes
 *     and admin routes as the token does
 */
public record HttpOptions(
        List<String> allowedHosts,
        Optional<String> token,
        int maxConnections,
        Duration headerTimeout,
        Optional<HttpTls> tls) {
    /** Default connection cap. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
    /** Default header-receipt deadline. */
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
    /** No token, no extra host names, the default limits. */
    public static final HttpOptions DEFAULT = new HttpOptions(
            List.of(), Optional.empty(), DEFAULT_MAX_CONNECTIONS, DEFAULT_HEADER_TIMEOUT, Optional.empty());

    public HttpOptions {
        allowedHosts = List.copyOf(allowedHosts);
        Preconditions.checkArgument(maxConnections > 0, "maxConnections must be positive: %s", maxConnections);
        Preconditions.checkArgument(
                headerTimeout.toMillis() > 0, "the header timeout must be at least 1 ms: %s", headerTimeout);
        Preconditions.checkArgument(token.isEmpty() || !token.get().isBlank(), "the HTTP token must not be empty");
    }

    public HttpOptions withAllowedHosts(List<String> hosts) {
        return new HttpOptions(hosts, token, maxConnections, headerTimeout, tls);
    }

    public HttpOptions withToken(Optional<String> t) {
        return new HttpOptions(allowedHosts, t, maxConnections, headerTimeout, tls);
    }

    public HttpOptions withMaxConnections(int max) {
        return new HttpOptions(allowedHosts, token, max, headerTimeout, tls);
    }

    public HttpOptions withHeaderTimeout(Duration timeout) {
        return new HttpOptions(allowedHosts, token, maxConnections, timeout, tls);
    }

    public HttpOptions withTls(Optional<HttpTls> t) {
        return new HttpOptions(allowedHosts, token, maxConnections, headerTimeout, t);
    }

    /** Whether writes and admin routes need a token or a client certificate. */
    public boolean authorizationRequired() {
        return token.isPresent() || tls.map(HttpTls::clientCertificates).orElse(false);
    }

    @Override
    public String toString() {
        return "HttpOptions[allowedHosts=" + allowedHosts + ", token=" + (token.isPresent() ? "(set)" : "(none)")
                + ", maxConnections=" + maxConnections + ", headerTimeout=" + headerTimeout + ", tls="
                + tls.map(Object::toString).orElse("(none)") + "]";
    }
}
