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
package dev.tenure.demo.zk;

import static dev.tenure.harness.ZooKeeperTestProcesses.alive;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.harness.ChildJvm;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.PidFile;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import dev.tenure.harness.ZooKeeperTestProcesses;
import dev.tenure.recipes.ZooKeeperClientTls;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ZkCommandTest {
    @TempDir
    Path dir;

    private final Set<Long> pids = new LinkedHashSet<>();
    private final List<ChildProcess> launchers = new ArrayList<>();

    private record Result(int code, String out, String err) {}

    private static Result zk(Object... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] strings = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            strings[i] = String.valueOf(args[i]);
        }
        int code = ZkCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), strings);
        return new Result(code, out.toString(), err.toString());
    }

    @AfterEach
    void stopEverythingStarted() throws Exception {
        for (ChildProcess launcher : launchers) {
            launcher.kill();
        }
        if (Files.exists(PidFile.path(dir))) {
            pids.addAll(ZooKeeperTestProcesses.pidsInFile(dir));
        }
        ZooKeeperTestProcesses.killLeftovers(dir, pids);
    }

    @Test
    @Timeout(90)
    void zkStartLeavesTheServersRunningAndZkStopStopsEveryRecordedPidButKeepsTheData() throws Exception {
        int base = freeBasePort();
        Result start = zk("start", "--dir", dir, "--base-port", base);
        if (Files.exists(PidFile.path(dir))) {
            pids.addAll(ZooKeeperTestProcesses.pidsInFile(dir));
        }
        assertEquals(0, start.code(), start.err());
        String connectString = "127.0.0.1:" + base + ",127.0.0.1:" + (base + 1) + ",127.0.0.1:" + (base + 2);
        assertTrue(start.out().lines().anyMatch(("connect string: " + connectString)::equals), start.out());
        assertEquals(3, pids.size(), start.out());
        for (long pid : pids) {
            assertTrue(alive(pid), "pid " + pid + " runs after zk start returned");
        }
        String config = Files.readString(dir.resolve("zk-2/zoo.cfg"), UTF_8);
        assertTrue(
                config.contains("server.2=127.0.0.1:" + (base + ZooKeeperProcessEnsemble.QUORUM_PORT_OFFSET + 1) + ":"
                        + (base + ZooKeeperProcessEnsemble.ELECTION_PORT_OFFSET + 1) + ";127.0.0.1:" + (base + 1)),
                config);
        try (CuratorFramework client = ZooKeeperTestProcesses.client(connectString)) {
            client.create().forPath("/cli", "hello".getBytes(UTF_8));
            assertEquals("hello", new String(client.getData().forPath("/cli"), UTF_8));
        }

        Result again = zk("start", "--dir", dir, "--base-port", 0);
        assertEquals(1, again.code(), again.out());
        assertTrue(again.err().contains("still running"), again.err());
        assertEquals(List.copyOf(pids), ZooKeeperTestProcesses.pidsInFile(dir), "a refused start changes nothing");

        Result status = zk("status", "--dir", dir);
        assertEquals(0, status.code(), status.err());
        List<String> lines =
                status.out().lines().filter(l -> l.startsWith("server.")).toList();
        assertEquals(3, lines.size(), status.out());
        assertTrue(lines.stream().allMatch(l -> l.contains("alive=true")), status.out());
        assertEquals(1, lines.stream().filter(l -> l.endsWith("mode=leader")).count(), status.out());
        assertTrue(status.out().contains("connect string: " + connectString), status.out());

        Result stop = zk("stop", "--dir", dir);
        assertEquals(0, stop.code(), stop.err());
        for (long pid : pids) {
            assertFalse(alive(pid), "pid " + pid + " is still alive after zk stop");
        }
        assertFalse(Files.exists(PidFile.path(dir)), "zk stop removes the pid file");
        for (int server = 1; server <= 3; server++) {
            assertTrue(Files.exists(dir.resolve("zk-" + server + "/data/myid")), "data of server " + server + " kept");
        }
    }

    @Test
    @Timeout(120)
    void zkStartWithTlsServesOnlyTlsClientsWithTheWrittenSettingsRunsItsQuorumOverTlsAndStatusAndStopStillWork()
            throws Exception {
        Result start = zk("start", "--dir", dir, "--base-port", 0, "--tls");
        if (Files.exists(PidFile.path(dir))) {
            pids.addAll(ZooKeeperTestProcesses.pidsInFile(dir));
        }
        assertEquals(0, start.code(), start.out() + start.err());
        assertEquals(3, pids.size(), start.out());
        String connectString = start.out()
                .lines()
                .filter(l -> l.startsWith("connect string: "))
                .findFirst()
                .orElseThrow()
                .substring("connect string: ".length());
        Path tlsFile = dir.resolve(ZooKeeperProcessEnsemble.CLIENT_TLS_FILE);
        assertTrue(start.out().contains("--zk-tls-config " + tlsFile), start.out());

        for (int server = 1; server <= 3; server++) {
            String config = Files.readString(dir.resolve("zk-" + server + "/zoo.cfg"), UTF_8);
            assertTrue(config.contains("secureClientPort=") && config.contains("ssl.clientAuth=need"), config);
            assertFalse(
                    config.contains("\nclientPort=") || config.contains(";127.0.0.1:"), "no plaintext port: " + config);
        }
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            for (Path d : List.of(dir.resolve("tls"), dir.resolve("tls/server"), dir.resolve("tls/client"))) {
                assertEquals(
                        "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
            }
            for (Path f :
                    List.of(dir.resolve("tls/server/keystore.pem"), dir.resolve("tls/client/keystore.pem"), tlsFile)) {
                assertEquals(
                        "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
            }
        }

        ZooKeeperClientTls tls = ZooKeeperClientTls.fromFile(tlsFile);
        try (CuratorFramework client = tls.configure(CuratorFrameworkFactory.builder()
                        .connectString(connectString)
                        .retryPolicy(new RetryOneTime(100)))
                .build()) {
            client.start();
            assertTrue(client.blockUntilConnected(30, TimeUnit.SECONDS), "a client with the written settings connects");
            client.create().forPath("/over-tls", "hello".getBytes(UTF_8));
            assertEquals("hello", new String(client.getData().forPath("/over-tls"), UTF_8));
        }
        try (CuratorFramework plaintext = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .connectionTimeoutMs(2_000)
                .retryPolicy(new RetryOneTime(100))
                .build()) {
            plaintext.start();
            assertFalse(plaintext.blockUntilConnected(5, TimeUnit.SECONDS), "a plaintext client gets no session");
        }

        Result status = zk("status", "--dir", dir);
        assertEquals(0, status.code(), status.err());
        assertEquals(
                1, status.out().lines().filter(l -> l.endsWith("mode=leader")).count(), status.out());
        assertEquals(
                2, status.out().lines().filter(l -> l.endsWith("mode=follower")).count(), status.out());
        assertTrue(status.out().contains("--zk-tls-config " + tlsFile), status.out());

        // The servers' own log: no plaintext client port, and quorum traffic over TLS too (sslQuorum).
        for (int server = 1; server <= 3; server++) {
            String log = Files.readString(dir.resolve("zk-" + server + "/server.log"), UTF_8);
            assertTrue(log.contains("(plain=disabled)"), "server " + server + " has no plaintext client port");
            assertTrue(log.contains("Using TLS encrypted quorum communication"), "server " + server + ": quorum TLS");
            assertTrue(log.contains("Creating TLS-only quorum server socket"), "server " + server + ": quorum TLS");
        }
        Result stop = zk("stop", "--dir", dir);
        assertEquals(0, stop.code(), stop.err());
        for (long pid : pids) {
            assertFalse(alive(pid), "pid " + pid + " is still alive after zk stop");
        }
    }

    @Test
    @Timeout(90)
    void zkRunStopsEveryServerWhenItsJvmIsSentSigterm() throws Exception {
        ChildProcess launcher = launchZkRun();
        List<Long> servers = ZooKeeperTestProcesses.pidsInFile(dir);
        assertEquals(3, servers.size());
        assertTrue(servers.stream().allMatch(ZooKeeperTestProcesses::alive));

        launcher.terminate(); // SIGTERM: the shutdown hook stops the servers
        launcher.awaitExit(Duration.ofSeconds(30)); // zk run exits on SIGTERM
        for (long pid : servers) {
            assertFalse(alive(pid), "pid " + pid + " outlived zk run");
        }
        assertFalse(Files.exists(PidFile.path(dir)), "the shutdown hook removes the pid file");
    }

    @Test
    @Timeout(90)
    void serversOfASigkilledZkRunKeepRunningUntilZkStop() throws Exception {
        ChildProcess launcher = launchZkRun();
        List<Long> servers = ZooKeeperTestProcesses.pidsInFile(dir);

        launcher.kill(); // SIGKILL: no shutdown hook runs
        assertTrue(servers.stream().allMatch(ZooKeeperTestProcesses::alive), "no hook runs on SIGKILL");

        assertEquals(0, ZkCommand.run("stop", "--dir", dir.toString()));
        for (long pid : servers) {
            assertFalse(alive(pid), "pid " + pid + " is still alive after zk stop");
        }
    }

    @Test
    void zkStopWithoutAPidFileExitsWith1AndSaysThereIsNothingToStop() {
        Result stop = zk("stop", "--dir", dir);
        assertEquals(1, stop.code());
        assertTrue(stop.err().contains("nothing to stop"), stop.err());
        assertTrue(stop.err().contains(ZooKeeperProcessEnsemble.PID_FILE), stop.err());
        Result status = zk("status", "--dir", dir);
        assertEquals(1, status.code());
        assertTrue(status.err().contains(ZooKeeperProcessEnsemble.PID_FILE), status.err());
    }

    @Test
    void zkStopLeavesAnUnrelatedProcessThatReusedARecordedPidAlone() throws Exception {
        try (ChildProcess unrelated = ChildProcess.builder("sleep", List.of("sleep", "60"))
                .logFile(dir.resolve("sleep.log"))
                .stopGrace(Duration.ZERO)
                .start()) {
            PidFile.write(dir, List.of(new PidFile.Entry(1, unrelated.pid(), 2181)));
            Result stop = zk("stop", "--dir", dir);
            assertEquals(1, stop.code(), stop.out());
            assertTrue(stop.err().contains("nothing to stop"), stop.err());
            assertTrue(unrelated.isAlive(), "zk stop signalled a process that is not QuorumPeerMain");
            assertFalse(Files.exists(PidFile.path(dir)), "the stale pid file is removed");
        }
    }

    @Test
    void badArgumentsExitWith64AndSayWhatIsWrong() throws Exception {
        assertUsageError(zk("start"), "--dir");
        assertUsageError(zk("start", "--dir", dir, "--servers", 0), "--servers must be between 1 and");
        assertUsageError(zk("run", "--dir", dir, "--servers", -1), "--servers must be between 1 and");
        assertUsageError(zk("start", "--dir", dir, "--base-port", 65_000), "base port 65000 is unusable");
        assertUsageError(zk("start", "--dir", dir, "--base-port", "twenty"), "twenty");
        assertUsageError(zk("stop"), "--dir");
        assertUsageError(zk(), "Missing subcommand");
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = taken.getLocalPort();
            if (port + ZooKeeperProcessEnsemble.ELECTION_PORT_OFFSET + 2 <= 65_535) {
                assertUsageError(zk("start", "--dir", dir, "--base-port", port), "127.0.0.1:" + port);
            }
        }
        assertFalse(Files.exists(PidFile.path(dir)), "no server was started");
        assertEquals(64, ZkCommand.run("start", "--servers", "3"));
    }

    private static void assertUsageError(Result result, String expected) {
        assertEquals(64, result.code(), result.out() + result.err());
        assertTrue(result.err().contains(expected), result.err());
    }

    /** Starts {@code zk run} in a JVM of its own and waits until it says it runs in the foreground. */
    private ChildProcess launchZkRun() throws IOException, InterruptedException, TimeoutException {
        Path output = dir.resolve("zk-run.out");
        ChildProcess launcher = ChildJvm.builder("zk-run")
                .jvmOptions(List.of("-Xmx128m"))
                .mainClass(ZkCommand.class.getName())
                .arguments(List.of("run", "--dir", dir.toString(), "--base-port", "0"))
                .process()
                .logFile(output)
                .readyPrefix("running in the foreground")
                .stopGrace(Duration.ZERO)
                .start();
        launchers.add(launcher);
        try {
            launcher.awaitReady(Duration.ofSeconds(60));
        } catch (IOException | TimeoutException e) {
            throw new AssertionError(
                    "zk run did not start (alive=" + launcher.isAlive() + "):\n" + Files.readString(output, UTF_8), e);
        }
        pids.addAll(ZooKeeperTestProcesses.pidsInFile(dir));
        return launcher;
    }

    /** A base port whose 9 ports (client, quorum and election for 3 servers) can be bound now. */
    private static int freeBasePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(20_000, 30_000);
            if (ZooKeeperProcessEnsemble.unusableBasePort(base, 3).isEmpty()) {
                return base;
            }
        }
        throw new IllegalStateException("no free base port found");
    }
}
