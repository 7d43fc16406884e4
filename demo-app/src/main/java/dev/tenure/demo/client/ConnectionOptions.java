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
package dev.tenure.demo.client;

import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The options every client command takes: {@code --url}, {@code --timeout-ms}, {@code --token-file}, and for HTTPS
 * {@code --cacert}, {@code --cert} and {@code --key}.
 */
final class ConnectionOptions {
    @Option(
            names = "--url",
            required = true,
            paramLabel = "URL",
            description = "Base URL of any replica, e.g. http://127.0.0.1:8081 (writes are redirected to the leader).")
    String url;

    @Option(
            names = "--timeout-ms",
            paramLabel = "MS",
            defaultValue = "5000",
            description = "Timeout of each HTTP request, in milliseconds (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(
            names = "--token-file",
            paramLabel = "PATH",
            description = "File holding the bearer token of nodes started with --http-token-file; sent with writes"
                    + " and admin requests (default: the TENURE_HTTP_TOKEN environment variable, if set).")
    Path tokenFile;

    @Option(
            names = "--cacert",
            paramLabel = "PEM",
            description = "CA certificates (PEM) to trust for https:// URLs, e.g. the CA of nodes started with"
                    + " --http-tls-cert (default: the JDK's trusted CAs).")
    Path caCert;

    @Option(
            names = "--cert",
            paramLabel = "PEM",
            description = "Client certificate chain (PEM) for nodes started with --http-tls-client-ca; needs --key.")
    Path cert;

    @Option(names = "--key", paramLabel = "PEM", description = "The client certificate's PKCS#8 private key (PEM).")
    Path key;

    /** The TLS settings of {@code --cacert}, {@code --cert} and {@code --key}, or null when none is given. */
    SSLContext sslContext(CommandSpec spec) {
        if (caCert == null && cert == null && key == null) {
            return null;
        }
        if ((cert == null) != (key == null)) {
            throw new ParameterException(spec.commandLine(), "--cert and --key go together");
        }
        try {
            SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
            if (caCert != null) {
                b.trustManager(caCert.toFile());
            }
            if (cert != null) {
                b.keyManager(cert.toFile(), key.toFile());
            }
            return ((JdkSslContext) b.build()).context();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ParameterException(
                    spec.commandLine(),
                    "cannot use the TLS files given (--cacert, --cert, --key): " + e.getMessage(),
                    e);
        }
    }

    /** The bearer token from {@code --token-file} or {@code TENURE_HTTP_TOKEN}, or null. */
    String token(CommandSpec spec) {
        if (tokenFile != null) {
            try {
                String t = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
                if (t.isEmpty()) {
                    throw new ParameterException(spec.commandLine(), "--token-file " + tokenFile + " is empty");
                }
                return t;
            } catch (IOException e) {
                throw new ParameterException(
                        spec.commandLine(), "cannot read --token-file " + tokenFile + ": " + e.getMessage(), e);
            }
        }
        String env = System.getenv("TENURE_HTTP_TOKEN");
        return env == null || env.isBlank() ? null : env.trim();
    }

    URI uri(CommandSpec spec) {
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            throw new ParameterException(spec.commandLine(), "Invalid --url '" + url + "': " + e.getMessage(), e);
        }
    }

    Duration timeout(CommandSpec spec) {
        if (timeoutMs <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout-ms must be positive, got " + timeoutMs);
        }
        return Duration.ofMillis(timeoutMs);
    }
}
