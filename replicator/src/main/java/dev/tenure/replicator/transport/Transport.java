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

import dev.tenure.replicator.core.Message;
import java.io.Closeable;
import java.util.function.Consumer;

/**
 * Carries protocol messages between replicas. Best effort: a message may be lost, duplicated or delayed
 * (the protocol tolerates all three), but a message is never altered.
 *
 * <p>Thread-safe. {@link #start(Consumer)} once; {@link #close()} is idempotent and stops every thread and
 * connection the transport started.
 */
public interface Transport extends Closeable {
    /**
     * Starts accepting and making connections; every message received from a peer is handed to {@code
     * inbound} (on a transport thread: it must only enqueue, or do short work if {@link
     * #mayHandleOnDeliveryThread}).
     */
    void start(Consumer<Message> inbound) throws Exception;

    /**
     * Asks the transport to stop reading from its connections while {@code budget} is exhausted (the consumer is
     * behind), before {@link #start}: back-pressure instead of an unbounded queue of received messages. The
     * consumer takes and gives back the budget's units itself. A transport that cannot stop reading ignores it
     * (the default).
     */
    default void inboundBudget(InboundBudget budget) {}

    /**
     * Whether the consumer given to {@link #start} may do short work on the delivering thread (a replica then
     * handles a small message there when its event thread is idle, instead of waking that thread: issue 20). Only
     * a transport whose delivering threads are its own IO threads, serving this consumer alone, says so; false by
     * default.
     */
    default boolean mayHandleOnDeliveryThread() {
        return false;
    }

    /**
     * Called on a delivering thread of this transport: queues {@code task} to run on that thread after the messages
     * it has read and is delivering now (the end of a read burst), and returns true; returns false, having done
     * nothing, on any other thread or if the transport cannot (the default). A replica that handled a message on the
     * delivering thread uses it to sync once after a burst of appends, as its event thread does after the events
     * already queued.
     */
    default boolean runAfterDeliveries(Runnable task) {
        return false;
    }

    /**
     * Asks the transport to report, before {@link #start}, each refused attempt to connect to a peer ({@code
     * ECONNREFUSED}: nothing listens on the peer's port, so its process is gone on a live host), with the peer's id, on
     * a transport thread (the listener must only enqueue). A hint for fast failover (docs/replication.md, "Fast
     * failover"); a transport that cannot tell ignores it (the default).
     */
    default void connectionRefusals(java.util.function.Consumer<String> refusedPeer) {}

    /** Sends {@code message} to {@code message.to()} if a connection can be had; otherwise drops it. */
    void send(Message message);

    @Override
    void close();
}
