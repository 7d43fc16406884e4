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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * The fenced election's guarantees on Curator's {@code LeaderLatch} ({@link FencedLeaderElectionCases}), and those that
 * do not depend on the back end.
 */
class FencedLeaderElectionTest extends FencedLeaderElectionCases {
    static Stream<ElectionBackend> backends() {
        return Stream.of(ElectionBackend.LEADER_LATCH);
    }

    @Test
    void suspicionPathsNameTheEpochInTwentyDigitsAndRefuseBadIds() {
        assertEquals("/svc/suspicions/00000000000000000007/r1", FencedLeaderElection.suspicionPath("/svc", 7, "r1"));
        assertEquals(7, FencedLeaderElection.suspectedEpochOf("00000000000000000007"));
        assertEquals(-1, FencedLeaderElection.suspectedEpochOf("7"));
        assertEquals(-1, FencedLeaderElection.suspectedEpochOf("0000000000000000000x"));
        assertEquals(-1, FencedLeaderElection.suspectedEpochOf("00000000000000000000"));
        assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.suspicionPath("/svc", 0, "r1"));
        assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.suspicionPath("/svc", 1, "a/b"));
        assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.suspicionPath("/svc", 1, ""));
    }

    @Test
    void badUseGetsClearErrors() throws Exception {
        CuratorFramework client = ensemble().newClient();
        assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.builder(client, "relative"));
        assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.builder(client, "/trailing/"));
        assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.builder(client, "/"));
        assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.builder(client, "/a//b"));
        assertThrows(IllegalArgumentException.class, () -> FencedLeaderElection.builder(client, null));
        assertThrows(NullPointerException.class, () -> FencedLeaderElection.builder(null, "/x"));
        assertThrows(
                IllegalArgumentException.class,
                () -> FencedLeaderElection.builder(client, path).participantId(""));
        assertThrows(
                IllegalArgumentException.class,
                () -> FencedLeaderElection.builder(client, path).participantId("  "));
        assertThrows(
                IllegalArgumentException.class,
                () -> FencedLeaderElection.builder(client, path).participantId(" "),
                "a blank participant id");
        IllegalArgumentException policy = assertThrows(
                IllegalArgumentException.class,
                () -> FencedLeaderElection.builder(client, path)
                        .participantId("a")
                        .suspensionPolicy(SuspensionPolicy.WAIT_FOR_LOST)
                        .build());
        assertTrue(policy.getMessage().contains("SessionConnectionStateErrorPolicy"));

        FencedLeaderElection e =
                FencedLeaderElection.builder(client, path).participantId("a").build();
        assertThrows(IllegalStateException.class, () -> e.stepDown(new LeadershipToken(path, 1, "a", 1)));
        e.start();
        IllegalStateException twice = assertThrows(IllegalStateException.class, e::start);
        assertEquals("Cannot be started more than once", twice.getMessage());
        LeadershipToken token = e.awaitLeadership(WAIT);
        assertThrows(
                IllegalArgumentException.class,
                () -> e.fencedTransaction(new LeadershipToken("/other", token.epoch(), "a", 1), List.of()));
        assertThrows(IllegalArgumentException.class, () -> e.revocation(new LeadershipToken(path, 999, "a", 1)));
        e.close();
        e.close();
        assertThrows(IllegalStateException.class, e::start);
        assertThrows(IllegalStateException.class, () -> e.stepDown(token));
        assertThrows(IllegalStateException.class, () -> e.fencedTransaction(token, List.of()));
        assertThrows(IllegalStateException.class, () -> e.awaitLeadership(Duration.ofMillis(1)));
        assertEquals(
                RevocationReason.CLOSED,
                e.revocation(token).toCompletableFuture().get());
    }

    @Test
    void latestEpochIsZeroBeforeAnyMintAndThenTheLastEpochMinted() throws Exception {
        assertEquals(0, FencedLeaderElection.latestEpoch(observer, path));
        FencedLeaderElection a = join("a", ElectionBackend.LEADER_LATCH);
        LeadershipToken first = a.awaitLeadership(WAIT);
        assertEquals(first.epoch(), FencedLeaderElection.latestEpoch(observer, path));
        FencedLeaderElection b = join("b", ElectionBackend.LEADER_LATCH);
        a.close(); // leaves the election: b is the only participant
        LeadershipToken second = b.awaitLeadership(WAIT);
        assertEquals(second.epoch(), FencedLeaderElection.latestEpoch(observer, path));
        assertTrue(second.epoch() > first.epoch());
    }

    @Test
    void mintEpochOutsideATermWritesItsOperationsAtomicallyAndRevokesTheLeader() throws Exception {
        FencedLeaderElection a = join("a", ElectionBackend.LEADER_LATCH);
        LeadershipToken first = a.awaitLeadership(WAIT);
        String config = path + "-config";
        observer.create().creatingParentsIfNeeded().forPath(config, "v1".getBytes(StandardCharsets.UTF_8));

        long minted = FencedLeaderElection.mintEpoch(
                observer,
                path,
                epoch -> List.of(observer.transactionOp()
                        .setData()
                        .withVersion(0)
                        .forPath(config, ("v2@" + epoch).getBytes(StandardCharsets.UTF_8))));

        assertEquals(first.epoch() + 1, minted);
        assertEquals(minted, FencedLeaderElection.latestEpoch(observer, path));
        assertEquals("v2@" + minted, new String(observer.getData().forPath(config), StandardCharsets.UTF_8));
        assertEquals(
                RevocationReason.SUPERSEDED,
                a.revocation(first).toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        LeadershipToken again = a.awaitLeadership(WAIT);
        assertTrue(again.epoch() > minted, "the next term mints after it: " + again);
    }

    @Test
    void mintEpochWhoseOperationFailsWritesNothing() throws Exception {
        String config = path + "-config";
        observer.create().creatingParentsIfNeeded().forPath(config, "v1".getBytes(StandardCharsets.UTF_8));
        long before = FencedLeaderElection.latestEpoch(observer, path);

        assertThrows(
                KeeperException.BadVersionException.class,
                () -> FencedLeaderElection.mintEpoch(
                        observer,
                        path,
                        epoch -> List.of(observer.transactionOp()
                                .setData()
                                .withVersion(7)
                                .forPath(config, "v2".getBytes(StandardCharsets.UTF_8)))));

        assertEquals(before, FencedLeaderElection.latestEpoch(observer, path));
        assertEquals("v1", new String(observer.getData().forPath(config), StandardCharsets.UTF_8));
    }

    @Test
    void pathsCreatedInOneTransactionAreTheElectionsAndNeverResetAnEpochMintedOnThem() throws Exception {
        try {
            observer.create().creatingParentsIfNeeded().forPath(ZKPathsParent.of(path));
        } catch (KeeperException.NodeExistsException alreadyThere) {
            // The parent of every test's election path: an earlier test of this class created it.
        }
        observer.transaction().forOperations(FencedLeaderElection.pathCreationOperations(observer, path));
        assertEquals(0, FencedLeaderElection.latestEpoch(observer, path), "created at epoch 0");
        assertTrue(observer.checkExists().forPath(path + "/election") != null, "with the latch container");

        FencedLeaderElection a = joinWithPathsCreated("a");
        assertEquals(1, a.awaitLeadership(WAIT).epoch(), "the first term on the created path has epoch 1");
        Stat epochNode = observer.checkExists().forPath(path + "/epoch");
        assertEquals(1, epochNode.getVersion(), "the epoch node was written once, by the mint");

        assertThrows(
                KeeperException.NodeExistsException.class,
                () -> observer.transaction().forOperations(FencedLeaderElection.pathCreationOperations(observer, path)),
                "creating the paths again fails as a whole");
        assertEquals(1, FencedLeaderElection.latestEpoch(observer, path), "and leaves the epoch as it was");
        assertTrue(a.hasLeadership());
    }

    @Test
    void anElectionToldItsPathsExistLeadsEvenIfTheyWereNeverCreated() throws Exception {
        FencedLeaderElection a = joinWithPathsCreated("a");
        // The recipe creates its container; the mint finds no epoch node and creates the path's nodes first.
        assertEquals(1, a.awaitLeadership(WAIT).epoch());
        FencedLeaderElection b = joinWithPathsCreated("b");
        // b must be in line before a steps down: otherwise a rejoins first and leads again.
        awaitLatchNodes(2, "b's latch node is in line");
        a.stepDown(a.currentToken().orElseThrow());
        assertEquals(2, b.awaitLeadership(WAIT).epoch(), "the next term mints the next epoch");
    }

    @Test
    void joiningAnExistingElectionWritesNothingButItsLatchNode() throws Exception {
        FencedLeaderElection a = join("a", ElectionBackend.LEADER_LATCH);
        a.awaitLeadership(WAIT);
        CuratorFramework client = ensemble().newClient(); // its session is a transaction: made before the probe
        long before = probe("before");
        FencedLeaderElection b = join("b", ElectionBackend.LEADER_LATCH, client, SuspensionPolicy.REVOKE);
        awaitLatchNodes(2, "b's latch node is in line");
        long after = probe("after");
        // Every transaction takes a zxid, refused creates too (they used to be two: the path and its epoch node).
        assertEquals(2, after - before, "between the probes: b's latch node and the second probe only");
        assertFalse(b.hasLeadership());
    }

    @Test
    void closingBeforeStartingIsAllowedAndFinal() {
        FencedLeaderElection e;
        try {
            e = FencedLeaderElection.builder(ensemble().newClient(), path)
                    .participantId("a")
                    .build();
        } catch (InterruptedException ex) {
            throw new AssertionError(ex);
        }
        e.close();
        assertThrows(IllegalStateException.class, e::start);
        assertNotEquals("", e.toString());
    }
}
