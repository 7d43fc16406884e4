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
import static dev.tenure.replicator.transport.netty.TestNodes.writeQuietly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.Append;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.transport.InboundBudget;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The transport's resource bounds: inbound connections are capped, a connection silent after its hello is closed,
 * and a consumer that falls behind stops the transport reading (TCP holds the sender back) instead of letting
 * received messages queue without bound — and nothing is lost when it catches up.
 */
class NettyTransportBoundsTest {
    private final TestNodes nodes = new TestNodes("a", "b", "c");
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        nodes.close();
    }

    private Socket open(TestNodes.Node to) throws IOException {
        Socket s = connect(to.address());
        sockets.add(s);
        return s;
    }

    private static byte[] hello(String from, String to) {
        return MessageCodec.encodeFrame(new Frame.Hello(TestNodes.CLUSTER, from, to));
    }

    /** True if {@code s} is still open: a read gets no EOF within a short while. */
    private static boolean stillOpen(Socket s) throws IOException {
        s.setSoTimeout(50);
        try {
            return s.getInputStream().read() >= 0; // the transport sends nothing unasked: a byte would be odd
        } catch (SocketTimeoutException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void connectionsBeyondTheCapAreClosedAtOnceAndAFreedSlotIsReused() throws Exception {
        TestNodes.Node a = nodes.start("a", b -> b.maxInboundConnections(3));
        List<Socket> first = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            first.add(open(a));
        }
        eventually("three connections counted", () -> a.transport.inboundConnections() == 3);
        Socket fourth = open(a);
        Socket fifth = open(a);
        assertClosedByPeer(fourth);
        assertClosedByPeer(fifth);
        eventually("both counted as refused", () -> a.transport.connectionsRefused() == 2);
        assertEquals(3, a.transport.inboundConnections());
        for (Socket s : first) {
            assertTrue(stillOpen(s), "the connections within the cap stay open");
        }

        first.get(0).close();
        eventually("the closed connection frees its slot", () -> a.transport.inboundConnections() == 2);
        Socket again = open(a);
        writeQuietly(again, hello("c", "a"), MessageCodec.encode(new NewEpoch("c", "a", 7)));
        assertEquals(new NewEpoch("c", "a", 7), a.take(), "a connection in a freed slot is served");
    }

    @Test
    void aConnectionSilentAfterItsHelloIsClosedAtTheIdleTimeoutWhileAPingingPeerStaysConnected() throws Exception {
        TestNodes.Node a =
                nodes.start("a", b -> b.idleTimeout(Duration.ofMillis(600)).pingInterval(Duration.ofMillis(100)));
        TestNodes.Node b =
                nodes.start("b", c -> c.idleTimeout(Duration.ofMillis(600)).pingInterval(Duration.ofMillis(100)));

        Socket silent = open(a);
        writeQuietly(silent, hello("c", "a"));
        long start = System.nanoTime();
        eventually("the hello is accepted", () -> a.transport.connectionsAccepted() >= 1);
        assertClosedByPeer(silent);
        long silentMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(silentMillis >= 500, "closed after " + silentMillis + " ms, before the idle timeout");

        TestNodes.sendUntilReceived(b, new NewEpoch("b", "a", 1), a);
        long acceptedBefore = a.transport.connectionsAccepted();
        // b's connection stays idle for several idle timeouts, kept open by b's pings.
        long firstHeard = a.transport.lastHeardNanos("b");
        eventually(
                "b heard for three idle timeouts",
                () -> a.transport.lastHeardNanos("b") - firstHeard
                        > Duration.ofMillis(1_800).toNanos());
        assertEquals(acceptedBefore, a.transport.connectionsAccepted(), "b's connection was never closed");
        b.transport.send(new NewEpoch("b", "a", 2));
        assertEquals(new NewEpoch("b", "a", 2), a.take());
    }

    @Test
    void aConsumerThatFallsBehindStopsTheTransportReadingAndNothingIsLostWhenItCatchesUp() throws Exception {
        int limit = 8;
        int count = 200;
        InboundBudget budget = new InboundBudget(limit);
        LinkedBlockingQueue<Message> held = new LinkedBlockingQueue<>();
        NettyTransport a = nodes.builder("a").build();
        a.inboundBudget(budget);
        a.start(m -> {
            budget.take(); // handed on, not yet handled: the units stay out until the test gives them back
            held.add(m);
        });
        nodes.directory.addresses.put("a", a.boundAddress());
        TestNodes.Node b = nodes.start("b");
        try {
            byte[] payload = new byte[16 * 1024]; // a few frames per socket read
            for (int i = 0; i < count; i++) {
                b.transport.send(new Append("b", "a", 1, i - 1, 1, List.of(Entry.data(1, i, payload)), 0, i));
            }
            eventually("a stopped reading", () -> a.readPauses() >= 1);
            // What arrived before the pause took effect is bounded by one read's frames, not by what b sent.
            int heldAtPause = held.size();
            assertTrue(heldAtPause < count / 2, heldAtPause + " of " + count + " received while over budget");

            List<Message> all = new ArrayList<>();
            while (all.size() < count) {
                Message m = held.poll(TestNodes.WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                if (m == null) {
                    break;
                }
                all.add(m);
                budget.giveBack();
            }
            assertEquals(count, all.size(), "every message arrives once the consumer catches up");
            for (int i = 0; i < count; i++) {
                assertEquals(i, ((Append) all.get(i)).probe(), "in the order sent");
            }
            assertEquals(0, b.transport.messagesDropped(), "the sender queued instead of dropping");
        } finally {
            a.close();
        }
    }

    @Test
    void boundsOutsideTheirRangeAreRefusedWhenBuilt() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> nodes.builder("a").maxInboundConnections(0).build());
        assertTrue(e.getMessage().contains("maxInboundConnections"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> nodes.builder("a")
                        .pingInterval(Duration.ofSeconds(1))
                        .idleTimeout(Duration.ofMillis(1500))
                        .build());
        assertTrue(e.getMessage().contains("idleTimeout"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new InboundBudget(0));
    }
}
