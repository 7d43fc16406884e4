package dev.tenure.demo.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The packaged jar with no arguments: serves the embedded cluster, and SIGTERM stops it with exit 0. */
class EmbeddedDemoIT {
    @Test
    @Timeout(value = 120)
    void noArgumentsServesThreeReplicasAndSigtermExitsCleanly() throws Exception {
        String jar = System.getProperty("demo.jar");
        Process p = new ProcessBuilder(javaBin(), "-jar", jar)
                .redirectErrorStream(true)
                .start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            List<String> urls = new ArrayList<>();
            List<String> lines = new ArrayList<>();
            String line;
            while ((line = out.readLine()) != null) {
                lines.add(line);
                if (line.startsWith("replica ")) {
                    urls.add(line.substring(line.indexOf("http://")));
                }
                if (line.startsWith("Serving until")) {
                    break;
                }
            }
            assertEquals(3, urls.size(), "replica URLs printed: " + lines);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("status page: http://")), String.valueOf(lines));
            // Right after start a follower may not know the leader yet: it answers 503 "applied":false, which
            // the client retries; the write must end committed.
            Outcome put = new KvClient(URI.create(urls.get(1)), Duration.ofSeconds(20))
                    .put("demo", "works".getBytes(StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (put.kind() == Outcome.Kind.DEFINITELY_NOT_APPLIED && System.nanoTime() < deadline) {
                put = new KvClient(URI.create(urls.get(1)), Duration.ofSeconds(20))
                        .put("demo", "works".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals(Outcome.Kind.OK, put.kind(), put.toString());
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not stop after SIGTERM");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    static String javaBin() {
        return ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
    }
}
