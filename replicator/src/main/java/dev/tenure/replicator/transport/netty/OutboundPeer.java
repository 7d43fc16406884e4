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

import dev.tenure.replicator.trace.WriteTrace;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one outbound connection of a {@link NettyTransport} to one peer, and the messages on their way to it.
 *
 * <p>{@link #send} may be called from any thread; it never blocks. It enqueues the message on a bounded queue and
 * schedules one drain task on the peer's event loop, which writes everything queued and flushes once, so a burst
 * of sends costs one flush (and usually one system call); its small frames share one buffer ({@link #BATCH_BYTES}).
 * A node transport's messages of every partition, and its control messages, share this queue, drain and flush. Every
 * state change happens on that event loop:
 *
 * <pre>
 * IDLE --first send--> CONNECTING --connected, Hello written--> READY
 *   ^                      |                                      |
 *   |                      +--- refused / timed out ---+          | closed / rejected
 *   +------- back-off delay elapsed ---------------- BACKOFF <----+
 * </pre>
 *
 * Messages queue while IDLE or CONNECTING (so the first messages after a connect are not lost), are written
 * while READY unless the channel is over its high-water mark, and are dropped while in BACKOFF: the protocol
 * retransmits.
 */
final class OutboundPeer {
    private static final Logger LOG = LoggerFactory.getLogger(OutboundPeer.class);

    enum State {
        IDLE,
        CONNECTING,
        READY,
        BACKOFF,
        CLOSED
    }

    private final String id;
    private final NettyTransport transport;
    /** {@link Frame.Protocol}, {@link Frame.Partitioned} and {@link Frame.Control} frames, not yet encoded. */
    private final Queue<Frame> queue = new ConcurrentLinkedQueue<>();

    private final AtomicInteger queuedMessages = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();

    private volatile State state = State.IDLE;
    private volatile Channel channel;

    // Confined to the event loop.
    private EventLoop loop;
    private Bootstrap bootstrap;
    private int failures;
    private long connectedAtNanos;
    private boolean rejected;

    OutboundPeer(String id, NettyTransport transport) {
        this.id = id;
        this.transport = transport;
    }

    /** Binds this peer to its event loop; called once, before the first {@link #send}. */
    void start(EventLoop loop, Bootstrap template) {
        this.loop = loop;
        this.bootstrap = template.clone(loop).handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                transport.track(ch);
                if (transport.tls != null) {
                    ch.pipeline().addLast("tls", transport.tls.newClientHandler(ch.alloc()));
                }
                // Pings an idle connection: the peer hears from this node while all partitions are quiet, and does
                // not close the connection as idle.
                ch.pipeline()
                        .addLast(
                                "idle",
                                new IdleStateHandler(0, transport.pingIntervalMillis, 0, TimeUnit.MILLISECONDS));
                ch.pipeline()
                        .addLast("flushes", transport.flushCounter)
                        .addLast("frames", new FrameDecoder(transport.handshakeFrameLimit(), false))
                        .addLast("peer", new Handler());
            }
        });
    }

    State state() {
        return state;
    }

    /** The event loop this peer's connection and queue are confined to; null before {@link #start}. */
    EventLoop loop() {
        return loop;
    }

    /**
     * Queues {@code message} (a {@link Frame.Protocol}, {@link Frame.Partitioned} or {@link Frame.Control}) for this
     * peer, or drops it; any thread, never blocks. Frames queued from one thread are written in that order.
     */
    void send(Frame message) {
        State s = state;
        if (s == State.BACKOFF || s == State.CLOSED) {
            transport.dropped(message, "not connected");
            return;
        }
        if (s == State.READY) {
            Channel ch = channel;
            if (ch != null && !ch.isWritable()) {
                transport.dropped(message, "over the write buffer high-water mark");
                return;
            }
        }
        long size = MessageCodec.frameSizeUpperBound(message);
        if (queuedMessages.incrementAndGet() > transport.maxPendingMessages) {
            queuedMessages.decrementAndGet();
            transport.dropped(message, "send queue full");
            return;
        }
        long bytes = queuedBytes.addAndGet(size);
        if (bytes > transport.maxPendingBytes && bytes != size) {
            queuedBytes.addAndGet(-size);
            queuedMessages.decrementAndGet();
            transport.dropped(message, "send queue full");
            return;
        }
        queue.add(message);
        scheduleDrain();
    }

    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            try {
                loop.execute(this::drain);
            } catch (RejectedExecutionException e) {
                // The transport is closing: its event loops no longer take tasks.
                dropQueued();
            }
        }
    }

    /** Writes {@code buf}, holding {@code messages} frames, each counted sent or dropped by the write's outcome. */
    private void write(Channel ch, ByteBuf buf, int messages) {
        // The outcome goes to the write listener.
        ChannelFuture unused = ch.write(buf, ch.newPromise().addListener(transport.writeListener(messages)));
    }

    /**
     * Writes {@code batch}, holding {@code messages} frames; releases it instead, returning false, when it holds none
     * (every frame put in it was refused at encoding).
     */
    private boolean writeBatch(Channel ch, ByteBuf batch, int messages) {
        if (messages == 0) {
            batch.release();
            return false;
        }
        write(ch, batch, messages);
        return true;
    }

    private Frame poll() {
        Frame m = queue.poll();
        if (m != null) {
            queuedMessages.decrementAndGet();
            queuedBytes.addAndGet(-MessageCodec.frameSizeUpperBound(m));
        }
        return m;
    }

    private void drain() {
        drainScheduled.set(false);
        switch (state) {
            case IDLE:
                connect();
                break;
            case CONNECTING:
                break;
            case READY:
                writeQueued();
                break;
            default:
                dropQueued();
        }
    }

    /**
     * Frames whose size bound is at most this many bytes are encoded several to one buffer, written with one write
     * (one outbound-buffer entry, one promise): a node's many small messages to one peer — every partition's appends
     * and acknowledgements — cost one buffer per drain rather than one each. A larger frame gets a buffer of its own.
     */
    static final int BATCH_BYTES = 64 * 1024;

    /**
     * Writes what is queued and flushes once; drops what the channel cannot take. On the event loop. Small frames go
     * several to a buffer ({@link #BATCH_BYTES}), in the order queued; each is counted sent or dropped when the write
     * of its buffer completes.
     */
    private void writeQueued() {
        Channel ch = channel;
        int batchLimit =
                (int) Math.min(BATCH_BYTES, transport.maxFrameBytes() + (long) MessageCodec.LENGTH_FIELD_BYTES);
        ByteBuf batch = null;
        int batched = 0;
        boolean unflushed = false;
        for (int i = 0; i < transport.maxPendingMessages; i++) {
            Frame m = poll();
            if (m == null) {
                break;
            }
            if (!ch.isWritable()) {
                if (batch != null) {
                    unflushed |= writeBatch(ch, batch, batched);
                    batch = null;
                    batched = 0;
                }
                if (unflushed) {
                    ch.flush();
                    unflushed = false;
                }
                if (!ch.isWritable()) {
                    transport.dropped(m, "over the write buffer high-water mark");
                    continue;
                }
            }
            if (WriteTrace.ENABLED && !(m instanceof Frame.Control)) {
                WriteTrace.stamp(transport.selfId() + ">" + id, WriteTrace.Point.WRITTEN, NettyTransport.messageOf(m));
            }
            long bound = MessageCodec.frameSizeUpperBound(m);
            if (batch != null && batch.writerIndex() + bound > batchLimit) {
                unflushed |= writeBatch(ch, batch, batched);
                batch = null;
                batched = 0;
            }
            if (bound > batchLimit) {
                ByteBuf frame = transport.encode(ch, m);
                if (frame != null) {
                    write(ch, frame, 1);
                    unflushed = true;
                }
                continue;
            }
            if (batch == null) {
                long wanted = Math.max(bound, queuedBytes.get() + bound);
                batch = ch.alloc().ioBuffer((int) Math.min(wanted, batchLimit), batchLimit);
            }
            if (transport.encodeInto(batch, m)) {
                batched++;
            }
        }
        if (batch != null) {
            unflushed |= writeBatch(ch, batch, batched);
        }
        if (unflushed) {
            ch.flush();
        }
        if (!queue.isEmpty()) {
            scheduleDrain();
        }
    }

    private void dropQueued() {
        Frame m;
        while ((m = poll()) != null) {
            transport.dropped(m, "not connected");
        }
    }

    private void connect() {
        if (transport.isClosing()) {
            state = State.CLOSED;
            dropQueued();
            return;
        }
        Optional<InetSocketAddress> address;
        try {
            address = transport.directory.addressOf(id);
        } catch (RuntimeException e) {
            LOG.warn("Peer directory failed to look up replica {}", id, e);
            address = Optional.empty();
        }
        if (address.isEmpty()) {
            if (failures == 0) {
                LOG.warn("No address known for replica {}; retrying with back-off", id);
            }
            backOff();
            return;
        }
        state = State.CONNECTING;
        rejected = false;
        InetSocketAddress remote = address.get();
        ChannelFuture connected;
        try {
            connected = bootstrap.connect(remote);
        } catch (RuntimeException e) {
            LOG.warn("Cannot connect to replica {} at {}", id, remote, e);
            backOff();
            return;
        }
        // A loopback connect may already be done: set the channel before any listener can run.
        Channel ch = connected.channel();
        channel = ch;
        ch.closeFuture().addListener(f -> onClosed(ch));
        connected.addListener(f -> onConnect(connected, remote));
    }

    /** Whether a connect failed because nothing listens on the port (not a timeout, not an unreachable host). */
    static boolean refused(Throwable cause) {
        return cause instanceof java.net.ConnectException
                && !(cause instanceof io.netty.channel.ConnectTimeoutException)
                && String.valueOf(cause.getMessage())
                        .toLowerCase(java.util.Locale.ROOT)
                        .contains("refused");
    }

    private void onConnect(ChannelFuture f, InetSocketAddress remote) {
        Channel ch = f.channel();
        if (!f.isSuccess()) {
            if (failures == 0) {
                LOG.info(
                        "Cannot connect to replica {} at {}: {}; retrying with back-off",
                        id,
                        remote,
                        String.valueOf(f.cause()));
            } else {
                LOG.debug("Cannot connect to replica {} at {}: {}", id, remote, String.valueOf(f.cause()));
            }
            if (refused(f.cause())) {
                transport.connectionRefused(id);
            }
            ChannelFuture unused = ch.close(); // a failed connect; closing only releases it
            return;
        }
        if (ch != channel || transport.isClosing()) {
            ChannelFuture unused = ch.close(); // a failed connect; closing only releases it
            return;
        }
        if (transport.tls != null) {
            // Say hello only to the replica meant: its certificate must name it.
            SslHandler ssl = ch.pipeline().get(SslHandler.class);
            ssl.handshakeFuture().addListener(h -> onHandshake(ch, ssl, h, remote));
            return;
        }
        ready(ch, remote);
    }

    private void onHandshake(
            Channel ch, SslHandler ssl, io.netty.util.concurrent.Future<?> h, InetSocketAddress remote) {
        if (ch != channel || transport.isClosing()) {
            ChannelFuture unused = ch.close();
            return;
        }
        if (!h.isSuccess()) {
            if (failures == 0) {
                LOG.warn("TLS handshake with replica {} at {} failed: {}", id, remote, String.valueOf(h.cause()));
            } else {
                LOG.debug("TLS handshake with replica {} at {} failed: {}", id, remote, String.valueOf(h.cause()));
            }
            ChannelFuture unused = ch.close(); // onClosed backs off
            return;
        }
        String problem = TlsContext.identityProblem(ssl.engine().getSession(), id);
        if (problem != null) {
            LOG.warn("Refusing the connection to replica {} at {}: {}", id, remote, problem);
            ChannelFuture unused = ch.close(); // onClosed backs off
            return;
        }
        ready(ch, remote);
    }

    private void ready(Channel ch, InetSocketAddress remote) {
        connectedAtNanos = System.nanoTime();
        ByteBuf hello = transport.encodeHello(ch, id);
        // Not awaited: a write that fails on IO closes the channel (Netty auto-close), and onClosed reconnects.
        ChannelFuture unused = ch.write(hello);
        state = State.READY;
        transport.connectionOpened();
        LOG.info("Connected to replica {} at {}", id, remote);
        writeQueued();
        ch.flush();
    }

    private void onClosed(Channel ch) {
        if (ch != channel) {
            return;
        }
        channel = null;
        boolean wasReady = state == State.READY;
        if (transport.isClosing()) {
            state = State.CLOSED;
            dropQueued();
            return;
        }
        if (wasReady
                && !rejected
                && System.nanoTime() - connectedAtNanos
                        >= TimeUnit.MILLISECONDS.toNanos(transport.backoff.maxMillis())) {
            failures = 0; // a connection that lasted is a success: reconnect quickly
        }
        if (wasReady) {
            LOG.info("Connection to replica {} at {} closed", id, ch.remoteAddress());
        }
        backOff();
    }

    private void backOff() {
        long delay = transport.backoff.delayMillis(failures);
        if (failures < Integer.MAX_VALUE) {
            failures++;
        }
        state = State.BACKOFF;
        dropQueued();
        LOG.debug("Reconnecting to replica {} in {} ms", id, delay);
        try {
            ScheduledFuture<?> unused = loop.schedule(this::reconnect, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            state = State.CLOSED;
        }
    }

    private void reconnect() {
        if (state == State.BACKOFF) {
            state = State.IDLE;
            connect();
        }
    }

    /**
     * The peer just connected to this replica (its hello was accepted): it is up, so if this side is backing off
     * after failed connects (the peer was down or restarting), connect now rather than when the delay ends, and
     * start the delays over. Any thread.
     */
    void peerIsUp() {
        EventLoop l = loop;
        if (l == null) {
            return;
        }
        l.execute(() -> {
            if (state == State.BACKOFF) {
                failures = 0;
                state = State.IDLE;
                connect(); // the scheduled reconnect finds the state changed and does nothing
            }
        });
    }

    /**
     * This peer left the replica set while the transport runs: on its event loop, stops connecting, closes its
     * connection and drops what is queued. Any thread.
     */
    void retire() {
        EventLoop l = loop;
        if (l == null) {
            closed();
            return;
        }
        l.execute(() -> {
            state = State.CLOSED;
            Channel ch = channel;
            if (ch != null) {
                ChannelFuture unused = ch.close();
            }
            dropQueued();
        });
    }

    /** Drops whatever is still queued; after the transport's event loops have terminated. */
    void closed() {
        state = State.CLOSED;
        dropQueued();
    }

    /** Reads what the accepting side may send on this connection: only a rejection of our hello. */
    private final class Handler extends ChannelInboundHandlerAdapter {
        private boolean closing;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent e && e.state() == IdleState.WRITER_IDLE) {
                if (!closing && state == State.READY) {
                    Channel ch = ctx.channel();
                    ChannelFuture unused = ch.writeAndFlush(transport.encodeFrame(ch, new Frame.Ping()));
                }
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Frame frame;
            try {
                if (closing) {
                    return;
                }
                frame = MessageCodec.decodeFrame((ByteBuf) msg);
            } catch (MalformedFrameException e) {
                closeWith(ctx, e.getMessage());
                return;
            } finally {
                ((ByteBuf) msg).release();
            }
            if (frame instanceof Frame.HelloRejected r) {
                rejected = true;
                closing = true;
                LOG.warn(
                        "Replica {} at {} rejected this replica's hello: {}",
                        id,
                        ctx.channel().remoteAddress(),
                        NettyTransport.printable(r.reason()));
                ChannelFuture unused = ctx.close(); // the close listener schedules what comes next
            } else {
                closeWith(ctx, "unexpected " + frame.getClass().getSimpleName() + " frame");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (closing) {
                return;
            }
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            if (c instanceof IOException) {
                closing = true;
                LOG.debug(
                        "Connection to replica {} at {} failed: {}",
                        id,
                        ctx.channel().remoteAddress(),
                        c.toString());
                ChannelFuture unused = ctx.close(); // the close listener schedules what comes next
            } else {
                closeWith(ctx, String.valueOf(c.getMessage()));
            }
        }

        private void closeWith(ChannelHandlerContext ctx, String reason) {
            if (closing) {
                return;
            }
            closing = true;
            rejected = true; // a peer that answers nonsense is not worth a quick reconnect
            LOG.warn(
                    "Closing connection to replica {} at {}: {}",
                    id,
                    ctx.channel().remoteAddress(),
                    reason);
            ChannelFuture unused = ctx.close(); // the close listener schedules what comes next
        }
    }
}
