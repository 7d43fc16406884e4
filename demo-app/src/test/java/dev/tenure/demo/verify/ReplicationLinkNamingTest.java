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
package dev.tenure.demo.verify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tenure.harness.LinkProxy;
import dev.tenure.harness.Links;
import dev.tenure.harness.TlsKeys;
import dev.tenure.replicator.transport.netty.MessageCodec;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import dev.tenure.testkit.tls.TestCertificates;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The testbed's replication proxies name each connection's link by the sender: in plaintext by the sender in the
 * replicas' own hello; over mutual TLS (verify's default) by the replica the client certificate names, terminating
 * TLS with the certificates the testbed writes, so that each end still authenticates the replica it expects.
 */
class ReplicationLinkNamingTest {
    private static final List<String> IDS = List.of("r1", "r2", "r3");

    private static final LinkProxy.LinkNamer TO_R1 = LinkProxy.replicationTo("r1", MessageCodec::helloSender);

    @Test
    void aReplicationConnectionIsNamedByTheSenderInItsHello() throws Exception {
        byte[] hello = MessageCodec.encodeHello("kv", "r2", "r1");
        ByteArrayOutputStream consumed = new ByteArrayOutputStream();
        assertEquals(
                Links.replication("r2", "r1"),
                TO_R1.name(new DataInputStream(new ByteArrayInputStream(hello)), consumed));
        assertArrayEquals(hello, consumed.toByteArray(), "every byte read is forwarded first");
    }

    @Test
    void aConnectionWithoutAHelloIsNamedByAnUnknownSender() throws Exception {
        byte[] junk = ByteBuffer.allocate(8).putInt(4).putInt(42).array();
        assertEquals(
                Links.replication("?", "r1"),
                TO_R1.name(new DataInputStream(new ByteArrayInputStream(junk)), new ByteArrayOutputStream()));
    }

    @Test
    @Timeout(60)
    void overMutualTlsAConnectionIsNamedByTheReplicaItsCertificateNamesAndEachEndAuthenticatesTheOther(
            @TempDir Path dir) throws Exception {
        Map<String, Path> configs = Testbed.writeCertificates(dir.resolve("tls"), IDS);
        for (String id : IDS) {
            assertEquals("rwx------", permissions(dir.resolve("tls").resolve(id)), id);
            assertEquals("rw-------", permissions(configs.get(id)), id);
            assertEquals("rw-------", permissions(dir.resolve("tls").resolve(id).resolve("key.pem")), id);
        }
        TlsKeys keys = Testbed.proxyKeys(dir.resolve("tls"), IDS);
        BlockingQueue<String> seenByR1 = new LinkedBlockingQueue<>();
        try (SSLServerSocket r1 = (SSLServerSocket) context(dir, "r1")
                        .getServerSocketFactory()
                        .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
                Links links = new Links()) {
            r1.setNeedClientAuth(true);
            startAccepting(r1, seenByR1);
            try (LinkProxy proxy = Testbed.replicationProxy(
                    "r1", new InetSocketAddress(InetAddress.getLoopbackAddress(), r1.getLocalPort()), keys, links)) {
                links.cut(List.of(Links.replication("r2", "r1")));
                try (SSLSocket fromR2 = connect(dir, "r2", proxy);
                        SSLSocket fromR3 = connect(dir, "r3", proxy)) {
                    assertNull(
                            TlsContext.identityProblem(fromR3.getSession(), "r1"),
                            "the proxy speaks as r1 by the replicator's own rule");
                    send(fromR3, MessageCodec.encodeHello("kv", "r3", "r1"));
                    assertEquals("r3 authenticated", seenByR1.poll(10, TimeUnit.SECONDS), "r3->r1 is not cut");

                    send(fromR2, MessageCodec.encodeHello("kv", "r2", "r1"));
                    assertNull(seenByR1.poll(300, TimeUnit.MILLISECONDS), "r2->r1 is cut");
                    links.healAll();
                    assertEquals("r2 authenticated", seenByR1.poll(10, TimeUnit.SECONDS), "r2->r1 after the heal");
                }
            }
        }
    }

    private static String permissions(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /**
     * Replica {@code id}'s TLS context from the PKCS#12 stores the testbed wrote: its key, the testbed's CA as the
     * only trust anchor.
     */
    private static SSLContext context(Path dir, String id) throws Exception {
        char[] password = TestCertificates.PKCS12_PASSWORD.toCharArray();
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        KeyStore trustStore = KeyStore.getInstance("PKCS12");
        try (InputStream k = Files.newInputStream(dir.resolve("tls").resolve(id).resolve("keystore.p12"));
                InputStream t =
                        Files.newInputStream(dir.resolve("tls").resolve(id).resolve("truststore.p12"))) {
            keyStore.load(k, password);
            trustStore.load(t, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keyStore, password);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trustStore);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    private static SSLSocket connect(Path dir, String id, LinkProxy proxy) throws Exception {
        SSLSocket s = (SSLSocket) context(dir, id)
                .getSocketFactory()
                .createSocket(proxy.address().getAddress(), proxy.address().getPort());
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    private static void send(SSLSocket s, byte[] frame) throws Exception {
        s.getOutputStream().write(frame);
        s.getOutputStream().flush();
    }

    /**
     * For each connection: reads the hello frame and reports {@code SENDER authenticated} if the client's certificate
     * names the sender the hello claims (the replicator's rule), {@code SENDER PROBLEM} if not.
     */
    private static void startAccepting(SSLServerSocket server, BlockingQueue<String> seen) {
        Thread accepting = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    SSLSocket s = (SSLSocket) server.accept();
                    Thread reading = new Thread(() -> {
                        try (s) {
                            DataInputStream in = new DataInputStream(s.getInputStream());
                            int length = in.readInt();
                            byte[] frame = ByteBuffer.allocate(4 + length)
                                    .putInt(length)
                                    .put(in.readNBytes(length))
                                    .array();
                            String sender = MessageCodec.helloSender(frame);
                            String problem = TlsContext.identityProblem(s.getSession(), sender);
                            seen.add(sender + " " + (problem == null ? "authenticated" : problem));
                        } catch (Exception e) {
                            seen.add("failed: " + e);
                        }
                    });
                    reading.setDaemon(true);
                    reading.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        accepting.setDaemon(true);
        accepting.start();
    }
}
