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

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the controller decides about partition sets, without input or output: from the sets recorded in ZooKeeper,
 * the admin requests waiting there, the registered nodes and the partitions' states, the next steps of every creation
 * and deletion ({@link #decide}).
 *
 * <p><b>Level-triggered.</b> Every step is decided from what ZooKeeper holds, never from what the controller did
 * before, so a controller that takes office finishes whatever creation or deletion its predecessor left half done:
 *
 * <ul>
 *   <li>A <em>create request</em> is checked (the name is free, no partition of that name exists, the replication
 *       factor is not above the registered nodes), and then the set is recorded {@link Status#CREATING} with its
 *       placement ({@link PartitionPlacement}) in the same transaction that removes the request; a refused request
 *       gets the reason written into it, for the admin to read.
 *   <li>A {@link Status#CREATING} set's partitions without a state are created (state and configuration in one
 *       transaction each, from the recorded placement); once every one has a state, the set is {@link
 *       Status#CREATED}.
 *   <li>A <em>delete request</em> marks the set {@link Status#DELETING} in the transaction that removes the request.
 *   <li>A {@link Status#DELETING} set's partitions are deleted ({@link ControllerCore#deletePartitions}: every
 *       replica closes and deletes its data, then the partition's nodes go); once none is left, the set's node goes.
 * </ul>
 *
 * <p>Pure: no ZooKeeper, socket, disk or clock. Thread-safe (stateless).
 */
public final class PartitionSets {
    private PartitionSets() {}

    /** Where a partition set stands. */
    public enum Status {
        /** Recorded, with its placement; some partitions may have no state yet. */
        CREATING,
        /** Every partition has its state. */
        CREATED,
        /** Being deleted: its partitions are going, then the set. */
        DELETING
    }

    /**
     * A partition set as recorded at {@code P/partition-sets/NAME}.
     *
     * @param set what it is
     * @param status where it stands
     * @param placement each partition's replica set, preferred leader first, in partition order
     */
    public record SetRecord(PartitionSet set, Status status, List<List<String>> placement) {
        /** Checks and copies. */
        public SetRecord {
            Preconditions.checkNotNull(set, "set");
            Preconditions.checkNotNull(status, "status");
            placement = placement.stream().map(List::copyOf).toList();
            Preconditions.checkArgument(
                    placement.size() == set.partitions(),
                    "a placement of %s partitions for a set of %s",
                    placement.size(),
                    set.partitions());
            for (List<String> replicas : placement) {
                Preconditions.checkArgument(
                        replicas.size() == set.replicationFactor(),
                        "replicas %s for a replication factor of %s",
                        replicas,
                        set.replicationFactor());
                PartitionState.initial(replicas, 0); // distinct, valid node ids
            }
        }

        /** The same set in another status. */
        public SetRecord withStatus(Status s) {
            return new SetRecord(set, s, placement);
        }

        /** Each partition's replica set, by partition id, in partition order. */
        public Map<String, List<String>> replicaSets() {
            Map<String, List<String>> m = new LinkedHashMap<>();
            List<String> ids = set.partitionIds();
            for (int i = 0; i < ids.size(); i++) {
                m.put(ids.get(i), placement.get(i));
            }
            return m;
        }
    }

    /**
     * A record as read, with its node's version (for a compare-and-set).
     *
     * @param record the record
     * @param version its node's version
     */
    public record Stored(SetRecord record, int version) {}

    /**
     * A request to create a set, as read at {@code P/admin/create-partition-set/NAME}.
     *
     * @param set the set asked for
     * @param error why the controller refused it, once it did
     */
    public record CreateRequest(PartitionSet set, Optional<String> error) {}

    /** A step to take. */
    public sealed interface Action
            permits Refuse,
                    Create,
                    CreatePartitions,
                    MarkCreated,
                    MarkDeleting,
                    DeletePartitions,
                    RemoveSet,
                    DropDeleteRequest {}

    /**
     * Write {@code reason} into the request for {@code name} (a create request if {@code create}, else a delete one).
     *
     * @param name the set's name
     * @param create whether the request is a create request
     * @param reason why it is refused
     */
    public record Refuse(String name, boolean create, String reason) implements Action {}

    /**
     * record the set {@link Status#CREATING} and remove its create request, in one transaction.
     *
     * @param record the set with its placement
     */
    public record Create(SetRecord record) implements Action {}

    /**
     * Create the states (and configurations) of these partitions of set {@code name}.
     *
     * @param name the set
     * @param replicaSets the partitions to create, with their replica sets
     */
    public record CreatePartitions(String name, Map<String, List<String>> replicaSets) implements Action {}

    /**
     * record the set {@link Status#CREATED} (compare-and-set on {@code version}).
     *
     * @param record the set, created
     * @param version the version of the set's node read
     */
    public record MarkCreated(SetRecord record, int version) implements Action {}

    /**
     * record the set {@link Status#DELETING} (compare-and-set on {@code version}) and remove its delete request.
     *
     * @param record the set, deleting
     * @param version the version of the set's node read
     */
    public record MarkDeleting(SetRecord record, int version) implements Action {}

    /**
     * Delete these partitions ({@link ControllerCore#deletePartitions}).
     *
     * @param partitions the partitions
     */
    public record DeletePartitions(List<String> partitions) implements Action {}

    /**
     * Remove the set's node (compare-and-set on {@code version}): none of its partitions is left.
     *
     * @param name the set
     * @param version the version of the set's node read
     */
    public record RemoveSet(String name, int version) implements Action {}

    /**
     * Remove a delete request of a set being deleted already.
     *
     * @param name the set
     */
    public record DropDeleteRequest(String name) implements Action {}

    /**
     * The next steps.
     *
     * @param sets the sets recorded, by name
     * @param createRequests the create requests waiting, by name
     * @param deleteRequests the names of the delete requests waiting
     * @param live the registered nodes, by id
     * @param states the partitions' states, by id
     * @param deleting the partitions the core is deleting already
     */
    public static List<Action> decide(
            Map<String, Stored> sets,
            Map<String, CreateRequest> createRequests,
            Collection<String> deleteRequests,
            Map<String, NodeRegistration> live,
            Map<String, VersionedState> states,
            Set<String> deleting) {
        List<Action> actions = new ArrayList<>();
        Map<String, Integer> leadersNow = new TreeMap<>();
        Map<String, Integer> replicasNow = new TreeMap<>();
        for (VersionedState s : states.values()) {
            leadersNow.merge(s.state().preferredLeader(), 1, Integer::sum);
            s.state().replicas().forEach(r -> replicasNow.merge(r, 1, Integer::sum));
        }
        for (Map.Entry<String, CreateRequest> e : new TreeMap<>(createRequests).entrySet()) {
            String name = e.getKey();
            CreateRequest request = e.getValue();
            if (request.error().isPresent()) {
                continue; // refused already: the admin reads the reason and removes it
            }
            PartitionSet set = request.set();
            Optional<String> taken =
                    set.partitionIds().stream().filter(states::containsKey).findFirst();
            if (sets.containsKey(name)) {
                actions.add(new Refuse(name, true, "partition set " + name + " exists"));
            } else if (taken.isPresent()) {
                actions.add(new Refuse(name, true, "partition " + taken.get() + " exists"));
            } else if (set.replicationFactor() > live.size()) {
                actions.add(new Refuse(
                        name,
                        true,
                        "replication factor " + set.replicationFactor() + " is above the " + live.size()
                                + " registered nodes"));
            } else {
                List<List<String>> placement = PartitionPlacement.place(
                        List.copyOf(new TreeMap<>(live).keySet()),
                        set.partitions(),
                        set.replicationFactor(),
                        leadersNow,
                        replicasNow,
                        name.hashCode());
                for (List<String> replicas : placement) {
                    leadersNow.merge(replicas.get(0), 1, Integer::sum);
                    replicas.forEach(r -> replicasNow.merge(r, 1, Integer::sum));
                }
                actions.add(new Create(new SetRecord(set, Status.CREATING, placement)));
            }
        }
        for (String name : new java.util.TreeSet<>(deleteRequests)) {
            Stored s = sets.get(name);
            if (s == null) {
                if (!createRequests.containsKey(name)) {
                    actions.add(new Refuse(name, false, "no partition set " + name));
                }
            } else if (s.record().status() == Status.DELETING) {
                actions.add(new DropDeleteRequest(name));
            } else {
                actions.add(new MarkDeleting(s.record().withStatus(Status.DELETING), s.version()));
            }
        }
        for (Map.Entry<String, Stored> e : new TreeMap<>(sets).entrySet()) {
            String name = e.getKey();
            SetRecord r = e.getValue().record();
            if (deleteRequests.contains(name) && r.status() != Status.DELETING) {
                continue; // marked deleting first
            }
            Map<String, List<String>> replicaSets = r.replicaSets();
            switch (r.status()) {
                case CREATING -> {
                    Map<String, List<String>> missing = new LinkedHashMap<>();
                    replicaSets.forEach((p, replicas) -> {
                        if (!states.containsKey(p)) {
                            missing.put(p, replicas);
                        }
                    });
                    if (missing.isEmpty()) {
                        actions.add(new MarkCreated(
                                r.withStatus(Status.CREATED), e.getValue().version()));
                    } else {
                        actions.add(new CreatePartitions(name, missing));
                    }
                }
                case DELETING -> {
                    List<String> left = replicaSets.keySet().stream()
                            .filter(states::containsKey)
                            .toList();
                    List<String> toDelete =
                            left.stream().filter(p -> !deleting.contains(p)).toList();
                    if (left.isEmpty()) {
                        actions.add(new RemoveSet(name, e.getValue().version()));
                    } else if (!toDelete.isEmpty()) {
                        actions.add(new DeletePartitions(toDelete));
                    }
                }
                case CREATED -> {
                    // nothing to do
                }
            }
        }
        return actions;
    }
}
