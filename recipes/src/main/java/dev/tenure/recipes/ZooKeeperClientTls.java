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
package dev.tenure.recipes;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.X509Exception;

/**
 * ZooKeeper client TLS: a {@link ZKClientConfig} that makes a ZooKeeper (and so Curator) client connect to the
 * ensemble's secure client port over TLS, presenting a client certificate and checking the servers' against a trust
 * store. Read from a properties file with ZooKeeper's own keys:
 *
 * <pre>
 * zookeeper.client.secure=true                                            # optional; false is refused
 * zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty   # optional; another socket is refused
 * zookeeper.ssl.keyStore.location=client.pem       # PEM: the private key and the certificate chain in one file
 * zookeeper.ssl.keyStore.type=PEM                  # PEM or PKCS12 (default: from the file name's extension)
 * zookeeper.ssl.keyStore.password=...              # PKCS12's password, or an encrypted PEM key's
 * zookeeper.ssl.trustStore.location=ca.pem         # required: the CA certificates the servers' chains end in
 * zookeeper.ssl.trustStore.type=PEM                # PEM or PKCS12 (default: from the extension)
 * zookeeper.ssl.trustStore.password=...            # PKCS12 only
 * </pre>
 *
 * <p>Also accepted: {@code zookeeper.ssl.hostnameVerification} (default true: the server's certificate must name
 * the host connected to), {@code zookeeper.ssl.protocol}, {@code zookeeper.ssl.enabledProtocols}, {@code
 * zookeeper.ssl.ciphersuites}, {@code zookeeper.ssl.crl}, {@code zookeeper.ssl.ocsp}, the {@code passwordPath} form
 * of either password. Relative locations are relative to the properties file. Any other key is refused, so that a
 * misspelt key does not silently leave a default in place.
 *
 * <pre>{@code
 * ZooKeeperClientTls tls = ZooKeeperClientTls.fromFile(Path.of("/etc/tenure/zk-tls.properties"));
 * CuratorFramework client = CuratorFrameworkFactory.builder()
 *         .connectString(zk).retryPolicy(retry)
 *         .zkClientConfig(tls.clientConfig())     // or tls.configure(builder)
 *         .build();
 * }</pre>
 *
 * <p><b>Failure behaviour.</b> {@link #fromFile} and {@link #fromProperties} check everything before a client
 * exists: a missing file, a missing trust store, an unknown or unreadable store type, a store that does not load
 * (a wrong password, a PEM key store without its key) each throw {@link IllegalArgumentException} naming the file and
 * the key, never showing a password. After that, a server whose certificate the trust store does not accept, or
 * that refuses this client's certificate, fails the TLS handshake: the client does not connect and Curator keeps
 * retrying under its retry policy, as for an unreachable server (the handshake errors are logged by ZooKeeper's
 * client). The files are read once here and again by ZooKeeper's client at each connection attempt.
 *
 * <p><b>Thread safety.</b> Immutable and thread-safe. {@link #clientConfig()} returns a new, independent {@link
 * ZKClientConfig} at every call (a {@code ZKClientConfig} is mutable: give each client its own). {@link #toString}
 * never shows a password.
 */
public final class ZooKeeperClientTls {
    /** {@code zookeeper.client.secure}. */
    public static final String SECURE = ZKClientConfig.SECURE_CLIENT;
    /** {@code zookeeper.clientCnxnSocket}. */
    public static final String CLIENT_CNXN_SOCKET = ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET;

    private static final String NETTY_SOCKET = ClientCnxnSocketNetty.class.getName();
    private static final String SSL = "zookeeper.ssl.";
    /** {@code zookeeper.ssl.keyStore.location}. */
    public static final String KEY_STORE_LOCATION = SSL + "keyStore.location";
    /** {@code zookeeper.ssl.keyStore.type}. */
    public static final String KEY_STORE_TYPE = SSL + "keyStore.type";
    /** {@code zookeeper.ssl.keyStore.password}. */
    public static final String KEY_STORE_PASSWORD = SSL + "keyStore.password";
    /** {@code zookeeper.ssl.trustStore.location}. */
    public static final String TRUST_STORE_LOCATION = SSL + "trustStore.location";
    /** {@code zookeeper.ssl.trustStore.type}. */
    public static final String TRUST_STORE_TYPE = SSL + "trustStore.type";
    /** {@code zookeeper.ssl.trustStore.password}. */
    public static final String TRUST_STORE_PASSWORD = SSL + "trustStore.password";

    private static final String KEY_STORE_PASSWORD_PATH = SSL + "keyStore.passwordPath";
    private static final String TRUST_STORE_PASSWORD_PATH = SSL + "trustStore.passwordPath";
    private static final Set<String> TYPES = Set.of("PEM", "PKCS12");
    private static final Set<String> KNOWN = Set.of(
            SECURE,
            CLIENT_CNXN_SOCKET,
            KEY_STORE_LOCATION,
            KEY_STORE_TYPE,
            KEY_STORE_PASSWORD,
            KEY_STORE_PASSWORD_PATH,
            TRUST_STORE_LOCATION,
            TRUST_STORE_TYPE,
            TRUST_STORE_PASSWORD,
            TRUST_STORE_PASSWORD_PATH,
            SSL + "hostnameVerification",
            SSL + "protocol",
            SSL + "enabledProtocols",
            SSL + "ciphersuites",
            SSL + "crl",
            SSL + "ocsp");

    private final String source;
    /** Every key ZooKeeper's client gets, locations absolute. */
    private final Map<String, String> settings;

    private ZooKeeperClientTls(String source, Map<String, String> settings) {
        this.source = source;
        this.settings = Collections.unmodifiableMap(new TreeMap<>(settings));
    }

    /**
     * Reads and checks the properties {@code file} (see the class comment); relative locations are relative to its
     * directory.
     *
     * @throws IllegalArgumentException naming the file and the key if the file is missing or a setting is wrong
     * @throws IOException if the file exists but cannot be read
     */
    public static ZooKeeperClientTls fromFile(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(in);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("ZooKeeper client TLS configuration " + file + " does not exist", e);
        }
        Path dir = file.toAbsolutePath().getParent();
        return fromProperties(properties, dir, file.toString());
    }

    /**
     * Checks {@code properties} (see the class comment); relative locations are relative to {@code baseDir}.
     *
     * @throws IllegalArgumentException naming the key if a setting is wrong
     */
    public static ZooKeeperClientTls fromProperties(Properties properties, Path baseDir) {
        return fromProperties(properties, baseDir.toAbsolutePath(), "the ZooKeeper client TLS settings");
    }

    private static ZooKeeperClientTls fromProperties(Properties properties, Path baseDir, String source) {
        Map<String, String> settings = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (!KNOWN.contains(key)) {
                throw new IllegalArgumentException(source + ": unknown setting '" + key + "' (known: "
                        + String.join(", ", new java.util.TreeSet<>(KNOWN)) + ")");
            }
            settings.put(key, properties.getProperty(key).trim());
        }
        String secure = settings.getOrDefault(SECURE, "true");
        if (!secure.equalsIgnoreCase("true")) {
            throw new IllegalArgumentException(source + ": " + SECURE + " is '" + secure
                    + "'; this file configures TLS, so it must be true (or left out)");
        }
        settings.put(SECURE, "true");
        String socket = settings.getOrDefault(CLIENT_CNXN_SOCKET, NETTY_SOCKET);
        if (!socket.equals(NETTY_SOCKET)) {
            throw new IllegalArgumentException(source + ": " + CLIENT_CNXN_SOCKET + " is '" + socket
                    + "'; ZooKeeper's client speaks TLS only through " + NETTY_SOCKET);
        }
        settings.put(CLIENT_CNXN_SOCKET, NETTY_SOCKET);
        if (!settings.containsKey(TRUST_STORE_LOCATION)
                || settings.get(TRUST_STORE_LOCATION).isEmpty()) {
            throw new IllegalArgumentException(source + ": " + TRUST_STORE_LOCATION
                    + " is missing: the CA certificates that the ZooKeeper servers' certificates are checked against");
        }
        store(settings, baseDir, source, TRUST_STORE_LOCATION, TRUST_STORE_TYPE, TRUST_STORE_PASSWORD_PATH);
        if (settings.containsKey(KEY_STORE_LOCATION)) {
            store(settings, baseDir, source, KEY_STORE_LOCATION, KEY_STORE_TYPE, KEY_STORE_PASSWORD_PATH);
        } else if (settings.containsKey(KEY_STORE_TYPE) || settings.containsKey(KEY_STORE_PASSWORD)) {
            throw new IllegalArgumentException(
                    source + ": " + KEY_STORE_TYPE + " or " + KEY_STORE_PASSWORD + " without " + KEY_STORE_LOCATION);
        }
        ZooKeeperClientTls tls = new ZooKeeperClientTls(source, settings);
        tls.checkLoads();
        return tls;
    }

    /** Resolves a store's location (and password file) against {@code baseDir}; checks the file and its type. */
    private static void store(
            Map<String, String> settings,
            Path baseDir,
            String source,
            String locationKey,
            String typeKey,
            String passwordPathKey) {
        Path location = baseDir.resolve(settings.get(locationKey));
        if (!Files.isRegularFile(location) || !Files.isReadable(location)) {
            throw new IllegalArgumentException(
                    source + ": " + locationKey + " " + location + " does not exist or cannot be read");
        }
        settings.put(locationKey, location.toString());
        String type = settings.get(typeKey);
        if (type == null || type.isEmpty()) {
            String name = location.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".pem") || name.endsWith(".crt")) {
                type = "PEM";
            } else if (name.endsWith(".p12") || name.endsWith(".pfx")) {
                type = "PKCS12";
            } else {
                throw new IllegalArgumentException(source + ": " + typeKey + " is missing and " + location
                        + "'s extension does not tell (PEM for .pem, PKCS12 for .p12)");
            }
        }
        type = type.toUpperCase(Locale.ROOT);
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException(
                    source + ": " + typeKey + " '" + settings.get(typeKey) + "' is not a known type: PEM or PKCS12");
        }
        settings.put(typeKey, type);
        String passwordPath = settings.get(passwordPathKey);
        if (passwordPath != null) {
            Path p = baseDir.resolve(passwordPath);
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException(
                        source + ": " + passwordPathKey + " " + p + " does not exist or cannot be read");
            }
            settings.put(passwordPathKey, p.toString());
        }
    }

    /** Builds the SSL context as ZooKeeper's client will, so that a store that does not load fails here. */
    private void checkLoads() {
        try (ClientX509Util x509 = new ClientX509Util()) {
            var unused = x509.createSSLContext(clientConfig());
        } catch (X509Exception.SSLContextException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException(
                    source + ": the key store or trust store does not load (" + describe(cause) + ")", e);
        }
    }

    private static String describe(Throwable t) {
        StringBuilder s = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (s.length() > 0) {
                s.append(": ");
            }
            s.append(c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName());
            if (c.getCause() == c) {
                break;
            }
        }
        return s.toString();
    }

    /**
     * A new {@link ZKClientConfig} with these settings, for {@code CuratorFrameworkFactory.builder().zkClientConfig}
     * or {@code new ZooKeeper(connect, timeout, watcher, config)}. Each call returns an independent one.
     */
    public ZKClientConfig clientConfig() {
        ZKClientConfig config = new ZKClientConfig();
        settings.forEach(config::setProperty);
        return config;
    }

    /** Sets {@code builder}'s {@link ZKClientConfig} to {@link #clientConfig()}; returns the builder. */
    public CuratorFrameworkFactory.Builder configure(CuratorFrameworkFactory.Builder builder) {
        return builder.zkClientConfig(clientConfig());
    }

    /** The settings as ZooKeeper's client gets them (locations absolute), passwords shown as {@code (hidden)}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("ZooKeeperClientTls[").append(source);
        settings.forEach(
                (k, v) -> s.append(", ").append(k).append('=').append(k.endsWith(".password") ? "(hidden)" : v));
        return s.append(']').toString();
    }
}
