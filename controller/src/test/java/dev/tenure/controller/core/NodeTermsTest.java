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
package dev.tenure.controller.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * How a node's {@link NodeTerms} take the controller's requests when they arrive out of order, twice, or late
 * (docs/controller.md, rule 13).
 */
class NodeTermsTest {
    private static final long NODE_EPOCH = 100;

    private final NodeTerms terms = new NodeTerms("n1");

    private static PartitionState led(long leaderEpoch) {
        return new PartitionState(List.of("n1", "n2", "n3"), Optional.of("n1"), leaderEpoch, NODE_EPOCH, 1);
    }

    private static LeaderAndReplicas request(long controllerEpoch, boolean full, Map<String, PartitionState> states) {
        return new LeaderAndReplicas(controllerEpoch, "c", "n1", NODE_EPOCH, full, new LinkedHashMap<>(states));
    }

    @Test
    void aFullAssignmentOlderThanOneAlreadyTakenIsIgnoredAndForgetsNoPartition() {
        LeaderAndReplicas oldFull = request(1, true, Map.of("a", led(1)));
        LeaderAndReplicas created = request(1, false, Map.of("b", led(1)));
        // The delta that created b (request 1) arrives before the full assignment sent ahead of it (request 0).
        assertEquals(List.of("b"), terms.apply(created, 1));
        assertEquals(List.of("a"), terms.apply(oldFull, 0), "it still tells a, which no newer request spoke of");
        assertEquals(1, terms.leaderEpoch("b", NODE_EPOCH), "b is still led: the old full assignment dropped it");
        // Delivered again later, it still forgets nothing.
        assertEquals(List.of(), terms.apply(oldFull, 0));
        assertEquals(1, terms.leaderEpoch("b", NODE_EPOCH));
    }

    @Test
    void aFullAssignmentOlderThanADeltaStillTellsThePartitionsTheDeltaDidNotList() {
        terms.apply(request(1, false, Map.of("b", led(1))), 1);
        assertEquals(List.of("a"), terms.apply(request(1, true, Map.of("a", led(1))), 0));
        assertEquals(Set.of("a", "b"), Set.copyOf(terms.partitions()));
    }

    @Test
    void aFullAssignmentDropsAPartitionLastListedByAnOlderRequest() {
        terms.apply(request(1, false, Map.of("a", led(1))), 0);
        terms.apply(request(1, false, Map.of("b", led(1))), 2);
        // Request 1, a full assignment without a (moved away from this node), arrives after request 2.
        assertEquals(List.of("a"), terms.apply(request(1, true, Map.of()), 1));
        assertEquals(Set.of("b"), Set.copyOf(terms.partitions()));
    }

    @Test
    void anOldRequestArrivingLateGivesBackNoPartitionANewerFullAssignmentDropped() {
        LeaderAndReplicas gave = request(1, false, Map.of("a", led(1)));
        terms.apply(gave, 0);
        assertEquals(List.of("a"), terms.apply(request(1, true, Map.of()), 1));
        assertEquals(List.of(), terms.apply(gave, 0), "a duplicate of request 0 gave a back");
        assertTrue(terms.state("a").isEmpty());
    }

    @Test
    void anOldAssignmentArrivingAfterTheRequestToDeleteTheReplicaGivesBackNoState() {
        LeaderAndReplicas gave = request(1, false, Map.of("a", led(1)));
        // Request 0 gave a; request 1 asked to delete the replica of a; request 0 arrives again after it.
        terms.apply(gave, 0);
        assertEquals(List.of("a"), terms.forget(List.of("a"), 1, 1));
        assertEquals(List.of(), terms.apply(gave, 0));
        assertEquals(0, terms.leaderEpoch("a", NODE_EPOCH), "the deleted replica was given a term again");
    }

    @Test
    void aNewerRequestOfTheSameControllerGivesAPartitionBackAfterAFullAssignmentDroppedIt() {
        terms.apply(request(1, false, Map.of("a", led(1))), 0);
        terms.apply(request(1, true, Map.of()), 1);
        assertEquals(List.of("a"), terms.apply(request(1, false, Map.of("a", led(2))), 2));
        assertEquals(2, terms.leaderEpoch("a", NODE_EPOCH));
    }

    @Test
    void aRequestOfANewerControllerEpochCountsRequestIdsAfresh() {
        terms.apply(request(1, false, Map.of("a", led(1))), 7);
        // The next controller numbers its requests from 0: its full assignment is newer than request 7 of epoch 1.
        assertEquals(List.of("b", "a"), terms.apply(request(2, true, Map.of("b", led(1))), 0));
        assertEquals(Set.of("b"), Set.copyOf(terms.partitions()));
        // A request of the older controller (which check refuses) takes nothing either.
        assertEquals(List.of(), terms.apply(request(1, false, Map.of("c", led(1))), 8));
    }

    @Test
    void aStateIsReplacedOnlyByAHigherLeaderEpochOrTheSameEpochAtAHigherConfigurationVersion() {
        terms.apply(request(1, false, Map.of("a", led(2))), 0);
        assertEquals(List.of(), terms.apply(request(1, false, Map.of("a", led(1))), 1));
        assertEquals(2, terms.state("a").orElseThrow().leaderEpoch());
        PartitionState sameEpochNextVersion = new PartitionState(
                List.of("n1", "n2", "n3"), Optional.of("n1"), 2, NODE_EPOCH, 1, 1, List.of(), List.of(), List.of());
        assertEquals(List.of("a"), terms.apply(request(1, false, Map.of("a", sameEpochNextVersion)), 2));
        assertEquals(1, terms.state("a").orElseThrow().configurationVersion());
        assertEquals(List.of(), terms.apply(request(1, false, Map.of("a", led(2))), 3));
        assertEquals(1, terms.state("a").orElseThrow().configurationVersion());
    }
}
