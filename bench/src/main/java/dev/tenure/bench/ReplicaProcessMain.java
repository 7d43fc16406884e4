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

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.base.Splitter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tenure.harness.StatusProbe;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.ReplicaListener;
import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.StateMachine;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.zookeeper.FastFailover;
import dev.tenure.replicator.zookeeper.ZooKeeperReplica;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
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

    /**
     * Arguments: id members(comma-separated) zkConnect dataDir sessionTimeoutMs fsync(true|false) [clusterPath
     * [options]], options being comma-separated {@code name=value} pairs ({@link Options}).
     */
    public static void main(String[] args) throws Exception {
        String id = args[0];
        List<String> members = Arrays.asList(args[1].split(","));
        String zk = args[2];
        Path dataDir = Path.of(args[3]);
        int sessionTimeoutMs = Integer.parseInt(args[4]);
        boolean fsync = Boolean.parseBoolean(args[5]);
        String clusterPath = args.length > 6 ? args[6] : "/tenure-bench";
        Options options = Options.parse(args.length > 7 ? args[7] : "");

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
        KeyValueStateMachine kv = options.keyValue() ? new KeyValueStateMachine(options.snapshots()) : null;
        // Without the key-value state machine: measures replication, not an application.
        StateMachine sm = kv != null ? kv : (epoch, offset, payload) -> null;
        LogConfig.Builder logConfig = LogConfig.builder()
                .syncPolicy(fsync ? LogConfig.SyncPolicy.FSYNC : LogConfig.SyncPolicy.UNSAFE_NO_FSYNC);
        if (options.segmentBytes() > 0) {
            logConfig.maxSegmentBytes(options.segmentBytes());
        }
        ZooKeeperReplica.Builder builder = ZooKeeperReplica.builder(client, clusterPath)
                .id(id)
                .members(members)
                .dataDir(dataDir)
                .logConfig(logConfig.build())
                .snapshotPolicy(options.policy())
                .fastFailover(options.fastFailover())
                .stateMachine(sm);
        builder.listener(new ReplicaListener() {
            @Override
            public void snapshotTaken(SnapshotId snapshot, long sizeBytes, long nanos) {
                snapshotsTaken.incrementAndGet();
                snapshotNanos.addAndGet(nanos);
            }

            @Override
            public void leaderSuspected(long epoch, String leader) {
                leaderSuspicions.incrementAndGet();
            }

            @Override
            public void roleChanged(dev.tenure.replicator.core.Role role, long epoch, String leader) {
                if (role == dev.tenure.replicator.core.Role.LEADER) {
                    termsLed.incrementAndGet();
                }
            }
        });
        if (options.catchUpTail() >= 0) {
            builder.tuning(t -> t.catchUpTailEntries(options.catchUpTail()));
        }
        replicaStartMillis = System.currentTimeMillis();
        ZooKeeperReplica node = builder.build();
        node.start();
        replicaStartedMillis = System.currentTimeMillis();
        fastFailoverSettings = node.fastFailover().toString();
        Replica replica = node.replica();

        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "bench-control");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/status", ex -> answer(ex, 200, status(replica, kv)));
        server.createContext("/memory", ex -> answer(ex, 200, MemoryFacts.now().toJson()));
        server.createContext("/write", ex -> write(ex, replica));
        server.createContext("/load", ex -> load(ex, replica));
        server.createContext("/fill", ex -> fill(ex, replica));
        server.createContext("/snapshot", ex -> snapshot(ex, replica));
        server.createContext("/members", ex -> members(ex, node));
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

    /**
     * The replica's configuration beyond the positional arguments.
     *
     * @param stateMachine {@code discard} (the default: entries are not applied to anything), {@code kv} (a {@link
     *     KeyValueStateMachine} with snapshots) or {@code kv-nosnap} (the same without snapshots)
     * @param policy when to snapshot ({@code snapshot_entries}, {@code snapshot_bytes}, {@code snapshot_spread},
     *     {@code snapshot_on_stop}; the library's defaults otherwise)
     * @param catchUpTail {@code catch_up_tail}: entries kept below a snapshot, or -1 for the library's default
     * @param segmentBytes {@code segment_bytes}: the log's segment size, or 0 for the library's default
     * @param fastFailover {@code fast_failover}: {@code on} (the library's default, derived from the session
     *     timeout), {@code off} (a dead leader is replaced when its session expires) or a suspicion timeout in
     *     milliseconds (the minimum term and the depose back-off equal to it)
     */
    record Options(
            String stateMachine,
            SnapshotPolicy policy,
            long catchUpTail,
            long segmentBytes,
            FastFailover fastFailover) {
        static Options parse(String text) {
            String stateMachine = "discard";
            FastFailover fastFailover = FastFailover.fromSessionTimeout();
            SnapshotPolicy policy = SnapshotPolicy.defaults();
            long tail = -1;
            long segment = 0;
            for (String kv : Splitter.on(',').omitEmptyStrings().split(text)) {
                int eq = kv.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("option without a value: " + kv);
                }
                String name = kv.substring(0, eq);
                String value = kv.substring(eq + 1);
                switch (name) {
                    case "state_machine" -> stateMachine = value;
                    case "snapshot_entries" -> policy = policy.withEntries(Long.parseLong(value));
                    case "snapshot_bytes" -> policy = policy.withBytes(Long.parseLong(value));
                    case "snapshot_spread" -> policy = policy.withRandomSpread(Double.parseDouble(value));
                    case "snapshot_on_stop" -> policy = policy.withOnStop(Boolean.parseBoolean(value));
                    case "catch_up_tail" -> tail = Long.parseLong(value);
                    case "segment_bytes" -> segment = Long.parseLong(value);
                    case "fast_failover" -> fastFailover = fastFailover(value);
                    default -> throw new IllegalArgumentException("unknown option " + name);
                }
            }
            if (!List.of("discard", "kv", "kv-nosnap").contains(stateMachine)) {
                throw new IllegalArgumentException("unknown state machine " + stateMachine);
            }
            return new Options(stateMachine, policy, tail, segment, fastFailover);
        }

        /** {@code on}, {@code off} or a suspicion timeout in milliseconds (also the minimum term and back-off). */
        static FastFailover fastFailover(String value) {
            return switch (value) {
                case "on" -> FastFailover.fromSessionTimeout();
                case "off" -> FastFailover.off();
                default -> {
                    Duration d = Duration.ofMillis(Long.parseLong(value));
                    yield FastFailover.of(d, d, d);
                }
            };
        }

        boolean keyValue() {
            return !stateMachine.equals("discard");
        }

        boolean snapshots() {
            return stateMachine.equals("kv");
        }
    }

    /** Snapshots this replica took, and the time they took in all (from the listener). */
    private static final AtomicLong snapshotsTaken = new AtomicLong();

    private static final AtomicLong snapshotNanos = new AtomicLong();

    /** Times this replica suspected its leader ({@link ReplicaListener#leaderSuspected}). */
    private static final AtomicLong leaderSuspicions = new AtomicLong();

    /** Terms this replica has led ({@link ReplicaListener#roleChanged} to leader). */
    private static final AtomicLong termsLed = new AtomicLong();

    /** The fast failover settings in force, resolved against the negotiated session timeout. */
    private static volatile String fastFailoverSettings = "";

    /** Wall-clock time (ms) just before the replica was built: its storage not yet opened, ZooKeeper connected. */
    private static volatile long replicaStartMillis;
    /** Wall-clock time (ms) when its {@code start()} returned: storage opened, snapshot restored, log replaying. */
    private static volatile long replicaStartedMillis;

    static ObjectNode status(Replica replica, KeyValueStateMachine kv) {
        Replica.Status s = replica.status();
        ObjectNode o = StatusProbe.NodeStatus.document(
                s.id(),
                s.role().name(),
                s.epoch(),
                s.leader(),
                s.commitOffset(),
                s.logEndOffset(),
                replica.appliedOffset());
        o.put("pid", ProcessHandle.current().pid());
        o.put("snapshotsTaken", snapshotsTaken.get());
        o.put("snapshotNanos", snapshotNanos.get());
        o.put("leaderSuspicions", leaderSuspicions.get());
        o.put("termsLed", termsLed.get());
        o.put("fastFailover", fastFailoverSettings);
        ObjectNode startup = o.putObject("startup");
        startup.put("jvmStartMillis", ManagementFactory.getRuntimeMXBean().getStartTime());
        startup.put("replicaStartMillis", replicaStartMillis);
        startup.put("replicaStartedMillis", replicaStartedMillis);
        o.put("logStartOffset", s.logStartOffset());
        ObjectNode snap = o.putObject("snapshot");
        snap.put("offset", s.snapshot().offset());
        snap.put("epoch", s.snapshot().epoch());
        snap.put("sizeBytes", s.snapshot().sizeBytes());
        snap.put("atMillis", s.snapshot().atMillis());
        if (kv != null) {
            o.put("keys", kv.keys());
            o.put("snapshotCaptures", kv.captures());
            o.put("snapshotCaptureMaxMicros", kv.captureMaxMicros());
        }
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
        int keys = Integer.parseInt(q.getOrDefault("keys", "0"));
        int[] next = {0}; // the driver thread's: ClosedLoop starts every operation on its one driver thread
        ClosedLoop.Operation op = kind.equals("read")
                ? (w, value, done) -> ClosedLoop.completeWhenDone(replica.readBarrier(), done)
                : (w, value, done) -> {
                    if (keys > 0 && value.length >= KeyValueStateMachine.KEY_BYTES) {
                        KeyValueStateMachine.putKey(value, next[0]);
                        next[0] = (next[0] + 1) % keys;
                    }
                    ClosedLoop.completeWhenDone(replica.propose(value), done);
                };
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

    /**
     * {@code POST /fill?first_key=&keys=&count=&value_bytes=&inflight=}: {@code count} proposals with at most {@code
     * inflight} outstanding, the i-th to key {@code first_key + i % keys} with a {@code value_bytes} value (random,
     * incompressible); answers when all completed, with {@code ops}, {@code errors} and {@code seconds}.
     */
    private static void fill(HttpExchange ex, Replica replica) throws IOException {
        Map<String, String> q = query(ex.getRequestURI());
        int firstKey = Integer.parseInt(q.getOrDefault("first_key", "0"));
        int keys = Integer.parseInt(q.getOrDefault("keys", "1"));
        long count = Long.parseLong(q.getOrDefault("count", "1"));
        int valueBytes = Integer.parseInt(q.getOrDefault("value_bytes", "100"));
        int inflight = Integer.parseInt(q.getOrDefault("inflight", "64"));
        byte[] template = new byte[KeyValueStateMachine.KEY_BYTES + valueBytes];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(template);
        java.util.concurrent.Semaphore permits = new java.util.concurrent.Semaphore(inflight);
        java.util.concurrent.atomic.AtomicLong errors = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicReference<Throwable> first =
                new java.util.concurrent.atomic.AtomicReference<>();
        long start = System.nanoTime();
        try {
            for (long i = 0; i < count; i++) {
                permits.acquire();
                byte[] value = template.clone();
                KeyValueStateMachine.putKey(value, firstKey + (int) (i % keys));
                for (int b = 0; b < Long.BYTES && KeyValueStateMachine.KEY_BYTES + b < value.length; b++) {
                    value[KeyValueStateMachine.KEY_BYTES + b] = (byte) (i >>> (8 * b)); // every value differs
                }
                try {
                    // Not kept: its outcome is counted by the callback.
                    java.util.concurrent.CompletionStage<?> unused = replica.propose(value)
                            .whenComplete((c, failure) -> {
                                if (failure != null) {
                                    errors.incrementAndGet();
                                    first.compareAndSet(null, failure);
                                }
                                permits.release();
                            });
                } catch (RuntimeException e) {
                    errors.incrementAndGet();
                    first.compareAndSet(null, e);
                    permits.release();
                }
            }
            if (!permits.tryAcquire(inflight, 60, TimeUnit.SECONDS)) {
                throw new TimeoutException("writes outstanding a minute after the last was proposed");
            }
            ObjectNode o = JSON.createObjectNode();
            o.put("ops", count);
            o.put("errors", errors.get());
            o.put("first_error", String.valueOf(first.get()));
            o.put("seconds", (System.nanoTime() - start) / 1e9);
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

    /** {@code POST /snapshot?timeout_ms=}: takes a snapshot now; answers its {@code offset} and {@code epoch}. */
    private static void snapshot(HttpExchange ex, Replica replica) throws IOException {
        long timeoutMs = Long.parseLong(query(ex.getRequestURI()).getOrDefault("timeout_ms", "120000"));
        ObjectNode o = JSON.createObjectNode();
        try {
            SnapshotId id = replica.takeSnapshot().get(timeoutMs, TimeUnit.MILLISECONDS);
            o.put("offset", id.offset());
            o.put("epoch", id.epoch());
            answer(ex, 200, o);
        } catch (ExecutionException | TimeoutException e) {
            o.put("error", String.valueOf(e instanceof ExecutionException ? e.getCause() : e));
            answer(ex, 500, o);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer(ex, 500, o);
        }
    }

    /**
     * {@code GET /members}: the configuration; {@code POST /members/replace?old=&new=&timeout_ms=}: replaces voter
     * {@code old} by {@code new} (this replica must lead) and answers once the change is active, with the
     * configuration.
     */
    private static void members(HttpExchange ex, ZooKeeperReplica node) throws IOException {
        Map<String, String> q = query(ex.getRequestURI());
        ObjectNode o = JSON.createObjectNode();
        try {
            dev.tenure.replicator.core.Configuration c;
            if (ex.getRequestURI().getPath().equals("/members/replace")) {
                long timeoutMs = Long.parseLong(q.getOrDefault("timeout_ms", "300000"));
                c = node.replaceMember(q.get("old"), q.get("new"), Duration.ofMillis(timeoutMs))
                        .get(timeoutMs + 180_000, TimeUnit.MILLISECONDS);
            } else {
                c = node.configuration();
            }
            o.put("version", c.version());
            c.voters().forEach(o.putArray("voters")::add);
            c.previousVoters().forEach(o.putArray("previousVoters")::add);
            c.learners().forEach(o.putArray("learners")::add);
            answer(ex, 200, o);
        } catch (ExecutionException e) {
            o.put("error", String.valueOf(e.getCause()));
            answer(ex, 409, o);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer(ex, 500, o);
        } catch (Exception e) {
            o.put("error", String.valueOf(e));
            answer(ex, 500, o);
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
