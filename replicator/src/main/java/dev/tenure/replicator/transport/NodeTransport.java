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
 * <p><b>Control channel.</b> Besides partitions' messages, a node transport carries opaque control messages
 * between nodes ({@link #sendControl}, {@link PartitionInbound#control}): for a component that runs beside the
 * node, such as a controller that tells nodes which partitions to lead and follow. A control message is at most
 * {@link #MAX_CONTROL_BYTES} bytes, carries no sender field, and is handed on with the id of the node it came from as
 * the transport authenticated it (the connection's peer); it travels on the same connection and queue as the
 * partitions' messages to that node, so it keeps its place among them. Best effort, like a message: it may be lost,
 * duplicated or delayed, never altered.
 *
 * <p>Thread-safe. {@link #start(PartitionInbound)} once; {@link #close()} is idempotent and stops every thread
 * and connection the transport started.
 */
public interface NodeTransport extends Closeable {
    /** The largest control message body, in bytes: 1 MiB. */
    int MAX_CONTROL_BYTES = 1 << 20;

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

    /**
     * Sends {@code body} as a control message to node {@code toNode} if a connection can be had; otherwise drops
     * it. Never blocks. It goes through the same outbound connection and queue as the partitions' messages to that
     * node: of the messages and control messages sent to one node from one thread, those that arrive arrive in the
     * order they were sent (any of them may be missing). The receiving node's {@link PartitionInbound#control} gets
     * it with this node's id as its sender. {@code body} is copied before the call returns; it is at most {@link
     * #MAX_CONTROL_BYTES} bytes, and may be empty.
     *
     * <p>The default implementation checks the arguments and throws {@link UnsupportedOperationException}: a node
     * transport without a control channel.
     *
     * @throws IllegalArgumentException if {@code body} is null or longer than {@link #MAX_CONTROL_BYTES}, or {@code
     *     toNode} is not a valid node id (null or empty) or is this node's own id
     * @throws IllegalStateException if the transport is closed
     */
    default void sendControl(String toNode, byte[] body) {
        checkControl(toNode, body);
        throw new UnsupportedOperationException(this + " has no control channel");
    }

    /**
     * Checks the arguments of {@link #sendControl}, for implementations: {@code toNode} must be a non-empty node id and
     * {@code body} at most {@link #MAX_CONTROL_BYTES} bytes. Stateless.
     *
     * @throws IllegalArgumentException naming what is wrong (and the bound, for a body too long)
     */
    static void checkControl(String toNode, byte[] body) {
        if (toNode == null || toNode.isEmpty()) {
            throw new IllegalArgumentException("invalid node id " + (toNode == null ? "null" : "''")
                    + ": a control message needs the id of the node it is for");
        }
        if (body == null) {
            throw new IllegalArgumentException("control body must not be null");
        }
        if (body.length > MAX_CONTROL_BYTES) {
            throw new IllegalArgumentException("control body of " + body.length + " bytes exceeds the maximum of "
                    + MAX_CONTROL_BYTES + " bytes (NodeTransport.MAX_CONTROL_BYTES)");
        }
    }

    @Override
    void close();

    /** Receives every message of every partition, and every control message, that reaches a node. */
    @FunctionalInterface
    interface PartitionInbound {
        /** {@code message} arrived for {@code partition} (a valid partition id); on a transport thread. */
        void receive(String partition, Message message);

        /**
         * Control message {@code body} arrived from node {@code fromNode}, the peer the transport authenticated on
         * the connection it came on (never a value the sender wrote in the message); on a transport thread, so it
         * must only enqueue. Control messages and partition messages from one connection come in the order they
         * were sent, on one thread. The array is the receiver's to keep. By default dropped.
         */
        default void control(String fromNode, byte[] body) {}
    }
}
