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

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The checks every request of the node's API passes before its route does anything (see {@code docs/security.md}):
 *
 * <ul>
 *   <li>{@code Host} must name this node: {@code 127.0.0.1}, {@code localhost} or {@code [::1]} with the bound port,
 *       the bound address, or one of the configured names; else 421 {@code host_not_allowed} (a missing {@code Host}
 *       is 400 {@code host_required}). A page of another site that rebinds its DNS name to this node's address still
 *       sends its own name, so it is refused (DNS rebinding).
 *   <li>Every request that is not {@code GET} or {@code HEAD} changes state; with a token configured it must carry
 *       {@code Authorization: Bearer TOKEN} (compared in constant time), else 401 {@code unauthorized}.
 *   <li>{@code POST} (compare-and-set, admin) requires {@code Content-Type: application/json}, else 415 {@code
 *       unsupported_media_type}: {@code POST} is the only write a browser sends cross-site without asking (a form, or
 *       {@code fetch} with {@code mode: 'no-cors'}), and then only with no type or {@code text/plain}, {@code
 *       application/x-www-form-urlencoded} or {@code multipart/form-data}. {@code PUT} and {@code DELETE} need a CORS
 *       preflight, which this server never grants, so their body stays raw bytes of any type.
 * </ul>
 *
 * <p>Each refusal is definite ({@code "applied":false}). Thread-safe (immutable).
 */
final class HttpGuard implements Router {
    private final Router next;
    private final Set<String> extraHosts;
    private final Set<String> extraNames;
    private final byte[] tokenDigest;
    private final boolean clientCertificates;

    HttpGuard(Router next, HttpOptions options) {
        this.next = next;
        Set<String> withPort = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (String h : options.allowedHosts()) {
            String n = h.trim().toLowerCase(Locale.ROOT);
            if (hasPort(n)) {
                withPort.add(n);
            } else if (!n.isEmpty()) {
                names.add(n);
            }
        }
        this.extraHosts = Set.copyOf(withPort);
        this.extraNames = Set.copyOf(names);
        this.tokenDigest = options.token().map(HttpGuard::digest).orElse(null);
        this.clientCertificates = options.tls().map(HttpTls::clientCertificates).orElse(false);
    }

    @Override
    public Route route(Request req) {
        checkHost(req);
        Route r = next.route(req);
        if (!req.method().equals("GET") && !req.method().equals("HEAD")) {
            checkToken(req);
            if (req.method().equals("POST") && !isJson(req.contentType())) {
                throw new HttpError(
                                415,
                                "unsupported_media_type",
                                "POST requires Content-Type: application/json (got "
                                        + (req.contentType() == null ? "none" : req.contentType())
                                        + ")")
                        .definite(true);
            }
        }
        return r;
    }

    private void checkHost(Request req) {
        String host = req.host();
        if (host == null || host.isBlank()) {
            throw new HttpError(400, "host_required", "a Host header naming this node is required");
        }
        String h = host.trim().toLowerCase(Locale.ROOT);
        String withPort = hasPort(h) ? h : h + ":80";
        if (allowed(withPort, req.local())) {
            return;
        }
        throw new HttpError(
                        421,
                        "host_not_allowed",
                        "Host " + abbreviate(host) + " does not name this node; add it with --http-allowed-host")
                .definite(true);
    }

    private boolean allowed(String hostPort, InetSocketAddress local) {
        if (extraHosts.contains(hostPort)) {
            return true;
        }
        if (local == null) {
            return false;
        }
        int port = local.getPort();
        String suffix = ":" + port;
        if (!hostPort.endsWith(suffix)) {
            return false;
        }
        String name = hostPort.substring(0, hostPort.length() - suffix.length());
        if (name.equals("127.0.0.1") || name.equals("localhost") || name.equals("[::1]") || extraNames.contains(name)) {
            return true;
        }
        InetAddress a = local.getAddress();
        if (a == null || a.isAnyLocalAddress()) {
            return false;
        }
        String literal = a.getHostAddress().toLowerCase(Locale.ROOT);
        return name.equals(literal) || name.equals("[" + literal + "]");
    }

    private void checkToken(Request req) {
        if (tokenDigest == null && !clientCertificates) {
            return;
        }
        if (clientCertificates && req.clientCertificate() != null) {
            return; // verified against the client CA in the TLS handshake
        }
        String auth = req.authorization();
        boolean ok = false;
        if (tokenDigest != null && auth != null && auth.length() > 7 && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            // Digests of equal length, compared without an early exit: the time says nothing about the token.
            ok = MessageDigest.isEqual(tokenDigest, digest(auth.substring(7).trim()));
        }
        if (!ok) {
            String needed = tokenDigest == null
                    ? "a client certificate"
                    : clientCertificates
                            ? "Authorization: Bearer TOKEN or a client certificate"
                            : "Authorization: Bearer TOKEN";
            throw new HttpError(401, "unauthorized", "writes and admin routes need " + needed)
                    .definite(true)
                    .header("WWW-Authenticate", "Bearer realm=\"tenure\"");
        }
    }

    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semi = contentType.indexOf(';');
        String media = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
        return media.equalsIgnoreCase("application/json");
    }

    private static boolean hasPort(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return colon > hostPort.lastIndexOf(']') && colon < hostPort.length() - 1;
    }

    private static String abbreviate(String s) {
        String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() <= 100 ? printable : printable.substring(0, 100) + "…";
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing", e);
        }
    }
}
