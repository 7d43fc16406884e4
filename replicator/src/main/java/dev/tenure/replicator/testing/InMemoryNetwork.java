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
package dev.tenure.replicator.testing;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.NodeTransport;
import dev.tenure.replicator.transport.PartitionIds;
import dev.tenure.replicator.transport.Transport;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * An in-process network of {@link Transport}s for tests and examples: messages are handed directly to the
 * receiver's inbound consumer (on the sender's thread), links can be cut, and messages can be dropped by a filter.
 *
 * <p>It also connects {@link NodeTransport}s ({@link #nodeTransport}), the transports of nodes that host many
 * partitions: a message travels with its partition, as a {@code Partitioned} frame would, and is handed to the
 * receiving node's inbound with it; wrap each in a {@link dev.tenure.replicator.transport.PartitionRouter} to give
 * each partition its own {@link Transport}. Node ids and replica ids are apart (a node transport reaches only node
 * transports); cuts and the drop filter apply to both, by the message's {@code from} and {@code to}. Node
 * transports also carry control messages ({@link NodeTransport#sendControl}): handed to the receiving node's
 * inbound with the sending transport's id as the sender; cuts apply to them, the drop filter (which sees messages)
 * does not.
 *
 * <p>Thread-safe.
 */
public final class InMemoryNetwork {
    private final Map<String, Consumer<Message>> inbound = new ConcurrentHashMap<>();
    private final Map<String, NodeTransport.PartitionInbound> nodes = new ConcurrentHashMap<>();
    private final Set<String> cut = ConcurrentHashMap.newKeySet();
    private volatile Predicate<Message> drop = m -> false;

    /** The transport of replica {@code id} on this network. */
    public Transport transport(String id) {
        return new Transport() {
            @Override
            public void start(Consumer<Message> consumer) {
                if (inbound.putIfAbsent(id, consumer) != null) {
                    throw new IllegalStateException("replica " + id + " is already on the network");
                }
            }

            @Override
            public void send(Message m) {
                if (!m.from().equals(id) || cut.contains(m.from() + ">" + m.to()) || drop.test(m)) {
                    return;
                }
                Consumer<Message> to = inbound.get(m.to());
                if (to != null) {
                    to.accept(m);
                }
            }

            @Override
            public void close() {
                inbound.remove(id);
            }
        };
    }

    /**
     * The transport of node {@code id} on this network: {@code send(partition, m)} hands {@code (partition, m)} to
     * the inbound of node {@code m.to()} if it is started and the link is not cut; a message not from {@code id}
     * is dropped. {@code sendControl(to, body)} hands a copy of {@code body} to the inbound of node {@code to} as
     * from {@code id}, under the same conditions (dropped before start); it throws as {@link
     * NodeTransport#sendControl} says, {@link IllegalStateException} after close.
     */
    public NodeTransport nodeTransport(String id) {
        return new NodeTransport() {
            private volatile PartitionInbound started;
            private volatile boolean closed;

            @Override
            public void start(PartitionInbound consumer) {
                java.util.Objects.requireNonNull(consumer, "inbound");
                if (nodes.putIfAbsent(id, consumer) != null) {
                    throw new IllegalStateException("node " + id + " is already on the network");
                }
                started = consumer;
            }

            @Override
            public void send(String partition, Message m) {
                PartitionIds.check(partition);
                if (!m.from().equals(id) || cut.contains(m.from() + ">" + m.to()) || drop.test(m)) {
                    return;
                }
                PartitionInbound to = nodes.get(m.to());
                if (to != null) {
                    to.receive(partition, m);
                }
            }

            @Override
            public void sendControl(String toNode, byte[] body) {
                NodeTransport.checkControl(toNode, body);
                if (toNode.equals(id)) {
                    throw new IllegalArgumentException("node " + id + " cannot send a control message to itself");
                }
                if (closed) {
                    throw new IllegalStateException("in-memory node " + id + " is closed");
                }
                if (started == null || cut.contains(id + ">" + toNode)) {
                    return;
                }
                PartitionInbound to = nodes.get(toNode);
                if (to != null) {
                    to.control(id, body.clone());
                }
            }

            @Override
            public void close() {
                closed = true;
                PartitionInbound mine = started;
                if (mine != null) {
                    nodes.remove(id, mine);
                }
            }

            @Override
            public String toString() {
                return "in-memory node " + id;
            }
        };
    }

    /** Cuts both directions between {@code a} and {@code b}. */
    public void cut(String a, String b) {
        cut.add(a + ">" + b);
        cut.add(b + ">" + a);
    }

    /** Cuts {@code id} off from every other replica. */
    public void isolate(String id, Iterable<String> others) {
        for (String o : others) {
            if (!o.equals(id)) {
                cut(id, o);
            }
        }
    }

    /** Restores every cut link and stops dropping messages. */
    public void healAll() {
        cut.clear();
        drop = m -> false;
    }

    /** Drops every message sent from now on that {@code filter} matches (called on the sender's thread). */
    public void drop(Predicate<Message> filter) {
        drop = java.util.Objects.requireNonNull(filter, "filter");
    }
}
