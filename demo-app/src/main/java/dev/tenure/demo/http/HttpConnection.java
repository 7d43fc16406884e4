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
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of the key-value API, after Netty's HTTP/1.1 codec: collects each request's body within
 * the limit its {@link Router.Route} sets, hands the request over and writes the reply when it completes — from
 * the commit callback, so no thread waits for a commit.
 *
 * <p><b>Pipelining.</b> Requests that arrive before the answers to earlier ones (pipelined) are handled at once,
 * concurrently: each is routed and proposed as soon as its last byte is read, up to {@link #MAX_PIPELINED}
 * requests per connection whose answers are owed. The answers are written in request order, as HTTP/1.1 requires:
 * one that completes early waits for those before it. A failed or refused request gets its own answer (500, or the
 * refusal) in its place and the others are unaffected. Answers that become ready together are written with one
 * flush (one socket write); answers produced while reading are flushed once the read ends.
 *
 * <p><b>Back-pressure.</b> While {@link #MAX_PIPELINED} answers are owed, or more than {@link #MAX_HELD_BYTES} of
 * ready answers wait behind a pending one, or the client does not read its answers (the outbound buffer is above
 * its high-water mark), the connection stops reading and the requests already decoded wait, unhandled, until an
 * answer is written: a client cannot make the server hold more than a bounded amount of work or answers.
 *
 * <p>A request refused before its body is read (unknown path, bad key, method, a {@code Content-Length} above the
 * limit) is answered in its turn without handling; the rest of its body is read and discarded (at most 16 MiB, then
 * the connection is closed) so that a client still sending receives the answer. A request line or header the codec
 * cannot parse gets 400 in its turn and the connection is closed after it; so is a request with {@code Connection:
 * close} (requests after it are not handled).
 *
 * <p>Not thread-safe: every method runs on the connection's event loop, except the completion of a pending reply,
 * which only records the reply and schedules its writing on the event loop.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter {
    /** Requests of one connection handled whose answers are not yet written, at most. */
    static final int MAX_PIPELINED = 64;
    /**
     * Bytes of answers that are ready but wait behind an earlier pending one, above which the connection stops
     * handling requests (replies share the stored values, but a client must not make the server hold more).
     */
    static final long MAX_HELD_BYTES = 1 << 20;

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

    private static final byte[] NO_BODY = new byte[0];

    /** An answer owed to a handled request, in request order. */
    private static final class Answer {
        final Router.Request request;
        final boolean keepAlive;
        final boolean http10;
        /** The connection closes once this answer is written. */
        final boolean closeAfter;
        /** The {@link Reply}, or the {@link Throwable} the handler's future failed with; null while pending. */
        volatile Object result;

        Answer(Router.Request request, boolean keepAlive, boolean http10, boolean closeAfter) {
            this.request = request;
            this.keepAlive = keepAlive;
            this.http10 = http10;
            this.closeAfter = closeAfter;
        }
    }

    private final Router routes;
    private final int maxPipelined;
    /** Decoded messages not yet handled (while paused), in arrival order. */
    private final ArrayDeque<Object> backlog = new ArrayDeque<>();
    /** Answers owed, in request order; the head is written first. */
    private final ArrayDeque<Answer> answers = new ArrayDeque<>();
    /** A task that writes the ready answers is queued on the event loop (set from any thread). */
    private final AtomicBoolean writeScheduled = new AtomicBoolean();

    private Router.Route route;
    private Router.Request request;
    private ByteBuf body;
    private boolean keepAlive;
    private boolean http10;
    /** The current request was answered early; its remaining body is discarded. */
    private boolean discarding;

    private long discarded;

    /** No further request is handled: the connection closes after the answers owed. */
    private boolean ending;
    /** Close (after every answer owed is written) without an answer of its own. */
    private boolean closeWhenAnswered;

    private boolean closed;
    /** Inside a read: answers written now are flushed when it completes. */
    private boolean reading;

    private boolean flushPending;
    /** Handling the backlog (guards against re-entry through a writability change). */
    private boolean resuming;
    /** Bytes of the answers owed that are ready but not written (counted when ready answers are written). */
    private long heldBytes;

    /** The connection's header-receipt deadline, told when each head arrives and each request ends; or null. */
    private final HeaderDeadline deadline;

    /** The API's TLS, to read the client's certificate; or null (plain HTTP). */
    private final HttpTls tls;

    HttpConnection(Router routes) {
        this(routes, null, null);
    }

    HttpConnection(Router routes, HeaderDeadline deadline, HttpTls tls) {
        this(routes, deadline, tls, MAX_PIPELINED);
    }

    HttpConnection(Router routes, HeaderDeadline deadline, HttpTls tls, int maxPipelined) {
        if (maxPipelined < 1) {
            throw new IllegalArgumentException("at least one request must be allowed in flight: " + maxPipelined);
        }
        this.routes = routes;
        this.deadline = deadline;
        this.tls = tls;
        this.maxPipelined = maxPipelined;
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
        if (closed || ending) {
            ReferenceCountUtil.release(msg);
            return;
        }
        reading = true;
        if (paused(ctx) || !backlog.isEmpty()) {
            backlog.add(msg);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        process(ctx, msg, false);
    }

    /** Flushes the answers written during the read: one socket write for all of them. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        reading = false;
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
        super.channelReadComplete(ctx);
    }

    /**
     * Whether requests must wait: {@link #maxPipelined} answers are owed, or too many bytes of ready answers wait
     * behind a pending one, or the client does not read its answers (the outbound buffer is above its high-water
     * mark), so that a client never makes the server hold more than a bounded amount of work and answers.
     */
    private boolean paused(ChannelHandlerContext ctx) {
        return answers.size() >= maxPipelined
                || heldBytes > MAX_HELD_BYTES
                || !ctx.channel().isWritable();
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
        if (evt instanceof IdleStateEvent && answers.isEmpty() && backlog.isEmpty()) {
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
            if (msg instanceof HttpContent content && !closed && !ending) {
                onContent(ctx, content);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest head, boolean queued) {
        releaseBody();
        route = null;
        request = null;
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
        if (HttpUtil.is100ContinueExpected(head) && !queued && answers.isEmpty()) {
            // Only when read at once with no answer owed before it: a client that sent more since, or still waits
            // for earlier answers, has not waited for this one (and would take it for an earlier request's).
            // Not awaited: a write that fails on IO closes the channel (Netty's auto-close), which ends the request.
            ChannelFuture unusedContinue = rawWriter(ctx).writeAndFlush(Unpooled.wrappedBuffer(CONTINUE));
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
        answer(ctx, new HttpError(400, "bad_request", String.valueOf(cause)).reply());
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
                closeWhenAnswered(ctx);
            }
            return;
        }
        if (discarding) {
            discarded += content.content().readableBytes();
            if (discarded > DISCARD_LIMIT) {
                closeWhenAnswered(ctx);
            } else if (last) {
                discarding = false;
                if (!keepAlive) {
                    closeWhenAnswered(ctx);
                }
            }
            return;
        }
        if (route == null) {
            return; // content after a head that was not answered: nothing to add it to
        }
        ByteBuf chunk = content.content();
        byte[] whole = null;
        if (route.maxBody() >= 0 && chunk.isReadable()) {
            int have = body == null ? 0 : body.readableBytes();
            if ((long) have + chunk.readableBytes() > route.maxBody()) {
                HttpError e = new HttpError(413, route.tooLarge(), "at most " + route.maxBody() + " bytes");
                route = null;
                releaseBody();
                discarding = !last;
                answer(ctx, e.reply()); // closes the connection after it unless kept alive or still discarding
                return;
            }
            if (last && body == null) {
                whole = ByteBufUtil.getBytes(chunk); // the usual case, a body in one piece: one copy, no buffer
            } else {
                if (body == null) {
                    body = ctx.alloc().heapBuffer(Math.min(route.maxBody(), INITIAL_BODY_BYTES), route.maxBody());
                }
                body.writeBytes(chunk);
            }
        }
        if (last) {
            if (whole == null) {
                whole = body == null ? NO_BODY : ByteBufUtil.getBytes(body);
                releaseBody();
            }
            dispatch(ctx, whole);
        }
    }

    /** Answers before the body is read, then discards the body (or closes if the client waits to send it). */
    private void answerEarly(ChannelHandlerContext ctx, HttpRequest head, Reply reply) {
        if (HttpUtil.is100ContinueExpected(head)) {
            // The client may or may not send the body now: do not guess where the next request starts.
            keepAlive = false;
            answer(ctx, reply);
            return;
        }
        discarding = true;
        answer(ctx, reply);
    }

    private void dispatch(ChannelHandlerContext ctx, byte[] bytes) {
        Router.Route r = route;
        route = null;
        Router.Request req = request;
        CompletableFuture<Reply> reply;
        try {
            reply = r.handler().apply(bytes);
        } catch (HttpError e) {
            reply = CompletableFuture.completedFuture(e.reply());
        } catch (RuntimeException e) {
            reply = CompletableFuture.completedFuture(internal(req, e));
        }
        Answer owed = owe();
        if (reply.isDone() && !reply.isCompletedExceptionally()) {
            owed.result = reply.join();
            writeReady(ctx);
            return;
        }
        // The callback handles every outcome itself (a failed reply is answered 500): its own future adds nothing.
        CompletableFuture<Reply> unusedAnswered = reply.whenComplete((answer, failure) -> {
            owed.result = failure == null ? answer : failure;
            scheduleWrite(ctx, req);
        });
    }

    /** Owes an answer to the current request, after every answer owed before it. */
    private Answer owe() {
        boolean closeAfter = !keepAlive && !discarding;
        Answer a = new Answer(request, keepAlive, http10, closeAfter);
        answers.add(a);
        if (closeAfter) {
            ending = true; // nothing after a request that closes the connection is handled
        }
        return a;
    }

    /** Answers the current request now, in its turn. */
    private void answer(ChannelHandlerContext ctx, Reply reply) {
        owe().result = reply;
        writeReady(ctx);
    }

    /**
     * From the thread that completed a reply: writes the ready answers on the event loop. One task at a time per
     * connection, so replies completed together (one commit of many writes) go out with one flush.
     */
    private void scheduleWrite(ChannelHandlerContext ctx, Router.Request req) {
        if (!writeScheduled.compareAndSet(false, true)) {
            return; // a queued task has not started yet and will see this answer
        }
        try {
            ctx.executor().execute(() -> {
                writeScheduled.set(false);
                writeReady(ctx);
                resume(ctx);
            });
        } catch (RuntimeException stopped) {
            // The server was closed (its event loop stopped) while the reply was pending: the client sees its
            // connection end, an unknown outcome.
            log.debug("reply to {} dropped: the server is closed", req);
        }
    }

    /** 500 with a request id and no exception text (logged with that id). */
    private static Reply internal(Router.Request request, Throwable e) {
        String id = HttpError.requestId();
        log.error(
                "request {} ({}) failed", id, request == null ? "?" : request.method() + " " + request.rawTarget(), e);
        return Reply.json(
                500,
                json.createObjectNode()
                        .put("error", "internal")
                        .put("requestId", id)
                        .put("detail", "internal error: see the node's log for request " + id));
    }

    /** Handles the requests that arrived while paused, then reads again. */
    private void resume(ChannelHandlerContext ctx) {
        if (resuming) {
            return; // the loop below goes on with the next message
        }
        resuming = true;
        try {
            Object msg;
            while (!closed && !ending && !paused(ctx) && (msg = backlog.poll()) != null) {
                process(ctx, msg, true);
            }
        } finally {
            resuming = false;
        }
        if (!closed && !ending && !paused(ctx) && backlog.isEmpty()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /**
     * Writes the answers at the head of the queue that are ready, in request order, and flushes them at once (or at
     * the end of the current read); closes after an answer that ends the connection.
     */
    private void writeReady(ChannelHandlerContext ctx) {
        boolean wrote = false;
        Answer a;
        while (!closed && (a = answers.peek()) != null && a.result != null) {
            answers.poll();
            Reply reply = a.result instanceof Reply r ? r : internal(a.request, (Throwable) a.result);
            FullHttpResponse response = response(a, reply);
            if (a.closeAfter) {
                closed = true;
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            // Void promise: a write that fails fires exceptionCaught, which closes the connection.
            ChannelFuture unusedWrite = ctx.write(response, ctx.voidPromise());
            wrote = true;
        }
        long held = 0;
        for (Answer waiting : answers) {
            if (waiting.result instanceof Reply r) {
                held += r.body().length;
            }
        }
        heldBytes = held;
        if (wrote) {
            if (reading) {
                flushPending = true;
            } else {
                ctx.flush();
            }
        }
        if (!closed && closeWhenAnswered && answers.isEmpty()) {
            closeAfterFlush(ctx);
        }
    }

    private static FullHttpResponse response(Answer a, Reply reply) {
        FullHttpResponse response = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
        for (Map.Entry<String, String> h : reply.headers().entrySet()) {
            response.headers().set(h.getKey(), h.getValue());
        }
        if (!a.keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (a.http10) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        return response;
    }

    private void close(ChannelHandlerContext ctx) {
        closed = true;
        ChannelFuture unusedClose = ctx.close(); // not awaited: channelInactive follows once it is closed
    }

    /** Handles nothing more and closes once every answer owed has been written and has reached the socket. */
    private void closeWhenAnswered(ChannelHandlerContext ctx) {
        ending = true;
        closeWhenAnswered = true;
        writeReady(ctx);
    }

    /** Closes once every answer already written has reached the socket. */
    private void closeAfterFlush(ChannelHandlerContext ctx) {
        closed = true;
        flushPending = false;
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
        answers.clear();
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
