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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The HTTP transport of the key-value API ({@link HttpConnection}, {@link KvHttpApi}) with a scripted router:
 * order, body limits, early answers, malformed input and lifecycle, independent of any replica.
 */
class HttpConnectionTest {
    private static final ObjectMapper json = new ObjectMapper();

    /** Routes: /slow/N (pending until completed by the test), /echo (body ≤ 10 bytes), /refuse, /boom, /fail. */
    static final class ScriptedRouter implements Router {
        final Map<String, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
        final List<String> handled = new CopyOnWriteArrayList<>();

        @Override
        public Route route(Request r) {
            String path = r.rawPath();
            if (path.startsWith("/big/")) {
                return Route.now(body -> {
                    handled.add(path);
                    byte[] big = new byte[32 * 1024];
                    byte[] n = path.substring("/big/".length()).getBytes(StandardCharsets.US_ASCII);
                    System.arraycopy(n, 0, big, 0, n.length);
                    return Reply.of(200, "application/octet-stream", big);
                });
            }
            if (path.startsWith("/slow/")) {
                return new Route(100, "too_big", body -> {
                    handled.add(path);
                    CompletableFuture<Reply> f = new CompletableFuture<>();
                    pending.put(path, f);
                    return f;
                });
            }
            return switch (path) {
                case "/echo" ->
                    new Route(10, "too_big", body -> {
                        handled.add(path + ":" + new String(body, StandardCharsets.UTF_8));
                        return CompletableFuture.completedFuture(Reply.of(200, "text/plain", body));
                    });
                case "/refuse" -> throw new HttpError(405, "method_not_allowed", "no").allow("GET");
                case "/boom" ->
                    Route.now(body -> {
                        throw new IllegalStateException("boom");
                    });
                case "/fail" -> new Route(-1, null, body -> CompletableFuture.failedFuture(new IOException("late")));
                default -> throw new HttpError(404, "no_such_path", path);
            };
        }

        void complete(String path, String text) {
            pending.remove(path).complete(Reply.text(200, "text/plain", text));
        }
    }

    record Response(int status, Map<String, String> headers, String body) {
        JsonNode json() throws IOException {
            return HttpConnectionTest.json.readTree(body);
        }
    }

    private final ScriptedRouter router = new ScriptedRouter();
    private final EmbeddedChannel channel =
            new EmbeddedChannel(new HttpServerCodec(8192, 16384, 65536), new HttpConnection(router));

    private void send(String raw) {
        channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        channel.runPendingTasks();
    }

    /** Completes a pending reply from this (foreign) thread and lets the channel's event loop write it. */
    private void complete(String path, String text) {
        router.complete(path, text);
        channel.runPendingTasks();
    }

    private String output() {
        channel.runPendingTasks();
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = channel.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    /** Parses every complete response in {@code raw} (each with a Content-Length). */
    static List<Response> parse(String raw) {
        List<Response> responses = new ArrayList<>();
        int at = 0;
        while (at < raw.length()) {
            int end = raw.indexOf("\r\n\r\n", at);
            String[] lines = raw.substring(at, end).split("\r\n", -1);
            int status = Integer.parseInt(lines[0].split(" ", -1)[1]);
            Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(
                        lines[i].substring(0, colon).trim(),
                        lines[i].substring(colon + 1).trim());
            }
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            responses.add(new Response(status, headers, raw.substring(end + 4, end + 4 + length)));
            at = end + 4 + length;
        }
        return responses;
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    }

    private static String post(String path, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void pipelinedRequestsAreHandledAtOnceAndAnsweredInRequestOrder() throws Exception {
        send(get("/slow/1") + get("/slow/2") + post("/echo", "three"));
        assertEquals(
                List.of("/slow/1", "/slow/2", "/echo:three"), router.handled, "handled without waiting for replies");
        assertEquals("", output(), "the answer to /echo waits behind the pending ones");
        complete("/slow/1", "one");
        assertEquals(List.of("one"), bodies(output()));
        complete("/slow/2", "two");
        assertEquals(List.of("two", "three"), bodies(output()));
        assertTrue(channel.isOpen());
        assertTrue(channel.config().isAutoRead(), "reads again once nothing is pending");
    }

    @Test
    void pipelinedRequestsAreAnsweredInRequestOrderEvenWhenLaterOnesCompleteFirst() {
        send(get("/slow/1") + get("/slow/2") + get("/slow/3"));
        complete("/slow/3", "three");
        complete("/slow/2", "two");
        assertEquals("", output(), "nothing is written before the first request's answer");
        complete("/slow/1", "one");
        assertEquals(List.of("one", "two", "three"), bodies(output()));
    }

    @Test
    void aFailedPipelinedRequestGetsItsOwnAnswerAndTheOthersAreUnaffected() throws Exception {
        send(get("/slow/1") + get("/fail") + get("/nowhere") + get("/boom") + get("/slow/2") + post("/echo", "end"));
        complete("/slow/2", "two");
        assertEquals("", output(), "every answer waits behind the first, refusals included");
        complete("/slow/1", "one");
        List<Response> replies = parse(output());
        assertEquals(
                List.of(200, 500, 404, 500, 200, 200),
                replies.stream().map(Response::status).toList());
        assertEquals("one", replies.get(0).body());
        assertEquals("internal", replies.get(1).json().get("error").asText());
        assertEquals("two", replies.get(4).body());
        assertEquals("end", replies.get(5).body());
        assertTrue(channel.isOpen());
    }

    @Test
    void atMostTheLimitOfPipelinedRequestsIsHandledAndTheRestWaitUnreadUntilAnswersAreWritten() {
        EmbeddedChannel bounded =
                new EmbeddedChannel(new HttpServerCodec(8192, 16384, 65536), new HttpConnection(router, null, null, 3));
        StringBuilder five = new StringBuilder();
        for (int i = 1; i <= 5; i++) {
            five.append(get("/slow/" + i));
        }
        bounded.writeInbound(Unpooled.copiedBuffer(five.toString(), StandardCharsets.ISO_8859_1));
        bounded.runPendingTasks();
        assertEquals(List.of("/slow/1", "/slow/2", "/slow/3"), router.handled, "three answers owed: the rest wait");
        assertFalse(bounded.config().isAutoRead(), "the connection stops reading: the client's next bytes wait");
        router.complete("/slow/2", "two");
        bounded.runPendingTasks();
        assertEquals(3, router.handled.size(), "an answer ready behind a pending one frees no place");
        router.complete("/slow/1", "one");
        bounded.runPendingTasks();
        assertEquals(List.of("/slow/1", "/slow/2", "/slow/3", "/slow/4", "/slow/5"), router.handled);
        assertFalse(bounded.config().isAutoRead(), "still three owed (3, 4, 5)");
        router.complete("/slow/3", "three");
        router.complete("/slow/4", "four");
        router.complete("/slow/5", "five");
        bounded.runPendingTasks();
        assertTrue(bounded.config().isAutoRead(), "reads again once below the limit with nothing waiting");
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = bounded.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        assertEquals(List.of("one", "two", "three", "four", "five"), bodies(out.toString()));
        assertFalse(bounded.finishAndReleaseAll());
    }

    @Test
    void readyAnswersHeldBehindAPendingOneStopTheConnectionAboveTheByteBound() {
        StringBuilder requests = new StringBuilder(get("/slow/1"));
        int big = 64; // 32 KiB answers: 2 MiB in all, twice the bound
        for (int i = 0; i < big; i++) {
            requests.append(get("/big/" + i));
        }
        send(requests.toString());
        int handled = router.handled.size();
        long bound = HttpConnection.MAX_HELD_BYTES / (32 * 1024);
        assertTrue(
                handled > 2 && handled <= bound + 2,
                "handled " + handled + " of " + (big + 1) + ": ready answers past the bound wait");
        assertFalse(channel.config().isAutoRead());
        complete("/slow/1", "one");
        List<Response> replies = parse(output());
        assertEquals(big + 1, replies.size(), "every request is handled and answered once the first is");
        assertEquals("one", replies.get(0).body());
        for (int i = 0; i < big; i++) {
            String n = Integer.toString(i);
            assertEquals(n + "\0", replies.get(i + 1).body().substring(0, n.length() + 1), "answer order");
        }
        assertTrue(channel.config().isAutoRead());
    }

    @Test
    void answersThatBecomeReadyTogetherAreWrittenWithOneFlush() {
        java.util.concurrent.atomic.AtomicInteger flushes = new java.util.concurrent.atomic.AtomicInteger();
        channel.pipeline().addFirst(new io.netty.channel.ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(io.netty.channel.ChannelHandlerContext ctx) {
                flushes.incrementAndGet();
                ctx.flush();
            }
        });
        send(get("/slow/1") + get("/slow/2") + get("/slow/3"));
        int before = flushes.get();
        router.complete("/slow/2", "two"); // completed on this thread, as a commit callback would on its own
        router.complete("/slow/3", "three");
        router.complete("/slow/1", "one");
        channel.runPendingTasks();
        assertEquals(1, flushes.get() - before, "three answers, one flush");
        assertEquals(List.of("one", "two", "three"), bodies(output()));

        int beforeRead = flushes.get();
        send(post("/echo", "a") + post("/echo", "b") + post("/echo", "c"));
        assertEquals(1, flushes.get() - beforeRead, "answers written while reading: flushed once the read ends");
        assertEquals(List.of("a", "b", "c"), bodies(output()));
    }

    @Test
    void aRequestThatClosesTheConnectionIsAnsweredInItsTurnAndNothingAfterItIsHandled() {
        send(get("/slow/1") + "GET /slow/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get("/slow/3"));
        assertEquals(List.of("/slow/1", "/slow/2"), router.handled, "nothing after Connection: close is handled");
        complete("/slow/2", "two");
        assertTrue(channel.isOpen(), "the earlier answer is still owed");
        complete("/slow/1", "one");
        List<Response> replies = parse(output());
        assertEquals(List.of("one", "two"), replies.stream().map(Response::body).toList());
        assertEquals("close", replies.get(1).headers().get("connection"));
        assertFalse(channel.isOpen());
    }

    @Test
    void aMalformedRequestAfterPendingOnesIsAnswered400InItsTurnThenTheConnectionCloses() throws Exception {
        send(get("/slow/1") + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n");
        assertEquals("", output());
        assertTrue(channel.isOpen(), "the pending request is still answered");
        complete("/slow/1", "one");
        List<Response> replies = parse(output());
        assertEquals(List.of(200, 400), replies.stream().map(Response::status).toList());
        assertFalse(replies.get(1).json().get("applied").asBoolean(true));
        assertFalse(channel.isOpen());
    }

    private static List<String> bodies(String raw) {
        return parse(raw).stream().map(Response::body).toList();
    }

    @Test
    void aContentLengthAboveTheLimitIsRefusedBeforeTheBodyIsHandledAndTheConnectionStaysUsable() throws Exception {
        send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
        Response refused = parse(output()).get(0);
        assertEquals(413, refused.status(), "answered before the body arrives");
        assertEquals("too_big", refused.json().get("error").asText());
        assertFalse(refused.json().get("applied").asBoolean(true));
        send("0123456789A" + post("/echo", "next"));
        List<Response> after = parse(output());
        assertEquals(1, after.size());
        assertEquals("next", after.get(0).body(), "the refused body was discarded, not taken for a request");
        assertEquals(List.of("/echo:next"), router.handled);
    }

    @Test
    void aChunkedBodyThatGrowsPastTheLimitIsRefusedAndNeverHandled() throws Exception {
        send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + "6\r\n012345\r\n"
                + "6\r\n6789AB\r\n" + "0\r\n\r\n" + post("/echo", "ok"));
        List<Response> replies = parse(output());
        assertEquals(List.of(413, 200), replies.stream().map(Response::status).toList());
        assertEquals(List.of("/echo:ok"), router.handled);
    }

    @Test
    void aChunkedBodyWithinTheLimitIsHandledWhole() {
        send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + "3\r\nabc\r\n" + "2\r\nde\r\n"
                + "0\r\n\r\n");
        assertEquals("abcde", parse(output()).get(0).body());
    }

    @Test
    void expectContinueGets100WithinTheLimitAndARefusalThenCloseAboveIt() throws Exception {
        send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        assertTrue(output().startsWith("HTTP/1.1 100 Continue\r\n"));
        send("hi");
        assertEquals("hi", parse(output()).get(0).body());

        send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 50\r\n\r\n");
        Response refused = parse(output()).get(0);
        assertEquals(413, refused.status());
        assertEquals("close", refused.headers().get("connection"));
        assertFalse(channel.isOpen(), "the client may or may not send the body: the connection is closed");
    }

    @Test
    void aRouteRefusedByItsLineIsAnsweredAtOnceAndItsBodyDiscarded() throws Exception {
        send("PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n");
        Response refused = parse(output()).get(0);
        assertEquals(405, refused.status());
        assertEquals("GET", refused.headers().get("allow"));
        send("body" + get("/nowhere"));
        Response missing = parse(output()).get(0);
        assertEquals(404, missing.status());
        assertEquals("no_such_path", missing.json().get("error").asText());
    }

    @Test
    void malformedRequestsGet400AndTheConnectionIsClosed() throws Exception {
        send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n");
        Response bad = parse(output()).get(0);
        assertEquals(400, bad.status());
        assertFalse(bad.json().get("applied").asBoolean(true));
        assertFalse(channel.isOpen());
        assertTrue(router.handled.isEmpty());
    }

    @Test
    void aRequestLineLongerThanTheLimitGets400AndTheConnectionIsClosed() throws Exception {
        send(get("/" + "k".repeat(9000)));
        assertEquals(400, parse(output()).get(0).status());
        assertFalse(channel.isOpen());
    }

    @Test
    void aHandlerThatThrowsOrFailsLaterGets500AndTheConnectionGoesOn() throws Exception {
        send(get("/boom") + get("/fail") + post("/echo", "after"));
        List<Response> replies = parse(output());
        assertEquals(
                List.of(500, 500, 200), replies.stream().map(Response::status).toList());
        assertEquals("internal", replies.get(0).json().get("error").asText());
        assertFalse(replies.get(0).json().has("applied"), "a failure of unknown outcome never says applied:false");
    }

    @Test
    void a500BodyCarriesARequestIdAndNoExceptionText() throws Exception {
        send(get("/boom") + get("/fail"));
        List<Response> replies = parse(output());
        for (Response r : replies) {
            assertEquals(500, r.status());
            String body = r.json().toString();
            for (String leak : List.of("boom", "late", "Exception", "dev.tenure")) {
                assertFalse(body.contains(leak), body);
            }
            assertTrue(
                    r.json()
                            .get("detail")
                            .asText()
                            .contains(r.json().get("requestId").asText()),
                    body);
        }
    }

    @Test
    void connectionCloseIsHonouredAndHttp10KeepAliveIsAnswered() {
        send("GET /boom HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        Response r = parse(output()).get(0);
        assertEquals("keep-alive", r.headers().get("connection"));
        assertTrue(channel.isOpen());
        send("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx");
        assertEquals("close", parse(output()).get(0).headers().get("connection"));
        assertFalse(channel.isOpen());
    }

    @Test
    void aReplyCompletedAfterTheClientLeftIsDropped() {
        send(get("/slow/1") + get("/slow/2"));
        channel.close().syncUninterruptibly();
        complete("/slow/2", "late");
        complete("/slow/1", "late");
        assertEquals("", output());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void requestsWaitingBehindTheLimitAreNotHandledOnceTheClientLeft() {
        EmbeddedChannel bounded =
                new EmbeddedChannel(new HttpServerCodec(8192, 16384, 65536), new HttpConnection(router, null, null, 1));
        bounded.writeInbound(Unpooled.copiedBuffer(get("/slow/1") + get("/slow/2"), StandardCharsets.ISO_8859_1));
        bounded.close().syncUninterruptibly();
        router.complete("/slow/1", "late");
        bounded.runPendingTasks();
        assertEquals(List.of("/slow/1"), router.handled, "the waiting request of a closed connection is not handled");
        assertFalse(bounded.finishAndReleaseAll());
    }

    @Test
    void aMalformedChunkWhileABodyIsDiscardedClosesTheConnectionAfterTheAnswer() {
        send("PUT /refuse HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        assertEquals(405, parse(output()).get(0).status());
        assertFalse(channel.isOpen(), "the codec drops everything after a bad chunk: nothing more could be answered");
    }

    @Test
    void aHeaderSectionLargerThanTheLimitGets400AndTheConnectionIsClosed() {
        send("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + "v".repeat(17_000) + "\r\n\r\n");
        assertEquals(400, parse(output()).get(0).status());
        assertFalse(channel.isOpen());
    }

    @Test
    void http10WithoutKeepAliveIsClosedAfterItsAnswer() {
        send("POST /echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nok");
        Response r = parse(output()).get(0);
        assertEquals("ok", r.body());
        assertEquals("close", r.headers().get("connection"));
        assertFalse(channel.isOpen());
    }

    @Test
    void headIsAnsweredWithoutABodyAndTheNextRequestStillLinesUp() {
        send("HEAD /refuse HTTP/1.1\r\nHost: x\r\n\r\n" + post("/echo", "next"));
        String out = output();
        int split = out.indexOf("HTTP/1.1 200");
        assertTrue(out.startsWith("HTTP/1.1 405"), out);
        assertTrue(out.substring(0, split).endsWith("\r\n\r\n"), "no body after the HEAD answer's headers: " + out);
        assertEquals("next", parse(out.substring(split)).get(0).body());
    }

    @Test
    void expectContinueDoesNotShiftTheAnswersOfPipelinedRequests() {
        // Read at once: 100 Continue, then the answers; the HEAD answer still has no body.
        send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        send("hi" + "HEAD /refuse HTTP/1.1\r\nHost: x\r\n\r\n" + post("/echo", "end"));
        String out = output();
        assertTrue(out.startsWith("HTTP/1.1 100 Continue\r\n\r\n"), out);
        assertPipelinedAnswers(out.substring("HTTP/1.1 100 Continue\r\n\r\n".length()));

        // Queued behind a pending reply: no 100 Continue (the client did not wait for one), same answers.
        send(get("/slow/1") + "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"
                + "HEAD /refuse HTTP/1.1\r\nHost: x\r\n\r\n" + post("/echo", "end"));
        complete("/slow/1", "first");
        String queued = output();
        assertFalse(queued.contains(" 100 "), queued);
        Response first = parse(queued.substring(0, queued.indexOf("first") + "first".length()))
                .get(0);
        assertEquals("first", first.body());
        assertPipelinedAnswers(queued.substring(queued.indexOf("first") + "first".length()));
    }

    /** "hi" (200), then a HEAD 405 without a body, then "end" (200). */
    private static void assertPipelinedAnswers(String out) {
        int head = out.indexOf("HTTP/1.1 405");
        int end = out.indexOf("HTTP/1.1 200", head);
        assertEquals("hi", parse(out.substring(0, head)).get(0).body(), out);
        assertTrue(out.substring(head, end).endsWith("\r\n\r\n"), "a HEAD answer has no body: " + out);
        assertEquals("end", parse(out.substring(end)).get(0).body(), out);
    }

    @Test
    void anIdleConnectionIsClosedUnlessItWaitsForAReply() {
        send("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nabc");
        channel.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertFalse(channel.isOpen(), "a client stopped in the middle of its body does not keep its buffer");

        EmbeddedChannel waiting =
                new EmbeddedChannel(new HttpServerCodec(8192, 16384, 65536), new HttpConnection(router));
        waiting.writeInbound(Unpooled.copiedBuffer(get("/slow/9"), StandardCharsets.ISO_8859_1));
        waiting.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertTrue(waiting.isOpen(), "a connection waiting for a commit is not idle");
        router.complete("/slow/9", "done");
        waiting.runPendingTasks();
        ByteBuf answer = waiting.readOutbound();
        assertTrue(answer.toString(StandardCharsets.ISO_8859_1).endsWith("done"));
        answer.release();
        waiting.finishAndReleaseAll();
    }

    @Test
    void aClientThatDoesNotReadStopsTheServerFromHandlingItsPipelinedRequests() throws Exception {
        int requests = 1000; // 32 KiB answers: 32 MB in all, far more than socket buffers hold
        try (KvHttpApi api = KvHttpApi.bind(router, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                Socket s = new Socket()) {
            api.start();
            s.setReceiveBufferSize(16 * 1024);
            s.connect(api.address(), 5_000);
            s.setSoTimeout(30_000);
            StringBuilder all = new StringBuilder();
            for (int i = 0; i < requests; i++) {
                all.append(get("/big/" + i));
            }
            byte[] bytes = all.toString().getBytes(StandardCharsets.ISO_8859_1);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    s.getOutputStream().write(bytes);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // Observe the server for a bounded window while nothing is read: it must stop well short of the end.
            long deadline = System.nanoTime() + 1_500_000_000L;
            while (System.nanoTime() < deadline && router.handled.size() < requests) {
                Thread.sleep(20); // observing a count for a bounded window, not waiting for an event
            }
            int handledWhileNotReading = router.handled.size();
            assertTrue(
                    handledWhileNotReading > 0 && handledWhileNotReading < requests / 2,
                    "handled " + handledWhileNotReading + " of " + requests + " while the client read nothing");
            InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 64 * 1024);
            for (int i = 0; i < requests; i++) {
                String status = readLine(in);
                assertTrue(status.startsWith("HTTP/1.1 200"), status);
                int length = -1;
                String line;
                while (!(line = readLine(in)).isEmpty()) {
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Integer.parseInt(
                                line.substring(line.indexOf(':') + 1).trim());
                    }
                }
                byte[] body = in.readNBytes(length);
                String expected = Integer.toString(i);
                assertEquals(
                        expected, new String(body, 0, expected.length(), StandardCharsets.US_ASCII), "answer order");
            }
            sent.get(10, TimeUnit.SECONDS);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("connection closed");
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    // ---- the server's lifecycle, on a real loopback socket ----

    @Test
    void theServerAcceptsNothingBeforeStartServesAfterItAndRefusesReuse() throws Exception {
        KvHttpApi api = KvHttpApi.bind(router, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        try {
            int port = api.address().getPort();
            api.start();
            assertThrows(IllegalStateException.class, api::start);
            assertEquals("a", exchange(port, post("/echo", "a")).body());
            api.close();
            api.close(); // idempotent
            assertThrows(ConnectException.class, () -> exchange(port, get("/status")));
            assertThrows(IllegalStateException.class, api::start);
        } finally {
            api.close();
        }
    }

    @Test
    void bindingATakenPortFailsWithTheAddress() throws Exception {
        try (KvHttpApi first = KvHttpApi.bind(router, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            IOException e = assertThrows(IOException.class, () -> KvHttpApi.bind(router, first.address()));
            assertTrue(e.getMessage().contains(String.valueOf(first.address().getPort())), e.getMessage());
        }
    }

    private static Response exchange(int port, String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream()
                    .write(request.replace("Host: x\r\n", "Host: x\r\nConnection: close\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            return parse(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1))
                    .get(0);
        }
    }
}
