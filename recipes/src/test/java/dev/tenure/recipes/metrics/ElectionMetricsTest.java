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
package dev.tenure.recipes.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeaderTerm;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("zookeeper")
class ElectionMetricsTest {
    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk =
            ZooKeeperEnsembleExtension.of(dev.tenure.testkit.ZooKeeperEnsemble.builder()
                    .servers(1)
                    .sessionTimeout(Duration.ofSeconds(10))); // one server: no quorum needed

    @Test
    void theMetersShowTheTermsWonTheEpochAndWhetherItLeads() throws Exception {
        String path = "/tenure-test/" + UUID.randomUUID();
        try (FencedLeaderElection e = FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                .participantId("a")
                .leader(LeaderTerm::awaitRevocation)
                .build()) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            new ElectionMetrics(e, Tags.of("service", "billing")).bindTo(registry);
            assertEquals(0, registry.get("tenure.election.leading").gauge().value());
            e.start();
            LeadershipToken first = e.leadership().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(
                    1,
                    registry.get("tenure.election.leading")
                            .tag("election", path)
                            .gauge()
                            .value());
            assertEquals(
                    (double) first.epoch(),
                    registry.get("tenure.election.epoch").gauge().value());
            e.stepDown(first, Duration.ZERO);
            LeadershipToken second = e.leadership().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(
                    (double) second.epoch(),
                    registry.get("tenure.election.epoch").gauge().value());
            assertEquals(
                    2,
                    registry.get("tenure.election.terms")
                            .tag("participant", "a")
                            .functionCounter()
                            .count());
            assertEquals(
                    0,
                    registry.get("tenure.election.mint.failures")
                            .functionCounter()
                            .count());
        }
    }
}
