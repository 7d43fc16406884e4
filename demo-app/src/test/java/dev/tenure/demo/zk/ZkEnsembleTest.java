package dev.tenure.demo.zk;

import static dev.tenure.demo.zk.ZkTestProcesses.alive;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.harness.ZooKeeperProcessEnsemble;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ZkEnsembleTest {
    @TempDir
    Path dir;

    private final Set<Long> pids = new LinkedHashSet<>();
    private ZkEnsemble ensemble;
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
            ZkTestProcesses.killLeftovers(dir, pids);
        }
    }

    @Test
    @Timeout(120)
    void aThreeProcessEnsembleServesThroughSigkillOfItsQuorumLeaderAndCloseLeavesNoProcess() throws Exception {
        ensemble = ZkEnsemble.builder(dir).servers(3).build();
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
        assertEquals(List.copyOf(pids), ZkTestProcesses.pidsInFile(dir));

        int leader = ensemble.quorumLeader();
        assertTrue(leader >= 1 && leader <= 3, "leader " + leader);
        List<ZkServerStatus> status = ensemble.status();
        assertEquals(
                1, status.stream().filter(s -> s.mode() == ZkServerMode.LEADER).count(), status.toString());
        assertEquals(ZkServerMode.LEADER, status.get(leader - 1).mode(), status.toString());

        client = ZkTestProcesses.client(ensemble.connectString());
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
        assertTrue(ZkTestProcesses.pidsInFile(dir).contains(restartedPid), "the pid file has the new pid");
        try (CuratorFramework direct = ZkTestProcesses.client("127.0.0.1:" + ensemble.clientPort(leader))) {
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
        assertFalse(Files.exists(dir.resolve(ZkEnsemble.PID_FILE)), "close() removes the pid file");
        assertTrue(Files.exists(dir.resolve("zk-1/data/myid")), "close() keeps the data");
        ensemble.close(); // idempotent
    }

    @Test
    void optionsAreCheckedAndAClosedEnsembleCannotBeStarted() throws Exception {
        ensemble = ZkEnsemble.builder(dir).servers(1).build();
        assertThrows(IllegalStateException.class, () -> ensemble.kill(1));
        assertThrows(
                IllegalArgumentException.class, () -> ZkEnsemble.builder(dir).servers(0));
        assertThrows(
                IllegalArgumentException.class,
                () -> ZkEnsemble.builder(dir).basePort(65_000).build());
        ensemble.close();
        assertThrows(IllegalStateException.class, ensemble::start);
    }

    @Test
    void srvrAnswersAreReadAsModes() {
        assertEquals(ZkServerMode.LEADER, ZkServerMode.fromSrvr("Zookeeper version: 3.9.5\nMode: leader\n"));
        assertEquals(ZkServerMode.FOLLOWER, ZkServerMode.fromSrvr("Zxid: 0x1\nMode: follower\nNode count: 5\n"));
        assertEquals(ZkServerMode.STANDALONE, ZkServerMode.fromSrvr("Mode: standalone\n"));
        assertEquals(
                ZkServerMode.NOT_SERVING,
                ZkServerMode.fromSrvr("This ZooKeeper instance is not currently serving requests\n"));
        assertEquals(ZkServerMode.NO_ANSWER, ZkServerMode.fromSrvr(""));
        assertTrue(ZkServerMode.STANDALONE.leads() && ZkServerMode.STANDALONE.serving());
        assertFalse(ZkServerMode.NOT_SERVING.serving());
        assertEquals("no-answer", ZkServerMode.NO_ANSWER.label());
    }
}
