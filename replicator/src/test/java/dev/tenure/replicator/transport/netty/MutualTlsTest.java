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
package dev.tenure.replicator.transport.netty;

import static dev.tenure.replicator.transport.netty.TestNodes.assertClosedByPeer;
import static dev.tenure.replicator.transport.netty.TestNodes.eventually;
import static dev.tenure.replicator.transport.netty.TestNodes.writeQuietly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import dev.tenure.replicator.transport.netty.tls.TlsSettings;
import dev.tenure.testkit.tls.TestCertificates;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Mutual TLS between replicas: the forged-message attacks of a client that reaches the replication port succeed
 * over plaintext (the before-picture) and are refused with mTLS; plaintext peers, foreign CAs, certificates naming
 * another replica and expired certificates are refused; a server that is not the replica meant gets no hello; the
 * certificates reload without a restart; a node transport's control messages come from the node the certificate
 * names, and no other.
 */
class MutualTlsTest {
    private static final TestCertificates.Authority CA = TestCertificates.authority("tenure-test-ca");
    private static final TestCertificates.Authority FOREIGN = TestCertificates.authority("some-other-ca");

    @TempDir
    Path dir;

    private final TestNodes nodes = new TestNodes("a", "b", "c");
    private final List<NettyTransport> started = new ArrayList<>();
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        started.forEach(NettyTransport::close);
        nodes.close();
    }

    private TestCertificates.Files issue(TestCertificates.Authority ca, String name, String... dnsNames) {
        return ca.issue(name).dnsNames(dnsNames).ip("127.0.0.1").build().writeTo(dir.resolve(name));
    }

    private static TlsContext tls(TestCertificates.Files f) {
        return TlsContext.load(TlsSettings.pem(f.chain(), f.key(), f.ca()));
    }

    /** A started TLS transport of replica {@code id}, its inbox, registered in the directory. */
    private TestNodes.Node startTls(String id, TlsContext tls) throws Exception {
        NettyTransport t = NettyTransport.builder()
                .selfId(id)
                .clusterName(TestNodes.CLUSTER)
                .members(nodes.members)
                .bindAddress(new InetSocketAddress("127.0.0.1", 0))
                .peerDirectory(nodes.directory)
                .tls(tls)
                .build();
        TestNodes.Node node = new TestNodes.Node(t);
        started.add(t);
        t.start(node.inbox::add);
        nodes.directory.addresses.put(id, t.boundAddress());
        return node;
    }

    /**
     * A started TLS node transport of node {@code id}, registered in the directory; the control messages it
     * receives go to {@code control} as "sender:body".
     */
    private NettyTransport startTlsNode(String id, TlsContext tls, BlockingQueue<String> control) throws Exception {
        NettyTransport t = NettyTransport.builder()
                .selfId(id)
                .clusterName(TestNodes.CLUSTER)
                .members(nodes.members)
                .bindAddress(new InetSocketAddress("127.0.0.1", 0))
                .peerDirectory(nodes.directory)
                .tls(tls)
                .build();
        started.add(t);
        t.asNodeTransport().start(new dev.tenure.replicator.transport.NodeTransport.PartitionInbound() {
            @Override
            public void receive(String partition, Message message) {}

            @Override
            public void control(String fromNode, byte[] body) {
                control.add(fromNode + ":" + new String(body, java.nio.charset.StandardCharsets.UTF_8));
            }
        });
        nodes.directory.addresses.put(id, t.boundAddress());
        return t;
    }

    @Test
    @Timeout(60)
    void withMutualTlsAControlMessageArrivesAsFromTheNodeItsSendersCertificateNames() throws Exception {
        BlockingQueue<String> atA = new LinkedBlockingQueue<>();
        startTlsNode("a", tls(issue(CA, "a", "a")), atA);
        NettyTransport b = startTlsNode("b", tls(issue(CA, "b", "b")), new LinkedBlockingQueue<>());
        String got = null;
        long deadline = System.nanoTime() + TestNodes.WAIT.toNanos();
        while (got == null && System.nanoTime() < deadline) {
            b.asNodeTransport()
                    .sendControl("a", "leader-and-replicas".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            got = atA.poll(50, TimeUnit.MILLISECONDS);
        }
        assertEquals("b:leader-and-replicas", got);
    }

    @Test
    @Timeout(60)
    void withMutualTlsAMembersCertificateCannotMakeAControlMessageAppearFromAnotherNode() throws Exception {
        BlockingQueue<String> atA = new LinkedBlockingQueue<>();
        NettyTransport a = startTlsNode("a", tls(issue(CA, "a", "a")), atA);
        SSLSocket s = tlsClient(issue(CA, "c", "c"), a.boundAddress()); // a valid certificate, of member c
        writeQuietly(
                s,
                hello("b"), // claims to be b
                MessageCodec.encodeFrame(
                        new Frame.Control("forged".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        assertClosedByPeer(s);
        eventually("the hello counted as refused", () -> a.connectionsRefused() >= 1);
        assertNull(atA.poll(), "no control message was delivered");
        assertEquals(0, a.messagesReceived());
    }

    /** The messages an impostor claiming to be member b sends to a. */
    static Stream<Message> forgeries() {
        return Stream.of(
                new Message.NewEpoch("b", "a", Long.MAX_VALUE),
                new Message.Append("b", "a", 1, 0, 1, List.of(Entry.data(1, 1, new byte[] {6, 6, 6})), 2, 1),
                new Message.AppendAck("b", "a", 1, 1_000, 1),
                new Message.Rejected("b", "a", Long.MAX_VALUE, "b", 1));
    }

    private static byte[] hello(String from) {
        return MessageCodec.encodeFrame(new Frame.Hello(TestNodes.CLUSTER, from, "a"));
    }

    @ParameterizedTest
    @MethodSource("forgeries")
    void overPlaintextAnyClientSpeaksAsAMemberThatIsTheAttack(Message forged) throws Exception {
        TestNodes.Node a = nodes.start("a");
        Socket s = TestNodes.connect(a.address());
        sockets.add(s);
        writeQuietly(s, hello("b"), MessageCodec.encode(forged));
        assertEquals(forged, a.take(), "the before-picture: a plaintext replica takes the forgery from anyone");
    }

    @ParameterizedTest
    @MethodSource("forgeries")
    void withMutualTlsAPlaintextClientsForgeryIsRefused(Message forged) throws Exception {
        TestNodes.Node a = startTls("a", tls(issue(CA, "a", "a")));
        Socket s = TestNodes.connect(a.address());
        sockets.add(s);
        writeQuietly(s, hello("b"), MessageCodec.encode(forged));
        assertClosedByPeer(s);
        eventually("the plaintext connection counted as refused", () -> a.transport.connectionsRefused() >= 1);
        assertNull(a.inbox.poll(), "nothing was delivered");
    }

    @ParameterizedTest
    @MethodSource("forgeries")
    void withMutualTlsAMembersCertificateCannotSpeakAsAnotherMember(Message forged) throws Exception {
        TestNodes.Node a = startTls("a", tls(issue(CA, "a", "a")));
        SSLSocket s = tlsClient(issue(CA, "c", "c"), a.address()); // a valid certificate, of member c
        writeQuietly(s, hello("b"), MessageCodec.encode(forged));
        assertClosedByPeer(s);
        eventually("the hello counted as refused", () -> a.transport.connectionsRefused() >= 1);
        assertNull(a.inbox.poll(), "nothing was delivered");
    }

    /**
     * Every test of this class runs on the engine this asserts: BoringSSL (netty-tcnative, on the class path through
     * ZooKeeper's client) where its native library loads, as on every platform the project builds on; the JDK's
     * sockets of the other tests talk to it.
     */
    @Test
    void theTransportEncryptsWithBoringSslWhereItsNativeLibraryLoads() {
        assertTrue(OpenSsl.isAvailable(), () -> "netty-tcnative did not load: " + OpenSsl.unavailabilityCause());
        assertEquals(SslProvider.OPENSSL, TlsContext.provider());
    }

    @Test
    void certificatesOfAForeignCaOrExpiredOnesAreRefusedAtTheHandshake() throws Exception {
        TestNodes.Node a = startTls("a", tls(issue(CA, "a", "a")));
        TestCertificates.Files foreign = issue(FOREIGN, "b-foreign", "b");
        assertHandshakeRefused(foreign, a);
        TestCertificates.Files expired = CA.issue("b-expired")
                .dnsNames("b")
                .validity(
                        Instant.now().minus(Duration.ofDays(10)), Instant.now().minus(Duration.ofDays(1)))
                .build()
                .writeTo(dir.resolve("b-expired"));
        assertHandshakeRefused(expired, a);
        assertNull(a.inbox.poll());
    }

    private void assertHandshakeRefused(TestCertificates.Files client, TestNodes.Node a) throws Exception {
        long before = a.transport.connectionsRefused();
        SSLContext ctx = sslContext(client, CA);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
            s.connect(a.address(), 2_000);
            s.setSoTimeout(5_000);
            // TLS 1.3: the client's handshake may complete before the server checks its certificate; the server then
            // closes, so the failure shows on the first read at the latest.
            assertThrows(IOException.class, () -> {
                s.startHandshake();
                s.getOutputStream().write(hello("b"));
                s.getOutputStream().flush();
                if (s.getInputStream().read() < 0) {
                    throw new IOException("closed by the server");
                }
            });
        }
        eventually("the handshake counted as refused", () -> a.transport.connectionsRefused() > before);
    }

    @Test
    void membersWithCertificatesOfTheClusterCaExchangeMessagesAndAServerThatIsNotTheReplicaMeantGetsNoHello()
            throws Exception {
        TestNodes.Node a = startTls("a", tls(issue(CA, "a", "a")));
        TestNodes.Node b = startTls("b", tls(issue(CA, "b", "b")));
        TestNodes.sendUntilReceived(b, new Message.NewEpoch("b", "a", 3), a);
        TestNodes.sendUntilReceived(a, new Message.NewEpoch("a", "b", 4), b);

        // c's address now leads to an impostor with a valid certificate of the cluster's CA, naming "mallory".
        TestCertificates.Files mallory = issue(CA, "mallory", "mallory");
        SSLContext ctx = sslContext(mallory, CA);
        try (SSLServerSocket impostor =
                (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket()) {
            impostor.setNeedClientAuth(true);
            impostor.bind(new InetSocketAddress("127.0.0.1", 0));
            impostor.setSoTimeout(10_000);
            nodes.directory.addresses.put("c", (InetSocketAddress) impostor.getLocalSocketAddress());
            a.transport.send(new Message.NewEpoch("a", "c", 5));
            try (SSLSocket accepted = (SSLSocket) impostor.accept()) {
                accepted.setSoTimeout(10_000);
                InputStream in = accepted.getInputStream();
                int first;
                try {
                    first = in.read();
                } catch (IOException e) {
                    first = -1; // a closed the connection during or after the handshake
                }
                assertEquals(-1, first, "a sent nothing, not even its hello, to a server that is not c");
            }
        }
    }

    @Test
    void aReplicasCertificateIsReplacedWithoutARestartAndABrokenReplacementKeepsTheOldOne() throws Exception {
        TestCertificates.Files files = issue(CA, "a", "a");
        TestNodes.Node a = startTls("a", tls(files));
        TestCertificates.Files client = issue(CA, "c", "c");
        X509Certificate first = serverCertificate(client, a);

        // Rotation: a new certificate for a, written over the files a reads.
        TestCertificates.Files next =
                CA.issue("a").dnsNames("a").ip("127.0.0.1").build().writeTo(dir.resolve("a"));
        assertEquals(files, next);
        X509Certificate rotated = awaitServerCertificate(client, a, c -> !c.equals(first));
        assertNotEquals(first.getSerialNumber(), rotated.getSerialNumber());

        // A broken replacement (a key that is not a key) is refused; the rotated certificate stays in use.
        Files.writeString(files.key(), "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        Files.setLastModifiedTime(
                files.key(), java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(5)));
        assertEquals(rotated, serverCertificate(client, a));
    }

    private X509Certificate awaitServerCertificate(
            TestCertificates.Files client, TestNodes.Node a, java.util.function.Predicate<X509Certificate> done)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            X509Certificate c = serverCertificate(client, a);
            if (done.test(c)) {
                return c;
            }
            assertTrue(System.nanoTime() < deadline, "the server never presented the new certificate");
            Thread.sleep(20); // file times may have a coarse resolution: polling new handshakes
        }
    }

    /** The certificate a presents to a new connection. */
    private X509Certificate serverCertificate(TestCertificates.Files client, TestNodes.Node a) throws Exception {
        try (SSLSocket s = tlsClient(client, a.address())) {
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    private SSLSocket tlsClient(TestCertificates.Files client, InetSocketAddress address) throws Exception {
        SSLSocket s = (SSLSocket) sslContext(client, CA).getSocketFactory().createSocket();
        sockets.add(s);
        s.connect(address, 2_000);
        s.setSoTimeout(5_000);
        s.startHandshake();
        return s;
    }

    private static SSLContext sslContext(TestCertificates.Files own, TestCertificates.Authority trusted)
            throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(own.keystore())) {
            ks.load(in, TestCertificates.PKCS12_PASSWORD.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, TestCertificates.PKCS12_PASSWORD.toCharArray());
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", trusted.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    @Test
    void settingsAreCheckedWithClearErrors() throws Exception {
        TestCertificates.Files f = issue(CA, "a", "a");
        IllegalArgumentException missing = assertThrows(
                IllegalArgumentException.class,
                () -> TlsContext.load(TlsSettings.pem(dir.resolve("nope.pem"), f.key(), f.ca())));
        assertTrue(missing.getMessage().contains("nope.pem"), missing.getMessage());
        TestCertificates.Files other = issue(CA, "other", "other");
        IllegalArgumentException mismatch = assertThrows(
                IllegalArgumentException.class, () -> TlsContext.load(TlsSettings.pem(f.chain(), other.key(), f.ca())));
        assertTrue(mismatch.getMessage().contains("cannot use the TLS material"), mismatch.getMessage());
        IllegalArgumentException password = assertThrows(
                IllegalArgumentException.class,
                () -> TlsContext.load(TlsSettings.pkcs12(f.keystore(), "wrong", f.truststore(), "wrong")));
        assertTrue(password.getMessage().contains("cannot use the TLS material"), password.getMessage());
        assertEquals(
                f.keystore(),
                TlsContext.load(TlsSettings.pkcs12(
                                f.keystore(),
                                TestCertificates.PKCS12_PASSWORD,
                                f.truststore(),
                                TestCertificates.PKCS12_PASSWORD))
                        .settings()
                        .keystore());
        IllegalArgumentException unknown = assertThrows(
                IllegalArgumentException.class,
                () -> TlsSettings.fromProperties(Map.of("ssl.keystore.locaton", "x"), dir));
        assertTrue(unknown.getMessage().contains("ssl.keystore.locaton"), unknown.getMessage());
        IllegalArgumentException type = assertThrows(
                IllegalArgumentException.class,
                () -> TlsSettings.fromProperties(
                        Map.of(
                                "ssl.keystore.type", "JKS",
                                "ssl.keystore.location", "k",
                                "ssl.truststore.location", "t"),
                        dir));
        assertTrue(type.getMessage().contains("PEM or PKCS12"), type.getMessage());
        TlsSettings fromKeys = TlsSettings.fromProperties(
                Map.of(
                        "ssl.keystore.type", "PEM",
                        "ssl.keystore.location", "a/chain.pem",
                        "ssl.key.location", "a/key.pem",
                        "ssl.truststore.location", "a/ca.pem"),
                dir);
        assertEquals(f.chain(), TlsContext.load(fromKeys).settings().keystore());
        IllegalArgumentException neither = assertThrows(
                IllegalArgumentException.class,
                () -> NettyTransport.builder()
                        .selfId("a")
                        .clusterName(TestNodes.CLUSTER)
                        .members(nodes.members)
                        .peerDirectory(nodes.directory)
                        .build(),
                "no security chosen");
        assertTrue(neither.getMessage().contains("plaintext()"), neither.getMessage());
    }
}
