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
package dev.tenure.testkit.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Throwaway certificate authorities and certificates for TLS tests and the embedded demo: EC P-256 keys, SHA-256
 * signatures, written as PEM (certificate chain, unencrypted PKCS#8 key, CA bundle) and PKCS#12. Not for production:
 * the keys are generated on the spot and written without a passphrase (files are created owner-only where the file
 * system allows).
 *
 * <pre>{@code
 * TestCertificates.Authority ca = TestCertificates.authority("tenure-test-ca");
 * TestCertificates.Issued r1 = ca.issue("r1").dnsNames("r1", "localhost").ip("127.0.0.1").build();
 * TestCertificates.Files files = r1.writeTo(dir.resolve("r1"));   // chain.pem, key.pem, ca.pem, keystore.p12
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class TestCertificates {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
    /** The password of the PKCS#12 files written. */
    public static final String PKCS12_PASSWORD = "changeit";

    private TestCertificates() {}

    /** A new self-signed certificate authority named {@code CN=name}, valid from an hour ago for 30 days. */
    public static Authority authority(String name) {
        KeyPair keys = newKeyPair();
        Instant now = Instant.now();
        X500Name subject = new X500Name("CN=" + name);
        try {
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    subject,
                    serial(),
                    Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(30))),
                    subject,
                    keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate cert = sign(b, keys);
            return new Authority(keys, cert);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a test CA", e);
        }
    }

    /** A certificate authority: issues certificates signed by its key. */
    public static final class Authority {
        private final KeyPair keys;
        private final X509Certificate certificate;

        private Authority(KeyPair keys, X509Certificate certificate) {
            this.keys = keys;
            this.certificate = certificate;
        }

        /** The authority's own certificate. */
        public X509Certificate certificate() {
            return certificate;
        }

        /** Starts a certificate for {@code CN=commonName}, valid from an hour ago for 7 days, for server and client. */
        public IssueBuilder issue(String commonName) {
            return new IssueBuilder(this, commonName);
        }

        /** Writes this CA's certificate as PEM to {@code file}. */
        public Path writeCertificate(Path file) {
            writePem(file, List.of(certificate));
            return file;
        }
    }

    /** A certificate being issued. */
    public static final class IssueBuilder {
        private final Authority ca;
        private final String commonName;
        private final List<GeneralName> names = new ArrayList<>();
        private Instant notBefore = Instant.now().minus(Duration.ofHours(1));
        private Instant notAfter = Instant.now().plus(Duration.ofDays(7));

        private IssueBuilder(Authority ca, String commonName) {
            this.ca = ca;
            this.commonName = commonName;
        }

        /** Subject alternative names of type DNS. */
        public IssueBuilder dnsNames(String... dns) {
            for (String d : dns) {
                names.add(new GeneralName(GeneralName.dNSName, d));
            }
            return this;
        }

        /** A subject alternative name of type IP address. */
        public IssueBuilder ip(String address) {
            names.add(new GeneralName(GeneralName.iPAddress, address));
            return this;
        }

        /** A subject alternative name of type URI. */
        public IssueBuilder uri(String uri) {
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
            return this;
        }

        /** The validity window (an expired certificate: both in the past). */
        public IssueBuilder validity(Instant from, Instant to) {
            this.notBefore = from;
            this.notAfter = to;
            return this;
        }

        /** Issues the certificate, signed by the authority's key. */
        public Issued build() {
            KeyPair keys = newKeyPair();
            try {
                JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                        ca.certificate,
                        serial(),
                        Date.from(notBefore),
                        Date.from(notAfter),
                        new X500Name("CN=" + commonName),
                        keys.getPublic());
                JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                b.addExtension(
                        Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                    KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                }));
                b.addExtension(
                        Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate));
                if (!names.isEmpty()) {
                    b.addExtension(
                            Extension.subjectAlternativeName,
                            false,
                            new GeneralNames(names.toArray(GeneralName[]::new)));
                }
                return new Issued(keys, sign(b, ca.keys), ca.certificate);
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot issue a test certificate", e);
            }
        }
    }

    /** An issued certificate, its key and its CA. */
    public static final class Issued {
        private final KeyPair keys;
        private final X509Certificate certificate;
        private final X509Certificate caCertificate;

        private Issued(KeyPair keys, X509Certificate certificate, X509Certificate caCertificate) {
            this.keys = keys;
            this.certificate = certificate;
            this.caCertificate = caCertificate;
        }

        /** The issued certificate. */
        public X509Certificate certificate() {
            return certificate;
        }

        /**
         * Writes {@code chain.pem} (this certificate), {@code key.pem} (PKCS#8), {@code ca.pem} (the CA) and {@code
         * keystore.p12} / {@code truststore.p12} (password {@link #PKCS12_PASSWORD}) into {@code dir}, replacing
         * files there, each atomically (written aside, then moved), so that a reader never sees half a file.
         */
        public Files writeTo(Path dir) {
            try {
                java.nio.file.Files.createDirectories(dir);
                Path chain = dir.resolve("chain.pem");
                Path key = dir.resolve("key.pem");
                Path ca = dir.resolve("ca.pem");
                Path keystore = dir.resolve("keystore.p12");
                Path truststore = dir.resolve("truststore.p12");
                writePem(key, List.of(new JcaPKCS8Generator(keys.getPrivate(), null)));
                writePem(chain, List.of(certificate));
                writePem(ca, List.of(caCertificate));
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry(
                        "tenure",
                        keys.getPrivate(),
                        PKCS12_PASSWORD.toCharArray(),
                        new java.security.cert.Certificate[] {certificate, caCertificate});
                writeAtomically(keystore, out -> ks.store(out, PKCS12_PASSWORD.toCharArray()));
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                ts.setCertificateEntry("ca", caCertificate);
                writeAtomically(truststore, out -> ts.store(out, PKCS12_PASSWORD.toCharArray()));
                return new Files(chain, key, ca, keystore, truststore);
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot write test certificates to " + dir, e);
            }
        }
    }

    /** The files {@link Issued#writeTo} wrote. */
    public record Files(Path chain, Path key, Path ca, Path keystore, Path truststore) {}

    private interface StoreWriter {
        void write(OutputStream out) throws IOException, GeneralSecurityException;
    }

    private static void writeAtomically(Path file, StoreWriter writer) throws IOException, GeneralSecurityException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = java.nio.file.Files.newOutputStream(tmp)) {
            writer.write(out);
        }
        ownerOnly(tmp);
        java.nio.file.Files.move(
                tmp,
                file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void writePem(Path file, List<?> objects) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            for (Object o : objects) {
                pem.writeObject(o instanceof JcaPKCS8Generator g ? g.generate() : o);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            writeAtomically(file, out -> out.write(text.toString().getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void ownerOnly(Path file) throws IOException {
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            java.nio.file.Files.setPosixFilePermissions(
                    file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no EC P-256 key generator", e);
        }
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
        try {
            ContentSigner s = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(b.build(s));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }
}
