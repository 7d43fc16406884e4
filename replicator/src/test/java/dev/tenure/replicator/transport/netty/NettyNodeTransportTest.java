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

import static dev.tenure.replicator.transport.netty.RoutedNodes.sendUntilReceived;
import static dev.tenure.replicator.transport.netty.TestNodes.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.AppendAck;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.transport.NodeTransport;
import dev.tenure.replicator.transport.netty.RoutedNodes.Node;
import dev.tenure.replicator.transport.netty.RoutedNodes.View;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** NettyTransport as a node transport, shared by partitions through PartitionRouter, over sockets on 127.0.0.1. */
class NettyNodeTransportTest {
    private RoutedNodes nodes;

    @AfterEach
    void closeNodes() {
        if (nodes != null) {
            nodes.close();
        }
    }

    /** What one message is: which partition's view on which node must receive it, and only that one. */
    private record Delivery(String partition, String to, Message message) {}

    @Test
    void partitionsOnOverlappingReplicaSetsDoNotSeeEachOthersMessages() throws Exception {
        nodes = new RoutedNodes("a", "b", "c"); // the union of every partition's replica set
        Map<String, List<String>> replicaSets = Map.of(
                "p1", List.of("a", "b"),
                "p2", List.of("a", "b", "c"),
                "p3", List.of("b", "c"));
        Map<String, Node> byId = new HashMap<>();
        for (String id : nodes.members) {
            byId.put(id, nodes.start(id));
        }
        for (Map.Entry<String, List<String>> e : replicaSets.entrySet()) {
            for (String id : e.getValue()) {
                byId.get(id).open(e.getKey());
            }
        }
        // Every member of every partition sends to every other member of it; the message names its partition in
        // its epoch (p1 -> 1xx, p2 -> 2xx, p3 -> 3xx), and its type alternates.
        List<Delivery> deliveries = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : replicaSets.entrySet()) {
            int p = Integer.parseInt(e.getKey().substring(1));
            for (String from : e.getValue()) {
                for (String to : e.getValue()) {
                    if (!from.equals(to)) {
                        long epoch = p * 100L + deliveries.size();
                        Message m = deliveries.size() % 2 == 0
                                ? new NewEpoch(from, to, epoch)
                                : new AppendAck(from, to, epoch, epoch, epoch);
                        deliveries.add(new Delivery(e.getKey(), to, m));
                    }
                }
            }
        }

        // Collect what each view receives (duplicates of retransmissions fold into sets).
        Map<String, Set<Message>> received = new HashMap<>();
        long deadline = System.nanoTime() + TestNodes.WAIT.toNanos();
        Set<Delivery> outstanding = new HashSet<>(deliveries);
        while (!outstanding.isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "not delivered within " + TestNodes.WAIT + ": " + outstanding);
            for (Delivery d : outstanding) {
                byId.get(d.message().from()).view(d.partition()).transport.send(d.message());
            }
            // Wait (up to a retransmission interval) for one of them, then take whatever else arrived.
            Delivery next = outstanding.iterator().next();
            Message got = byId.get(next.to()).view(next.partition()).inbox.poll(50, TimeUnit.MILLISECONDS);
            if (got != null) {
                received.computeIfAbsent(next.to() + "/" + next.partition(), k -> new HashSet<>())
                        .add(got);
            }
            for (Node n : byId.values()) {
                for (View v : n.views.values()) {
                    Message m;
                    while ((m = v.inbox.poll()) != null) {
                        received.computeIfAbsent(n.id + "/" + v.partition, k -> new HashSet<>())
                                .add(m);
                    }
                }
            }
            outstanding.removeIf(d -> received.getOrDefault(d.to() + "/" + d.partition(), Set.of())
                    .contains(d.message()));
        }

        Map<String, Set<Message>> expected = new HashMap<>();
        for (Delivery d : deliveries) {
            expected.computeIfAbsent(d.to() + "/" + d.partition(), k -> new HashSet<>())
                    .add(d.message());
        }
        assertEquals(expected, received, "every message reached its partition's view on its node, and no other");
        for (Node n : byId.values()) {
            assertEquals(0, n.router.unknownPartitionMessages(), n.id);
            assertEquals(0, n.transport.connectionsRefused(), n.id);
        }
        assertEquals(Set.of("p1", "p2"), byId.get("a").router.partitions());
        assertEquals(Set.of("p2", "p3"), byId.get("c").router.partitions());
    }

    @Test
    void aFrameForAnUnknownPartitionIsRefusedWithoutHarmingTheOthers() throws Exception {
        nodes = new RoutedNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        View aP1 = a.open("p1");
        View aP2 = a.open("p2");
        View bP1 = b.open("p1"); // b does not host p2 (yet)
        sendUntilReceived(aP1, new NewEpoch("a", "b", 1), bP1);
        assertEquals(1, a.transport.connectionsOpened());
        assertEquals(1, b.transport.connectionsAccepted());

        // A p2 message, then a p1 message, on the one connection a -> b: the p2 one is refused, the p1 one flows.
        aP2.transport.send(new NewEpoch("a", "b", 20));
        aP1.transport.send(new NewEpoch("a", "b", 21));
        assertEquals(new NewEpoch("a", "b", 21), takeAfterCopiesOf(bP1, new NewEpoch("a", "b", 1)));
        // Frames of one connection are handled in order, so the p2 frame was handled before the p1 frame.
        assertEquals(1, b.router.unknownPartitionMessages());
        assertEquals(0, b.transport.connectionsRefused(), "the connection was not closed");
        assertEquals(1, b.transport.connectionsAccepted(), "the same connection carried both");
        assertEquals(1, a.transport.connectionsOpened(), "a never reconnected");

        // Once b opens p2, a's retransmission is heard, still on the same connection.
        View bP2 = b.open("p2");
        assertEquals(new NewEpoch("a", "b", 22), sendUntilReceived(aP2, new NewEpoch("a", "b", 22), bP2));
        assertEquals(1, b.transport.connectionsAccepted());
        assertEquals(1, a.transport.connectionsOpened());
        assertEquals(1, b.router.unknownPartitionMessages());
        assertTrue(bP1.inbox.isEmpty(), "p1 saw nothing of p2");
    }

    @Test
    void oneConnectionPerNodePairCarriesEveryPartition() throws Exception {
        nodes = new RoutedNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        int partitions = 16;
        for (int i = 0; i < partitions; i++) {
            a.open("p" + i);
            b.open("p" + i);
        }
        for (int i = 0; i < partitions; i++) {
            String p = "p" + i;
            assertEquals(new NewEpoch("a", "b", i), sendUntilReceived(a.view(p), new NewEpoch("a", "b", i), b.view(p)));
            assertEquals(new NewEpoch("b", "a", i), sendUntilReceived(b.view(p), new NewEpoch("b", "a", i), a.view(p)));
        }
        assertEquals(1, a.transport.connectionsOpened(), "a opened one connection to b");
        assertEquals(1, b.transport.connectionsOpened(), "b opened one connection to a");
        assertEquals(1, a.transport.connectionsAccepted(), "a accepted one connection from b");
        assertEquals(1, b.transport.connectionsAccepted(), "b accepted one connection from a");
        assertEquals(0, a.router.unknownPartitionMessages() + b.router.unknownPartitionMessages());
    }

    /**
     * The next message {@code view} receives that is not a (retransmitted) copy of {@code earlier}: copies sent
     * before a message on the same connection arrive before it.
     */
    private static Message takeAfterCopiesOf(View view, Message earlier) throws InterruptedException {
        Message m;
        do {
            m = view.take();
        } while (m.equals(earlier));
        return m;
    }

    @Test
    void manyPartitionsMessagesToOnePeerInOneEventLoopTurnAreWrittenWithOneFlush() throws Exception {
        nodes = new RoutedNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        View warmA = a.open("warm-up");
        View warmB = b.open("warm-up");
        int partitions = 50;
        for (int i = 0; i < partitions; i++) {
            a.open("p" + i);
            b.open("p" + i);
        }
        sendUntilReceived(warmA, new NewEpoch("a", "b", 1), warmB); // the connection a -> b is up

        // Hold a's connection to b while the messages are sent: they are drained together.
        CountDownLatch release = TestNodes.holdEventLoop(a.transport, "b");
        long flushesBefore = a.transport.flushes();
        long buffersBefore = a.transport.buffersWritten();
        long sentBefore = a.transport.messagesSent();
        for (int i = 0; i < partitions; i++) {
            a.view("p" + i).transport.send(new NewEpoch("a", "b", 100 + i));
        }
        assertEquals(flushesBefore, a.transport.flushes(), "nothing is written while the loop is held");
        release.countDown();

        for (int i = 0; i < partitions; i++) {
            assertEquals(new NewEpoch("a", "b", 100 + i), b.view("p" + i).take());
        }
        eventually("all written", () -> a.transport.messagesSent() == sentBefore + partitions);
        assertEquals(
                flushesBefore + 1, a.transport.flushes(), partitions + " messages of as many partitions, one flush");
        assertEquals(
                buffersBefore + 1,
                a.transport.buffersWritten(),
                partitions + " small messages of as many partitions, one buffer written");
        assertEquals(1, a.transport.connectionsOpened());
    }

    /** Node a, and partition p open on a and on b. */
    private record Connected(Node a, View pa, View pb) {}

    /**
     * Starts nodes a and b, opens partition p on both and brings the connection a -> b up, warming it up in a
     * partition of its own: the warm-up message's retransmitted copies never reach p.
     */
    private Connected connectedWithPartitionP() throws Exception {
        nodes = new RoutedNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        View pa = a.open("p");
        View pb = b.open("p");
        sendUntilReceived(a.open("warm-up"), new NewEpoch("a", "b", 1), b.open("warm-up"));
        return new Connected(a, pa, pb);
    }

    @Test
    void aFrameRefusedAtEncodingIsDroppedAndTheOthersOfItsBufferGo() throws Exception {
        Connected c = connectedWithPartitionP();
        Node a = c.a();
        View pa = c.pa();
        View pb = c.pb();

        // Hold a's connection to b while the messages are sent: they are drained together.
        CountDownLatch release = TestNodes.holdEventLoop(a.transport, "b");
        long buffersBefore = a.transport.buffersWritten();
        long droppedBefore = a.transport.messagesDropped();
        pa.transport.send(new NewEpoch("a", "b", 2));
        pa.transport.send(new Message.EpochAck("a", "b", 3, null, 0)); // no history: the codec refuses it
        pa.transport.send(new NewEpoch("a", "b", 4));
        release.countDown();

        assertEquals(new NewEpoch("a", "b", 2), pb.take());
        assertEquals(new NewEpoch("a", "b", 4), pb.take(), "the refused frame left nothing of itself in the buffer");
        eventually("the refused frame counted", () -> a.transport.messagesDropped() == droppedBefore + 1);
        assertEquals(buffersBefore + 1, a.transport.buffersWritten(), "the two others in one buffer");
    }

    @Test
    void aFrameLargerThanABatchGoesInABufferOfItsOwnBetweenTheSmallOnesInTheOrderSent() throws Exception {
        Connected c = connectedWithPartitionP();
        Node a = c.a();
        View pa = c.pa();
        View pb = c.pb();

        // Hold a's connection to b while the messages are sent: they are drained together.
        CountDownLatch release = TestNodes.holdEventLoop(a.transport, "b");
        long buffersBefore = a.transport.buffersWritten();
        long sentBefore = a.transport.messagesSent();
        byte[] large = new byte[OutboundPeer.BATCH_BYTES];
        new java.util.Random(7).nextBytes(large);
        List<Message> sent = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            sent.add(new NewEpoch("a", "b", 100 + i));
        }
        sent.add(new Message.Append("a", "b", 5, 0, 0, List.of(Entry.data(5, 1, large)), 0, 0));
        for (int i = 0; i < 10; i++) {
            sent.add(new NewEpoch("a", "b", 200 + i));
        }
        sent.forEach(pa.transport::send);
        release.countDown();

        for (Message m : sent) {
            MessageCodecTest.assertSameMessage(m, pb.take());
        }
        eventually("all written", () -> a.transport.messagesSent() == sentBefore + sent.size());
        assertEquals(
                buffersBefore + 3,
                a.transport.buffersWritten(),
                "ten small frames in one buffer, the large one in its own, the next ten in one");
    }

    @Test
    void aNodeTransportAndASingleLogTransportRefuseTheOthersStartAndSend() throws Exception {
        nodes = new RoutedNodes("a", "b");
        Node a = nodes.start("a");
        assertTrue(a.transport.isNodeTransport());
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> a.transport.send(new NewEpoch("a", "b", 1)));
        assertTrue(e.getMessage().contains("node transport"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> a.transport.start(m -> {}));
        NodeTransport node = a.transport.asNodeTransport();
        assertThrows(IllegalArgumentException.class, () -> node.send("bad id", new NewEpoch("a", "b", 1)));
        assertThrows(IllegalArgumentException.class, () -> node.send("p1", new NewEpoch("b", "a", 1)));

        try (TestNodes single = new TestNodes("s", "t")) {
            NettyTransport s = single.start("s").transport;
            assertFalse(s.isNodeTransport());
            assertThrows(IllegalStateException.class, () -> s.asNodeTransport().send("p1", new NewEpoch("s", "t", 1)));
            assertThrows(IllegalStateException.class, () -> s.asNodeTransport().start((p, m) -> {}));
        }
    }
}
