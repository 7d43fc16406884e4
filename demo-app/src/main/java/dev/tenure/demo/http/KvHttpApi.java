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
package dev.tenure.demo.http;

import com.google.common.base.Preconditions;
import dev.tenure.demo.kv.KvService;
import dev.tenure.replicator.transport.netty.NettyChannels;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The key-value HTTP API of one replica (see {@code docs/demo-app.md}), served by Netty: two event-loop threads
 * parse requests and write replies; a write is proposed from the event loop and answered from its commit callback,
 * so no thread waits for a commit and the number of requests in flight is bounded by the replica's outstanding
 * proposals, not by a thread pool. A connection's pipelined requests are handled concurrently (up to 64 per
 * connection whose answers are owed, and 1 MiB of ready answers held behind a
 * pending one; beyond either the connection is not read until an answer is written) and answered in request order;
 * answers that are ready together go out in one socket write.
 *
 * <p>Outcome semantics of the key routes (in {@link KvRoutes}; the operator's are in {@link StatusRoutes}, which says
 * what {@code POST /admin/snapshot} answers): 200 means committed; 307, 400, 404, 405, 409, 413 and
 * 503 with {@code "applied":false} mean definitely not applied; anything else (timeouts, 500, 503 without {@code
 * "applied":false}) means unknown. A request that may have been applied is never answered as definitely not
 * applied.
 *
 * <p>Limits: a request line of 8 KiB, headers of 16 KiB, a body as large as its route allows (1 MiB for a value);
 * a connection idle for 60 s with no reply pending is closed; a connection that has not sent a complete request head
 * within the header deadline (10 s by default) of opening or of its next request's first byte is closed; connections
 * beyond the cap (1,024 by default) are answered 503 and closed; a client that does not read its answers stops being
 * read from (the answers it can hold up are bounded by the socket's high-water mark). See {@link HttpGuard} for the
 * checks of each request ({@code Host}, token, content type).
 *
 * <p>Lifecycle: {@link #bind} binds the port and takes no request until {@link #start} (the kernel may still
 * complete connections meanwhile; they wait); {@link #close} stops serving (idempotent). Thread-safe.
 */
public final class KvHttpApi implements AutoCloseable {
    /** Largest value accepted. */
    public static final int MAX_VALUE_BYTES = 1 << 20;
    /** Largest key accepted, in UTF-8 bytes. */
    public static final int MAX_KEY_BYTES = 1024;

    /**
     * How long a write waits for its commit, and a linearizable read for its confirmation, before it is answered
     * 503 (for a write, {@code outcome_unknown}: it may still commit), unless the node sets another.
     */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** How long {@code POST /admin/snapshot} waits for the snapshot to be durable before it answers 503. */
    public static final Duration SNAPSHOT_TIMEOUT = Duration.ofMinutes(2);

    /** A request line may carry a key of 1,024 bytes, each percent-encoded as three characters. */
    private static final int MAX_REQUEST_LINE = 8 * 1024;

    private static final int MAX_HEADER_BYTES = 16 * 1024;
    /** A connection that sends nothing for this long, with no reply pending, is closed. */
    private static final int IDLE_SECONDS = 60;

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel server;
    private final AtomicReference<State> state = new AtomicReference<>(State.BOUND);

    private enum State {
        BOUND,
        STARTED,
        CLOSED
    }

    private KvHttpApi(EventLoopGroup boss, EventLoopGroup workers, Channel server) {
        this.boss = boss;
        this.workers = workers;
        this.server = server;
    }

    /**
     * Binds the server (not yet serving).
     *
     * @param service the replica the key routes serve, and whose status the status routes show
     * @param observations what the status page and {@code /metrics} show beyond the status
     * @param listener told of each proposal's outcome and each fenced request (metrics)
     * @param requestTimeout how long a write or linearizable read waits for the replica before it is answered 503
     *     (see {@link #DEFAULT_REQUEST_TIMEOUT})
     */
    public static KvHttpApi bind(
            KvService service,
            NodeObservations observations,
            RequestListener listener,
            InetSocketAddress address,
            Duration requestTimeout)
            throws IOException {
        return bind(service, observations, listener, address, requestTimeout, HttpOptions.DEFAULT);
    }

    /**
     * Binds the server (not yet serving) with the protections {@code options} sets (see {@link HttpGuard}): the
     * {@code Host} allow-list, the optional token for writes and admin routes, {@code application/json} on {@code
     * POST}, the connection cap and the header-receipt deadline.
     */
    public static KvHttpApi bind(
            KvService service,
            NodeObservations observations,
            RequestListener listener,
            InetSocketAddress address,
            Duration requestTimeout,
            HttpOptions options)
            throws IOException {
        Preconditions.checkArgument(
                requestTimeout.toMillis() > 0, "the request timeout must be at least 1 ms: %s", requestTimeout);
        KvRoutes keys = new KvRoutes(service, listener, requestTimeout.toMillis());
        Router routes = new HttpGuard(
                new ReassignRoutes(
                        observations.reassignmentAdmin(),
                        new StatusRoutes(service, observations, keys, SNAPSHOT_TIMEOUT)),
                options);
        return bind(routes, address, options);
    }

    /** Binds {@code routes} as they are (no {@link HttpGuard}), with the default limits. */
    static KvHttpApi bind(Router routes, InetSocketAddress address) throws IOException {
        return bind(routes, address, HttpOptions.DEFAULT);
    }

    /** Binds {@code routes} as they are, with the connection cap and header deadline of {@code options}. */
    static KvHttpApi bind(Router routes, InetSocketAddress address, HttpOptions options) throws IOException {
        ConnectionCap cap = new ConnectionCap(options.maxConnections());
        HttpTls tls = options.tls().orElse(null);
        long headerNanos = options.headerTimeout().toNanos();
        NettyChannels io = NettyChannels.current();
        EventLoopGroup boss = io.eventLoopGroup(1, new DefaultThreadFactory("kv-http-accept", true));
        EventLoopGroup workers = io.eventLoopGroup(2, new DefaultThreadFactory("kv-http", true));
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(io.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                // A node restarted on its address binds even while its previous connections are in TIME_WAIT.
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.AUTO_READ, false) // accept nothing before start()
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        HeaderDeadline deadline = new HeaderDeadline(headerNanos);
                        if (tls != null) {
                            // First: every byte in and out is TLS, the cap's refusal and raw writes included.
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast(cap)
                                .addLast(new IdleStateHandler(IDLE_SECONDS, 0, 0))
                                .addLast(deadline)
                                .addLast(new HttpServerCodec(MAX_REQUEST_LINE, MAX_HEADER_BYTES, 64 * 1024))
                                .addLast(new HttpConnection(routes, deadline, tls));
                    }
                });
        try {
            Channel server = b.bind(address).sync().channel();
            return new KvHttpApi(boss, workers, server);
        } catch (Exception e) {
            // Not awaited: nothing was served; the threads end on their own, and the caller hears of the failure now.
            Future<?> unusedBoss = boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            Future<?> unusedWorkers = workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("cannot bind the HTTP API to " + address + ": " + e.getMessage(), e);
        }
    }

    /** The bound address (with the actual port when bound to port 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Starts accepting connections. */
    public void start() {
        if (!state.compareAndSet(State.BOUND, State.STARTED)) {
            throw new IllegalStateException("the HTTP API was already started or is closed");
        }
        server.config().setAutoRead(true);
        server.read();
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.CLOSED) {
            return;
        }
        server.close().awaitUninterruptibly();
        // The acceptor is not awaited: its channel is closed above, and it accepts nothing more.
        Future<?> unusedBoss = boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
