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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import dev.tenure.testkit.ZooKeeperProxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The controller's view of the registrations: every change seen, bounces as newer node epochs, bad data ignored. */
@Timeout(60)
@Tag("zookeeper")
class LiveNodesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private String cluster;

    /** What the listener heard. */
    sealed interface Heard {}

    record Initialized(Map<String, NodeRegistration> nodes) implements Heard {}

    record Registered(NodeRegistration registration) implements Heard {}

    record Deregistered(String node, long nodeEpoch) implements Heard {}

    /** Records the callbacks. */
    static final class Recorder implements LiveNodes.Listener {
        final BlockingQueue<Heard> heard = new LinkedBlockingQueue<>();

        @Override
        public void initialized(Map<String, NodeRegistration> nodes) {
            heard.add(new Initialized(nodes));
        }

        @Override
        public void registered(NodeRegistration registration) {
            heard.add(new Registered(registration));
        }

        @Override
        public void deregistered(String node, long nodeEpoch) {
            heard.add(new Deregistered(node, nodeEpoch));
        }

        Heard next() throws InterruptedException, TimeoutException {
            Heard h = heard.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (h == null) {
                throw new TimeoutException("nothing heard");
            }
            return h;
        }
    }

    @BeforeEach
    void setUp() {
        cluster = "/live-nodes-test/" + UUID.randomUUID();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private static ZooKeeperEnsemble ensemble() {
        return zk.ensemble();
    }

    private NodeRegistrar register(CuratorFramework client, String node) throws Exception {
        NodeRegistrar r = NodeRegistrar.builder(client, cluster)
                .nodeId(node)
                .endpoint(node + ".example:7001")
                .build();
        closeables.add(r);
        r.start();
        r.awaitRegistration(WAIT);
        return r;
    }

    private LiveNodes liveNodes(CuratorFramework client, LiveNodes.Listener listener) {
        LiveNodes live = LiveNodes.builder(client, cluster)
                .listener(listener)
                .retryBackoff(Duration.ofMillis(100))
                .build();
        closeables.add(live);
        live.start();
        return live;
    }

    /** Creates {@code node}'s registration by hand, in {@code client}'s session, and returns its node epoch. */
    private long plant(CuratorFramework client, String node, byte[] data, CreateMode mode) throws Exception {
        client.create()
                .creatingParentsIfNeeded()
                .withMode(mode)
                .forPath(ControllerPaths.nodes(cluster) + "/" + node, data);
        return client.checkExists()
                .forPath(ControllerPaths.nodes(cluster) + "/" + node)
                .getCzxid();
    }

    private static void awaitState(BlockingQueue<ConnectionState> states, ConnectionState wanted) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            ConnectionState s = states.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (s == null) {
                throw new TimeoutException("the client never became " + wanted);
            }
            if (s == wanted) {
                return;
            }
        }
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
    void registrationsAndDeregistrationsAreSeen() throws Exception {
        NodeRegistration n1 = register(ensemble().newClient(), "n1").awaitRegistration(WAIT);
        Recorder recorder = new Recorder();
        LiveNodes live = liveNodes(ensemble().newClient(), recorder);
        assertEquals(Map.of("n1", n1), live.awaitInitialized(WAIT));
        assertEquals(new Initialized(Map.of("n1", n1)), recorder.next(), "the first view, at once");

        NodeRegistrar r2 = register(ensemble().newClient(), "n2");
        NodeRegistration n2 = r2.awaitRegistration(WAIT);
        assertEquals(new Registered(n2), recorder.next());
        assertEquals(Map.of("n1", n1, "n2", n2), live.snapshot());

        r2.close(); // a controlled stop
        assertEquals(new Deregistered("n2", n2.nodeEpoch()), recorder.next());
        assertEquals(Map.of("n1", n1), live.snapshot());
        assertEquals(0, live.malformedCount());
    }

    @Test
    void aViewStartedBeforeTheFirstRegistrationSeesIt() throws Exception {
        Recorder recorder = new Recorder();
        LiveNodes live = liveNodes(ensemble().newClient(), recorder);
        assertEquals(Map.of(), live.awaitInitialized(WAIT), "no P/nodes yet");
        assertEquals(new Initialized(Map.of()), recorder.next());
        NodeRegistration n1 = register(ensemble().newClient(), "n1").awaitRegistration(WAIT);
        assertEquals(new Registered(n1), recorder.next());
    }

    @Test
    void aListenerThatOnlyHearsRegistrationsHearsTheFirstViewAsRegistrations() throws Exception {
        NodeRegistration n1 = register(ensemble().newClient(), "n1").awaitRegistration(WAIT);
        BlockingQueue<NodeRegistration> registered = new LinkedBlockingQueue<>();
        liveNodes(ensemble().newClient(), new LiveNodes.Listener() {
            @Override
            public void registered(NodeRegistration registration) {
                registered.add(registration);
            }
        });
        assertEquals(n1, registered.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Test
    void aNodeThatBouncesIsSeenAsARegistrationWithAHigherNodeEpoch() throws Exception {
        CuratorFramework nodeClient = ensemble().newClient();
        NodeRegistration first = register(nodeClient, "n1").awaitRegistration(WAIT);
        Recorder recorder = new Recorder();
        liveNodes(ensemble().newClient(), recorder);
        assertEquals(new Initialized(Map.of("n1", first)), recorder.next());

        ensemble().expireSession(nodeClient); // the node registers again in its new session
        Heard h = recorder.next();
        if (h instanceof Deregistered d) { // seen between the two registrations
            assertEquals(new Deregistered("n1", first.nodeEpoch()), d);
            h = recorder.next();
        }
        NodeRegistration again = ((Registered) h).registration();
        assertTrue(again.nodeEpoch() > first.nodeEpoch(), again + " after " + first);
    }

    @Test
    void aBounceWhileTheViewWasDisconnectedIsSeenAsARegistrationWithAHigherNodeEpoch() throws Exception {
        byte[] record = NodeRegistrationRecord.encode("n1", "n1.example:7001");
        CuratorFramework before = ensemble().newClient();
        long firstEpoch = plant(before, "n1", record, CreateMode.EPHEMERAL);
        ZooKeeperProxy proxy = ensemble().newProxy();
        CuratorFramework viewClient = ensemble().newClient(ensemble().clientBuilder(proxy));
        BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
        viewClient.getConnectionStateListenable().addListener((c, s) -> states.add(s));
        Recorder recorder = new Recorder();
        LiveNodes live = liveNodes(viewClient, recorder);
        assertEquals(firstEpoch, live.awaitInitialized(WAIT).get("n1").nodeEpoch());
        recorder.next();

        proxy.cut();
        awaitState(states, ConnectionState.SUSPENDED);
        before.close(); // the node's process ends; it restarts at once and registers again
        long secondEpoch = plant(ensemble().newClient(), "n1", record, CreateMode.EPHEMERAL);
        assertTrue(secondEpoch > firstEpoch);
        proxy.heal(); // within the session timeout: the same session, the same version (0) of n1's node

        assertEquals(new Registered(new NodeRegistration("n1", secondEpoch, "n1.example:7001")), recorder.next());
        assertEquals(secondEpoch, live.snapshot().get("n1").nodeEpoch());
        awaitState(states, ConnectionState.RECONNECTED);
        assertTrue(recorder.heard.isEmpty(), "no deregistration: the view never saw n1 gone");
    }

    @Test
    void malformedRegistrationsAreIgnoredCountedAndNeverStopTheView() throws Exception {
        CuratorFramework planter = ensemble().newClient();
        byte[] ok = NodeRegistrationRecord.encode("n1", "h:1");
        plant(planter, "garbage", "{\"not\":\"a record\"}".getBytes(StandardCharsets.UTF_8), CreateMode.EPHEMERAL);
        plant(planter, "persistent", NodeRegistrationRecord.encode("persistent", "h:1"), CreateMode.PERSISTENT);
        plant(planter, "bad id", NodeRegistrationRecord.encode("bad id", "h:1"), CreateMode.EPHEMERAL);
        plant(planter, "other", ok, CreateMode.EPHEMERAL); // n1's record under another name
        plant(planter, "bad-endpoint", NodeRegistrationRecord.encode("bad-endpoint", "h:0"), CreateMode.EPHEMERAL);
        Recorder recorder = new Recorder();
        LiveNodes live = liveNodes(ensemble().newClient(), recorder);
        assertEquals(Map.of(), live.awaitInitialized(WAIT));
        assertEquals(5, live.malformedCount());
        recorder.next();

        NodeRegistration n1 = register(ensemble().newClient(), "n1").awaitRegistration(WAIT);
        assertEquals(new Registered(n1), recorder.next());
        assertEquals(Map.of("n1", n1), live.snapshot());
        assertEquals(5, live.malformedCount(), "each is counted once, however often it is read");
        await(() -> live.readCount() >= 2, "read again");
    }

    @Test
    void aViewStartsOnceAndClosesIdempotently() throws Exception {
        LiveNodes live = liveNodes(ensemble().newClient(), new Recorder());
        assertThrows(IllegalStateException.class, live::start);
        live.close();
        live.close();
        assertThrows(IllegalStateException.class, () -> live.awaitInitialized(WAIT));
    }
}
