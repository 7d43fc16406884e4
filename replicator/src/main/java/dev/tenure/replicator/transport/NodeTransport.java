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

/**
 * Carries the protocol messages of many replicated logs (partitions) hosted by one node, over one connection per
 * pair of nodes: every message travels tagged with its partition's id (see {@link PartitionIds}). A message's
 * {@code from} and {@code to} are node ids. Best effort, like {@link Transport}: a message may be lost,
 * duplicated or delayed, but is never altered, and never delivered under another partition than the one it was
 * sent with.
 *
 * <p>A node transport knows nothing of which partitions a node hosts: it hands every (partition, message) it
 * receives to one {@link PartitionInbound}; {@link PartitionRouter} dispatches them to per-partition {@link
 * Transport} views.
 *
 * <p>Thread-safe. {@link #start(PartitionInbound)} once; {@link #close()} is idempotent and stops every thread
 * and connection the transport started.
 */
public interface NodeTransport extends Closeable {
    /**
     * Starts accepting and making connections; every message received from a peer node is handed to {@code
     * inbound} with its partition (on a transport thread: it must only enqueue).
     */
    void start(PartitionInbound inbound) throws Exception;

    /**
     * Asks the transport to stop reading while {@code budget} is exhausted; see {@link
     * Transport#inboundBudget}. May be called more than once (once per partition); it reads only while no
     * budget given is exhausted.
     */
    default void inboundBudget(InboundBudget budget) {}

    /**
     * Sends {@code message}, tagged with {@code partition}, to node {@code message.to()} if a connection can be
     * had; otherwise drops it. Never blocks.
     *
     * @throws IllegalArgumentException if {@code partition} is not a valid partition id ({@link PartitionIds})
     */
    void send(String partition, Message message);

    @Override
    void close();

    /** Receives every message of every partition that reaches a node. */
    @FunctionalInterface
    interface PartitionInbound {
        /** {@code message} arrived for {@code partition} (a valid partition id); on a transport thread. */
        void receive(String partition, Message message);
    }
}
