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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A node's rules for the controller's requests, without input or output (docs/controller.md, rules 4 and 5): which
 * {@link LeaderAndReplicas} it takes, which partition states it takes from them, and which leader epoch each of its
 * replicas should lead.
 *
 * <ul>
 *   <li>A request is taken only from the node it names as controller (the sender the transport authenticated), only
 *       if addressed to this node's current registration, and only if its controller epoch is not below the highest
 *       this node has seen (which the caller keeps durably: {@link #check} says when it must be raised).
 *   <li>From a taken request, a partition's state is taken only if its leader epoch is above the one held: an equal
 *       or older state changes nothing. A full request also ends what the node held of partitions it no longer lists.
 *   <li>A request speaks of a partition only if no request of the same controller epoch with a higher request id
 *       spoke of it already: an old full request arriving late drops nothing a newer request gave, and an old request
 *       gives back nothing a newer one dropped or deleted.
 *   <li>A replica leads epoch {@code E} while the state held names this node leader in {@code E} under its current
 *       registration, and {@code E} is above every epoch the replica stepped down from.
 * </ul>
 *
 * <p>Not thread-safe: confined to the node agent's thread. Never reads a clock.
 */
public final class NodeTerms {
    /** Whether a request is taken. */
    public enum Verdict {
        /** Taken: apply it with {@link #apply}. */
        APPLY,
        /** Refused: sent by a node other than the controller it names. */
        WRONG_SENDER,
        /** Refused: addressed to another node, or to a registration other than the current one. */
        STALE_NODE_EPOCH,
        /** Refused: its controller epoch is below the highest seen. */
        STALE_CONTROLLER_EPOCH
    }

    private final String self;
    private final Map<String, PartitionState> held = new LinkedHashMap<>();
    private final Map<String, Long> steppedDown = new LinkedHashMap<>();
    /** The controller epoch whose request ids {@link #lastWord} and {@link #fullFloor} count (-1 before any). */
    private long wordEpoch = -1;
    /**
     * The id of the newest request of controller epoch {@link #wordEpoch} that listed a partition or deleted its
     * replica, for partitions spoken of after the newest full request taken (older entries are pruned).
     */
    private final Map<String, Long> lastWord = new LinkedHashMap<>();
    /** The id of the newest full request of controller epoch {@link #wordEpoch} taken (-1 before any). */
    private long fullFloor = -1;

    /** The rules of node {@code self}. */
    public NodeTerms(String self) {
        this.self = PartitionState.checkNodeId(self);
    }

    /**
     * Whether node {@code self} takes {@code request} from {@code sender}, registered now with {@code nodeEpoch} (0
     * without a registration), having seen at most {@code highestControllerEpoch}. On {@link Verdict#APPLY} with a
     * controller epoch above the highest seen, the caller must keep the new highest durably before it applies.
     */
    public Verdict check(String sender, LeaderAndReplicas request, long nodeEpoch, long highestControllerEpoch) {
        if (!sender.equals(request.controller())) {
            return Verdict.WRONG_SENDER;
        }
        if (!request.node().equals(self) || nodeEpoch == 0 || request.nodeEpoch() != nodeEpoch) {
            return Verdict.STALE_NODE_EPOCH;
        }
        if (request.controllerEpoch() < highestControllerEpoch) {
            return Verdict.STALE_CONTROLLER_EPOCH;
        }
        return Verdict.APPLY;
    }

    /**
     * Takes from {@code request} (which {@link #check} let through), numbered {@code requestId} by its controller,
     * every state newer than the one held, and with a full request drops what it does not list; but it speaks of a
     * partition only if no request of the same controller epoch with a higher id has spoken of it already (a request
     * speaks of a partition it lists, a full request of every partition, a request to delete replicas of those it
     * names). So an old request that arrives late (reordered, duplicated or sent again) never makes the node forget or
     * replace what a newer request of its controller told it (docs/controller.md, rule 13). A newer state is one of a
     * higher leader epoch, or of the same leader epoch and a higher configuration version.
     *
     * @return the partitions whose held state changed, in the request's order
     */
    public List<String> apply(LeaderAndReplicas request, long requestId) {
        List<String> changed = new ArrayList<>();
        if (!newWord(request.controllerEpoch())) {
            return changed;
        }
        for (Map.Entry<String, PartitionState> e : request.partitions().entrySet()) {
            String p = e.getKey();
            if (!speaks(p, requestId)) {
                continue;
            }
            lastWord.put(p, requestId);
            PartitionState known = held.get(p);
            if (known == null || newer(e.getValue(), known)) {
                held.put(p, e.getValue());
                changed.add(p);
            }
        }
        if (request.full()) {
            for (String p : List.copyOf(held.keySet())) {
                if (!request.partitions().containsKey(p) && speaks(p, requestId)) {
                    held.remove(p);
                    changed.add(p);
                }
            }
            if (requestId > fullFloor) {
                fullFloor = requestId;
                lastWord.values().removeIf(id -> id <= fullFloor);
            }
        }
        return changed;
    }

    /**
     * Drops the states held for {@code partitions} (the controller of epoch {@code controllerEpoch} asked this node,
     * in its request {@code requestId}, to delete its replicas of them): this node leads none of them any more, and no
     * older request of that controller gives them back.
     *
     * @return those of them a state was held for
     */
    public List<String> forget(java.util.Collection<String> partitions, long controllerEpoch, long requestId) {
        List<String> dropped = new ArrayList<>();
        boolean current = newWord(controllerEpoch);
        for (String p : partitions) {
            if (held.remove(p) != null) {
                dropped.add(p);
            }
            steppedDown.remove(p);
            if (current && requestId > lastWord.getOrDefault(p, -1L)) {
                lastWord.put(p, requestId);
            }
        }
        return dropped;
    }

    /**
     * Whether a request of {@code controllerEpoch} may speak of partitions: not one of an epoch older than the newest
     * that spoke; one of a newer epoch starts the count of request ids again.
     */
    private boolean newWord(long controllerEpoch) {
        if (controllerEpoch < wordEpoch) {
            return false;
        }
        if (controllerEpoch > wordEpoch) {
            wordEpoch = controllerEpoch;
            lastWord.clear();
            fullFloor = -1;
        }
        return true;
    }

    /** Whether request {@code requestId} of the current controller epoch is newer than every one that spoke of it. */
    private boolean speaks(String partition, long requestId) {
        return requestId > Math.max(fullFloor, lastWord.getOrDefault(partition, -1L));
    }

    private static boolean newer(PartitionState s, PartitionState known) {
        return s.leaderEpoch() > known.leaderEpoch()
                || (s.leaderEpoch() == known.leaderEpoch() && s.configurationVersion() > known.configurationVersion());
    }

    /** The replica of {@code partition} stepped down from {@code epoch} (it was fenced): it is not given again. */
    public void steppedDown(String partition, long epoch) {
        steppedDown.merge(partition, epoch, Math::max);
    }

    /**
     * The epoch this node's replica of {@code partition} should lead while registered with {@code nodeEpoch}, or 0
     * if it should not lead.
     */
    public long leaderEpoch(String partition, long nodeEpoch) {
        PartitionState s = held.get(partition);
        if (s == null
                || nodeEpoch == 0
                || !s.leader().map(self::equals).orElse(false)
                || s.leaderNodeEpoch() != nodeEpoch
                || s.leaderEpoch() <= steppedDown.getOrDefault(partition, 0L)) {
            return 0;
        }
        return s.leaderEpoch();
    }

    /**
     * The leader epoch of {@code partition} that the state held gives this node under registration {@code nodeEpoch}
     * but its replica stepped down from (a term to report to the controller as given up), or 0.
     */
    public long givenUp(String partition, long nodeEpoch) {
        PartitionState s = held.get(partition);
        if (s == null
                || nodeEpoch == 0
                || !s.leader().map(self::equals).orElse(false)
                || s.leaderNodeEpoch() != nodeEpoch
                || s.leaderEpoch() > steppedDown.getOrDefault(partition, 0L)) {
            return 0;
        }
        return s.leaderEpoch();
    }

    /** The state held for {@code partition}, if any. */
    public Optional<PartitionState> state(String partition) {
        return Optional.ofNullable(held.get(partition));
    }

    /** The partitions a state is held for. */
    public Set<String> partitions() {
        return Collections.unmodifiableSet(held.keySet());
    }

    /** The node's id. */
    public String self() {
        Preconditions.checkState(self != null);
        return self;
    }
}
