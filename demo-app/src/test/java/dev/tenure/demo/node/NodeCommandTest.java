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
package dev.tenure.demo.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.zookeeper.FastFailover;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class NodeCommandTest {
    @TempDir
    Path dir;

    /** Runs {@code node} with valid required options plus {@code extra}; returns the exit code and stderr. */
    private String[] run(String... extra) {
        String[] base = {
            "--id", "r1",
            "--zk", "127.0.0.1:1",
            "--data-dir", dir.resolve("data").toString(),
            "--http", "127.0.0.1:0",
            "--repl", "127.0.0.1:0",
            "--replicas", "r1,r2,r3"
        };
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new NodeCommand()).execute(args);
        } finally {
            System.setErr(err);
        }
        return new String[] {String.valueOf(exit), captured.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void aRequestTimeoutBelowOneMillisecondIsABadArgumentAndNothingStarts() {
        String[] r = run("--request-timeout-ms", "0");

        assertEquals("64", r[0], r[1]);
        assertTrue(r[1].contains("--request-timeout-ms must be at least 1, was 0"), r[1]);
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }

    @Test
    void aBadAddressIsABadArgumentNamingTheFlag() {
        String[] r = run("--http-advertise", "no-port");

        assertEquals("64", r[0], r[1]);
        assertTrue(r[1].contains("--http-advertise must be HOST:PORT, was 'no-port'"), r[1]);
    }

    @Test
    void theReplicationTransportsSecurityMustBeChosenExplicitly() {
        String[] neither = run();
        assertEquals("64", neither[0], neither[1]);
        assertTrue(
                neither[1].contains("--transport-tls-config FILE") && neither[1].contains("--transport-plaintext"),
                neither[1]);
        String[] both = run(
                "--transport-plaintext",
                "--transport-tls-config",
                dir.resolve("t.properties").toString());
        assertEquals("64", both[0], both[1]);
        assertTrue(both[1].contains("exclude each other"), both[1]);
        String[] missing =
                run("--transport-tls-config", dir.resolve("missing.properties").toString());
        assertEquals("64", missing[0], missing[1]);
        assertTrue(missing[1].contains("missing.properties"), missing[1]);
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }

    @Test
    void aZooKeeperTlsConfigThatIsMissingOrHasNoTrustStoreIsABadArgumentAndNothingStarts() throws Exception {
        String[] missing = run(
                "--transport-plaintext",
                "--zk-tls-config",
                dir.resolve("zk-tls.properties").toString());
        assertEquals("64", missing[0], missing[1]);
        assertTrue(missing[1].contains("zk-tls.properties does not exist"), missing[1]);
        Path noTrust = Files.writeString(dir.resolve("no-trust.properties"), "zookeeper.client.secure=true\n");
        String[] bad = run("--transport-plaintext", "--zk-tls-config", noTrust.toString());
        assertEquals("64", bad[0], bad[1]);
        assertTrue(bad[1].contains("zookeeper.ssl.trustStore.location is missing"), bad[1]);
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }

    @Test
    void theSnapshotFlagsDefaultToTheReplicatorsDefaults() {
        NodeCommand c = new NodeCommand();
        new CommandLine(c)
                .parseArgs(
                        "--id",
                        "r1",
                        "--zk",
                        "z:1",
                        "--data-dir",
                        "d",
                        "--http",
                        "h:1",
                        "--repl",
                        "h:2",
                        "--replicas",
                        "r1");

        assertEquals(SnapshotPolicy.DEFAULT_ENTRIES, c.snapshotEntries);
        assertEquals(SnapshotPolicy.DEFAULT_BYTES, c.snapshotBytes);
        assertEquals(SnapshotPolicy.defaults().randomSpread(), c.snapshotSpread);
        assertEquals(5_000, c.catchUpTail);
        assertEquals(LogConfig.DEFAULT_MAX_SEGMENT_BYTES, c.segmentBytes);
    }

    @Test
    void sizesArePlainBytesOrWholeNumbersWithABinaryUnit() {
        NodeCommand c = new NodeCommand();
        new CommandLine(c)
                .parseArgs(
                        "--id",
                        "r1",
                        "--zk",
                        "z:1",
                        "--data-dir",
                        "d",
                        "--http",
                        "h:1",
                        "--repl",
                        "h:2",
                        "--replicas",
                        "r1",
                        "--snapshot-bytes",
                        "4096",
                        "--segment-bytes",
                        "2KiB");

        assertEquals(4096, c.snapshotBytes);
        assertEquals(2048, c.segmentBytes);
        assertEquals(64, ByteSize.parse("64"));
        assertEquals(64, ByteSize.parse("64B"));
        assertEquals(5L << 10, ByteSize.parse("5k"));
        assertEquals(64L << 20, ByteSize.parse("64MiB"));
        assertEquals(64L << 20, ByteSize.parse("64 M"));
        assertEquals(3L << 30, ByteSize.parse("3GiB"));
    }

    @Test
    void aSizeThatIsNotOneIsABadArgumentNamingTheFlag() {
        for (String bad : new String[] {"64MB", "1.5M", "-1", "lots", "9999999999G"}) {
            String[] r = run("--segment-bytes", bad);

            assertEquals("64", r[0], bad + ": " + r[1]);
            assertTrue(r[1].contains("--segment-bytes"), r[1]);
        }
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }

    @Test
    void snapshotSettingsOutOfRangeAreBadArgumentsAndNothingStarts() {
        String[][] cases = {
            {"--snapshot-entries", "0", "--snapshot-entries must be at least 1, was 0"},
            {"--snapshot-bytes", "0", "--snapshot-bytes must be at least 1, was 0"},
            {"--snapshot-spread", "1", "--snapshot-spread must be in [0, 1), was 1.0"},
            {"--snapshot-spread", "-0.1", "--snapshot-spread must be in [0, 1), was -0.1"},
            {"--catch-up-tail", "-1", "--catch-up-tail must be at least 0, was -1"},
            {"--segment-bytes", "63", "--segment-bytes must be at least 64, was 63"},
        };
        for (String[] c : cases) {
            String[] r = run(c[0], c[1]);

            assertEquals("64", r[0], String.join(" ", c) + ": " + r[1]);
            assertTrue(r[1].contains(c[2]), r[1]);
        }
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }

    /** Parses {@code args} with {@code env} as the environment; returns the command. */
    private static NodeCommand parse(java.util.Map<String, String> env, String... args) {
        NodeCommand node = new NodeCommand();
        CommandLine cl = new CommandLine(node);
        cl.setDefaultValueProvider(new EnvironmentDefaults(env));
        cl.parseArgs(args);
        return node;
    }

    @Test
    void everyOptionCanComeFromATenureEnvironmentVariableAndAFlagWins() {
        java.util.Map<String, String> env = java.util.Map.of(
                "TENURE_ID", "r2",
                "TENURE_ZK", "127.0.0.1:2181",
                "TENURE_DATA_DIR", "/var/lib/tenure",
                "TENURE_HTTP", "127.0.0.1:8082",
                "TENURE_REPL", "127.0.0.1:7082",
                "TENURE_REPLICAS", "r1,r2,r3",
                "TENURE_CLUSTER", "prod",
                "TENURE_TRANSPORT_PLAINTEXT", "true",
                "TENURE_HTTP_ALLOWED_HOST", "kv.example,kv2.example",
                "TENURE_SESSION_TIMEOUT_MS", "4000");
        NodeCommand fromEnv = parse(env);
        assertEquals("r2", fromEnv.id);
        assertEquals("127.0.0.1:2181", fromEnv.zk);
        assertEquals(Path.of("/var/lib/tenure"), fromEnv.dataDir);
        assertEquals("prod", fromEnv.cluster, "the variable wins over the built-in default");
        assertTrue(fromEnv.transportPlaintext);
        assertEquals(java.util.List.of("kv.example", "kv2.example"), fromEnv.httpAllowedHosts);
        assertEquals(4000, fromEnv.sessionTimeoutMs);

        NodeCommand flagged = parse(env, "--id", "r3", "--cluster", "test");
        assertEquals("r3", flagged.id, "a flag wins over the variable");
        assertEquals("test", flagged.cluster);
        assertEquals("TENURE_ZK_AUTH_FILE", EnvironmentDefaults.variableOf("--zk-auth-file"));
    }

    @Test
    void aBadValueFromTheEnvironmentIsABadArgumentNamingTheOption() {
        CommandLine cl = new CommandLine(new NodeCommand());
        cl.setDefaultValueProvider(new EnvironmentDefaults(java.util.Map.of("TENURE_PARTITIONS", "many")));
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        cl.setErr(new java.io.PrintWriter(captured, true, StandardCharsets.UTF_8));
        int exit = cl.execute(
                "--id",
                "r1",
                "--zk",
                "127.0.0.1:1",
                "--data-dir",
                dir.resolve("data").toString(),
                "--http",
                "127.0.0.1:0",
                "--repl",
                "127.0.0.1:0",
                "--replicas",
                "r1");
        String err = captured.toString(StandardCharsets.UTF_8);
        assertEquals(64, exit, err);
        assertTrue(err.contains("--partitions") && err.contains("many"), err);
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }

    private static final String[] REQUIRED = {
        "--id", "r1", "--zk", "z:1", "--data-dir", "d", "--http", "h:1", "--repl", "h:2", "--replicas", "r1"
    };

    /** Parses the required options plus {@code extra} with {@code env} as the environment. */
    private static NodeCommand parseWith(java.util.Map<String, String> env, String... extra) {
        String[] args = java.util.stream.Stream.concat(
                        java.util.Arrays.stream(REQUIRED), java.util.Arrays.stream(extra))
                .toArray(String[]::new);
        return parse(env, args);
    }

    @Test
    void fastFailoverIsOnByDefaultWithBoundsDerivedFromTheSessionTimeout() {
        FastFailover f = parseWith(java.util.Map.of()).fastFailover();

        assertTrue(f.enabled());
        assertEquals(FastFailover.fromSessionTimeout(), f, "derived at start from the negotiated session timeout");
        FastFailover resolved = f.resolve(java.time.Duration.ofSeconds(10));
        assertEquals(3_333, resolved.suspicionTimeout().toMillis());
        assertEquals(3_333, resolved.minimumTerm().toMillis());
        assertEquals(3_333, resolved.deposeBackoff().toMillis());
    }

    @Test
    void noFastFailoverTurnsItOffFromTheFlagOrTheEnvironment() {
        assertEquals(
                FastFailover.off(),
                parseWith(java.util.Map.of(), "--no-fast-failover").fastFailover());
        assertEquals(
                FastFailover.off(),
                parseWith(java.util.Map.of("TENURE_NO_FAST_FAILOVER", "true")).fastFailover());
        assertTrue(parseWith(java.util.Map.of("TENURE_NO_FAST_FAILOVER", "false"))
                .fastFailover()
                .enabled());
    }

    @Test
    void anExplicitSuspicionTimeoutSetsTheMinimumTermAndBackoffUnlessTheyAreGiven() {
        FastFailover suspicion =
                parseWith(java.util.Map.of(), "--suspicion-timeout-ms", "800").fastFailover();
        assertEquals(800, suspicion.suspicionTimeout().toMillis());
        assertEquals(800, suspicion.minimumTerm().toMillis());
        assertEquals(800, suspicion.deposeBackoff().toMillis());

        FastFailover all = parseWith(
                        java.util.Map.of("TENURE_SUSPICION_TIMEOUT_MS", "700"),
                        "--minimum-term-ms",
                        "2000",
                        "--depose-backoff-ms",
                        "0")
                .fastFailover();
        assertEquals(700, all.suspicionTimeout().toMillis(), "from the environment");
        assertEquals(2000, all.minimumTerm().toMillis());
        assertEquals(0, all.deposeBackoff().toMillis());

        FastFailover termOnly = parseWith(
                        java.util.Map.of(), "--session-timeout-ms", "6000", "--minimum-term-ms", "3000")
                .fastFailover();
        assertEquals(2000, termOnly.suspicionTimeout().toMillis(), "a third of the session timeout");
        assertEquals(3000, termOnly.minimumTerm().toMillis());
        assertEquals(2000, termOnly.deposeBackoff().toMillis());
    }

    @Test
    void badFastFailoverSettingsAreBadArgumentsAndNothingStarts() {
        String[][] cases = {
            {"--suspicion-timeout-ms", "199", "--suspicion-timeout-ms must be at least 200 (two heartbeat intervals)"},
            {"--suspicion-timeout-ms", "10000", "--suspicion-timeout-ms must be below --session-timeout-ms (10000)"},
            {"--minimum-term-ms", "-1", "--minimum-term-ms must be at least 0, was -1"},
            {"--depose-backoff-ms", "-5", "--depose-backoff-ms must be at least 0, was -5"},
            {"--suspicion-timeout-ms", "soon", "--suspicion-timeout-ms"},
        };
        for (String[] c : cases) {
            String[] r = run("--transport-plaintext", c[0], c[1]);

            assertEquals("64", r[0], String.join(" ", c) + ": " + r[1]);
            assertTrue(r[1].contains(c[2]), r[1]);
        }
        String[] both = run("--transport-plaintext", "--no-fast-failover", "--suspicion-timeout-ms", "800");
        assertEquals("64", both[0], both[1]);
        assertTrue(both[1].contains("--no-fast-failover turns fast failover off"), both[1]);
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }

    @Test
    void leadershipIsElectionUnlessControllerIsAskedForWhoseRebalanceDefaultsToFiveMinutesAndTenPercent() {
        NodeCommand plain = parseWith(java.util.Map.of(), "--partitions", "4");
        assertEquals(KvNode.Leadership.ELECTION, plain.leadershipMode());

        NodeCommand controller = parseWith(java.util.Map.of(), "--partitions", "4", "--leadership", "controller");
        assertEquals(KvNode.Leadership.CONTROLLER, controller.leadershipMode());
        assertEquals(java.time.Duration.ofMinutes(5), controller.controllerRebalanceInterval());
        assertEquals(10.0, controller.controllerImbalancePercent());

        NodeCommand tuned = parseWith(
                java.util.Map.of("TENURE_LEADERSHIP", "controller", "TENURE_CONTROLLER_IMBALANCE_PERCENT", "25"),
                "--partitions",
                "4",
                "--controller-rebalance-interval-ms",
                "0",
                "--no-fast-failover");
        assertEquals(KvNode.Leadership.CONTROLLER, tuned.leadershipMode(), "from the environment");
        assertEquals(java.time.Duration.ZERO, tuned.controllerRebalanceInterval(), "0: no automatic rebalance");
        assertEquals(25.0, tuned.controllerImbalancePercent());
    }

    @Test
    void wrongLeadershipCombinationsAreBadArgumentsNamingTheFlagsAndNothingStarts() {
        String[][] cases = {
            {"--leadership controller needs --partitions 2 or more, was 1", "--leadership", "controller"},
            {"--leadership must be election or controller, was 'raft'", "--leadership", "raft", "--partitions", "4"},
            {
                "tune fast failover, which only elections have",
                "--leadership",
                "controller",
                "--partitions",
                "4",
                "--suspicion-timeout-ms",
                "800"
            },
            {"apply to --leadership controller only", "--partitions", "4", "--controller-rebalance-interval-ms", "1000"
            },
            {"apply to --leadership controller only", "--controller-imbalance-percent", "5"},
            {
                "--controller-rebalance-interval-ms must be at least 0, was -1",
                "--leadership",
                "controller",
                "--partitions",
                "4",
                "--controller-rebalance-interval-ms",
                "-1"
            },
            {
                "--controller-imbalance-percent must be within 0..100, was 101.0",
                "--leadership",
                "controller",
                "--partitions",
                "4",
                "--controller-imbalance-percent",
                "101"
            },
        };
        for (String[] c : cases) {
            String[] args = new String[c.length];
            args[0] = "--transport-plaintext";
            System.arraycopy(c, 1, args, 1, c.length - 1);
            String[] r = run(args);

            assertEquals("64", r[0], String.join(" ", args) + ": " + r[1]);
            assertTrue(r[1].contains(c[0]), r[1]);
        }
        assertTrue(!Files.exists(dir.resolve("data")), "nothing was created");
    }
}
