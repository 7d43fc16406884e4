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
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.NodeRegistration;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.core.StateWrite;
import dev.tenure.controller.core.VersionedState;
import dev.tenure.controller.zookeeper.PartitionStateStore.Conflict;
import dev.tenure.controller.zookeeper.PartitionStateStore.Fenced;
import dev.tenure.controller.zookeeper.PartitionStateStore.Kind;
import dev.tenure.controller.zookeeper.PartitionStateStore.Unknown;
import dev.tenure.controller.zookeeper.PartitionStateStore.WriteOutcome;
import dev.tenure.controller.zookeeper.PartitionStateStore.Written;
import dev.tenure.harness.LinkProxy;
import dev.tenure.harness.Links;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeadershipListener;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.recipes.ZooKeeperAcls;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import dev.tenure.testkit.ZooKeeperProxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The partition states in ZooKeeper: pipelined reads and batched writes, each write fenced by the controller's epoch,
 * on a real 3-server ensemble.
 */
@Timeout(60)
@Tag("zookeeper")
class PartitionStateStoreTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private final List<FencedLeaderElection> elections = new ArrayList<>();
    private final BlockingQueue<LeadershipToken> acquired = new LinkedBlockingQueue<>();
    private String cluster;
    private CuratorFramework observer;

    @BeforeEach
    void setUp() throws Exception {
        cluster = "/store-test/" + UUID.randomUUID();
        observer = ensemble().newClient();
    }

    @AfterEach
    void tearDown() {
        elections.forEach(FencedLeaderElection::close);
    }

    private static ZooKeeperEnsemble ensemble() {
        return zk.ensemble();
    }

    private FencedLeaderElection controller(CuratorFramework client, String id) {
        FencedLeaderElection e = FencedLeaderElection.builder(client, ControllerPaths.controllerElection(cluster))
                .participantId(id)
                .retryBackoff(Duration.ofMillis(200))
                .listener(new LeadershipListener() {
                    @Override
                    public void acquired(LeadershipToken token) {
                        acquired.add(token);
                    }
                })
                .build();
        elections.add(e);
        e.start();
        return e;
    }

    /** The next term acquired with an epoch above {@code above}. */
    private LeadershipToken awaitTerm(long above) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            LeadershipToken t = acquired.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (t == null) {
                throw new TimeoutException("no term above epoch " + above);
            }
            if (t.epoch() > above) {
                return t;
            }
        }
    }

    private PartitionStateStore store(CuratorFramework client) {
        return new PartitionStateStore(client, cluster);
    }

    private static String partition(int i) {
        return String.format("p%04d", i);
    }

    private static List<StateWrite> creates(int from, int to, long controllerEpoch) {
        List<StateWrite> writes = new ArrayList<>();
        for (int i = from; i < to; i++) {
            writes.add(new StateWrite(
                    partition(i),
                    PartitionState.initial(List.of("n" + (i % 3), "n" + ((i + 1) % 3)), controllerEpoch),
                    StateWrite.CREATE));
        }
        return writes;
    }

    /** The next term of every state, led by its preferred replica. */
    private static List<StateWrite> nextTerms(Map<String, VersionedState> states, long controllerEpoch) {
        List<StateWrite> writes = new ArrayList<>();
        for (VersionedState s : states.values()) {
            NodeRegistration leader = new NodeRegistration(s.state().preferredLeader(), 1000, "h:1");
            writes.add(new StateWrite(s.partition(), s.state().nextTerm(leader, controllerEpoch), s.version()));
        }
        return writes;
    }

    private static void assertAllWritten(List<WriteOutcome> outcomes) {
        for (WriteOutcome o : outcomes) {
            assertInstanceOf(Written.class, o, o.toString());
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
    void writesAndReadsGrowByPartitionsPerBatchNotByPartitions() throws Exception {
        CuratorFramework client = ensemble().newClient();
        controller(client, "c1");
        LeadershipToken token = awaitTerm(0);
        PartitionStateStore store = store(client);

        long before = store.roundTrips();
        assertAllWritten(store.write(token, creates(0, 100, token.epoch())));
        assertEquals(2, store.roundTrips() - before, "100 creates: P/partitions once, then one transaction");

        before = store.roundTrips();
        List<WriteOutcome> outcomes = store.write(token, creates(100, 1000, token.epoch()));
        assertEquals(9, store.roundTrips() - before, "900 creates: 9 transactions of 100");
        assertAllWritten(outcomes);
        assertTrue(store.maxInFlight() >= 2, "transactions are in flight together: " + store.maxInFlight());

        before = store.roundTrips();
        Map<String, VersionedState> states = store.readAll();
        assertEquals(2 + 10, store.roundTrips() - before, "sync and listing, then 10 reads of 100 states each");
        assertEquals(1000, states.size());
        for (int i = 0; i < 1000; i++) {
            VersionedState s = states.get(partition(i));
            assertEquals(0, s.version());
            assertEquals(creates(i, i + 1, token.epoch()).get(0).state(), s.state());
        }

        before = store.roundTrips();
        outcomes = store.write(token, nextTerms(states, token.epoch()));
        assertEquals(10, store.roundTrips() - before, "1,000 updates: 10 transactions");
        assertAllWritten(outcomes);
        Map<String, VersionedState> after = store(observer).readAll();
        for (WriteOutcome o : outcomes) {
            VersionedState written = ((Written) o).state();
            assertEquals(1, written.version());
            assertEquals(written, after.get(written.partition()), "what is reported written is in ZooKeeper");
            assertEquals(1, written.state().leaderEpoch());
        }
        assertEquals(Optional.of(after.get(partition(7))), store.read(partition(7)));
        assertEquals(Optional.empty(), store.read("p-none"));
    }

    @Test
    void aConflictFailsOnlyItsOwnWriteAndTheOthersOfItsTransactionAreWritten() throws Exception {
        CuratorFramework client = ensemble().newClient();
        controller(client, "c1");
        LeadershipToken token = awaitTerm(0);
        PartitionStateStore store = store(client);
        assertAllWritten(store.write(token, creates(0, 10, token.epoch())));
        // A partition node without a state (left by hand): a create of its state still succeeds.
        observer.create().forPath(ControllerPaths.partition(cluster, "bare"), new byte[0]);

        List<StateWrite> writes = new ArrayList<>(nextTerms(store.readAll(), token.epoch()));
        StateWrite wrong = writes.get(4);
        writes.set(4, new StateWrite(wrong.partition(), wrong.state(), 7)); // BADVERSION
        writes.set(2, creates(2, 3, token.epoch()).get(0)); // p0002 exists: NODEEXISTS
        StateWrite missing = new StateWrite("p-missing", writes.get(0).state(), 0); // NONODE
        writes.add(missing);
        StateWrite bare =
                new StateWrite("bare", PartitionState.initial(List.of("n1"), token.epoch()), StateWrite.CREATE);
        writes.add(0, bare);

        long before = store.roundTrips();
        List<WriteOutcome> outcomes = store.write(token, writes);
        assertEquals(writes.size(), outcomes.size());
        Map<String, WriteOutcome> byPartition = new LinkedHashMap<>();
        for (int i = 0; i < outcomes.size(); i++) {
            assertEquals(writes.get(i).partition(), outcomes.get(i).partition(), "outcomes are in the writes' order");
            byPartition.put(outcomes.get(i).partition(), outcomes.get(i));
        }
        assertEquals(new Conflict("p0004", KeeperException.Code.BADVERSION), byPartition.get("p0004"));
        assertEquals(new Conflict("p0002", KeeperException.Code.NODEEXISTS), byPartition.get("p0002"));
        assertEquals(new Conflict("p-missing", KeeperException.Code.NONODE), byPartition.get("p-missing"));
        assertInstanceOf(Written.class, byPartition.get("bare"));
        Map<String, VersionedState> now = store(observer).readAll();
        for (WriteOutcome o : outcomes) {
            if (o instanceof Written w) {
                assertEquals(w.state(), now.get(o.partition()));
            }
        }
        assertEquals(9, outcomes.stream().filter(o -> o instanceof Written).count());
        assertEquals(0, now.get("p0004").version(), "the conflicting write changed nothing");
        assertEquals(0, now.get("p0002").version());
        assertEquals(
                6,
                store.roundTrips() - before,
                "one transaction, sent again after each of the three conflicts and after each of the two existing"
                        + " partition nodes");
    }

    @Test
    void aControllerPausedPastItsSessionTimeoutIsFencedOnEveryWriteAndChangesNothing() throws Exception {
        ZooKeeperProxy proxy = ensemble().newProxy();
        CuratorFramework zombieClient =
                ensemble().newClient(ensemble().clientBuilder(proxy).sessionTimeoutMs(2000));
        controller(zombieClient, "zombie");
        LeadershipToken old = awaitTerm(0);
        PartitionStateStore zombie = store(zombieClient);
        assertAllWritten(zombie.write(old, creates(0, 250, old.epoch())));
        Map<String, VersionedState> before = store(observer).readAll();
        controller(ensemble().newClient(), "next");

        proxy.cut(); // the zombie's process pauses: it cannot reach ZooKeeper; its session expires
        LeadershipToken next = awaitTerm(old.epoch());
        assertEquals("next", next.leaderId());
        proxy.heal();
        await(() -> zombieClient.getZookeeperClient().isConnected(), "the zombie reconnects");

        List<StateWrite> writes = new ArrayList<>(nextTerms(before, old.epoch()));
        writes.addAll(creates(250, 300, old.epoch()));
        List<WriteOutcome> outcomes = zombie.write(old, writes);
        assertEquals(300, outcomes.size());
        for (WriteOutcome o : outcomes) {
            assertInstanceOf(Fenced.class, o, o.toString());
        }
        assertEquals(before, store(observer).readAll(), "a fenced write changes nothing");
        assertNull(observer.checkExists().forPath(ControllerPaths.partition(cluster, partition(299))));
    }

    @Test
    void controllerAndLeaderEpochsNeverGoBackwardsAcrossAFullZooKeeperRestart() throws Exception {
        CuratorFramework client = ensemble().newClient();
        controller(client, "c1");
        LeadershipToken first = awaitTerm(0);
        PartitionStateStore store = store(client);
        assertAllWritten(store.write(first, creates(0, 150, first.epoch())));
        assertAllWritten(store.write(first, nextTerms(store.readAll(), first.epoch())));
        Map<String, VersionedState> before = store.readAll();

        ensemble().stopAll();
        ensemble().restartAll();

        LeadershipToken second = awaitTerm(first.epoch());
        Map<String, VersionedState> after = store.readAll();
        assertEquals(before, after, "the states and their versions survive the restart");
        List<WriteOutcome> outcomes = store.write(second, nextTerms(after, second.epoch()));
        assertAllWritten(outcomes);
        assertThrows(IllegalArgumentException.class, () -> store.write(first, nextTerms(after, second.epoch())));
        for (WriteOutcome o : outcomes) {
            PartitionState s = ((Written) o).state().state();
            assertEquals(2, s.leaderEpoch(), "the leader epoch goes on from the one before the restart");
            assertEquals(second.epoch(), s.controllerEpoch());
        }
        List<WriteOutcome> stale = store.write(first, nextTerms(store.readAll(), first.epoch()));
        stale.forEach(o -> assertInstanceOf(Fenced.class, o, "the term before the restart is fenced"));
    }

    @Test
    void aWriteWhoseReplyIsLostIsUnknownAndIsNotSentAgain() throws Exception {
        CuratorFramework leader = ensemble().newClient();
        controller(leader, "c1");
        LeadershipToken token = awaitTerm(0);
        List<InetSocketAddress> servers = Arrays.stream(
                        ensemble().connectString().split(","))
                .map(s -> new InetSocketAddress("127.0.0.1", Integer.parseInt(s.substring(s.indexOf(':') + 1))))
                .collect(Collectors.toList());
        try (Links links = new Links();
                LinkProxy proxy = new LinkProxy("zk", servers, LinkProxy.fixed("zk"), links)) {
            CuratorFramework client = ensemble()
                    .newClient(ensemble()
                            .clientBuilder()
                            .connectString(proxy.connectString())
                            .sessionTimeoutMs(3000));
            PartitionStateStore store = store(client);
            assertAllWritten(store.write(token, creates(0, 3, token.epoch())));
            Map<String, VersionedState> before = store.readAll();
            List<StateWrite> writes = nextTerms(before, token.epoch());

            // Silence, not a reset: the request leaves the client and neither it nor its reply moves on.
            links.cut(List.of("zk"));
            long sent = store.roundTrips();
            List<WriteOutcome> outcomes = store.write(token, writes);
            assertEquals(1, store.roundTrips() - sent, "sent once, never again");
            for (WriteOutcome o : outcomes) {
                Unknown unknown = assertInstanceOf(Unknown.class, o, o.toString());
                assertInstanceOf(KeeperException.ConnectionLossException.class, unknown.cause());
            }
            links.healAll();

            // Whatever happened, it happened to all three or to none.
            Map<String, VersionedState> now = store(observer).readAll();
            Set<Boolean> applied =
                    now.values().stream().map(s -> s.version() == 1).collect(Collectors.toSet());
            assertEquals(1, applied.size(), "all or nothing: " + now);
        }
    }

    @Test
    void repliesAreToldApartAsAppliedLostFencedOrFailedAtOneOperation() {
        OpResult ok = new OpResult.ErrorResult(KeeperException.Code.OK.intValue());
        OpResult rest = new OpResult.ErrorResult(KeeperException.Code.RUNTIMEINCONSISTENCY.intValue());
        OpResult badVersion = new OpResult.ErrorResult(KeeperException.Code.BADVERSION.intValue());
        assertEquals(Kind.APPLIED, PartitionStateStore.classify(0, List.of()).kind());
        for (KeeperException.Code lost : List.of(
                KeeperException.Code.CONNECTIONLOSS,
                KeeperException.Code.SESSIONEXPIRED,
                KeeperException.Code.OPERATIONTIMEOUT,
                KeeperException.Code.REQUESTTIMEOUT)) {
            assertEquals(
                    Kind.REPLY_LOST,
                    PartitionStateStore.classify(lost.intValue(), null).kind(),
                    lost.name());
        }
        int bad = KeeperException.Code.BADVERSION.intValue();
        assertEquals(
                Kind.FENCED,
                PartitionStateStore.classify(bad, List.of(badVersion, rest, rest))
                        .kind());
        PartitionStateStore.Verdict atTwo = PartitionStateStore.classify(bad, List.of(ok, ok, badVersion, rest));
        assertEquals(new PartitionStateStore.Verdict(Kind.OP_FAILED, 2, KeeperException.Code.BADVERSION), atTwo);
        assertEquals(
                Kind.FAILED,
                PartitionStateStore.classify(KeeperException.Code.MARSHALLINGERROR.intValue(), null)
                        .kind());
    }

    @Test
    void aMalformedStateOrPartitionNameFailsTheReadNamingItsNode() throws Exception {
        CuratorFramework client = ensemble().newClient();
        controller(client, "c1");
        LeadershipToken token = awaitTerm(0);
        PartitionStateStore store = store(client);
        assertAllWritten(store.write(token, creates(0, 3, token.epoch())));
        String planted = ControllerPaths.partitionState(cluster, partition(1));
        byte[] malformed = "leader=me\n".getBytes(StandardCharsets.UTF_8);
        observer.setData().forPath(planted, malformed);
        await(
                () -> {
                    try {
                        return java.util.Arrays.equals(client.getData().forPath(planted), malformed);
                    } catch (Exception ex) {
                        return false; // polled again
                    }
                },
                "the store's server sees the planted state");
        IllegalStateException e = assertThrows(IllegalStateException.class, store::readAll);
        assertTrue(e.getMessage().contains(planted), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> store.read(partition(1)));
        assertTrue(e.getMessage().contains(planted), e.getMessage());

        observer.setData().forPath(planted, PartitionStateRecord.encode(PartitionState.initial(List.of("a"), 1)));
        String bad = ControllerPaths.partitions(cluster) + "/bad name";
        observer.create().forPath(bad, new byte[0]);
        // The store's client may be on a server that has not seen the observer's create yet: read once it has.
        await(
                () -> {
                    try {
                        return client.checkExists().forPath(bad) != null;
                    } catch (Exception ex) {
                        return false; // polled again
                    }
                },
                "the store's server sees the planted node");
        e = assertThrows(IllegalStateException.class, store::readAll);
        assertTrue(e.getMessage().contains("/bad name"), e.getMessage());
    }

    @Test
    void writesUseTheClientsNamespaceAndTheAclOfItsAclProvider() throws Exception {
        String namespace = "ns-" + UUID.randomUUID();
        CuratorFramework client = ensemble()
                .newClient(ZooKeeperAcls.digest("tenure", "secret")
                        .configure(ensemble().clientBuilder().namespace(namespace)));
        controller(client, "c1");
        LeadershipToken token = awaitTerm(0);
        PartitionStateStore store = store(client);
        assertAllWritten(store.write(token, creates(0, 2, token.epoch())));
        assertEquals(2, store.readAll().size());

        String state = "/" + namespace + ControllerPaths.partitionState(cluster, partition(0));
        String partitionNode = "/" + namespace + ControllerPaths.partition(cluster, partition(0));
        for (String path : List.of(state, partitionNode)) {
            CountDownLatch synced = new CountDownLatch(1);
            observer.sync().inBackground((c, event) -> synced.countDown()).forPath(path);
            assertTrue(synced.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "synced");
            List<ACL> acl = observer.getACL().forPath(path);
            assertEquals(2, acl.size(), acl.toString());
            assertTrue(acl.stream()
                    .anyMatch(a -> a.getPerms() == ZooDefs.Perms.ALL
                            && a.getId().getScheme().equals("digest")
                            && a.getId().getId().startsWith("tenure:")));
            assertTrue(acl.stream()
                    .anyMatch(a -> a.getPerms() == ZooDefs.Perms.READ
                            && a.getId().getScheme().equals("world")));
        }
        assertThrows(
                KeeperException.NoAuthException.class, () -> observer.setData().forPath(state, new byte[0]));
    }
}
