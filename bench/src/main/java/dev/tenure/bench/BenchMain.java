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

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar bench/target/bench.jar [options]}: replicated writes through Tenure side by side with the
 * same writes into the same ZooKeeper ensemble through Curator, in one run on loopback.
 *
 * <p>Standard output gets a table and one {@code RESULT {json}} line; progress and logs go to standard
 * error. Exit code 0 when every run completed without a failed write; 1 when a write failed or a side wrote
 * nothing (the figures are printed but not to be trusted) or the run itself failed; 2 on bad options.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        version = "tenure-bench 0.1.0-SNAPSHOT",
        sortOptions = false,
        description = {
            "Replicated writes through Tenure (3 ZooKeeperReplicas: files with fsync, Netty on 127.0.0.1) side by"
                    + " side with the same writes into the same 3-server ZooKeeper ensemble through Curator"
                    + " (setData in the background), at each in-flight level, in one JVM on loopback.",
            "Prints a table and one line 'RESULT {json}'."
        })
public final class BenchMain implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(
            names = "--inflight",
            split = ",",
            paramLabel = "N",
            description = "Writes kept in flight (closed loop), one run per level and side (default: 1,4,16,64,256;"
                    + " 1,64,256 with --in-process).")
    private List<Integer> inflight;

    @Option(
            names = {"--duration-s", "--duration"},
            paramLabel = "SECONDS",
            description = "Measured time per side and level (default: ${DEFAULT-VALUE}).")
    private int durationSeconds = 5;

    @Option(
            names = {"--warmup-s", "--warmup"},
            paramLabel = "SECONDS",
            description = "Warm-up per side and level, not measured (default: ${DEFAULT-VALUE}).")
    private int warmupSeconds = 2;

    @Option(
            names = "--rounds",
            paramLabel = "N",
            description = "Process mode: each compared point (library API or HTTP against ZooKeeper) is measured in N"
                    + " alternating slices per system, the measured time split among them; the ratio is the median"
                    + " of the rounds' ratios (default: ${DEFAULT-VALUE}).")
    private int rounds = 5;

    @Option(
            names = "--jit-warmup-s",
            paramLabel = "SECONDS",
            description = "Process mode: unmeasured load on each system right after its processes start, so that"
                    + " their JIT compilers (which take most of two cores for the first tens of seconds) are done"
                    + " before the first measured point (default: ${DEFAULT-VALUE}).")
    private int jitWarmupSeconds = 15;

    @Option(
            names = "--http-pipelined-connections",
            paramLabel = "N",
            description = "Process mode: HTTP PUTs at 64 in flight are measured once more over N connections,"
                    + " pipelined, as ZooKeeper's client multiplexes over one session (the demo's server handles a"
                    + " connection's pipelined requests concurrently and answers them in order); 0 skips it (default:"
                    + " ${DEFAULT-VALUE}).")
    private int httpPipelinedConnections = 2;

    @Option(
            names = "--value-bytes",
            paramLabel = "BYTES",
            description = "Size of every written value (default: ${DEFAULT-VALUE}).")
    private int valueBytes = 100;

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            description = "Where the replicas' logs go: a fresh subdirectory, deleted afterwards (default: the"
                    + " system temp directory). ZooKeeper's data always goes to the system temp directory.")
    private Path dataDir;

    @Option(
            names = "--unsafe-no-fsync",
            description = "Skip every fsync on BOTH sides (Tenure's UNSAFE_NO_FSYNC, zookeeper.forceSync=no):"
                    + " measures everything but the disk. Not durable.")
    private boolean unsafeNoFsync;

    @Option(
            names = "--zookeeper-server",
            paramLabel = "leader|follower",
            description = "Which ZooKeeper server the baseline's client connects to: the quorum leader (its best"
                    + " case, like the Tenure side's proposals on its leader) or a follower, which forwards every"
                    + " write to the leader (default: ${DEFAULT-VALUE}).")
    private String zooKeeperServer = "leader";

    @Option(
            names = "--tls-cost",
            description = "With --in-process: measure the cost of mutual TLS between the replicas instead: a plaintext"
                    + " and an mTLS cluster at each --inflight level, one after the other in the same run")
    private boolean tlsCost;

    @Option(
            names = "--in-process",
            description = "Quick mode: the replicas and an in-process ZooKeeper ensemble in this JVM, writes only"
                    + " (library API vs ZooKeeper). Default: every replica and ZooKeeper server is its own process.")
    private boolean inProcess;

    @Option(
            names = "--sections",
            split = ",",
            paramLabel = "NAME",
            description = "Process mode: which sections to run, of writes, reads, sizes, replicas, catchup,"
                    + " failover, pause, http (the default: all of these) and the snapshot sections soak, restart,"
                    + " install, snapwrites (or snapshots for all four), membership, partitions, controller and steady"
                    + " (not run by default).")
    private List<String> sections = ProcessBench.ALL_SECTIONS;

    @Option(
            names = "--http-inflight",
            split = ",",
            paramLabel = "N",
            description = "In-flight levels of the HTTP writes (default: ${DEFAULT-VALUE}).")
    private List<Integer> httpInflight = List.of(1, 64, 256);

    @Option(
            names = "--value-sizes",
            split = ",",
            paramLabel = "BYTES",
            description = "Value sizes of the size sweep at 64 in flight (default: ${DEFAULT-VALUE}).")
    private List<Integer> valueSizes = List.of(1024, 65536);

    @Option(
            names = "--failover-trials",
            paramLabel = "N",
            description = "Failover trials of each kind: SIGKILL with fast failover on, SIGKILL with it off (the two"
                    + " alternating), SIGTERM (default: ${DEFAULT-VALUE}).")
    private int failoverTrials = 20;

    @Option(
            names = "--failover-session-timeout-ms",
            paramLabel = "MS",
            description = "Sections failover, pause and steady: the replicas' ZooKeeper session timeout (default:"
                    + " ${DEFAULT-VALUE}; the fast failover default derives a suspicion timeout of a third of it).")
    private int failoverSessionTimeoutMs = 3000;

    @Option(
            names = "--pause-suspicion-ms",
            paramLabel = "MS",
            description = "Section pause: the replicas' fast failover suspicion timeout, minimum term and back-off"
                    + " (default: ${DEFAULT-VALUE}).")
    private int pauseSuspicionMs = 1000;

    @Option(
            names = "--pause-ms",
            split = ",",
            paramLabel = "MS",
            description = "Section pause: how long the leader is stopped (SIGSTOP, then SIGCONT), each for"
                    + " --pause-trials trials (default: ${DEFAULT-VALUE}).")
    private List<Integer> pauseMs = List.of(300, 1500);

    @Option(
            names = "--pause-trials",
            paramLabel = "N",
            description = "Section pause: trials of each pause (default: ${DEFAULT-VALUE}).")
    private int pauseTrials = 5;

    @Option(
            names = "--steady-s",
            paramLabel = "S",
            description = "Section steady (not run by default): how long to write while counting leader changes"
                    + " (default: ${DEFAULT-VALUE}).")
    private int steadySeconds = 600;

    @Option(
            names = "--steady-inflight",
            paramLabel = "N",
            description = "Section steady: writes in flight (default: ${DEFAULT-VALUE}).")
    private int steadyInflight = 64;

    @Option(
            names = "--session-timeout-ms",
            paramLabel = "MS",
            description = "The replicas' ZooKeeper session timeout (default: ${DEFAULT-VALUE}).")
    private int sessionTimeoutMs = 2000;

    @Option(
            names = "--replica-heap",
            paramLabel = "SIZE",
            description = "Heap of every replica and demo-app process, -Xmx and -Xms (default: ${DEFAULT-VALUE}).")
    private String replicaHeap = "256m";

    @Option(
            names = "--demo-jar",
            paramLabel = "JAR",
            description = "The demo application's shaded jar for the HTTP section (default: ${DEFAULT-VALUE}).")
    private Path demoJar = Path.of("demo-app/target/demo-app.jar");

    @Option(
            names = "--catch-up-s",
            paramLabel = "SECONDS",
            description = "How long 64 KiB values are written while a follower is away (default: ${DEFAULT-VALUE}).")
    private int catchupSeconds = 5;

    @Option(
            names = "--soak-s",
            paramLabel = "SECONDS",
            description = "Section soak: how long writes go to --snapshot-keys keys at 64 in flight (issue 14 asks for"
                    + " 600; default: ${DEFAULT-VALUE}).")
    private int soakSeconds = 30;

    @Option(
            names = "--soak-report-s",
            paramLabel = "SECONDS",
            description = "Section soak: the interval between two samples of every replica's data directory, snapshot"
                    + " and log range (default: ${DEFAULT-VALUE}).")
    private int soakReportSeconds = 60;

    @Option(
            names = "--soak-snapshot-entries",
            paramLabel = "N",
            description = "Section soak: the snapshot threshold in entries (default: the library's, ${DEFAULT-VALUE}).")
    private long soakSnapshotEntries = dev.tenure.replicator.SnapshotPolicy.DEFAULT_ENTRIES;

    @Option(
            names = "--snapshot-keys",
            paramLabel = "N",
            description = "Section soak: distinct keys written, round robin (default: ${DEFAULT-VALUE}).")
    private int snapshotKeys = 1000;

    @Option(
            names = "--snapshot-busy-entries",
            split = ",",
            paramLabel = "N",
            description = "Section snapwrites: the snapshot thresholds in entries on the side with snapshots, one"
                    + " comparison each (default: ${DEFAULT-VALUE}).")
    private List<Long> snapshotBusyEntries = List.of(20_000L, 100_000L);

    @Option(
            names = "--snapwrites-keys",
            paramLabel = "N",
            description = "Section snapwrites: distinct keys written, all of them before the rounds (the state's size;"
                    + " default: ${DEFAULT-VALUE}).")
    private int snapwritesKeys = 100_000;

    @Option(
            names = "--soak-segment-bytes",
            paramLabel = "BYTES",
            description = "Section soak: the log's segment size (default: the library's 64 MiB).")
    private long soakSegmentBytes = 0;

    @Option(
            names = "--restart-history-mb",
            paramLabel = "MB",
            description = "Section restart: the history of the restarted replicas, in MB (default: ${DEFAULT-VALUE}).")
    private long restartHistoryMb = 1000;

    @Option(
            names = "--restart-keys",
            paramLabel = "N",
            description = "Section restart: distinct keys in the history (default: ${DEFAULT-VALUE}).")
    private int restartKeys = 100_000;

    @Option(
            names = "--restart-value-sizes",
            split = ",",
            paramLabel = "BYTES",
            description = "Section restart: one history per size: every key written once with a value of this size,"
                    + " then 64 KiB values overwriting 100 keys up to the history size (default: ${DEFAULT-VALUE}).")
    private List<Integer> restartValueSizes = List.of(10240, 100);

    @Option(
            names = "--restart-tail-entries",
            paramLabel = "N",
            description = "Section restart: 100-byte writes after the snapshot (default: ${DEFAULT-VALUE}).")
    private long restartTailEntries = 10_000;

    @Option(
            names = "--restart-trials",
            paramLabel = "N",
            description = "Section restart: restarts of each replica, alternating (default: ${DEFAULT-VALUE}).")
    private int restartTrials = 2;

    @Option(
            names = "--membership-history-mb",
            paramLabel = "MB",
            description = "Section membership: the history the replaced follower's peers hold, in MB (default:"
                    + " ${DEFAULT-VALUE}).")
    private long membershipHistoryMb = 1000;

    @Option(
            names = "--membership-before-s",
            paramLabel = "SECONDS",
            description = "Section membership: the measured writes before the change, after the unmeasured"
                    + " --jit-warmup-s (default: ${DEFAULT-VALUE}).")
    private int membershipBeforeSeconds = 10;

    @Option(
            names = "--restart-cold",
            description = "Section restart: also restart each replica after dropping the page cache (3 to"
                    + " /proc/sys/vm/drop_caches; needs root), as after a reboot.")
    private boolean restartCold;

    @Option(
            names = "--snapshot-heap",
            paramLabel = "SIZE",
            description = "Sections restart and install: the replicas' heap; they hold the whole state in memory"
                    + " (default: ${DEFAULT-VALUE}).")
    private String snapshotHeap = "3g";

    @Option(
            names = "--partitions",
            paramLabel = "N",
            description = "Section partitions: partitions of 3 replicas on the 3 node processes (default:"
                    + " ${DEFAULT-VALUE}).")
    private int partitions = 1000;

    @Option(
            names = "--partitions-small",
            paramLabel = "N",
            description = "Section partitions: partitions of the small set whose idle figures the large set's are"
                    + " compared with (default: ${DEFAULT-VALUE}).")
    private int partitionsSmall = 10;

    @Option(
            names = "--partitions-idle-s",
            paramLabel = "SECONDS",
            description = "Section partitions: each idle window (default: ${DEFAULT-VALUE}).")
    private int partitionsIdleSeconds = 20;

    @Option(
            names = "--partitions-settle-s",
            paramLabel = "SECONDS",
            description = "Section partitions: the wait before each idle window, once every replica has committed its"
                    + " log (default: ${DEFAULT-VALUE}).")
    private int partitionsSettleSeconds = 5;

    @Option(
            names = "--partitions-session-timeout-ms",
            paramLabel = "MS",
            description = "Section partitions: the nodes' ZooKeeper session timeout (default: ${DEFAULT-VALUE}).")
    private int partitionsSessionTimeoutMs = 4000;

    @Option(
            names = "--partitions-node-heap",
            paramLabel = "SIZE",
            description = "Section partitions: the node processes' heap, -Xmx and -Xms (default: ${DEFAULT-VALUE}).")
    private String partitionsNodeHeap = "1g";

    @Option(
            names = "--partitions-startup-only",
            description = "Section partitions: only start the large set and measure the time until every partition"
                    + " has a leader (and each node's ZooKeeper operations while opening); no small set, idle"
                    + " windows, writes or failover.")
    private boolean partitionsStartupOnly;

    @Option(
            names = "--partitions-failover-only",
            description = "Section partitions: only start the large set, wait until every partition is led by its"
                    + " preferred replica, and SIGKILL the node leading the most; no small set, idle windows or"
                    + " writes.")
    private boolean partitionsFailoverOnly;

    @Option(
            names = "--partitions-restart-killed",
            description = "Section partitions, failover: start the killed node again right after the SIGKILL, with its"
                    + " data directory, as a supervisor would (its ZooKeeper session still lives then).")
    private boolean partitionsRestartKilled;

    @Option(
            names = "--partitions-node-options",
            paramLabel = "NAME=VALUE[,...]",
            description = "Section partitions, with --partitions-startup-only, --partitions-failover-only or"
                    + " --partitions-writes-only: options of the node processes (NodeProcessMain), such as"
                    + " fast_failover=off or end_previous_session=off.")
    private String partitionsNodeOptions = "";

    @Option(
            names = "--partitions-writes-only",
            description = "Section partitions: only start the large set (--partitions, say 100) and run the write"
                    + " comparisons (with their warm-ups); no small set, idle windows or failover.")
    private boolean partitionsWritesOnly;

    @Option(
            names = "--controller-partitions",
            split = ",",
            paramLabel = "N",
            description = "Section controller: the partition counts, one set of runs each (default: ${DEFAULT-VALUE}).")
    private List<Integer> controllerPartitions = List.of(100, 1000);

    @Option(
            names = "--controller-modes",
            split = ",",
            paramLabel = "MODE",
            description = "Section controller: the leadership modes side by side, of controller, election (fast"
                    + " failover on, the library's default) and election-session (fast failover off) (default:"
                    + " ${DEFAULT-VALUE}).")
    private List<String> controllerModes = List.of("controller", "election");

    @Option(
            names = "--controller-trials",
            paramLabel = "N",
            description = "Section controller: trials of each fault per mode and partition count; 0 measures the"
                    + " start only (the time until every partition is led, each mode side by side) (default:"
                    + " ${DEFAULT-VALUE}).")
    private int controllerTrials = 3;

    @Option(
            names = "--controller-session-timeout-ms",
            paramLabel = "MS",
            description = "Section controller: the nodes' ZooKeeper session timeout (default: ${DEFAULT-VALUE}).")
    private int controllerSessionTimeoutMs = 4000;

    @Option(
            names = "--controller-node-heap",
            paramLabel = "SIZE",
            description = "Section controller: the node processes' heap, -Xmx and -Xms (default: ${DEFAULT-VALUE}).")
    private String controllerNodeHeap = "1g";

    @Option(
            names = "--controller-rebalance-ms",
            paramLabel = "MS",
            description = "Section controller: the controller's rebalance interval (its imbalance threshold is 0 %%)"
                    + " (default: ${DEFAULT-VALUE}).")
    private int controllerRebalanceMs = 2000;

    @Option(
            names = "--controller-writes-per-s",
            paramLabel = "N",
            description = "Section controller: the writers' rate over all partitions during a SIGTERM, one write in"
                    + " flight per partition (default: ${DEFAULT-VALUE}).")
    private int controllerWritesPerSecond = 2000;

    @Option(
            names = "--controller-zookeeper-tail-ms",
            paramLabel = "MS",
            description = "Section controller: how long a failover's ZooKeeper window goes on after the failover and"
                    + " the node's session end (default: ${DEFAULT-VALUE}).")
    private int controllerZooKeeperTailMs = 2000;

    @Option(
            names = "--controller-idle-window-ms",
            paramLabel = "MS",
            description = "Section controller: the idle window before each fault whose ZooKeeper request rate is"
                    + " subtracted (default: ${DEFAULT-VALUE}).")
    private int controllerIdleWindowMs = 3000;

    @Option(
            names = "--controller-quiet-requests-per-s",
            paramLabel = "N",
            description = "Section controller: before each fault, the idle window is measured again (for at most 90 s)"
                    + " until the ensemble served at most this many requests per second in it (default:"
                    + " ${DEFAULT-VALUE}).")
    private int controllerQuietRequestsPerSecond = 20;

    @Option(
            names = "--controller-balance-timeout-s",
            paramLabel = "S",
            description = "Section controller: how long to wait before each fault for every partition to be led by its"
                    + " preferred replica; the fault goes ahead after it, and says whether they were (default:"
                    + " ${DEFAULT-VALUE}).")
    private int controllerBalanceTimeoutSeconds = 180;

    @Option(names = "--chart", paramLabel = "PNG", description = "Process mode: also write a PNG chart here.")
    private Path chart;

    private static BenchConfig.ZooKeeperServer zooKeeperServer(String name) {
        switch (name) {
            case "leader":
                return BenchConfig.ZooKeeperServer.LEADER;
            case "follower":
                return BenchConfig.ZooKeeperServer.FOLLOWER;
            default:
                throw new IllegalArgumentException("--zookeeper-server must be leader or follower, was " + name);
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!inProcess) {
            if (rounds < 1 || durationSeconds * 1000L / rounds < 100) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "--rounds must be at least 1 and leave slices of at least 100 ms of --duration-s");
            }
            if (httpPipelinedConnections < 0 || httpPipelinedConnections > 64) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--http-pipelined-connections must be between 0 and 64");
            }
            if (jitWarmupSeconds < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--jit-warmup-s must be at least 0");
            }
            if (membershipBeforeSeconds < 1) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--membership-before-s must be at least 1");
            }
            for (String section : sections) {
                if (!ProcessBench.KNOWN_SECTIONS.contains(section)) {
                    throw new CommandLine.ParameterException(
                            spec.commandLine(),
                            "unknown section " + section + "; known: " + ProcessBench.KNOWN_SECTIONS);
                }
            }
            java.util.Set<String> chosen = new java.util.LinkedHashSet<>(sections);
            if (chosen.remove("snapshots")) {
                chosen.addAll(SnapshotBench.SECTIONS);
            }
            if (soakSeconds < 1
                    || soakReportSeconds < 1
                    || snapshotKeys < 1
                    || snapwritesKeys < 1
                    || restartKeys < 1
                    || restartTrials < 1
                    || soakSegmentBytes < 0
                    || partitions < 1
                    || partitionsSmall < 1
                    || partitionsIdleSeconds < 1
                    || partitionsSettleSeconds < 0
                    || snapshotBusyEntries.stream().anyMatch(x -> x < 1)
                    || failoverTrials < 1
                    || pauseTrials < 1
                    || steadySeconds < 1
                    || steadyInflight < 1
                    || pauseSuspicionMs < 1
                    || pauseMs.stream().anyMatch(x -> x < 1)
                    || controllerPartitions.isEmpty()
                    || controllerPartitions.stream().anyMatch(x -> x < 3)
                    || controllerTrials < 0
                    || controllerWritesPerSecond < 1
                    || controllerRebalanceMs < 1
                    || controllerZooKeeperTailMs < 0
                    || controllerIdleWindowMs < 100
                    || controllerSessionTimeoutMs < 1000
                    || controllerBalanceTimeoutSeconds < 1) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "--soak-s, --soak-report-s, --snapshot-keys, --snapwrites-keys, --snapshot-busy-entries,"
                                + " --restart-keys, --restart-trials, --partitions, --partitions-small and"
                                + " --partitions-idle-s, --failover-trials, --pause-trials, --pause-ms,"
                                + " --pause-suspicion-ms, --steady-s, --steady-inflight,"
                                + " --controller-writes-per-s, --controller-rebalance-ms and"
                                + " --controller-balance-timeout-s must be >= 1,"
                                + " --soak-segment-bytes, --partitions-settle-s, --controller-trials and"
                                + " --controller-zookeeper-tail-ms >= 0,"
                                + " --controller-partitions >= 3 each, --controller-idle-window-ms >= 100,"
                                + " --controller-session-timeout-ms >= 1000");
            }
            for (String mode : controllerModes) {
                if (!ControllerBench.MODES.contains(mode)) {
                    throw new CommandLine.ParameterException(
                            spec.commandLine(),
                            "unknown --controller-modes " + mode + "; known: " + ControllerBench.MODES);
                }
            }
            ProcessBench.Config config = new ProcessBench.Config(
                    chosen,
                    inflight == null ? List.of(1, 4, 16, 64, 256) : inflight,
                    httpInflight,
                    valueSizes,
                    Duration.ofSeconds(warmupSeconds),
                    Duration.ofSeconds(durationSeconds),
                    valueBytes,
                    dataDir,
                    !unsafeNoFsync,
                    failoverTrials,
                    sessionTimeoutMs,
                    replicaHeap,
                    demoJar,
                    chart,
                    Duration.ofSeconds(catchupSeconds),
                    rounds,
                    Duration.ofSeconds(jitWarmupSeconds),
                    httpPipelinedConnections,
                    new SnapshotBench.Config(
                            Duration.ofSeconds(soakSeconds),
                            Duration.ofSeconds(soakReportSeconds),
                            snapshotKeys,
                            restartHistoryMb * 1_000_000,
                            restartKeys,
                            restartValueSizes,
                            restartTailEntries,
                            restartTrials,
                            restartCold,
                            snapshotHeap,
                            snapshotBusyEntries,
                            snapwritesKeys,
                            soakSnapshotEntries,
                            soakSegmentBytes),
                    membershipHistoryMb * 1_000_000,
                    Duration.ofSeconds(membershipBeforeSeconds),
                    new PartitionsBench.Config(
                            partitions,
                            partitionsSmall,
                            Duration.ofSeconds(partitionsIdleSeconds),
                            Duration.ofSeconds(partitionsSettleSeconds),
                            partitionsSessionTimeoutMs,
                            partitionsNodeHeap,
                            partitionsStartupOnly,
                            partitionsFailoverOnly,
                            partitionsWritesOnly,
                            partitionsRestartKilled,
                            partitionsNodeOptions),
                    new FailoverBench.Config(
                            failoverSessionTimeoutMs,
                            pauseSuspicionMs,
                            pauseMs,
                            pauseTrials,
                            Duration.ofSeconds(steadySeconds),
                            steadyInflight),
                    new ControllerBench.Config(
                            controllerPartitions,
                            controllerModes,
                            controllerTrials,
                            controllerSessionTimeoutMs,
                            controllerNodeHeap,
                            controllerRebalanceMs,
                            controllerWritesPerSecond,
                            Duration.ofMillis(controllerZooKeeperTailMs),
                            Duration.ofMillis(controllerIdleWindowMs),
                            controllerQuietRequestsPerSecond,
                            Duration.ofSeconds(controllerBalanceTimeoutSeconds)));
            com.fasterxml.jackson.databind.node.ObjectNode result = ProcessBench.run(config, err, out);
            boolean clean = result.path("clean").asBoolean();
            if (!clean) {
                err.println("some operations failed or a section was skipped: see the output above the RESULT line");
                err.flush();
            }
            return clean ? 0 : 1;
        }
        BenchConfig config;
        try {
            config = new BenchConfig(
                    inflight == null ? List.of(1, 64, 256) : inflight,
                    Duration.ofSeconds(warmupSeconds),
                    Duration.ofSeconds(durationSeconds),
                    valueBytes,
                    dataDir,
                    unsafeNoFsync,
                    zooKeeperServer(zooKeeperServer));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (tlsCost) {
            return TlsCost.run(config, err, out);
        }
        Results.Run run = Benchmark.run(config, err);
        Report.printTable(run, out);
        out.println(Report.resultLine(run));
        out.flush();
        boolean clean = run.levels().stream()
                .allMatch(l -> l.tenure().clean() && l.zooKeeper().clean());
        if (!clean) {
            err.println("some writes failed or a side wrote nothing: see the warnings above the RESULT line");
            err.flush();
        }
        return clean ? 0 : 1;
    }
}
