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

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.trace.WriteTrace;
import dev.tenure.replicator.transport.InboundBudget;
import dev.tenure.replicator.transport.NodeTransport;
import dev.tenure.replicator.transport.NodeTransport.PartitionInbound;
import dev.tenure.replicator.transport.PartitionIds;
import dev.tenure.replicator.transport.PeerDirectory;
import dev.tenure.replicator.transport.Transport;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Transport} over TCP with Netty (NIO, so it runs anywhere), or, through {@link #asNodeTransport()}, a
 * {@link NodeTransport}: which one is decided by which is started. Built with {@link #builder()}.
 *
 * <p><b>One log or many.</b> Started with {@link #start(Consumer)}, it carries the messages of one replicated log
 * and its ids are replica ids. Started as {@link #asNodeTransport()}, it is a node's transport: it carries the
 * messages of every partition the node hosts, each in a {@code Partitioned} frame tagged with its partition
 * ({@link MessageCodec}), and its ids are node ids; its {@link #members} are the nodes of every partition's
 * replica set. Either way there is one connection per peer, and everything below holds for each: a node's
 * messages to one peer, of any partitions, share that peer's connection, queue and flushes. A transport refuses
 * (closes) a connection that sends it frames of the other kind; sending through the other kind's {@code send} is
 * refused with an {@link IllegalStateException}. Routing a partition's messages to the log that hosts it is
 * {@link dev.tenure.replicator.transport.PartitionRouter}'s job.
 *
 * <p><b>Control messages.</b> A node transport also carries opaque control messages ({@link
 * NodeTransport#sendControl}) as {@code Control} frames (type 31, at most {@link NodeTransport#MAX_CONTROL_BYTES}
 * bytes) on the same per-peer connection, queue and flushes as the partitions' messages, so they keep their place
 * among them. A received one is handed to {@link NodeTransport.PartitionInbound#control} with the id of the peer
 * whose hello the connection accepted (with mutual TLS, the id its certificate names); a {@code Control} frame
 * before an accepted hello, a malformed one, or one on a single-log transport closes its connection. They count
 * as messages in {@link #messagesSent}, {@link #messagesReceived} and {@link #messagesDropped}.
 *
 * <p><b>Connections.</b> A replica keeps at most one outbound connection per peer and sends on it only; it
 * receives on the connections its peers open to it. The outbound connection is opened on the first send to a
 * peer, looking the peer up in the {@link PeerDirectory}, and after it drops it is opened again after a back-off
 * that doubles from {@link Builder#backoff min} to {@link Builder#backoff max} with random jitter. The connecting
 * side's first frame is a hello (cluster name, its id, the id it means to reach); the accepting side answers a
 * bad hello with a rejection and closes, and closes a connection on any malformed, oversized or unexpected frame
 * (see {@link MessageCodec} for the format). Such a close affects that connection only.
 *
 * <p><b>Sending.</b> {@link #send} never blocks. It queues the message for the peer's event loop, which writes
 * all queued messages and flushes once per turn. While the connection is being established up to {@link
 * Builder#maxPendingMessages} messages ({@link Builder#maxPendingBytes} bytes) wait for it; otherwise a message
 * for a peer that is not connected, or whose connection is over its write buffer high-water mark, is dropped
 * and counted: the protocol retransmits. A message whose frame would exceed the maximum frame size is dropped
 * with a WARN.
 *
 * <p><b>Receiving.</b> A received message is handed to the consumer given to {@link #start} on a transport
 * thread (it must only enqueue), if it is from the peer that said hello on its connection and to this
 * replica; otherwise it is dropped with a WARN. Messages from one connection arrive in the order they were
 * sent, on one thread; messages from different peers may arrive concurrently on different threads.
 *
 * <p>Thread-safe. {@link #start} once; {@link #close} is idempotent, closes every connection and stops every
 * thread, waiting up to 5 s for them; it must not be called from the inbound consumer.
 */
public final class NettyTransport implements Transport {
    private static final Logger LOG = LoggerFactory.getLogger(NettyTransport.class);

    /** Default largest frame (the length field's value), 16 MiB. */
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
    /** Default first reconnect delay (before jitter). */
    public static final Duration DEFAULT_MIN_BACKOFF = Duration.ofMillis(50);
    /** Default largest reconnect delay. */
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(2);
    /** Default TCP connect timeout. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Default time an accepted connection has to send its hello. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    /** Default bound of the messages waiting per peer for its connection (or for the event loop). */
    public static final int DEFAULT_MAX_PENDING_MESSAGES = 1024;
    /** Default bound of the bytes waiting per peer for its connection (or for the event loop), 4 MiB. */
    public static final long DEFAULT_MAX_PENDING_BYTES = 4L * 1024 * 1024;
    /** Default bytes buffered in a connection beyond which sends to it are dropped, 4 MiB (low mark: half). */
    public static final int DEFAULT_WRITE_BUFFER_HIGH_WATER_MARK = 4 * 1024 * 1024;
    /** Default interval of a node transport's pings on an idle connection. */
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(1);
    /** Default bound of the inbound connections open at once (said hello or not). */
    public static final int DEFAULT_MAX_INBOUND_CONNECTIONS = 256;
    /** Default time an inbound connection may stay silent after its hello before it is closed. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Default number of I/O threads (the acceptor has one more of its own). */
    public static final int DEFAULT_WORKER_THREADS = 2;

    private static final long CLOSE_TIMEOUT_MILLIS = 5_000;

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    final String selfId;
    private final String clusterName;
    /** Who may connect and be sent to: this replica's replica set; changed by {@link #members(Collection)}. */
    private volatile Set<String> members;

    private final InetSocketAddress bindAddress;
    final PeerDirectory directory;
    private final int maxFrameBytes;
    final Backoff backoff;
    private final int connectTimeoutMillis;
    final long handshakeTimeoutMillis;
    final int maxPendingMessages;
    final long maxPendingBytes;
    private final int writeBufferHighWaterMark;
    private final int workerThreads;
    private final int maxInboundConnections;
    /** Mutual TLS for every connection, or null when the transport was built {@link Builder#plaintext()}. */
    final TlsContext tls;

    final long idleTimeoutMillis;
    private final AtomicInteger inboundOpen = new AtomicInteger();
    private final AtomicLong overCap = new AtomicLong();
    private final AtomicLong lastOverCapWarnNanos = new AtomicLong(System.nanoTime() - 2_000_000_000L);
    /** Budgets of the consumers: reading stops while one of them is exhausted. */
    private final Set<InboundBudget> budgets = new CopyOnWriteArraySet<>();

    private final AtomicLong readPauses = new AtomicLong();

    private final Map<String, OutboundPeer> peers = new ConcurrentHashMap<>();
    private Bootstrap template; // guarded by this
    private final Set<Channel> channels = ConcurrentHashMap.newKeySet();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final Map<String, Long> lastHeard = new ConcurrentHashMap<>();
    final long pingIntervalMillis;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong opened = new AtomicLong();
    private final AtomicLong flushes = new AtomicLong();
    private final AtomicLong buffersWritten = new AtomicLong();

    private final NodeTransport nodeTransport = new AsNodeTransport();

    /** Counts the flushes of outbound connections; in each outbound connection's pipeline. */
    final ChannelHandler flushCounter = new FlushCounter();

    /** Counts a written message as sent, a failed write (the connection closed under it) as dropped. */
    /** Told of refused connects (fast failover's hint); set before start. */
    private volatile java.util.function.Consumer<String> refusals = id -> {};

    private final ChannelFutureListener writeListener = f -> (f.isSuccess() ? sent : dropped).incrementAndGet();

    /** A listener counting the {@code messages} frames of one write as sent, or as dropped if the write failed. */
    ChannelFutureListener writeListener(int messages) {
        return messages == 1 ? writeListener : f -> (f.isSuccess() ? sent : dropped).addAndGet(messages);
    }

    private State state = State.LATENT; // guarded by this
    private volatile boolean running;
    private volatile boolean closing;
    private volatile Consumer<Message> inbound; // set by start(Consumer): a single-log transport
    private volatile PartitionInbound partitionInbound; // set by start(PartitionInbound): a node transport
    private volatile InetSocketAddress boundAddress;
    private EventLoopGroup bossGroup; // guarded by this
    private EventLoopGroup workerGroup; // guarded by this
    private Channel serverChannel; // guarded by this

    private NettyTransport(Builder b) {
        this.selfId = b.selfId;
        this.clusterName = b.clusterName;
        this.members = Set.copyOf(b.members);
        this.bindAddress = b.bindAddress;
        this.directory = b.directory;
        this.maxFrameBytes = b.maxFrameBytes;
        this.backoff = new Backoff(b.minBackoff, b.maxBackoff, b.random);
        this.connectTimeoutMillis = (int) b.connectTimeout.toMillis();
        this.handshakeTimeoutMillis = b.handshakeTimeout.toMillis();
        this.maxPendingMessages = b.maxPendingMessages;
        this.maxPendingBytes = b.maxPendingBytes;
        this.writeBufferHighWaterMark = b.writeBufferHighWaterMark;
        this.workerThreads = b.workerThreads;
        this.maxInboundConnections = b.maxInboundConnections;
        this.tls = b.tls;
        this.idleTimeoutMillis = b.idleTimeout.toMillis();
        this.pingIntervalMillis = b.pingInterval.toMillis();
        for (String id : b.members) {
            if (!id.equals(selfId)) {
                peers.put(id, new OutboundPeer(id, this));
            }
        }
    }

    /**
     * Replaces the replica set: from now on only {@code ids} may connect (a connection's hello from another id is
     * refused) and be sent to. A new member gets an outbound connection on the first send to it; a former member's
     * outbound connection is closed and what was queued for it dropped. For a node transport the ids are node
     * ids: the union of the replica sets of every partition the node hosts. Thread-safe.
     */
    public synchronized void members(Collection<String> ids) {
        Set<String> next = Set.copyOf(ids);
        members = next;
        for (String id : next) {
            if (!id.equals(selfId) && !peers.containsKey(id)) {
                OutboundPeer peer = new OutboundPeer(id, this);
                peers.put(id, peer);
                if (state == State.STARTED) {
                    peer.start(workerGroup.next(), template);
                }
            }
        }
        for (Iterator<Map.Entry<String, OutboundPeer>> it = peers.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, OutboundPeer> e = it.next();
            if (!next.contains(e.getKey())) {
                it.remove();
                e.getValue().retire();
            }
        }
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds the listening socket and starts the transport's threads, as the transport of one replicated log:
     * untagged protocol frames only.
     *
     * @throws IllegalStateException if started before or closed
     * @throws Exception if the address cannot be bound (the transport is then closed)
     */
    @Override
    public void start(Consumer<Message> inbound) throws Exception {
        Objects.requireNonNull(inbound, "inbound");
        start(inbound, null);
    }

    /**
     * This transport as a node's transport, the same object on every call. Its {@code start} binds the listening
     * socket and starts this transport's threads (like {@link #start(Consumer)}, which it excludes): every message
     * is then tagged with its partition. Its {@code send(partition, message)} is like {@link #send(Message)} with
     * the tag, and throws {@link IllegalArgumentException} for an invalid partition id; its {@code sendControl}
     * sends a control message (see the class comment); its {@code close} is {@link #close()}.
     */
    public NodeTransport asNodeTransport() {
        return nodeTransport;
    }

    private synchronized void start(Consumer<Message> single, PartitionInbound partitioned) throws Exception {
        if (state != State.LATENT) {
            throw new IllegalStateException(
                    state == State.STARTED ? "Cannot be started more than once" : "Cannot be started after close");
        }
        state = State.STARTED;
        this.inbound = single;
        this.partitionInbound = partitioned;
        NettyChannels io = NettyChannels.current();
        bossGroup = io.eventLoopGroup(1, new DefaultThreadFactory("tenure-transport-" + selfId + "-accept", true));
        workerGroup = io.eventLoopGroup(workerThreads, new DefaultThreadFactory("tenure-transport-" + selfId, true));
        try {
            serverChannel = new ServerBootstrap()
                    .group(bossGroup, workerGroup)
                    .channel(io.serverChannel())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            track(ch);
                            if (!admitInbound(ch)) {
                                return;
                            }
                            FrameDecoder decoder = new FrameDecoder(maxFrameBytes, true);
                            if (tls != null) {
                                ch.pipeline().addLast("tls", tls.newServerHandler(ch.alloc()));
                            }
                            ch.pipeline()
                                    .addLast(
                                            "idle",
                                            new IdleStateHandler(idleTimeoutMillis, 0, 0, TimeUnit.MILLISECONDS))
                                    .addLast("frames", decoder)
                                    .addLast("replica", new InboundHandler(NettyTransport.this, decoder));
                        }
                    })
                    .bind(bindAddress)
                    .sync()
                    .channel();
        } catch (Exception e) {
            state = State.CLOSED;
            closing = true;
            shutDownGroups();
            throw e;
        }
        boundAddress = (InetSocketAddress) serverChannel.localAddress();
        template = new Bootstrap()
                .channel(io.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(
                        ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(writeBufferHighWaterMark / 2, writeBufferHighWaterMark));
        for (OutboundPeer peer : peers.values()) {
            peer.start(workerGroup.next(), template);
        }
        running = true;
        if (tls == null) {
            LOG.warn(
                    "{} {} replicates in PLAINTEXT on {}: anyone who can reach this port can send protocol messages"
                            + " as any member (fence every leader, make followers diverge). Configure mutual TLS"
                            + " (docs/security.md) unless the network is trusted.",
                    partitioned == null ? "Replica" : "Node",
                    selfId,
                    boundAddress);
        }
        LOG.info(
                "{} {} of cluster {} listening on {}",
                partitioned == null ? "Replica" : "Node",
                selfId,
                clusterName,
                boundAddress);
    }

    /**
     * Queues {@code message} for its receiver and returns at once; see the class comment for when it is dropped
     * instead (also before {@link #start} and after {@link #close}).
     *
     * @throws IllegalArgumentException if the message is not from this replica
     * @throws IllegalStateException if this transport was started as a node transport
     */
    @Override
    public void connectionRefusals(java.util.function.Consumer<String> refusedPeer) {
        this.refusals = java.util.Objects.requireNonNull(refusedPeer, "refusedPeer");
    }

    /** An outbound connect to {@code peer} was refused; on a Netty event loop. */
    void connectionRefused(String peer) {
        try {
            refusals.accept(peer);
        } catch (RuntimeException e) {
            LOG.warn("the listener of refused connections threw", e);
        }
    }

    @Override
    public void send(Message message) {
        Objects.requireNonNull(message, "message");
        if (partitionInbound != null) {
            throw new IllegalStateException("transport of node " + selfId
                    + " was started as a node transport: it sends a message with its partition, "
                    + summary(message));
        }
        send(new Frame.Protocol(message));
    }

    /**
     * Queues {@code message}, tagged with {@code partition}, for its receiver and returns at once; see the class
     * comment for when it is dropped instead (also before start and after {@link #close}).
     *
     * @throws IllegalArgumentException if the message is not from this node or {@code partition} is not a valid
     *     partition id
     * @throws IllegalStateException if this transport was started as a single-log transport
     */
    private void send(String partition, Message message) {
        Objects.requireNonNull(message, "message");
        PartitionIds.check(partition);
        if (inbound != null) {
            throw new IllegalStateException("transport of replica " + selfId
                    + " was started as a single-log transport: it cannot send a message of partition '" + partition
                    + "', " + summary(message));
        }
        send(new Frame.Partitioned(partition, message));
    }

    private void send(Frame frame) {
        Message message = messageOf(frame);
        if (!selfId.equals(message.from())) {
            throw new IllegalArgumentException(
                    "replica " + selfId + " cannot send a message from " + message.from() + ": " + summary(frame));
        }
        if (!running) {
            dropped.incrementAndGet();
            return;
        }
        OutboundPeer peer = peers.get(message.to());
        if (peer == null) {
            dropped(frame, "not a peer of this replica");
            return;
        }
        peer.send(frame);
    }

    /**
     * Queues control message {@code body} (copied) for node {@code toNode} and returns at once; dropped like a
     * message (see the class comment), also before start. Ordered with the partitions' messages to that node.
     *
     * @throws IllegalArgumentException see {@link NodeTransport#sendControl}
     * @throws IllegalStateException after {@link #close}, or if this transport was started as a single-log
     *     transport
     */
    private void sendControl(String toNode, byte[] body) {
        NodeTransport.checkControl(toNode, body);
        if (selfId.equals(toNode)) {
            throw new IllegalArgumentException(
                    "node " + selfId + " cannot send a control message to itself: hand it over in-process");
        }
        if (inbound != null) {
            throw new IllegalStateException("transport of replica " + selfId
                    + " was started as a single-log transport: it has no control channel");
        }
        if (closing) {
            throw new IllegalStateException("transport of node " + selfId + " is closed: cannot send a control"
                    + " message to node '" + printable(toNode) + "'");
        }
        Frame.Control frame = new Frame.Control(body.clone());
        if (!running) {
            dropped.incrementAndGet();
            return;
        }
        OutboundPeer peer = peers.get(toNode);
        if (peer == null) {
            dropped(frame, "node '" + printable(toNode) + "' is not a peer of this node");
            return;
        }
        peer.send(frame);
    }

    /**
     * Closes every connection and stops the transport's threads, waiting up to 5 s for them (unless called on a
     * transport thread). Idempotent; concurrent callers wait for the first.
     */
    @Override
    public synchronized void close() {
        if (state == State.CLOSED) {
            return;
        }
        boolean started = state == State.STARTED;
        state = State.CLOSED;
        running = false;
        closing = true;
        if (!started) {
            return;
        }
        // Not awaited: shutting the event loops down (shutDownGroups) closes whatever is still open.
        ChannelFuture unusedServerClose = serverChannel.close();
        for (Channel ch : channels) {
            ChannelFuture unusedClose = ch.close();
        }
        shutDownGroups();
        for (OutboundPeer peer : peers.values()) {
            peer.closed();
        }
        LOG.info("Replica {} transport closed", selfId);
    }

    private void shutDownGroups() {
        Future<?> boss = bossGroup.shutdownGracefully(0, CLOSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        Future<?> workers = workerGroup.shutdownGracefully(0, CLOSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        if (onTransportThread()) {
            LOG.warn("Transport of replica {} closed from its own thread: not waiting for its threads", selfId);
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_TIMEOUT_MILLIS);
        boolean done = boss.awaitUninterruptibly(CLOSE_TIMEOUT_MILLIS)
                && workers.awaitUninterruptibly(
                        Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        if (!done) {
            LOG.warn("Transport threads of replica {} did not stop within {} ms", selfId, CLOSE_TIMEOUT_MILLIS);
        }
    }

    /**
     * True: messages are delivered on this transport's worker threads, which serve this transport's connections
     * only. As a node transport it delivers to many partitions, whose replicas run on
     * shared lanes and do not handle messages on the delivering thread anyway.
     */
    @Override
    public boolean mayHandleOnDeliveryThread() {
        return true;
    }

    /**
     * On a worker thread: queues {@code task} on its event loop, which runs it after the reads of the current
     * select round have been delivered.
     */
    @Override
    public boolean runAfterDeliveries(Runnable task) {
        EventLoopGroup workers;
        synchronized (this) {
            workers = workerGroup;
        }
        if (workers == null) {
            return false;
        }
        for (EventExecutor e : workers) {
            if (e.inEventLoop()) {
                try {
                    e.execute(task);
                    return true;
                } catch (RejectedExecutionException closed) {
                    return false;
                }
            }
        }
        return false;
    }

    private boolean onTransportThread() {
        for (EventLoopGroup group : List.of(bossGroup, workerGroup)) {
            for (EventExecutor e : group) {
                if (e.inEventLoop()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** This replica's id. */
    public String selfId() {
        return selfId;
    }

    /**
     * The address the transport listens on (with the actual port if bound to port 0).
     *
     * @throws IllegalStateException before {@link #start}
     */
    public InetSocketAddress boundAddress() {
        InetSocketAddress a = boundAddress;
        if (a == null) {
            throw new IllegalStateException("not started");
        }
        return a;
    }

    /** Messages written to a connection (handed to the operating system). */
    public long messagesSent() {
        return sent.get();
    }

    /** Messages received from peers and handed to the inbound consumer. */
    public long messagesReceived() {
        return received.get();
    }

    /**
     * Messages dropped: sends while not connected, over the high-water mark, with a full queue, to a non-peer or
     * too large to frame, writes that failed, and received messages not from their connection's peer or not to
     * this replica.
     */
    public long messagesDropped() {
        return dropped.get();
    }

    /**
     * Inbound connections this replica closed for a protocol violation: a rejected or missing hello, or a
     * malformed, oversized or unexpected frame.
     */
    public long connectionsRefused() {
        return refused.get();
    }

    /** Inbound connections whose hello this replica accepted (so far, closed ones included). */
    public long connectionsAccepted() {
        return accepted.get();
    }

    /** The peers this transport has an established outbound connection to now: at most one connection each. */
    public int connectedPeers() {
        int n = 0;
        for (OutboundPeer p : peers.values()) {
            if (p.state() == OutboundPeer.State.READY) {
                n++;
            }
        }
        return n;
    }

    /** Outbound connections this replica established and said hello on (so far, closed ones included). */
    public long connectionsOpened() {
        return opened.get();
    }

    /**
     * Flushes of this replica's outbound connections. A peer's queued messages, of any partitions, are written
     * and flushed once per turn of its event loop, so under load this grows more slowly than {@link
     * #messagesSent}.
     */
    public long flushes() {
        return flushes.get();
    }

    /**
     * Buffers written on outbound connections, hello frames included: small frames queued together share one
     * ({@code OutboundPeer.BATCH_BYTES}); for tests.
     */
    long buffersWritten() {
        return buffersWritten.get();
    }

    /** Whether this transport was started as a {@link NodeTransport} (see {@link #asNodeTransport()}). */
    public boolean isNodeTransport() {
        return partitionInbound != null;
    }

    @Override
    public String toString() {
        return "NettyTransport{" + selfId + "@" + clusterName + ", " + boundAddress + "}";
    }

    // ---- for OutboundPeer and InboundHandler ----

    boolean isClosing() {
        return closing;
    }

    int handshakeFrameLimit() {
        return Math.min(FrameDecoder.HANDSHAKE_MAX_FRAME_BYTES, maxFrameBytes);
    }

    void track(Channel ch) {
        channels.add(ch);
        ch.closeFuture().addListener(f -> channels.remove(ch));
        if (closing) {
            ChannelFuture unused = ch.close(); // accepted while closing; not awaited, like the others in close()
        }
    }

    /**
     * Counts an accepted connection against {@link Builder#maxInboundConnections}; over it, closes the connection
     * at once (counted in {@link #connectionsRefused}, warned about at most once a second) and returns false.
     */
    private boolean admitInbound(Channel ch) {
        if (inboundOpen.incrementAndGet() > maxInboundConnections) {
            inboundOpen.decrementAndGet();
            refused.incrementAndGet();
            long n = overCap.incrementAndGet();
            long now = System.nanoTime();
            long last = lastOverCapWarnNanos.get();
            if (now - last >= 1_000_000_000L && lastOverCapWarnNanos.compareAndSet(last, now)) {
                LOG.warn(
                        "Replica {} refused a connection from {}: {} inbound connections are open, the maximum"
                                + " ({} refused so far for this reason)",
                        selfId,
                        ch.remoteAddress(),
                        maxInboundConnections,
                        n);
            }
            ChannelFuture unused = ch.close(); // nothing to do if closing fails: the connection is dropped
            return false;
        }
        ch.closeFuture().addListener(f -> inboundOpen.decrementAndGet());
        return true;
    }

    /**
     * Stops reading from {@code ch} while a consumer's budget is exhausted; reading resumes once it is not. On
     * {@code ch}'s event loop.
     */
    private void pauseIfBehind(Channel ch) {
        for (InboundBudget b : budgets) {
            if (b.exhausted()) {
                if (ch.config().isAutoRead()) {
                    ch.config().setAutoRead(false);
                    readPauses.incrementAndGet();
                    b.whenAvailable(() -> resumeLater(ch));
                }
                return;
            }
        }
    }

    private void resumeLater(Channel ch) {
        try {
            ch.eventLoop().execute(() -> resume(ch));
        } catch (RejectedExecutionException e) {
            // the transport is closing: the connection goes with it
        }
    }

    private void resume(Channel ch) {
        if (!ch.isActive() || ch.config().isAutoRead()) {
            return;
        }
        for (InboundBudget b : budgets) {
            if (b.exhausted()) {
                b.whenAvailable(() -> resumeLater(ch));
                return;
            }
        }
        ch.config().setAutoRead(true);
    }

    /**
     * Asks this transport to stop reading while {@code budget} is exhausted; see {@link
     * Transport#inboundBudget}. Budgets accumulate (a node transport gets one per partition, usually the same).
     */
    @Override
    public void inboundBudget(InboundBudget budget) {
        if (budget != InboundBudget.unlimited()) {
            budgets.add(Objects.requireNonNull(budget, "budget"));
        }
    }

    /** Times this transport stopped reading from a connection because its consumer was behind. */
    public long readPauses() {
        return readPauses.get();
    }

    /** Inbound connections open now (said hello or not). */
    public int inboundConnections() {
        return inboundOpen.get();
    }

    void dropped(Frame message, String reason) {
        dropped.incrementAndGet();
        if (LOG.isTraceEnabled()) {
            LOG.trace("Dropping {}: {}", summary(message), reason);
        }
    }

    void connectionRefused() {
        refused.incrementAndGet();
    }

    void connectionAccepted() {
        accepted.incrementAndGet();
    }

    void connectionOpened() {
        opened.incrementAndGet();
    }

    /** The event loop of the outbound connection to {@code peerId}, or null; for tests. */
    EventLoop eventLoopOf(String peerId) {
        OutboundPeer peer = peers.get(peerId);
        return peer == null ? null : peer.loop();
    }

    /**
     * The bytes of {@code message} (a {@link Frame.Protocol}, {@link Frame.Partitioned} or {@link Frame.Control}),
     * or null if it cannot be framed (dropped, with a WARN).
     */
    ByteBuf encode(Channel ch, Frame message) {
        long bound = MessageCodec.frameSizeUpperBound(message);
        int capacity = maxFrameBytes + MessageCodec.LENGTH_FIELD_BYTES;
        ByteBuf buf = ch.alloc().ioBuffer((int) Math.min(bound, capacity), capacity);
        try {
            MessageCodec.encodeFrame(message, buf);
            return buf;
        } catch (IndexOutOfBoundsException e) {
            buf.release();
            dropped.incrementAndGet();
            LOG.warn("Dropping {}: its frame exceeds the maximum of {} bytes", summary(message), maxFrameBytes);
        } catch (IllegalArgumentException e) {
            buf.release();
            dropped.incrementAndGet();
            LOG.warn("Dropping {}: {}", summary(message), e.getMessage());
        }
        return null;
    }

    /**
     * Appends the bytes of {@code message} to {@code buf}; false if it cannot be framed or does not fit {@code buf}'s
     * maximum capacity (dropped, with a WARN), {@code buf} then as it was ({@link MessageCodec#encodeFrame} undoes a
     * partial frame).
     */
    boolean encodeInto(ByteBuf buf, Frame message) {
        try {
            MessageCodec.encodeFrame(message, buf);
            return true;
        } catch (IndexOutOfBoundsException e) {
            dropped.incrementAndGet();
            LOG.warn("Dropping {}: its frame exceeds the maximum of {} bytes", summary(message), maxFrameBytes);
        } catch (IllegalArgumentException e) {
            dropped.incrementAndGet();
            LOG.warn("Dropping {}: {}", summary(message), e.getMessage());
        }
        return false;
    }

    /** The largest frame sent or accepted (the length field's value). */
    int maxFrameBytes() {
        return maxFrameBytes;
    }

    ByteBuf encodeHello(Channel ch, String peerId) {
        return encodeFrame(ch, new Frame.Hello(clusterName, selfId, peerId));
    }

    ByteBuf encodeFrame(Channel ch, Frame frame) {
        ByteBuf buf = ch.alloc().ioBuffer(256);
        MessageCodec.encodeFrame(frame, buf);
        return buf;
    }

    /** Why {@code hello} is not acceptable, or null if it is. */
    /** Notes that a frame from {@code peerId} arrived now. */
    private void heard(String peerId) {
        lastHeard.put(peerId, System.nanoTime());
    }

    /**
     * When a frame from node {@code peerId} last arrived on a connection it opened to this one ({@link
     * System#nanoTime()}), or {@link Long#MIN_VALUE} if none did: a node transport's peers ping an idle connection
     * every {@link Builder#pingInterval}, so this is the node pair's liveness, shared by all partitions. Thread-safe.
     */
    public long lastHeardNanos(String peerId) {
        Long t = lastHeard.get(peerId);
        return t == null ? Long.MIN_VALUE : t;
    }

    /** A peer's hello was accepted: it is up; an outbound connection to it that backs off tries again now. */
    void peerIsUp(String id) {
        OutboundPeer peer = peers.get(id);
        if (peer != null) {
            peer.peerIsUp();
        }
    }

    String checkHello(Frame.Hello hello) {
        if (!clusterName.equals(hello.clusterName())) {
            return "cluster name '" + printable(hello.clusterName()) + "' is not this replica's cluster '" + clusterName
                    + "'";
        }
        if (selfId.equals(hello.fromReplicaId())) {
            return "replica id '" + selfId + "' is this replica's own id";
        }
        if (!members.contains(hello.fromReplicaId())) {
            return "replica id '" + printable(hello.fromReplicaId()) + "' is not a member of cluster '" + clusterName
                    + "'";
        }
        if (!selfId.equals(hello.toReplicaId())) {
            return "hello is addressed to replica '" + printable(hello.toReplicaId()) + "', this is replica '" + selfId
                    + "'";
        }
        return null;
    }

    /**
     * Why a connection that sends {@code frame} after its hello must be closed, or null if the frame is a protocol
     * message of the kind this transport carries: untagged as a single-log transport, tagged as a node transport.
     */
    String unexpected(Frame frame) {
        boolean node = partitionInbound != null;
        if (frame instanceof Frame.Ping) {
            return null;
        }
        if (frame instanceof Frame.Protocol p) {
            return node
                    ? "untagged " + p.message().getClass().getSimpleName()
                            + " frame on a node transport (every message needs its partition)"
                    : null;
        }
        if (frame instanceof Frame.Partitioned) {
            return node ? null : "Partitioned frame on a single-log transport";
        }
        if (frame instanceof Frame.Control) {
            return node ? null : "Control frame on a single-log transport";
        }
        return "unexpected " + frame.getClass().getSimpleName() + " frame after the hello";
    }

    /**
     * Hands a received message ({@link Frame.Protocol} or {@link Frame.Partitioned}, as {@link #unexpected} let
     * through) on if it is from {@code peerId} and to this replica; drops it otherwise. A {@link Frame.Control} is
     * handed on as from {@code peerId}; a {@link Frame.Ping} only notes that the peer was heard.
     */
    void deliver(Frame frame, String peerId, Channel ch) {
        if (frame instanceof Frame.Ping) {
            heard(peerId);
            return;
        }
        if (frame instanceof Frame.Control c) {
            deliverControl(c, peerId, ch);
            return;
        }
        Message message = messageOf(frame);
        if (!peerId.equals(message.from()) || !selfId.equals(message.to())) {
            dropped.incrementAndGet();
            LOG.warn(
                    "Dropping {} from '{}' received from replica {} at {}: not from that replica to this one",
                    summary(frame),
                    printable(message.from()),
                    peerId,
                    ch.remoteAddress());
            return;
        }
        if (closing) {
            return;
        }
        received.incrementAndGet();
        heard(peerId);
        if (WriteTrace.ENABLED) {
            WriteTrace.stamp(
                    selfId + "<" + peerId,
                    message instanceof Message.AppendAck ? WriteTrace.Point.ACK_RECEIVED : WriteTrace.Point.RECEIVED,
                    message);
        }
        try {
            if (frame instanceof Frame.Partitioned p) {
                partitionInbound.receive(p.partition(), message);
            } else {
                inbound.accept(message);
            }
        } catch (RuntimeException e) {
            LOG.warn("Inbound consumer of replica {} failed on {}", selfId, summary(frame), e);
        }
        pauseIfBehind(ch);
    }

    /** Hands a control message on with its connection's authenticated peer as the sender. */
    private void deliverControl(Frame.Control frame, String peerId, Channel ch) {
        if (closing) {
            return;
        }
        received.incrementAndGet();
        heard(peerId);
        try {
            partitionInbound.control(peerId, frame.body());
        } catch (RuntimeException e) {
            LOG.warn("Control inbound of node {} failed on {} from node {}", selfId, summary(frame), peerId, e);
        }
        pauseIfBehind(ch);
    }

    /** The message a {@link Frame.Protocol} or {@link Frame.Partitioned} carries. */
    static Message messageOf(Frame frame) {
        if (frame instanceof Frame.Partitioned p) {
            return p.message();
        }
        return ((Frame.Protocol) frame).message();
    }

    static String summary(Frame frame) {
        if (frame instanceof Frame.Control c) {
            return "Control(" + (c.body() == null ? 0 : c.body().length) + " bytes)";
        }
        String s = summary(messageOf(frame));
        return frame instanceof Frame.Partitioned p ? s + " of partition '" + printable(p.partition()) + "'" : s;
    }

    static String summary(Message m) {
        return m.getClass().getSimpleName() + "(epoch " + m.epoch() + ") to '" + printable(m.to()) + "'";
    }

    /** The {@link NodeTransport} face of this transport. */
    private final class AsNodeTransport implements NodeTransport {
        @Override
        public void start(PartitionInbound inbound) throws Exception {
            Objects.requireNonNull(inbound, "inbound");
            NettyTransport.this.start(null, inbound);
        }

        @Override
        public void inboundBudget(InboundBudget budget) {
            NettyTransport.this.inboundBudget(budget);
        }

        @Override
        public void send(String partition, Message message) {
            NettyTransport.this.send(partition, message);
        }

        @Override
        public void sendControl(String toNode, byte[] body) {
            NettyTransport.this.sendControl(toNode, body);
        }

        @Override
        public void close() {
            NettyTransport.this.close();
        }

        @Override
        public String toString() {
            return NettyTransport.this.toString();
        }
    }

    /** Counts the flushes that pass through an outbound connection's pipeline. */
    @ChannelHandler.Sharable
    private final class FlushCounter extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            buffersWritten.incrementAndGet();
            ChannelFuture unused = ctx.write(msg, promise); // the promise carries the outcome
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            flushes.incrementAndGet();
            ctx.flush();
        }
    }

    /** {@code s} safe for a log line: control characters replaced, at most 100 characters. */
    static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 100));
        for (int i = 0; i < s.length() && i < 100; i++) {
            char c = s.charAt(i);
            sb.append(Character.isISOControl(c) ? '?' : c);
        }
        return s.length() > 100 ? sb.append("...").toString() : sb.toString();
    }

    /** Configuration of a {@link NettyTransport}; every setting but the identity has a default. */
    public static final class Builder {
        private String selfId;
        private String clusterName;
        private List<String> members;
        private InetSocketAddress bindAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        private PeerDirectory directory;
        private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
        private Duration minBackoff = DEFAULT_MIN_BACKOFF;
        private Duration maxBackoff = DEFAULT_MAX_BACKOFF;
        private Random random = new Random();
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private int maxPendingMessages = DEFAULT_MAX_PENDING_MESSAGES;
        private long maxPendingBytes = DEFAULT_MAX_PENDING_BYTES;
        private int writeBufferHighWaterMark = DEFAULT_WRITE_BUFFER_HIGH_WATER_MARK;
        private int workerThreads = DEFAULT_WORKER_THREADS;
        private int maxInboundConnections = DEFAULT_MAX_INBOUND_CONNECTIONS;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private TlsContext tls;
        private boolean plaintext;
        private Duration pingInterval = DEFAULT_PING_INTERVAL;

        private Builder() {}

        /** This replica's id; one of the {@link #members}. Required. */
        public Builder selfId(String selfId) {
            this.selfId = selfId;
            return this;
        }

        /** The cluster's name; a peer must present the same one. Required. */
        public Builder clusterName(String clusterName) {
            this.clusterName = clusterName;
            return this;
        }

        /** Every replica's id, this one's included. Required. */
        public Builder members(List<String> members) {
            this.members = members == null ? null : List.copyOf(members);
            return this;
        }

        /** Where to listen; port 0 picks a free port (see {@link #boundAddress()}). Default 127.0.0.1:0. */
        public Builder bindAddress(InetSocketAddress bindAddress) {
            this.bindAddress = bindAddress;
            return this;
        }

        /** Where the peers listen; consulted on every (re)connect. Required. */
        public Builder peerDirectory(PeerDirectory directory) {
            this.directory = directory;
            return this;
        }

        /** The largest frame sent or accepted (the length field's value). Default 16 MiB. */
        public Builder maxFrameBytes(int maxFrameBytes) {
            this.maxFrameBytes = maxFrameBytes;
            return this;
        }

        /** Reconnect back-off: first delay and largest delay. Default 50 ms to 2 s. */
        public Builder backoff(Duration min, Duration max) {
            this.minBackoff = min;
            this.maxBackoff = max;
            return this;
        }

        /** The source of back-off jitter (thread-safe). Default a new {@link Random}. */
        public Builder random(Random random) {
            this.random = random;
            return this;
        }

        /** TCP connect timeout. Default 2 s. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        /** How long an accepted connection may take to send its hello. Default 5 s. */
        public Builder handshakeTimeout(Duration handshakeTimeout) {
            this.handshakeTimeout = handshakeTimeout;
            return this;
        }

        /** Messages that may wait per peer while its connection is established. Default 1024. */
        public Builder maxPendingMessages(int maxPendingMessages) {
            this.maxPendingMessages = maxPendingMessages;
            return this;
        }

        /** Bytes that may wait per peer while its connection is established. Default 4 MiB. */
        public Builder maxPendingBytes(long maxPendingBytes) {
            this.maxPendingBytes = maxPendingBytes;
            return this;
        }

        /** Bytes buffered in a connection beyond which sends to that peer are dropped. Default 4 MiB. */
        public Builder writeBufferHighWaterMark(int bytes) {
            this.writeBufferHighWaterMark = bytes;
            return this;
        }

        /**
         * The most inbound connections open at once, said hello or not; beyond it a new connection is closed at
         * once. Default 256: a replica set's peers need one each.
         */
        public Builder maxInboundConnections(int maxInboundConnections) {
            this.maxInboundConnections = maxInboundConnections;
            return this;
        }

        /**
         * How long an inbound connection may stay silent after its hello before it is closed (its peer opens it
         * again when it has something to send). Peers ping an idle connection every {@link #pingInterval}, so it
         * must be well above theirs; default 30 s.
         */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = java.util.Objects.requireNonNull(idleTimeout, "idleTimeout");
            return this;
        }

        /**
         * Mutual TLS on every connection: both sides present certificates of the configured CAs, and a peer's
         * certificate must name the replica id it speaks as (see {@link TlsContext}). Either this or {@link
         * #plaintext()} is required.
         */
        public Builder tls(TlsContext tls) {
            this.tls = java.util.Objects.requireNonNull(tls, "tls");
            return this;
        }

        /**
         * No TLS: anyone who can reach the port can speak as any member. Only for a trusted network (or tests);
         * the transport logs a WARN saying so when it starts. Either this or {@link #tls} is required.
         */
        public Builder plaintext() {
            this.plaintext = true;
            return this;
        }

        /** {@link #tls} with {@code tls}, or {@link #plaintext()} when it is null. */
        public Builder security(TlsContext tls) {
            return tls == null ? plaintext() : tls(tls);
        }

        /** I/O threads for the connections. Default 2. */
        public Builder workerThreads(int workerThreads) {
            this.workerThreads = workerThreads;
            return this;
        }

        /**
         * A node transport's outbound connection that wrote nothing for this long sends a ping, so that its peer
         * hears from this node while every partition is quiet ({@link #lastHeardNanos}). Default 1 s. A single-log
         * transport never pings (its replica heartbeats).
         */
        public Builder pingInterval(Duration interval) {
            this.pingInterval = java.util.Objects.requireNonNull(interval, "interval");
            return this;
        }

        /**
         * The transport, not yet started (it holds no thread or socket until {@link #start}).
         *
         * @throws IllegalArgumentException for a missing or invalid setting
         */
        public NettyTransport build() {
            require(selfId != null && !selfId.isEmpty(), "selfId is required");
            require(clusterName != null && !clusterName.isEmpty(), "clusterName is required");
            require(!pingInterval.isNegative() && !pingInterval.isZero(), "pingInterval must be > 0");
            require(members != null && !members.isEmpty(), "members are required");
            require(directory != null, "peerDirectory is required");
            require(bindAddress != null, "bindAddress is required");
            require(random != null, "random is required");
            checkString(clusterName, "clusterName");
            Set<String> unique = new LinkedHashSet<>();
            for (String m : members) {
                require(m != null && !m.isEmpty(), "member ids must not be empty: " + members);
                checkString(m, "member id");
                require(unique.add(m), "duplicate member id " + m);
            }
            require(unique.contains(selfId), "selfId " + selfId + " is not one of the members " + members);
            require(
                    maxFrameBytes >= 64 && maxFrameBytes <= 1 << 30,
                    "maxFrameBytes must be in [64, 1 GiB], was " + maxFrameBytes);
            require(
                    minBackoff != null && maxBackoff != null && !minBackoff.isNegative() && !minBackoff.isZero(),
                    "back-off must be positive");
            require(maxBackoff.compareTo(minBackoff) >= 0, "maximum back-off below minimum");
            require(maxBackoff.toMillis() <= Integer.MAX_VALUE, "maximum back-off too large");
            require(
                    connectTimeout != null
                            && !connectTimeout.isNegative()
                            && connectTimeout.toMillis() > 0
                            && connectTimeout.toMillis() <= Integer.MAX_VALUE,
                    "connectTimeout must be positive");
            require(handshakeTimeout != null && handshakeTimeout.toMillis() > 0, "handshakeTimeout must be positive");
            require(maxPendingMessages > 0, "maxPendingMessages must be > 0");
            require(maxPendingBytes > 0, "maxPendingBytes must be > 0");
            require(writeBufferHighWaterMark >= 2, "writeBufferHighWaterMark must be >= 2");
            require(workerThreads > 0, "workerThreads must be > 0");
            require(maxInboundConnections > 0, "maxInboundConnections must be > 0");
            require(
                    tls != null ^ plaintext,
                    tls == null
                            ? "choose the transport's security: tls(...) for mutual TLS, or plaintext() explicitly"
                            : "tls(...) and plaintext() exclude each other");
            require(
                    idleTimeout.compareTo(pingInterval.multipliedBy(2)) >= 0,
                    "idleTimeout (" + idleTimeout + ") must be at least twice the pingInterval (" + pingInterval + ")");
            this.members = new ArrayList<>(unique);
            return new NettyTransport(this);
        }

        private static void checkString(String s, String what) {
            try {
                int bytes = MessageCodec.utf8(s, what).length;
                require(
                        bytes <= MessageCodec.MAX_STRING_BYTES,
                        what + " longer than " + MessageCodec.MAX_STRING_BYTES + " bytes of UTF-8");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }

        private static void require(boolean condition, String message) {
            if (!condition) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
