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
package dev.tenure.controller.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A node's registration: its node epoch, a new one in every session, and never another session's node deleted. */
@Timeout(60)
@Tag("zookeeper")
class NodeRegistrarTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private final List<NodeRegistrar> registrars = new ArrayList<>();
    private String cluster;
    private String path;
    private CuratorFramework observer;

    /** What a listener heard. */
    record Event(String kind, NodeRegistration registration) {}

    /** Records a registrar's calls: each registration, and the end of the one told before. */
    static final class Events implements NodeRegistrar.Listener {
        final BlockingQueue<Event> queue = new LinkedBlockingQueue<>();
        private NodeRegistration last;

        @Override
        public void changed(Optional<NodeRegistration> registration) {
            if (registration.isPresent()) {
                last = registration.get();
                queue.add(new Event("registered", last));
            } else {
                queue.add(new Event("lost", last));
            }
        }

        Event next() throws InterruptedException, TimeoutException {
            Event e = queue.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (e == null) {
                throw new TimeoutException("no registration event");
            }
            return e;
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        cluster = "/registrar-test/" + UUID.randomUUID();
        path = ControllerPaths.node(cluster, "n1");
        observer = ensemble().newClient();
    }

    @AfterEach
    void tearDown() {
        registrars.forEach(NodeRegistrar::close);
    }

    private static ZooKeeperEnsemble ensemble() {
        return zk.ensemble();
    }

    private NodeRegistrar registrar(CuratorFramework client, Events events) {
        NodeRegistrar r = NodeRegistrar.builder(client, cluster)
                .nodeId("n1")
                .endpoint("127.0.0.1:7001")
                .listener(events)
                .retryBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .build();
        registrars.add(r);
        return r;
    }

    /** The registration node's stat as the observer sees it after catching up with the leader (a sync). */
    private Stat stat() throws Exception {
        CountDownLatch synced = new CountDownLatch(1);
        observer.sync().inBackground((c, event) -> synced.countDown()).forPath(path);
        assertTrue(synced.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "synced");
        return observer.checkExists().forPath(path);
    }

    private static long session(CuratorFramework client) throws Exception {
        return client.getZookeeperClient().getZooKeeper().getSessionId();
    }

    private static void await(BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(what);
            }
            Thread.sleep(20); // polling a condition with no event to wait on
        }
    }

    @Test
    void theNodeEpochIsTheCzxidOfTheEphemeralRegistrationNode() throws Exception {
        CuratorFramework client = ensemble().newClient();
        Events events = new Events();
        NodeRegistrar registrar = registrar(client, events);
        assertEquals(Optional.empty(), registrar.current());
        registrar.start();
        NodeRegistration r = registrar.awaitRegistration(WAIT);
        assertEquals(new Event("registered", r), events.next());
        assertEquals(new NodeRegistration("n1", r.nodeEpoch(), "127.0.0.1:7001"), r);
        Stat stat = new Stat();
        byte[] data = client.getData().storingStatIn(stat).forPath(path);
        assertEquals(stat.getCzxid(), r.nodeEpoch());
        assertEquals(session(client), stat.getEphemeralOwner());
        assertArrayEquals(NodeRegistrationRecord.encode("n1", "127.0.0.1:7001"), data);
        assertEquals(Optional.of(r), registrar.current());
    }

    @Test
    void afterItsSessionExpiresTheNodeRegistersAgainWithAHigherNodeEpoch() throws Exception {
        CuratorFramework client = ensemble().newClient();
        Events events = new Events();
        NodeRegistrar registrar = registrar(client, events);
        registrar.start();
        NodeRegistration first = events.next().registration();
        long firstSession = session(client);

        ensemble().expireSession(client);
        assertEquals(new Event("lost", first), events.next());
        Event again = events.next();
        assertEquals("registered", again.kind());
        assertTrue(again.registration().nodeEpoch() > first.nodeEpoch(), again + " after " + first);
        Stat stat = stat();
        assertEquals(again.registration().nodeEpoch(), stat.getCzxid());
        assertTrue(stat.getEphemeralOwner() != firstSession, "registered in the new session");

        ensemble().expireSession(client);
        assertEquals(new Event("lost", again.registration()), events.next());
        assertTrue(
                events.next().registration().nodeEpoch() > again.registration().nodeEpoch(), "and again");
        assertEquals(3, registrar.registrationCount());
    }

    @Test
    void aSecondRegistrarOfTheSameIdWaitsForTheFirstsNodeToGoAndNeverDeletesIt() throws Exception {
        NodeRegistrar first = registrar(ensemble().newClient(), new Events());
        first.start();
        NodeRegistration held = first.awaitRegistration(WAIT);

        // A quick restart: the previous incarnation's session is still alive.
        Events events = new Events();
        NodeRegistrar second = registrar(ensemble().newClient(), events);
        second.start();
        await(() -> second.foreignOwnerWaits() >= 3, "the second registrar tries again and again");
        assertEquals(held.nodeEpoch(), stat().getCzxid(), "the first's node is never deleted");
        assertEquals(Optional.empty(), second.current());
        assertTrue(events.queue.isEmpty());

        first.close(); // gone: its node is deleted
        NodeRegistration r = events.next().registration();
        assertTrue(r.nodeEpoch() > held.nodeEpoch());
        assertEquals(r.nodeEpoch(), stat().getCzxid());
        assertEquals(0, second.staleNodesReplaced());
    }

    @Test
    void aNodeLeftByThisRegistrarsEarlierSessionIsReplacedAtOnce() throws Exception {
        // KAFKA-7165: the client gives up its session (an expiry seen only by the client) and gets a new one while
        // the servers keep the old session, and its ephemeral node, until the session timeout (60 s here).
        CuratorFramework client = ensemble().newClient(Duration.ofSeconds(60));
        Events events = new Events();
        NodeRegistrar registrar = registrar(client, events);
        registrar.start();
        NodeRegistration first = events.next().registration();
        long firstSession = session(client);

        // The client drops its handle (as Curator does when it gives a session up) without closing the session on
        // the servers. The expiry is injected while ZooKeeper's event thread is held, so that Curator, which closes
        // the old handle when it hears of the expiry, finds it already closed and sends no closeSession.
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        client.checkExists()
                .inBackground((c, event) -> {
                    holding.countDown();
                    release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                })
                .forPath("/");
        assertTrue(holding.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        try {
            client.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
            assertEquals(firstSession, stat().getEphemeralOwner(), "the old session and its node live on");
        } finally {
            release.countDown();
        }
        assertEquals(new Event("lost", first), events.next());
        NodeRegistration again = events.next().registration();
        assertTrue(again.nodeEpoch() > first.nodeEpoch());
        assertEquals(1, registrar.staleNodesReplaced(), "the old session's node was deleted, not waited for");
        Stat stat = stat();
        assertEquals(again.nodeEpoch(), stat.getCzxid());
        assertEquals(session(client), stat.getEphemeralOwner());
        assertTrue(stat.getEphemeralOwner() != firstSession);
    }

    @Test
    void aNodeOfTheCurrentSessionWithThisRecordIsAdopted() throws Exception {
        // KAFKA-1029: a create whose reply was lost and that is sent again finds the node it made.
        CuratorFramework client = ensemble().newClient();
        client.create()
                .creatingParentsIfNeeded()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(path, NodeRegistrationRecord.encode("n1", "127.0.0.1:7001"));
        long czxid = stat().getCzxid();
        NodeRegistrar registrar = registrar(client, new Events());
        registrar.start();
        assertEquals(czxid, registrar.awaitRegistration(WAIT).nodeEpoch());
        assertEquals(czxid, stat().getCzxid());
    }

    @Test
    void aRegistrationDeletedByHandIsMadeAgain() throws Exception {
        Events events = new Events();
        NodeRegistrar registrar = registrar(ensemble().newClient(), events);
        registrar.start();
        NodeRegistration first = events.next().registration();
        observer.delete().forPath(path);
        assertEquals(new Event("lost", first), events.next());
        assertTrue(events.next().registration().nodeEpoch() > first.nodeEpoch());
        assertNotNull(stat());
    }

    @Test
    void closeDeletesTheRegistrationAndLaterUseIsRefused() throws Exception {
        Events events = new Events();
        NodeRegistrar registrar = registrar(ensemble().newClient(), events);
        registrar.start();
        NodeRegistration r = events.next().registration();
        registrar.close();
        assertNull(stat(), "a controlled stop deletes the registration");
        assertEquals(new Event("lost", r), events.next());
        registrar.close(); // idempotent
        assertThrows(IllegalStateException.class, registrar::current);
        assertThrows(IllegalStateException.class, () -> registrar.awaitRegistration(WAIT));
        assertThrows(IllegalStateException.class, registrar::start);
        assertTrue(events.queue.isEmpty());
    }

    @Test
    void closingWhileZooKeeperIsUnreachableReturnsAtOnceAndTheRegistrationGoesWithTheSession() throws Exception {
        Events events = new Events();
        CuratorFramework client = ensemble().newClient(Duration.ofSeconds(4));
        NodeRegistrar registrar = registrar(client, events);
        registrar.start();
        NodeRegistration r = events.next().registration();
        ensemble().stopAll(); // restarted after the test
        await(() -> !client.getZookeeperClient().isConnected(), "the client is disconnected");
        long started = System.nanoTime();
        registrar.close(); // the delete used to wait for a connection: the whole 10 s of the close's wait
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(tookMs < 2_000, "close took " + tookMs + " ms while ZooKeeper was down");
        assertEquals(new Event("lost", r), events.next());
        client.close();
        ensemble().restoreAll();
        await(
                () -> {
                    try {
                        return observer.checkExists().forPath(path) == null;
                    } catch (Exception e) {
                        return false; // the observer is not connected again yet
                    }
                },
                "the registration goes once its session expires");
    }

    @Test
    void aRegistrarStartsOnlyOnce() throws Exception {
        NodeRegistrar registrar = registrar(ensemble().newClient(), new Events());
        registrar.start();
        IllegalStateException e = assertThrows(IllegalStateException.class, registrar::start);
        assertTrue(e.getMessage().contains("more than once"), e.getMessage());
    }

    @Test
    void anEndpointThatIsNotHostAndPortOrAMissingSettingIsRefused() {
        for (String bad : List.of("", "host", "host:0", "host:65536", "a b:1", "http://x:1", "x".repeat(301) + ":1")) {
            assertThrows(
                    IllegalArgumentException.class,
                    () -> NodeRegistrar.builder(observer, cluster).endpoint(bad),
                    bad);
        }
        assertThrows(
                IllegalStateException.class,
                () -> NodeRegistrar.builder(observer, cluster).nodeId("n1").build());
        assertThrows(
                IllegalStateException.class,
                () -> NodeRegistrar.builder(observer, cluster).endpoint("h:1").build());
        assertThrows(
                IllegalArgumentException.class,
                () -> NodeRegistrar.builder(observer, cluster).nodeId("a/b"));
    }
}
