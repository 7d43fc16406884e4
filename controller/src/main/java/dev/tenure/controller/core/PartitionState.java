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

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * A partition's state as the controller keeps it in ZooKeeper: its replicas (preferred leader first), its leader if
 * it has one, the <em>leader epoch</em> — the replication epoch that leader runs its promise round with, so the
 * replicator's fencing keeps holding between replicas whatever the controller does — and the epoch of the controller
 * that wrote it.
 *
 * <p>Every change of leader (or a re-election of the same one) takes a leader epoch one above the previous: a
 * partition's leader epochs never repeat and never go backwards (docs/controller.md, rule 3). Immutable and
 * thread-safe.
 *
 * @param replicas the replica set, preferred leader first; non-empty, distinct node ids
 * @param leader the node that leads in {@code leaderEpoch}, if any (a member of {@code replicas})
 * @param leaderEpoch the leader epoch; 0 before the first leader
 * @param leaderNodeEpoch the node epoch of the leader's registration the term was given to (0 without a leader): a
 *     leader that registers again (it restarted, or came back with a new ZooKeeper session) has lost the term, even if
 *     it may lead again in a new one — a restarted process must never run a term it did not start
 * @param controllerEpoch the epoch of the controller that wrote this state
 */
public record PartitionState(
        List<String> replicas, Optional<String> leader, long leaderEpoch, long leaderNodeEpoch, long controllerEpoch) {
    /** Checks and copies. */
    public PartitionState {
        replicas = List.copyOf(replicas);
        Preconditions.checkArgument(!replicas.isEmpty(), "a partition needs at least one replica");
        Preconditions.checkArgument(
                new HashSet<>(replicas).size() == replicas.size(), "replicas must be distinct: %s", replicas);
        replicas.forEach(PartitionState::checkNodeId);
        Preconditions.checkNotNull(leader, "leader");
        if (leader.isPresent()) {
            Preconditions.checkArgument(
                    replicas.contains(leader.get()), "leader %s is not one of the replicas %s", leader.get(), replicas);
        }
        Preconditions.checkArgument(leaderEpoch >= 0, "leaderEpoch must be >= 0, was %s", leaderEpoch);
        Preconditions.checkArgument(controllerEpoch >= 0, "controllerEpoch must be >= 0, was %s", controllerEpoch);
        Preconditions.checkArgument(
                leader.isEmpty() || leaderEpoch > 0, "a leader needs a leader epoch above 0, was %s", leaderEpoch);
        Preconditions.checkArgument(
                leader.isPresent() ? leaderNodeEpoch > 0 : leaderNodeEpoch == 0,
                "leaderNodeEpoch must be above 0 with a leader and 0 without one, was %s",
                leaderNodeEpoch);
    }

    /** A new partition without a leader yet, written by the controller of {@code controllerEpoch}. */
    public static PartitionState initial(List<String> replicas, long controllerEpoch) {
        return new PartitionState(replicas, Optional.empty(), 0, 0, controllerEpoch);
    }

    /** The preferred leader: the first replica. */
    public String preferredLeader() {
        return replicas.get(0);
    }

    /**
     * The next term: {@code leader} (its registration of {@code leaderNodeEpoch}) in the next leader epoch, written by
     * the controller of {@code controllerEpoch}.
     */
    public PartitionState nextTerm(NodeRegistration leader, long controllerEpoch) {
        return new PartitionState(
                replicas,
                Optional.of(leader.node()),
                Math.addExact(leaderEpoch, 1),
                leader.nodeEpoch(),
                controllerEpoch);
    }

    /**
     * The next term without a leader (no replica can lead), in the next leader epoch, so that the previous leader's
     * term is over for every reader of this state.
     */
    public PartitionState nextTermWithoutLeader(long controllerEpoch) {
        return new PartitionState(replicas, Optional.empty(), Math.addExact(leaderEpoch, 1), 0, controllerEpoch);
    }

    /**
     * Checks a node id as the controller stores it: non-blank, without whitespace, commas or slashes.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static String checkNodeId(String id) {
        Preconditions.checkArgument(id != null && !id.isEmpty(), "node id must not be empty");
        Preconditions.checkArgument(
                CharMatcher.whitespace().or(CharMatcher.anyOf(",/=")).matchesNoneOf(id)
                        && CharMatcher.javaIsoControl().matchesNoneOf(id)
                        && id.length() <= 255,
                "node id %s must be at most 255 characters without whitespace, control characters, ',', '/' or '='",
                id);
        return id;
    }
}
