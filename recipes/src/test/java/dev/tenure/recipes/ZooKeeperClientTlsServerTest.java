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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.LoopbackPorts;
import dev.tenure.testkit.tls.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real ZooKeeper server (in-process, {@link ZooKeeperServerEmbedded}) whose only client port is a TLS port
 * ({@code secureClientPort}, Netty, client certificates required): a client with {@link ZooKeeperClientTls} connects
 * and runs a fenced election and a fenced write; a plaintext client and a client whose certificate comes from a
 * foreign CA are refused.
 *
 * <p>ZooKeeper's server reads its TLS settings from system properties (its configuration's {@code ssl.*} keys become
 * {@code zookeeper.ssl.*} properties); they are restored after the class.
 */
@Tag("zookeeper")
@Timeout(120)
class ZooKeeperClientTlsServerTest {
    @TempDir
    static Path dir;

    private static Map<Object, Object> savedProperties;
    private static ZooKeeperServerEmbedded server;
    private static int securePort;
    private static String connect;
    private static ZooKeeperClientTls clientTls;
    private static ZooKeeperClientTls foreignTls;

    @BeforeAll
    static void startTlsOnlyServer() throws Exception {
        savedProperties = new HashMap<>(System.getProperties());
        TestCertificates.Authority ca = TestCertificates.authority("zk-ca");
        TestCertificates.Files serverFiles = ca.issue("zk-server")
                .dnsNames("localhost")
                .ip("127.0.0.1")
                .build()
                .writeTo(dir.resolve("server"));
        Path serverPem = keyStorePem(serverFiles);
        TestCertificates.Files clientFiles =
                ca.issue("tenure").dnsNames("localhost").ip("127.0.0.1").build().writeTo(dir.resolve("client"));
        keyStorePem(clientFiles);
        TestCertificates.Files foreignFiles = TestCertificates.authority("foreign-ca")
                .issue("mallory")
                .dnsNames("localhost")
                .ip("127.0.0.1")
                .build()
                .writeTo(dir.resolve("foreign"));
        keyStorePem(foreignFiles);
        // The foreign client trusts the real CA (so it would accept the server); its own certificate is foreign.
        Files.copy(
                clientFiles.ca(),
                dir.resolve("foreign").resolve("ca.pem"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        securePort = LoopbackPorts.serverPort();
        Properties config = new Properties();
        config.setProperty("tickTime", "500");
        config.setProperty("secureClientPort", String.valueOf(securePort));
        config.setProperty("secureClientPortAddress", "127.0.0.1");
        config.setProperty("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
        config.setProperty("ssl.keyStore.location", serverPem.toString());
        config.setProperty("ssl.keyStore.type", "PEM");
        config.setProperty("ssl.trustStore.location", serverFiles.ca().toString());
        config.setProperty("ssl.trustStore.type", "PEM");
        config.setProperty("ssl.clientAuth", "need");
        config.setProperty("4lw.commands.whitelist", "ruok");
        config.setProperty("admin.enableServer", "false");
        config.setProperty("dataDir", dir.resolve("data").toString());
        Files.createDirectories(dir.resolve("base"));
        server = ZooKeeperServerEmbedded.builder()
                .baseDir(dir.resolve("base"))
                .configuration(config)
                .exitHandler(ExitHandler.LOG_ONLY)
                .build();
        server.start(30_000);
        assertTrue(server.getClientPort() <= 0, "no plaintext client port: " + server.getClientPort());
        connect = "127.0.0.1:" + securePort;
        clientTls = ZooKeeperClientTls.fromFile(clientProperties(dir.resolve("client")));
        foreignTls = ZooKeeperClientTls.fromFile(clientProperties(dir.resolve("foreign")));
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
        if (savedProperties != null) {
            System.getProperties().keySet().removeIf(k -> !savedProperties.containsKey(k));
            System.getProperties().putAll(savedProperties);
        }
    }

    /** ZooKeeper's PEM key store: the private key and the certificate chain in one file. */
    private static Path keyStorePem(TestCertificates.Files f) throws IOException {
        Path pem = f.key().resolveSibling("keystore.pem");
        Files.writeString(pem, Files.readString(f.key()) + Files.readString(f.chain()), StandardCharsets.US_ASCII);
        return pem;
    }

    private static Path clientProperties(Path d) throws IOException {
        return Files.writeString(
                d.resolve("zk-tls.properties"),
                "zookeeper.client.secure=true\n"
                        + "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n"
                        + "zookeeper.ssl.keyStore.location=keystore.pem\n"
                        + "zookeeper.ssl.keyStore.type=PEM\n"
                        + "zookeeper.ssl.trustStore.location=ca.pem\n"
                        + "zookeeper.ssl.trustStore.type=PEM\n",
                StandardCharsets.UTF_8);
    }

    private static CuratorFrameworkFactory.Builder builder() {
        return CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(10_000)
                .connectionTimeoutMs(3_000)
                .retryPolicy(new RetryOneTime(100));
    }

    @Test
    void aClientWithTheTlsConfigConnectsToTheTlsOnlyPortAndRunsAFencedElectionAndWrite() throws Exception {
        String path = "/tenure-tls/" + UUID.randomUUID();
        ZooKeeperAcls acls = ZooKeeperAcls.digest("tenure", "s3cret"); // the digest password now crosses TLS
        try (CuratorFramework client =
                acls.configure(clientTls.configure(builder())).build()) {
            client.start();
            assertTrue(client.blockUntilConnected(30, TimeUnit.SECONDS), "connected over TLS");
            try (FencedLeaderElection election = FencedLeaderElection.builder(client, path)
                    .participantId("a")
                    .leader(LeaderTerm::awaitRevocation)
                    .build()) {
                election.start();
                LeadershipToken token =
                        election.leadership().toCompletableFuture().get(30, TimeUnit.SECONDS);
                assertTrue(token.epoch() > 0, token.toString());
                byte[] value = "written over TLS".getBytes(StandardCharsets.UTF_8);
                var unused = FencedTransaction.commit(
                        client, token, List.of(client.transactionOp().create().forPath(path + "-data", value)));
                assertArrayEquals(value, client.getData().forPath(path + "-data"));
                assertTrue(election.stepDown(token, Duration.ofSeconds(30)));
            }
        }
        assertEquals(
                "imok\n",
                FourLetterWordMain.send4LetterWord("127.0.0.1", securePort, "ruok", clientTls.clientConfig(), 5_000),
                "the same material passes the handshake of ZooKeeper's own four-letter-word client");
    }

    @Test
    void aRestartEndsItsPreviousRunsSessionOverTheClientsTls() throws Exception {
        String path = "/tenure-tls/previous-runs/" + UUID.randomUUID();
        Path file = dir.resolve(UUID.randomUUID() + "-" + PreviousSession.FILE_NAME);
        try (CuratorFramework setUp = clientTls.configure(builder()).build()) {
            setUp.start();
            setUp.create().creatingParentsIfNeeded().forPath("/tenure-tls/previous-runs");
        }
        java.util.concurrent.CountDownLatch up = new java.util.concurrent.CountDownLatch(1);
        org.apache.zookeeper.ZooKeeper previousRun = new org.apache.zookeeper.ZooKeeper(
                connect,
                10_000,
                e -> {
                    if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                        up.countDown();
                    }
                },
                clientTls.clientConfig());
        assertTrue(up.await(30, TimeUnit.SECONDS), "connected over TLS");
        previousRun.create(
                path,
                new byte[0],
                org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE,
                org.apache.zookeeper.CreateMode.EPHEMERAL);
        PreviousSession.write(
                file, new PreviousSession.Session(previousRun.getSessionId(), previousRun.getSessionPasswd()));
        previousRun.getTestable().injectSessionExpiration(); // the handle stops; the servers keep its session
        try (CuratorFramework restarted = clientTls.configure(builder()).build()) {
            restarted.start();
            assertTrue(restarted.blockUntilConnected(30, TimeUnit.SECONDS), "connected over TLS");
            assertTrue(restarted.checkExists().forPath(path) != null, "the dead run's node is still there");
            try (PreviousSession previous =
                    PreviousSession.builder(restarted, file).build()) {
                assertEquals(PreviousSession.Outcome.ENDED, previous.start(), "ended through the TLS port");
            }
            restarted.sync().forPath("/");
            assertEquals(null, restarted.checkExists().forPath(path), "its node went with it");
        }
    }

    @Test
    void aPlaintextClientIsRefusedOnTheTlsPort() throws Exception {
        // At the byte level: the start of a plaintext ConnectRequest (a 4-byte length, then zeros) gets no answer;
        // the server closes the connection (an EOF or a reset).
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", securePort), 5_000);
            socket.setSoTimeout(10_000);
            byte[] request = new byte[48];
            request[3] = 44;
            socket.getOutputStream().write(request);
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            int read;
            try {
                read = in.read();
            } catch (java.net.SocketException reset) {
                read = -1;
            }
            assertEquals(-1, read, "closed without an answer");
        }
        // A Curator client without the TLS config never gets a session (bounded wait).
        try (CuratorFramework plaintext = builder().build()) {
            plaintext.start();
            assertFalse(plaintext.blockUntilConnected(5, TimeUnit.SECONDS), "a plaintext client gets no session");
        }
    }

    @Test
    void aClientWithACertificateOfAForeignCaIsRefused() throws Exception {
        // At the handshake: the server refuses the foreign certificate.
        try (ClientX509Util x509 = new ClientX509Util();
                SSLSocket socket = (SSLSocket) x509.createSSLContext(foreignTls.clientConfig())
                        .getSocketFactory()
                        .createSocket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", securePort), 5_000);
            socket.setSoTimeout(10_000);
            assertThrows(
                    SSLException.class,
                    () -> {
                        socket.startHandshake();
                        // TLS 1.3: the client's certificate is judged after the client's side of the handshake;
                        // the refusal arrives with the first read.
                        // The server may have closed the connection before the write: a reset or broken pipe is
                        // the same refusal, seen a moment earlier.
                        try {
                            socket.getOutputStream().write("ruok".getBytes(StandardCharsets.US_ASCII));
                            socket.getOutputStream().flush();
                        } catch (java.net.SocketException closedByTheServer) {
                            throw new SSLException("closed by the server at the write", closedByTheServer);
                        }
                        int read = socket.getInputStream().read();
                        if (read == -1) {
                            throw new SSLException("closed without an answer");
                        }
                    },
                    "the handshake with a foreign CA's certificate fails");
        }
        try (CuratorFramework foreign = foreignTls.configure(builder()).build()) {
            foreign.start();
            assertFalse(foreign.blockUntilConnected(5, TimeUnit.SECONDS), "a foreign CA's client gets no session");
        }
    }
}
