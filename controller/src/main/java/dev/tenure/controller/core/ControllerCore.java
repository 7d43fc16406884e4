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
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the controller decides, without input or output: from the node registrations it sees and the partition
 * states it reads, which partition states to write and which requests to send to which node.
 *
 * <p><b>Level-triggered.</b> The core keeps a view (live registrations, partition states with their ZooKeeper
 * versions, nodes in controlled shutdown, partitions to move to their preferred leader) and, for every partition an
 * event touched, compares its state with the state it should have: a leader that is a live replica, registered
 * under the registration its term was given to, not shutting down, and its preferred replica if a preferred-leader
 * election asked for it. Where they differ, {@link #pendingWrites} returns the compare-and-set write of the next term
 * (docs/controller.md, "Leader choice"). Because the decision depends only on the view, a controller that takes office
 * with {@link #takeOffice} finishes whatever its predecessor left half done: a failover whose writes did not all
 * happen is just a set of partitions whose state still names a lost leader.
 *
 * <p><b>Leader choice.</b> The first replica, in assignment order, that is registered and not shutting down; the
 * preferred replica (the first) when a preferred-leader election asked for it. Tenure's promise round recovers the
 * most up-to-date log of a majority, so any replica that gathers a majority's promises leads safely: there is no
 * in-sync-replica set to choose from, and no unclean election. Without such a replica the partition gets a term
 * without a leader (so the lost leader's term is over for every reader), except that a leader in controlled shutdown
 * keeps a partition no other replica can take.
 *
 * <p><b>Writes and requests.</b> A partition has at most one write in flight. Its outcome comes back through {@link
 * #written} or {@link #refreshed} (a conflict, an unknown outcome, or any other reason to re-read); only then are its
 * replicas told, in {@link #drainRequests}: one {@link LeaderAndReplicas} per node, carrying every partition of that
 * node that changed, or every partition it hosts for a node that registered or was not told yet by this controller.
 *
 * <p>Not thread-safe: confined to the controller's event thread. Never reads a clock.
 */
public final class ControllerCore {
    private final String self;
    private final long controllerEpoch;

    private final Map<String, NodeRegistration> live = new TreeMap<>();
    private final Map<String, VersionedState> states = new TreeMap<>();
    /** Nodes in controlled shutdown, with the node epoch of the registration that asked. */
    private final Map<String, Long> shuttingDown = new HashMap<>();
    /** Partitions being created: their replica sets. */
    private final Map<String, List<String>> creating = new TreeMap<>();
    /** Of those, the ones whose configuration the controller creates with the state (partition sets'). */
    private final Set<String> creatingWithConfiguration = new HashSet<>();
    /** Partitions being deleted: the replicas that have not confirmed deleting theirs yet. */
    private final Map<String, Set<String>> deleting = new TreeMap<>();
    /** Per node, the partitions it was asked to delete since it was last to be told again. */
    private final Map<String, Set<String>> stopSent = new HashMap<>();
    /** Partitions a preferred-leader election asked to move to their preferred replica. */
    private final Set<String> toPreferred = new HashSet<>();
    /** Partitions whose leader gave its term up: the leader epoch given up, and by whom. */
    private final Map<String, PartitionState> givenUp = new HashMap<>();
    /** Reassignments asked for and not started yet: the target replicas. */
    private final Map<String, List<String>> toReassign = new HashMap<>();
    /** Partitions whose leader reported its reassignment ready for the next step: the state it reported under. */
    private final Map<String, PartitionState> ready = new HashMap<>();

    private final Set<String> inFlight = new HashSet<>();
    private final Set<String> dirty = new TreeSet<>();
    /** Per node, the partitions whose state changed since it was last told. */
    private final Map<String, Map<String, PartitionState>> deltas = new TreeMap<>();
    /** Nodes to tell every partition they host. */
    private final Set<String> needFull = new TreeSet<>();

    private boolean inOffice;

    /**
     * A core for the controller {@code self} of {@code controllerEpoch}; {@link #takeOffice} must come first.
     *
     * @throws IllegalArgumentException if the epoch is not above 0 or the id is not a valid node id
     */
    public ControllerCore(String self, long controllerEpoch) {
        this.self = PartitionState.checkNodeId(self);
        Preconditions.checkArgument(controllerEpoch > 0, "controllerEpoch must be > 0, was %s", controllerEpoch);
        this.controllerEpoch = controllerEpoch;
    }

    /** The controller's epoch. */
    public long controllerEpoch() {
        return controllerEpoch;
    }

    /** The controller's node id. */
    public String self() {
        return self;
    }

    /**
     * Takes office with the view read from ZooKeeper: every partition is checked (finishing what a previous controller
     * left half done) and every registered node will be told every partition it hosts.
     *
     * @throws IllegalStateException if called twice
     */
    public void takeOffice(Collection<NodeRegistration> registrations, Collection<VersionedState> partitionStates) {
        Preconditions.checkState(!inOffice, "the controller of epoch %s already took office", controllerEpoch);
        inOffice = true;
        registrations.forEach(r -> live.put(r.node(), r));
        partitionStates.forEach(s -> states.put(s.partition(), s));
        dirty.addAll(states.keySet());
        needFull.addAll(live.keySet());
    }

    /**
     * A node registered, or registered again with a higher node epoch (it restarted, or came back with a new
     * session): a term its previous registration led is over, it may lead again, and it is told every partition it
     * hosts. A registration older than the one known is ignored (a late event).
     */
    public void nodeRegistered(NodeRegistration registration) {
        checkInOffice();
        NodeRegistration known = live.get(registration.node());
        if (known != null && known.nodeEpoch() >= registration.nodeEpoch()) {
            if (known.nodeEpoch() == registration.nodeEpoch()) {
                needFull.add(registration.node()); // told again: harmless, and it may have missed a request
            }
            return;
        }
        live.put(registration.node(), registration);
        stopSent.remove(registration.node());
        shuttingDown.remove(registration.node());
        markReplicasOf(registration.node());
        needFull.add(registration.node());
    }

    /**
     * The registration of {@code node} with {@code nodeEpoch} ended (its session expired, or it closed it): each
     * partition it led gets a new term. Ignored unless it is the registration known (a late event of an older one).
     */
    public void nodeLost(String node, long nodeEpoch) {
        checkInOffice();
        NodeRegistration known = live.get(node);
        if (known == null || known.nodeEpoch() != nodeEpoch) {
            return;
        }
        live.remove(node);
        shuttingDown.remove(node);
        needFull.remove(node);
        deltas.remove(node);
        stopSent.remove(node);
        markLedBy(node);
    }

    /**
     * Where a controlled shutdown stands.
     *
     * @param accepted false if the request came from a registration that is not the current one (stale: refused)
     * @param leading partitions the node still leads
     * @param movable of those, how many another live replica could take: the node may stop once this is 0
     */
    public record ShutdownProgress(boolean accepted, int leading, int movable) {}

    /**
     * Node {@code node}, registered with {@code nodeEpoch}, asks to stop: its leaderships move to other live
     * replicas (except of partitions no other replica can take), and it is not chosen as a leader until it registers
     * again. Asking again reports progress. A request from a registration other than the current one is refused.
     */
    public ShutdownProgress controlledShutdown(String node, long nodeEpoch) {
        checkInOffice();
        NodeRegistration known = live.get(node);
        if (known == null || known.nodeEpoch() != nodeEpoch) {
            return new ShutdownProgress(false, 0, 0);
        }
        if (shuttingDown.put(node, nodeEpoch) == null) {
            markLedBy(node);
        }
        int leading = 0;
        int movable = 0;
        for (VersionedState s : states.values()) {
            if (s.state().leader().map(node::equals).orElse(false) && !deleting.containsKey(s.partition())) {
                leading++;
                if (chooseLeader(s.partition(), s.state().electable()).isPresent()) {
                    movable++;
                }
            }
        }
        return new ShutdownProgress(true, leading, movable);
    }

    /**
     * The replica of {@code partition} on {@code node}, registered with {@code nodeEpoch}, gave up its term in {@code
     * leaderEpoch} (it lost its majority, or it was fenced): if that is still the partition's term, it gets a new
     * one, led by another eligible replica if there is one (else by the same node, in a new epoch). A report about
     * another term or registration is ignored.
     */
    public void termEnded(String node, long nodeEpoch, String partition, long leaderEpoch) {
        checkInOffice();
        VersionedState s = states.get(partition);
        NodeRegistration known = live.get(node);
        if (s == null
                || known == null
                || known.nodeEpoch() != nodeEpoch
                || s.state().leaderEpoch() != leaderEpoch
                || !isCurrentLeader(s.state(), node)) {
            return;
        }
        givenUp.put(partition, s.state());
        dirty.add(partition);
    }

    /**
     * The leader of {@code partition} on {@code node}, registered with {@code nodeEpoch}, reports that the reassignment
     * in progress may take its next step in {@code leaderEpoch} under configuration {@code configurationVersion}
     * (its learners caught up, or the joint configuration committed): if that is still the partition's state, the
     * next step is written — the joint configuration, or the target alone. A report about another state, term or
     * registration is ignored (the leader of the current state reports again).
     */
    public void changeReady(
            String node, long nodeEpoch, String partition, long leaderEpoch, long configurationVersion) {
        checkInOffice();
        VersionedState s = states.get(partition);
        NodeRegistration known = live.get(node);
        if (s == null
                || known == null
                || known.nodeEpoch() != nodeEpoch
                || !s.state().reassigning()
                || s.state().leaderEpoch() != leaderEpoch
                || s.state().configurationVersion() != configurationVersion
                || !isCurrentLeader(s.state(), node)) {
            return;
        }
        ready.put(partition, s.state());
        dirty.add(partition);
    }

    /**
     * Asks for {@code partition} to be moved to the replica set {@code target}, preferred leader first (Kafka's
     * reassignment, KIP-455): its new replicas join as learners, then the target and the current replicas vote
     * together, then the target alone (docs/controller.md, "Reassignment"). Asking again for the reassignment in
     * progress, or for the replicas the partition has, does nothing.
     *
     * @return the partition's state as this controller holds it now
     * @throws IllegalArgumentException naming what is wrong, and changing nothing, if the partition is unknown, the
     *     target is empty, holds an id twice or an invalid id, names a node that is not registered, or a reassignment
     *     to another target is in progress or asked for
     */
    public PartitionState reassign(String partition, List<String> target) {
        checkInOffice();
        Preconditions.checkNotNull(partition, "partition");
        Preconditions.checkNotNull(target, "target");
        VersionedState vs = states.get(partition);
        Preconditions.checkArgument(vs != null, "unknown partition %s", partition);
        Preconditions.checkArgument(!target.isEmpty(), "the target replica set of %s is empty", partition);
        Preconditions.checkArgument(
                new HashSet<>(target).size() == target.size(),
                "the target replica set of %s names a node twice: %s",
                partition,
                target);
        target.forEach(PartitionState::checkNodeId);
        List<String> unregistered =
                target.stream().filter(n -> !live.containsKey(n)).toList();
        Preconditions.checkArgument(
                unregistered.isEmpty(),
                "the target replica set of %s names nodes that are not registered: %s",
                partition,
                unregistered);
        PartitionState s = vs.state();
        List<String> asked = toReassign.get(partition);
        List<String> inProgress = s.reassigning() ? s.targetReplicas() : asked;
        if (inProgress != null) {
            Preconditions.checkArgument(
                    inProgress.equals(target),
                    "a reassignment of %s to %s is in progress; it must finish before another starts (asked: %s)",
                    partition,
                    inProgress,
                    target);
            return s;
        }
        if (s.replicas().equals(target)) {
            return s; // nothing to do
        }
        toReassign.put(partition, List.copyOf(target));
        dirty.add(partition);
        return s;
    }

    /**
     * Creates partitions with their replica sets (preferred leader first). Creating a partition that exists, or is
     * being created, with the same replica set does nothing.
     *
     * @throws IllegalArgumentException if a partition exists with another replica set, or a replica set is not valid
     *     (nothing is created then)
     */
    public void createPartitions(Map<String, List<String>> replicaSets) {
        createPartitions(replicaSets, false);
    }

    /**
     * As {@link #createPartitions(Map)}; with {@code withConfiguration}, the writes that create the partitions' states
     * also create their configurations (the partitions of a partition set, which no node has opened yet). A partition
     * being deleted is not created again until it is gone.
     */
    public void createPartitions(Map<String, List<String>> replicaSets, boolean withConfiguration) {
        checkInOffice();
        Map<String, List<String>> fresh = new LinkedHashMap<>();
        replicaSets.forEach((id, replicas) -> {
            List<String> checked =
                    PartitionState.initial(replicas, controllerEpoch).replicas();
            List<String> existing =
                    states.containsKey(id) ? states.get(id).state().replicas() : creating.get(id);
            if (existing != null) {
                Preconditions.checkArgument(
                        existing.equals(checked),
                        "partition %s exists with replicas %s, not %s",
                        id,
                        existing,
                        checked);
            } else {
                fresh.put(id, checked);
            }
        });
        fresh.keySet().removeIf(deleting::containsKey);
        creating.putAll(fresh);
        if (withConfiguration) {
            creatingWithConfiguration.addAll(fresh.keySet());
        }
        dirty.addAll(fresh.keySet());
    }

    /**
     * Deletes {@code partitions} (Kafka's topic deletion): they get no new term, their replicas are told nothing more
     * but to delete themselves ({@link #drainStopRequests}), and once every replica confirmed ({@link
     * #replicasDeleted}) they are {@link #removable}. A replica on a node that is not registered is waited for. A
     * partition without a state, or being deleted already, is ignored; one being created is not created.
     */
    public void deletePartitions(Collection<String> partitions) {
        checkInOffice();
        for (String p : partitions) {
            if (creating.remove(p) != null) {
                creatingWithConfiguration.remove(p);
            }
            VersionedState s = states.get(p);
            if (s == null || deleting.containsKey(p)) {
                continue;
            }
            deleting.put(p, new TreeSet<>(s.state().replicas()));
            toPreferred.remove(p);
            givenUp.remove(p);
            deltas.values().forEach(d -> d.remove(p));
        }
    }

    /**
     * The requests to delete replicas to send now: per registered node, the partitions being deleted that it has a
     * replica of and was not asked about since it registered or was last to be told again ({@link #tellAgain}).
     *
     * @return partitions by node
     */
    public Map<String, List<String>> drainStopRequests() {
        checkInOffice();
        Map<String, List<String>> requests = new TreeMap<>();
        deleting.forEach((p, replicas) -> {
            for (String node : replicas) {
                if (live.containsKey(node)
                        && stopSent.computeIfAbsent(node, k -> new HashSet<>()).add(p)) {
                    requests.computeIfAbsent(node, k -> new ArrayList<>()).add(p);
                }
            }
        });
        return requests;
    }

    /** {@code node} confirmed that its replicas of {@code partitions} are deleted. */
    public void replicasDeleted(String node, Collection<String> partitions) {
        checkInOffice();
        for (String p : partitions) {
            Set<String> left = deleting.get(p);
            if (left != null) {
                left.remove(node);
            }
        }
    }

    /** Partitions being deleted whose every replica confirmed: their ZooKeeper nodes may go ({@link #removed}). */
    public List<String> removable() {
        checkInOffice();
        List<String> ready = new ArrayList<>();
        deleting.forEach((p, left) -> {
            if (left.isEmpty() && !inFlight.contains(p)) {
                ready.add(p);
            }
        });
        return ready;
    }

    /** {@code partition}'s ZooKeeper nodes were removed: it is forgotten. */
    public void removed(String partition) {
        checkInOffice();
        deleting.remove(partition);
        states.remove(partition);
        dirty.remove(partition);
        toPreferred.remove(partition);
        givenUp.remove(partition);
        stopSent.values().forEach(s -> s.remove(partition));
    }

    /** The partitions being deleted. */
    public Set<String> deleting() {
        return java.util.Collections.unmodifiableSet(deleting.keySet());
    }

    /**
     * Asks for {@code partitions} to be led by their preferred replica: each one whose preferred replica is live, not
     * shutting down and not leading already gets a new term led by it. Unknown partitions are ignored.
     *
     * @return the partitions that will move
     */
    public List<String> electPreferred(Collection<String> partitions) {
        checkInOffice();
        List<String> moving = new ArrayList<>();
        for (String p : partitions) {
            VersionedState s = states.get(p);
            if (s == null) {
                continue;
            }
            String preferred = s.state().preferredLeader();
            if (eligible(preferred) && !isCurrentLeader(s.state(), preferred)) {
                toPreferred.add(p);
                dirty.add(p);
                moving.add(p);
            }
        }
        return moving;
    }

    /**
     * Kafka's automatic leader rebalance: for each live node, of the partitions it is the preferred leader of, the
     * share led elsewhere; where that share is above {@code thresholdPercent}, those partitions are moved back to it
     * ({@link #electPreferred}).
     *
     * @return the partitions that will move
     */
    public List<String> rebalance(double thresholdPercent) {
        checkInOffice();
        Preconditions.checkArgument(
                thresholdPercent >= 0 && thresholdPercent <= 100, "threshold must be 0..100, was %s", thresholdPercent);
        Map<String, List<String>> preferredOf = new TreeMap<>();
        Map<String, List<String>> ledElsewhere = new TreeMap<>();
        for (VersionedState s : states.values()) {
            if (deleting.containsKey(s.partition())) {
                continue;
            }
            String preferred = s.state().preferredLeader();
            preferredOf.computeIfAbsent(preferred, k -> new ArrayList<>()).add(s.partition());
            if (!isCurrentLeader(s.state(), preferred)) {
                ledElsewhere.computeIfAbsent(preferred, k -> new ArrayList<>()).add(s.partition());
            }
        }
        List<String> moving = new ArrayList<>();
        ledElsewhere.forEach((node, elsewhere) -> {
            double share = 100.0 * elsewhere.size() / preferredOf.get(node).size();
            if (eligible(node) && share > thresholdPercent) {
                moving.addAll(electPreferred(elsewhere));
            }
        });
        return moving;
    }

    /**
     * The writes to make now: for each partition an event touched and that has no write in flight, the next term if
     * its state is not what it should be. Each returned write is in flight until {@link #written} or {@link
     * #refreshed} reports its outcome.
     */
    public List<StateWrite> pendingWrites() {
        checkInOffice();
        List<StateWrite> writes = new ArrayList<>();
        for (java.util.Iterator<String> it = dirty.iterator(); it.hasNext(); ) {
            String p = it.next();
            if (inFlight.contains(p)) {
                continue; // decided again once the outcome is known
            }
            it.remove();
            Optional<StateWrite> w = decide(p);
            if (w.isPresent()) {
                inFlight.add(p);
                writes.add(w.get());
            }
        }
        return writes;
    }

    /** The write of {@code state} succeeded: the view takes it and its live replicas will be told. */
    public void written(VersionedState state) {
        checkInOffice();
        String p = state.partition();
        inFlight.remove(p);
        creating.remove(p);
        creatingWithConfiguration.remove(p);
        dirty.add(p); // an event while it was in flight may have been about the state it replaced
        accept(state);
    }

    /**
     * {@code partition}'s state as read again from ZooKeeper (after a conflict, an unknown outcome, or a change made
     * elsewhere); empty if it has no state node. Its write, if one was in flight, is over; the partition is decided
     * again, and its live replicas will be told what was read.
     */
    public void refreshed(String partition, Optional<VersionedState> state) {
        checkInOffice();
        inFlight.remove(partition);
        dirty.add(partition);
        if (state.isPresent()) {
            Preconditions.checkArgument(
                    state.get().partition().equals(partition), "state of %s given for %s", state.get(), partition);
            creating.remove(partition);
            creatingWithConfiguration.remove(partition);
            accept(state.get());
        } else if (!creating.containsKey(partition)) {
            states.remove(partition);
            deleting.remove(partition); // removed meanwhile (by a predecessor)
        }
    }

    /** {@code node} is to be told every partition it hosts again (a request to it may have been lost). */
    public void tellAgain(String node) {
        checkInOffice();
        if (live.containsKey(node)) {
            needFull.add(node);
            stopSent.remove(node);
        }
    }

    /**
     * The requests to send now, at most one per node: every partition it hosts to a node that registered (or is to be
     * told again), the partitions that changed to the others. Draining clears them.
     */
    public List<LeaderAndReplicas> drainRequests() {
        checkInOffice();
        List<LeaderAndReplicas> requests = new ArrayList<>();
        for (NodeRegistration r : live.values()) {
            String node = r.node();
            Map<String, PartitionState> partitions;
            boolean full = needFull.contains(node);
            if (full) {
                partitions = new LinkedHashMap<>();
                for (VersionedState s : states.values()) {
                    if (s.state().members().contains(node) && !deleting.containsKey(s.partition())) {
                        partitions.put(s.partition(), s.state());
                    }
                }
            } else {
                partitions = deltas.get(node);
                if (partitions == null || partitions.isEmpty()) {
                    continue;
                }
            }
            requests.add(new LeaderAndReplicas(controllerEpoch, self, node, r.nodeEpoch(), full, partitions));
        }
        needFull.clear();
        deltas.clear();
        return requests;
    }

    /** Whether no write is in flight and no partition waits to be decided. */
    public boolean isSettled() {
        return inFlight.isEmpty() && dirty.isEmpty();
    }

    /** The partitions' states as this controller knows them, by id. */
    public Map<String, VersionedState> states() {
        return java.util.Collections.unmodifiableMap(states);
    }

    /** The registrations this controller considers live, by node id. */
    public Map<String, NodeRegistration> liveNodes() {
        return java.util.Collections.unmodifiableMap(live);
    }

    /** The nodes in controlled shutdown. */
    public Set<String> shuttingDown() {
        return java.util.Collections.unmodifiableSet(shuttingDown.keySet());
    }

    private void accept(VersionedState s) {
        VersionedState known = states.get(s.partition());
        if (known != null && known.version() > s.version()) {
            return; // an older read than the one held
        }
        states.put(s.partition(), s);
        if (deleting.containsKey(s.partition())) {
            return; // its replicas are told only to delete themselves
        }
        if (s.state().leader().isPresent()
                && s.state().leader().get().equals(s.state().preferredLeader())) {
            toPreferred.remove(s.partition());
        }
        Set<String> told = new java.util.LinkedHashSet<>(s.state().members());
        if (known != null) {
            // A replica the new state no longer names is told too, so that it closes and deletes its replica.
            told.addAll(known.state().members());
        }
        for (String replica : told) {
            if (live.containsKey(replica)) {
                deltas.computeIfAbsent(replica, k -> new LinkedHashMap<>()).put(s.partition(), s.state());
            }
        }
    }

    /** The write {@code partition} needs, if any. */
    private Optional<StateWrite> decide(String partition) {
        if (deleting.containsKey(partition)) {
            return Optional.empty(); // a partition being deleted gets no new term
        }
        List<String> creatingReplicas = creating.get(partition);
        if (creatingReplicas != null) {
            PartitionState initial = PartitionState.initial(creatingReplicas, controllerEpoch);
            Optional<String> leader = chooseLeader(partition, creatingReplicas);
            PartitionState first =
                    leader.isPresent() ? initial.nextTerm(live.get(leader.get()), controllerEpoch) : initial;
            return Optional.of(
                    new StateWrite(partition, first, StateWrite.CREATE, creatingWithConfiguration.contains(partition)));
        }
        VersionedState vs = states.get(partition);
        if (vs == null) {
            return Optional.empty();
        }
        PartitionState s = vs.state();
        PartitionState reported = ready.remove(partition);
        if (reported != null && reported.equals(s) && s.reassigning()) {
            // The leader of this very state reported the step ready: the joint configuration after the learners, the
            // target alone after the joint configuration committed (its epoch-start entry, under both majorities).
            return Optional.of(nextTermOf(partition, vs, s.joint() ? s.completed() : s.joined()));
        }
        List<String> target = toReassign.get(partition);
        if (target != null) {
            if (s.reassigning() || s.replicas().equals(target)) {
                toReassign.remove(partition); // started (a previous write landed) or nothing to do
            } else {
                toReassign.remove(partition);
                return Optional.of(nextTermOf(partition, vs, s.reassignedTo(target)));
            }
        }
        Optional<String> leader = s.leader();
        PartitionState abandoned = givenUp.get(partition);
        if (abandoned != null && abandoned.leaderEpoch() != s.leaderEpoch()) {
            givenUp.remove(partition); // a newer term already
            abandoned = null;
        }
        boolean current = leader.isPresent() && isCurrentLeader(s, leader.get()) && abandoned == null;
        String preferred = s.preferredLeader();
        if (toPreferred.contains(partition) && !eligible(preferred)) {
            toPreferred.remove(partition); // the preferred replica cannot lead now: the election is dropped
        }
        boolean wantsPreferred = toPreferred.contains(partition)
                && !leader.map(preferred::equals).orElse(false);
        if (current && eligible(leader.get()) && !wantsPreferred) {
            return Optional.empty();
        }
        Optional<String> next = chooseLeader(partition, s.electable());
        if (abandoned != null) {
            // Another eligible replica first: the one that gave up lost its majority, and would likely again.
            String quitter = abandoned.leader().orElseThrow();
            Optional<String> other = s.electable().stream()
                    .filter(r -> !r.equals(quitter) && eligible(r))
                    .findFirst();
            if (other.isPresent()) {
                next = other;
            }
        }
        if (next.isPresent()) {
            return Optional.of(
                    new StateWrite(partition, s.nextTerm(live.get(next.get()), controllerEpoch), vs.version()));
        }
        if ((current && abandoned == null) || leader.isEmpty()) {
            return Optional.empty(); // a shutting-down leader keeps what nobody else can take; no leader stays none
        }
        return Optional.of(new StateWrite(partition, s.nextTermWithoutLeader(controllerEpoch), vs.version()));
    }

    /**
     * The write of {@code next}, a new configuration of {@code vs}'s partition, as the next term: led by the current
     * leader if it may lead under {@code next} and is eligible (so a reassignment moves no leadership it need not),
     * else by the first eligible replica that may, else by none.
     */
    private StateWrite nextTermOf(String partition, VersionedState vs, PartitionState next) {
        Optional<String> keep = next.leader().filter(l -> isCurrentLeader(vs.state(), l) && eligible(l));
        Optional<String> leader = keep.isPresent() ? keep : chooseLeader(partition, next.electable());
        PartitionState written = leader.isPresent()
                ? next.nextTerm(live.get(leader.get()), controllerEpoch)
                : next.nextTermWithoutLeader(controllerEpoch);
        return new StateWrite(partition, written, vs.version(), true);
    }

    /** The replica that should lead {@code partition}: its preferred one if asked for, else the first eligible. */
    private Optional<String> chooseLeader(String partition, List<String> replicas) {
        if (toPreferred.contains(partition) && eligible(replicas.get(0))) {
            return Optional.of(replicas.get(0));
        }
        return replicas.stream().filter(this::eligible).findFirst();
    }

    /** Registered and not shutting down. */
    private boolean eligible(String node) {
        return live.containsKey(node) && !shuttingDown.containsKey(node);
    }

    /** Whether {@code node} leads {@code s} under its current registration. */
    private boolean isCurrentLeader(PartitionState s, String node) {
        NodeRegistration r = live.get(node);
        return s.leader().map(node::equals).orElse(false) && r != null && r.nodeEpoch() == s.leaderNodeEpoch();
    }

    private void markLedBy(String node) {
        states.values().stream()
                .filter(s -> s.state().leader().map(node::equals).orElse(false))
                .forEach(s -> dirty.add(s.partition()));
    }

    private void markReplicasOf(String node) {
        states.values().stream().filter(s -> s.state().members().contains(node)).forEach(s -> dirty.add(s.partition()));
    }

    private void checkInOffice() {
        Preconditions.checkState(inOffice, "the controller has not taken office: call takeOffice first");
    }

    @Override
    public String toString() {
        return "ControllerCore[" + self + "@" + controllerEpoch + ", " + live.size() + " nodes, " + states.size()
                + " partitions, " + inFlight.size() + " writes in flight]";
    }
}
