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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Tag("zookeeper")
class LeaderDiscoveryTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private final String path = "/tenure-discovery/" + UUID.randomUUID();

    private FencedLeaderElection participant(String id, ElectionBackend backend) throws Exception {
        FencedLeaderElection e = FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                .participantId(id)
                .endpoint(id + ":9000")
                .backend(backend)
                .build();
        e.start();
        return e;
    }

    @ParameterizedTest
    @EnumSource(ElectionBackend.class)
    void anyProcessSeesTheLeadersIdEndpointAndEpochAndItsSuccessor(ElectionBackend backend) throws Exception {
        CuratorFramework bystander = zk.ensemble().newClient();
        try (LeaderDiscovery discovery = new LeaderDiscovery(bystander, path)) {
            LinkedBlockingQueue<Optional<LeaderInfo>> changes = new LinkedBlockingQueue<>();
            discovery.addListener(changes::add);
            discovery.start();
            FencedLeaderElection a = participant("a", backend);
            LeadershipToken first = a.awaitLeadership(WAIT);
            LeaderInfo seen = discovery.awaitLeader(WAIT);
            assertEquals(new LeaderInfo("a", "a:9000", first.epoch()), seen);
            FencedLeaderElection b = participant("b", backend);
            a.stepDown(first, Duration.ofSeconds(60));
            LeadershipToken second = b.awaitLeadership(WAIT);
            assertEquals(
                    new LeaderInfo("b", "b:9000", second.epoch()),
                    discovery.awaitLeader(l -> l.id().equals("b"), WAIT));
            Optional<LeaderInfo> change;
            do {
                change = changes.poll(30, TimeUnit.SECONDS);
                assertTrue(change != null, "listener was not told of the new leader");
            } while (!change.equals(Optional.of(new LeaderInfo("b", "b:9000", second.epoch()))));
            b.close();
            a.close();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (discovery.leader().isPresent() && System.nanoTime() < deadline) {
                changes.poll(100, TimeUnit.MILLISECONDS);
            }
            assertEquals(Optional.empty(), discovery.leader(), "no leader once every participant left");
            assertEquals(List.of(), discovery.participants());
        }
    }

    @Test
    void useBeforeStartOrAfterCloseFails() throws Exception {
        LeaderDiscovery d = new LeaderDiscovery(zk.ensemble().newClient(), path);
        assertThrows(IllegalStateException.class, d::leader);
        d.start();
        assertThrows(IllegalStateException.class, d::start);
        d.close();
        assertThrows(IllegalStateException.class, d::participants);
        assertThrows(
                IllegalArgumentException.class,
                () -> new LeaderDiscovery(zk.ensemble().newClient(), "x"));
    }
}
