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
package dev.tenure.harness.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.tenure.harness.ChildJvm;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.Links;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FaultKind#WIPE_REPLICA} on real processes: stand-in replicas ({@link FakeReplica}, child JVMs that keep
 * files in a data directory and answer {@code /status}) behind a {@link FaultTarget} of the test's own. Every process
 * started is stopped after each test by its handle.
 */
@Tag("slow")
class NemesisWipeTest {
    private static final long COMMIT = 500;

    @TempDir
    Path dir;

    /**
     * A stand-in replica: {@code ID DATA_DIR ROLE COMMIT CATCH_UP_MS}. On start it notes whether it ran before (a
     * file next to its data directory) and finds its data directory without its promise: wiped. Then it writes a log
     * segment, a snapshot and a promise there. Its {@code /status} (127.0.0.1, a free port, announced as {@code READY
     * PORT}) reports commit offset {@code COMMIT}, log start 40 as the leader; as a follower, its applied offset is
     * {@code COMMIT} at once unless it was wiped, in which case it climbs from 0 and reaches {@code COMMIT} {@code
     * CATCH_UP_MS} after the start, with log start 100 and snapshot 120 (as after an install) and {@code
     * "wiped":true}.
     */
    public static final class FakeReplica {
        public static void main(String[] args) throws IOException, InterruptedException {
            String id = args[0];
            Path data = Path.of(args[1]);
            String role = args[2];
            long commit = Long.parseLong(args[3]);
            long catchUpMs = Long.parseLong(args[4]);
            long start = System.nanoTime();
            Path ranBefore = data.resolveSibling("ran-before");
            boolean wiped = Files.exists(ranBefore) && !Files.exists(data.resolve("promise"));
            Files.createDirectories(data.resolve("log"));
            Files.createDirectories(data.resolve("snapshots"));
            Files.writeString(ranBefore, "yes");
            Files.writeString(data.resolve("log").resolve("00000000000000000000.log"), "entries");
            Files.writeString(data.resolve("snapshots").resolve("snapshot-1"), "state");
            Files.writeString(data.resolve("promise"), "epoch 1");
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/status", exchange -> {
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                long applied = !wiped || elapsedMs >= catchUpMs ? commit : commit * elapsedMs / Math.max(1, catchUpMs);
                long logStart = role.equals("leader") ? 40 : wiped ? 100 : 0;
                String json = String.format(
                        "{\"id\":\"%s\",\"role\":\"%s\",\"leader\":\"r1\",\"epoch\":1,\"commitOffset\":%d,"
                                + "\"appliedOffset\":%d,\"logEndOffset\":%d,\"logStartOffset\":%d,"
                                + "\"snapshot\":{\"offset\":%d},\"wiped\":%b}",
                        id, role, commit, applied, applied, logStart, wiped ? 120 : 0, wiped);
                byte[] body = json.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.start();
            System.out.println("READY " + server.getAddress().getPort());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE); // serves until the test kills it
        }
    }

    /** Three stand-in replicas, r1 the leader; what the nemesis does not use for a wipe is refused. */
    private final class Bed implements FaultTarget {
        final Map<String, ChildProcess.Builder> builders = new LinkedHashMap<>();
        final Map<String, ChildProcess> processes = new LinkedHashMap<>();
        final Map<String, URI> urls = new LinkedHashMap<>();
        final List<ChildProcess> started = new ArrayList<>();
        boolean hasLeader = true;

        Bed(long followerCatchUpMs) throws IOException {
            for (String id : List.of("r1", "r2", "r3")) {
                boolean leads = id.equals("r1");
                builders.put(
                        id,
                        ChildJvm.builder("fake-" + id)
                                .jvmOptions(List.of("-Xmx32m", "-XX:TieredStopAtLevel=1"))
                                .mainClass(FakeReplica.class.getName())
                                .arguments(List.of(
                                        id,
                                        dataDir(id).toString(),
                                        leads ? "leader" : "follower",
                                        Long.toString(COMMIT),
                                        Long.toString(leads ? 0 : followerCatchUpMs)))
                                .process()
                                .logFile(dir.resolve(id + ".log"))
                                .readyPrefix("READY ")
                                .stopGrace(Duration.ZERO));
            }
        }

        void startAll() throws IOException {
            for (String id : ids()) {
                startReplica(id);
            }
        }

        @Override
        public List<String> ids() {
            return List.copyOf(builders.keySet());
        }

        @Override
        public Optional<String> leader() {
            return hasLeader ? Optional.of("r1") : Optional.empty();
        }

        @Override
        public ChildProcess replica(String id) {
            return processes.get(id);
        }

        @Override
        public void startReplica(String id) throws IOException {
            ChildProcess p = builders.get(id).start();
            started.add(p);
            processes.put(id, p);
            try {
                urls.put(id, URI.create("http://127.0.0.1:" + p.awaitReady(Duration.ofSeconds(30))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while " + id + " started", e);
            } catch (TimeoutException e) {
                throw new IOException(e.getMessage(), e);
            }
        }

        @Override
        public URI baseUrl(String id) {
            return urls.get(id);
        }

        @Override
        public Path dataDir(String id) {
            return dir.resolve(id).resolve("data");
        }

        @Override
        public int zooKeeperServers() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int zooKeeperQuorumLeader() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void killZooKeeper(int server) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void restartZooKeeper(int server) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void expireSession(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void cutZooKeeper(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void cutReplication(String a, Collection<String> others) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Links links() {
            throw new UnsupportedOperationException();
        }

        Map<String, Long> pids() {
            Map<String, Long> pids = new LinkedHashMap<>();
            processes.forEach((id, p) -> pids.put(id, p.pid()));
            return pids;
        }
    }

    private final List<Bed> beds = new ArrayList<>();

    private Bed bed(long followerCatchUpMs) throws IOException {
        Bed bed = new Bed(followerCatchUpMs);
        beds.add(bed);
        bed.startAll();
        return bed;
    }

    @AfterEach
    void stopEveryProcess() {
        for (Bed bed : beds) {
            ChildProcess.closeAll(bed.started);
            bed.started.forEach(p -> assertFalse(p.isAlive(), p + " was stopped"));
        }
    }

    @Test
    @Timeout(120)
    void aWipeKillsAFollowerDeletesItsDataAndRestartsItEmptyThenWaitsForItToCatchUp() throws Exception {
        long catchUpMs = 1500;
        Bed bed = bed(catchUpMs);
        Map<String, Long> before = bed.pids();
        // Asked to hit the leader, a wipe still hits a follower.
        Nemesis.Injection wipe =
                new Nemesis(bed, Duration.ofSeconds(4), 7).inject(new FaultPlan.Fault(FaultKind.WIPE_REPLICA, true));
        String victim = before.keySet().stream()
                .filter(id -> wipe.description().contains("replica " + id + " "))
                .findFirst()
                .orElseThrow(() -> new AssertionError("names no replica: " + wipe.description()));
        assertNotEquals("r1", victim, wipe.description());
        ChildProcess killed = bed.replica(victim);
        assertFalse(killed.isAlive(), "the wiped replica was killed");
        assertFalse(Files.exists(bed.dataDir(victim)), "its data directory is gone");
        for (String other : List.of("r1", "r2", "r3")) {
            if (!other.equals(victim)) {
                assertEquals(before.get(other), bed.replica(other).pid(), other + " untouched");
                assertTrue(bed.replica(other).isAlive());
                assertTrue(Files.exists(bed.dataDir(other).resolve("promise")), other + " keeps its files");
            }
        }
        assertTrue(wipe.description().contains("deleted its data directory"), wipe.description());

        wipe.heal();
        ChildProcess restarted = bed.replica(victim);
        assertNotEquals(killed.pid(), restarted.pid());
        assertTrue(restarted.isAlive());

        Nemesis.CatchUp caughtUp = wipe.awaitCatchUp(Duration.ofSeconds(30)).orElseThrow();
        assertEquals(victim, caughtUp.replica());
        assertEquals("r1", caughtUp.leader());
        assertEquals(COMMIT, caughtUp.offset(), "the leader's commit offset at the restart");
        assertEquals(OptionalLong.of(40), caughtUp.leaderLogStart(), "read from the leader at the restart");
        assertTrue(
                caughtUp.took().toMillis() >= catchUpMs, "waited for the catch-up, not just the restart: " + caughtUp);
        assertEquals(COMMIT, caughtUp.status().appliedOffset());
        assertTrue(caughtUp.status().json().path("wiped").asBoolean(), "restarted on an empty directory");
        assertEquals(OptionalLong.of(100), caughtUp.status().logStartOffset());
        assertEquals(OptionalLong.of(120), caughtUp.status().snapshotOffset());
        assertTrue(Files.exists(bed.dataDir(victim).resolve("promise")), "the restarted replica wrote its files");
    }

    @Test
    @Timeout(120)
    void aWipedReplicaThatDoesNotCatchUpInTimeFailsTheWaitNamingIt() throws Exception {
        Bed bed = bed(Duration.ofHours(1).toMillis());
        Nemesis.Injection wipe =
                new Nemesis(bed, Duration.ofSeconds(4), 3).inject(new FaultPlan.Fault(FaultKind.WIPE_REPLICA, false));
        wipe.heal();
        TimeoutException e = assertThrows(TimeoutException.class, () -> wipe.awaitCatchUp(Duration.ofMillis(500)));
        assertTrue(e.getMessage().contains("did not reach offset " + COMMIT), e.getMessage());
    }

    @Test
    @Timeout(120)
    void withoutALeaderNoReplicaIsWiped() throws Exception {
        Bed bed = bed(0);
        bed.hasLeader = false;
        Map<String, Long> before = bed.pids();
        Nemesis.Injection wipe =
                new Nemesis(bed, Duration.ofSeconds(4), 5).inject(new FaultPlan.Fault(FaultKind.WIPE_REPLICA, false));
        assertTrue(wipe.description().contains("not injected"), wipe.description());
        wipe.heal();
        assertEquals(Optional.empty(), wipe.awaitCatchUp(Duration.ofSeconds(1)));
        assertEquals(before, bed.pids());
        for (String id : bed.ids()) {
            assertTrue(bed.replica(id).isAlive());
            assertTrue(Files.exists(bed.dataDir(id).resolve("promise")), id + " keeps its files");
        }
    }
}
