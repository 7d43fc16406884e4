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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class LinkProxyTest {
    private final Links links = new Links();
    private ServerSocket echo;
    /** The first bytes each connection to the echo server sent (as the server saw them), in order. */
    private final BlockingQueue<String> firstBytes = new LinkedBlockingQueue<>();

    @BeforeEach
    void startEchoServer() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
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

    private void echo(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            boolean first = true;
            int n;
            while ((n = in.read(buf)) > 0) {
                if (first) {
                    firstBytes.add(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    first = false;
                }
                s.getOutputStream().write(buf, 0, n);
            }
        } catch (IOException ignored) {
            // the test closed it
        }
    }

    @AfterEach
    void stop() throws IOException {
        links.close();
        echo.close();
    }

    /** A hello frame of the test's own: a 4-byte length, then the sender's id. */
    private static byte[] hello(String sender) {
        byte[] id = sender.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + id.length).putInt(id.length).put(id).array();
    }

    /** Reads the sender of {@link #hello}; refuses a body that is not a short lower-case id. */
    private static final LinkProxy.HelloDecoder HELLO = frame -> {
        String sender = new String(frame, 4, frame.length - 4, StandardCharsets.UTF_8);
        if (!sender.matches("[a-z0-9]{1,8}")) {
            throw new IllegalArgumentException("not a hello: " + sender);
        }
        return sender;
    };

    private InetSocketAddress target() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort());
    }

    private static byte[] roundTrip(Socket s, byte[] data) throws IOException {
        s.getOutputStream().write(data);
        return new DataInputStream(s.getInputStream()).readNBytes(data.length);
    }

    @Test
    void bytesFlowWhileTheLinkIsOpen() throws IOException {
        try (LinkProxy proxy = new LinkProxy("t", target(), LinkProxy.fixed("zk:r1"), links);
                Socket s = new Socket()) {
            s.connect(proxy.address());
            byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(hello, roundTrip(s, hello));
        }
    }

    @Test
    void aCutLinkHoldsBytesAndDeliversThemInOrderWhenHealed() throws IOException {
        try (LinkProxy proxy = new LinkProxy("t", target(), LinkProxy.fixed("zk:r1"), links);
                Socket s = new Socket()) {
            s.connect(proxy.address());
            assertArrayEquals(new byte[] {1}, roundTrip(s, new byte[] {1}));
            links.cut(List.of("zk:r1"));
            s.getOutputStream().write(new byte[] {2, 3});
            s.setSoTimeout(500);
            assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read(), "nothing moves while cut");
            links.heal(List.of("zk:r1"));
            s.setSoTimeout(10_000);
            assertArrayEquals(new byte[] {2, 3}, new DataInputStream(s.getInputStream()).readNBytes(2));
        }
    }

    @Test
    void cuttingOneLinkLeavesTheOthersAlone() throws IOException {
        try (LinkProxy a = new LinkProxy("a", target(), LinkProxy.fixed("zk:r1"), links);
                LinkProxy b = new LinkProxy("b", target(), LinkProxy.fixed("zk:r2"), links);
                Socket sa = new Socket();
                Socket sb = new Socket()) {
            sa.connect(a.address());
            sb.connect(b.address());
            links.cut(List.of("zk:r1"));
            assertArrayEquals(new byte[] {7}, roundTrip(sb, new byte[] {7}));
            sa.getOutputStream().write(8);
            sa.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> sa.getInputStream().read());
        }
    }

    @Test
    void aNewConnectionOnACutLinkReachesTheTargetOnlyAfterTheHeal() throws Exception {
        links.cut(List.of("zk:r1"));
        try (LinkProxy proxy = new LinkProxy("t", target(), LinkProxy.fixed("zk:r1"), links);
                Socket s = new Socket()) {
            s.connect(proxy.address()); // the proxy accepts
            s.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
            assertEquals(null, firstBytes.poll(300, TimeUnit.MILLISECONDS), "the target saw nothing while cut");
            links.healAll();
            assertEquals("x", firstBytes.poll(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void replicationConnectionsAreNamedByTheSenderInTheirHello() throws Exception {
        byte[] helloFromR2 = hello("r2");
        byte[] helloFromR3 = hello("r3");
        try (LinkProxy proxy = new LinkProxy("repl-r1", target(), LinkProxy.replicationTo("r1", HELLO), links);
                Socket fromR2 = new Socket();
                Socket fromR3 = new Socket()) {
            links.cut(List.of(Links.replication("r2", "r1")));
            fromR2.connect(proxy.address());
            fromR3.connect(proxy.address());
            assertArrayEquals(helloFromR3, roundTrip(fromR3, helloFromR3), "r3->r1 is not cut");
            fromR2.getOutputStream().write(helloFromR2);
            fromR2.setSoTimeout(300);
            assertThrows(
                    SocketTimeoutException.class, () -> fromR2.getInputStream().read(), "r2->r1 is cut");
            links.healAll();
            fromR2.setSoTimeout(10_000);
            assertArrayEquals(helloFromR2, new DataInputStream(fromR2.getInputStream()).readNBytes(helloFromR2.length));
        }
    }

    @Test
    void aConnectionWithoutAHelloIsForwardedUnderAnUnknownSender() throws Exception {
        byte[] junk = ByteBuffer.allocate(8).putInt(4).putInt(0xFFFF_FFFF).array();
        try (LinkProxy proxy = new LinkProxy("repl-r1", target(), LinkProxy.replicationTo("r1", HELLO), links);
                Socket s = new Socket()) {
            links.cut(List.of(Links.replication("?", "r1")));
            s.connect(proxy.address());
            s.getOutputStream().write(junk);
            assertEquals(null, firstBytes.poll(300, TimeUnit.MILLISECONDS));
            links.healAll();
            assertArrayEquals(junk, new DataInputStream(s.getInputStream()).readNBytes(junk.length));
        }
    }

    @Test
    void aDropResetsEveryConnectionAndRefusesNewOnesUntilHealed() throws Exception {
        try (LinkProxy proxy = new LinkProxy("zk", List.of(target(), target()), LinkProxy.fixed("zk"), links);
                Socket s = new Socket()) {
            String[] ports = proxy.connectString().split(",", -1);
            assertEquals(2, ports.length, proxy.connectString());
            s.connect(proxy.address());
            assertArrayEquals(new byte[] {1}, roundTrip(s, new byte[] {1}));

            proxy.drop();
            assertTrue(proxy.isDropping());
            s.setSoTimeout(10_000);
            assertThrows(IOException.class, () -> roundTrip(s, new byte[] {2}), "the open connection is reset");
            try (Socket refused = new Socket()) {
                refused.connect(proxy.address());
                refused.setSoTimeout(10_000);
                assertThrows(IOException.class, () -> roundTrip(refused, new byte[] {3}), "a new one is reset");
            }

            proxy.heal();
            try (Socket second = new Socket()) {
                String[] hostPort = ports[1].split(":", -1);
                second.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
                assertArrayEquals(new byte[] {4}, roundTrip(second, new byte[] {4}), "through the second port");
            }
        }
    }

    @Test
    void aClosedProxyRefusesFaults() throws IOException {
        LinkProxy proxy = new LinkProxy("t", target(), LinkProxy.fixed("zk:r1"), links);
        proxy.close();
        proxy.close();
        assertThrows(IllegalStateException.class, proxy::drop);
        assertThrows(IllegalStateException.class, proxy::heal);
    }
}
