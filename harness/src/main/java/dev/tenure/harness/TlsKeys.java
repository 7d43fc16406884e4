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
package dev.tenure.harness;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Every replica's TLS key and certificate chain, and the CA they chain to: what a {@link LinkProxy#terminatingTls
 * TLS-terminating proxy} needs to stand in for any replica towards any other. Test material only: whoever holds it
 * can speak as every member, which is exactly what a harness that cuts links by sender needs, and what no deployment
 * may hand out.
 *
 * <p>A certificate speaks for replica {@code id} if it carries {@code id} as a subject alternative name of type DNS
 * (ignoring case), the replication transport's own rule. Connections use TLS 1.3 only; the accepting side requires
 * the client's certificate; both sides accept only certificates that chain to the CA (the JDK's PKIX checks).
 *
 * <p>Immutable and thread-safe.
 */
public final class TlsKeys {
    private static final String PROTOCOL = "TLSv1.3";
    private static final char[] STORE_PASSWORD = "harness".toCharArray();

    /** One replica's private key and its certificate chain (its own certificate first). */
    public record Identity(PrivateKey key, List<X509Certificate> chain) {
        public Identity {
            Objects.requireNonNull(key, "key");
            chain = List.copyOf(chain);
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("a certificate chain needs a certificate");
            }
        }
    }

    private final Map<String, SSLContext> contexts;

    private TlsKeys(Map<String, SSLContext> contexts) {
        this.contexts = contexts;
    }

    /**
     * The keys of {@code identities} (replica id to its key and chain), trusting {@code ca}.
     *
     * @throws IllegalArgumentException if a key or certificate cannot be used
     */
    public static TlsKeys of(X509Certificate ca, Map<String, Identity> identities) {
        Objects.requireNonNull(ca, "ca");
        if (identities.isEmpty()) {
            throw new IllegalArgumentException("at least one identity is required");
        }
        Map<String, SSLContext> contexts = new LinkedHashMap<>();
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            for (Map.Entry<String, Identity> e : identities.entrySet()) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry(
                        "key",
                        e.getValue().key(),
                        STORE_PASSWORD,
                        e.getValue().chain().toArray(new Certificate[0]));
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(store, STORE_PASSWORD);
                SSLContext context = SSLContext.getInstance(PROTOCOL);
                context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
                contexts.put(e.getKey().toLowerCase(Locale.ROOT), context);
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot use the TLS keys: " + e.getMessage(), e);
        }
        return new TlsKeys(Map.copyOf(contexts));
    }

    /**
     * Reads the CA certificate from {@code caPem} and each replica's chain and unencrypted PKCS#8 key from {@code
     * DIR/chain.pem} and {@code DIR/key.pem}, its directory given by {@code directories} (replica id to directory):
     * the layout the demo's {@code certs} command writes.
     *
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if a file holds no usable certificate or key
     */
    public static TlsKeys fromPemDirectories(Path caPem, Map<String, Path> directories) throws IOException {
        Map<String, Identity> identities = new LinkedHashMap<>();
        for (Map.Entry<String, Path> e : directories.entrySet()) {
            identities.put(
                    e.getKey(),
                    pem(e.getValue().resolve("chain.pem"), e.getValue().resolve("key.pem")));
        }
        List<X509Certificate> ca = certificates(caPem);
        return of(ca.get(0), identities);
    }

    /**
     * A replica's identity from a PEM certificate chain and an unencrypted PKCS#8 PEM key ({@code BEGIN PRIVATE
     * KEY}).
     *
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if a file holds no usable certificate or key
     */
    public static Identity pem(Path chain, Path key) throws IOException {
        List<X509Certificate> certificates = certificates(chain);
        String text = Files.readString(key, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN PRIVATE KEY-----";
        int from = text.indexOf(begin);
        int to = text.indexOf("-----END PRIVATE KEY-----");
        if (from < 0 || to < from) {
            throw new IllegalArgumentException(key + " holds no unencrypted PKCS#8 key (BEGIN PRIVATE KEY)");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
        try {
            String algorithm = certificates.get(0).getPublicKey().getAlgorithm();
            PrivateKey privateKey = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            return new Identity(privateKey, certificates);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the key in " + key + ": " + e.getMessage(), e);
        }
    }

    /** The X.509 certificates of a PEM file, in order. */
    private static List<X509Certificate> certificates(Path pem) throws IOException {
        List<X509Certificate> certificates = new ArrayList<>();
        try (InputStream in = Files.newInputStream(pem)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certificates.add((X509Certificate) c);
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException("cannot read the certificates in " + pem + ": " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException(pem + " holds no certificate");
        }
        return certificates;
    }

    /** The replica ids whose keys these are (lower case). */
    public Set<String> ids() {
        return contexts.keySet();
    }

    /**
     * Completes a TLS server handshake on the accepted {@code raw} connection as replica {@code id}, requiring a
     * client certificate from the CA. Closing the returned socket closes {@code raw}.
     *
     * @throws IOException if the handshake fails (no client certificate, one from another CA, an I/O error)
     */
    SSLSocket accept(Socket raw, String id) throws IOException {
        SSLSocket tls = (SSLSocket) context(id).getSocketFactory().createSocket(raw, null, raw.getPort(), true);
        tls.setUseClientMode(false);
        tls.setNeedClientAuth(true);
        tls.setEnabledProtocols(new String[] {PROTOCOL});
        tls.startHandshake();
        return tls;
    }

    /**
     * Completes a TLS client handshake on the connected {@code raw} connection as replica {@code id}, and checks
     * that the server's certificate names replica {@code serverId}. Closing the returned socket closes {@code raw}.
     *
     * @throws IOException if the handshake fails or the server's certificate does not name {@code serverId}
     */
    SSLSocket connect(Socket raw, String id, String serverId) throws IOException {
        SSLSocket tls = (SSLSocket) context(id)
                .getSocketFactory()
                .createSocket(raw, raw.getInetAddress().getHostAddress(), raw.getPort(), true);
        tls.setUseClientMode(true);
        tls.setEnabledProtocols(new String[] {PROTOCOL});
        tls.startHandshake();
        if (!names(tls.getSession()).contains(serverId.toLowerCase(Locale.ROOT))) {
            throw new SSLPeerUnverifiedException(
                    "the server's certificate does not name replica " + serverId + ": " + names(tls.getSession()));
        }
        return tls;
    }

    /**
     * The replica whose key this holds that the peer's certificate names (the first such DNS name), if any.
     *
     * @throws SSLPeerUnverifiedException if the peer presented no certificate
     */
    Optional<String> peerId(SSLSession session) throws SSLPeerUnverifiedException {
        return names(session).stream().filter(contexts::containsKey).findFirst();
    }

    /** The TLS context that speaks as replica {@code id}: its key and chain, the CA as the only trust anchor. */
    SSLContext context(String id) {
        SSLContext context = contexts.get(id.toLowerCase(Locale.ROOT));
        if (context == null) {
            throw new IllegalArgumentException("no key for replica '" + id + "' (have " + contexts.keySet() + ")");
        }
        return context;
    }

    /** The DNS subject alternative names of the peer's certificate, lower case. */
    private static List<String> names(SSLSession session) throws SSLPeerUnverifiedException {
        Certificate[] chain = session.getPeerCertificates();
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
            throw new SSLPeerUnverifiedException("the peer presented no X.509 certificate");
        }
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() == 2 && Integer.valueOf(2).equals(san.get(0)) && san.get(1) instanceof String s) {
                        names.add(s.toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return List.of();
        }
        return names;
    }
}
