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
package com.example.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeadershipListener;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.replicator.StateMachine;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;

/** A user's test, built against the installed artifacts only: the published POMs resolve and the API is usable. */
class FencedElectionFromOutsideTest {

    @Test
    void aSingleCandidateLeadsAndWritesFenced() throws Exception {
        try (TestingServer zk = new TestingServer();
                CuratorFramework client =
                        CuratorFrameworkFactory.newClient(zk.getConnectString(), new ExponentialBackoffRetry(100, 3))) {
            client.start();
            // The embedding as a user writes it: build, start, wait, write fenced.
            FencedLeaderElection election = FencedLeaderElection.builder(client, "/services/orders")
                    .participantId("orders-1")
                    .listener(new LeadershipListener() {})
                    .build();
            election.start();
            LeadershipToken token = election.awaitLeadership(Duration.ofSeconds(30));
            election.fencedTransaction(token, List.of(client.transactionOp()
                    .create()
                    .withMode(CreateMode.PERSISTENT)
                    .forPath("/orders-owner", token.toBytes())));
            election.close();

            assertTrue(token.epoch() > 0, "an epoch was minted");
            assertEquals(token, LeadershipToken.fromBytes(client.getData().forPath("/orders-owner")));
            assertTrue(StateMachine.class.isInterface(), "the replicator's API is on the class path");
        }
    }
}
