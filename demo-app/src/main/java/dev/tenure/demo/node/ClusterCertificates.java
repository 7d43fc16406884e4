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
package dev.tenure.demo.node;

import dev.tenure.testkit.tls.TestCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throwaway certificates for a demo cluster: one CA, and for each replica a certificate naming its id (SAN DNS, as
 * the replication transport's identity rule asks) and {@code 127.0.0.1}, its key, and a {@code transport.properties}
 * for {@code node --transport-tls-config}. For the embedded demo, {@code verify}'s testbed and {@code demo-app certs};
 * a real deployment uses its own CA (see docs/security.md).
 */
public final class ClusterCertificates {
    private ClusterCertificates() {}

    /**
     * Writes {@code DIR/ca.pem} and, for each id, {@code DIR/ID/chain.pem}, {@code key.pem}, {@code ca.pem},
     * PKCS#12 stores and {@code transport.properties}; returns each id's properties file.
     */
    public static Map<String, Path> write(Path dir, List<String> ids) throws IOException {
        TestCertificates.Authority ca = TestCertificates.authority("tenure-demo-ca");
        Files.createDirectories(dir);
        ca.writeCertificate(dir.resolve("ca.pem"));
        Map<String, Path> properties = new LinkedHashMap<>();
        for (String id : ids) {
            TestCertificates.Files f = ca.issue(id)
                    .dnsNames(id, "localhost")
                    .ip("127.0.0.1")
                    .build()
                    .writeTo(dir.resolve(id));
            Path p = dir.resolve(id).resolve("transport.properties");
            Files.writeString(
                    p,
                    "# mutual TLS between the replicas (node --transport-tls-config); see docs/security.md\n"
                            + "ssl.keystore.type=PEM\n"
                            + "ssl.keystore.location=" + f.chain().getFileName() + "\n"
                            + "ssl.key.location=" + f.key().getFileName() + "\n"
                            + "ssl.truststore.type=PEM\n"
                            + "ssl.truststore.location=" + f.ca().getFileName() + "\n",
                    StandardCharsets.UTF_8);
            properties.put(id, p);
        }
        return properties;
    }

    /**
     * Throwaway certificates for a ZooKeeper ensemble with TLS client ports ({@code zk start --tls}), under {@code dir}
     * (created {@code 0700}, files {@code 0600}): a CA ({@code ca.pem}), the servers' certificate ({@code
     * server/keystore.pem}, naming {@code localhost} and {@code 127.0.0.1}) and the clients' ({@code
     * client/keystore.pem}), each a ZooKeeper PEM key store: the PKCS#8 key and the certificate in one file. Files
     * already there are kept, so that clients configured with them keep working across restarts.
     */
    public static dev.tenure.harness.ZooKeeperProcessEnsemble.ClientTls writeZooKeeper(Path dir) throws IOException {
        Path ca = dir.resolve("ca.pem");
        Path server = dir.resolve("server").resolve("keystore.pem");
        Path client = dir.resolve("client").resolve("keystore.pem");
        if (!(Files.exists(ca) && Files.exists(server) && Files.exists(client))) {
            privateDirectory(dir);
            TestCertificates.Authority authority = TestCertificates.authority("tenure-zookeeper-ca");
            authority.writeCertificate(ca);
            keyStore(authority.issue("zookeeper").dnsNames("localhost").ip("127.0.0.1"), server);
            keyStore(authority.issue("tenure").dnsNames("localhost").ip("127.0.0.1"), client);
        }
        return new dev.tenure.harness.ZooKeeperProcessEnsemble.ClientTls(server, client, ca);
    }

    /** Writes the certificate's files beside {@code keyStore}, then the key and chain together into it (0600). */
    private static void keyStore(TestCertificates.IssueBuilder certificate, Path keyStore) throws IOException {
        privateDirectory(keyStore.getParent());
        TestCertificates.Files f = certificate.build().writeTo(keyStore.getParent());
        String pem = Files.readString(f.key(), StandardCharsets.US_ASCII)
                + Files.readString(f.chain(), StandardCharsets.US_ASCII);
        Path tmp = keyStore.resolveSibling(keyStore.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (posix(tmp)) {
            Files.createFile(
                    tmp,
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
        Files.move(tmp, keyStore, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static void privateDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        if (posix(dir)) {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        }
    }

    private static boolean posix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
