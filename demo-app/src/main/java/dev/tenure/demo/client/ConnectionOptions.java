package dev.tenure.demo.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The options every client command takes: {@code --url} and {@code --timeout-ms}. */
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
