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
package dev.tenure.demo.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import dev.tenure.demo.client.RetriedPuts;
import dev.tenure.harness.ChildJvm;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.NodeLauncher;
import dev.tenure.harness.StatusProbe;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
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
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as a real cluster: a 3-process ZooKeeper ensemble and 3 replica processes on loopback.
 * SIGKILL of the leader, restarted at once, loses no acknowledged write and a higher epoch follows within seconds (as
 * it does for every partition a killed and restarted node led); SIGTERM hands leadership over and exits 0; the client's exit codes; a replica with another replica set is refused; with the controller,
 * SIGTERM moves every partition the stopped node led before it exits.
 */
class MultiProcessClusterIT {
    private static final List<String> IDS = List.of("r1", "r2", "r3");

    @TempDir
    Path dir;

    @TempDir
    static Path zkDir;

    private static ZooKeeperProcessEnsemble zk;
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    /** This test's cluster on the shared ensemble. */
    private final String cluster = "kv" + CLUSTERS.incrementAndGet();

    private final Map<String, ChildProcess> nodes = new LinkedHashMap<>();
    private final Map<String, Integer> httpPorts = new LinkedHashMap<>();
    private final Map<String, Integer> replPorts = new LinkedHashMap<>();
    private final StatusProbe probe = new StatusProbe(Duration.ofSeconds(2), Duration.ofMillis(50));

    /** One ensemble for the class (its start is several seconds of the suite); each test has a cluster of its own. */
    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = ZooKeeperProcessEnsemble.builder(zkDir.resolve("zk")).recordPids().build();
        zk.start();
    }

    @AfterAll
    static void stopZooKeeper() throws IOException {
        if (zk != null) {
            zk.close();
        }
    }

    @AfterEach
    void stopEverything() throws IOException {
        ChildProcess.closeAll(nodes.values());
    }

    /** Each replica's mutual-TLS settings, from one throwaway CA written as `demo-app certs` does. */
    private Path transportTls(String id) throws IOException {
        Path props = dir.resolve("tls").resolve(id).resolve("transport.properties");
        if (!java.nio.file.Files.exists(props)) {
            dev.tenure.demo.node.ClusterCertificates.write(dir.resolve("tls"), List.of("r1", "r2", "r3", "r4"));
        }
        return props;
    }

    private ChildProcess startNode(String id, String replicas) throws IOException {
        return startNode(id, replicas, List.of());
    }

    private ChildProcess startNode(String id, String replicas, List<String> extra) throws IOException {
        return startNode(id, replicas, extra, Duration.ofSeconds(4));
    }

    private ChildProcess startNode(String id, String replicas, List<String> extra, Duration sessionTimeout)
            throws IOException {
        httpPorts.computeIfAbsent(id, k -> uncheckedFreePort());
        replPorts.computeIfAbsent(id, k -> uncheckedFreePort());
        return NodeLauncher.builder(id)
                .jar(Path.of(System.getProperty("demo.jar")))
                .jvmOptions(List.of("-Xmx256m"))
                .zooKeeper(zk.connectString())
                .cluster(cluster)
                .dataDir(dir.resolve("data-" + id))
                .http("127.0.0.1:" + httpPorts.get(id))
                .repl("127.0.0.1:" + replPorts.get(id))
                .replicas(List.of(replicas.split(",")))
                .sessionTimeout(sessionTimeout)
                .extraArguments(java.util.stream.Stream.concat(
                                java.util.stream.Stream.of(
                                        "--transport-tls-config",
                                        transportTls(id).toString()),
                                extra.stream())
                        .toList())
                .logFile(dir.resolve(id + ".out"))
                .stopGrace(Duration.ZERO)
                .build()
                .start();
    }

    private int uncheckedFreePort() {
        try {
            return LoopbackPorts.serverPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String url(String id) {
        return "http://127.0.0.1:" + httpPorts.get(id);
    }

    private JsonNode status(String id) throws InterruptedException {
        return probe.status(id, URI.create(url(id)))
                .map(StatusProbe.NodeStatus::json)
                .orElse(null);
    }

    /**
     * Waits until a live replica other than {@code excluding} says it leads an epoch above {@code epoch}; with
     * {@code agreed}, until every live replica names it leader too (so followers can redirect).
     */
    private String awaitLeader(long epoch, String excluding, boolean agreed) throws Exception {
        return probe.awaitLeader(
                        () -> {
                            Map<String, URI> live = new LinkedHashMap<>();
                            nodes.forEach((id, p) -> {
                                if (!id.equals(excluding) && p.isAlive()) {
                                    live.put(id, URI.create(url(id)));
                                }
                            });
                            return live;
                        },
                        epoch,
                        agreed,
                        Duration.ofSeconds(60))
                .id();
    }

    private List<String> write(String via, String prefix, int n) {
        KvClient client = new KvClient(URI.create(url(via)), Duration.ofSeconds(10));
        List<String> acked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // Under load a write may end unknown (a leader change, or the node's wait outlived): put again, at most for
            // a minute; every key returned was acknowledged.
            Outcome o = RetriedPuts.putUntilKnown(
                    client,
                    prefix + i,
                    (prefix + "-value-" + i).getBytes(StandardCharsets.UTF_8),
                    Duration.ofMinutes(1));
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

    /**
     * SIGKILL of the single log's leader, restarted at once as a supervisor would, with a 40 s ZooKeeper session and
     * fast failover off so that nothing else can move the leadership: the restarted process ends its previous run's
     * session at start (docs/partitions.md, "A node that comes back"), so a new leader in a higher epoch follows within
     * seconds, not at the session's expiry; no acknowledged write is lost; SIGTERM then hands over and exits 0.
     */
    @Test
    @Timeout(value = 300)
    void sigkillOfTheLeaderRestartedAtOnceIsReplacedWithinSecondsLosesNoWriteAndSigtermHandsOver() throws Exception {
        List<String> noFastFailover = List.of("--no-fast-failover");
        Duration session = Duration.ofSeconds(40);
        for (String id : IDS) {
            nodes.put(id, startNode(id, String.join(",", IDS), noFastFailover, session));
        }
        String leader = awaitLeader(0, null, true);
        long epoch = status(leader).get("epoch").asLong();
        List<String> acked = write("r1", "a", 50); // via any replica: followers redirect

        long sigkill = System.nanoTime();
        nodes.get(leader).kill(); // SIGKILL: its session lives on in ZooKeeper
        nodes.put(leader, startNode(leader, String.join(",", IDS), noFastFailover, session)); // from its files
        String next = probe.awaitLeader(() -> live(null), epoch, true, Duration.ofSeconds(20))
                .id();
        long ledAgainMs = (System.nanoTime() - sigkill) / 1_000_000;
        System.out.println("SIGKILL and restart of the single log's leader " + leader + ": " + next + " leads after "
                + ledAgainMs + " ms (session timeout " + session.toMillis() + " ms)");
        long nextEpoch = status(next).get("epoch").asLong();
        assertTrue(nextEpoch > epoch, "the new epoch is higher");
        assertReadable(next, acked);
        acked.addAll(write(next, "b", 50));
        if (!next.equals(leader)) {
            probe.awaitApplied(
                    leader,
                    URI.create(url(leader)),
                    status(next).get("commitOffset").asLong(),
                    Duration.ofSeconds(60));
            JsonNode restarted = status(leader);
            assertTrue(
                    restarted != null && restarted.get("role").asText().equals("follower"), String.valueOf(restarted));
        }

        // SIGTERM: the leader hands over first, then exits 0.
        long handOffStart = System.nanoTime();
        nodes.get(next).terminate();
        String third = awaitLeader(nextEpoch, next, false);
        long handOffMs = (System.nanoTime() - handOffStart) / 1_000_000;
        System.out.println("SIGTERM hand-off: " + third + " leads after " + handOffMs + " ms");
        assertEquals(0, nodes.get(next).awaitExit(Duration.ofSeconds(60)));
        assertReadable(third, acked);
    }

    /**
     * {@code node --leadership controller --partitions 4}: SIGTERM is the controller's controlled shutdown, so by the
     * time the stopped process has exited, each partition it led is led by another node in a higher leader epoch,
     * which every remaining node names.
     */
    @Test
    @Timeout(value = 120)
    void withTheControllerSigtermMovesEveryPartitionTheNodeLedToAnotherNodeInAHigherEpochBeforeItExits()
            throws Exception {
        List<String> controller = List.of("--partitions", "4", "--leadership", "controller");
        for (String id : IDS) {
            nodes.put(id, startNode(id, String.join(",", IDS), controller));
        }
        Map<String, StatusProbe.PartitionLeader> before =
                probe.awaitPartitionLeaders(() -> live(null), 4, Duration.ofSeconds(60));
        String stopped = StatusProbe.mostLeading(before, IDS).orElseThrow();
        List<String> led = StatusProbe.ledBy(stopped, before);
        assertTrue(led.size() >= 2, "4 partitions on 3 nodes: the most leading leads at least 2: " + before);

        long sigterm = System.nanoTime();
        nodes.get(stopped).terminate();
        assertEquals(0, nodes.get(stopped).awaitExit(Duration.ofSeconds(30)), "a clean stop");
        long exitedMs = (System.nanoTime() - sigterm) / 1_000_000;
        // One look right after the exit, no waiting: the hand-over happened before it.
        Map<String, StatusProbe.NodeStatus> after = probe.statuses(live(stopped));
        assertEquals(2, after.size(), "both other nodes answer: " + after);
        Map<String, StatusProbe.PartitionLeader> leaders = StatusProbe.partitionLeadersOf(after);
        for (String p : led) {
            StatusProbe.PartitionLeader now = leaders.get(p);
            assertTrue(now != null, "partition " + p + " is led when " + stopped + " has exited: " + after);
            assertNotEquals(stopped, now.node());
            assertTrue(
                    now.epoch() > before.get(p).epoch(),
                    "partition " + p + ": " + before.get(p) + " -> " + now + ", a higher leader epoch");
            for (StatusProbe.NodeStatus s : after.values()) {
                StatusProbe.PartitionStatus seen = s.partitions().stream()
                        .filter(x -> x.id().equals(p))
                        .findFirst()
                        .orElseThrow();
                assertEquals(Optional.of(now.node()), seen.leader(), s.id() + " names the new leader of " + p);
            }
        }
        System.out.println("SIGTERM with the controller: " + stopped + " led " + led + " and exited after " + exitedMs
                + " ms; leaders then " + leaders);
    }

    /**
     * A node SIGKILLed and restarted at once, long before its 40 s ZooKeeper session expires, with fast failover off so
     * that nothing else can move its partitions: the restarted process ends its previous run's session at start
     * (docs/partitions.md, "A node that comes back"), which takes the dead run's election nodes away, so every
     * partition it led has a new leader in a higher epoch within seconds — not after the session timeout — and no
     * acknowledged write is lost.
     */
    @Test
    @Timeout(value = 180)
    void aNodeKilledAndRestartedBeforeItsSessionExpiresEndsThatSessionAndItsPartitionsAreLedAgainWithinSeconds()
            throws Exception {
        List<String> partitions = List.of("--partitions", "4", "--no-fast-failover");
        Duration session = Duration.ofSeconds(40);
        for (String id : IDS) {
            nodes.put(id, startNode(id, String.join(",", IDS), partitions, session));
        }
        // Once every partition is led by its preferred leader: the nodes' rebalancing hands partitions over after a
        // start, and a hand-over after this point would move a partition without the kill.
        Map<String, StatusProbe.PartitionLeader> before =
                probe.awaitPreferredLeaders(() -> live(null), 4, Duration.ofSeconds(60));
        List<String> acked = write("r1", "k", 20);
        String killed = StatusProbe.mostLeading(before, IDS).orElseThrow();
        List<String> led = StatusProbe.ledBy(killed, before);
        assertTrue(led.size() >= 2, "4 partitions on 3 nodes: the most leading leads at least 2: " + before);

        long sigkill = System.nanoTime();
        nodes.get(killed).kill(); // SIGKILL: its session lives on in ZooKeeper
        nodes.put(killed, startNode(killed, String.join(",", IDS), partitions, session));
        Map<String, StatusProbe.PartitionLeader> after =
                probe.awaitPartitionLeaders(() -> live(null), 4, Duration.ofSeconds(20));
        long ledAgainMs = (System.nanoTime() - sigkill) / 1_000_000;
        for (String p : led) {
            assertTrue(
                    after.get(p).epoch() > before.get(p).epoch(),
                    "partition " + p + ": " + before.get(p) + " -> " + after.get(p) + ", a higher leader epoch");
        }
        System.out.println("SIGKILL and restart of " + killed + " leading " + led + ": every partition led again "
                + ledAgainMs + " ms after the kill (session timeout " + session.toMillis() + " ms); leaders " + after);
        for (String id : IDS) {
            assertReadable(id, acked);
        }
    }

    /** The replicas whose process is alive, but {@code excluding}, id to base URL. */
    private Map<String, URI> live(String excluding) {
        Map<String, URI> live = new LinkedHashMap<>();
        nodes.forEach((id, p) -> {
            if (!id.equals(excluding) && p.isAlive()) {
                live.put(id, URI.create(url(id)));
            }
        });
        return live;
    }

    @Test
    @Timeout(value = 300)
    void clientExitCodesAndAReplicaWithAnotherReplicaSetIsRefused() throws Exception {
        for (String id : IDS) {
            nodes.put(id, startNode(id, String.join(",", IDS)));
        }
        awaitLeader(0, null, true);
        assertEquals(0, cli("put", "--url", url("r2"), "k", "v"));
        assertEquals(0, cli("get", "--url", url("r3"), "k"));
        assertEquals(1, cli("get", "--url", url("r1"), "missing"));
        assertEquals(1, cli("cas", "--url", url("r1"), "k", "--expect", "other", "--update", "x"));
        assertEquals(64, cli("put", "--url", url("r1")));

        ChildProcess wrong = startNode("r4", "r1,r2,r4");
        nodes.put("r4", wrong);
        assertNotEquals(
                0,
                wrong.awaitExit(Duration.ofSeconds(60)),
                "a replica with another replica set must stop with an error");
        String out = Files.readString(dir.resolve("r4.out"));
        assertTrue(out.contains("replica set mismatch"), out);
    }

    private int cli(String... args) throws Exception {
        try (ChildProcess p = ChildJvm.builder("cli")
                .jar(Path.of(System.getProperty("demo.jar")))
                .arguments(List.of(args))
                .process()
                .logFile(dir.resolve("cli-" + System.nanoTime() + ".out"))
                .start()) {
            int exit = p.awaitExit(Duration.ofSeconds(60));
            // The test's output keeps every call and its answer, so that an unexpected exit code can be explained.
            System.out.println("cli " + String.join(" ", args) + " -> exit " + exit + ":\n"
                    + java.nio.file.Files.readString(p.logFile()));
            return exit;
        }
    }
}
