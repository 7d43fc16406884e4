package dev.tenure.demo.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.checker.CheckReport;
import dev.tenure.checker.History;
import dev.tenure.checker.HistoryChecker;
import dev.tenure.checker.HistoryReader;
import dev.tenure.checker.HistoryWriter;
import dev.tenure.harness.NodeLauncher;
import dev.tenure.harness.fault.FaultKind;
import dev.tenure.harness.fault.FaultPlan;
import dev.tenure.harness.fault.Nemesis;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeoutException;

/**
 * One verification run: starts the {@link Testbed}, runs the {@link Workload} while the {@link Nemesis} injects
 * the {@link FaultPlan}'s faults one after another (each healed before the next), heals everything, reads every
 * key, stops every process, and checks the recorded history with the {@link HistoryChecker}.
 *
 * <p>Every process started is stopped when the run ends, whether it passes, fails or throws ({@link #call()}
 * closes the testbed in a {@code finally}); {@link #abort()} does the same from another thread (a shutdown hook).
 * Not thread-safe otherwise: call {@link #call()} once.
 */
final class VerifyRun {
    /**
     * The settings of a run.
     *
     * @param dir working directory: logs, data, {@code history.jsonl}
     * @param seed seeds the fault plan, the targets and the clients' choices
     * @param kinds the fault kinds to inject
     * @param target who targeted faults hit
     * @param minFaults at least this many faults (at least one per kind)
     * @param duration keep injecting faults until this much time has passed since the first one
     * @param clients concurrent clients
     * @param keys size of the key space
     * @param meanThinkTime each client's mean pause between operations
     * @param requestTimeout each HTTP exchange's timeout
     * @param sessionTimeout the replicas' ZooKeeper session timeout
     * @param quietTime normal operation between a heal and the next fault
     * @param nodeMainClass the main class every replica process runs: the demo's ({@link
     *     NodeLauncher#DEMO_MAIN_CLASS}); the harness's own tests run a deliberately broken node from their class
     *     path to show that the checker catches it
     * @param nodeArguments more {@code node} arguments every replica gets (the profile's, such as snapshot
     *     thresholds)
     */
    record Settings(
            Path dir,
            long seed,
            List<FaultKind> kinds,
            FaultPlan.Target target,
            int minFaults,
            Duration duration,
            int clients,
            int keys,
            Duration meanThinkTime,
            Duration requestTimeout,
            Duration sessionTimeout,
            Duration quietTime,
            String nodeMainClass,
            List<String> nodeArguments) {
        Settings {
            Objects.requireNonNull(dir, "dir");
            kinds = List.copyOf(kinds);
            if (kinds.isEmpty()) {
                throw new IllegalArgumentException("at least one fault kind is needed");
            }
            if (clients < 1 || keys < 1) {
                throw new IllegalArgumentException("--clients and --keys must be >= 1");
            }
            Objects.requireNonNull(nodeMainClass, "nodeMainClass");
            nodeArguments = List.copyOf(nodeArguments);
        }
    }

    /**
     * One injected fault, timed on the history's clock ({@link System#nanoTime()}), so that it lines up with the
     * events around it.
     *
     * @param kind its kind
     * @param description what was done
     * @param start when it was injected
     * @param healed when it was healed
     * @param catchUp for a wipe: how the wiped replica caught up (empty for other faults, or if none was wiped)
     * @param installs for a wipe: the snapshot installs the wiped replica logged between its restart and its
     *     catch-up
     */
    record Injected(
            FaultKind kind,
            String description,
            long start,
            long healed,
            Optional<Nemesis.CatchUp> catchUp,
            long installs) {
        Injected {
            Objects.requireNonNull(catchUp, "catchUp");
        }

        /** A wiped replica that installed a snapshot before it caught up. */
        boolean cameBackByInstall() {
            return catchUp.isPresent() && installs > 0;
        }

        /** The JSON line of {@code faults.jsonl}. */
        ObjectNode toJson() {
            ObjectNode n = new ObjectMapper().createObjectNode();
            n.put("fault", kind.wireName());
            n.put("description", description);
            n.put("start", start);
            n.put("healed", healed);
            catchUp.ifPresent(c -> n.set("caughtUp", catchUpJson()));
            return n;
        }

        /** The wiped replica's catch-up: replica, offset, time, installs, log start and snapshot offsets. */
        ObjectNode catchUpJson() {
            Nemesis.CatchUp c = catchUp.orElseThrow();
            ObjectNode n = new ObjectMapper().createObjectNode();
            n.put("replica", c.replica());
            n.put("leader", c.leader());
            n.put("offset", c.offset());
            n.put("millis", c.took().toMillis());
            n.put("installs", installs);
            putOffset(n, "logStartOffset", c.status().logStartOffset());
            putOffset(n, "snapshotOffset", c.status().snapshotOffset());
            putOffset(n, "leaderLogStartOffset", c.leaderLogStart());
            return n;
        }

        private static void putOffset(ObjectNode n, String field, OptionalLong value) {
            if (value.isPresent()) {
                n.put(field, value.getAsLong());
            } else {
                n.putNull(field);
            }
        }
    }

    /**
     * What a run found.
     *
     * @param report the checker's report
     * @param faults the faults injected, in order
     * @param leaderlessAfterHeal how many times no leader was agreed on within 30 s of a heal
     * @param history the history file
     * @param historyStart the time of the history's first event (the origin of the times the report prints)
     * @param elapsed the whole run
     */
    record Result(
            CheckReport report,
            List<Injected> faults,
            int leaderlessAfterHeal,
            Path history,
            long historyStart,
            Duration elapsed) {
        /** Faults injected by kind (every kind listed, zero included). */
        Map<FaultKind, Integer> faultsByKind() {
            Map<FaultKind, Integer> counts = new EnumMap<>(FaultKind.class);
            for (FaultKind k : FaultKind.values()) {
                counts.put(k, 0);
            }
            faults.forEach(f -> counts.merge(f.kind(), 1, Integer::sum));
            return counts;
        }

        /** The wipes that were injected (each waited for until its replica caught up), in order. */
        List<Injected> wipes() {
            return faults.stream()
                    .filter(f ->
                            f.kind() == FaultKind.WIPE_REPLICA && f.catchUp().isPresent())
                    .toList();
        }

        /** The replacements that were injected (each waited for until its replica caught up), in order. */
        List<Injected> replacements() {
            return faults.stream()
                    .filter(f ->
                            f.kind() == FaultKind.REPLACE_REPLICA && f.catchUp().isPresent())
                    .toList();
        }

        /** A fault with its times relative to the history's start, as the checker's report prints them. */
        String describe(Injected f) {
            return String.format(
                    "t=%.0fms..%.0fms %s",
                    (f.start() - historyStart) / 1e6, (f.healed() - historyStart) / 1e6, f.description());
        }

        ObjectNode toJson(Settings settings) {
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = json.createObjectNode();
            root.put("seed", settings.seed());
            root.put("verdict", report.verdict().name());
            root.put("operations", report.operations());
            root.put("elapsedSeconds", elapsed.toMillis() / 1000.0);
            ObjectNode byKind = root.putObject("faults");
            faultsByKind().forEach((k, n) -> byKind.put(k.wireName(), n));
            root.put(
                    "linearizabilityViolations",
                    report.linearizabilityViolations().size());
            root.put("unknownKeys", report.unknownKeys().size());
            root.put("lostWrites", report.lostWrites().size());
            root.put("positionViolations", report.positionViolations().size());
            root.put("leaderlessAfterHeal", leaderlessAfterHeal);
            ObjectNode wiped = root.putObject("wipes");
            wiped.put("injected", wipes().size());
            wiped.put("notInjected", faultsByKind().get(FaultKind.WIPE_REPLICA) - wipes().size());
            wiped.put(
                    "byInstall",
                    wipes().stream().filter(Injected::cameBackByInstall).count());
            ArrayNode caughtUp = wiped.putArray("caughtUp");
            wipes().forEach(w -> caughtUp.add(w.catchUpJson()));
            ObjectNode replaced = root.putObject("replacements");
            replaced.put("injected", replacements().size());
            replaced.put(
                    "notInjected",
                    faultsByKind().get(FaultKind.REPLACE_REPLICA)
                            - replacements().size());
            ArrayNode replacedCaughtUp = replaced.putArray("caughtUp");
            replacements().forEach(w -> replacedCaughtUp.add(w.catchUpJson()));
            root.put("checkMillis", report.elapsed().toMillis());
            root.put("history", history.toString());
            ArrayNode list = root.putArray("faultLog");
            faults.forEach(f -> list.add(describe(f)));
            return root;
        }
    }

    private static final Duration LEADER_WAIT = Duration.ofSeconds(30);
    private static final Duration FINAL_LEADER_WAIT = Duration.ofSeconds(90);
    private static final Duration FINAL_READ_BUDGET = Duration.ofSeconds(60);
    /** How long a wiped replica may take to catch up before the run gives up (exit code 2). */
    private static final Duration CATCH_UP_WAIT = Duration.ofMinutes(2);

    private static final List<String> IDS = List.of("r1", "r2", "r3");

    private final Settings settings;
    private final PrintStream out;
    private final Testbed bed;

    VerifyRun(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
        this.bed = new Testbed(
                settings.dir(),
                IDS,
                (int) settings.sessionTimeout().toMillis(),
                settings.nodeMainClass(),
                settings.nodeArguments());
    }

    /** Stops every process and proxy of the run; safe from any thread, idempotent. */
    void abort() {
        bed.close();
    }

    /**
     * Runs it.
     *
     * @throws TimeoutException if the system never elects a leader at the start, or not after the final heal
     * @throws IOException if a process cannot be started or the history cannot be written
     */
    Result call() throws IOException, InterruptedException, TimeoutException {
        long start = System.nanoTime();
        Path historyFile = settings.dir().resolve("history.jsonl");
        List<Injected> injected = new ArrayList<>();
        int leaderless = 0;
        try {
            say("starting 3 ZooKeeper servers and replicas r1, r2, r3 (session timeout "
                    + settings.sessionTimeout().toMillis() + " ms) in " + settings.dir());
            bed.start();
            String leader = bed.awaitFirstLeader(FINAL_LEADER_WAIT);
            say("leader " + leader + "; " + settings.clients() + " clients on " + settings.keys() + " keys");
            try (HistoryWriter history = HistoryWriter.create(historyFile);
                    java.io.Writer faultLog = java.nio.file.Files.newBufferedWriter(
                            settings.dir().resolve("faults.jsonl"), java.nio.charset.StandardCharsets.UTF_8)) {
                Workload workload = new Workload(
                        bed.urls(),
                        settings.clients(),
                        settings.keys(),
                        settings.seed(),
                        history,
                        settings.requestTimeout(),
                        settings.meanThinkTime());
                workload.start();
                try {
                    Thread.sleep(settings.quietTime().toMillis()); // normal operation before the first fault
                    FaultPlan plan = new FaultPlan(settings.seed(), settings.kinds(), settings.target());
                    Nemesis nemesis = new Nemesis(bed, settings.sessionTimeout(), settings.seed());
                    long faultsStart = System.nanoTime();
                    int planned =
                            Math.max(settings.minFaults(), settings.kinds().size());
                    Iterator<FaultPlan.Fault> faults = plan.faults();
                    for (int i = 0;
                            i < planned
                                    || System.nanoTime() - faultsStart
                                            < settings.duration().toNanos();
                            i++) {
                        FaultPlan.Fault fault = faults.next();
                        long at = System.nanoTime();
                        Nemesis.Injection injection = nemesis.inject(fault);
                        say(String.format(
                                "fault %d: %s for %d ms (%d operations so far)",
                                i + 1, injection.description(), injection.hold().toMillis(), workload.operations()));
                        Thread.sleep(injection.hold().toMillis()); // the fault stays in place this long
                        injection.heal();
                        long healed = System.nanoTime();
                        try {
                            String next = bed.awaitLeader(LEADER_WAIT);
                            say("  healed; leader " + next + " after " + (System.nanoTime() - healed) / 1_000_000
                                    + " ms");
                        } catch (TimeoutException e) {
                            leaderless++;
                            say("  healed; " + e.getMessage());
                        }
                        // A wiped replica must catch up before the next fault (docs/verification.md).
                        Optional<Nemesis.CatchUp> caughtUp;
                        try {
                            caughtUp = injection.awaitCatchUp(CATCH_UP_WAIT);
                        } catch (TimeoutException e) {
                            throw new TimeoutException("a wiped replica did not catch up: " + e.getMessage());
                        }
                        long installs = caughtUp.isPresent()
                                ? bed.snapshotInstallsSinceStart(caughtUp.get().replica())
                                : 0;
                        caughtUp.ifPresent(c -> say("  " + c + "; snapshot installs logged: " + installs));
                        Injected done =
                                new Injected(fault.kind(), injection.description(), at, healed, caughtUp, installs);
                        injected.add(done);
                        faultLog.write(done.toJson() + "\n");
                        faultLog.flush();
                        Thread.sleep(settings.quietTime().toMillis()); // normal operation between faults
                    }
                    bed.healEverything();
                    String last = bed.awaitLeader(FINAL_LEADER_WAIT);
                    Thread.sleep(settings.quietTime().toMillis()); // writes after the last heal
                    workload.stop();
                    say("stopped the clients after " + workload.operations() + " operations; reading every key from "
                            + last);
                    last = bed.awaitLeader(FINAL_LEADER_WAIT);
                    List<String> unread =
                            workload.finalReads(settings.clients(), URI.create(bed.url(last)), FINAL_READ_BUDGET);
                    if (!unread.isEmpty()) {
                        throw new TimeoutException("final reads failed for keys " + unread);
                    }
                } finally {
                    workload.stop();
                }
            }
        } finally {
            bed.close();
        }
        say("stopped every process; checking " + historyFile);
        History history = HistoryReader.read(historyFile);
        CheckReport report = HistoryChecker.create().check(history);
        return new Result(
                report,
                injected,
                leaderless,
                historyFile,
                history.startTime(),
                Duration.ofNanos(System.nanoTime() - start));
    }

    private void say(String line) {
        out.println("[verify] " + line);
        out.flush();
    }
}
