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

import dev.tenure.replicator.Replica;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.testkit.ZooKeeperEnsemble;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;

/**
 * One benchmark run: starts a 3-server ZooKeeper ensemble and three Tenure replicas elected on it, then
 * for every in-flight level runs the Tenure side and the ZooKeeper side in turn (interleaved, so that
 * drift over the run, such as JIT compilation or a filling page cache, affects both alike), then stops
 * everything and deletes every file it made.
 *
 * <p>Everything shares this JVM and its cores: the idle side keeps running (heartbeats, session pings)
 * while the other is measured.
 */
final class Benchmark {
    static final int ZOOKEEPER_SERVERS = 3;

    /** How long to wait for the outstanding writes after a run: more than Tenure's 10 s proposal timeout. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(60);
    private static final String FORCE_SYNC_PROPERTY = "zookeeper.forceSync";

    private Benchmark() {}

    static Results.Run run(BenchConfig config, PrintWriter progress) throws Exception {
        Path dataRoot = config.dataDir() == null
                ? Files.createTempDirectory("tenure-bench-")
                : Files.createTempDirectory(Files.createDirectories(config.dataDir()), "tenure-bench-");
        String forceSyncBefore = System.getProperty(FORCE_SYNC_PROPERTY);
        try {
            if (config.unsafeNoFsync()) {
                // Read by every ZooKeeper transaction log when it is opened, so set before the servers start.
                System.setProperty(FORCE_SYNC_PROPERTY, "no");
            }
            return run(config, dataRoot, progress);
        } finally {
            restoreProperty(FORCE_SYNC_PROPERTY, forceSyncBefore);
            deleteRecursively(dataRoot);
        }
    }

    private static Results.Run run(BenchConfig config, Path dataRoot, PrintWriter progress) throws Exception {
        MachineFacts machine = MachineFacts.collect(dataRoot);
        double loadStart = loadAverage();
        DiskProbe disk = DiskProbe.measure(dataRoot, config.valueBytes());
        progress.printf(
                Locale.ROOT,
                "load average %.2f on %d cores; disk: append+fsync p50 %.3f ms, overwrite+fdatasync p50 %.3f ms%n",
                loadStart,
                machine.cores(),
                disk.appendP50Micros() / 1000,
                disk.preallocP50Micros() / 1000);
        LogConfig logConfig = LogConfig.builder()
                .syncPolicy(config.unsafeNoFsync() ? LogConfig.SyncPolicy.UNSAFE_NO_FSYNC : LogConfig.SyncPolicy.FSYNC)
                .build();
        progress.printf("starting a %d-server ZooKeeper ensemble%n", ZOOKEEPER_SERVERS);
        progress.flush();
        try (ZooKeeperEnsemble zk =
                ZooKeeperEnsemble.builder().servers(ZOOKEEPER_SERVERS).build()) {
            zk.start();
            progress.printf("starting %d Tenure replicas under %s%n", TenureCluster.IDS.size(), dataRoot);
            progress.flush();
            try (TenureCluster tenure = TenureCluster.start(zk, dataRoot, logConfig)) {
                tenure.awaitLeader(LEADER_TIMEOUT);
                int server = pickServer(zk, config.zooKeeperServer());
                CuratorFramework client = // closed with the ensemble
                        zk.newClient(zk.clientBuilder().connectString(zk.connectString(server)));
                ZooKeeperWrites zkWrites = new ZooKeeperWrites(client, "/zookeeper-bench", config.maxInflight());
                List<Results.Level> levels = new ArrayList<>();
                for (int inflight : config.inflight()) {
                    Replica leader = tenure.awaitLeader(LEADER_TIMEOUT);
                    Results.Side t = measure(
                            "tenure",
                            inflight,
                            config,
                            progress,
                            (w, value, done) -> ClosedLoop.completeWhenDone(leader.propose(value), done));
                    Results.Side z = measure("zookeeper", inflight, config, progress, zkWrites);
                    levels.add(new Results.Level(inflight, t, z));
                }
                Map<String, Long> applied = tenure.awaitAllApplied(DRAIN_TIMEOUT);
                String zkServer = describeServer(zk, server);
                progress.println("stopping");
                progress.flush();
                return new Results.Run(config, machine, disk, loadStart, loadAverage(), levels, applied, zkServer);
            }
        }
    }

    static Results.Side measure(
            String system, int inflight, BenchConfig config, PrintWriter progress, ClosedLoop.Operation op)
            throws Exception {
        progress.printf(
                "%s, %d in flight: %d s warm-up, %d s measured%n",
                system, inflight, config.warmup().toSeconds(), config.duration().toSeconds());
        progress.flush();
        ClosedLoop.Outcome o =
                ClosedLoop.run(op, inflight, config.warmup(), config.duration(), config.valueBytes(), DRAIN_TIMEOUT);
        return Results.Side.of(system, o);
    }

    /** The index of the quorum leader, or of a follower. */
    private static int pickServer(ZooKeeperEnsemble zk, BenchConfig.ZooKeeperServer which)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + LEADER_TIMEOUT.toNanos();
        int leader;
        while ((leader = zk.quorumLeader()) < 0) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("no ZooKeeper server leads the quorum");
            }
            Thread.sleep(50); // polling the servers' mode: there is no event for it
        }
        return which == BenchConfig.ZooKeeperServer.LEADER ? leader : (leader + 1) % zk.size();
    }

    /** The server's number (1-based) and whether it led the quorum when the runs ended. */
    private static String describeServer(ZooKeeperEnsemble zk, int server) {
        int leader = zk.quorumLeader();
        return (server + 1) + " of " + zk.size() + (server == leader ? " (the quorum leader)" : " (a follower)");
    }

    static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static void restoreProperty(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
