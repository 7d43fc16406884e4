package dev.tenure.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.base.Splitter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.zookeeper.ZooKeeperReplica;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * One Tenure replica as its own process, for the process-mode benchmark: a {@link ZooKeeperReplica} (files with
 * fsync, Netty on 127.0.0.1, its own ZooKeeper session) plus a small control server on 127.0.0.1 through which the
 * benchmark drives load <em>inside</em> this process (the library API has no network hop of its own) and reads
 * its status and memory. Prints {@code CONTROL <port>} once serving. SIGTERM closes the replica (a leader hands
 * over) in a shutdown hook, and the JVM exits with status 143 as on any SIGTERM; SIGKILL is the crash case.
 *
 * <p>Control endpoints (JSON answers): {@code GET /status}; {@code POST /write?timeout_ms=} one proposal (200
 * committed, 409 not the leader, 504 no outcome in time); {@code POST
 * /load?kind=write|read&inflight=&warmup_ms=&duration_ms=&value_bytes=&reset_peaks=true|false} a closed loop of
 * proposals or of linearizable read barriers, answered with its figures ({@code side}: the summary; {@code outcome}:
 * the whole {@link OutcomeJson}, latency histogram included) and this process's memory (heap peaks since this load
 * started, or since the last load that reset them); {@code GET /memory}.
 */
public final class ReplicaProcessMain {
    static final String READY_PREFIX = "CONTROL ";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ReplicaProcessMain() {}

    /** Arguments: id members(comma-separated) zkConnect dataDir sessionTimeoutMs fsync(true|false). */
    public static void main(String[] args) throws Exception {
        String id = args[0];
        List<String> members = Arrays.asList(args[1].split(","));
        String zk = args[2];
        Path dataDir = Path.of(args[3]);
        int sessionTimeoutMs = Integer.parseInt(args[4]);
        boolean fsync = Boolean.parseBoolean(args[5]);
        String clusterPath = args.length > 6 ? args[6] : "/tenure-bench";

        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(zk)
                .sessionTimeoutMs(sessionTimeoutMs)
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 2000))
                .ensembleTracker(false)
                .build();
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("cannot reach ZooKeeper at " + zk);
        }
        StateMachine discard = (epoch, offset, payload) -> null; // measures replication, not an application
        ZooKeeperReplica node = ZooKeeperReplica.builder(client, clusterPath)
                .id(id)
                .members(members)
                .dataDir(dataDir)
                .logConfig(LogConfig.builder()
                        .syncPolicy(fsync ? LogConfig.SyncPolicy.FSYNC : LogConfig.SyncPolicy.UNSAFE_NO_FSYNC)
                        .build())
                .stateMachine(discard)
                .build();
        node.start();
        Replica replica = node.replica();

        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "bench-control");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/status", ex -> answer(ex, 200, status(replica)));
        server.createContext("/memory", ex -> answer(ex, 200, MemoryFacts.now().toJson()));
        server.createContext("/write", ex -> write(ex, replica));
        server.createContext("/load", ex -> load(ex, replica));
        server.start();

        // SIGTERM (or SIGINT) runs this hook before the JVM exits.
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            node.close(); // a leader relinquishes its term: the hand-off
                            server.stop(0);
                            client.close();
                        },
                        "replica-shutdown"));
        System.out.println(READY_PREFIX + server.getAddress().getPort());
        System.out.flush();
        new CountDownLatch(1).await(); // serves until the JVM shuts down; the hook closes
    }

    static ObjectNode status(Replica replica) {
        Replica.Status s = replica.status();
        ObjectNode o = JSON.createObjectNode();
        o.put("id", s.id());
        o.put("role", s.role().name().toLowerCase(Locale.ROOT));
        o.put("epoch", s.epoch());
        o.put("leader", s.leader());
        o.put("commitOffset", s.commitOffset());
        o.put("appliedOffset", replica.appliedOffset());
        o.put("logEndOffset", s.logEndOffset());
        o.put("pid", ProcessHandle.current().pid());
        return o;
    }

    private static void write(HttpExchange ex, Replica replica) throws IOException {
        Map<String, String> q = query(ex.getRequestURI());
        long timeoutMs = Long.parseLong(q.getOrDefault("timeout_ms", "5000"));
        ObjectNode o = JSON.createObjectNode();
        try {
            Committed c;
            c = replica.propose("probe".getBytes(StandardCharsets.UTF_8)).get(timeoutMs, TimeUnit.MILLISECONDS);
            o.put("offset", c.offset());
            o.put("epoch", c.epoch());
            answer(ex, 200, o);
        } catch (ExecutionException e) {
            o.put("error", String.valueOf(e.getCause()));
            answer(ex, 409, o);
        } catch (TimeoutException e) {
            o.put("error", "no outcome within " + timeoutMs + " ms");
            answer(ex, 504, o);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer(ex, 500, o);
        }
    }

    private static void load(HttpExchange ex, Replica replica) throws IOException {
        Map<String, String> q = query(ex.getRequestURI());
        String kind = q.getOrDefault("kind", "write");
        int inflight = Integer.parseInt(q.getOrDefault("inflight", "1"));
        Duration warmup = Duration.ofMillis(Long.parseLong(q.getOrDefault("warmup_ms", "2000")));
        Duration duration = Duration.ofMillis(Long.parseLong(q.getOrDefault("duration_ms", "5000")));
        int valueBytes = Integer.parseInt(q.getOrDefault("value_bytes", "100"));
        ClosedLoop.Operation op = kind.equals("read")
                ? (w, value, done) -> ClosedLoop.completeWhenDone(replica.readBarrier(), done)
                : (w, value, done) -> ClosedLoop.completeWhenDone(replica.propose(value), done);
        if (!"false".equals(q.get("reset_peaks"))) {
            MemoryFacts.resetPeaks();
        }
        try {
            ClosedLoop.Outcome outcome =
                    ClosedLoop.run(op, inflight, warmup, duration, valueBytes, Duration.ofSeconds(30));
            ObjectNode o = JSON.createObjectNode();
            o.set("side", SideJson.of(outcome));
            o.set("outcome", OutcomeJson.toJson(outcome));
            o.set("memory", MemoryFacts.now().toJson());
            answer(ex, 200, o);
        } catch (TimeoutException e) {
            ObjectNode o = JSON.createObjectNode();
            o.put("error", e.getMessage());
            answer(ex, 500, o);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer(ex, 500, JSON.createObjectNode());
        }
    }

    static Map<String, String> query(URI uri) {
        Map<String, String> m = new HashMap<>();
        String q = uri.getRawQuery();
        if (q == null) {
            return m;
        }
        for (String kv : Splitter.on('&').split(q)) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return m;
    }

    static void answer(HttpExchange ex, int code, ObjectNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
