package dev.tenure.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * An asynchronous HTTP/1.1 load client for the closed loop, in the manner of {@code wrk}: writer {@code w} has its
 * own keep-alive connection and one request outstanding on it; every connection is served by one event-loop
 * thread, so the client costs little CPU and no thread wakes per request (the benchmark's client shares the two
 * cores with the servers it measures). Only what the benchmark needs: a 200 answer is a success, anything else
 * (another status, a closed connection) is the operation's failure; no redirects.
 *
 * <p>Thread-safe for distinct writers (each writer starts its next request only after its previous one
 * completed, as {@link ClosedLoop} does); {@link #close()} closes every connection and the event loop.
 */
final class AsyncHttpLoad implements AutoCloseable {
    private static final int MAX_ANSWER_BYTES = 4 << 20;

    private final InetSocketAddress server;
    private final String host;
    private final EventLoopGroup loop = new NioEventLoopGroup(1, new DefaultThreadFactory("bench-http", true));
    private final Bootstrap bootstrap;
    private final Channel[] channels;

    AsyncHttpLoad(URI base, int writers) {
        this.server = new InetSocketAddress(base.getHost(), base.getPort());
        this.host = base.getHost() + ":" + base.getPort();
        this.channels = new Channel[writers];
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(NioSocketChannel.class)
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
        Channel ch = channels[w];
        if (ch != null && ch.isActive()) {
            write(ch, request, done);
            return;
        }
        ChannelFuture connect = bootstrap.connect(server);
        channels[w] = connect.channel();
        connect.addListener(f -> {
            if (f.isSuccess()) {
                write(connect.channel(), request, done);
            } else {
                request.release();
                done.completed(f.cause());
            }
        });
    }

    private static void write(Channel ch, FullHttpRequest request, ClosedLoop.Completion done) {
        ch.attr(Answers.PENDING).set(done);
        ch.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) {
                ClosedLoop.Completion d = ch.attr(Answers.PENDING).getAndSet(null);
                if (d != null) {
                    d.completed(f.cause());
                }
            }
        });
    }

    /** Completes the connection's outstanding request with its answer, or with the connection's end. */
    private static final class Answers extends SimpleChannelInboundHandler<FullHttpResponse> {
        static final io.netty.util.AttributeKey<ClosedLoop.Completion> PENDING =
                io.netty.util.AttributeKey.valueOf("pending");

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse answer) {
            ClosedLoop.Completion done = ctx.channel().attr(PENDING).getAndSet(null);
            if (done == null) {
                return;
            }
            if (!io.netty.handler.codec.http.HttpUtil.isKeepAlive(answer)) {
                ctx.close(); // the next request of this writer opens a new connection
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
            ClosedLoop.Completion done = ctx.channel().attr(PENDING).getAndSet(null);
            if (done != null) {
                done.completed(new IOException("connection closed by the server before it answered"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ClosedLoop.Completion done = ctx.channel().attr(PENDING).getAndSet(null);
            ctx.close();
            if (done != null) {
                done.completed(cause);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Channel ch : channels) {
            if (ch != null) {
                ch.close();
            }
        }
        loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }
}
