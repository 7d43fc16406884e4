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
}
