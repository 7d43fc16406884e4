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

import dev.tenure.replicator.transport.netty.tls.TlsContext;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One accepted connection of a {@link NettyTransport}: waits for a valid hello, then hands each protocol message
 * (tagged with its partition if the transport is a node transport, untagged otherwise) that is from the greeting
 * peer and to this replica to the transport, and (node transport) each control message, as from the greeting peer.
 * Anything else — a malformed, oversized or unexpected frame, a hello that names another cluster, an unknown
 * replica or another receiver, or no hello in time, or nothing at all for the idle timeout after it — closes the
 * connection with a WARN naming the remote address and the reason. Confined to the channel's event loop.
 */
final class InboundHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(InboundHandler.class);

    private final NettyTransport transport;
    private final FrameDecoder decoder;
    private String peerId;
    private boolean closing;
    private ScheduledFuture<?> handshakeTimeout;

    InboundHandler(NettyTransport transport, FrameDecoder decoder) {
        this.transport = transport;
        this.decoder = decoder;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        long timeout = transport.handshakeTimeoutMillis;
        handshakeTimeout = ctx.executor()
                .schedule(() -> refuse(ctx, "no hello within " + timeout + " ms"), timeout, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelHandshakeTimeout();
        if (peerId != null) {
            LOG.info(
                    "Connection from replica {} at {} closed",
                    peerId,
                    ctx.channel().remoteAddress());
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame;
        try {
            if (closing) {
                return; // frames already buffered behind a refused one
            }
            frame = MessageCodec.decodeFrame((ByteBuf) msg);
        } catch (MalformedFrameException e) {
            refuse(ctx, e.getMessage());
            return;
        } finally {
            ((ByteBuf) msg).release();
        }
        if (peerId == null) {
            onFrameBeforeHello(ctx, frame);
            return;
        }
        String unexpected = transport.unexpected(frame);
        if (unexpected == null) {
            transport.deliver(frame, peerId, ctx.channel());
        } else {
            refuse(ctx, unexpected);
        }
    }

    private void onFrameBeforeHello(ChannelHandlerContext ctx, Frame frame) {
        if (!(frame instanceof Frame.Hello hello)) {
            String what = frame instanceof Frame.Protocol || frame instanceof Frame.Partitioned
                    ? NettyTransport.messageOf(frame).getClass().getSimpleName()
                    : frame.getClass().getSimpleName();
            refuse(ctx, what + " frame before a hello");
            return;
        }
        String reason = transport.checkHello(hello);
        if (reason == null && transport.tls != null) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            String problem = TlsContext.identityProblem(ssl.engine().getSession(), hello.fromReplicaId());
            if (problem != null) {
                reason = "hello from replica '" + NettyTransport.printable(hello.fromReplicaId()) + "' refused: "
                        + problem;
            }
        }
        if (reason != null) {
            closing = true;
            cancelHandshakeTimeout();
            transport.connectionRefused();
            LOG.warn("Rejecting hello from {}: {}", ctx.channel().remoteAddress(), reason);
            ctx.writeAndFlush(transport.encodeFrame(ctx.channel(), new Frame.HelloRejected(reason)))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        peerId = hello.fromReplicaId();
        cancelHandshakeTimeout();
        decoder.handshakeDone();
        transport.connectionAccepted();
        transport.peerIsUp(peerId);
        LOG.info(
                "Accepted connection from replica {} at {}",
                peerId,
                ctx.channel().remoteAddress());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent h && !h.isSuccess()) {
            Throwable c = h.cause();
            refuse(ctx, "TLS handshake failed: " + (c.getMessage() != null ? c.getMessage() : c.toString()));
            return;
        }
        if (evt instanceof IdleStateEvent e && e.state() == IdleState.READER_IDLE) {
            // Before the hello the handshake timeout applies; while reading is paused (the consumer is behind)
            // silence is this replica's doing.
            if (peerId != null && ctx.channel().config().isAutoRead()) {
                refuse(ctx, "nothing received for " + transport.idleTimeoutMillis + " ms");
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (closing) {
            return;
        }
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof javax.net.ssl.SSLException) {
            // Not TLS, a failed handshake (a foreign CA, an expired certificate, no client certificate): a refusal.
            refuse(ctx, "TLS: " + (c.getMessage() != null ? c.getMessage() : c.toString()));
            return;
        }
        if (c instanceof IOException) {
            closing = true;
            LOG.debug("Connection from {} failed: {}", ctx.channel().remoteAddress(), c.toString());
            ChannelFuture unused = ctx.close(); // nothing to do if closing fails: the connection is dropped
        } else {
            refuse(ctx, c.getMessage() != null ? c.getMessage() : c.toString());
        }
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        if (closing) {
            return;
        }
        closing = true;
        cancelHandshakeTimeout();
        transport.connectionRefused();
        LOG.warn(
                "Closing connection from {}{}: {}",
                ctx.channel().remoteAddress(),
                peerId == null ? "" : " (replica " + peerId + ")",
                reason);
        ChannelFuture unused = ctx.close(); // nothing to do if closing fails: the connection is dropped
    }

    private void cancelHandshakeTimeout() {
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
            handshakeTimeout = null;
        }
    }
}
