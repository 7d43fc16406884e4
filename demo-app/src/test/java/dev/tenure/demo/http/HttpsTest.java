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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import dev.tenure.testkit.tls.TestCertificates;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP API over TLS: a client that trusts the node's CA is served, plain HTTP to the HTTPS port gets no answer;
 * with client certificates, a write needs a certificate of the configured CA (401 without one) and reads stay open;
 * the demo's client speaks HTTPS with {@code --cacert}, {@code --cert} and {@code --key}.
 */
class HttpsTest {
    private static final TestCertificates.Authority CA = TestCertificates.authority("http-test-ca");
    private static final TestCertificates.Authority FOREIGN = TestCertificates.authority("foreign-ca");
    private static final ObjectMapper json = new ObjectMapper();

    /** Answers every /kv/ request as a committed write or a read would. */
    private static final Router ROUTER = req -> {
        if (!req.rawPath().startsWith("/kv/")) {
            throw new HttpError(404, "not_found", "no route");
        }
        return new Router.Route(
                1024,
                "value_too_large",
                body -> CompletableFuture.completedFuture(
                        req.method().equals("GET")
                                ? Reply.text(200, "application/octet-stream", "value")
                                : Reply.json(
                                        200,
                                        json.createObjectNode().put("epoch", 1).put("offset", 2))));
    };

    @TempDir
    Path dir;

    private KvHttpApi api;

    @AfterEach
    void stop() {
        if (api != null) {
            api.close();
        }
    }

    private String start(HttpOptions options) throws IOException {
        api = KvHttpApi.bind(new HttpGuard(ROUTER, options), new InetSocketAddress("127.0.0.1", 0), options);
        api.start();
        return "https://127.0.0.1:" + api.address().getPort();
    }

    private TestCertificates.Files issue(TestCertificates.Authority ca, String name) {
        return ca.issue(name).dnsNames("localhost").ip("127.0.0.1").build().writeTo(dir.resolve(name));
    }

    private static SSLContext client(TestCertificates.Files trust, TestCertificates.Files own) throws IOException {
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .trustManager(trust.ca().toFile());
        if (own != null) {
            b.keyManager(own.chain().toFile(), own.key().toFile());
        }
        return ((JdkSslContext) b.build()).context();
    }

    private static HttpResponse<String> send(SSLContext ctx, String method, String url) throws Exception {
        HttpClient http = HttpClient.newBuilder()
                .sslContext(ctx)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10))
                        .method(method, HttpRequest.BodyPublishers.ofString("v"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aClientTrustingTheNodesCaIsServedOverTlsAndPlainHttpGetsNoAnswer() throws Exception {
        TestCertificates.Files server = issue(CA, "node");
        String base = start(HttpOptions.DEFAULT.withTls(
                Optional.of(HttpTls.fromPem(server.chain(), server.key(), Optional.empty()))));
        HttpResponse<String> put = send(client(server, null), "PUT", base + "/kv/k");
        assertEquals(200, put.statusCode(), put.body());
        assertEquals("TLSv1.3", put.sslSession().orElseThrow().getProtocol());

        HttpClient plain =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String plainUrl = base.replace("https://", "http://") + "/kv/k";
        assertThrows(
                IOException.class,
                () -> plain.send(
                        HttpRequest.newBuilder(URI.create(plainUrl))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString()),
                "a plain request to the HTTPS port is not answered");
    }

    @Test
    void withClientCertificatesAWriteNeedsOneOfTheConfiguredCaAndReadsStayOpen() throws Exception {
        TestCertificates.Files server = issue(CA, "node");
        TestCertificates.Files operator = issue(CA, "operator");
        String base = start(HttpOptions.DEFAULT.withTls(
                Optional.of(HttpTls.fromPem(server.chain(), server.key(), Optional.of(server.ca())))));

        HttpResponse<String> anonymousWrite = send(client(server, null), "PUT", base + "/kv/k");
        assertEquals(401, anonymousWrite.statusCode(), anonymousWrite.body());
        assertTrue(anonymousWrite.body().contains("client certificate"), anonymousWrite.body());
        assertEquals(200, send(client(server, null), "GET", base + "/kv/k").statusCode(), "reads stay open");
        assertEquals(200, send(client(server, operator), "PUT", base + "/kv/k").statusCode());

        // A certificate of another CA is never taken as verified: the handshake fails, or the write is refused.
        TestCertificates.Files stranger = issue(FOREIGN, "stranger");
        try {
            HttpResponse<String> foreign = send(client(server, stranger), "PUT", base + "/kv/k");
            assertEquals(401, foreign.statusCode(), foreign.body());
        } catch (IOException handshakeFailed) {
            // refused at the handshake
        }
    }

    @Test
    void theDemoClientWritesOverHttpsWithItsCertificate() throws Exception {
        TestCertificates.Files server = issue(CA, "node");
        TestCertificates.Files operator = issue(CA, "operator");
        String base = start(HttpOptions.DEFAULT.withTls(
                Optional.of(HttpTls.fromPem(server.chain(), server.key(), Optional.of(server.ca())))));
        KvClient client = new KvClient(URI.create(base), Duration.ofSeconds(10)).withTls(client(server, operator));
        Outcome put = client.put("k", "v".getBytes(StandardCharsets.UTF_8));
        assertEquals(Outcome.Kind.OK, put.kind(), put.toString());
    }

    @Test
    void missingOrMismatchedTlsFilesAreRefusedNamingThem() {
        TestCertificates.Files server = issue(CA, "node");
        TestCertificates.Files other = issue(CA, "other");
        IllegalArgumentException missing = assertThrows(
                IllegalArgumentException.class,
                () -> HttpTls.fromPem(dir.resolve("none.pem"), server.key(), Optional.empty()));
        assertTrue(missing.getMessage().contains("none.pem"), missing.getMessage());
        IllegalArgumentException mismatch = assertThrows(
                IllegalArgumentException.class, () -> HttpTls.fromPem(server.chain(), other.key(), Optional.empty()));
        assertTrue(mismatch.getMessage().contains(server.chain().toString()), mismatch.getMessage());
    }
}
