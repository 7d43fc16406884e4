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

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.demo.kv.KvCommand;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Property-based fuzzing of the HTTP API's request handling (Netty's codec and {@link HttpConnection}, the limits
 * the node uses) and of the key-value command decoding: any bytes get an HTTP answer or a closed connection, never an
 * exception out of the pipeline; a command payload decodes or is refused with {@link IllegalArgumentException}.
 */
class HttpFuzzTest {
    /** Answers {@code /kv/...} with 200 after reading the body, anything else with 404. */
    private static final Router ROUTER = req -> {
        if (req.rawPath().startsWith("/kv/")) {
            return new Router.Route(
                    1024,
                    "value_too_large",
                    body -> CompletableFuture.completedFuture(Reply.text(200, "text/plain", "ok " + body.length)));
        }
        throw new HttpError(404, "not_found", "no route");
    };

    private static String serve(byte[] input) {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(8192, 16384, 65536), new HttpConnection(ROUTER));
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(input));
            ch.runPendingTasks();
            ch.checkException();
            StringBuilder out = new StringBuilder();
            ByteBuf b;
            while ((b = ch.readOutbound()) != null) {
                out.append(b.toString(StandardCharsets.ISO_8859_1));
                b.release();
            }
            return out.toString();
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Property
    void arbitraryBytesGetAnHttpAnswerOrNothingNeverAnException(@ForAll @Size(max = 400) byte[] bytes) {
        String out = serve(bytes);
        assertTrue(out.isEmpty() || out.startsWith("HTTP/1."), out);
    }

    @Provide
    Arbitrary<byte[]> requestLike() {
        Arbitrary<String> method = Arbitraries.of("GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "G\u0000T", "");
        Arbitrary<String> path =
                Arbitraries.of("/kv/a", "/kv/%zz", "/kv/" + "k".repeat(300), "/", "*", "/kv/a?x=%", "");
        Arbitrary<String> header = Arbitraries.of(
                "Content-Length: 5",
                "Content-Length: -1",
                "Content-Length: 99999999999999999999",
                "Content-Length: 5\r\nContent-Length: 6",
                "Transfer-Encoding: chunked",
                "Expect: 100-continue",
                "Host: 127.0.0.1",
                "Connection: close",
                ": empty",
                "X: " + "v".repeat(200));
        Arbitrary<String> body =
                Arbitraries.of("hello", "", "0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", "zz\r\n", "x".repeat(2000));
        return net.jqwik.api.Combinators.combine(
                        method,
                        path,
                        Arbitraries.of("HTTP/1.1", "HTTP/1.0", "HTTP/9.9", ""),
                        header.list().ofMaxSize(4),
                        body)
                .as((m, p, v, hs, b) -> (m + " " + p + " " + v + "\r\n" + String.join("\r\n", hs) + "\r\n\r\n" + b)
                        .getBytes(StandardCharsets.ISO_8859_1));
    }

    @Property
    void requestShapedBytesGetAnHttpAnswerOrNothingNeverAnException(@ForAll("requestLike") byte[] request) {
        String out = serve(request);
        assertTrue(out.isEmpty() || out.startsWith("HTTP/1."), out);
    }

    @Property
    void aCommandPayloadOfArbitraryBytesDecodesOrIsRefused(@ForAll @Size(max = 100) byte[] payload) {
        try {
            assertNotNull(KvCommand.decode(payload));
        } catch (IllegalArgumentException refused) {
            assertNotNull(refused.getMessage(), "a refusal says why");
        }
    }
}
