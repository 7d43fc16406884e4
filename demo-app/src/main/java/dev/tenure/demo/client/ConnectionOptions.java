package dev.tenure.demo.client;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The options every client command takes: {@code --url}, {@code --timeout-ms} and {@code --token-file}. */
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
