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

import static dev.tenure.replicator.transport.netty.PartitionedFrameCodecTest.tagged;
import static dev.tenure.replicator.transport.netty.TestNodes.assertClosedByPeer;
import static dev.tenure.replicator.transport.netty.TestNodes.connect;
import static dev.tenure.replicator.transport.netty.TestNodes.eventually;
import static dev.tenure.replicator.transport.netty.TestNodes.writeQuietly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.transport.NodeTransport;
import dev.tenure.replicator.transport.netty.RoutedNodes.Node;
import dev.tenure.replicator.transport.netty.RoutedNodes.View;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Node "a", a node transport hosting partition p1, under attack by raw sockets speaking as member "c", while the
 * good node "b" keeps talking to it in p1 and on the control channel: every bad connection is closed, and only that
 * one; a frame for a partition a does not host is dropped and counted, and closes nothing.
 */
class NettyNodeTransportHostileInputTest {
    private RoutedNodes nodes;
    private Node a;
    private Node b;
    private View aP1;
    private View bP1;
    /** The control messages a received: "sender:body". */
    private final BlockingQueue<String> aControl = new LinkedBlockingQueue<>();

    private final AtomicLong epochs = new AtomicLong(100);

    @BeforeEach
    void startNodes() throws Exception {
        nodes = new RoutedNodes("a", "b", "c");
        a = nodes.start("a");
        a.router.controlInbound((from, body) -> aControl.add(from + ":" + new String(body, StandardCharsets.UTF_8)));
        b = nodes.start("b");
        aP1 = a.open("p1");
        bP1 = b.open("p1");
        goodPeerIsServed();
    }

    @AfterEach
    void closeNodes() {
        nodes.close();
    }

    /** The good peer's connection is unaffected: its next message arrives over it. */
    private void goodPeerIsServed() throws InterruptedException {
        NewEpoch m = new NewEpoch("b", "a", epochs.incrementAndGet());
        bP1.transport.send(m);
        assertEquals(m, aP1.take());
    }

    private Socket socketToA() throws IOException {
        return connect(a.transport.boundAddress());
    }

    private static byte[] hello() {
        return MessageCodec.encodeHello(TestNodes.CLUSTER, "c", "a");
    }

    private void assertRefused(Socket s, long refusedBefore) throws Exception {
        assertClosedByPeer(s);
        eventually("refusal counted", () -> a.transport.connectionsRefused() == refusedBefore + 1);
        goodPeerIsServed();
        assertTrue(aP1.inbox.isEmpty(), "nothing of the bad connection was delivered: " + aP1.inbox);
    }

    private void assertBadFrameRefused(byte[] frame) throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, hello(), frame);
            assertRefused(s, refused);
        }
    }

    /** The good peer's control messages still arrive, as from b: the transport keeps delivering on it. */
    private void goodPeersControlIsServed() throws InterruptedException {
        String text = "control " + epochs.incrementAndGet();
        b.transport.asNodeTransport().sendControl("a", text.getBytes(StandardCharsets.UTF_8));
        assertEquals("b:" + text, aControl.poll(TestNodes.WAIT.toMillis(), TimeUnit.MILLISECONDS));
    }

    private void assertBadControlFrameRefused(byte[] frame) throws Exception {
        assertBadFrameRefused(frame);
        assertTrue(aControl.isEmpty(), "no control message of the bad connection was delivered: " + aControl);
        goodPeersControlIsServed();
    }

    @Test
    @Timeout(60)
    void aTruncatedControlFrameClosesTheConnection() throws Exception {
        byte[] frame = MessageCodec.encodeFrame(new Frame.Control("truncated".getBytes(StandardCharsets.UTF_8)));
        byte[] cut = Arrays.copyOf(frame, frame.length - 3);
        ByteBuffer.wrap(cut).putInt(0, cut.length - 4); // a consistent length field: the body itself is short
        assertBadControlFrameRefused(cut);
        byte[] noBodyLength = Arrays.copyOf(ControlFrameCodecTest.controlFrame(0, new byte[0]), 8);
        ByteBuffer.wrap(noBodyLength).putInt(0, 4); // version, type and half of the body length field
        assertBadControlFrameRefused(noBodyLength);
    }

    @Test
    @Timeout(60)
    void aControlFrameWhoseBodyLengthIsAboveTheBoundClosesTheConnection() throws Exception {
        int over = NodeTransport.MAX_CONTROL_BYTES + 1;
        assertBadControlFrameRefused(ControlFrameCodecTest.controlFrame(over, new byte[over]));
        assertBadControlFrameRefused(ControlFrameCodecTest.controlFrame(Integer.MAX_VALUE, new byte[8]));
    }

    @Test
    @Timeout(60)
    void aControlFrameWithANegativeBodyLengthClosesTheConnection() throws Exception {
        assertBadControlFrameRefused(ControlFrameCodecTest.controlFrame(-1, new byte[4]));
        assertBadControlFrameRefused(ControlFrameCodecTest.controlFrame(Integer.MIN_VALUE, new byte[0]));
    }

    @Test
    @Timeout(60)
    void aControlFrameBeforeTheHelloIsNeverDeliveredAndClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, MessageCodec.encodeFrame(new Frame.Control(new byte[] {1, 2, 3})), hello());
            assertRefused(s, refused);
        }
        assertTrue(aControl.isEmpty(), "nothing was delivered: " + aControl);
        goodPeersControlIsServed();
    }

    @Test
    @Timeout(60)
    void aControlFrameAfterARejectedHelloIsNeverDelivered() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(
                    s,
                    MessageCodec.encodeHello(TestNodes.CLUSTER, "mallory", "a"), // not a member
                    MessageCodec.encodeFrame(new Frame.Control(new byte[] {1, 2, 3})));
            assertRefused(s, refused);
        }
        assertTrue(aControl.isEmpty(), "nothing was delivered: " + aControl);
        goodPeersControlIsServed();
    }

    @Test
    @Timeout(60)
    void aControlFrameIsDeliveredAsFromThePeerWhoseHelloTheConnectionAccepted() throws Exception {
        try (Socket s = socketToA()) {
            writeQuietly(
                    s,
                    hello(), // as c
                    MessageCodec.encodeFrame(new Frame.Control("from c".getBytes(StandardCharsets.UTF_8))),
                    MessageCodec.encode("p1", new NewEpoch("c", "a", 1)),
                    MessageCodec.encodeFrame(new Frame.Control("again".getBytes(StandardCharsets.UTF_8))));
            assertEquals("c:from c", aControl.poll(TestNodes.WAIT.toMillis(), TimeUnit.MILLISECONDS));
            assertEquals(new NewEpoch("c", "a", 1), aP1.take());
            assertEquals("c:again", aControl.poll(TestNodes.WAIT.toMillis(), TimeUnit.MILLISECONDS));
            assertEquals(0, a.transport.connectionsRefused());
        }
        goodPeersControlIsServed();
    }

    @Test
    @Timeout(60)
    void aControlFrameOnASingleLogTransportClosesTheConnection() throws Exception {
        try (TestNodes single = new TestNodes("s", "c")) {
            NettyTransport s = single.start("s").transport;
            try (Socket socket = connect(s.boundAddress())) {
                writeQuietly(
                        socket,
                        MessageCodec.encodeHello(TestNodes.CLUSTER, "c", "s"),
                        MessageCodec.encodeFrame(new Frame.Control(new byte[] {1})));
                assertClosedByPeer(socket);
            }
            eventually("refusal counted", () -> s.connectionsRefused() == 1);
            assertEquals(0, s.messagesReceived());
        }
    }

    @Test
    void aPartitionedFrameWithAnInvalidPartitionIdClosesTheConnection() throws Exception {
        byte[] inner = MessageCodec.encode(new NewEpoch("c", "a", 1));
        assertBadFrameRefused(tagged("p 1".getBytes(StandardCharsets.US_ASCII), inner));
        assertBadFrameRefused(tagged(new byte[0], inner));
        assertBadFrameRefused(tagged("x".repeat(65).getBytes(StandardCharsets.US_ASCII), inner));
        assertBadFrameRefused(tagged(new byte[] {'p', (byte) 0xC3}, inner));
    }

    @Test
    void aTruncatedPartitionedFrameClosesTheConnection() throws Exception {
        byte[] frame = MessageCodec.encode("p1", new NewEpoch("c", "a", 1));
        byte[] cut = Arrays.copyOf(frame, frame.length - 3);
        ByteBuffer.wrap(cut).putInt(0, cut.length - 4); // a consistent length field: the body itself is short
        assertBadFrameRefused(cut);
    }

    @Test
    void aNestedPartitionTagClosesTheConnection() throws Exception {
        byte[] once = MessageCodec.encode("p1", new NewEpoch("c", "a", 1));
        assertBadFrameRefused(tagged("p1".getBytes(StandardCharsets.US_ASCII), once));
    }

    @Test
    void trailingBytesAfterAPartitionedFrameCloseTheConnection() throws Exception {
        byte[] frame = MessageCodec.encode("p1", new NewEpoch("c", "a", 1));
        byte[] longer = Arrays.copyOf(frame, frame.length + 1);
        ByteBuffer.wrap(longer).putInt(0, longer.length - 4);
        assertBadFrameRefused(longer);
    }

    @Test
    void anUntaggedFrameOnANodeTransportClosesTheConnection() throws Exception {
        assertBadFrameRefused(MessageCodec.encode(new NewEpoch("c", "a", 1)));
    }

    @Test
    void aPartitionedFrameBeforeTheHelloClosesTheConnection() throws Exception {
        long refused = a.transport.connectionsRefused();
        try (Socket s = socketToA()) {
            writeQuietly(s, MessageCodec.encode("p1", new NewEpoch("c", "a", 1)));
            assertRefused(s, refused);
        }
    }

    @Test
    void aPartitionedFrameOnASingleLogTransportClosesTheConnection() throws Exception {
        try (TestNodes single = new TestNodes("s", "c")) {
            NettyTransport s = single.start("s").transport;
            try (Socket socket = connect(s.boundAddress())) {
                writeQuietly(
                        socket,
                        MessageCodec.encodeHello(TestNodes.CLUSTER, "c", "s"),
                        MessageCodec.encode("p1", new NewEpoch("c", "s", 1)));
                assertClosedByPeer(socket);
            }
            eventually("refusal counted", () -> s.connectionsRefused() == 1);
            assertEquals(0, s.messagesReceived());
        }
    }

    @Test
    void aFrameForAnUnknownPartitionIsCountedAndTheConnectionStays() throws Exception {
        try (Socket s = socketToA()) {
            writeQuietly(
                    s,
                    hello(),
                    MessageCodec.encode("p9", new NewEpoch("c", "a", 1)),
                    MessageCodec.encode("p1", new NewEpoch("c", "a", 2)));
            assertEquals(new NewEpoch("c", "a", 2), aP1.take(), "the next frame on the connection is delivered");
            assertEquals(1, a.router.unknownPartitionMessages());
            assertEquals(0, a.transport.connectionsRefused());
            writeQuietly(s, MessageCodec.encode("p1", new NewEpoch("c", "a", 3)));
            assertEquals(new NewEpoch("c", "a", 3), aP1.take(), "and the connection still carries more");
        }
        goodPeerIsServed();
    }

    @Test
    void aTaggedMessageNotFromTheGreetingPeerOrNotToThisNodeIsDroppedAndTheConnectionStays() throws Exception {
        long dropped = a.transport.messagesDropped();
        try (Socket s = socketToA()) {
            writeQuietly(
                    s,
                    hello(),
                    MessageCodec.encode("p1", new NewEpoch("b", "a", 1)), // impersonates b
                    MessageCodec.encode("p1", new NewEpoch("c", "b", 2)), // meant for b
                    MessageCodec.encode("p1", new NewEpoch("c", "a", 3)));
            assertEquals(new NewEpoch("c", "a", 3), aP1.take(), "only the genuine message is delivered");
            assertEquals(dropped + 2, a.transport.messagesDropped());
            assertEquals(0, a.transport.connectionsRefused());
            assertEquals(0, a.router.unknownPartitionMessages());
        }
        goodPeerIsServed();
    }
}
