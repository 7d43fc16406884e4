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
package dev.tenure.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PreviousSession}: a restarted process ends the session its previous run left, with that session's
 * ephemeral nodes, long before the session would expire; it never ends the current session; bad files are clear
 * errors.
 */
@Tag("zookeeper")
class PreviousSessionTest {
    /** Far longer than any wait below: a node still there after a start was not removed by an expiry. */
    private static final int SESSION_TIMEOUT_MS = 60_000;

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.of(
            ZooKeeperEnsemble.builder().servers(1).sessionTimeout(Duration.ofMillis(SESSION_TIMEOUT_MS)));

    @TempDir
    Path dir;

    private Path file;
    private String path;

    @BeforeEach
    void setUp() {
        file = dir.resolve(PreviousSession.FILE_NAME);
        path = "/previous-session-" + UUID.randomUUID();
    }

    /** A raw handle with a session of {@link #SESSION_TIMEOUT_MS}, connected. */
    private ZooKeeper connected() throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper handle = new ZooKeeper(zk.ensemble().connectString(), SESSION_TIMEOUT_MS, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
            }
        });
        assertTrue(up.await(30, TimeUnit.SECONDS), "connected");
        return handle;
    }

    /** The process dies: its handle stops without telling the servers, whose session lives on until it expires. */
    private static void die(ZooKeeper handle) {
        handle.getTestable().injectSessionExpiration();
    }

    @Test
    void aRestartEndsTheSessionItsDeadPreviousRunLeftAndItsEphemeralNodesGoAtOnce() throws Exception {
        ZooKeeper previousRun = connected();
        previousRun.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        PreviousSession.write(
                file, new PreviousSession.Session(previousRun.getSessionId(), previousRun.getSessionPasswd()));
        die(previousRun);

        CuratorFramework restarted = zk.ensemble().newClient();
        assertNotNull(restarted.checkExists().forPath(path), "the dead run's node outlives it, with its session");
        long started = System.nanoTime();
        try (PreviousSession previous = PreviousSession.builder(restarted, file).build()) {
            assertEquals(PreviousSession.Outcome.ENDED, previous.start());
        }
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        restarted.sync().forPath(path);
        assertNull(restarted.checkExists().forPath(path), "the node went with the ended session");
        assertTrue(tookMs < SESSION_TIMEOUT_MS / 4, "ended in " + tookMs + " ms, not at the expiry");
        assertEquals(
                restarted.getZookeeperClient().getZooKeeper().getSessionId(),
                PreviousSession.read(file).id(),
                "the file names the restarted run's session now");
    }

    @Test
    void theFileFollowsTheClientIntoEveryNewSessionAndTheCurrentSessionIsNeverEnded() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        PreviousSession first = PreviousSession.builder(client, file).build();
        assertEquals(PreviousSession.Outcome.NONE, first.start(), "no file yet");
        long before = client.getZookeeperClient().getZooKeeper().getSessionId();
        assertEquals(before, PreviousSession.read(file).id());

        client.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration(); // a new session follows
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long now = before;
        while (now == before || PreviousSession.read(file).id() != now) {
            assertTrue(
                    System.nanoTime() < deadline,
                    "the file follows the new session; it names 0x"
                            + Long.toHexString(PreviousSession.read(file).id()) + ", the client's is 0x"
                            + Long.toHexString(now));
            Thread.sleep(10); // polling the condition above, bounded by its deadline
            now = client.getZookeeperClient().getZooKeeper().getSessionId();
        }
        first.close();

        client.create().withMode(CreateMode.EPHEMERAL).forPath(path);
        try (PreviousSession again = PreviousSession.builder(client, file).build()) {
            assertEquals(PreviousSession.Outcome.CURRENT, again.start());
        }
        assertNotNull(client.checkExists().forPath(path), "the current session and its node live on");
    }

    @Test
    void aSessionThatHadExpiredAlreadyIsReportedAndNothingElseIsTouched() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        ZooKeeper other = connected();
        other.create(path, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        ZooKeeper gone = connected();
        PreviousSession.Session goneSession = new PreviousSession.Session(gone.getSessionId(), gone.getSessionPasswd());
        gone.close(); // a clean stop ends the session
        PreviousSession.write(file, goneSession);
        try (PreviousSession previous = PreviousSession.builder(client, file).build()) {
            assertEquals(PreviousSession.Outcome.EXPIRED, previous.start());
        }
        assertNotNull(client.checkExists().forPath(path), "another live session's node stays");
        other.close();
    }

    @Test
    void aMalformedFileIsAClearErrorEndsNothingAndIsReplacedWithTheCurrentSession() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        for (String bad : new String[] {"", "zz 00", "12", "12 ab cd", "12 abc"}) {
            Files.writeString(file, bad, StandardCharsets.US_ASCII);
            PreviousSession previous = PreviousSession.builder(client, file).build();
            IOException e = assertThrows(IOException.class, previous::start, "'" + bad + "'");
            assertTrue(
                    e.getMessage().contains("malformed ZooKeeper session file")
                            && e.getMessage().contains(file.toString()),
                    e.getMessage());
            previous.close();
            assertEquals(
                    client.getZookeeperClient().getZooKeeper().getSessionId(),
                    PreviousSession.read(file).id());
        }
    }

    /**
     * Start's write and the connection listener's can run at once (a connection event queued before the listener was
     * added): each must replace the file whole, never fail on the other's temporary file. 8 threads write 100 times
     * each, all at once.
     */
    @Test
    void writersRacingOnTheFileNeverFailAndLeaveOneWholeSession() throws Exception {
        int threads = 8;
        int writes = 100;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long id = 1000L + t;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < writes; i++) {
                        PreviousSession.write(file, new PreviousSession.Session(id, new byte[] {(byte) id, 1, 2}));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (java.util.concurrent.Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS); // throws what a write threw
            }
        } finally {
            pool.shutdownNow();
        }
        PreviousSession.Session last = PreviousSession.read(file);
        assertTrue(last.id() >= 1000 && last.id() < 1000 + threads, "one writer's session: " + last);
        assertEquals((byte) last.id(), last.password()[0], "written whole: " + last);
        try (var left = Files.list(dir)) {
            assertEquals(java.util.List.of(file), left.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void startDeletesTheTemporaryFilesOfARunKilledMidWriteAndNothingElse() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        List<Path> stale = List.of(
                dir.resolve(PreviousSession.FILE_NAME + ".8214467315.tmp"),
                dir.resolve(PreviousSession.FILE_NAME + ".tmp")); // the name earlier versions wrote through
        List<Path> others = List.of(
                dir.resolve("zookeeper-sessions.1.tmp"),
                dir.resolve(PreviousSession.FILE_NAME + ".1.bak"),
                dir.resolve("node.lock"));
        for (Path p : stale) {
            Files.writeString(p, "12 ab");
        }
        for (Path p : others) {
            Files.writeString(p, "kept");
        }
        try (PreviousSession previous = PreviousSession.builder(client, file).build()) {
            assertEquals(PreviousSession.Outcome.NONE, previous.start());
        }
        for (Path p : stale) {
            assertFalse(Files.exists(p), p + " deleted");
        }
        for (Path p : others) {
            assertEquals("kept", Files.readString(p), p + " untouched");
        }
        assertEquals(
                client.getZookeeperClient().getZooKeeper().getSessionId(),
                PreviousSession.read(file).id());
    }

    @Test
    void theFileIsOwnerOnlyForItHoldsTheSessionsPassword() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        Files.writeString(file, "stale 00");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Path staleTemp = dir.resolve(PreviousSession.FILE_NAME + ".tmp"); // left by a run that died mid-write
        Files.writeString(staleTemp, "old");
        Files.setPosixFilePermissions(staleTemp, PosixFilePermissions.fromString("rw-r--r--"));
        try (PreviousSession previous = PreviousSession.builder(client, file).build()) {
            assertThrows(IOException.class, previous::start);
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void closeReturnsOnlyOnceAConnectionEventsWriteInFlightEnded() throws Exception {
        try (CuratorFramework client = zk.ensemble().newClient()) {
            PreviousSession session = PreviousSession.builder(client, file).build();
            session.start();
            HeldEvent event = HeldEvent.at(session, "write");
            CompletableFuture<Void> closing = CompletableFuture.runAsync(session::close);
            try {
                assertThrows(
                        TimeoutException.class,
                        () -> closing.get(200, TimeUnit.MILLISECONDS),
                        "close waits for the write in flight");
            } finally {
                event.release();
            }
            closing.get(30, TimeUnit.SECONDS);
            event.done.get(30, TimeUnit.SECONDS);
            assertEquals(
                    client.getZookeeperClient().getZooKeeper().getSessionId(),
                    PreviousSession.read(file).id());
        }
    }

    @Test
    void aConnectionEventThatReachesItsWriteAfterCloseWritesNothing() throws Exception {
        try (CuratorFramework client = zk.ensemble().newClient()) {
            PreviousSession session = PreviousSession.builder(client, file).build();
            session.start();
            HeldEvent event = HeldEvent.at(session, "event"); // past its first check, while started
            session.close();
            // The file is the next run's now: a closed instance must not write it.
            PreviousSession.write(file, new PreviousSession.Session(0x42, new byte[16]));
            event.release();
            event.done.get(30, TimeUnit.SECONDS);
            assertEquals(0x42, PreviousSession.read(file).id(), "the closed instance wrote nothing");
        }
    }

    /** A connection event handled on another thread, held at one of its steps until {@link #release()}. */
    private static final class HeldEvent {
        private final CountDownLatch goOn = new CountDownLatch(1);
        /** Completes once the event's handling returns. */
        private CompletableFuture<Void> done;

        /** Starts a RECONNECTED event of {@code session} and returns once it reached {@code step}. */
        static HeldEvent at(PreviousSession session, String step) throws InterruptedException {
            HeldEvent held = new HeldEvent();
            CountDownLatch reached = new CountDownLatch(1);
            session.listenerSteps = s -> {
                if (s.equals(step)) {
                    reached.countDown();
                    try {
                        held.goOn.await(30, TimeUnit.SECONDS); // a test that never releases fails on its own
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            held.done = CompletableFuture.runAsync(() -> session.connectionStateChanged(ConnectionState.RECONNECTED));
            assertTrue(reached.await(30, TimeUnit.SECONDS), "the event reaches its step '" + step + "'");
            return held;
        }

        void release() {
            goOn.countDown();
        }
    }

    @Test
    void startsOnceClosesIdempotentlyAndRefusesABadTimeout() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        PreviousSession previous = PreviousSession.builder(client, file).build();
        previous.start();
        IllegalStateException twice = assertThrows(IllegalStateException.class, previous::start);
        assertEquals("Cannot be started more than once", twice.getMessage());
        previous.close();
        previous.close();
        assertThrows(
                IllegalArgumentException.class,
                () -> PreviousSession.builder(client, file).timeout(Duration.ZERO));
    }
}
