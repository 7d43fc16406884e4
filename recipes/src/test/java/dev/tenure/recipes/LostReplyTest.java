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
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.recipes.FencedTransaction.OutcomeUnknownException;
import dev.tenure.recipes.Records.EpochRecord;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A ZooKeeper client whose {@code multi} commits on the server and then throws {@code ConnectionLoss} once
 * ({@link LostReplyFault}): the outcome of a fenced transaction is then reported as unknown, never as "not
 * applied", and the epoch mint still yields one term whose epoch is the one on the epoch node.
 */
@Tag("zookeeper")
class LostReplyTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk =
            ZooKeeperEnsembleExtension.of(ZooKeeperEnsemble.builder().servers(1));

    private final List<FencedLeaderElection> elections = new ArrayList<>();
    private final LostReplyFault fault = new LostReplyFault();
    private String path;
    private CuratorFramework observer;
    private ElectionHistory history;

    @BeforeEach
    void setUp() throws Exception {
        path = "/tenure-lost-reply/" + UUID.randomUUID();
        observer = zk.ensemble().newClient();
        history = new ElectionHistory(path);
    }

    @AfterEach
    void tearDown() {
        elections.forEach(FencedLeaderElection::close);
        assertEquals(List.of(), history.violations(), "invariant violations");
    }

    private CuratorFramework faultyClient() throws InterruptedException {
        return zk.ensemble().newClient(zk.ensemble().clientBuilder().zookeeperFactory(fault));
    }

    private FencedLeaderElection join(String id, ElectionBackend backend, CuratorFramework client) {
        FencedLeaderElection e = FencedLeaderElection.builder(client, path)
                .participantId(id)
                .backend(backend)
                .listener(history.listenerFor(id, client))
                .retryBackoff(Duration.ofMillis(200))
                .build();
        elections.add(e);
        e.start();
        return e;
    }

    /** What a blind retry of the committed transaction would have met, and so misreported as "not applied". */
    enum RetryWouldMeet {
        NODE_EXISTS,
        BAD_VERSION,
        NEWER_EPOCH
    }

    @ParameterizedTest
    @EnumSource(RetryWouldMeet.class)
    void fencedTransactionWhoseReplyIsLostReportsOutcomeUnknown(RetryWouldMeet retry) throws Exception {
        CuratorFramework client = faultyClient();
        FencedLeaderElection a = join("a", ElectionBackend.LEADER_LATCH, client);
        LeadershipToken token = a.awaitLeadership(WAIT);
        observer.create().forPath(path + "/data", bytes("0"));
        CuratorOp op;
        switch (retry) {
            case NODE_EXISTS:
                op = client.transactionOp().create().forPath(path + "/data/child", bytes("1"));
                fault.loseNextReply();
                break;
            case BAD_VERSION:
                op = client.transactionOp().setData().withVersion(0).forPath(path + "/data", bytes("1"));
                fault.loseNextReply();
                break;
            case NEWER_EPOCH:
                op = client.transactionOp().create().forPath(path + "/data/child", bytes("1"));
                // Another participant mints a newer epoch after the commit, before the caller hears of it.
                fault.loseNextReply(() -> observer.setData()
                        .forPath(path + "/epoch", new EpochRecord(token.epoch() + 1, "b", "", "", "").encode()));
                break;
            default:
                throw new AssertionError(retry);
        }

        OutcomeUnknownException e =
                assertThrows(OutcomeUnknownException.class, () -> a.fencedTransaction(token, List.of(op)));

        assertInstanceOf(KeeperException.ConnectionLossException.class, e.getCause());
        assertEquals(1, fault.lostReplies());
        String written = retry == RetryWouldMeet.BAD_VERSION ? path + "/data" : path + "/data/child";
        assertEquals("1", text(observer.getData().forPath(written)), "the transaction was applied");
    }

    @ParameterizedTest
    @EnumSource(ElectionBackend.class)
    void mintWhoseReplyIsLostYieldsOneEpoch(ElectionBackend backend) throws Exception {
        CuratorFramework client = faultyClient();
        fault.loseNextReply(); // the participant's first multi is its mint
        FencedLeaderElection a = join("a", backend, client);

        LeadershipToken token = a.awaitLeadership(WAIT);
        history.awaitAcquired(t -> t.equals(token), WAIT);

        assertEquals(1, fault.lostReplies(), "the mint's reply was lost");
        Stat stat = new Stat();
        EpochRecord onNode =
                EpochRecord.decode(observer.getData().storingStatIn(stat).forPath(path + "/epoch"));
        assertEquals(token.epoch(), onNode.epoch, "the term's epoch is the one on the epoch node");
        assertEquals(token.epochNodeVersion(), stat.getVersion(), "no mint after the term's");
        assertEquals("a", onNode.leaderId);
        assertEquals(1, history.events().size(), "one term: " + history.events());

        FencedLeaderElection b = join("b", backend, zk.ensemble().newClient());
        assertTrue(a.stepDown(token, Duration.ofSeconds(60))); // b is the only candidate left
        LeadershipToken next = b.awaitLeadership(WAIT);
        assertEquals(token.epoch() + 1, next.epoch(), "minting continues from the epoch on the node");
    }

    @Test
    void transactionRefusedOnItsOnlyAttemptIsReportedNotApplied() throws Exception {
        CuratorFramework client = faultyClient();
        FencedLeaderElection a = join("a", ElectionBackend.LEADER_LATCH, client);
        LeadershipToken token = a.awaitLeadership(WAIT);
        observer.create().forPath(path + "/data", bytes("0"));

        assertThrows(
                KeeperException.NodeExistsException.class,
                () -> a.fencedTransaction(
                        token,
                        List.of(
                                client.transactionOp().setData().forPath(path + "/data", bytes("1")),
                                client.transactionOp().create().forPath(path + "/data", bytes("2")))));

        assertEquals("0", text(observer.getData().forPath(path + "/data")), "nothing was applied");
        assertEquals(0, fault.lostReplies());
    }

    @Test
    void resultsNameTheCallersPathsWithoutTheNamespace() throws Exception {
        CuratorFramework client = zk.ensemble().newClient().usingNamespace("tenure-ns");
        client.create()
                .creatingParentsIfNeeded()
                .forPath(path + "/epoch", new EpochRecord(1, "a", "", "", "").encode());
        client.create().forPath(path + "/old", bytes("0"));
        LeadershipToken token = new LeadershipToken(path, 1, "a", 0);

        List<CuratorTransactionResult> results = FencedTransaction.commit(
                client,
                token,
                List.of(
                        client.transactionOp()
                                .create()
                                .withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                                .forPath(path + "/seq-", bytes("1")),
                        client.transactionOp().setData().forPath(path + "/old", bytes("2")),
                        client.transactionOp().check().forPath(path + "/old"),
                        client.transactionOp().delete().forPath(path + "/old")));

        assertEquals(4, results.size());
        assertEquals(OperationType.CREATE, results.get(0).getType());
        assertEquals(path + "/seq-", results.get(0).getForPath());
        assertEquals(path + "/seq-0000000002", results.get(0).getResultPath());
        assertEquals(OperationType.SET_DATA, results.get(1).getType());
        assertEquals(1, results.get(1).getResultStat().getVersion());
        assertEquals(OperationType.CHECK, results.get(2).getType());
        assertEquals(OperationType.DELETE, results.get(3).getType());
        assertEquals(path + "/old", results.get(3).getForPath());
        assertNotNull(observer.checkExists().forPath("/tenure-ns" + path + "/seq-0000000002"));
        assertNull(observer.checkExists().forPath("/tenure-ns" + path + "/old"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
