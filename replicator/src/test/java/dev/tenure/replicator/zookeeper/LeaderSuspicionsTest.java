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
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.MoreExecutors;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.replicator.core.Configuration;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Fast failover's ZooKeeper part on its own (docs/replication.md, "Fast failover"): the suspicions of a real election's
 * leader, recorded by two voters that are not participants, depose it once — by the first suspecting voter by id,
 * while the other stands by — and the first suspicion of an epoch creates that epoch's parent node itself; a
 * suspicion superseded by a newer epoch is deleted a while later, not at once.
 */
@Tag("zookeeper")
class LeaderSuspicionsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Long: the standby's later depose must not happen while the test looks. */
    private static final Duration BACKOFF = Duration.ofSeconds(30);
    /** Long enough to see the superseded suspicion still there right after it stopped counting. */
    private static final Duration SUPERSEDED_DELAY = Duration.ofSeconds(5);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk =
            ZooKeeperEnsembleExtension.of(ZooKeeperEnsemble.builder().servers(1));

    private final String electionPath = "/tenure-suspicions/" + UUID.randomUUID();
    private CuratorFramework client;
    private FencedLeaderElection leader;
    private LeaderSuspicions b;
    private LeaderSuspicions c;

    @AfterEach
    void close() {
        for (LeaderSuspicions s : new LeaderSuspicions[] {b, c}) {
            if (s != null) {
                s.close();
            }
        }
        if (leader != null) {
            leader.close();
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

    private LeaderSuspicions suspicions(String self) {
        Configuration voters = Configuration.initial(List.of("a", "b", "c"));
        return new LeaderSuspicions(
                client,
                electionPath,
                self,
                () -> voters,
                MoreExecutors.directExecutor(),
                BACKOFF,
                SUPERSEDED_DELAY,
                System::nanoTime);
    }

    private List<String> suspicionsOf(long epoch) throws Exception {
        String parent = FencedLeaderElection.suspicionsPath(electionPath) + "/" + String.format("%020d", epoch);
        return client.checkExists().forPath(parent) == null
                ? List.of()
                : client.getChildren().forPath(parent).stream().sorted().toList();
    }

    private boolean noSuspicionOf(long epoch) {
        try {
            return suspicionsOf(epoch).isEmpty();
        } catch (Exception e) {
            return false; // polled again
        }
    }

    /** Participant a of a real election leads; returns its epoch. */
    private long aLeads() throws Exception {
        client = zk.ensemble().newClient();
        leader = FencedLeaderElection.builder(client, electionPath)
                .participantId("a")
                .build();
        leader.start();
        return leader.awaitLeadership(WAIT).epoch();
    }

    @Test
    void theFirstSuspectingVoterByIdDeposesTheLeaderOnceWhileTheOtherStandsBy() throws Exception {
        long epoch = aLeads();
        assertNotNull(client.checkExists().forPath(electionPath), "the election made its path");
        c = suspicions("c");
        b = suspicions("b");

        c.suspect(epoch, "a"); // c first: alone it is no majority, and once b joins it is not the first by id
        b.suspect(epoch, "a"); // the first epoch's first suspicions: their parent node does not exist yet

        await(() -> b.deposesDone() == 1, "b, the first suspecting voter by id, deposed a");
        assertTrue(client.getChildren().forPath(electionPath + "/election").isEmpty(), "a's node is gone");
        assertEquals(0, c.deposesStarted(), "c stands by for the back-off: one depose per failover");
    }

    @Test
    void aSupersededSuspicionsNodeIsDeletedLaterNotAtOnce() throws Exception {
        long epoch = aLeads();
        b = suspicions("b");
        b.suspect(epoch, "a");
        await(() -> !noSuspicionOf(epoch), "b's suspicion is recorded");

        b.clearSuperseded(epoch); // b promised a newer epoch
        assertEquals(List.of("b"), suspicionsOf(epoch), "the node stays for now");
        await(() -> noSuspicionOf(epoch), "b's superseded suspicion is deleted later");
    }
}
