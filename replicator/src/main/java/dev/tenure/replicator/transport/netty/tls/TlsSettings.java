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
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where a replica's TLS material is and how to read it, with Kafka's configuration keys:
 *
 * <ul>
 *   <li>{@code ssl.keystore.type} — {@code PEM} (a certificate chain file and a PKCS#8 key file) or {@code PKCS12};
 *   <li>{@code ssl.keystore.location} — the PKCS#12 file, or the PEM certificate chain;
 *   <li>{@code ssl.key.location} — with PEM: the private key (PKCS#8; encrypted if {@code ssl.key.password} is set);
 *   <li>{@code ssl.keystore.password}, {@code ssl.key.password} — PKCS#12 store and key passwords;
 *   <li>{@code ssl.truststore.type} — {@code PEM} (a CA bundle) or {@code PKCS12};
 *   <li>{@code ssl.truststore.location}, {@code ssl.truststore.password} — the CAs a peer's certificate must chain to;
 *   <li>{@code ssl.enabled.protocols} — default {@code TLSv1.3}.
 * </ul>
 *
 * <p>Immutable and thread-safe; {@link #toString} never shows a password. Whether the files can be read and used is
 * checked when a {@link TlsContext} is loaded from the settings.
 */
public final class TlsSettings {
    /** The store formats. */
    public enum StoreType {
        /** PEM files. */
        PEM,
        /** A PKCS#12 store. */
        PKCS12
    }

    private static final Set<String> KEYS = Set.of(
            "ssl.keystore.type",
            "ssl.keystore.location",
            "ssl.keystore.password",
            "ssl.key.location",
            "ssl.key.password",
            "ssl.truststore.type",
            "ssl.truststore.location",
            "ssl.truststore.password",
            "ssl.enabled.protocols");

    private final StoreType keystoreType;
    private final Path keystore;
    private final Path key; // PEM only
    private final String keystorePassword;
    private final String keyPassword;
    private final StoreType truststoreType;
    private final Path truststore;
    private final String truststorePassword;
    private final List<String> protocols;

    private TlsSettings(
            StoreType keystoreType,
            Path keystore,
            Path key,
            String keystorePassword,
            String keyPassword,
            StoreType truststoreType,
            Path truststore,
            String truststorePassword,
            List<String> protocols) {
        this.keystoreType = keystoreType;
        this.keystore = keystore;
        this.key = key;
        this.keystorePassword = keystorePassword;
        this.keyPassword = keyPassword;
        this.truststoreType = truststoreType;
        this.truststore = truststore;
        this.truststorePassword = truststorePassword;
        this.protocols = List.copyOf(protocols);
        Preconditions.checkArgument(!this.protocols.isEmpty(), "ssl.enabled.protocols must name a protocol");
    }

    /** PEM files: this replica's certificate chain and unencrypted PKCS#8 key, and the CA bundle peers chain to. */
    public static TlsSettings pem(Path certificateChain, Path privateKey, Path caBundle) {
        return new TlsSettings(
                StoreType.PEM,
                Objects.requireNonNull(certificateChain, "certificateChain"),
                Objects.requireNonNull(privateKey, "privateKey"),
                null,
                null,
                StoreType.PEM,
                Objects.requireNonNull(caBundle, "caBundle"),
                null,
                List.of("TLSv1.3"));
    }

    /** PKCS#12 stores: this replica's key and chain, and the CAs peers chain to. */
    public static TlsSettings pkcs12(
            Path keystore, String keystorePassword, Path truststore, String truststorePassword) {
        return new TlsSettings(
                StoreType.PKCS12,
                Objects.requireNonNull(keystore, "keystore"),
                null,
                keystorePassword,
                keystorePassword,
                StoreType.PKCS12,
                Objects.requireNonNull(truststore, "truststore"),
                truststorePassword,
                List.of("TLSv1.3"));
    }

    /**
     * Settings from Kafka-style keys (see the class comment); relative locations resolve against {@code base}.
     *
     * @throws IllegalArgumentException naming the key, for an unknown key, a missing location or an unknown type
     */
    public static TlsSettings fromProperties(Map<String, String> properties, Path base) {
        Map<String, String> p = new TreeMap<>(properties);
        for (String k : p.keySet()) {
            Preconditions.checkArgument(
                    KEYS.contains(k), "unknown TLS setting '%s' (known: %s)", k, new java.util.TreeSet<>(KEYS));
        }
        StoreType ksType = type(p, "ssl.keystore.type", StoreType.PKCS12);
        StoreType tsType = type(p, "ssl.truststore.type", ksType);
        Path ks = location(p, "ssl.keystore.location", base);
        Path key = ksType == StoreType.PEM ? location(p, "ssl.key.location", base) : null;
        Preconditions.checkArgument(
                ksType == StoreType.PEM || !p.containsKey("ssl.key.location"),
                "ssl.key.location is for ssl.keystore.type=PEM only");
        Path ts = location(p, "ssl.truststore.location", base);
        String protocols = p.getOrDefault("ssl.enabled.protocols", "TLSv1.3");
        return new TlsSettings(
                ksType,
                ks,
                key,
                p.get("ssl.keystore.password"),
                p.getOrDefault("ssl.key.password", p.get("ssl.keystore.password")),
                tsType,
                ts,
                p.get("ssl.truststore.password"),
                List.of(protocols.split("\\s*,\\s*")));
    }

    /**
     * Settings from a properties file with Kafka-style keys; relative locations resolve against its directory.
     *
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException for a bad setting (see {@link #fromProperties})
     */
    public static TlsSettings fromFile(Path file) throws IOException {
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            props.load(in);
        }
        Map<String, String> map = new TreeMap<>();
        props.stringPropertyNames().forEach(k -> map.put(k, props.getProperty(k).trim()));
        Path dir = file.toAbsolutePath().getParent();
        try {
            return fromProperties(map, dir);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static StoreType type(Map<String, String> p, String key, StoreType otherwise) {
        String v = p.get(key);
        if (v == null) {
            return otherwise;
        }
        try {
            return StoreType.valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " must be PEM or PKCS12, was '" + v + "'", e);
        }
    }

    private static Path location(Map<String, String> p, String key, Path base) {
        String v = p.get(key);
        Preconditions.checkArgument(v != null && !v.isBlank(), "%s is required", key);
        Path path = Path.of(v.trim());
        return base == null || path.isAbsolute() ? path : base.resolve(path);
    }

    /** The format of the keystore. */
    public StoreType keystoreType() {
        return keystoreType;
    }

    /** The PKCS#12 keystore, or the PEM certificate chain. */
    public Path keystore() {
        return keystore;
    }

    /** The PEM private key, or null with PKCS#12. */
    public Path key() {
        return key;
    }

    String keystorePassword() {
        return keystorePassword;
    }

    String keyPassword() {
        return keyPassword;
    }

    /** The format of the truststore. */
    public StoreType truststoreType() {
        return truststoreType;
    }

    /** The CAs a peer's certificate must chain to: a PKCS#12 truststore or a PEM CA bundle. */
    public Path truststore() {
        return truststore;
    }

    String truststorePassword() {
        return truststorePassword;
    }

    /** The TLS protocol versions enabled. */
    public List<String> protocols() {
        return protocols;
    }

    /** The files whose change makes a {@link TlsContext} reload. */
    List<Path> files() {
        return key == null ? List.of(keystore, truststore) : List.of(keystore, key, truststore);
    }

    @Override
    public String toString() {
        return "TlsSettings[keystore=" + keystoreType + " " + keystore + (key == null ? "" : ", key=" + key)
                + ", truststore=" + truststoreType + " " + truststore + ", protocols=" + protocols + "]";
    }
}
