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
