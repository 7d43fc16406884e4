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
import static dev.tenure.replicator.transport.netty.TestNodes.sendUntilReceived;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.Append;
import dev.tenure.replicator.core.Message.AppendAck;
import dev.tenure.replicator.core.Message.EpochAck;
import dev.tenure.replicator.core.Message.FetchResponse;
import dev.tenure.replicator.core.Message.FetchSnapshot;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.core.Message.SnapshotChunk;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.transport.netty.TestNodes.Node;
import dev.tenure.testkit.LoopbackPorts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NettyTransportTest {
    private TestNodes nodes;

    @AfterEach
    void closeNodes() {
        if (nodes != null) {
            nodes.close();
        }
    }

    @Test
    void twoReplicasExchangeMessagesBothWays() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");

        a.transport.send(new NewEpoch("a", "b", 3));
        assertEquals(new NewEpoch("a", "b", 3), b.take());

        EpochHistory history = EpochHistory.of(List.of(new EpochHistory.Start(1, 0), new EpochHistory.Start(2, 5)));
        b.transport.send(new EpochAck("b", "a", 3, history, 9));
        assertEquals(new EpochAck("b", "a", 3, history, 9), a.take());

        Append append = new Append(
                "a", "b", 3, 8, 2, List.of(Entry.epochStart(3, 9), Entry.data(3, 10, new byte[] {1, 2})), 9, 1);
        a.transport.send(append);
        assertEquals(append, b.take());

        // A write counts as sent when its promise completes, which may be just after the peer read it.
        eventually("a counted 2 sent", () -> a.transport.messagesSent() == 2);
        eventually("b counted 1 sent", () -> b.transport.messagesSent() == 1);
        assertEquals(2, b.transport.messagesReceived());
        assertEquals(1, a.transport.messagesReceived());
        assertEquals(0, a.transport.messagesDropped() + b.transport.messagesDropped());
    }

    @Test
    void threeReplicasEachReachEveryOther() throws Exception {
        nodes = new TestNodes("a", "b", "c");
        Map<String, Node> byId = Map.of("a", nodes.start("a"), "b", nodes.start("b"), "c", nodes.start("c"));
        for (String from : byId.keySet()) {
            for (String to : byId.keySet()) {
                if (!from.equals(to)) {
                    byId.get(from).transport.send(new AppendAck(from, to, 1, 0, 0));
                }
            }
        }
        for (Map.Entry<String, Node> e : byId.entrySet()) {
            Set<String> senders = new HashSet<>();
            senders.add(e.getValue().take().from());
            senders.add(e.getValue().take().from());
            Set<String> others = new HashSet<>(byId.keySet());
            others.remove(e.getKey());
            assertEquals(others, senders, "senders heard by " + e.getKey());
        }
    }

    @Test
    void messagesSentWhileTheConnectionIsEstablishedArriveInOrder() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        int count = 500; // below the pending queue bound of 1024
        for (int i = 0; i < count; i++) {
            a.transport.send(new AppendAck("a", "b", 1, i, i));
        }
        for (int i = 0; i < count; i++) {
            assertEquals(i, ((AppendAck) b.take()).probe());
        }
        assertEquals(0, a.transport.messagesDropped());
    }

    @Test
    void manyLargeMessagesAreAllDeliveredWhenTheyFitTheBuffers() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        a.transport.send(new NewEpoch("a", "b", 1));
        b.take(); // connected
        byte[] payload = new byte[64 * 1024];
        for (int i = 0; i < 50; i++) {
            a.transport.send(new Append("a", "b", 1, i - 1, 1, List.of(Entry.data(1, i, payload)), 0, i));
            assertEquals(i, ((Append) b.take()).probe());
        }
    }

    @Test
    void snapshotChunksOfOneMebibyteArriveWholeWithTheDefaultLimits() throws Exception {
        nodes = new TestNodes("leader", "follower");
        Node leader = nodes.start("leader");
        Node follower = nodes.start("follower");
        SnapshotId id = new SnapshotId(1000, 3);
        int chunk = 1 << 20;
        long size = 8L * chunk;
        java.util.Random random = new java.util.Random(5);
        // As an install runs: the follower asks for the next chunk when it has the previous one.
        for (long position = 0; position < size; position += chunk) {
            follower.transport.send(new FetchSnapshot("follower", "leader", 3, id, position, chunk));
            FetchSnapshot fetch = (FetchSnapshot) leader.take();
            byte[] data = new byte[fetch.maxBytes()];
            random.nextBytes(data);
            leader.transport.send(new SnapshotChunk("leader", "follower", 3, id, fetch.position(), size, data, 7));
            SnapshotChunk received = (SnapshotChunk) follower.take();
            assertEquals(position, received.position());
            assertTrue(java.util.Arrays.equals(data, received.data()), "chunk at " + position);
        }
        assertEquals(0, leader.transport.messagesDropped() + follower.transport.messagesDropped());
        assertEquals(0, leader.transport.connectionsRefused() + follower.transport.connectionsRefused());
    }

    @Test
    void restartedPeerIsReconnectedAutomatically() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        a.transport.send(new NewEpoch("a", "b", 1));
        assertEquals(new NewEpoch("a", "b", 1), b.take());
        InetSocketAddress oldAddress = b.address();

        b.transport.close();
        Node restarted = nodes.start("b", c -> c.bindAddress(oldAddress));

        // The protocol retransmits; so does this test, until the back-off lets the reconnect through.
        assertEquals(new NewEpoch("a", "b", 2), sendUntilReceived(a, new NewEpoch("a", "b", 2), restarted));
        restarted.transport.send(new AppendAck("b", "a", 2, 0, 0));
        assertEquals(new AppendAck("b", "a", 2, 0, 0), a.take());
    }

    @Test
    void peerThatMovedIsFoundThroughTheDirectoryOnReconnect() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        a.transport.send(new NewEpoch("a", "b", 1));
        b.take();
        b.transport.close();
        Node moved = nodes.start("b"); // a new ephemeral port, published in the directory
        assertEquals(new NewEpoch("a", "b", 2), sendUntilReceived(a, new NewEpoch("a", "b", 2), moved));
    }

    @Test
    void sendToAnUnreachablePeerDropsAndNeverBlocks() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        int closedPort = LoopbackPorts.freePort();
        nodes.directory.addresses.put("b", new InetSocketAddress("127.0.0.1", closedPort));
        int count = 20_000;
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
            for (int i = 0; i < count; i++) {
                a.transport.send(new AppendAck("a", "b", 1, i, i));
            }
        });
        eventually("every message to b dropped", () -> a.transport.messagesDropped() == count);
        assertEquals(0, a.transport.messagesSent());
    }

    @Test
    void sendsToAPeerThatDoesNotReadAreDroppedOverTheHighWaterMark() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a", c -> c.writeBufferHighWaterMark(64 * 1024).maxPendingBytes(1L << 30));
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            nodes.directory.addresses.put("b", (InetSocketAddress) silent.getLocalSocketAddress());
            a.transport.send(new NewEpoch("a", "b", 1));
            Socket accepted = silent.accept(); // accepted, never read
            try {
                byte[] payload = new byte[256 * 1024];
                int count = 200; // 50 MiB: more than the socket buffers can hold
                assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
                    for (int i = 0; i < count; i++) {
                        a.transport.send(new Append("a", "b", 1, i - 1, 1, List.of(Entry.data(1, i, payload)), 0, i));
                    }
                });
                eventually("sends over the high-water mark dropped", () -> a.transport.messagesDropped() > 0);
                assertTrue(a.transport.messagesSent() < count, "sent " + a.transport.messagesSent());
            } finally {
                accepted.close();
            }
        }
    }

    @Test
    void messagesToNoPeerAreDropped() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        a.transport.send(new NewEpoch("a", "zed", 1));
        a.transport.send(new NewEpoch("a", "a", 1));
        assertEquals(2, a.transport.messagesDropped());
        assertNull(a.inbox.poll(50, TimeUnit.MILLISECONDS));
    }

    @Test
    void messageLargerThanTheMaximumFrameIsDroppedAndTheConnectionKeepsWorking() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a", c -> c.maxFrameBytes(64 * 1024));
        Node b = nodes.start("b", c -> c.maxFrameBytes(64 * 1024));
        a.transport.send(new FetchResponse("a", "b", 1, 0, List.of(Entry.data(1, 0, new byte[100 * 1024])), 1));
        a.transport.send(new NewEpoch("a", "b", 2));
        assertEquals(new NewEpoch("a", "b", 2), b.take());
        assertEquals(1, a.transport.messagesDropped());
        assertEquals(0, b.transport.connectionsRefused());
    }

    @Test
    void sendingAMessageFromAnotherReplicaIsRefused() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        assertThrows(IllegalArgumentException.class, () -> a.transport.send(new NewEpoch("b", "a", 1)));
    }

    @Test
    void closeIsIdempotentAndFreesThePort() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        Node b = nodes.start("b");
        a.transport.send(new NewEpoch("a", "b", 1));
        b.take();
        b.transport.send(new NewEpoch("b", "a", 1));
        a.take(); // connections both ways are established

        InetSocketAddress address = a.address();
        List<Thread> threadsOfA = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("tenure-transport-a-")) {
                threadsOfA.add(t);
            }
        }
        assertFalse(threadsOfA.isEmpty());
        a.transport.close();
        a.transport.close();
        for (Thread t : threadsOfA) {
            t.join(1000); // close waited for termination; a thread may still be returning from run()
            assertFalse(t.isAlive(), "thread still alive after close: " + t.getName());
        }
        a.transport.send(new NewEpoch("a", "b", 2)); // dropped, no exception
        assertThrows(IllegalStateException.class, () -> a.transport.start(m -> {}));

        Node again = nodes.start("a", c -> c.bindAddress(address));
        assertEquals(address, again.address());
        assertEquals(new NewEpoch("b", "a", 2), sendUntilReceived(b, new NewEpoch("b", "a", 2), again));
    }

    @Test
    void closeBeforeStartIsAllowedAndStartAfterIsRefused() {
        NettyTransport t = new TestNodes("a", "b").builder("a").build();
        t.close();
        t.close();
        assertThrows(IllegalStateException.class, () -> t.start(m -> {}));
    }

    @Test
    void startTwiceIsRefused() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        assertThrows(IllegalStateException.class, () -> a.transport.start(m -> {}));
    }

    @Test
    void bindFailureClosesTheTransport() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        NettyTransport clash = nodes.builder("b").bindAddress(a.address()).build();
        assertThrows(Exception.class, () -> clash.start(m -> {}));
        assertThrows(IllegalStateException.class, () -> clash.start(m -> {}));
        clash.close();
    }

    @Test
    void anOutboundConnectionBackingOffConnectsAtOnceWhenThePeerConnectsIn() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a", c -> c.backoff(Duration.ofSeconds(30), Duration.ofSeconds(30)));
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        nodes.directory.addresses.put("b", new java.net.InetSocketAddress("127.0.0.1", closed));
        a.transport.send(new NewEpoch("a", "b", 1)); // refused: a backs off for 30 s
        eventually("a's connect was refused", () -> a.transport.messagesDropped() >= 1);

        Node b = nodes.start("b"); // b comes up (on another port) and connects to a
        b.transport.send(new NewEpoch("b", "a", 1));
        assertEquals(new NewEpoch("b", "a", 1), a.take());
        // a connects to b now, not after its 30 s back-off: sends go through within the wait.
        eventually("a reached b", () -> {
            a.transport.send(new NewEpoch("a", "b", 2));
            return !b.inbox.isEmpty();
        });
        assertEquals(new NewEpoch("a", "b", 2), b.take());
    }

    @Test
    void builderRefusesAnInvalidConfiguration() {
        TestNodes config = new TestNodes("a", "b");
        assertThrows(IllegalArgumentException.class, () -> config.builder("c").build(), "self not a member");
        assertThrows(
                IllegalArgumentException.class,
                () -> config.builder("a").members(List.of("a", "a")).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> config.builder("a").clusterName("").build());
        assertThrows(
                IllegalArgumentException.class,
                () -> config.builder("a").peerDirectory(null).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> config.builder("a").maxFrameBytes(10).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> config.builder("a")
                        .backoff(Duration.ofSeconds(2), Duration.ofMillis(50))
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> config.builder("a")
                        .members(List.of("a", "x".repeat(2000)))
                        .build());
    }

    @Test
    void inboundConsumerFailureDoesNotBreakTheConnection() throws Exception {
        nodes = new TestNodes("a", "b");
        Node a = nodes.start("a");
        List<Message> got = new ArrayList<>();
        java.util.concurrent.CountDownLatch second = new java.util.concurrent.CountDownLatch(2);
        NettyTransport b = nodes.builder("b").build();
        try {
            b.start(m -> {
                got.add(m);
                second.countDown();
                if (got.size() == 1) {
                    throw new IllegalStateException("consumer bug");
                }
            });
            nodes.directory.addresses.put("b", b.boundAddress());
            a.transport.send(new NewEpoch("a", "b", 1));
            a.transport.send(new NewEpoch("a", "b", 2));
            assertTrue(second.await(5, TimeUnit.SECONDS));
            assertNotEquals(got.get(0), got.get(1));
        } finally {
            b.close();
        }
    }
}
