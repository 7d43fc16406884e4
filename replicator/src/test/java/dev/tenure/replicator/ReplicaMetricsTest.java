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
package dev.tenure.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.metrics.ReplicaMetrics;
import dev.tenure.replicator.testing.InMemoryNetwork;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReplicaMetricsTest {
    private static final List<String> IDS = List.of("r0", "r1", "r2");
    private final InMemoryNetwork network = new InMemoryNetwork();
    private final List<Replica> replicas = new ArrayList<>();
    private final List<ManualLeadership> leadership = new ArrayList<>();

    @AfterEach
    void stop() {
        replicas.forEach(Replica::close);
    }

    @Test
    void theMetersFollowTheReplicasProposalsLatenciesRoleAndOffsets() throws Exception {
        for (String id : IDS) {
            InMemoryReplicaLog log = new InMemoryReplicaLog();
            ManualLeadership l = new ManualLeadership();
            Replica r = Replica.builder()
                    .config(CoreConfig.builder(id, IDS).build())
                    .log(
                            log,
                            () -> {
                                long end = log.sync();
                                return new Synced(end, end == 0 ? 0 : log.epochAt(end - 1));
                            },
                            true)
                    .promises(new InMemoryPromiseStore())
                    .transport(network.transport(id))
                    .leadership(l)
                    .stateMachine((StateMachine) (epoch, offset, payload) -> null)
                    .proposalTimeout(Duration.ofSeconds(5))
                    .build();
            r.start();
            replicas.add(r);
            leadership.add(l);
        }
        Replica leader = replicas.get(0);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new ReplicaMetrics(leader, Tags.of("partition", "7"), IDS).bindTo(registry);

        // before leading: a follower's proposal is refused, definitely
        assertTrue(failsDefinitely(leader));
        leadership.get(0).elect(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (leader.status().role() != Role.LEADER) {
            assertTrue(System.nanoTime() < deadline, "r0 never led");
            Thread.sleep(5); // polling a status snapshot
        }
        for (int i = 0; i < 5; i++) {
            leader.propose(new byte[] {(byte) i}).get(10, TimeUnit.SECONDS);
        }

        assertEquals(
                5,
                registry.get("tenure.replica.proposals")
                        .tags("outcome", "committed", "partition", "7")
                        .functionCounter()
                        .count());
        assertEquals(
                1,
                registry.get("tenure.replica.proposals")
                        .tag("outcome", "refused")
                        .functionCounter()
                        .count());
        assertEquals(
                0,
                registry.get("tenure.replica.proposals")
                        .tag("outcome", "unknown")
                        .functionCounter()
                        .count());
        assertEquals(5, registry.get("tenure.replica.commit.latency").timer().count());
        assertTrue(registry.get("tenure.replica.sync.latency").timer().count() >= 1);
        assertEquals(1, registry.get("tenure.is.leader").gauge().value());
        assertEquals(1, registry.get("tenure.epoch").gauge().value());
        assertEquals(6, registry.get("tenure.applied.offset").gauge().value(), "the epoch start and five entries");
        assertEquals(2, registry.get("tenure.follower.lag.entries").gauges().size(), "one series per follower");
    }

    private static boolean failsDefinitely(Replica r) throws InterruptedException {
        try {
            r.propose(new byte[] {1}).get(10, TimeUnit.SECONDS);
            return false;
        } catch (ExecutionException e) {
            return e.getCause() instanceof dev.tenure.replicator.ReplicationException x && x.definitelyNotApplied();
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        }
    }
}
