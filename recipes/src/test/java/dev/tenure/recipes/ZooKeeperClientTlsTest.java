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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.tls.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ZooKeeperClientTls} reads ZooKeeper's standard client TLS keys and refuses bad files with clear errors. */
class ZooKeeperClientTlsTest {
    @TempDir
    Path dir;

    private TestCertificates.Files files;

    @BeforeEach
    void certificates() throws Exception {
        files = TestCertificates.authority("zk-ca")
                .issue("client")
                .dnsNames("localhost")
                .ip("127.0.0.1")
                .build()
                .writeTo(dir);
        // ZooKeeper's PEM key store: the private key and the certificate chain in one file.
        Files.writeString(
                dir.resolve("client.pem"),
                Files.readString(files.key()) + Files.readString(files.chain()),
                StandardCharsets.US_ASCII);
    }

    private Path props(String text) throws Exception {
        return Files.writeString(dir.resolve("zk-tls.properties"), text, StandardCharsets.UTF_8);
    }

    private String refused(String text) throws Exception {
        Path file = props(text);
        return assertThrows(IllegalArgumentException.class, () -> ZooKeeperClientTls.fromFile(file))
                .getMessage();
    }

    @Test
    void aPemFileWithRelativeLocationsBecomesASecureNettyClientConfig() throws Exception {
        ZooKeeperClientTls tls = ZooKeeperClientTls.fromFile(
                props("zookeeper.ssl.keyStore.location=client.pem\n" + "zookeeper.ssl.trustStore.location=ca.pem\n"));
        ZKClientConfig config = tls.clientConfig();
        assertEquals("true", config.getProperty("zookeeper.client.secure"));
        assertEquals("org.apache.zookeeper.ClientCnxnSocketNetty", config.getProperty("zookeeper.clientCnxnSocket"));
        assertEquals(dir.resolve("client.pem").toString(), config.getProperty("zookeeper.ssl.keyStore.location"));
        assertEquals("PEM", config.getProperty("zookeeper.ssl.keyStore.type"), "the type follows the extension");
        assertEquals("PEM", config.getProperty("zookeeper.ssl.trustStore.type"));
        assertTrue(tls.clientConfig() != config, "a new config at every call");
    }

    @Test
    void pkcs12StoresWithTheirPasswordsAreAcceptedAndThePasswordIsNeverShown() throws Exception {
        ZooKeeperClientTls tls = ZooKeeperClientTls.fromFile(props("zookeeper.client.secure=true\n"
                + "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n"
                + "zookeeper.ssl.keyStore.location=keystore.p12\n"
                + "zookeeper.ssl.keyStore.type=PKCS12\n"
                + "zookeeper.ssl.keyStore.password=" + TestCertificates.PKCS12_PASSWORD + "\n"
                + "zookeeper.ssl.trustStore.location=truststore.p12\n"
                + "zookeeper.ssl.trustStore.type=pkcs12\n"
                + "zookeeper.ssl.trustStore.password=" + TestCertificates.PKCS12_PASSWORD + "\n"));
        assertEquals("PKCS12", tls.clientConfig().getProperty("zookeeper.ssl.trustStore.type"));
        assertFalse(tls.toString().contains(TestCertificates.PKCS12_PASSWORD), tls.toString());
    }

    @Test
    void aMissingFileIsRefusedNamingIt() {
        Path missing = dir.resolve("nope.properties");
        String message = assertThrows(IllegalArgumentException.class, () -> ZooKeeperClientTls.fromFile(missing))
                .getMessage();
        assertTrue(message.contains(missing.toString()) && message.contains("does not exist"), message);
    }

    @Test
    void aFileWithoutATrustStoreIsRefused() throws Exception {
        String message = refused("zookeeper.ssl.keyStore.location=client.pem\n");
        assertTrue(message.contains("zookeeper.ssl.trustStore.location is missing"), message);
    }

    @Test
    void aStoreThatDoesNotExistIsRefusedNamingTheKeyAndTheFile() throws Exception {
        String message = refused("zookeeper.ssl.trustStore.location=elsewhere/ca.pem\n");
        assertTrue(
                message.contains("zookeeper.ssl.trustStore.location")
                        && message.contains(dir.resolve("elsewhere/ca.pem").toString()),
                message);
    }

    @Test
    void anUnknownStoreTypeIsRefused() throws Exception {
        String message = refused("zookeeper.ssl.trustStore.location=ca.pem\nzookeeper.ssl.trustStore.type=JKSX\n");
        assertTrue(message.contains("'JKSX' is not a known type: PEM or PKCS12"), message);
        String unknownExtension = refused("zookeeper.ssl.trustStore.location=truststore.bin\n");
        assertTrue(unknownExtension.contains("does not exist"), unknownExtension);
        Files.copy(files.truststore(), dir.resolve("truststore.bin"));
        String noType = refused("zookeeper.ssl.trustStore.location=truststore.bin\n");
        assertTrue(noType.contains("zookeeper.ssl.trustStore.type is missing"), noType);
    }

    @Test
    void plaintextAnotherSocketAndMisspeltKeysAreRefused() throws Exception {
        String plain = refused("zookeeper.client.secure=false\nzookeeper.ssl.trustStore.location=ca.pem\n");
        assertTrue(plain.contains("must be true"), plain);
        String nio = refused("zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNIO\n"
                + "zookeeper.ssl.trustStore.location=ca.pem\n");
        assertTrue(nio.contains("ClientCnxnSocketNetty"), nio);
        String typo = refused("zookeeper.ssl.truststore.location=ca.pem\n");
        assertTrue(typo.contains("unknown setting 'zookeeper.ssl.truststore.location'"), typo);
    }

    @Test
    void aStoreThatDoesNotLoadIsRefusedAtOnce() throws Exception {
        String wrongPassword = refused("zookeeper.ssl.trustStore.location=ca.pem\n"
                + "zookeeper.ssl.keyStore.location=keystore.p12\nzookeeper.ssl.keyStore.password=wrong\n");
        assertTrue(wrongPassword.contains("does not load"), wrongPassword);
        assertFalse(wrongPassword.contains("=wrong"), wrongPassword);
        // chain.pem alone has no private key: ZooKeeper's PEM key store needs both in one file.
        String noKey = refused("zookeeper.ssl.trustStore.location=ca.pem\nzookeeper.ssl.keyStore.location=chain.pem\n");
        assertTrue(noKey.contains("does not load"), noKey);
    }
}
