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
package dev.tenure.bench;

import dev.tenure.replicator.transport.netty.NettyChannels;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * An asynchronous HTTP/1.1 load client for the closed loop, in the manner of {@code wrk}: by default writer {@code
 * w} has its own keep-alive connection and one request outstanding on it; with fewer connections than writers,
 * writer {@code w} uses connection {@code w % connections} and the requests of the writers sharing it are pipelined
 * (sent without waiting for the answers before them, answered in order, as HTTP/1.1 requires) — the way a client
 * library multiplexes many outstanding requests over few connections, as ZooKeeper's client does over its one
 * session. Requests of one connection started in the same turn of the event loop are written with one flush. Every
 * connection is served by one event-loop thread, so the client costs little CPU and no thread wakes
 * per request (the benchmark's client shares the two cores with the servers it measures). Only what the benchmark
 * needs: a 200 answer is a success, anything else (another status, a closed connection) is the operation's
 * failure; no redirects.
 *
 * <p>Requests are started from one thread at a time (the closed loop's driver thread), each writer starting its
 * next request only after its previous one completed; {@link #close()} closes every connection and the event loop.
 */
final class AsyncHttpLoad implements AutoCloseable {
    private static final int MAX_ANSWER_BYTES = 4 << 20;

    private final InetSocketAddress server;
    private final String host;
    private final EventLoopGroup loop;
    private final Bootstrap bootstrap;
    /** Per connection, its latest connect (driver thread only). */
    private final ChannelFuture[] connects;

    /** One connection per writer. */
    AsyncHttpLoad(URI base, int writers) {
        this(base, writers, writers);
    }

    /** {@code writers} writers over {@code connections} connections (pipelined where they share one). */
    AsyncHttpLoad(URI base, int writers, int connections) {
        if (connections < 1 || connections > writers) {
            throw new IllegalArgumentException(
                    "connections must be between 1 and the writers (" + writers + "), not " + connections);
        }
        this.server = new InetSocketAddress(base.getHost(), base.getPort());
        this.host = base.getHost() + ":" + base.getPort();
        this.connects = new ChannelFuture[connections];
        NettyChannels io = NettyChannels.current();
        this.loop = io.eventLoopGroup(1, new DefaultThreadFactory("bench-http", true));
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(io.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new HttpClientCodec())
                                .addLast(new HttpObjectAggregator(MAX_ANSWER_BYTES))
                                .addLast(new Answers());
                    }
                });
    }

    /** {@code PUT path} with the value as body, for writer {@code w}. */
    ClosedLoop.Operation puts(String pathPrefix) {
        return (w, value, done) -> send(w, HttpMethod.PUT, pathPrefix + w, value, done);
    }

    /** {@code GET path}, for writer {@code w}. */
    ClosedLoop.Operation gets(String pathPrefix, String query) {
        return (w, value, done) -> send(w, HttpMethod.GET, pathPrefix + w + query, null, done);
    }

    private void send(int w, HttpMethod method, String path, byte[] body, ClosedLoop.Completion done) {
        FullHttpRequest request = new DefaultFullHttpRequest(
                HttpVersion.HTTP_1_1,
                method,
                path,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        request.headers().set(HttpHeaderNames.HOST, host);
        if (body != null) {
            request.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
            request.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        }
        int slot = w % connects.length;
        ChannelFuture c = connects[slot];
        if (c == null || (c.isDone() && !c.channel().isActive())) {
            c = bootstrap.connect(server); // the first request of this connection, or its last one ended
            connects[slot] = c;
        }
        ChannelFuture connect = c;
        connect.addListener(f -> {
            // On the event loop, in the order the requests were started: a request queued behind the connect is
            // written when it completes, one started later is written after it (its listener runs later).
            if (f.isSuccess()) {
                write(connect.channel(), request, done);
            } else {
                request.release();
                done.completed(f.cause());
            }
        });
    }

    /** On the connection's event loop: the answers come in the order of the writes. */
    private static void write(Channel ch, FullHttpRequest request, ClosedLoop.Completion done) {
        Queue<ClosedLoop.Completion> pending = ch.attr(Answers.PENDING).get();
        if (pending == null) {
            pending = new ArrayDeque<>();
            ch.attr(Answers.PENDING).set(pending);
        }
        if (!ch.isActive()) {
            request.release();
            done.completed(new IOException("connection closed before the request was sent"));
            return;
        }
        pending.add(done);
        ChannelFuture unusedWrite = ch.write(request).addListener(f -> {
            if (!f.isSuccess()) {
                // Not awaited: closing fails every request still waiting for an answer on it, this one included.
                ChannelFuture unused = ch.close();
            }
        });
        // One flush (one socket write) for the requests of this connection started in the same turn of the event
        // loop: a pipelining client library batches its writes so; the flush runs after the tasks queued so far.
        if (ch.attr(FLUSH_QUEUED).setIfAbsent(Boolean.TRUE) == null) {
            ch.eventLoop().execute(() -> {
                ch.attr(FLUSH_QUEUED).set(null);
                ch.flush();
            });
        }
    }

    /** A flush of the connection is queued on its event loop. */
    private static final AttributeKey<Boolean> FLUSH_QUEUED = AttributeKey.valueOf("flushQueued");

    /** Completes the connection's requests with their answers, in order, or with the connection's end. */
    private static final class Answers extends SimpleChannelInboundHandler<FullHttpResponse> {
        static final AttributeKey<Queue<ClosedLoop.Completion>> PENDING = AttributeKey.valueOf("pending");

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse answer) {
            Queue<ClosedLoop.Completion> pending = ctx.channel().attr(PENDING).get();
            ClosedLoop.Completion done = pending == null ? null : pending.poll();
            if (done == null) {
                return;
            }
            if (!HttpUtil.isKeepAlive(answer)) {
                // Not awaited: the next request of this connection's writers opens a new one.
                ChannelFuture unused = ctx.close();
            }
            int code = answer.status().code();
            done.completed(
                    code == 200
                            ? null
                            : new IOException(
                                    "HTTP " + code + ": " + answer.content().toString(StandardCharsets.UTF_8)));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            failAll(ctx, new IOException("connection closed by the server before it answered"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ChannelFuture unused = ctx.close(); // not awaited: the requests on it fail here and now
            failAll(ctx, cause);
        }

        private static void failAll(ChannelHandlerContext ctx, Throwable cause) {
            Queue<ClosedLoop.Completion> pending = ctx.channel().attr(PENDING).get();
            ClosedLoop.Completion done;
            while (pending != null && (done = pending.poll()) != null) {
                done.completed(cause);
            }
        }
    }

    /**
     * Closes every connection and shuts the event loop down, waiting at most 10 s for it. If interrupted, returns at
     * once with the interrupt status set; the event loop goes on shutting down.
     */
    @Override
    public void close() {
        for (ChannelFuture c : connects) {
            if (c != null) {
                ChannelFuture unused = c.channel().close(); // not awaited: shutting the event loop down ends it
            }
        }
        try {
            loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
