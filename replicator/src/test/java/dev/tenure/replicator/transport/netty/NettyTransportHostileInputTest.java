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
import static dev.tenure.replicator.transport.netty.TestNodes.connect;
import static dev.tenure.replicator.transport.netty.TestNodes.eventually;
import static dev.tenure.replicator.transport.netty.TestNodes.readFrame;
import static dev.tenure.replicator.transport.netty.TestNodes.writeQuietly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.transport.netty.TestNodes.Node;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Replica "a" under attack by raw sockets, while the good replica "b" keeps talking to it: every bad connection
 * is closed, and only that one.
 */
class NettyTransportHostileInputTest {
    private static final int MAX_FRAME = 64 * 1024;

    private TestNodes nodes;
    private Node a;
    private Node b;
    private final AtomicLong epochs = new AtomicLong(100);

    @BeforeEach
    void startReplicas() throws Exception {
        nodes = new TestNodes("a", "b", "c");
        a = nodes.start("a", c -> c.maxFrameBytes(MAX_FRAME).handshakeTimeout(Duration.ofMillis(500)));
        b = nodes.start("b", c -> c.maxFrameBytes(MAX_FRAME));
        goodPeerIsServed();
    }

    @AfterEach
    void closeReplicas() {
        nodes.close();
    }

    /** The good peer's connection is unaffected: its next message arrives over it. */
    private void goodPeerIsServed() throws InterruptedException {
        NewEpoch m = new NewEpoch("b", "a", epochs.incrementAndGet());
        b.transport.send(m);
        assertEquals(m, a.take());
    }

    private Socket socketToA() throws IOException {
        return connect(a.address());
    }

    private static byte[] frame(Frame f) {
        return MessageCodec.encodeFrame(f);
    }

    private static byte[] hello(String from) {
        return frame(new Frame.Hello(TestNodes.CLUSTER, from, "a"));
    }

    private void assertRefused(Socket s, long refusedBefore) throws Exception {
        assertClosedByPeer(s);
        eventually("refusal counted", () -> a.transport.connectionsRefused() == refusedBefore + 1);
        goodPeerIsServed();
    }

    @Test
    void garbageBytesCloseTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertRefused(s, refused);
        }
    }

    @Test
    void plausibleLengthWithGarbageBodyClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, new byte[] {0, 0, 0, 6, 1, 1, (byte) 0xFF, (byte) 0xFF, 7, 7});
            assertRefused(s, refused);
        }
    }

    @Test
    void oversizedLengthPrefixClosesTheConnectionBeforeTheBodyIsSent() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array());
            assertRefused(s, refused);
        }
    }

    @Test
    void negativeLengthPrefixClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, ByteBuffer.allocate(4).putInt(-1).array());
            assertRefused(s, refused);
        }
    }

    @Test
    void frameLargerThanAHelloBeforeTheHelloClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            // Below the maximum frame size, but no handshake frame is this large.
            writeQuietly(
                    s,
                    ByteBuffer.allocate(4)
                            .putInt(FrameDecoder.HANDSHAKE_MAX_FRAME_BYTES + 1)
                            .array());
            assertRefused(s, refused);
        }
    }

    @Test
    void frameOverTheMaximumAfterTheHelloClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(
                    s, hello("c"), ByteBuffer.allocate(4).putInt(MAX_FRAME + 1).array());
            assertRefused(s, refused);
        }
    }

    @Test
    void unknownProtocolVersionClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        byte[] hello = hello("c");
        hello[4] = 2;
        try (Socket s = socketToA()) {
            writeQuietly(s, hello);
            assertRefused(s, refused);
        }
    }

    @Test
    void wrongClusterNameIsRejectedWithAReasonAndClosed() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, frame(new Frame.Hello("other-cluster", "c", "a")));
            Frame answer = readFrame(s);
            assertInstanceOf(Frame.HelloRejected.class, answer);
            assertTrue(((Frame.HelloRejected) answer).reason().contains("other-cluster"), answer.toString());
            assertRefused(s, refused);
        }
    }

    @Test
    void unknownReplicaIdIsRejectedWithAReasonAndClosed() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, hello("mallory"));
            Frame answer = readFrame(s);
            assertTrue(((Frame.HelloRejected) answer).reason().contains("not a member"), answer.toString());
            assertRefused(s, refused);
        }
    }

    @Test
    void helloClaimingTheReceiversOwnIdIsRejected() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, hello("a"));
            assertInstanceOf(Frame.HelloRejected.class, readFrame(s));
            assertRefused(s, refused);
        }
    }

    @Test
    void helloAddressedToAnotherReplicaIsRejected() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, frame(new Frame.Hello(TestNodes.CLUSTER, "c", "b")));
            assertTrue(((Frame.HelloRejected) readFrame(s)).reason().contains("addressed to replica 'b'"));
            assertRefused(s, refused);
        }
    }

    @Test
    void protocolFrameBeforeTheHelloClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, MessageCodec.encode(new NewEpoch("c", "a", 1)));
            assertRefused(s, refused);
        }
    }

    @Test
    void connectionThatSaysNothingIsClosedAfterTheHandshakeTimeout() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            assertRefused(s, refused);
        }
    }

    @Test
    void corruptedFrameAfterTheHelloClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        byte[] message = MessageCodec.encode(new NewEpoch("c", "a", 1));
        message[5] = 99; // unknown frame type
        try (Socket s = socketToA()) {
            writeQuietly(s, hello("c"), message);
            assertRefused(s, refused);
        }
        assertTrue(a.inbox.isEmpty());
    }

    @Test
    void secondHelloClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, hello("c"), hello("c"));
            assertRefused(s, refused);
        }
    }

    @Test
    void validHelloThenMessagesAreDelivered() throws Exception {
        try (Socket s = socketToA()) {
            writeQuietly(s, hello("c"), MessageCodec.encode(new NewEpoch("c", "a", 7)));
            assertEquals(new NewEpoch("c", "a", 7), a.take());
        }
        assertEquals(0, a.transport.connectionsRefused());
    }

    @Test
    void messageNotFromTheGreetingPeerOrNotToThisReplicaIsDroppedAndTheConnectionStays() throws Exception {
        long dropped = a.transport.messagesDropped();
        try (Socket s = socketToA()) {
            writeQuietly(
                    s,
                    hello("c"),
                    MessageCodec.encode(new NewEpoch("b", "a", 1)), // impersonates b
                    MessageCodec.encode(new NewEpoch("c", "b", 2)), // meant for b
                    MessageCodec.encode(new NewEpoch("c", "a", 3)));
            Message first = a.take();
            assertEquals(new NewEpoch("c", "a", 3), first, "only the genuine message is delivered");
            assertEquals(dropped + 2, a.transport.messagesDropped());
            assertEquals(0, a.transport.connectionsRefused());
        }
        goodPeerIsServed();
    }

    @Test
    void manyBadConnectionsAtOnceLeaveTheGoodPeerServed() throws Exception {
        long refused = a.transport.connectionsRefused();
        Socket[] sockets = new Socket[20];
        try {
            for (int i = 0; i < sockets.length; i++) {
                sockets[i] = socketToA();
                byte[] garbage = new byte[32];
                Arrays.fill(garbage, (byte) (i + 1));
                garbage[0] = 0; // a small length, then junk as the version byte
                garbage[1] = 0;
                garbage[2] = 0;
                garbage[3] = 8;
                writeQuietly(sockets[i], garbage);
            }
            for (Socket s : sockets) {
                assertClosedByPeer(s);
            }
            eventually("all refused", () -> a.transport.connectionsRefused() == refused + sockets.length);
            goodPeerIsServed();
        } finally {
            for (Socket s : sockets) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    @Test
    void replicaOfAnotherClusterRejectsOurHelloAndWeRetryWithBackoff() throws Exception {
        // "c" listens, but thinks it is in another cluster; "a" tries to send to it.
        NettyTransport stranger = NettyTransport.builder()
                .plaintext()
                .selfId("c")
                .clusterName("other-cluster")
                .members(nodes.members)
                .bindAddress(new java.net.InetSocketAddress("127.0.0.1", 0))
                .peerDirectory(nodes.directory)
                .build();
        try {
            stranger.start(m -> {});
            nodes.directory.addresses.put("c", stranger.boundAddress());
            a.transport.send(new NewEpoch("a", "c", 1));
            eventually("a's hello rejected twice", () -> stranger.connectionsRefused() >= 2);
            assertEquals(0, stranger.messagesReceived());
            goodPeerIsServed();
        } finally {
            stranger.close();
        }
    }
}
