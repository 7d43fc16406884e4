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
package dev.tenure.replicator.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.InboundBudget;
import dev.tenure.replicator.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** {@link ZooKeeperNode.HeardTransport}: a partition's view that notes its senders and hands the rest on. */
class HeardTransportTest {
    /** The node transport's view of one partition, as far as the wrapper uses it. */
    private static final class RecordingView implements Transport {
        InboundBudget budget;
        Consumer<Message> inbound;
        final List<Message> sent = new ArrayList<>();
        boolean closed;

        @Override
        public void inboundBudget(InboundBudget budget) {
            this.budget = budget;
        }

        @Override
        public void start(Consumer<Message> inbound) {
            this.inbound = inbound;
        }

        @Override
        public void send(Message message) {
            sent.add(message);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void theInboundBudgetReachesTheNodeTransportSoThatItStopsReadingWhileTheReplicasAreBehind() {
        RecordingView view = new RecordingView();
        Transport heard =
                new ZooKeeperNode.HeardTransport(view, new ConcurrentHashMap<>(), ConcurrentHashMap.newKeySet());
        InboundBudget budget = new InboundBudget(16);
        heard.inboundBudget(budget);
        assertSame(budget, view.budget, "the budget is the node transport's to watch");
    }

    @Test
    void everyDeliveredMessageIsASignOfLifeOfItsSenderAndReachesTheReplicaAndSendsAndCloseGoToTheView()
            throws Exception {
        RecordingView view = new RecordingView();
        Map<String, Long> heardFrom = new ConcurrentHashMap<>();
        Set<Consumer<String>> refusalListeners = ConcurrentHashMap.newKeySet();
        Transport heard = new ZooKeeperNode.HeardTransport(view, heardFrom, refusalListeners);
        List<Message> delivered = new ArrayList<>();
        heard.start(delivered::add);
        Consumer<String> refused = peer -> {};
        heard.connectionRefusals(refused);
        assertTrue(refusalListeners.contains(refused));

        long before = System.nanoTime();
        Message m = new Message.NewEpoch("n2", "n1", 7);
        view.inbound.accept(m);
        assertEquals(List.of(m), delivered);
        assertTrue(heardFrom.get("n2") >= before, "n2 was heard from: " + heardFrom);

        Message out = new Message.NewEpoch("n1", "n3", 8);
        heard.send(out);
        assertEquals(List.of(out), view.sent);
        heard.close();
        assertTrue(view.closed);
        assertTrue(refusalListeners.isEmpty(), "a closed partition hears no more refusals");
    }
}
