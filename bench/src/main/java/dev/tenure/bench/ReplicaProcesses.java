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
package dev.tenure.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.base.Splitter;
import dev.tenure.harness.ChildJvm;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.StatusProbe;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Tenure replicas as separate processes ({@link ReplicaProcessMain}), each with its data directory under
 * {@code root}, driven over their control servers on 127.0.0.1. Not thread-safe; {@link #close()} stops every
 * process it started (SIGTERM, then SIGKILL).
 */
final class ReplicaProcesses implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /** One replica process. */
    static final class Node {
        final String id;
        final Path dataDir;
        ChildProcess process;
        URI control;

        Node(String id, Path dataDir) {
            this.id = id;
            this.dataDir = dataDir;
        }
    }

    private final List<String> ids;
    private final String zkConnect;
    private final Path root;
    private final int sessionTimeoutMs;
    private final boolean fsync;
    private final String heap;
    private final String clusterPath;
    private final String options;
    /** Concurrent: a section may add a replica while another thread looks for the leader. */
    private final Map<String, Node> nodes = new java.util.concurrent.ConcurrentHashMap<>();

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** Polls every 10 ms, as the failover figures are measured from it. */
    private final StatusProbe status = new StatusProbe(Duration.ofSeconds(2), Duration.ofMillis(10));

    private int starts;

    private ReplicaProcesses(
            List<String> ids,
            String zkConnect,
            Path root,
            int sessionTimeoutMs,
            boolean fsync,
            String heap,
            String clusterPath,
            String options) {
        this.ids = List.copyOf(ids);
        this.zkConnect = zkConnect;
        this.root = root;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.fsync = fsync;
        this.heap = heap;
        this.clusterPath = clusterPath;
        this.options = options;
    }

    static ReplicaProcesses start(
            List<String> ids,
            String zkConnect,
            Path root,
            int sessionTimeoutMs,
            boolean fsync,
            String heap,
            String clusterPath)
            throws Exception {
        return start(ids, zkConnect, root, sessionTimeoutMs, fsync, heap, clusterPath, "");
    }

    /**
     * Starts the replicas with {@code options} ({@link ReplicaProcessMain.Options}: the state machine, the snapshot
     * policy, the catch-up tail, the segment size) and waits until each serves its control server.
     */
    static ReplicaProcesses start(
            List<String> ids,
            String zkConnect,
            Path root,
            int sessionTimeoutMs,
            boolean fsync,
            String heap,
            String clusterPath,
            String options)
            throws Exception {
        ReplicaProcessMain.Options.parse(options); // refuses bad options here rather than in every child
        ReplicaProcesses r =
                new ReplicaProcesses(ids, zkConnect, root, sessionTimeoutMs, fsync, heap, clusterPath, options);
        try {
            for (String id : ids) {
                r.nodes.put(id, new Node(id, root.resolve(id)));
                r.launch(id);
            }
            for (String id : ids) {
                r.awaitReady(id);
            }
            return r;
        } catch (Exception | Error e) {
            r.close();
            throw e;
        }
    }

    /**
     * Starts a replica {@code id} that is not one of the {@link #ids()} the set was created with (a replica being
     * added: the configuration must list it, as a learner, before it can start); does not wait.
     */
    void launchNew(String id) throws IOException {
        if (!nodes.containsKey(id)) {
            nodes.put(id, new Node(id, root.resolve(id)));
        }
        launch(id);
    }

    /** Starts the process of {@code id} (again), with its data directory as it is; does not wait. */
    void launch(String id) throws IOException {
        Node n = nodes.get(id);
        n.control = null;
        n.process = ChildJvm.builder("replica-" + id)
                .jvmOptions(jvmOptions())
                .mainClass(ReplicaProcessMain.class.getName())
                .arguments(List.of(
                        id,
                        String.join(",", ids.contains(id) ? ids : concat(ids, id)),
                        zkConnect,
                        n.dataDir.toString(),
                        Integer.toString(sessionTimeoutMs),
                        Boolean.toString(fsync),
                        clusterPath,
                        options))
                .process()
                .logFile(root.resolve("logs").resolve("replica-" + id + "-" + (starts++) + ".log"))
                .readyPrefix(ReplicaProcessMain.READY_PREFIX)
                .start();
    }

    private static List<String> concat(List<String> ids, String id) {
        List<String> all = new ArrayList<>(ids);
        all.add(id);
        return all;
    }

    private List<String> jvmOptions() {
        List<String> o = new ArrayList<>(List.of("-Xmx" + heap, "-Xms" + heap, "-Djava.net.preferIPv4Stack=true"));
        String extra = System.getProperty("tenure.bench.replicaJvmOptions", "");
        for (String x : Splitter.onPattern("\\s+").omitEmptyStrings().split(extra)) {
            o.add(x.replace("{start}", Integer.toString(starts)));
        }
        return o;
    }

    /** Waits for the control server of {@code id}. */
    void awaitReady(String id) throws Exception {
        Node n = nodes.get(id);
        int port = Integer.parseInt(n.process.awaitReady(START_TIMEOUT));
        n.control = URI.create("http://127.0.0.1:" + port);
    }

    Node node(String id) {
        return nodes.get(id);
    }

    List<String> ids() {
        return ids;
    }

    JsonNode get(String id, String path, Duration timeout) throws IOException, InterruptedException {
        return call(id, "GET", path, timeout).body;
    }

    record Answer(int code, JsonNode body) {}

    /**
     * A closed loop of operations in {@code leader}'s process ({@code POST /load?QUERY}, see {@link
     * ReplicaProcessMain}); its answer.
     *
     * @throws IllegalStateException if the process does not answer 200
     */
    com.fasterxml.jackson.databind.node.ObjectNode load(String leader, String query, Duration timeout)
            throws IOException, InterruptedException {
        Answer a = call(leader, "POST", "/load?" + query, timeout);
        if (a.code() != 200) {
            throw new IllegalStateException("load on " + leader + " failed: " + a.body());
        }
        return (com.fasterxml.jackson.databind.node.ObjectNode) a.body();
    }

    /** Whether a {@link #load}'s measured side did some work without an error. */
    static boolean cleanLoad(JsonNode answer) {
        JsonNode side = answer.path("side");
        return side.path("errors").asLong() == 0
                && side.path("unmeasured_errors").asLong() == 0
                && side.path("ops").asLong() > 0;
    }

    Answer call(String id, String method, String path, Duration timeout) throws IOException, InterruptedException {
        Node n = nodes.get(id);
        HttpRequest req = HttpRequest.newBuilder(n.control.resolve(path))
                .timeout(timeout)
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        return new Answer(r.statusCode(), JSON.readTree(r.body()));
    }

    /** The id of the replica that leads and has committed its epoch start (so takes writes). */
    String awaitLeader(Duration timeout) throws Exception {
        return status.awaitLeader(this::answering, -1, false, timeout).id();
    }

    /** The replicas whose process runs and whose control server is known, id to control URL. */
    private Map<String, URI> answering() {
        Map<String, URI> answering = new LinkedHashMap<>();
        for (Node n : nodes.values()) {
            if (n.control != null && n.process.isAlive()) {
                answering.put(n.id, n.control);
            }
        }
        return answering;
    }

    /** Replica {@code id}'s {@code /status}. */
    StatusProbe.NodeStatus status(String id) throws IOException, InterruptedException {
        return status.status(id, nodes.get(id).control)
                .orElseThrow(() -> new IOException("replica " + id + " does not answer /status"));
    }

    /** Waits until {@code id} has applied at least {@code offset}; returns the time it took. */
    Duration awaitApplied(String id, long offset, Duration timeout) throws Exception {
        return status.awaitApplied(id, nodes.get(id).control, offset, timeout);
    }

    /**
     * Bytes of the files under {@code dir} now, 0 if it does not exist; files deleted while it is walked count as
     * gone (the replica compacts while it runs).
     */
    static long directoryBytes(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        long total = 0;
        java.util.ArrayDeque<Path> todo = new java.util.ArrayDeque<>(List.of(dir));
        while (!todo.isEmpty()) {
            Path d = todo.pop();
            List<Path> children;
            try (var list = Files.list(d)) {
                children = list.toList();
            } catch (java.nio.file.NoSuchFileException gone) {
                continue;
            }
            for (Path p : children) {
                try {
                    var attrs = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
                    if (attrs.isDirectory()) {
                        todo.push(p);
                    } else if (attrs.isRegularFile()) {
                        total += attrs.size();
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // deleted since it was listed
                }
            }
        }
        return total;
    }

    /** Bytes of the files in {@code id}'s data directory. */
    long dataBytes(String id) throws IOException {
        try (var files = Files.walk(nodes.get(id).dataDir)) {
            return files.filter(Files::isRegularFile)
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            return 0;
                        }
                    })
                    .sum();
        }
    }

    List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        for (Node n : nodes.values()) {
            if (n.process != null && n.process.isAlive()) {
                pids.add(n.process.pid());
            }
        }
        return pids;
    }

    @Override
    public void close() {
        ChildProcess.closeAll(nodes.values().stream()
                .map(n -> n.process)
                .filter(Objects::nonNull)
                .toList());
    }
}
