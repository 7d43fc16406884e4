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

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of the key-value API, after Netty's HTTP/1.1 codec: collects each request's body within
 * the limit its {@link Router.Route} sets, hands the request over and writes the reply when it completes — from
 * the commit callback, so no thread waits for a commit. Requests on one connection are answered in order: while a
 * reply is pending, requests that already arrived (pipelined) wait in a queue and the connection stops reading.
 *
 * <p>A request refused before its body is read (unknown path, bad key, method, a {@code Content-Length} above the
 * limit) is answered at once; the rest of its body is read and discarded (at most 16 MiB, then the connection is
 * closed) so that a client still sending receives the answer. A request line or header the codec cannot parse
 * gets 400 and the connection is closed.
 *
 * <p>Not thread-safe: every method runs on the connection's event loop; replies completed elsewhere are passed
 * to it.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HttpConnection.class);
    private static final ObjectMapper json = new ObjectMapper();
    private static final long DISCARD_LIMIT = 16L << 20;
    /** A body buffer starts this small and grows with what arrives, up to the route's limit. */
    private static final int INITIAL_BODY_BYTES = 8 * 1024;
    /**
     * Written past the HTTP encoder, which counts every response it encodes against a request (a 1xx through it
     * would shift the HEAD bookkeeping of pipelined requests by one).
     */
    private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Router routes;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>();

    private Router.Route route;
    private Router.Request request;
    private ByteBuf body;
    private boolean keepAlive;
    private boolean http10;
    /** The current request was answered early; its remaining body is discarded. */
    private boolean discarding;

    private long discarded;
    /** A complete request waits for its reply. */
    private boolean awaiting;

    private boolean closed;

    /** The connection's header-receipt deadline, told when each head arrives and each request ends; or null. */
    private final HeaderDeadline deadline;

    /** The API's TLS, to read the client's certificate; or null (plain HTTP). */
    private final HttpTls tls;

    HttpConnection(Router routes) {
        this(routes, null, null);
    }

    HttpConnection(Router routes, HeaderDeadline deadline, HttpTls tls) {
        this.routes = routes;
        this.deadline = deadline;
        this.tls = tls;
    }

    /** Where raw bytes go out: past the HTTP codec, and through TLS when the connection has it. */
    private static ChannelHandlerContext rawWriter(ChannelHandlerContext ctx) {
        ChannelHandlerContext codec = ctx.pipeline().context(HttpServerCodec.class);
        return codec != null ? codec : ctx.pipeline().firstContext();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (deadline != null) {
            if (msg instanceof HttpRequest) {
                deadline.headReceived();
            }
            if (msg instanceof LastHttpContent) {
                deadline.requestEnded();
            }
        }
        if (closed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (paused(ctx) || !backlog.isEmpty()) {
            backlog.add(msg);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        process(ctx, msg, false);
    }

    /**
     * Whether requests must wait: a reply is pending, or the client does not read its answers (the outbound
     * buffer is above its high-water mark), so that a client never makes the server hold more than a bounded
     * amount of answers.
     */
    private boolean paused(ChannelHandlerContext ctx) {
        return awaiting || !ctx.channel().isWritable();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable()) {
            resume(ctx);
        }
        super.channelWritabilityChanged(ctx);
    }

    /**
     * Closes a connection that sent nothing for the idle time, unless it waits for a reply (a commit has its own
     * timeout): a client that stops in the middle of a request does not hold its buffer for ever.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent && !awaiting && backlog.isEmpty()) {
            log.debug("closing HTTP connection {}: idle", ctx.channel().remoteAddress());
            close(ctx);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    private void process(ChannelHandlerContext ctx, Object msg, boolean queued) {
        try {
            if (msg instanceof HttpRequest head) {
                onHead(ctx, head, queued);
            }
            if (msg instanceof HttpContent content && !closed) {
                onContent(ctx, content);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest head, boolean queued) {
        releaseBody();
        route = null;
        discarding = false;
        discarded = 0;
        keepAlive = HttpUtil.isKeepAlive(head);
        http10 = head.protocolVersion().equals(HttpVersion.HTTP_1_0);
        if (head.decoderResult().isFailure()) {
            // The codec discards everything after a message it cannot parse: answer and close.
            badRequest(ctx, head.decoderResult().cause());
            return;
        }
        String target = head.uri();
        int q = target.indexOf('?');
        request = new Router.Request(
                head.method().name(),
                q < 0 ? target : target.substring(0, q),
                q < 0 ? null : target.substring(q + 1),
                head.headers().get(HttpHeaderNames.HOST),
                head.headers().get(HttpHeaderNames.CONTENT_TYPE),
                head.headers().get(HttpHeaderNames.AUTHORIZATION),
                ctx.channel().localAddress() instanceof InetSocketAddress a ? a : null,
                clientCertificate(ctx));
        Router.Route r;
        long length;
        try {
            r = routes.route(request);
            length = contentLength(head);
            if (r.maxBody() >= 0 && length > r.maxBody()) {
                throw new HttpError(413, r.tooLarge(), "at most " + r.maxBody() + " bytes");
            }
        } catch (HttpError e) {
            answerEarly(ctx, head, e.reply());
            return;
        }
        route = r;
        if (HttpUtil.is100ContinueExpected(head) && !queued) {
            // Only when read at once: a queued request's client has not waited for it (it sent more since).
            // Not awaited: a write that fails on IO closes the channel (Netty's auto-close), which ends the request.
            ChannelFuture unusedContinue = rawWriter(ctx).writeAndFlush(Unpooled.wrappedBuffer(CONTINUE));
        }
        if (r.maxBody() > 0) {
            int initial = (int) Math.min(r.maxBody(), length >= 0 ? Math.min(length, INITIAL_BODY_BYTES) : 1024);
            body = ctx.alloc().heapBuffer(initial, r.maxBody());
        }
    }

    /** The subject of the client's verified certificate on an HTTPS connection that asks for one, else null. */
    private String clientCertificate(ChannelHandlerContext ctx) {
        if (tls == null) {
            return null;
        }
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        return ssl == null ? null : tls.verifiedClient(ssl.engine().getSession());
    }

    /** Answers what the codec could not parse with 400 and closes: the codec drops everything after it. */
    private void badRequest(ChannelHandlerContext ctx, Throwable cause) {
        keepAlive = false;
        writeReply(ctx, new HttpError(400, "bad_request", String.valueOf(cause)).reply());
    }

    private static long contentLength(HttpRequest head) {
        String value = head.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (value == null) {
            return -1;
        }
        try {
            long n = Long.parseLong(value.trim());
            if (n < 0) {
                throw new NumberFormatException("negative");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new HttpError(400, "bad_content_length", value);
        }
    }

    private void onContent(ChannelHandlerContext ctx, HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (content.decoderResult().isFailure()) {
            // The codec drops everything from here on: nothing more can be answered on this connection.
            if (route != null) {
                route = null;
                releaseBody();
                badRequest(ctx, content.decoderResult().cause());
            } else {
                closeAfterFlush(ctx);
            }
            return;
        }
        if (discarding) {
            discarded += content.content().readableBytes();
            if (discarded > DISCARD_LIMIT) {
                closeAfterFlush(ctx);
            } else if (last) {
                discarding = false;
                if (!keepAlive) {
                    closeAfterFlush(ctx);
                }
            }
            return;
        }
        if (route == null) {
            return; // content after a head that was not answered: nothing to add it to
        }
        ByteBuf chunk = content.content();
        if (route.maxBody() >= 0 && chunk.isReadable()) {
            if (body == null || body.readableBytes() + chunk.readableBytes() > route.maxBody()) {
                HttpError e = new HttpError(413, route.tooLarge(), "at most " + route.maxBody() + " bytes");
                route = null;
                releaseBody();
                discarding = !last;
                writeReply(ctx, e.reply()); // closes the connection after it unless kept alive or still discarding
                return;
            }
            body.writeBytes(chunk);
        }
        if (last) {
            dispatch(ctx);
        }
    }

    /** Answers before the body is read, then discards the body (or closes if the client waits to send it). */
    private void answerEarly(ChannelHandlerContext ctx, HttpRequest head, Reply reply) {
        if (HttpUtil.is100ContinueExpected(head)) {
            keepAlive =
                    false; // the client may or may not send the body now: do not guess where the next request starts
            writeReply(ctx, reply);
            return;
        }
        discarding = true;
        writeReply(ctx, reply);
    }

    private void dispatch(ChannelHandlerContext ctx) {
        Router.Route r = route;
        route = null;
        byte[] bytes = body == null ? new byte[0] : ByteBufUtil.getBytes(body);
        releaseBody();
        CompletableFuture<Reply> reply;
        try {
            reply = r.handler().apply(bytes);
        } catch (HttpError e) {
            reply = CompletableFuture.completedFuture(e.reply());
        } catch (RuntimeException e) {
            reply = CompletableFuture.completedFuture(internal(request, e));
        }
        if (reply.isDone() && !reply.isCompletedExceptionally()) {
            writeReply(ctx, reply.join());
            return;
        }
        awaiting = true;
        Router.Request req = request;
        // The callback handles every outcome itself (a failed reply is answered 500): its own future adds nothing.
        CompletableFuture<Reply> unusedAnswered = reply.whenComplete((answer, failure) -> {
            try {
                ctx.executor().execute(() -> {
                    awaiting = false;
                    writeReply(ctx, failure == null ? answer : internal(req, failure));
                    resume(ctx);
                });
            } catch (RuntimeException stopped) {
                // The server was closed (its event loop stopped) while the reply was pending: the client sees
                // its connection end, an unknown outcome.
                log.debug("reply to {} {} dropped: the server is closed", req.method(), req.rawTarget());
            }
        });
    }

    /** 500 with a request id and no exception text (logged with that id). */
    private static Reply internal(Router.Request request, Throwable e) {
        String id = HttpError.requestId();
        log.error("request {} ({} {}) failed", id, request.method(), request.rawTarget(), e);
        return Reply.json(
                500,
                json.createObjectNode()
                        .put("error", "internal")
                        .put("requestId", id)
                        .put("detail", "internal error: see the node's log for request " + id));
    }

    /** Handles the requests that arrived while a reply was pending, then reads again. */
    private void resume(ChannelHandlerContext ctx) {
        Object msg;
        while (!closed && !paused(ctx) && (msg = backlog.poll()) != null) {
            process(ctx, msg, true);
        }
        if (!closed && !paused(ctx) && backlog.isEmpty()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void writeReply(ChannelHandlerContext ctx, Reply reply) {
        if (closed) {
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
        for (Map.Entry<String, String> h : reply.headers().entrySet()) {
            response.headers().set(h.getKey(), h.getValue());
        }
        boolean closeAfter = !keepAlive && !discarding;
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        if (closeAfter) {
            closed = true;
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            // Not awaited: a write that fails on IO closes the channel (Netty's auto-close), and channelInactive
            // ends the connection.
            ChannelFuture unusedWrite = ctx.writeAndFlush(response);
        }
    }

    private void close(ChannelHandlerContext ctx) {
        closed = true;
        ChannelFuture unusedClose = ctx.close(); // not awaited: channelInactive follows once it is closed
    }

    /** Closes once every answer already written has reached the socket. */
    private void closeAfterFlush(ChannelHandlerContext ctx) {
        closed = true;
        rawWriter(ctx).writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void releaseBody() {
        if (body != null) {
            body.release();
            body = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        closed = true;
        releaseBody();
        Object msg;
        while ((msg = backlog.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection {} failed", ctx.channel().remoteAddress(), cause);
        close(ctx);
    }
}
