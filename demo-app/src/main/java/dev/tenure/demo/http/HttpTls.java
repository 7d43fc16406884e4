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

import dev.tenure.replicator.transport.netty.tls.TlsContext;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * TLS for the HTTP API (HTTPS): the node's certificate chain and private key (PEM), and optionally the CA (PEM)
 * whose client certificates authorize writes and admin routes, as a bearer token does. TLS 1.3 and 1.2 (the
 * latter for older clients such as some {@code curl} builds). A client certificate is asked for but not required:
 * reads stay open, and a write without a certificate (or token) is refused with 401.
 *
 * <p>Immutable and thread-safe.
 */
public final class HttpTls {
    private final SslContext context;
    private final boolean clientCertificates;
    private final String description;

    private HttpTls(SslContext context, boolean clientCertificates, String description) {
        this.context = context;
        this.clientCertificates = clientCertificates;
        this.description = description;
    }

    /**
     * TLS from PEM files.
     *
     * @param certificateChain the node's certificate, then its intermediates (PEM)
     * @param privateKey the certificate's unencrypted PKCS#8 private key (PEM)
     * @param clientCa the CA bundle (PEM) whose client certificates authorize writes and admin routes, or empty
     * @throws IllegalArgumentException naming the file and the reason, for a missing or unreadable file, or a key
     *     that does not match the certificate
     */
    public static HttpTls fromPem(Path certificateChain, Path privateKey, Optional<Path> clientCa) {
        requireReadable(certificateChain, "certificate chain");
        requireReadable(privateKey, "private key");
        clientCa.ifPresent(ca -> requireReadable(ca, "client CA"));
        try {
            TlsContext.checkKeyMatches(certificateChain, privateKey);
            SslContextBuilder b = SslContextBuilder.forServer(certificateChain.toFile(), privateKey.toFile())
                    .sslProvider(SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2");
            if (clientCa.isPresent()) {
                b.trustManager(clientCa.get().toFile()).clientAuth(ClientAuth.OPTIONAL);
            }
            SslContext context = b.build();
            return new HttpTls(
                    context,
                    clientCa.isPresent(),
                    "HTTPS with " + certificateChain
                            + clientCa.map(ca -> ", client certificates of " + ca)
                                    .orElse(""));
        } catch (java.io.IOException | java.security.GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "cannot use the HTTP certificate " + certificateChain + " with key " + privateKey
                            + clientCa.map(ca -> " and client CA " + ca).orElse("") + ": " + rootMessage(e),
                    e);
        }
    }

    private static void requireReadable(Path file, String what) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException("the HTTP " + what + " " + file + " is not a readable file");
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    /** A handler for one new connection. */
    SslHandler newHandler(ByteBufAllocator alloc) {
        return context.newHandler(alloc);
    }

    /** Whether a verified client certificate authorizes writes and admin routes. */
    public boolean clientCertificates() {
        return clientCertificates;
    }

    /**
     * The subject of the verified client certificate of {@code session}, or null when the client presented none
     * (or this TLS does not ask for one).
     */
    String verifiedClient(SSLSession session) {
        if (!clientCertificates || session == null) {
            return null;
        }
        try {
            Certificate[] chain = session.getPeerCertificates(); // verified against the client CA in the handshake
            return chain.length > 0 && chain[0] instanceof X509Certificate x
                    ? x.getSubjectX500Principal().getName()
                    : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
