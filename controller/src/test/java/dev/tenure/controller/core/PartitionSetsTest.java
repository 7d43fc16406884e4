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

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the controller decides about partition sets ({@link PartitionSets}) and their partitions' deletion. */
class PartitionSetsTest {
    private static final NodeRegistration N1 = new NodeRegistration("n1", 10, "h:1");
    private static final NodeRegistration N2 = new NodeRegistration("n2", 20, "h:2");
    private static final NodeRegistration N3 = new NodeRegistration("n3", 30, "h:3");
    private static final Map<String, NodeRegistration> LIVE = Map.of("n1", N1, "n2", N2, "n3", N3);
    private static final PartitionSet ORDERS = new PartitionSet("orders", 3, 2, Map.of());

    private static PartitionSets.SetRecord record(PartitionSets.Status status) {
        return new PartitionSets.SetRecord(
                ORDERS, status, List.of(List.of("n1", "n2"), List.of("n2", "n3"), List.of("n3", "n1")));
    }

    private static VersionedState state(String p, List<String> replicas) {
        return new VersionedState(p, PartitionState.initial(replicas, 1), 0);
    }

    @Test
    void aValidCreateRequestIsRecordedCreatingWithAnEvenPlacement() {
        List<PartitionSets.Action> a = PartitionSets.decide(
                Map.of(),
                Map.of("orders", new PartitionSets.CreateRequest(ORDERS, Optional.empty())),
                Set.of(),
                LIVE,
                Map.of(),
                Set.of());
        assertEquals(1, a.size(), a.toString());
        PartitionSets.Create c = (PartitionSets.Create) a.get(0);
        assertEquals(PartitionSets.Status.CREATING, c.record().status());
        assertEquals(
                Set.of("n1", "n2", "n3"),
                Set.copyOf(c.record().placement().stream().map(r -> r.get(0)).toList()),
                "three preferred leaders on three nodes");
    }

    @Test
    void aCreateRequestForANameInUseAnExistingPartitionOrTooFewNodesIsRefusedWithItsReason() {
        PartitionSets.CreateRequest request = new PartitionSets.CreateRequest(ORDERS, Optional.empty());
        assertEquals(
                List.of(new PartitionSets.Refuse("orders", true, "partition set orders exists")),
                PartitionSets.decide(
                                Map.of("orders", new PartitionSets.Stored(record(PartitionSets.Status.CREATED), 1)),
                                Map.of("orders", request),
                                Set.of(),
                                LIVE,
                                Map.of("orders-0", state("orders-0", List.of("n1", "n2"))),
                                Set.of())
                        .subList(0, 1));
        assertEquals(
                List.of(new PartitionSets.Refuse("orders", true, "partition orders-1 exists")),
                PartitionSets.decide(
                        Map.of(),
                        Map.of("orders", request),
                        Set.of(),
                        LIVE,
                        Map.of("orders-1", state("orders-1", List.of("n1"))),
                        Set.of()));
        assertEquals(
                List.of(new PartitionSets.Refuse(
                        "orders", true, "replication factor 2 is above the 1 registered nodes")),
                PartitionSets.decide(
                        Map.of(), Map.of("orders", request), Set.of(), Map.of("n1", N1), Map.of(), Set.of()));
        assertEquals(
                List.of(),
                PartitionSets.decide(
                        Map.of(),
                        Map.of("orders", new PartitionSets.CreateRequest(ORDERS, Optional.of("refused before"))),
                        Set.of(),
                        Map.of("n1", N1),
                        Map.of(),
                        Set.of()),
                "a refused request waits for the admin to read it");
    }

    @Test
    void aCreatingSetGetsItsMissingPartitionsAndIsCreatedOnceEveryOneHasAState() {
        PartitionSets.Stored creating = new PartitionSets.Stored(record(PartitionSets.Status.CREATING), 0);
        List<PartitionSets.Action> a = PartitionSets.decide(
                Map.of("orders", creating),
                Map.of(),
                Set.of(),
                LIVE,
                Map.of("orders-0", state("orders-0", List.of("n1", "n2"))),
                Set.of());
        assertEquals(
                List.of(new PartitionSets.CreatePartitions(
                        "orders", Map.of("orders-1", List.of("n2", "n3"), "orders-2", List.of("n3", "n1")))),
                a,
                "a half-done creation is finished from the recorded placement");
        a = PartitionSets.decide(
                Map.of("orders", creating),
                Map.of(),
                Set.of(),
                LIVE,
                Map.of(
                        "orders-0", state("orders-0", List.of("n1", "n2")),
                        "orders-1", state("orders-1", List.of("n2", "n3")),
                        "orders-2", state("orders-2", List.of("n3", "n1"))),
                Set.of());
        assertEquals(List.of(new PartitionSets.MarkCreated(record(PartitionSets.Status.CREATED), 0)), a);
    }

    @Test
    void aDeleteRequestMarksTheSetDeletingWhosePartitionsAreDeletedThenTheSetRemoved() {
        Map<String, VersionedState> states = Map.of(
                "orders-0", state("orders-0", List.of("n1", "n2")),
                "orders-2", state("orders-2", List.of("n3", "n1")));
        assertEquals(
                List.of(new PartitionSets.MarkDeleting(record(PartitionSets.Status.DELETING), 4)),
                PartitionSets.decide(
                        Map.of("orders", new PartitionSets.Stored(record(PartitionSets.Status.CREATED), 4)),
                        Map.of(),
                        Set.of("orders"),
                        LIVE,
                        states,
                        Set.of()));
        PartitionSets.Stored deleting = new PartitionSets.Stored(record(PartitionSets.Status.DELETING), 5);
        assertEquals(
                List.of(new PartitionSets.DeletePartitions(List.of("orders-2"))),
                PartitionSets.decide(Map.of("orders", deleting), Map.of(), Set.of(), LIVE, states, Set.of("orders-0")),
                "what the core deletes already is not asked again");
        assertEquals(
                List.of(new PartitionSets.RemoveSet("orders", 5)),
                PartitionSets.decide(Map.of("orders", deleting), Map.of(), Set.of(), LIVE, Map.of(), Set.of()));
        assertEquals(
                List.of(new PartitionSets.Refuse("nope", false, "no partition set nope")),
                PartitionSets.decide(Map.of(), Map.of(), Set.of("nope"), LIVE, Map.of(), Set.of()));
    }

    @Test
    void aPartitionBeingDeletedGetsNoNewTermAndIsRemovableOnlyOnceEveryReplicaConfirmed() {
        ControllerCore core = new ControllerCore("n1", 2);
        core.takeOffice(
                List.of(N1, N2),
                List.of(new VersionedState(
                        "p", new PartitionState(List.of("n1", "n2", "n3"), Optional.of("n1"), 3, 10, 1), 5)));
        core.pendingWrites();
        core.drainRequests();
        core.deletePartitions(List.of("p"));
        core.nodeLost("n1", 10);
        assertEquals(List.of(), core.pendingWrites(), "its lost leader is not replaced");
        assertEquals(Map.of("n2", List.of("p")), core.drainStopRequests(), "only registered replicas are asked");
        assertEquals(Map.of(), core.drainStopRequests(), "asked once until told again");
        core.tellAgain("n2");
        assertEquals(Map.of("n2", List.of("p")), core.drainStopRequests());
        core.replicasDeleted("n2", List.of("p"));
        core.nodeRegistered(new NodeRegistration("n1", 11, "h:1"));
        assertEquals(Map.of("n1", List.of("p")), core.drainStopRequests(), "a replica that registers again is asked");
        core.replicasDeleted("n1", List.of("p"));
        assertEquals(List.of(), core.removable(), "n3 holds a replica and is not registered: waited for");
        core.nodeRegistered(N3);
        assertEquals(Map.of("n3", List.of("p")), core.drainStopRequests());
        assertTrue(core.drainRequests().stream().allMatch(r -> r.partitions().isEmpty()), "told nothing else of p");
        core.replicasDeleted("n3", List.of("p"));
        assertEquals(List.of("p"), core.removable());
        core.removed("p");
        assertEquals(Map.of(), core.states());
    }
}
