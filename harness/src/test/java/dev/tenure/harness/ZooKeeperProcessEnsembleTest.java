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
package dev.tenure.harness;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Tag("slow")
class ZooKeeperProcessEnsembleTest {
    @TempDir
    Path dir;

    private final List<Long> pids = new CopyOnWriteArrayList<>();
    private ZooKeeperProcessEnsemble ensemble;

    @AfterEach
    void stopEverythingStarted() throws Exception {
        try {
            if (ensemble != null) {
                ensemble.close();
            }
        } finally {
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(handle -> {
                    handle.destroyForcibly();
                    handle.onExit()
                            .orTimeout(10, TimeUnit.SECONDS)
                            .exceptionally(e -> null)
                            .join();
                });
            }
        }
    }

    /** Records the pids the ensemble reports and how often it says every process has stopped. */
    private class Recorder implements ZooKeeperProcessEnsemble.Listener {
        final AtomicInteger stopped = new AtomicInteger();

        @Override
        public void launched(int server, long pid, int clientPort) {
            pids.add(pid);
        }

        @Override
        public void stopped() {
            stopped.incrementAndGet();
        }
    }

    @Test
    @Timeout(120)
    void threeServersRunWithTheConfiguredSettingsSurviveAKillAndRestartAndCloseStopsEveryProcess() throws Exception {
        Recorder recorder = new Recorder();
        ensemble = ZooKeeperProcessEnsemble.builder(dir)
                .servers(3)
                .tickTime(Duration.ofMillis(500))
                .initLimit(20)
                .syncLimit(10)
                .maxSessionTimeout(Duration.ofSeconds(10))
                .forceSync(false)
                .maxClientConnections(0)
                .heap("128m")
                .serverLogLevel("WARN")
                .listener(recorder)
                .build();
        ensemble.start();

        assertEquals(3, pids.size(), "the listener hears of every launch: " + pids);
        for (int server = 1; server <= 3; server++) {
            assertEquals(pids.get(server - 1), ensemble.pid(server));
            ProcessHandle handle = ProcessHandle.of(ensemble.pid(server)).orElseThrow();
            assertTrue(
                    ZooKeeperProcessEnsemble.isServerProcess(handle),
                    handle.info().toString());
            assertTrue(
                    handle.info().commandLine().orElse("").contains("-Xmx128m"),
                    handle.info().toString());
            Path serverDir = ensemble.serverDirectory(server);
            assertEquals(server + "\n", Files.readString(serverDir.resolve("data/myid"), UTF_8));
            String config = Files.readString(serverDir.resolve("zoo.cfg"), UTF_8);
            for (String line : List.of(
                    "tickTime=500",
                    "initLimit=20",
                    "syncLimit=10",
                    "maxSessionTimeout=10000",
                    "forceSync=no",
                    "maxClientCnxns=0",
                    "clientPortAddress=127.0.0.1",
                    "clientPort=" + ensemble.clientPort(server))) {
                assertTrue(config.lines().anyMatch(line::equals), line + " in\n" + config);
            }
        }
        assertTrue(Files.readString(dir.resolve(ZooKeeperProcessEnsemble.LOGBACK_FILE), UTF_8)
                .contains("<root level=\"WARN\">"));
        assertTrue(ensemble.connectString().matches("127\\.0\\.0\\.1:\\d+,127\\.0\\.0\\.1:\\d+,127\\.0\\.0\\.1:\\d+"));

        int leader = ensemble.quorumLeader();
        assertEquals(
                Optional.of("leader"),
                ZooKeeperProcessEnsemble.srvr(ensemble.clientPort(leader), 1000)
                        .flatMap(ZooKeeperProcessEnsemble::modeOf));
        int follower = leader % 3 + 1;
        long killed = ensemble.pid(follower);
        ensemble.kill(follower);
        assertFalse(ensemble.isRunning(follower));
        assertEquals(leader, ensemble.quorumLeader(), "two of three keep the quorum");
        ensemble.restart(follower);
        assertNotEquals(killed, ensemble.pid(follower));
        assertEquals(4, pids.size(), "the listener hears of the restart");
        assertTrue(ZooKeeperProcessEnsemble.srvr(ensemble.clientPort(follower), 1000)
                .flatMap(ZooKeeperProcessEnsemble::modeOf)
                .filter(Set.of("leader", "follower")::contains)
                .isPresent());

        ensemble.close();
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " is alive");
        }
        assertEquals(1, recorder.stopped.get(), "the listener hears that every process stopped");
        assertTrue(Files.exists(dir.resolve("zk-1/data/myid")), "close() keeps the data");
        ensemble.close(); // idempotent
        assertEquals(1, recorder.stopped.get());
        assertThrows(IllegalStateException.class, ensemble::start);
    }

    @Test
    @Timeout(90)
    void stopServersStopsADetachedServerByPidAndLeavesAnUnrelatedProcessAlone() throws Exception {
        Recorder recorder = new Recorder();
        ensemble = ZooKeeperProcessEnsemble.builder(dir)
                .servers(1)
                .listener(recorder)
                .build();
        ensemble.start();
        assertEquals(1, ensemble.quorumLeader(), "a single server is standalone and leads");
        long server = ensemble.pid(1);
        ensemble.detach();
        ensemble.close();
        assertTrue(ProcessHandle.of(server).orElseThrow().isAlive(), "close() leaves a detached server running");
        assertEquals(0, recorder.stopped.get());

        try (ChildProcess unrelated = ChildProcess.builder("sleep", List.of("sleep", "60"))
                .logFile(dir.resolve("sleep.log"))
                .stopGrace(Duration.ZERO)
                .start()) {
            assertEquals(List.of(server), ZooKeeperProcessEnsemble.stopServers(List.of(unrelated.pid(), server)));
            assertFalse(ProcessHandle.of(server).map(ProcessHandle::isAlive).orElse(false));
            assertTrue(unrelated.isAlive(), "a pid that is not QuorumPeerMain is left alone");
        }
    }

    @Test
    void aListenerThatRefusesTheStartLeavesNothingStartedAndTheEnsembleClosed() {
        Recorder recorder = new Recorder() {
            @Override
            public void starting() throws IOException {
                throw new IOException("refused");
            }
        };
        ensemble = ZooKeeperProcessEnsemble.builder(dir).listener(recorder).build();
        assertEquals("refused", assertThrows(IOException.class, ensemble::start).getMessage());
        assertEquals(List.of(), pids);
        assertEquals(0, recorder.stopped.get(), "nothing was started, so nothing is reported stopped");
        assertThrows(IllegalStateException.class, ensemble::start);
    }

    @Test
    void optionsAreChecked() {
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir).servers(0));
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir).servers(16));
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir).basePort(65_000).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir)
                        .tickTime(Duration.ofSeconds(2))
                        .maxSessionTimeout(Duration.ofSeconds(3))
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir).heap("lots"));
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir).serverLogLevel("LOUD"));
        assertThrows(
                IllegalStateException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir).build().connectString());
        assertTrue(ZooKeeperProcessEnsemble.basePortOutOfRange(2181, 3).isEmpty());
        assertTrue(ZooKeeperProcessEnsemble.basePortOutOfRange(64_000, 3).isPresent());
    }

    @Test
    void theModeLineOfASrvrAnswerIsRead() {
        assertEquals(
                Optional.of("leader"), ZooKeeperProcessEnsemble.modeOf("Zookeeper version: 3.9.5\nMode: leader\n"));
        assertEquals(
                Optional.of("follower"),
                ZooKeeperProcessEnsemble.modeOf("Zxid: 0x1\n  Mode: follower \nNode count: 5"));
        assertEquals(
                Optional.empty(),
                ZooKeeperProcessEnsemble.modeOf("This ZooKeeper instance is not currently serving requests\n"));
        assertEquals(Optional.empty(), ZooKeeperProcessEnsemble.modeOf(null));
    }
}
