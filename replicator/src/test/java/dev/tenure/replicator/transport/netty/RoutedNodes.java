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

import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.PartitionRouter;
import dev.tenure.replicator.transport.Transport;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Nodes on 127.0.0.1 whose Netty transports are node transports, each shared by its partitions through a {@link
 * PartitionRouter}; the views' inboxes. Closes them all.
 */
final class RoutedNodes implements AutoCloseable {
    final TestNodes.MutableDirectory directory = new TestNodes.MutableDirectory();
    final List<String> members;
    private final List<Node> started = new ArrayList<>();

    /** A started node: its transport, its router, and the views it opened. */
    static final class Node {
        final String id;
        final NettyTransport transport;
        final PartitionRouter router;
        final Map<String, View> views = new ConcurrentHashMap<>();

        Node(String id, NettyTransport transport) {
            this.id = id;
            this.transport = transport;
            this.router = new PartitionRouter(transport.asNodeTransport());
        }

        /** Opens and starts the view of {@code partition}. */
        View open(String partition) {
            View v = new View(partition, router.partition(partition));
            try {
                v.transport.start(v.inbox::add);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            views.put(partition, v);
            return v;
        }

        View view(String partition) {
            View v = views.get(partition);
            assertNotNull(v, id + " has no view of " + partition);
            return v;
        }
    }

    /** One partition's view on one node and what it received. */
    static final class View {
        final String partition;
        final Transport transport;
        final BlockingQueue<Message> inbox = new LinkedBlockingQueue<>();

        View(String partition, Transport transport) {
            this.partition = partition;
            this.transport = transport;
        }

        Message take() throws InterruptedException {
            Message m = inbox.poll(TestNodes.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(m, "partition " + partition + " received nothing within " + TestNodes.WAIT);
            return m;
        }
    }

    RoutedNodes(String... members) {
        this.members = List.of(members);
    }

    Node start(String id) throws Exception {
        return start(id, b -> b);
    }

    Node start(String id, UnaryOperator<NettyTransport.Builder> config) throws Exception {
        NettyTransport.Builder builder = NettyTransport.builder()
                .plaintext()
                .selfId(id)
                .clusterName(TestNodes.CLUSTER)
                .members(members)
                .bindAddress(new InetSocketAddress("127.0.0.1", 0))
                .peerDirectory(directory)
                .random(new Random(id.hashCode()));
        Node node = new Node(id, config.apply(builder).build());
        started.add(node);
        node.router.start();
        directory.addresses.put(id, node.transport.boundAddress());
        return node;
    }

    /** The started node {@code id}. */
    Node node(String id) {
        for (Node n : started) {
            if (n.id.equals(id)) {
                return n;
            }
        }
        throw new AssertionError("node " + id + " was not started");
    }

    /**
     * Sends {@code message} in {@code view}'s partition every 50 ms, as the protocol would retransmit, until {@code
     * to} receives a message; returns the first one received. Fails after {@link TestNodes#WAIT}.
     */
    static Message sendUntilReceived(View from, Message message, View to) throws InterruptedException {
        long deadline = System.nanoTime() + TestNodes.WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            from.transport.send(message);
            Message got = to.inbox.poll(50, TimeUnit.MILLISECONDS);
            if (got != null) {
                return got;
            }
        }
        throw new AssertionError("partition " + to.partition + " heard nothing within " + TestNodes.WAIT);
    }

    @Override
    public void close() {
        for (Node n : started) {
            n.router.close();
        }
    }
}
