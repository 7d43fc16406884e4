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
import dev.tenure.replicator.core.Configuration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A partition's state as the controller keeps it in ZooKeeper: its replicas (preferred leader first), its leader if
 * it has one, the <em>leader epoch</em> — the replication epoch that leader runs its promise round with, so the
 * replicator's fencing keeps holding between replicas whatever the controller does —, the epoch of the controller
 * that wrote it, and the partition's <em>configuration</em> (docs/replication.md, "Membership change") with the
 * reassignment in progress, if any.
 *
 * <p>Every change of leader (or a re-election of the same one), and every change of the configuration, takes a leader
 * epoch one above the previous: a partition's leader epochs never repeat and never go backwards (docs/controller.md,
 * rule 3), and each leader epoch has one configuration, the one written with it (rule 12).
 *
 * <p><b>Reassignment</b> (docs/controller.md, "Reassignment"; Kafka's KIP-455). While {@link #targetReplicas} is not
 * empty the partition is moving to that replica set, in two phases: <em>learning</em> ({@link #previousReplicas}
 * empty): the voters are still the original replicas and the target's new replicas are {@link #learners}; then
 * <em>joint</em>: the voters are the target and {@link #previousReplicas} the original replicas, and every quorum needs
 * a majority of both. The reassignment ends with the voters the target, nothing else. The adding and removing
 * replicas of KIP-455 are derived ({@link #addingReplicas}, {@link #removingReplicas}). Immutable and thread-safe.
 *
 * @param replicas the voters, preferred leader first; non-empty, distinct node ids
 * @param leader the node that leads in {@code leaderEpoch}, if any: a voter or a previous voter, never a learner
 * @param leaderEpoch the leader epoch; 0 before the first leader
 * @param leaderNodeEpoch the node epoch of the leader's registration the term was given to (0 without a leader): a
 *     leader that registers again (it restarted, or came back with a new ZooKeeper session) has lost the term, even if
 *     it may lead again in a new one — a restarted process must never run a term it did not start
 * @param controllerEpoch the epoch of the controller that wrote this state
 * @param configurationVersion the version of the partition's configuration; 0 as created, one higher at every change
 * @param targetReplicas the replica set a reassignment in progress moves to; empty without one
 * @param learners the target's new replicas while they catch up (the learning phase); empty otherwise
 * @param previousReplicas the original replicas during the joint phase; empty otherwise
 */
public record PartitionState(
        List<String> replicas,
        Optional<String> leader,
        long leaderEpoch,
        long leaderNodeEpoch,
        long controllerEpoch,
        long configurationVersion,
        List<String> targetReplicas,
        List<String> learners,
        List<String> previousReplicas) {
    /** Checks and copies. */
    public PartitionState {
        replicas = List.copyOf(replicas);
        targetReplicas = List.copyOf(targetReplicas);
        learners = List.copyOf(learners);
        previousReplicas = List.copyOf(previousReplicas);
        Preconditions.checkArgument(!replicas.isEmpty(), "a partition needs at least one replica");
        checkDistinct("replicas", replicas);
        checkDistinct("target replicas", targetReplicas);
        checkDistinct("learners", learners);
        checkDistinct("previous replicas", previousReplicas);
        replicas.forEach(PartitionState::checkNodeId);
        targetReplicas.forEach(PartitionState::checkNodeId);
        learners.forEach(PartitionState::checkNodeId);
        previousReplicas.forEach(PartitionState::checkNodeId);
        Preconditions.checkNotNull(leader, "leader");
        Preconditions.checkArgument(
                configurationVersion >= 0, "configurationVersion must be >= 0, was %s", configurationVersion);
        if (targetReplicas.isEmpty()) {
            Preconditions.checkArgument(
                    learners.isEmpty() && previousReplicas.isEmpty(),
                    "learners %s or previous replicas %s without a reassignment",
                    learners,
                    previousReplicas);
        } else if (previousReplicas.isEmpty()) {
            Preconditions.checkArgument(
                    learners.equals(without(targetReplicas, replicas)),
                    "learners %s are not the target's replicas %s missing from the replicas %s",
                    learners,
                    targetReplicas,
                    replicas);
            Preconditions.checkArgument(
                    !Set.copyOf(targetReplicas).equals(Set.copyOf(replicas)),
                    "a reassignment to the replicas %s it has already",
                    replicas);
        } else {
            Preconditions.checkArgument(
                    learners.isEmpty() && replicas.equals(targetReplicas),
                    "a joint configuration needs the target %s as replicas (were %s) and no learners (were %s)",
                    targetReplicas,
                    replicas,
                    learners);
        }
        for (String l : learners) {
            Preconditions.checkArgument(
                    !replicas.contains(l) && !previousReplicas.contains(l), "learner %s is also a voter", l);
        }
        if (leader.isPresent()) {
            Preconditions.checkArgument(
                    replicas.contains(leader.get()) || previousReplicas.contains(leader.get()),
                    "leader %s is not one of the replicas %s",
                    leader.get(),
                    previousReplicas.isEmpty() ? replicas : replicas + " / " + previousReplicas);
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

    /** A state at configuration version 0 without a reassignment. */
    public PartitionState(
            List<String> replicas,
            Optional<String> leader,
            long leaderEpoch,
            long leaderNodeEpoch,
            long controllerEpoch) {
        this(replicas, leader, leaderEpoch, leaderNodeEpoch, controllerEpoch, 0, List.of(), List.of(), List.of());
    }

    /** A new partition without a leader yet, written by the controller of {@code controllerEpoch}. */
    public static PartitionState initial(List<String> replicas, long controllerEpoch) {
        return new PartitionState(replicas, Optional.empty(), 0, 0, controllerEpoch);
    }

    /** The preferred leader: the first replica. */
    public String preferredLeader() {
        return replicas.get(0);
    }

    /** The partition's configuration: the replicas vote, with the previous replicas while joint; learners listen. */
    public Configuration configuration() {
        return new Configuration(configurationVersion, replicas, previousReplicas, learners);
    }

    /** Every node that hosts a replica: voters, previous voters, learners, in that order. */
    public List<String> members() {
        return configuration().members();
    }

    /** The nodes that may lead, in the order they are chosen: the replicas, then the previous replicas. */
    public List<String> electable() {
        List<String> out = new ArrayList<>(replicas);
        for (String p : previousReplicas) {
            if (!out.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /** Whether a reassignment is in progress. */
    public boolean reassigning() {
        return !targetReplicas.isEmpty();
    }

    /** Whether the reassignment in progress is in its joint phase. */
    public boolean joint() {
        return !previousReplicas.isEmpty();
    }

    /** The replicas the reassignment in progress adds (KIP-455's adding replicas); empty without one. */
    public List<String> addingReplicas() {
        return reassigning() ? without(targetReplicas, originalReplicas()) : List.of();
    }

    /** The replicas the reassignment in progress removes (KIP-455's removing replicas); empty without one. */
    public List<String> removingReplicas() {
        return reassigning() ? without(originalReplicas(), targetReplicas) : List.of();
    }

    private List<String> originalReplicas() {
        return joint() ? previousReplicas : replicas;
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
                controllerEpoch,
                configurationVersion,
                targetReplicas,
                learners,
                previousReplicas);
    }

    /**
     * The next term without a leader (no replica can lead), in the next leader epoch, so that the previous leader's
     * term is over for every reader of this state.
     */
    public PartitionState nextTermWithoutLeader(long controllerEpoch) {
        return new PartitionState(
                replicas,
                Optional.empty(),
                Math.addExact(leaderEpoch, 1),
                0,
                controllerEpoch,
                configurationVersion,
                targetReplicas,
                learners,
                previousReplicas);
    }

    /**
     * This state with a reassignment to {@code target} started, at the next configuration version, in this leader
     * epoch (the caller writes it as a next term): the learning phase, or the joint phase at once when the target adds
     * no replica; a target that is these replicas in another order just reorders them (same quorums, no reassignment).
     *
     * @throws IllegalArgumentException if a reassignment is in progress or the target is not a valid replica set
     */
    public PartitionState reassignedTo(List<String> target) {
        Preconditions.checkArgument(!reassigning(), "a reassignment to %s is in progress", targetReplicas);
        List<String> t = List.copyOf(target);
        Preconditions.checkArgument(!t.isEmpty(), "the target replica set is empty");
        checkDistinct("target replicas", t);
        t.forEach(PartitionState::checkNodeId);
        long version = Math.addExact(configurationVersion, 1);
        if (Set.copyOf(t).equals(Set.copyOf(replicas))) {
            return withConfiguration(t, version, List.of(), List.of(), List.of());
        }
        List<String> adding = without(t, replicas);
        if (adding.isEmpty()) {
            return withConfiguration(t, version, t, List.of(), replicas);
        }
        return withConfiguration(replicas, version, t, adding, List.of());
    }

    /** From the learning phase, the joint phase: the target votes with the original replicas, at the next version. */
    public PartitionState joined() {
        Preconditions.checkState(reassigning() && !joint(), "not in the learning phase of a reassignment: %s", this);
        return withConfiguration(
                targetReplicas, Math.addExact(configurationVersion, 1), targetReplicas, List.of(), replicas);
    }

    /** From the joint phase, the reassignment done: the target alone, at the next version. */
    public PartitionState completed() {
        Preconditions.checkState(joint(), "not in the joint phase of a reassignment: %s", this);
        return withConfiguration(
                targetReplicas, Math.addExact(configurationVersion, 1), List.of(), List.of(), List.of());
    }

    /** This state with another configuration; the leader kept only if it may still lead. */
    private PartitionState withConfiguration(
            List<String> voters, long version, List<String> target, List<String> newLearners, List<String> previous) {
        boolean keep = leader.isPresent() && (voters.contains(leader.get()) || previous.contains(leader.get()));
        return new PartitionState(
                voters,
                keep ? leader : Optional.empty(),
                leaderEpoch,
                keep ? leaderNodeEpoch : 0,
                controllerEpoch,
                version,
                target,
                newLearners,
                previous);
    }

    /** {@code ids} without those in {@code drop}, in order. */
    private static List<String> without(List<String> ids, List<String> drop) {
        List<String> out = new ArrayList<>();
        for (String id : ids) {
            if (!drop.contains(id)) {
                out.add(id);
            }
        }
        return List.copyOf(out);
    }

    private static void checkDistinct(String what, List<String> ids) {
        Preconditions.checkArgument(new HashSet<>(ids).size() == ids.size(), "%s must be distinct: %s", what, ids);
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
