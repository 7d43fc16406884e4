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
package dev.tenure.controller.wire;

import com.google.common.base.Preconditions;
import dev.tenure.controller.core.LeaderAndReplicas;
import dev.tenure.controller.core.PartitionState;

/**
 * The messages between the controller and the nodes, carried as control frames on the nodes' replication
 * connections (so they are authenticated as every replication message is: the sender is the connection's
 * authenticated peer). Encoded by {@link ControlCodec}.
 *
 * <p>Requests travel best effort; the controller sends a {@link Assignment} again until its node acknowledges it
 * ({@link AssignmentAck}), and a node asks again for its {@link ControlledShutdown} until the controller reports it
 * done. Every message is idempotent. Immutable and thread-safe.
 */
public sealed interface ControlMessage {
    /** Largest encoded message: the node transport's bound on a control frame's body. */
    int MAX_BYTES = 1 << 20;

    /**
     * The controller's {@link LeaderAndReplicas} to one node, numbered so that the node's acknowledgement names it.
     *
     * @param requestId increasing per controller term
     * @param request the request
     */
    record Assignment(long requestId, LeaderAndReplicas request) implements ControlMessage {
        /** Checks. */
        public Assignment {
            Preconditions.checkArgument(requestId >= 0, "requestId must be >= 0, was %s", requestId);
            Preconditions.checkNotNull(request, "request");
        }
    }

    /** What a node did with an {@link Assignment}. */
    enum AssignmentResult {
        /** Applied (partition states not newer than the node's were skipped, as they must be). */
        APPLIED,
        /** Refused: the controller's epoch is below the highest the node has seen. */
        STALE_CONTROLLER_EPOCH,
        /** Refused: addressed to another registration of the node than its current one. */
        STALE_NODE_EPOCH
    }

    /**
     * A node's answer to an {@link Assignment}.
     *
     * @param controllerEpoch the epoch of the assignment answered
     * @param requestId the id of the assignment answered
     * @param node the answering node
     * @param nodeEpoch its current registration's epoch (0 if it has none)
     * @param highestControllerEpoch the highest controller epoch the node has seen
     * @param result what it did
     */
    record AssignmentAck(
            long controllerEpoch,
            long requestId,
            String node,
            long nodeEpoch,
            long highestControllerEpoch,
            AssignmentResult result)
            implements ControlMessage {
        /** Checks. */
        public AssignmentAck {
            PartitionState.checkNodeId(node);
            Preconditions.checkArgument(controllerEpoch >= 0 && requestId >= 0 && nodeEpoch >= 0, "negative field");
            Preconditions.checkArgument(highestControllerEpoch >= 0, "negative highestControllerEpoch");
            Preconditions.checkNotNull(result, "result");
        }
    }

    /**
     * A node, registered with {@code nodeEpoch}, asks the controller to move its leaderships before it stops.
     *
     * @param node the node
     * @param nodeEpoch its registration
     */
    record ControlledShutdown(String node, long nodeEpoch) implements ControlMessage {
        /** Checks. */
        public ControlledShutdown {
            PartitionState.checkNodeId(node);
            Preconditions.checkArgument(nodeEpoch > 0, "nodeEpoch must be > 0, was %s", nodeEpoch);
        }
    }

    /**
     * The controller's answer to a {@link ControlledShutdown}.
     *
     * @param controllerEpoch the answering controller's epoch
     * @param node the node that asked
     * @param nodeEpoch the registration that asked
     * @param accepted false if the registration is not the current one
     * @param leading partitions the node still leads
     * @param movable of those, the ones another replica could take: the node may stop once it is 0
     */
    record ControlledShutdownProgress(
            long controllerEpoch, String node, long nodeEpoch, boolean accepted, int leading, int movable)
            implements ControlMessage {
        /** Checks. */
        public ControlledShutdownProgress {
            Preconditions.checkArgument(controllerEpoch > 0, "controllerEpoch must be > 0");
            PartitionState.checkNodeId(node);
            Preconditions.checkArgument(nodeEpoch > 0 && leading >= 0 && movable >= 0 && movable <= leading, "counts");
        }
    }

    /**
     * A node's replica gave up its term of {@code partition} in {@code leaderEpoch} (it lost its majority, or it was
     * fenced): the controller gives the partition a new term, on another replica if one is eligible. Sent again while
     * the newest state the node holds still names it in that term.
     *
     * @param node the node
     * @param nodeEpoch its registration
     * @param partition the partition
     * @param leaderEpoch the term given up
     */
    record TermEnded(String node, long nodeEpoch, String partition, long leaderEpoch) implements ControlMessage {
        /** Checks. */
        public TermEnded {
            PartitionState.checkNodeId(node);
            Preconditions.checkArgument(nodeEpoch > 0, "nodeEpoch must be > 0, was %s", nodeEpoch);
            Preconditions.checkArgument(
                    dev.tenure.replicator.transport.PartitionIds.isValid(partition),
                    "invalid partition id %s",
                    partition);
            Preconditions.checkArgument(leaderEpoch > 0, "leaderEpoch must be > 0, was %s", leaderEpoch);
        }
    }

    /**
     * The leader of {@code partition} in {@code leaderEpoch}, under the configuration of {@code configurationVersion},
     * reports that the reassignment in progress may take its next step (docs/controller.md, "Reassignment"): in the
     * learning phase, every learner is caught up; in the joint phase, the leader's epoch-start entry is committed under
     * the joint quorums, so the change may be activated. Sent again every second while the newest state the node
     * holds is still that one.
     *
     * @param node the leader's node
     * @param nodeEpoch its registration
     * @param partition the partition
     * @param leaderEpoch the term
     * @param configurationVersion the configuration the term runs under
     */
    record ChangeReady(String node, long nodeEpoch, String partition, long leaderEpoch, long configurationVersion)
            implements ControlMessage {
        /** Checks. */
        public ChangeReady {
            PartitionState.checkNodeId(node);
            Preconditions.checkArgument(nodeEpoch > 0, "nodeEpoch must be > 0, was %s", nodeEpoch);
            Preconditions.checkArgument(
                    dev.tenure.replicator.transport.PartitionIds.isValid(partition),
                    "invalid partition id %s",
                    partition);
            Preconditions.checkArgument(leaderEpoch > 0, "leaderEpoch must be > 0, was %s", leaderEpoch);
            Preconditions.checkArgument(
                    configurationVersion > 0, "configurationVersion must be > 0, was %s", configurationVersion);
        }
    }

    /**
     * The controller asks node {@code node}, registered with {@code nodeEpoch}, to stop its replicas of {@code
     * partitions} and delete their data (Kafka's {@code StopReplica} with {@code deletePartitions}): the partitions
     * are being deleted, or the node is no longer one of their replicas. Fenced as an {@link Assignment} is (docs/
     * controller.md, rules 4 to 6); the node answers with an {@link AssignmentAck} of the same request id once every
     * replica named is closed and its data deleted (a partition the node does not host counts as deleted).
     *
     * @param requestId the controller's id of this request, echoed by the acknowledgement
     * @param controllerEpoch the controller's epoch
     * @param controller the controller's node id
     * @param node the node addressed
     * @param nodeEpoch the registration of {@code node} addressed
     * @param partitions the partitions whose replicas on {@code node} are to be deleted
     */
    record StopReplicas(
            long requestId,
            long controllerEpoch,
            String controller,
            String node,
            long nodeEpoch,
            java.util.List<String> partitions)
            implements ControlMessage {
        /** Checks and copies. */
        public StopReplicas {
            Preconditions.checkArgument(requestId >= 0, "requestId must be >= 0, was %s", requestId);
            Preconditions.checkArgument(controllerEpoch > 0, "controllerEpoch must be > 0, was %s", controllerEpoch);
            PartitionState.checkNodeId(controller);
            PartitionState.checkNodeId(node);
            Preconditions.checkArgument(nodeEpoch > 0, "nodeEpoch must be > 0, was %s", nodeEpoch);
            partitions = java.util.List.copyOf(partitions);
            for (String p : partitions) {
                Preconditions.checkArgument(
                        dev.tenure.replicator.transport.PartitionIds.isValid(p), "invalid partition id %s", p);
            }
        }

        /** The request's fencing fields, as an assignment without partitions (for {@link dev.tenure.controller.core.NodeTerms#check}). */
        public dev.tenure.controller.core.LeaderAndReplicas header() {
            return new dev.tenure.controller.core.LeaderAndReplicas(
                    controllerEpoch, controller, node, nodeEpoch, false, java.util.Map.of());
        }
    }
}
