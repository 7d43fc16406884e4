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
package dev.tenure.harness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link LinkProxy#terminatingTls}: in front of replica r1's mutual-TLS port (here a TLS echo server with r1's key
 * that requires a client certificate), the proxy names each connection by the replica its client certificate names,
 * cuts and heals it like a plaintext link, reaches r1 with the sender's own certificate, and refuses clients without
 * a certificate from the cluster's CA.
 */
@Timeout(30)
class TlsLinkProxyTest {
    private static final List<String> IDS = List.of("r1", "r2", "r3");

    private final Links links = new Links();
    private TestPki ca;
    private TlsKeys keys;
    private SSLServerSocket r1;
    /** Per connection r1 accepted: the replica its client's certificate names, a colon, the first bytes read. */
    private final BlockingQueue<String> seenByR1 = new LinkedBlockingQueue<>();

    @BeforeEach
    void startR1() throws Exception {
        ca = TestPki.authority("test-ca");
        keys = TlsKeys.of(ca.certificate(), Map.of("r1", ca.issue("r1"), "r2", ca.issue("r2"), "r3", ca.issue("r3")));
        r1 = (SSLServerSocket)
                keys.context("r1").getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        r1.setNeedClientAuth(true);
        r1.setEnabledProtocols(new String[] {"TLSv1.3"});
        Thread t = new Thread(() -> {
            while (!r1.isClosed()) {
                try {
                    SSLSocket s = (SSLSocket) r1.accept();
                    Thread c = new Thread(() -> echo(s));
                    c.setDaemon(true);
                    c.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
    }

    private void echo(SSLSocket s) {
        try (s) {
            s.startHandshake();
            String peer = keys.peerId(s.getSession()).orElse("?");
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            boolean first = true;
            int n;
            while ((n = in.read(buf)) > 0) {
                if (first) {
                    seenByR1.add(peer + ":" + new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    first = false;
                }
                s.getOutputStream().write(buf, 0, n);
                s.getOutputStream().flush();
            }
        } catch (IOException ignored) {
            // the test closed it
        }
    }

    @AfterEach
    void stop() throws IOException {
        links.close();
        r1.close();
    }

    private LinkProxy proxy() throws IOException {
        return LinkProxy.terminatingTls(
                "tls-r1",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), r1.getLocalPort()),
                "r1",
                keys,
                links);
    }

    /** A TLS connection to the proxy as replica {@code id}, handshake done. */
    private SSLSocket connect(SSLContext context, LinkProxy proxy) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory()
                .createSocket(proxy.address().getAddress(), proxy.address().getPort());
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    private static byte[] roundTrip(Socket s, String text) throws IOException {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        s.getOutputStream().write(data);
        s.getOutputStream().flush();
        return new DataInputStream(s.getInputStream()).readNBytes(data.length);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aTlsConnectionIsNamedByTheReplicaItsCertificateNamesAndReachesTheTargetAsThatReplica() throws Exception {
        links.cut(List.of(Links.replication("r2", "r1")));
        try (LinkProxy proxy = proxy();
                SSLSocket fromR2 = connect(keys.context("r2"), proxy);
                SSLSocket fromR3 = connect(keys.context("r3"), proxy)) {
            assertEquals(List.of("r1"), proxyNames(fromR3), "the proxy presents r1's certificate");
            assertArrayEquals(bytes("from r3"), roundTrip(fromR3, "from r3"), "r3->r1 is not cut");
            assertEquals("r3:from r3", seenByR1.poll(10, TimeUnit.SECONDS), "r1 saw r3's own certificate");

            fromR2.getOutputStream().write(bytes("from r2"));
            fromR2.getOutputStream().flush();
            fromR2.setSoTimeout(300);
            assertThrows(
                    SocketTimeoutException.class, () -> fromR2.getInputStream().read(), "r2->r1 is cut");
            assertNull(seenByR1.poll(100, TimeUnit.MILLISECONDS), "r1 saw nothing from r2 while cut");

            links.healAll();
            fromR2.setSoTimeout(10_000);
            assertArrayEquals(bytes("from r2"), new DataInputStream(fromR2.getInputStream()).readNBytes(7));
            assertEquals("r2:from r2", seenByR1.poll(10, TimeUnit.SECONDS), "r1 saw r2's own certificate");
        }
    }

    @Test
    void aCutTlsLinkHoldsBytesAndDeliversThemInOrderWhenHealed() throws Exception {
        try (LinkProxy proxy = proxy();
                SSLSocket s = connect(keys.context("r2"), proxy)) {
            assertArrayEquals(bytes("a"), roundTrip(s, "a"));
            links.cut(List.of(Links.replication("r2", "r1")));
            s.getOutputStream().write(bytes("bc"));
            s.getOutputStream().flush();
            s.setSoTimeout(500);
            assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read(), "nothing moves while cut");
            links.heal(List.of(Links.replication("r2", "r1")));
            s.setSoTimeout(10_000);
            assertArrayEquals(bytes("bc"), new DataInputStream(s.getInputStream()).readNBytes(2));
        }
    }

    @Test
    void closingOneSideClosesTheOther() throws Exception {
        try (LinkProxy proxy = proxy();
                SSLSocket s = connect(keys.context("r2"), proxy)) {
            assertArrayEquals(bytes("a"), roundTrip(s, "a"));
            s.shutdownOutput(); // close_notify: r1 reads the end of the stream and closes its side
            assertEquals(-1, s.getInputStream().read(), "r1's close reaches the client through the proxy");
        }
    }

    @Test
    void aDropResetsTlsConnectionsAndAHealLetsNewOnesThrough() throws Exception {
        try (LinkProxy proxy = proxy();
                SSLSocket s = connect(keys.context("r2"), proxy)) {
            assertArrayEquals(bytes("a"), roundTrip(s, "a"));
            proxy.drop();
            assertThrows(IOException.class, () -> {
                if (roundTrip(s, "b").length < 1) {
                    throw new IOException("end of stream");
                }
            });
            proxy.heal();
            try (SSLSocket again = connect(keys.context("r3"), proxy)) {
                assertArrayEquals(bytes("c"), roundTrip(again, "c"));
            }
        }
    }

    @Test
    void aClientWithoutACertificateIsRefused() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext noCertificate = SSLContext.getInstance("TLSv1.3");
        noCertificate.init(null, tmf.getTrustManagers(), null);
        try (LinkProxy proxy = proxy()) {
            assertRefused(noCertificate, proxy);
        }
    }

    @Test
    void aClientWithACertificateFromAnotherCaIsRefused() throws Exception {
        TestPki other = TestPki.authority("other-ca");
        // Its own CA's r2, trusting the cluster's CA so that its side of the handshake would go through.
        TlsKeys impostor = TlsKeys.of(ca.certificate(), Map.of("r2", other.issue("r2")));
        try (LinkProxy proxy = proxy()) {
            assertRefused(impostor.context("r2"), proxy);
        }
    }

    @Test
    void aClientWhoseCertificateNamesNoReplicaIsRefused() throws Exception {
        // From the cluster's CA, but naming r9, whose key the proxy does not hold: it cannot speak as r9 to r1.
        TlsKeys stranger = TlsKeys.of(ca.certificate(), Map.of("r9", ca.issue("r9")));
        try (LinkProxy proxy = proxy()) {
            assertRefused(stranger.context("r9"), proxy);
        }
    }

    @Test
    void closingTheProxyStopsEveryThreadItStarted() throws Exception {
        LinkProxy proxy = LinkProxy.terminatingTls(
                "tls-closing",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), r1.getLocalPort()),
                "r1",
                keys,
                links);
        links.cut(List.of(Links.replication("r3", "r1")));
        try (SSLSocket open = connect(keys.context("r2"), proxy);
                SSLSocket held = connect(keys.context("r3"), proxy)) {
            assertArrayEquals(bytes("a"), roundTrip(open, "a"));
            held.getOutputStream().write(bytes("held"));
            held.getOutputStream().flush();
            proxy.close();
        }
        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("proxy-tls-closing-") && t.isAlive())
                .map(Thread::getName)
                .toList();
        assertEquals(List.of(), left);
    }

    @Test
    void aProxyNeedsTheTargetsKey() {
        assertThrows(
                IllegalArgumentException.class,
                () -> LinkProxy.terminatingTls(
                        "x", new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), "r9", keys, links));
        assertEquals(java.util.Set.copyOf(IDS), keys.ids());
    }

    /** The handshake fails, or the connection ends before anything is echoed; r1 sees nothing. */
    private void assertRefused(SSLContext context, LinkProxy proxy) throws Exception {
        try (SSLSocket s = (SSLSocket) context.getSocketFactory()
                .createSocket(proxy.address().getAddress(), proxy.address().getPort())) {
            s.setSoTimeout(10_000);
            IOException refused = assertThrows(IOException.class, () -> {
                s.startHandshake(); // TLS 1.3: the client may finish before the server checks its certificate
                s.getOutputStream().write(bytes("hello"));
                s.getOutputStream().flush();
                if (s.getInputStream().read() < 0) {
                    throw new IOException("closed by the proxy");
                }
            });
            assertTrue(refused.getMessage() != null, refused.toString());
        }
        assertNull(seenByR1.poll(300, TimeUnit.MILLISECONDS), "r1 saw no connection");
    }

    private List<String> proxyNames(SSLSocket s) throws Exception {
        return keys.peerId(s.getSession()).stream().toList();
    }
}
