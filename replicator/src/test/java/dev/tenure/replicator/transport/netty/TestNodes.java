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
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.PeerDirectory;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/** Transports on 127.0.0.1 with ephemeral ports, their inboxes, and raw-socket helpers; closes them all. */
final class TestNodes implements AutoCloseable {
    static final String CLUSTER = "test-cluster";
    static final Duration WAIT = Duration.ofSeconds(5);

    /** A directory the test changes as transports start (ports are ephemeral). */
    static final class MutableDirectory implements PeerDirectory {
        final Map<String, InetSocketAddress> addresses = new ConcurrentHashMap<>();

        @Override
        public Optional<InetSocketAddress> addressOf(String replicaId) {
            return Optional.ofNullable(addresses.get(replicaId));
        }
    }

    /** A started transport and what it received. */
    static final class Node {
        final NettyTransport transport;
        final BlockingQueue<Message> inbox = new LinkedBlockingQueue<>();

        Node(NettyTransport transport) {
            this.transport = transport;
        }

        Message take() throws InterruptedException {
            Message m = inbox.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(m, transport.selfId() + " received nothing within " + WAIT);
            return m;
        }

        InetSocketAddress address() {
            return transport.boundAddress();
        }
    }

    final MutableDirectory directory = new MutableDirectory();
    final List<String> members;
    private final List<Node> started = new ArrayList<>();

    TestNodes(String... members) {
        this.members = List.of(members);
    }

    NettyTransport.Builder builder(String id) {
        return NettyTransport.builder()
                .plaintext()
                .selfId(id)
                .clusterName(CLUSTER)
                .members(members)
                .bindAddress(new InetSocketAddress("127.0.0.1", 0))
                .peerDirectory(directory)
                .random(new Random(id.hashCode()));
    }

    Node start(String id) throws Exception {
        return start(id, b -> b);
    }

    Node start(String id, UnaryOperator<NettyTransport.Builder> config) throws Exception {
        Node node = new Node(config.apply(builder(id)).build());
        started.add(node);
        node.transport.start(node.inbox::add);
        directory.addresses.put(id, node.address());
        return node;
    }

    @Override
    public void close() {
        for (Node n : started) {
            n.transport.close();
        }
    }

    /**
     * Holds the event loop of {@code transport}'s connection to {@code peer} until the returned latch is counted down
     * (at most {@link #WAIT}): what is sent to that peer meanwhile stays queued, and is drained together once released.
     */
    static CountDownLatch holdEventLoop(NettyTransport transport, String peer) throws InterruptedException {
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        transport.eventLoopOf(peer).execute(() -> {
            holding.countDown();
            try {
                assertTrue(release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(holding.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        return release;
    }

    /** Waits, polling, until {@code condition} holds; fails after {@link #WAIT}. */
    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT + ": " + what);
            }
            Thread.sleep(5);
        }
    }

    /**
     * Sends {@code message} every 50 ms, as the protocol would retransmit, until {@code to} receives a message;
     * returns it (the first one received, which may be an earlier copy). Fails after {@link #WAIT}.
     */
    static Message sendUntilReceived(Node from, Message message, Node to) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            from.transport.send(message);
            Message got = to.inbox.poll(50, TimeUnit.MILLISECONDS);
            if (got != null) {
                return got;
            }
        }
        return fail(to.transport.selfId() + " heard nothing from " + from.transport.selfId() + " within " + WAIT);
    }

    // ---- raw sockets ----

    static Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        s.connect(address, 2000);
        s.setSoTimeout((int) WAIT.toMillis());
        return s;
    }

    /** Writes, ignoring a reset or broken pipe: the other side may already have closed. */
    static void writeQuietly(Socket s, byte[]... chunks) {
        try {
            for (byte[] chunk : chunks) {
                s.getOutputStream().write(chunk);
            }
            s.getOutputStream().flush();
        } catch (IOException e) {
            // the other side closed first; the caller asserts that
        }
    }

    /** Asserts the other side closes the connection (EOF or reset) within {@link #WAIT}. */
    static void assertClosedByPeer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        try {
            while (in.read(buf) >= 0) {
                // discard whatever came before the close
            }
        } catch (SocketTimeoutException e) {
            fail("connection not closed by the transport within " + WAIT);
        } catch (SocketException e) {
            // reset: closed too
        }
    }

    /** Reads one frame the other side sent. */
    static Frame readFrame(Socket s) throws IOException, MalformedFrameException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        int length = in.readInt();
        byte[] frame = new byte[4 + length];
        java.nio.ByteBuffer.wrap(frame).putInt(length);
        in.readFully(frame, 4, length);
        return MessageCodec.decodeFrame(frame);
    }
}
