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

import static dev.tenure.harness.ZooKeeperTestProcesses.alive;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Tag("slow")
class ZooKeeperProcessEnsemblePidFileTest {
    @TempDir
    Path dir;

    private final Set<Long> pids = new LinkedHashSet<>();
    private ZooKeeperProcessEnsemble ensemble;
    private CuratorFramework client;

    @AfterEach
    void stopEverythingStarted() throws Exception {
        try {
            if (client != null) {
                client.close();
            }
            if (ensemble != null) {
                ensemble.close();
            }
        } finally {
            ZooKeeperTestProcesses.killLeftovers(dir, pids);
        }
    }

    @Test
    @Timeout(120)
    void aThreeProcessEnsembleServesThroughSigkillOfItsQuorumLeaderAndCloseLeavesNoProcess() throws Exception {
        ensemble = ZooKeeperProcessEnsemble.builder(dir).recordPids().servers(3).build();
        ensemble.start();
        for (int server = 1; server <= 3; server++) {
            long pid = ensemble.pid(server);
            pids.add(pid);
            ProcessHandle handle = ProcessHandle.of(pid).orElseThrow();
            assertTrue(handle.isAlive(), "server " + server + " is alive");
            assertTrue(
                    ZooKeeperProcessEnsemble.isServerProcess(handle),
                    handle.info().toString());
            Path serverDir = dir.resolve("zk-" + server);
            assertEquals(server + "\n", Files.readString(serverDir.resolve("data/myid"), UTF_8));
            String config = Files.readString(serverDir.resolve("zoo.cfg"), UTF_8);
            assertTrue(config.contains("clientPortAddress=127.0.0.1"), config);
            assertTrue(config.contains("server." + server + "=127.0.0.1:"), config);
            assertTrue(Files.size(serverDir.resolve("server.log")) > 0, "server " + server + " logs to server.log");
        }
        assertEquals(3, pids.size(), "one process per server");
        assertEquals(List.copyOf(pids), ZooKeeperTestProcesses.pidsInFile(dir));

        int leader = ensemble.quorumLeader();
        assertTrue(leader >= 1 && leader <= 3, "leader " + leader);
        List<ZooKeeperServerStatus> status = ensemble.status();
        assertEquals(
                1,
                status.stream()
                        .filter(s -> s.mode() == ZooKeeperServerMode.LEADER)
                        .count(),
                status.toString());
        assertEquals(ZooKeeperServerMode.LEADER, status.get(leader - 1).mode(), status.toString());

        client = ZooKeeperTestProcesses.client(ensemble.connectString());
        client.create().forPath("/e2e", "before".getBytes(UTF_8));
        assertEquals("before", new String(client.getData().forPath("/e2e"), UTF_8));

        long leaderPid = ensemble.pid(leader);
        ensemble.kill(leader);
        assertFalse(alive(leaderPid), "the killed leader's process is gone");
        assertFalse(ensemble.isRunning(leader));
        // Curator reconnects to a surviving server and retries the write once the two re-elect.
        client.create().orSetData().forPath("/e2e/after-kill", "after".getBytes(UTF_8));
        assertEquals("after", new String(client.getData().forPath("/e2e/after-kill"), UTF_8));
        int newLeader = ensemble.quorumLeader();
        assertNotEquals(leader, newLeader, "another server leads the quorum");

        ensemble.restart(leader);
        long restartedPid = ensemble.pid(leader);
        pids.add(restartedPid);
        assertNotEquals(leaderPid, restartedPid);
        assertTrue(alive(restartedPid));
        assertTrue(ZooKeeperTestProcesses.pidsInFile(dir).contains(restartedPid), "the pid file has the new pid");
        try (CuratorFramework direct = ZooKeeperTestProcesses.client("127.0.0.1:" + ensemble.clientPort(leader))) {
            assertEquals(
                    "after",
                    new String(direct.getData().forPath("/e2e/after-kill"), UTF_8),
                    "the restarted server has the write made while it was down");
        }
        assertTrue(
                ensemble.status().stream().allMatch(s -> s.alive() && s.mode().serving()));

        client.close();
        client = null;
        ensemble.close();
        for (long pid : pids) {
            assertFalse(alive(pid), "pid " + pid + " is still alive after close()");
        }
        assertFalse(Files.exists(dir.resolve(ZooKeeperProcessEnsemble.PID_FILE)), "close() removes the pid file");
        assertTrue(Files.exists(dir.resolve("zk-1/data/myid")), "close() keeps the data");
        ensemble.close(); // idempotent
    }

    @Test
    void optionsAreCheckedAndAClosedEnsembleCannotBeStarted() throws Exception {
        ensemble = ZooKeeperProcessEnsemble.builder(dir).recordPids().servers(1).build();
        assertThrows(IllegalStateException.class, () -> ensemble.kill(1));
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir).recordPids().servers(0));
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperProcessEnsemble.builder(dir)
                        .recordPids()
                        .basePort(65_000)
                        .build());
        ensemble.close();
        assertThrows(IllegalStateException.class, ensemble::start);
    }

    @Test
    void srvrAnswersAreReadAsModes() {
        assertEquals(
                ZooKeeperServerMode.LEADER, ZooKeeperServerMode.fromSrvr("Zookeeper version: 3.9.5\nMode: leader\n"));
        assertEquals(
                ZooKeeperServerMode.FOLLOWER,
                ZooKeeperServerMode.fromSrvr("Zxid: 0x1\nMode: follower\nNode count: 5\n"));
        assertEquals(ZooKeeperServerMode.STANDALONE, ZooKeeperServerMode.fromSrvr("Mode: standalone\n"));
        assertEquals(
                ZooKeeperServerMode.NOT_SERVING,
                ZooKeeperServerMode.fromSrvr("This ZooKeeper instance is not currently serving requests\n"));
        assertEquals(ZooKeeperServerMode.NO_ANSWER, ZooKeeperServerMode.fromSrvr(""));
        assertTrue(ZooKeeperServerMode.STANDALONE.leads() && ZooKeeperServerMode.STANDALONE.serving());
        assertFalse(ZooKeeperServerMode.NOT_SERVING.serving());
        assertEquals("no-answer", ZooKeeperServerMode.NO_ANSWER.label());
    }
}
