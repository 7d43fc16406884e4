package dev.tenure.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.testkit.ChildJvms;
import dev.tenure.testkit.LoopbackPorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * The demo application's key-value service as it ships: {@code java -jar demo-app.jar node ...} processes, one per
 * replica, on 127.0.0.1 (load goes through {@link AsyncHttpLoad}). Not thread-safe;
 * {@link #close()} stops every process it started.
 */
final class DemoNodes implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, ChildJvm> processes = new LinkedHashMap<>();
    private final Map<String, URI> urls = new LinkedHashMap<>();
    final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    private DemoNodes() {}

    static DemoNodes start(
            Path demoJar, List<String> ids, String zkConnect, Path root, int sessionTimeoutMs, String heap)
            throws Exception {
        DemoNodes d = new DemoNodes();
        try {
            for (String id : ids) {
                int httpPort = LoopbackPorts.freePort();
                int replPort = LoopbackPorts.freePort();
                List<String> cmd = new ArrayList<>(List.of(ChildJvms.javaExecutable(), "-Xmx" + heap, "-Xms" + heap));
                // The same extra JVM options as the replica processes (for profiling), "{start}" the node's id.
                for (String x :
                        System.getProperty("tenure.bench.replicaJvmOptions", "").split("\\s+")) {
                    if (!x.isBlank()) {
                        cmd.add(x.replace("{start}", id));
                    }
                }
                cmd.addAll(List.of(
                        "-jar",
                        demoJar.toString(),
                        "node",
                        "--id",
                        id,
                        "--zk",
                        zkConnect,
                        "--data-dir",
                        root.resolve(id).toString(),
                        "--http",
                        "127.0.0.1:" + httpPort,
                        "--repl",
                        "127.0.0.1:" + replPort,
                        "--replicas",
                        String.join(",", ids),
                        "--cluster",
                        "kvbench",
                        "--session-timeout-ms",
                        Integer.toString(sessionTimeoutMs)));
                d.processes.put(
                        id,
                        ChildJvm.start(
                                "demo-" + id,
                                cmd,
                                root.resolve("logs").resolve("demo-" + id + ".log"),
                                "replica " + id + " serving at "));
                d.urls.put(id, URI.create("http://127.0.0.1:" + httpPort));
            }
            for (ChildJvm p : d.processes.values()) {
                p.awaitReady(Duration.ofSeconds(60));
            }
            return d;
        } catch (Exception | Error e) {
            d.close();
            throw e;
        }
    }

    /** The id of the node that leads and has committed its epoch start. */
    String awaitLeader(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (Map.Entry<String, URI> e : urls.entrySet()) {
                try {
                    HttpResponse<byte[]> r = http.send(
                            HttpRequest.newBuilder(e.getValue().resolve("/status"))
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    JsonNode s = JSON.readTree(r.body());
                    if (e.getKey().equals(s.path("leader").asText())
                            && s.path("commitOffset").asLong() > 0
                            && s.path("role").asText().equalsIgnoreCase("leader")) {
                        return e.getKey();
                    }
                } catch (IOException ex) {
                    // not answering yet
                }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("no demo-app leader within " + timeout);
            }
            Thread.sleep(20); // polling other processes' status
        }
    }

    URI url(String id) {
        return urls.get(id);
    }

    List<String> ids() {
        return List.copyOf(urls.keySet());
    }

    List<Long> pids() {
        return processes.values().stream().map(ChildJvm::pid).toList();
    }

    @Override
    public void close() {
        ChildJvm.closeAll(processes.values());
    }
}
