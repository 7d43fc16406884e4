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

import static dev.tenure.replicator.transport.netty.TestNodes.eventually;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.transport.NodeTransport;
import dev.tenure.replicator.transport.Transport;
import dev.tenure.replicator.transport.netty.RoutedNodes.Node;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The control channel of a node transport over sockets on 127.0.0.1: control messages travel on the node pair's
 * connection, in order with the partitions' messages, and arrive with the sender the transport authenticated.
 */
@Timeout(60)
class NettyNodeTransportControlTest {
    private static final int MAX = NodeTransport.MAX_CONTROL_BYTES;

    private RoutedNodes nodes;

    @AfterEach
    void closeNodes() {
        if (nodes != null) {
            nodes.close();
        }
    }

    /** What arrived at one node, in arrival order: partition messages and control messages alike. */
    private record Arrival(String kind, String from, String what) {
        static Arrival message(Message m) {
            return new Arrival("p1", m.from(), "epoch " + m.epoch());
        }

        static Arrival control(String from, byte[] body) {
            return new Arrival("control", from, describe(body));
        }
    }

    /** A body's text if it is short text, else its size and a digest of its bytes. */
    private static String describe(byte[] body) {
        return body.length <= 64
                ? new String(body, StandardCharsets.UTF_8)
                : body.length + " bytes #" + Arrays.hashCode(body);
    }

    /** Node {@code id} with partition p1 open; every arrival, of p1 or the control channel, goes to {@code inbox}. */
    private Transport startWithInbox(String id, BlockingQueue<Arrival> inbox) throws Exception {
        Node node = nodes.start(id);
        node.router.controlInbound((from, body) -> inbox.add(Arrival.control(from, body)));
        Transport p1 = node.router.partition("p1");
        p1.start(m -> inbox.add(Arrival.message(m)));
        return p1;
    }

    private static Arrival take(BlockingQueue<Arrival> inbox) throws InterruptedException {
        Arrival a = inbox.poll(TestNodes.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(a, "nothing arrived within " + TestNodes.WAIT);
        return a;
    }

    /** Sends control message {@code token} every 50 ms until it arrives: the connection is up. */
    private static void warmUp(NodeTransport from, String to, BlockingQueue<Arrival> inbox) throws Exception {
        byte[] token = "warm-up".getBytes(StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + TestNodes.WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            from.sendControl(to, token);
            if (inbox.poll(50, TimeUnit.MILLISECONDS) != null) {
                return;
            }
        }
        throw new AssertionError("no control message reached " + to + " within " + TestNodes.WAIT);
    }

    /** The next arrival that is not a (retransmitted) warm-up token: copies sent earlier arrive before it. */
    private static Arrival takeAfterWarmUp(BlockingQueue<Arrival> inbox) throws InterruptedException {
        Arrival a;
        do {
            a = take(inbox);
        } while (a.kind().equals("control") && a.what().equals("warm-up"));
        return a;
    }

    @Test
    void controlMessagesArriveWithTheAuthenticatedSenderInOrderWithThePartitionMessagesSentToTheSamePeer()
            throws Exception {
        nodes = new RoutedNodes("a", "b");
        BlockingQueue<Arrival> atA = new LinkedBlockingQueue<>();
        BlockingQueue<Arrival> atB = new LinkedBlockingQueue<>();
        Transport aP1 = startWithInbox("a", atA);
        Transport bP1 = startWithInbox("b", atB);
        NettyTransport a = nodes.node("a").transport;
        NettyTransport b = nodes.node("b").transport;
        warmUp(a.asNodeTransport(), "b", atB);

        // Interleaved: a control message every third send, one of them of the largest size.
        byte[] largest = ControlFrameCodecTest.randomBytes(MAX, 42);
        List<Arrival> expected = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            if (i % 3 == 0) {
                byte[] body = i == 60 ? largest : ("request " + i).getBytes(StandardCharsets.UTF_8);
                a.asNodeTransport().sendControl("b", body);
                expected.add(Arrival.control("a", body));
            } else {
                Message m = new NewEpoch("a", "b", i);
                aP1.send(m);
                expected.add(Arrival.message(m));
            }
        }
        List<Arrival> arrived = new ArrayList<>();
        arrived.add(takeAfterWarmUp(atB));
        while (arrived.size() < expected.size()) {
            arrived.add(take(atB));
        }
        assertEquals(expected, arrived, "every control message in its place among the partition's messages");
        assertEquals(1, a.connectionsOpened(), "all of it on the one connection a -> b");
        assertEquals(1, b.connectionsAccepted());

        // The other way, on b's connection to a: the sender is b.
        warmUp(b.asNodeTransport(), "a", atA);
        b.asNodeTransport().sendControl("a", "answer".getBytes(StandardCharsets.UTF_8));
        bP1.send(new NewEpoch("b", "a", 7));
        assertEquals(Arrival.control("b", "answer".getBytes(StandardCharsets.UTF_8)), takeAfterWarmUp(atA));
        assertEquals(Arrival.message(new NewEpoch("b", "a", 7)), take(atA));
        assertEquals(0, a.connectionsRefused() + b.connectionsRefused());
    }

    @Test
    void aBodyAboveOneMebibyteIsRefusedAtSendNamingTheBoundAndAnEmptyOneTravels() throws Exception {
        nodes = new RoutedNodes("a", "b");
        BlockingQueue<Arrival> atB = new LinkedBlockingQueue<>();
        startWithInbox("a", new LinkedBlockingQueue<>());
        startWithInbox("b", atB);
        NodeTransport a = nodes.node("a").transport.asNodeTransport();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> a.sendControl("b", new byte[MAX + 1]));
        assertTrue(e.getMessage().contains("exceeds the maximum of 1048576 bytes"), e.getMessage());
        warmUp(a, "b", atB);
        a.sendControl("b", new byte[0]);
        assertEquals(Arrival.control("a", new byte[0]), takeAfterWarmUp(atB));
    }

    @Test
    void theBodyIsCopiedAtSend() throws Exception {
        nodes = new RoutedNodes("a", "b");
        BlockingQueue<Arrival> atB = new LinkedBlockingQueue<>();
        startWithInbox("a", new LinkedBlockingQueue<>());
        startWithInbox("b", atB);
        NettyTransport a = nodes.node("a").transport;
        warmUp(a.asNodeTransport(), "b", atB);
        // Hold the event loop of a's connection to b, so that the body is still queued when the caller changes it.
        var release = TestNodes.holdEventLoop(a, "b");
        byte[] body = "before".getBytes(StandardCharsets.UTF_8);
        a.asNodeTransport().sendControl("b", body);
        System.arraycopy("after!".getBytes(StandardCharsets.UTF_8), 0, body, 0, body.length);
        release.countDown();
        assertEquals(Arrival.control("a", "before".getBytes(StandardCharsets.UTF_8)), takeAfterWarmUp(atB));
    }

    @Test
    void sendControlRefusesBadArgumentsDropsWhatCannotBeSentAndThrowsAfterClose() throws Exception {
        nodes = new RoutedNodes("a", "b");
        NettyTransport a = nodes.start("a").transport;
        NodeTransport node = a.asNodeTransport();
        byte[] body = {1};
        assertThrows(IllegalArgumentException.class, () -> node.sendControl(null, body));
        assertThrows(IllegalArgumentException.class, () -> node.sendControl("", body));
        assertThrows(IllegalArgumentException.class, () -> node.sendControl("b", null));
        IllegalArgumentException self = assertThrows(IllegalArgumentException.class, () -> node.sendControl("a", body));
        assertTrue(self.getMessage().contains("itself"), self.getMessage());

        long dropped = a.messagesDropped();
        node.sendControl("z", body); // not a peer: dropped and counted, not thrown
        assertEquals(dropped + 1, a.messagesDropped());

        a.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> node.sendControl("b", body));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }

    @Test
    void beforeStartAControlMessageIsDroppedAndCounted() {
        NettyTransport t = new TestNodes("a", "b").builder("a").build();
        try {
            t.asNodeTransport().sendControl("b", new byte[] {1});
            assertEquals(1, t.messagesDropped());
        } finally {
            t.close();
        }
        assertThrows(IllegalStateException.class, () -> t.asNodeTransport().sendControl("b", new byte[] {1}));
    }

    @Test
    void aSingleLogTransportHasNoControlChannel() throws Exception {
        try (TestNodes single = new TestNodes("s", "t")) {
            NettyTransport s = single.start("s").transport;
            IllegalStateException e = assertThrows(
                    IllegalStateException.class, () -> s.asNodeTransport().sendControl("t", new byte[] {1}));
            assertTrue(e.getMessage().contains("single-log"), e.getMessage());
        }
    }

    @Test
    void aControlInboundThatThrowsAffectsNeitherTheConnectionNorThePartitions() throws Exception {
        nodes = new RoutedNodes("a", "b");
        BlockingQueue<Arrival> atB = new LinkedBlockingQueue<>();
        Transport aP1 = startWithInbox("a", new LinkedBlockingQueue<>());
        startWithInbox("b", atB);
        NettyTransport a = nodes.node("a").transport;
        NettyTransport b = nodes.node("b").transport;
        warmUp(a.asNodeTransport(), "b", atB);
        nodes.node("b").router.controlInbound((from, body) -> {
            throw new IllegalStateException("the control inbound fails");
        });
        a.asNodeTransport().sendControl("b", new byte[] {1});
        aP1.send(new NewEpoch("a", "b", 5));
        assertEquals(Arrival.message(new NewEpoch("a", "b", 5)), takeAfterWarmUp(atB));
        eventually(
                "the failed control message was routed",
                () -> nodes.node("b").router.controlRouted() >= 2);
        assertEquals(0, b.connectionsRefused());
        assertEquals(1, b.connectionsAccepted());
    }

    @Test
    void largestBodyRoundTripsByteForByte() throws Exception {
        nodes = new RoutedNodes("a", "b");
        BlockingQueue<byte[]> bodies = new LinkedBlockingQueue<>();
        nodes.start("a");
        Node b = nodes.start("b");
        b.router.controlInbound((from, body) -> bodies.add(body));
        NodeTransport a = nodes.node("a").transport.asNodeTransport();
        byte[] largest = ControlFrameCodecTest.randomBytes(MAX, 7);
        byte[] got = null;
        long deadline = System.nanoTime() + TestNodes.WAIT.toNanos();
        while (got == null && System.nanoTime() < deadline) {
            a.sendControl("b", largest);
            got = bodies.poll(100, TimeUnit.MILLISECONDS);
        }
        assertNotNull(got, "the largest control message arrived");
        assertArrayEquals(largest, got);
    }
}
