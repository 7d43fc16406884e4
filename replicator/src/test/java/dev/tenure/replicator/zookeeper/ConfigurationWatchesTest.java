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
package dev.tenure.replicator.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Configuration;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node's configuration watches ({@link ConfigurationWatches}, docs/partitions.md "Opening many partitions"): the
 * watch set by the bootstrap's read sees every later change of the partition's configuration — made before the
 * partition listens, while it listens, after its session expired, after the node was deleted and created again —
 * and costs no request of its own unless the node changed or was read without it.
 */
@Tag("zookeeper")
class ConfigurationWatchesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk =
            ZooKeeperEnsembleExtension.of(ZooKeeperEnsemble.builder().servers(1));

    private final String partitions = "/tenure-watches/" + UUID.randomUUID() + "/partitions";
    private final List<Configuration> seen = new CopyOnWriteArrayList<>();
    private CuratorFramework client;
    private ConfigurationWatches watches;

    @BeforeEach
    void start() throws Exception {
        client = zk.ensemble().newClient();
        watches = new ConfigurationWatches(client, id -> PartitionBootstrap.configurationPath(partitions, id));
    }

    @AfterEach
    void close() {
        if (watches != null) {
            watches.close();
        }
        if (client != null) {
            client.close();
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            TimeUnit.MILLISECONDS.sleep(5); // polling a condition, with a deadline
        }
    }

    private String path(String id) {
        return PartitionBootstrap.configurationPath(partitions, id);
    }

    private static Configuration voters(int version, String... ids) {
        Configuration c = Configuration.initial(List.of(ids));
        return version == 0 ? c : new Configuration(version, c.voters(), List.of(), List.of());
    }

    private void create(String id, Configuration c) throws Exception {
        client.create().creatingParentsIfNeeded().forPath(path(id), ConfigurationRecord.encode(c));
    }

    private void write(String id, Configuration c) throws Exception {
        client.setData().forPath(path(id), ConfigurationRecord.encode(c));
    }

    /** The bootstrap's read: the partition's node read with its watch set. */
    private void bootstrapRead(String id) throws Exception {
        client.getData().usingWatcher(watches.watcher(id)).forPath(path(id));
    }

    /**
     * Makes {@code change} and waits until the client's event thread has handled its notification, the watches' own
     * watcher included: a watcher set after theirs has fired, and then a background request sent after it has been
     * answered (ZooKeeper's client delivers notifications and answers on one thread, in order).
     */
    private void changeDelivered(String id, ThrowingRunnable change) throws Exception {
        CountDownLatch fired = new CountDownLatch(1);
        client.checkExists()
                .usingWatcher((org.apache.curator.framework.api.CuratorWatcher) e -> fired.countDown())
                .forPath(path(id));
        change.run();
        assertTrue(fired.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the change was notified");
        CountDownLatch answered = new CountDownLatch(1);
        client.checkExists().inBackground((c, e) -> answered.countDown()).forPath(path(id));
        assertTrue(answered.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the event thread answered after it");
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void aChangeBetweenTheBootstrapReadAndListeningIsDeliveredWhenThePartitionListens() throws Exception {
        create("p0", voters(0, "a", "b", "c"));
        bootstrapRead("p0");
        changeDelivered("p0", () -> write("p0", voters(1, "a", "b", "d")));
        assertEquals(0, watches.reads(), "nothing is read before the partition listens");

        var unused = watches.listen("p0", seen::add);

        await(() -> !seen.isEmpty(), "the change is delivered");
        assertEquals(List.of(voters(1, "a", "b", "d")), seen);
        assertEquals(1, watches.reads());
    }

    @Test
    void aWatchedPartitionThatDidNotChangeCostsNoReadAndSeesEveryLaterChangeNewestLast() throws Exception {
        create("p0", voters(0, "a", "b", "c"));
        bootstrapRead("p0");
        var unused = watches.listen("p0", seen::add);
        assertEquals(0, watches.reads(), "listening to an unchanged partition reads nothing");

        for (int v = 1; v <= 5; v++) {
            write("p0", voters(v, "a", "b", "c" + v));
        }

        await(() -> !seen.isEmpty() && seen.get(seen.size() - 1).version() == 5, "the newest is delivered");
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i).version() > seen.get(i - 1).version(), "in version order: " + seen);
        }
    }

    @Test
    void aPartitionReadWithoutTheWatchIsReadOnceWhenItListensAndWatchedFromThen() throws Exception {
        create("p0", voters(0, "a", "b", "c"));
        watches.unwatched("p0"); // created here, say: no read set the watch

        var unused = watches.listen("p0", seen::add);
        await(() -> !seen.isEmpty(), "the current configuration is delivered");
        assertEquals(List.of(voters(0, "a", "b", "c")), seen);

        write("p0", voters(1, "a", "b", "d"));
        await(() -> seen.size() == 2, "the change is delivered");
        assertEquals(voters(1, "a", "b", "d"), seen.get(1));
    }

    @Test
    void aChangeAfterTheSessionExpiredIsStillDelivered() throws Exception {
        create("p0", voters(0, "a", "b", "c"));
        bootstrapRead("p0");
        var unused = watches.listen("p0", seen::add);
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();

        zk.ensemble().expireSession(client);
        await(
                () -> {
                    try {
                        return client.getZookeeperClient().isConnected()
                                && client.getZookeeperClient().getZooKeeper().getSessionId() != session;
                    } catch (Exception e) {
                        return false;
                    }
                },
                "a new session");
        await(() -> watches.reads() >= 1, "the new session's read sets the watch again");
        await(() -> !seen.isEmpty(), "the read's configuration is delivered");

        write("p0", voters(1, "a", "b", "d"));

        await(
                () -> !seen.isEmpty() && seen.get(seen.size() - 1).equals(voters(1, "a", "b", "d")),
                "the change made in the new session is delivered");
    }

    @Test
    void aDeletedConfigurationIsWatchedForItsCreationAndTheNewOneDelivered() throws Exception {
        create("p0", voters(0, "a", "b", "c"));
        bootstrapRead("p0");
        var unused = watches.listen("p0", seen::add);

        client.delete().forPath(path("p0"));
        await(() -> watches.reads() == 2, "the read found no node and the creation is watched");
        assertTrue(seen.isEmpty(), "a deletion delivers nothing");

        create("p0", voters(0, "a", "b", "e"));

        await(() -> !seen.isEmpty(), "the new node is delivered");
        assertEquals(List.of(voters(0, "a", "b", "e")), seen);
    }

    @Test
    void aMalformedConfigurationIsSkippedAndTheNextGoodOneDelivered() throws Exception {
        create("p0", voters(0, "a", "b", "c"));
        bootstrapRead("p0");
        var unused = watches.listen("p0", seen::add);

        client.setData().forPath(path("p0"), "not a configuration".getBytes(StandardCharsets.UTF_8));
        await(() -> watches.reads() == 1, "the malformed node is read");
        Stat stat = client.checkExists().forPath(path("p0"));
        assertEquals(1, stat.getVersion());
        write("p0", voters(1, "a", "b", "d"));

        await(() -> !seen.isEmpty(), "the good one is delivered");
        assertEquals(List.of(voters(1, "a", "b", "d")), seen);
    }

    @Test
    void nothingIsDeliveredOrReadOnceTheRegistrationIsClosedAndTheIdCanListenAgain() throws Exception {
        create("p0", voters(0, "a", "b", "c"));
        bootstrapRead("p0");
        ConfigurationWatches.Registration r = watches.listen("p0", seen::add);
        assertThrows(IllegalStateException.class, () -> watches.listen("p0", seen::add), "one listener per id");

        r.close();
        changeDelivered("p0", () -> write("p0", voters(1, "a", "b", "d")));

        assertEquals(0, watches.reads(), "a closed registration reads nothing");
        assertTrue(seen.isEmpty(), "and delivers nothing");

        watches.unwatched("p0"); // opened again, say, by the synchronous path
        var unused = watches.listen("p0", seen::add);
        await(() -> !seen.isEmpty(), "the reopened partition gets the current configuration");
        assertEquals(List.of(voters(1, "a", "b", "d")), seen);
    }
}
