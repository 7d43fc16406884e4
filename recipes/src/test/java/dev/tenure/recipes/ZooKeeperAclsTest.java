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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@link ZooKeeperAcls}, only Tenure's identity can write an election's tree: an unauthenticated client and a
 * client with another credential can read it but can neither bump the epoch nor create, change or delete election
 * nodes, and the election keeps working while they try.
 */
@Tag("zookeeper")
class ZooKeeperAclsTest {
    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.of(ZooKeeperEnsemble.builder()
            .servers(1)
            .sessionTimeout(Duration.ofSeconds(10))); // one server: no quorum needed

    @TempDir
    Path dir;

    @Test
    void otherClientsCanReadTheElectionButNeitherBumpTheEpochNorTouchItsNodesAndItKeepsWorking() throws Exception {
        ZooKeeperAcls tenure = ZooKeeperAcls.digest("tenure", "s3cret");
        String path = "/tenure-test/" + UUID.randomUUID();
        CuratorFramework owner =
                zk.ensemble().newClient(tenure.configure(zk.ensemble().clientBuilder()));
        try (FencedLeaderElection a = FencedLeaderElection.builder(owner, path)
                        .participantId("a")
                        .leader(LeaderTerm::awaitRevocation)
                        .build();
                FencedLeaderElection b = FencedLeaderElection.builder(
                                zk.ensemble()
                                        .newClient(
                                                tenure.configure(zk.ensemble().clientBuilder())),
                                path)
                        .participantId("b")
                        .leader(LeaderTerm::awaitRevocation)
                        .build()) {
            a.start();
            LeadershipToken first = a.leadership().toCompletableFuture().get(30, TimeUnit.SECONDS);
            b.start();

            CuratorFramework anonymous = zk.ensemble().newClient();
            CuratorFramework stranger = zk.ensemble()
                    .newClient(ZooKeeperAcls.digest("mallory", "guess")
                            .configure(zk.ensemble().clientBuilder()));
            String epochNode = path + "/epoch";
            assertNotNull(anonymous.getData().forPath(epochNode), "anyone may read");
            List<String> electionNodes = anonymous.getChildren().forPath(path + "/election");
            assertFalse(electionNodes.isEmpty());
            for (CuratorFramework attacker : List.of(anonymous, stranger)) {
                assertThrows(
                        KeeperException.NoAuthException.class,
                        () -> attacker.setData().forPath(epochNode, Records.EpochRecord.INITIAL.encode()),
                        "bump (or reset) the epoch");
                assertThrows(
                        KeeperException.NoAuthException.class,
                        () -> attacker.delete().forPath(path + "/election/" + electionNodes.get(0)),
                        "delete the leader's election node");
                assertThrows(
                        KeeperException.NoAuthException.class,
                        () -> attacker.create().forPath(path + "/election/_c_front-run-latch-0000000000"),
                        "front-run the election");
                assertThrows(
                        KeeperException.NoAuthException.class,
                        () -> attacker.setData().forPath(path + "/election/" + electionNodes.get(0), new byte[] {1}),
                        "rewrite a participant's record");
            }
            for (String node : List.of(path, epochNode, path + "/election")) {
                List<ACL> acl = anonymous.getACL().forPath(node);
                assertEquals(2, acl.size(), node + ": " + acl);
                assertTrue(acl.stream().anyMatch(x -> x.getId().getScheme().equals("digest")), node + ": " + acl);
            }

            // The election works on: a hand-off mints the next epoch.
            assertTrue(a.isCurrent(first));
            assertTrue(a.stepDown(first, Duration.ofSeconds(30)));
            LeadershipToken second = b.leadership().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertTrue(second.epoch() > first.epoch());
        }
    }

    @Test
    void aCredentialFileHoldsUserColonPasswordAndAnythingElseIsRefusedClearly() throws Exception {
        Path good = Files.writeString(dir.resolve("auth"), "tenure:s3cret\n");
        assertEquals("tenure", ZooKeeperAcls.fromFile(good).user());
        assertFalse(ZooKeeperAcls.fromFile(good).toString().contains("s3cret"), "never shows the password");
        for (String bad : List.of("", "tenure", ":s3cret", "tenure:")) {
            Path f = Files.writeString(dir.resolve("bad"), bad);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ZooKeeperAcls.fromFile(f));
            assertTrue(e.getMessage().contains("user:password"), e.getMessage());
        }
    }
}
