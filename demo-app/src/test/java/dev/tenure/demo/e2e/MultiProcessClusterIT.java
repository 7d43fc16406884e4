package dev.tenure.demo.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import dev.tenure.demo.zk.ZkEnsemble;
import dev.tenure.testkit.LoopbackPorts;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as a real cluster: a 3-process ZooKeeper ensemble and 3 replica processes on loopback.
 * SIGKILL of the leader loses no acknowledged write and the next epoch is higher; SIGTERM hands leadership
 * over and exits 0; the client's exit codes; a replica with another replica set is refused.
 */
class MultiProcessClusterIT {
    private static final ObjectMapper json = new ObjectMapper();
    private static final List<String> IDS = List.of("r1", "r2", "r3");

    @TempDir
    Path dir;

    private ZkEnsemble zk;
    private final Map<String, Process> nodes = new LinkedHashMap<>();
    private final Map<String, Integer> httpPorts = new LinkedHashMap<>();
    private final Map<String, Integer> replPorts = new LinkedHashMap<>();

    @AfterEach
    void stopEverything() throws IOException {
        for (Process p : nodes.values()) {
            p.destroyForcibly();
        }
        if (zk != null) {
            zk.close();
        }
    }

    private Process startNode(String id, String replicas) throws IOException {
        httpPorts.computeIfAbsent(id, k -> uncheckedFreePort());
        replPorts.computeIfAbsent(id, k -> uncheckedFreePort());
        Path log = dir.resolve(id + ".out");
        Process p = new ProcessBuilder(
                        EmbeddedDemoIT.javaBin(),
                        "-Xmx256m",
                        "-jar",
                        System.getProperty("demo.jar"),
                        "node",
                        "--id",
                        id,
                        "--zk",
                        zk.connectString(),
                        "--data-dir",
                        dir.resolve("data-" + id).toString(),
                        "--http",
                        "127.0.0.1:" + httpPorts.get(id),
                        "--repl",
                        "127.0.0.1:" + replPorts.get(id),
                        "--replicas",
                        replicas,
                        "--session-timeout-ms",
                        "4000")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return p;
    }

    private int uncheckedFreePort() {
        try {
            return LoopbackPorts.freePort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String url(String id) {
        return "http://127.0.0.1:" + httpPorts.get(id);
    }

    private JsonNode status(String id) {
        Outcome o = new KvClient(URI.create(url(id)), Duration.ofSeconds(2)).status();
        if (o.kind() != Outcome.Kind.OK || o.value().isEmpty()) {
            return null;
        }
        try {
            return json.readTree(o.value().get());
        } catch (IOException e) {
            return null;
        }
    }

    /** Waits until a live replica other than {@code excluding} says it leads an epoch above {@code epoch}. */
    private String awaitLeader(long epoch, String excluding) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (String id : nodes.keySet()) {
                if (id.equals(excluding) || !nodes.get(id).isAlive()) {
                    continue;
                }
                JsonNode s = status(id);
                if (s != null
                        && s.get("role").asText().equals("leader")
                        && s.get("epoch").asLong() > epoch
                        && s.get("commitOffset").asLong() > 0) {
                    return id;
                }
            }
            Thread.sleep(50); // polling the replicas' status endpoints
        }
        throw new TimeoutException("no leader above epoch " + epoch + "; logs in " + dir);
    }

    /** Waits until every live replica names {@code leader} as the leader (so followers can redirect). */
    private void awaitAgreement(String leader) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (String id : nodes.keySet()) {
                if (!nodes.get(id).isAlive()) {
                    continue;
                }
                JsonNode s = status(id);
                all &= s != null && s.get("leader").asText("").equals(leader);
            }
            if (all) {
                return;
            }
            Thread.sleep(50); // polling the replicas' status endpoints
        }
        throw new TimeoutException("replicas do not agree that " + leader + " leads");
    }

    private List<String> write(String via, String prefix, int n) {
        KvClient client = new KvClient(URI.create(url(via)), Duration.ofSeconds(10));
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Outcome o = client.put(prefix + i, (prefix + "-value-" + i).getBytes(StandardCharsets.UTF_8));
            assertEquals(Outcome.Kind.OK, o.kind(), o.toString());
            acked.add(prefix + i);
        }
        return acked;
    }

    private void assertReadable(String via, List<String> keys) {
        KvClient client = new KvClient(URI.create(url(via)), Duration.ofSeconds(10));
        for (String k : keys) {
            String prefix = k.replaceAll("[0-9]+$", "");
            String expected = prefix + "-value-" + k.substring(prefix.length());
            Outcome o = client.get(k, false);
            assertEquals(Outcome.Kind.OK, o.kind(), k + ": " + o);
            assertEquals(expected, new String(o.value().orElseThrow(), StandardCharsets.UTF_8));
        }
    }

    @Test
    @Timeout(value = 300)
    void sigkillOfTheLeaderLosesNoAcknowledgedWriteAndSigtermHandsOver() throws Exception {
        zk = ZkEnsemble.builder(dir.resolve("zk")).build();
        zk.start();
        for (String id : IDS) {
            nodes.put(id, startNode(id, String.join(",", IDS)));
        }
        String leader = awaitLeader(0, null);
        awaitAgreement(leader);
        long epoch = status(leader).get("epoch").asLong();
        List<String> acked = write("r1", "a", 50); // via any replica: followers redirect

        nodes.get(leader).destroyForcibly(); // SIGKILL
        assertTrue(nodes.get(leader).waitFor(30, TimeUnit.SECONDS));
        String next = awaitLeader(epoch, leader);
        awaitAgreement(next);
        long nextEpoch = status(next).get("epoch").asLong();
        assertTrue(nextEpoch > epoch, "the new epoch is higher");
        assertReadable(next, acked);
        acked.addAll(write(next, "b", 50));

        nodes.put(leader, startNode(leader, String.join(",", IDS))); // restart from its files
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode restarted;
        do {
            Thread.sleep(100); // polling its status while it catches up
            restarted = status(leader);
        } while ((restarted == null
                        || restarted.get("appliedOffset").asLong()
                                < status(next).get("commitOffset").asLong())
                && System.nanoTime() < deadline);
        assertTrue(restarted != null && restarted.get("role").asText().equals("follower"), String.valueOf(restarted));

        // SIGTERM: the leader hands over first, then exits 0.
        long handOffStart = System.nanoTime();
        nodes.get(next).destroy();
        String third = awaitLeader(nextEpoch, next);
        long handOffMs = (System.nanoTime() - handOffStart) / 1_000_000;
        System.out.println("SIGTERM hand-off: " + third + " leads after " + handOffMs + " ms");
        assertTrue(nodes.get(next).waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, nodes.get(next).exitValue());
        assertReadable(third, acked);
    }

    @Test
    @Timeout(value = 300)
    void clientExitCodesAndAReplicaWithAnotherReplicaSetIsRefused() throws Exception {
        zk = ZkEnsemble.builder(dir.resolve("zk")).build();
        zk.start();
        for (String id : IDS) {
            nodes.put(id, startNode(id, String.join(",", IDS)));
        }
        awaitAgreement(awaitLeader(0, null));
        assertEquals(0, cli("put", "--url", url("r2"), "k", "v"));
        assertEquals(0, cli("get", "--url", url("r3"), "k"));
        assertEquals(1, cli("get", "--url", url("r1"), "missing"));
        assertEquals(1, cli("cas", "--url", url("r1"), "k", "--expect", "other", "--update", "x"));
        assertEquals(64, cli("put", "--url", url("r1")));

        Process wrong = startNode("r4", "r1,r2,r4");
        nodes.put("r4", wrong);
        assertTrue(wrong.waitFor(60, TimeUnit.SECONDS), "a replica with another replica set must stop");
        assertNotEquals(0, wrong.exitValue());
        String out = Files.readString(dir.resolve("r4.out"));
        assertTrue(out.contains("replica set mismatch"), out);
    }

    private int cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(EmbeddedDemoIT.javaBin(), "-jar", System.getProperty("demo.jar")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }
}
