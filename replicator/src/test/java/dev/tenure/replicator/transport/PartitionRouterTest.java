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
package dev.tenure.replicator.transport;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.testing.InMemoryNetwork;
import dev.tenure.replicator.testing.PausableTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * PartitionRouter over the in-memory node transports of {@link InMemoryNetwork}: delivery is synchronous (on the
 * sender's thread), so every assertion follows its send directly.
 */
class PartitionRouterTest {
    private final InMemoryNetwork network = new InMemoryNetwork();
    private final List<PartitionRouter> routers = new ArrayList<>();

    @AfterEach
    void closeRouters() {
        routers.forEach(PartitionRouter::close);
    }

    private PartitionRouter node(String id) throws Exception {
        PartitionRouter router = new PartitionRouter(network.nodeTransport(id));
        routers.add(router);
        router.start();
        return router;
    }

    /** Opens and starts partition {@code p}'s view on {@code router}; what it receives goes to the list. */
    private static Transport open(PartitionRouter router, String p, List<Message> inbox) throws Exception {
        Transport view = router.partition(p);
        view.start(inbox::add);
        return view;
    }

    @Test
    void partitionsOnOverlappingReplicaSetsDoNotSeeEachOthersMessages() throws Exception {
        Map<String, PartitionRouter> nodes = Map.of("a", node("a"), "b", node("b"), "c", node("c"));
        Map<String, List<String>> replicaSets = Map.of(
                "p1", List.of("a", "b"),
                "p2", List.of("a", "b", "c"),
                "p3", List.of("b", "c"));
        Map<String, Transport> views = new HashMap<>();
        Map<String, List<Message>> inboxes = new HashMap<>();
        Map<String, List<Message>> expected = new HashMap<>();
        for (Map.Entry<String, List<String>> e : replicaSets.entrySet()) {
            for (String id : e.getValue()) {
                List<Message> inbox = new ArrayList<>();
                inboxes.put(id + "/" + e.getKey(), inbox);
                expected.put(id + "/" + e.getKey(), new ArrayList<>());
                views.put(id + "/" + e.getKey(), open(nodes.get(id), e.getKey(), inbox));
            }
        }
        long epoch = 0;
        for (String p : List.of("p1", "p2", "p3")) {
            for (String from : replicaSets.get(p)) {
                for (String to : replicaSets.get(p)) {
                    if (!from.equals(to)) {
                        Message m = new NewEpoch(from, to, ++epoch);
                        views.get(from + "/" + p).send(m);
                        expected.get(to + "/" + p).add(m);
                    }
                }
            }
        }
        assertEquals(expected, inboxes);
        for (PartitionRouter r : nodes.values()) {
            assertEquals(0, r.unknownPartitionMessages());
        }
        assertEquals(Set.of("p2", "p3"), nodes.get("c").partitions());
    }

    @Test
    void aSecondViewOfAnOpenPartitionIsRefused() throws Exception {
        PartitionRouter a = node("a");
        Transport first = a.partition("p1");
        IllegalStateException notStarted = assertThrows(IllegalStateException.class, () -> a.partition("p1"));
        assertTrue(
                notStarted.getMessage().contains("partition 'p1' already has an open view"), notStarted.getMessage());
        first.start(m -> {});
        IllegalStateException started = assertThrows(IllegalStateException.class, () -> a.partition("p1"));
        assertTrue(started.getMessage().contains("open and started view"), started.getMessage());
        a.partition("p2"); // another partition is fine
    }

    @Test
    void aViewIsStartedOnce() throws Exception {
        Transport view = node("a").partition("p1");
        view.start(m -> {});
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> view.start(m -> {}));
        assertTrue(e.getMessage().contains("more than once"), e.getMessage());
    }

    @Test
    void closingAViewUnregistersItsPartitionAndANewViewMayOpenIt() throws Exception {
        PartitionRouter a = node("a");
        PartitionRouter b = node("b");
        Transport aP1 = open(a, "p1", new ArrayList<>());
        List<Message> first = new ArrayList<>();
        Transport bP1 = open(b, "p1", first);
        aP1.send(new NewEpoch("a", "b", 1));
        assertEquals(List.of(new NewEpoch("a", "b", 1)), first);

        bP1.close();
        bP1.close(); // idempotent
        assertEquals(Set.of(), b.partitions());
        aP1.send(new NewEpoch("a", "b", 2));
        assertEquals(1, first.size(), "a closed view receives nothing");
        assertEquals(1, b.unknownPartitionMessages(), "a message for a closed partition counts as unknown");

        List<Message> second = new ArrayList<>();
        open(b, "p1", second);
        aP1.send(new NewEpoch("a", "b", 3));
        assertEquals(List.of(new NewEpoch("a", "b", 3)), second);
        assertEquals(1, first.size());
    }

    @Test
    void aClosedViewDropsWhatItSendsAndCannotBeStarted() throws Exception {
        PartitionRouter a = node("a");
        List<Message> atB = new ArrayList<>();
        open(node("b"), "p1", atB);
        Transport view = a.partition("p1");
        view.send(new NewEpoch("a", "b", 1)); // before start: dropped, like a transport's
        view.start(m -> {});
        view.close();
        view.send(new NewEpoch("a", "b", 2));
        assertEquals(List.of(), atB);
        assertEquals(2, a.messagesDropped());
        assertEquals(0, a.messagesSent());
        assertThrows(IllegalStateException.class, () -> view.start(m -> {}));
    }

    @Test
    void aClosedRouterRefusesViewsClosesItsTransportAndItsViewsDropSends() throws Exception {
        PartitionRouter a = node("a");
        PartitionRouter b = node("b");
        List<Message> atA = new ArrayList<>();
        Transport aP1 = open(a, "p1", atA);
        Transport bP1 = open(b, "p1", new ArrayList<>());

        a.close();
        a.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> a.partition("p2"));
        assertThrows(IllegalStateException.class, a::start);
        aP1.send(new NewEpoch("a", "b", 1));
        assertEquals(1, a.messagesDropped());
        bP1.send(new NewEpoch("b", "a", 1));
        assertEquals(List.of(), atA, "a's node transport is off the network");
        assertEquals(0, a.unknownPartitionMessages());
        assertThrows(IllegalStateException.class, () -> aP1.start(m -> {}));
    }

    @Test
    void aRouterIsStartedOnce() throws Exception {
        PartitionRouter a = node("a");
        assertThrows(IllegalStateException.class, a::start);
    }

    @Test
    void anInvalidPartitionIdIsRefused() throws Exception {
        PartitionRouter a = node("a");
        for (String bad : new String[] {"", "a b", "x".repeat(65), "p/1", "é", "p\n"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.partition(bad));
            assertTrue(e.getMessage().contains("invalid partition id"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> a.partition(null));
        a.partition("x".repeat(64));
        a.partition("Orders.eu-west_3");
    }

    @Test
    void messagesForAnUnknownPartitionAreCountedAndWarnedAtMostOncePerPartitionAndInterval() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        PartitionRouter b = new PartitionRouter(network.nodeTransport("b"), Duration.ofSeconds(10), now::get);
        routers.add(b);
        b.start();
        List<Message> atB = new ArrayList<>();
        open(b, "p1", atB);
        PartitionRouter a = node("a");
        Transport aP1 = open(a, "p1", new ArrayList<>());
        Transport aP2 = open(a, "p2", new ArrayList<>());
        Transport aP3 = open(a, "p3", new ArrayList<>());

        for (int i = 0; i < 100; i++) {
            aP2.send(new NewEpoch("a", "b", i));
            aP3.send(new NewEpoch("a", "b", i));
        }
        assertEquals(200, b.unknownPartitionMessages());
        assertEquals(2, b.unknownPartitionWarnings(), "one line for p2, one for p3");

        now.addAndGet(Duration.ofSeconds(9).toNanos());
        aP2.send(new NewEpoch("a", "b", 100));
        assertEquals(2, b.unknownPartitionWarnings(), "not again within the interval");
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        aP2.send(new NewEpoch("a", "b", 101));
        assertEquals(3, b.unknownPartitionWarnings(), "again once the interval has passed");

        aP1.send(new NewEpoch("a", "b", 7));
        assertEquals(List.of(new NewEpoch("a", "b", 7)), atB, "the open partition was never affected");
        assertEquals(202, b.unknownPartitionMessages());
        assertEquals(1, b.messagesRouted());
    }

    @Test
    void theWarningMemoryIsBoundedAndEveryUnknownMessageIsCounted() throws Exception {
        PartitionRouter b = node("b");
        PartitionRouter a = node("a");
        int partitions = PartitionRouter.MAX_REMEMBERED_WARNINGS + 10;
        for (int i = 0; i < partitions; i++) {
            Transport view = open(a, "q" + i, new ArrayList<>());
            view.send(new NewEpoch("a", "b", i));
            view.send(new NewEpoch("a", "b", i));
        }
        assertEquals(2L * partitions, b.unknownPartitionMessages());
        assertEquals(partitions, b.unknownPartitionWarnings(), "the first message of each unknown partition");
    }

    @Test
    void aFailingConsumerOfOnePartitionDoesNotAffectAnother() throws Exception {
        PartitionRouter a = node("a");
        PartitionRouter b = node("b");
        Transport aP1 = open(a, "p1", new ArrayList<>());
        Transport aP2 = open(a, "p2", new ArrayList<>());
        b.partition("p1").start(m -> {
            throw new IllegalStateException("consumer of p1 fails");
        });
        List<Message> p2 = new ArrayList<>();
        open(b, "p2", p2);
        aP1.send(new NewEpoch("a", "b", 1));
        aP2.send(new NewEpoch("a", "b", 2));
        assertEquals(List.of(new NewEpoch("a", "b", 2)), p2);
        assertEquals(2, b.messagesRouted());
    }

    /** Control messages and partition messages, in arrival order, as text. */
    private static void recordInto(PartitionRouter router, List<String> arrivals) throws Exception {
        router.controlInbound((from, body) -> arrivals.add("control from " + from + ": " + new String(body, UTF_8)));
        router.partition("p1").start(m -> arrivals.add("p1 from " + m.from() + ": epoch " + m.epoch()));
    }

    @Test
    @Timeout(30)
    void controlMessagesReachTheControlInboundWithTheSendersIdInOrderWithPartitionMessages() throws Exception {
        PartitionRouter a = node("a");
        PartitionRouter b = node("b");
        List<String> atB = new ArrayList<>();
        recordInto(b, atB);
        Transport aP1 = open(a, "p1", new ArrayList<>());
        a.sendControl("b", "first".getBytes(UTF_8));
        aP1.send(new NewEpoch("a", "b", 1));
        a.sendControl("b", "second".getBytes(UTF_8));
        assertEquals(List.of("control from a: first", "p1 from a: epoch 1", "control from a: second"), atB);
        assertEquals(2, b.controlRouted());
        assertEquals(0, b.controlDropped());
    }

    @Test
    @Timeout(30)
    void controlMessagesWithNoInboundSetAreDroppedCountedAndWarnedAtMostOncePerInterval() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        PartitionRouter b = new PartitionRouter(network.nodeTransport("b"), Duration.ofSeconds(10), now::get);
        routers.add(b);
        b.start();
        PartitionRouter a = node("a");
        for (int i = 0; i < 50; i++) {
            a.sendControl("b", new byte[] {(byte) i});
        }
        assertEquals(50, b.controlDropped());
        assertEquals(1, b.controlDroppedWarnings(), "one line for the first, none again within the interval");
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        a.sendControl("b", new byte[] {1});
        assertEquals(2, b.controlDroppedWarnings(), "again once the interval has passed");

        // Set at any time: from then on control messages are delivered.
        List<byte[]> got = new ArrayList<>();
        b.controlInbound((from, body) -> got.add(body));
        a.sendControl("b", new byte[] {9, 9});
        assertEquals(1, got.size());
        assertArrayEquals(new byte[] {9, 9}, got.get(0));
        assertEquals(51, b.controlDropped());
        assertEquals(1, b.controlRouted());
    }

    @Test
    @Timeout(30)
    void aFailingControlInboundAffectsNoPartition() throws Exception {
        PartitionRouter a = node("a");
        PartitionRouter b = node("b");
        b.controlInbound((from, body) -> {
            throw new IllegalStateException("control inbound fails");
        });
        List<Message> p1 = new ArrayList<>();
        open(b, "p1", p1);
        Transport aP1 = open(a, "p1", new ArrayList<>());
        a.sendControl("b", new byte[] {1});
        aP1.send(new NewEpoch("a", "b", 2));
        assertEquals(List.of(new NewEpoch("a", "b", 2)), p1);
        assertEquals(1, b.controlRouted());
    }

    @Test
    @Timeout(30)
    void sendControlChecksItsArgumentsAndThrowsOnceTheRouterIsClosed() throws Exception {
        PartitionRouter a = node("a");
        node("b");
        IllegalArgumentException tooLong = assertThrows(
                IllegalArgumentException.class,
                () -> a.sendControl("b", new byte[NodeTransport.MAX_CONTROL_BYTES + 1]));
        assertTrue(tooLong.getMessage().contains("1048576"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.sendControl("", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> a.sendControl("a", new byte[0]));
        a.close();
        assertThrows(IllegalStateException.class, () -> a.sendControl("b", new byte[0]));
        assertThrows(NullPointerException.class, () -> a.controlInbound(null));
    }

    @Test
    @Timeout(30)
    void theInMemoryNetworkCutsControlMessagesLikeMessages() throws Exception {
        PartitionRouter a = node("a");
        PartitionRouter b = node("b");
        List<String> atB = new ArrayList<>();
        b.controlInbound((from, body) -> atB.add(from));
        network.cut("a", "b");
        a.sendControl("b", new byte[0]);
        assertEquals(List.of(), atB);
        network.healAll();
        a.sendControl("b", new byte[0]);
        assertEquals(List.of("a"), atB);
    }

    @Test
    void aViewCanBeWrappedLikeAnyTransport() throws Exception {
        PartitionRouter a = node("a");
        List<Message> atB = new ArrayList<>();
        open(node("b"), "p1", atB);
        PausableTransport paused = new PausableTransport(a.partition("p1"));
        paused.start(m -> {});
        paused.pause();
        paused.send(new NewEpoch("a", "b", 1));
        assertEquals(List.of(), atB);
        paused.resume();
        assertEquals(List.of(new NewEpoch("a", "b", 1)), atB);
        paused.close();
        assertEquals(Set.of(), a.partitions());
    }
}
