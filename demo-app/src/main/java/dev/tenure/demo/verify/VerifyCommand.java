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
package dev.tenure.demo.verify;

import com.google.common.collect.ImmutableList;
import dev.tenure.checker.CheckReport;
import dev.tenure.checker.HistoryReader;
import dev.tenure.harness.NodeLauncher;
import dev.tenure.harness.fault.FaultKind;
import dev.tenure.harness.fault.FaultPlan;
import dev.tenure.replicator.zookeeper.FastFailover;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code verify}: the Jepsen-style check of the key-value service. See {@code docs/verification.md}.
 *
 * <p>Exit codes: 0 the history is valid; 1 the checker found violations or lost writes; 2 the run could not be
 * completed (no leader, a process would not start); 3 no violation, but some key's linearizability search ran out
 * of budget; 64 bad arguments.
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Starts 3 ZooKeeper and 3 replica processes on loopback behind fault-injecting proxies, runs concurrent"
                    + " clients while injecting faults on a seeded schedule, records the history and checks it"
                    + " (linearizability per key, lost writes, duplicate or reordered log positions).",
            "Every process started is stopped at the end, also on failure or Ctrl-C."
        },
        exitCodeOnInvalidInput = 64,
        exitCodeOnExecutionException = 2,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:valid history",
            "1:violations or lost writes found",
            "2:the run could not be completed",
            "3:inconclusive (a key's search ran out of budget)",
            "64:bad arguments"
        })
public final class VerifyCommand implements Callable<Integer> {
    /**
     * Run profiles: the CI run (every fault kind once), the soak (30 minutes of faults) and the snapshot run (every
     * fault kind once, the wipe among them, with replicas that snapshot and compact every few hundred entries).
     */
    enum Profile {
        CI(0, List.of(), FaultKind.standard(), FaultPlan.Target.ANY),
        SOAK(1800, List.of(), FaultKind.standard(), FaultPlan.Target.ANY),
        SNAPSHOTS(0, SNAPSHOT_NODE_ARGUMENTS, FaultKind.standard(), FaultPlan.Target.ANY),
        /**
         * Fast failover on (the node's default) against the faults it is for: SIGKILL of the leader, and SIGSTOP of
         * the leader shorter and longer than the suspicion timeout (but shorter than the session timeout); a minute
         * of faults, each aimed at the leader.
         */
        FAST_FAILOVER(
                60,
                List.of(),
                List.of(
                        FaultKind.KILL_REPLICA,
                        FaultKind.PAUSE_LEADER_BELOW_SUSPICION,
                        FaultKind.PAUSE_LEADER_ABOVE_SUSPICION),
                FaultPlan.Target.LEADER);

        private final int defaultDurationSeconds;
        private final ImmutableList<String> nodeArguments;
        private final ImmutableList<FaultKind> kinds;
        private final FaultPlan.Target target;

        Profile(
                int defaultDurationSeconds,
                List<String> nodeArguments,
                List<FaultKind> kinds,
                FaultPlan.Target target) {
            this.defaultDurationSeconds = defaultDurationSeconds;
            this.nodeArguments = ImmutableList.copyOf(nodeArguments);
            this.kinds = ImmutableList.copyOf(kinds);
            this.target = target;
        }

        /** How long faults go on by default (0: every kind once). */
        int defaultDurationSeconds() {
            return defaultDurationSeconds;
        }

        /** The arguments every replica's {@code node} command gets after the testbed's own. */
        List<String> nodeArguments() {
            return nodeArguments;
        }

        /** The fault kinds injected unless {@code --faults} names others. */
        List<FaultKind> kinds() {
            return kinds;
        }

        /** Who the targeted faults hit unless {@code --target} says. */
        FaultPlan.Target target() {
            return target;
        }

        String wireName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * The {@code snapshots} profile's replicas: a snapshot every 200 entries (less a random spread), 16 KiB log
     * segments so that compaction has whole segments to delete early, and a catch-up tail of 50 entries, so that a
     * wiped replica comes back by a snapshot install, not by the log.
     */
    static final List<String> SNAPSHOT_NODE_ARGUMENTS =
            List.of("--snapshot-entries", "200", "--segment-bytes", "16384", "--catch-up-tail", "50");

    @Option(
            names = "--profile",
            defaultValue = "ci",
            converter = ProfileConverter.class,
            description = "ci (every fault kind once, about 2 minutes), soak (faults for 30 minutes), snapshots"
                    + " (every fault kind once against replicas run with --snapshot-entries 200 --segment-bytes 16384"
                    + " --catch-up-tail 50, so a wiped replica comes back by a snapshot install) or fast-failover"
                    + " (a minute of leader kills and leader pauses shorter and longer than the suspicion timeout,"
                    + " fast failover on; the summary times each new leader); default ${DEFAULT-VALUE}")
    Profile profile;

    @Option(names = "--seed", description = "seed of the fault schedule and the clients (default: random, printed)")
    Long seed;

    @Option(
            names = "--faults",
            split = ",",
            description = "fault kinds to inject (default: the profile's; every kind but the suspicion pauses,"
                    + " restart-replica and the controller faults, except for fast-failover: kill-replica and the"
                    + " suspicion pauses; with"
                    + " --leadership controller the controller faults too): kill-replica, restart-replica, pause-leader,"
                    + " kill-zk-server,"
                    + " kill-zk-leader, expire-session, cut-zookeeper, cut-leader-from-followers, isolate-replica,"
                    + " wipe-replica, replace-replica, pause-leader-below-suspicion, pause-leader-above-suspicion,"
                    + " kill-controller, pause-controller, cut-controller-from-zookeeper, reassign-partition")
    List<String> faults;

    @Option(
            names = "--target",
            description = "who kill-replica, restart-replica, expire-session, cut-zookeeper and isolate-replica hit:"
                    + " leader, follower"
                    + " or any (chosen per fault from the seed; wipe-replica and replace-replica always hit a"
                    + " follower); default any, leader for the fast-failover profile")
    String target;

    @Option(
            names = "--no-fast-failover",
            description = "run the replicas with node --no-fast-failover: a dead or frozen leader is replaced only when"
                    + " its ZooKeeper session expires (to compare; default: fast failover on, as the node's default)")
    boolean noFastFailover;

    @Option(names = "--min-faults", description = "inject at least this many faults (default: one per kind)")
    Integer minFaults;

    @Option(
            names = "--duration-s",
            description = "keep injecting faults for this long (default: 0 for ci and snapshots, 1800 for soak)")
    Integer durationSeconds;

    @Option(
            names = "--partitions",
            defaultValue = "1",
            description = "every replica hosts P partitions (node --partitions P), keys spread by CRC-32; the"
                    + " history is checked partition by partition (linearizability and lost writes per key, log"
                    + " positions within each partition), the leader faults hit the node leading the most partitions,"
                    + " and the report counts each partition's leader changes; wipe-replica and replace-replica are"
                    + " single-log only. With --check: split the history this way. Default ${DEFAULT-VALUE}: the"
                    + " single log")
    int partitions;

    @Option(
            names = "--leadership",
            paramLabel = "MODE",
            defaultValue = "election",
            description = "election (each partition's own election, the default) or controller: every replica runs"
                    + " node --leadership controller (needs --partitions 2 or more), and the faults aimed at the"
                    + " controller node (kill-controller, pause-controller, cut-controller-from-zookeeper) and"
                    + " reassign-partition (a partition's replicas moved through the controller) join the"
                    + " profile's; the controller is the node whose /status says it is active, and the fault log and"
                    + " the report name it and its epoch before and after each fault")
    String leadership;

    @Option(
            names = "--transport-plaintext",
            description = "replication between the replicas in plaintext (node --transport-plaintext). Default: mutual"
                    + " TLS with throwaway certificates, through proxies that terminate TLS with each replica's key so"
                    + " that they can still tell links apart by sender")
    boolean plaintextReplication;

    @Option(names = "--clients", defaultValue = "10", description = "concurrent clients (default ${DEFAULT-VALUE})")
    int clients;

    @Option(names = "--keys", defaultValue = "20", description = "keys (default ${DEFAULT-VALUE})")
    int keys;

    @Option(
            names = "--think-ms",
            defaultValue = "50",
            description = "each client's mean pause between operations (default ${DEFAULT-VALUE})")
    int thinkMs;

    @Option(
            names = "--request-timeout-ms",
            defaultValue = "3000",
            description = "each HTTP exchange's timeout (default ${DEFAULT-VALUE})")
    int requestTimeoutMs;

    @Option(
            names = "--session-timeout-ms",
            defaultValue = "4000",
            description = "the replicas' ZooKeeper session timeout (default ${DEFAULT-VALUE})")
    int sessionTimeoutMs;

    @Option(
            names = "--quiet-ms",
            defaultValue = "2000",
            description = "normal operation before the first fault and after each heal (default ${DEFAULT-VALUE})")
    int quietMs;

    @Option(
            names = "--dir",
            description = "working directory for logs, data and history.jsonl (default: a new temporary directory)")
    Path dir;

    @Option(
            names = "--check",
            paramLabel = "HISTORY",
            description = "only check a recorded history (JSON Lines) and print the report; starts nothing")
    Path checkOnly;

    /**
     * The main class every replica process runs: the demo's. Not an option: the harness's own tests set it to a
     * deliberately broken node on their class path (see VerifyIT), so that no flag of the shipped command can turn
     * off safety.
     */
    String nodeMainClass = NodeLauncher.DEMO_MAIN_CLASS;

    private final PrintStream out;

    public VerifyCommand() {
        this(System.out);
    }

    VerifyCommand(PrintStream out) {
        this.out = out;
    }

    @Override
    public Integer call() throws Exception {
        if (checkOnly != null) {
            if (partitions < 1 || partitions > dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS) {
                System.err.println("error: --partitions must be 1.." + dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS
                        + ", was " + partitions);
                return 64;
            }
            return checkOnly(checkOnly);
        }
        VerifyRun.Settings settings;
        try {
            settings = settings();
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 64;
        }
        out.println("[verify] seed " + settings.seed() + " (repeat the schedule with --seed " + settings.seed()
                + "), profile " + profile.wireName()
                + (settings.suspicionTimeout().isZero()
                        ? ", fast failover off"
                        : ", fast failover on (suspicion "
                                + settings.suspicionTimeout().toMillis() + " ms)")
                + (settings.partitions() > 1 ? ", " + settings.partitions() + " partitions" : "")
                + (settings.controller() ? ", leaders assigned by the controller" : "")
                + (settings.nodeArguments().isEmpty()
                        ? ""
                        : ", replicas run with " + String.join(" ", settings.nodeArguments())));
        VerifyRun run = new VerifyRun(settings, out);
        Thread hook = new Thread(run::abort, "verify-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        VerifyRun.Result result;
        try {
            result = run.call();
        } catch (TimeoutException | java.io.IOException | IllegalStateException e) {
            out.println("[verify] the run could not be completed: " + e.getMessage());
            out.println("[verify] logs: " + settings.dir());
            return 2;
        } finally {
            run.abort();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down: the hook runs anyway
            }
        }
        print(settings, result);
        return exitCode(result.report().verdict());
    }

    private int checkOnly(Path history) {
        RunReport report;
        try {
            report = RunReport.check(HistoryReader.read(history), partitions);
        } catch (java.io.IOException | IllegalArgumentException e) {
            System.err.println("error: cannot read " + history + ": " + e.getMessage());
            return 64;
        }
        out.print(report);
        out.println("verdict: " + report.verdict());
        return exitCode(report.verdict());
    }

    private static int exitCode(CheckReport.Verdict verdict) {
        return switch (verdict) {
            case VALID -> 0;
            case INVALID -> 1;
            case UNKNOWN -> 3;
        };
    }

    private void print(VerifyRun.Settings settings, VerifyRun.Result result) {
        RunReport report = result.report();
        out.println();
        out.println("Verification summary (seed " + settings.seed() + ", "
                + result.elapsed().toSeconds() + " s)");
        if (result.partitions() > 1) {
            out.println("  partitions: " + result.partitions() + " on every replica; leader changes observed per"
                    + " partition (a higher epoch than at the previous look): " + result.failovers());
            long hitSeveral =
                    result.faults().stream().filter(f -> f.led().size() >= 2).count();
            long movedAll = result.faults().stream()
                    .filter(f ->
                            f.led().size() >= 2 && f.moved().size() == f.led().size())
                    .count();
            out.println("  faults on a replica leading several partitions: " + hitSeveral + ", after " + movedAll
                    + " of them every partition it led had a new leader term");
        }
        if (result.controller()) {
            out.println("  controller: " + result.controllerText());
            for (dev.tenure.harness.fault.Nemesis.Reassignment r : result.reassignments()) {
                out.println("  reassignment: " + r + (r.completed() ? "" : " — NOT COMPLETED"));
            }
        }
        out.println("  faults injected: " + result.faults().size());
        result.faultsByKind(settings.kinds())
                .forEach((k, n) -> out.println(String.format("    %-30s %d", k.wireName(), n)));
        if (result.fastFailover() != null) {
            out.println("  fast failover: " + result.fastFailover());
        }
        result.leaderChangesByKind().forEach((k, changes) -> {
            List<Long> times = VerifyRun.Result.newLeaderTimes(changes);
            out.println("  " + k.wireName() + " on the leader: " + changes.size() + " fault(s), "
                    + changes.stream().filter(VerifyRun.LeaderChange::changed).count() + " leader change(s); a new"
                    + " leader seen " + times.size() + " time(s)"
                    + (times.isEmpty()
                            ? ""
                            : ", after " + times.get((times.size() - 1) / 2) + " ms (median), "
                                    + times.get(times.size() - 1) + " ms (max)"));
        });
        out.println("  fault log (times as in the report below; also in faults.jsonl):");
        result.faults().forEach(f -> out.println("    " + result.describe(f)));
        List<VerifyRun.Injected> wipes = result.wipes();
        long notInjected = result.faults().stream()
                .filter(f -> f.kind() == FaultKind.WIPE_REPLICA && f.catchUp().isEmpty())
                .count();
        if (!wipes.isEmpty() || notInjected > 0) {
            out.println("  wiped replicas: " + wipes.size() + ", each caught up before the next fault; "
                    + wipes.stream()
                            .filter(VerifyRun.Injected::cameBackByInstall)
                            .count()
                    + " came back by a snapshot install"
                    + (notInjected > 0 ? "; " + notInjected + " wipe(s) not injected (no leader)" : ""));
            wipes.forEach(w ->
                    out.println("    " + w.catchUp().orElseThrow() + "; snapshot installs logged: " + w.installs()));
        }
        List<VerifyRun.Injected> replaced = result.replacements();
        if (!replaced.isEmpty()) {
            out.println("  replaced replicas (removed from the replica set, added back empty, made voters again): "
                    + replaced.size() + ", each caught up before the next fault");
            replaced.forEach(w -> out.println("    " + w.catchUp().orElseThrow()));
        }
        if (result.leaderlessAfterHeal() > 0) {
            out.println("  no agreed leader within 30 s of a heal: " + result.leaderlessAfterHeal() + " time(s)");
        }
        out.print(report.toString().replaceAll("(?m)^", "  "));
        out.println("  history: " + result.history());
        out.println("  verdict: " + report.verdict());
        out.println("RESULT " + result.toJson(settings));
        out.flush();
    }

    VerifyRun.Settings settings() throws java.io.IOException {
        List<FaultKind> kinds = new ArrayList<>();
        if (partitions < 1 || partitions > dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS) {
            throw new IllegalArgumentException("--partitions must be 1.."
                    + dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS + ", was " + partitions);
        }
        boolean controller = switch (leadership == null ? "election" : leadership.trim()) {
            case "election" -> false;
            case "controller" -> true;
            default ->
                throw new IllegalArgumentException(
                        "--leadership must be election or controller, was '" + leadership + "'");
        };
        if (controller && partitions < 2) {
            throw new IllegalArgumentException("--leadership controller needs --partitions 2 or more, was " + partitions
                    + ": the controller assigns the leaders of partitions");
        }
        if (controller && profile == Profile.FAST_FAILOVER) {
            throw new IllegalArgumentException("the fast-failover profile probes the elections' fast failover, which"
                    + " --leadership controller does not use");
        }
        if (faults == null || faults.isEmpty()) {
            kinds.addAll(profile.kinds());
            if (partitions > 1) {
                kinds.removeAll(SINGLE_LOG_ONLY);
            }
            if (controller) {
                kinds.addAll(FaultKind.controllerMode());
            }
        } else {
            for (String f : faults) {
                FaultKind k = FaultKind.parse(f);
                if (k.needsController() && !controller) {
                    throw new IllegalArgumentException(k.wireName()
                            + (k.onController() ? " hits the controller" : " moves replicas through the controller")
                            + ": it needs --leadership controller (and --partitions 2 or more)");
                }
                if (partitions > 1 && SINGLE_LOG_ONLY.contains(k)) {
                    throw new IllegalArgumentException(k.wireName() + " is not supported with --partitions yet:"
                            + " a partitioned node offers no membership changes, and a wiped node would have to"
                            + " catch up in every partition before the next fault");
                }
                if (!kinds.contains(k)) {
                    kinds.add(k);
                }
            }
        }
        FaultPlan.Target t = target == null
                ? profile.target()
                : switch (target) {
                    case "leader" -> FaultPlan.Target.LEADER;
                    case "follower" -> FaultPlan.Target.FOLLOWER;
                    case "any" -> FaultPlan.Target.ANY;
                    default ->
                        throw new IllegalArgumentException(
                                "--target must be leader, follower or any, was '" + target + "'");
                };
        positive("--clients", clients);
        positive("--keys", keys);
        positive("--request-timeout-ms", requestTimeoutMs);
        if (thinkMs < 0 || quietMs < 0) {
            throw new IllegalArgumentException("--think-ms and --quiet-ms must be >= 0");
        }
        if (sessionTimeoutMs < 1000 || sessionTimeoutMs > 60000) {
            throw new IllegalArgumentException("--session-timeout-ms must be within 1000..60000 (the servers' bounds)");
        }
        int duration = durationSeconds != null ? durationSeconds : profile.defaultDurationSeconds();
        if (duration < 0 || (minFaults != null && minFaults < 0)) {
            throw new IllegalArgumentException("--duration-s and --min-faults must be >= 0");
        }
        List<String> nodeArguments = new ArrayList<>(profile.nodeArguments());
        if (noFastFailover) {
            nodeArguments.add("--no-fast-failover");
        }
        if (controller) {
            // Leaderships back on their preferred nodes within seconds, as the elections' 2 s hand-overs do: before
            // each fault the run waits for that (VerifyRun#settleLeaders).
            nodeArguments.addAll(List.of("--leadership", "controller", "--controller-rebalance-interval-ms", "2000"));
        }
        Path workDir = dir != null ? dir : Files.createTempDirectory("tenure-verify-");
        return new VerifyRun.Settings(
                workDir.toAbsolutePath(),
                seed != null ? seed : ThreadLocalRandom.current().nextLong(1, 1_000_000_000L),
                kinds,
                t,
                minFaults != null ? minFaults : kinds.size(),
                Duration.ofSeconds(duration),
                clients,
                keys,
                Duration.ofMillis(thinkMs),
                Duration.ofMillis(requestTimeoutMs),
                Duration.ofMillis(sessionTimeoutMs),
                Duration.ofMillis(quietMs),
                nodeMainClass,
                nodeArguments,
                partitions,
                plaintextReplication,
                noFastFailover || controller
                        ? Duration.ZERO
                        : FastFailover.suspicionFor(Duration.ofMillis(sessionTimeoutMs)),
                controller);
    }

    /** The fault kinds a run with several partitions leaves out (and refuses when named). */
    static final List<FaultKind> SINGLE_LOG_ONLY = List.of(FaultKind.WIPE_REPLICA, FaultKind.REPLACE_REPLICA);

    private static void positive(String flag, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(flag + " must be >= 1, was " + value);
        }
    }

    /** Parses {@code ci} / {@code soak} / {@code snapshots} / {@code fast-failover}, case-insensitively. */
    static final class ProfileConverter implements picocli.CommandLine.ITypeConverter<Profile> {
        @Override
        public Profile convert(String value) {
            return Profile.valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }
}
