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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.harness.fault.FaultKind;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code verify} command's arguments; runs that start processes are in {@code VerifyIT}. */
class VerifyCommandTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {}

    private Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        PrintStream oldErr = System.err;
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = new CommandLine(new VerifyCommand(new PrintStream(out, true, StandardCharsets.UTF_8)));
            cl.setErr(new PrintWriter(err, true));
            int exit = cl.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err + stderr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(oldErr);
        }
    }

    @Test
    void badArgumentsExit64WithAClearMessageAndStartNothing() throws Exception {
        Path work = dir.resolve("work");
        List<String[]> bad = List.of(
                new String[] {"--faults", "reboot", "--dir", work.toString()},
                new String[] {"--target", "everyone", "--dir", work.toString()},
                new String[] {"--clients", "0", "--dir", work.toString()},
                new String[] {"--session-timeout-ms", "100", "--dir", work.toString()},
                new String[] {"--profile", "forever", "--dir", work.toString()},
                new String[] {"--duration-s", "-1", "--dir", work.toString()},
                new String[] {"--no-such-flag"});
        for (String[] args : bad) {
            Run r = run(args);
            assertEquals(64, r.exit(), String.join(" ", args) + ": " + r);
            assertTrue(
                    r.err().contains("error")
                            || r.err().contains("Unknown")
                            || r.err().contains("Invalid"),
                    r.err());
        }
        assertTrue(Files.notExists(work), "nothing was started or created");
    }

    @Test
    void theCiProfileInjectsEveryKindOnceAndTheSoakProfileRunsHalfAnHour() throws Exception {
        VerifyCommand ci = new VerifyCommand();
        new CommandLine(ci).parseArgs("--seed", "3", "--dir", dir.toString());
        VerifyRun.Settings s = ci.settings();
        assertEquals(FaultKind.standard(), s.kinds());
        assertEquals(FaultKind.standard().size(), s.minFaults());
        assertEquals(Duration.ZERO, s.duration());
        assertEquals(3, s.seed());
        assertEquals(10, s.clients());
        assertEquals(20, s.keys());
        assertEquals(dev.tenure.harness.NodeLauncher.DEMO_MAIN_CLASS, s.nodeMainClass());

        assertEquals(List.of(), s.nodeArguments(), "the replicas run with the node's defaults");
        assertEquals(false, s.plaintextReplication(), "replication over mutual TLS by default");

        VerifyCommand plaintext = new VerifyCommand();
        new CommandLine(plaintext).parseArgs("--transport-plaintext", "--dir", dir.toString());
        assertEquals(true, plaintext.settings().plaintextReplication(), "--transport-plaintext keeps the old mode");

        VerifyCommand soak = new VerifyCommand();
        new CommandLine(soak).parseArgs("--profile", "soak", "--dir", dir.toString());
        assertEquals(Duration.ofMinutes(30), soak.settings().duration());
        assertEquals(List.of(), soak.settings().nodeArguments());
    }

    @Test
    void theFastFailoverProfileKillsAndPausesTheLeaderAroundTheSuspicionTimeoutWithFastFailoverOn() throws Exception {
        VerifyCommand ff = new VerifyCommand();
        new CommandLine(ff).parseArgs("--profile", "fast-failover", "--seed", "6", "--dir", dir.toString());
        VerifyRun.Settings s = ff.settings();
        assertEquals(
                List.of(
                        FaultKind.KILL_REPLICA,
                        FaultKind.PAUSE_LEADER_BELOW_SUSPICION,
                        FaultKind.PAUSE_LEADER_ABOVE_SUSPICION),
                s.kinds());
        assertEquals(dev.tenure.harness.fault.FaultPlan.Target.LEADER, s.target(), "every kill hits the leader");
        assertEquals(Duration.ofMinutes(1), s.duration());
        assertEquals(List.of(), s.nodeArguments(), "fast failover is the node's default");
        assertEquals(Duration.ofMillis(1333), s.suspicionTimeout(), "a third of the 4 s session timeout");

        VerifyCommand off = new VerifyCommand();
        new CommandLine(off)
                .parseArgs(
                        "--profile", "fast-failover", "--no-fast-failover", "--target", "any", "--dir", dir.toString());
        assertEquals(List.of("--no-fast-failover"), off.settings().nodeArguments());
        assertEquals(Duration.ZERO, off.settings().suspicionTimeout());
        assertEquals(
                dev.tenure.harness.fault.FaultPlan.Target.ANY, off.settings().target(), "--target wins");

        VerifyCommand ci = new VerifyCommand();
        new CommandLine(ci).parseArgs("--dir", dir.toString());
        assertTrue(
                !ci.settings().kinds().contains(FaultKind.PAUSE_LEADER_ABOVE_SUSPICION)
                        && !ci.settings().kinds().contains(FaultKind.PAUSE_LEADER_BELOW_SUSPICION),
                "the other profiles keep their kinds (and their seeds' schedules)");
        assertEquals(
                dev.tenure.harness.fault.FaultPlan.Target.ANY, ci.settings().target());
    }

    @Test
    void theSnapshotsProfileInjectsEveryKindWithTheWipeAndGivesEveryReplicaSmallSnapshotThresholds() throws Exception {
        VerifyCommand snapshots = new VerifyCommand();
        new CommandLine(snapshots).parseArgs("--profile", "snapshots", "--seed", "4", "--dir", dir.toString());
        VerifyRun.Settings s = snapshots.settings();
        assertEquals(FaultKind.standard(), s.kinds());
        assertTrue(s.kinds().contains(FaultKind.WIPE_REPLICA));
        assertEquals(FaultKind.standard().size(), s.minFaults());
        assertEquals(Duration.ZERO, s.duration());
        assertEquals(
                List.of("--snapshot-entries", "200", "--segment-bytes", "16384", "--catch-up-tail", "50"),
                s.nodeArguments());

        VerifyCommand longer = new VerifyCommand();
        new CommandLine(longer).parseArgs("--profile", "SNAPSHOTS", "--duration-s", "600", "--dir", dir.toString());
        assertEquals(Duration.ofMinutes(10), longer.settings().duration());
        assertEquals(s.nodeArguments(), longer.settings().nodeArguments());
    }

    @Test
    void withPartitionsEveryKindButTheSingleLogOnesIsInjectedAndNamingThoseOrAnOutOfRangeCountExits64()
            throws Exception {
        VerifyCommand one = new VerifyCommand();
        new CommandLine(one).parseArgs("--dir", dir.toString());
        assertEquals(1, one.settings().partitions(), "the single log by default");

        VerifyCommand four = new VerifyCommand();
        new CommandLine(four).parseArgs("--partitions", "4", "--seed", "5", "--dir", dir.toString());
        VerifyRun.Settings s = four.settings();
        assertEquals(4, s.partitions());
        List<FaultKind> expected = new java.util.ArrayList<>(FaultKind.standard());
        expected.removeAll(List.of(FaultKind.WIPE_REPLICA, FaultKind.REPLACE_REPLICA));
        assertEquals(expected, s.kinds());
        assertEquals(expected.size(), s.minFaults());

        Path work = dir.resolve("work");
        for (String[] args : List.of(
                new String[] {"--partitions", "4", "--faults", "kill-replica,wipe-replica", "--dir", work.toString()},
                new String[] {"--partitions", "3", "--faults", "replace-replica", "--dir", work.toString()},
                new String[] {"--partitions", "0", "--dir", work.toString()},
                new String[] {"--partitions", "65", "--dir", work.toString()})) {
            Run r = run(args);
            assertEquals(64, r.exit(), String.join(" ", args) + ": " + r);
            assertTrue(r.err().contains("error"), r.err());
        }
        assertTrue(Files.notExists(work), "nothing was started or created");
    }

    @Test
    void withTheControllerTheReplicasRunItAndTheControllerFaultsJoinTheProfilesAndWithoutItTheyAreRefused()
            throws Exception {
        VerifyCommand controller = new VerifyCommand();
        new CommandLine(controller)
                .parseArgs("--leadership", "controller", "--partitions", "4", "--seed", "5", "--dir", dir.toString());
        VerifyRun.Settings s = controller.settings();
        assertTrue(s.controller());
        List<FaultKind> expected = new java.util.ArrayList<>(FaultKind.standard());
        expected.removeAll(List.of(FaultKind.WIPE_REPLICA, FaultKind.REPLACE_REPLICA));
        expected.addAll(FaultKind.controllerMode());
        assertEquals(expected, s.kinds(), "the CI profile's partition faults and the controller's");
        assertEquals(expected.size(), s.minFaults());
        assertEquals(
                List.of("--leadership", "controller", "--controller-rebalance-interval-ms", "2000"),
                s.nodeArguments(),
                "leaderships back on their preferred nodes within seconds, as the elections' hand-overs do");
        assertEquals(java.time.Duration.ZERO, s.suspicionTimeout(), "no fast failover with the controller");

        VerifyCommand named = new VerifyCommand();
        new CommandLine(named)
                .parseArgs(
                        "--leadership",
                        "controller",
                        "--partitions",
                        "4",
                        "--faults",
                        "kill-controller,kill-replica",
                        "--dir",
                        dir.toString());
        assertEquals(
                List.of(FaultKind.KILL_CONTROLLER, FaultKind.KILL_REPLICA),
                named.settings().kinds());

        VerifyCommand election = new VerifyCommand();
        new CommandLine(election).parseArgs("--partitions", "4", "--dir", dir.toString());
        assertFalse(election.settings().controller());
        assertTrue(election.settings().kinds().stream().noneMatch(FaultKind::needsController));

        Path work = dir.resolve("work");
        for (String[] args : List.of(
                new String[] {"--leadership", "controller", "--dir", work.toString()},
                new String[] {"--leadership", "raft", "--partitions", "4", "--dir", work.toString()},
                new String[] {"--partitions", "4", "--faults", "pause-controller", "--dir", work.toString()},
                new String[] {"--partitions", "4", "--faults", "reassign-partition", "--dir", work.toString()},
                new String[] {
                    "--leadership",
                    "controller",
                    "--partitions",
                    "4",
                    "--profile",
                    "fast-failover",
                    "--dir",
                    work.toString()
                })) {
            Run r = run(args);
            assertEquals(64, r.exit(), String.join(" ", args) + ": " + r);
            assertTrue(r.err().contains("error"), r.err());
        }
        assertTrue(Files.notExists(work), "nothing was started or created");
    }

    @Test
    void checkOnlyWithPartitionsSplitsTheHistorySoOneOffsetInTwoPartitionsIsNoDuplicate() throws Exception {
        // k0 and k4 fall in different partitions of 2 (CRC-32 mod 2); each write reports offset 1 of its own log.
        assertTrue(dev.tenure.demo.kv.Partitioning.partitionOf("k0", 2)
                != dev.tenure.demo.kv.Partitioning.partitionOf("k4", 2));
        Path history = dir.resolve("two.jsonl");
        Files.writeString(history, """
                {"process":0,"type":"invoke","f":"write","key":"k0","value":"a","time":1}
                {"process":0,"type":"ok","f":"write","key":"k0","value":"a","time":2,"epoch":1,"offset":1}
                {"process":1,"type":"invoke","f":"write","key":"k4","value":"b","time":3}
                {"process":1,"type":"ok","f":"write","key":"k4","value":"b","time":4,"epoch":1,"offset":1}
                """);
        Run whole = run("--check", history.toString());
        assertEquals(1, whole.exit(), "one log: a duplicate position: " + whole);
        Run split = run("--check", history.toString(), "--partitions", "2");
        assertEquals(0, split.exit(), split.toString());
        assertTrue(split.out().contains("History check by partition: VALID"), split.out());
    }

    @Test
    void checkOnlyJudgesARecordedHistoryAndRefusesACorruptOne() throws Exception {
        Path valid = dir.resolve("valid.jsonl");
        Files.writeString(valid, """
                {"process":0,"type":"invoke","f":"write","key":"k1","value":"a","time":1}
                {"process":0,"type":"ok","f":"write","key":"k1","value":"a","time":2,"epoch":1,"offset":1}
                {"process":1,"type":"invoke","f":"read","key":"k1","value":null,"time":3}
                {"process":1,"type":"ok","f":"read","key":"k1","value":"a","time":4}
                """);
        Run ok = run("--check", valid.toString());
        assertEquals(0, ok.exit(), ok.toString());
        assertTrue(ok.out().contains("VALID"), ok.out());

        Path stale = dir.resolve("stale.jsonl");
        Files.writeString(
                stale, Files.readString(valid).replace("\"value\":\"a\",\"time\":4", "\"value\":null,\"time\":4"));
        Run bad = run("--check", stale.toString());
        assertEquals(1, bad.exit(), bad.toString());
        assertTrue(bad.out().contains("INVALID"), bad.out());

        Path corrupt = dir.resolve("corrupt.jsonl");
        Files.writeString(corrupt, "{\"process\":0,\"type\":\"invoke\"\n");
        Run refused = run("--check", corrupt.toString());
        assertEquals(64, refused.exit(), refused.toString());
        assertTrue(refused.err().contains("line 1"), refused.err());
    }

    @Test
    void checkOnlyAcceptsJepsenNemesisLinesAndShowsThemInTheTimeline() throws Exception {
        Path history = dir.resolve("nemesis.jsonl");
        Files.writeString(history, """
                {"process":0,"type":"invoke","f":"write","key":"k1","value":"a","time":1000000}
                {"process":"nemesis","type":"info","f":"start-partition","value":"majority","time":1500000}
                {"process":0,"type":"ok","f":"write","key":"k1","value":"a","time":2000000,"epoch":1,"offset":1}
                {"process":"nemesis","type":"info","f":"stop-partition","value":null,"time":2500000}
                {"process":1,"type":"invoke","f":"read","key":"k1","value":null,"time":3000000}
                {"process":1,"type":"ok","f":"read","key":"k1","value":"a","time":4000000}
                """);
        Run ok = run("--check", history.toString());
        assertEquals(0, ok.exit(), ok.toString());
        assertTrue(ok.out().contains("verdict: VALID"), ok.out());
        assertTrue(ok.out().contains("timeline: 2 non-client events"), ok.out());
        assertTrue(ok.out().contains("t=0.500ms nemesis info start-partition \"majority\" [line 2]"), ok.out());
    }

    @Test
    void noOptionTurnsOffSafetyAndTheReplicasRunTheDemosOwnNode() throws Exception {
        StringWriter help = new StringWriter();
        new CommandLine(new VerifyCommand()).usage(new PrintWriter(help));
        assertTrue(!help.toString().contains("unsafe"), help.toString());
        org.junit.jupiter.api.Assertions.assertThrows(
                CommandLine.UnmatchedArgumentException.class,
                () -> new CommandLine(new VerifyCommand())
                        .parseArgs("--unsafe-commit-on-local-append", "--dir", dir.toString()));
        VerifyCommand command = new VerifyCommand();
        new CommandLine(command).parseArgs("--dir", dir.toString());
        assertEquals(
                dev.tenure.harness.NodeLauncher.DEMO_MAIN_CLASS,
                command.settings().nodeMainClass());
    }
}
