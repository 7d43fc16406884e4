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

import com.google.common.base.Preconditions;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.LeadershipToken;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Micrometer meters of one {@link FencedLeaderElection} participant (Micrometer is an optional dependency of the
 * recipes: add {@code micrometer-core} to use this), tagged with the election path. As Prometheus shows them:
 * {@code tenure_election_leading} (1 while this participant leads), {@code tenure_election_epoch} (the current
 * term's epoch, 0 while not leading), {@code tenure_election_terms_total} (terms won), {@code
 * tenure_election_mint_failures_total} (mints that failed for a reason other than a lost connection: a corrupt or
 * exhausted epoch node, a lost race). Thread-safe; bind once per registry.
 */
public final class ElectionMetrics implements MeterBinder {
    private final FencedLeaderElection election;
    private final Iterable<Tag> tags;

    /** Meters of {@code election}, tagged with its path and participant, and {@code tags}. */
    public ElectionMetrics(FencedLeaderElection election, Iterable<Tag> tags) {
        this.election = Preconditions.checkNotNull(election, "election");
        this.tags = Tags.of(tags).and("election", election.electionPath(), "participant", election.participantId());
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("tenure.election.leading", election, e -> e.hasLeadership() ? 1 : 0)
                .tags(tags)
                .description("1 while this participant leads")
                .register(registry);
        Gauge.builder(
                        "tenure.election.epoch",
                        election,
                        e -> e.currentToken().map(LeadershipToken::epoch).orElse(0L))
                .tags(tags)
                .description("the current term's epoch, 0 while not leading")
                .register(registry);
        FunctionCounter.builder("tenure.election.terms", election, FencedLeaderElection::termsWon)
                .tags(tags)
                .description("terms this participant won")
                .register(registry);
        FunctionCounter.builder("tenure.election.mint.failures", election, FencedLeaderElection::mintFailureCount)
                .tags(tags)
                .description("mints that failed for a reason other than a lost connection")
                .register(registry);
    }
}
