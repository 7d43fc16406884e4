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
package dev.tenure.replicator.transport.netty.tls;

import com.google.common.base.Preconditions;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutual TLS for the replication transport: the server and client contexts built from {@link TlsSettings}, reloaded
 * when their files change, and the rule that binds a peer's certificate to the replica id it claims.
 *
 * <p><b>Both sides authenticate.</b> The accepting side requires a client certificate; both sides accept only
 * certificates that chain to the configured CAs and are valid now (the JDK's PKIX checks: an expired or foreign
 * certificate fails the handshake). TLS 1.3 only by default.
 *
 * <p><b>Identity.</b> A certificate speaks for replica {@code id} if it carries {@code id} as a subject alternative
 * name of type DNS (compared ignoring case). The accepting side checks the hello's sender id against the client's
 * certificate; the connecting side checks that the server's certificate names the replica it meant to reach. So a
 * member's certificate cannot be used to speak as another member.
 *
 * <p><b>Reload.</b> Every new connection first checks the files' modification times (a {@code stat} each); when one
 * changed, the contexts are built again and used from then on. A change that cannot be loaded (a half-written file,
 * a key that does not match) keeps the previous contexts and is logged at ERROR once per change. Open connections
 * keep the certificates they were made with.
 *
 * <p>Thread-safe.
 */
public final class TlsContext {
    private static final Logger LOG = LoggerFactory.getLogger(TlsContext.class);

    private final TlsSettings settings;
    private volatile Loaded current;
    private List<FileTime> failedAt; // guarded by this: the file times of the last change that failed to load

    private record Loaded(SslContext server, SslContext client, List<FileTime> times) {}

    private TlsContext(TlsSettings settings, Loaded loaded) {
        this.settings = settings;
        this.current = loaded;
    }

    /**
     * Loads the contexts of {@code settings}.
     *
     * @throws IllegalArgumentException naming the file and the reason: missing or unreadable, a wrong password, a
     *     store without a key, a key that does not match its certificate, no CA certificate
     */
    public static TlsContext load(TlsSettings settings) {
        Preconditions.checkNotNull(settings, "settings");
        return new TlsContext(settings, build(settings));
    }

    /** The settings this context loads. */
    public TlsSettings settings() {
        return settings;
    }

    /** A handler for a new accepted connection (requires the client's certificate). */
    public SslHandler newServerHandler(ByteBufAllocator alloc) {
        return fresh().server().newHandler(alloc);
    }

    /**
     * A handler for a new outbound connection. The server's identity is checked by {@link #identityProblem} against
     * the replica id the connection is for, not by host name.
     */
    public SslHandler newClientHandler(ByteBufAllocator alloc) {
        return fresh().client().newHandler(alloc);
    }

    /**
     * Why the peer of {@code session} may not speak as replica {@code replicaId}, or null if its certificate names
     * it.
     */
    public static String identityProblem(SSLSession session, String replicaId) {
        X509Certificate cert;
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate x)) {
                return "the peer presented no X.509 certificate";
            }
            cert = x;
        } catch (SSLPeerUnverifiedException e) {
            return "the peer presented no certificate";
        }
        List<String> names = dnsNames(cert);
        for (String n : names) {
            if (n.equalsIgnoreCase(replicaId)) {
                return null;
            }
        }
        return "its certificate (" + cert.getSubjectX500Principal().getName() + ", DNS names " + names
                + ") does not name replica '" + replicaId + "'";
    }

    /** The subject alternative names of type DNS of {@code cert}. */
    public static List<String> dnsNames(X509Certificate cert) {
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

    /** The current contexts, built again first if a file changed since they were. */
    private Loaded fresh() {
        Loaded now = current;
        List<FileTime> times;
        try {
            times = times(settings);
        } catch (IOException e) {
            return now; // a file being replaced: keep what works, look again on the next connection
        }
        if (times.equals(now.times())) {
            return now;
        }
        synchronized (this) {
            if (times.equals(current.times()) || times.equals(failedAt)) {
                return current;
            }
            try {
                current = build(settings);
                LOG.info("Reloaded the replication transport's TLS material: {}", settings);
            } catch (IllegalArgumentException e) {
                failedAt = times;
                LOG.error(
                        "Cannot reload the replication transport's TLS material; keeping the previous: {}",
                        e.getMessage());
            }
            return current;
        }
    }

    private static List<FileTime> times(TlsSettings s) throws IOException {
        List<FileTime> times = new ArrayList<>();
        for (Path f : s.files()) {
            times.add(Files.getLastModifiedTime(f));
        }
        return times;
    }

    private static Loaded build(TlsSettings s) {
        List<FileTime> times;
        try {
            for (Path f : s.files()) {
                if (!Files.isRegularFile(f) || !Files.isReadable(f)) {
                    throw new IllegalArgumentException("TLS file " + f + " is not a readable file");
                }
            }
            times = times(s);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the TLS files of " + s + ": " + e.getMessage(), e);
        }
        try {
            SslContextBuilder server;
            SslContextBuilder client = SslContextBuilder.forClient();
            if (s.keystoreType() == TlsSettings.StoreType.PEM) {
                if (s.keyPassword() == null) {
                    checkKeyMatches(s.keystore(), s.key());
                }
                server = SslContextBuilder.forServer(
                        s.keystore().toFile(), s.key().toFile(), s.keyPassword());
                client.keyManager(s.keystore().toFile(), s.key().toFile(), s.keyPassword());
            } else {
                KeyManagerFactory kmf = keyManagers(s);
                server = SslContextBuilder.forServer(kmf);
                client.keyManager(kmf);
            }
            if (s.truststoreType() == TlsSettings.StoreType.PEM) {
                server.trustManager(s.truststore().toFile());
                client.trustManager(s.truststore().toFile());
            } else {
                TrustManagerFactory tmf = trustManagers(s);
                server.trustManager(tmf);
                client.trustManager(tmf);
            }
            String[] protocols = s.protocols().toArray(String[]::new);
            SslContext serverContext = server.sslProvider(provider())
                    .protocols(protocols)
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
            SslContext clientContext =
                    client.sslProvider(provider()).protocols(protocols).build();
            return new Loaded(serverContext, clientContext, times);
        } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot use the TLS material of " + s + ": " + rootMessage(e), e);
        }
    }

    /**
     * The TLS engine: BoringSSL through netty-tcnative when its native library loads (ZooKeeper's client ships
     * {@code netty-tcnative-boringssl-static} for Linux, macOS and Windows on x86-64 and AArch64), else the JDK's. Both
     * verify the peer's chain with the JDK's trust managers built from the same files, so the rules above hold either
     * way; BoringSSL's record encryption costs a fraction of the JDK's, most of all in a JVM that has not compiled its
     * AES-GCM with C2 yet (docs/security.md, "Cost").
     */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /**
     * Refuses an unencrypted PKCS#8 PEM key that is not the key of the first certificate in {@code chain}: it signs a
     * probe that the certificate's public key must verify.
     *
     * @throws IllegalArgumentException naming both files if the key is not the certificate's, or not a PKCS#8 key
     * @throws IOException if a file cannot be read
     * @throws GeneralSecurityException if the certificate or key cannot be parsed
     */
    public static void checkKeyMatches(Path chain, Path keyFile) throws IOException, GeneralSecurityException {
        X509Certificate cert;
        try (InputStream in = Files.newInputStream(chain)) {
            cert = (X509Certificate)
                    java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        String pem = Files.readString(keyFile, java.nio.charset.StandardCharsets.US_ASCII);
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException(keyFile + " holds no unencrypted PKCS#8 key (BEGIN PRIVATE KEY)");
        }
        byte[] der = java.util.Base64.getMimeDecoder()
                .decode(pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        String algorithm = cert.getPublicKey().getAlgorithm();
        java.security.PrivateKey key = java.security.KeyFactory.getInstance(algorithm)
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
        String signing = algorithm.equals("EC") ? "SHA256withECDSA" : "SHA256with" + algorithm;
        java.security.Signature sign = java.security.Signature.getInstance(signing);
        sign.initSign(key);
        byte[] probe = "tenure".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        sign.update(probe);
        byte[] signature = sign.sign();
        java.security.Signature verify = java.security.Signature.getInstance(signing);
        verify.initVerify(cert.getPublicKey());
        verify.update(probe);
        if (!verify.verify(signature)) {
            throw new IllegalArgumentException(
                    "the key in " + keyFile + " is not the key of the certificate in " + chain);
        }
    }

    private static KeyManagerFactory keyManagers(TlsSettings s) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(s.keystore())) {
            ks.load(in, chars(s.keystorePassword()));
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, chars(s.keyPassword()));
        return kmf;
    }

    private static TrustManagerFactory trustManagers(TlsSettings s) throws GeneralSecurityException, IOException {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(s.truststore())) {
            ts.load(in, chars(s.truststorePassword()));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        return tmf;
    }

    private static char[] chars(String password) {
        return password == null ? new char[0] : password.toCharArray();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    @Override
    public String toString() {
        return "TlsContext[" + settings + "]";
    }
}
