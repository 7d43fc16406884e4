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
package dev.tenure.controller.zookeeper;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import dev.tenure.controller.core.PartitionState;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.common.PathUtils;

/**
 * The controller's ZooKeeper layout under a cluster path {@code P} (see the {@linkplain dev.tenure.controller.zookeeper
 * package}), with the ids in it checked: a node id as {@link PartitionState#checkNodeId}, a partition id by the same
 * rule; neither may be {@code "."} or {@code ".."}, and the path made must be a valid ZooKeeper path.
 *
 * <p>Stateless and thread-safe. Every method throws {@link IllegalArgumentException} naming what is wrong for an
 * invalid cluster path or id.
 */
public final class ControllerPaths {
    /** The child of {@code P} that holds the controller's election. */
    public static final String CONTROLLER = "controller";
    /** The child of {@code P} that holds the nodes' registrations. */
    public static final String NODES = "nodes";
    /** The child of {@code P} that holds the partitions. */
    public static final String PARTITIONS = "partitions";
    /** The child of a partition's node that holds its state. */
    public static final String STATE = "state";
    /**
     * The child of an election path that holds its epoch record: the node a fenced write checks. This is {@code
     * FencedLeaderElection}'s layout (docs/recipes.md); {@code PartitionStateStoreTest} fails if it moves.
     */
    static final String EPOCH = "epoch";
    /** The child of the cluster path under which admin requests wait. */
    public static final String ADMIN = "admin";
    /** The child of the cluster path holding the partition sets. */
    public static final String PARTITION_SETS = "partition-sets";
    /** Under {@link #ADMIN}: create requests of partition sets, one per name. */
    public static final String CREATE_PARTITION_SET = "create-partition-set";
    /** Under {@link #ADMIN}: delete requests of partition sets, one per name. */
    public static final String DELETE_PARTITION_SET = "delete-partition-set";
    /** Under {@link #ADMIN}: a preferred-leader election request. */
    public static final String PREFERRED_ELECTION = "preferred-election";

    private ControllerPaths() {}

    /** The path of the controller's election: {@code P/controller}. Its epoch is the controller epoch. */
    public static String controllerElection(String clusterPath) {
        return make(clusterPath, CONTROLLER);
    }

    /** The epoch node of the controller's election, {@code P/controller/epoch}, which every fenced write checks. */
    static String controllerEpoch(String clusterPath) {
        return make(clusterPath, CONTROLLER, EPOCH);
    }

    /** The parent of the nodes' registrations: {@code P/nodes}. */
    public static String nodes(String clusterPath) {
        return make(clusterPath, NODES);
    }

    /** Node {@code node}'s registration: {@code P/nodes/ID}. */
    public static String node(String clusterPath, String node) {
        return make(clusterPath, NODES, checkNodeId(node));
    }

    /** The parent of the partitions: {@code P/partitions}. */
    public static String partitions(String clusterPath) {
        return make(clusterPath, PARTITIONS);
    }

    /** Partition {@code partition}'s node: {@code P/partitions/ID}. */
    public static String partition(String clusterPath, String partition) {
        return make(clusterPath, PARTITIONS, checkPartitionId(partition));
    }

    /** Partition {@code partition}'s state node: {@code P/partitions/ID/state}. */
    public static String partitionState(String clusterPath, String partition) {
        return make(clusterPath, PARTITIONS, checkPartitionId(partition), STATE);
    }

    /** {@code P/partition-sets}: the partition sets. */
    public static String partitionSets(String clusterPath) {
        return make(clusterPath, PARTITION_SETS);
    }

    /** {@code P/partition-sets/NAME}: partition set {@code name}'s record. */
    public static String partitionSet(String clusterPath, String name) {
        return make(clusterPath, PARTITION_SETS, dev.tenure.controller.core.PartitionSet.checkName(name));
    }

    /** {@code P/admin/create-partition-set}: the create requests. */
    public static String createRequests(String clusterPath) {
        return make(clusterPath, ADMIN, CREATE_PARTITION_SET);
    }

    /** {@code P/admin/create-partition-set/NAME}. */
    public static String createRequest(String clusterPath, String name) {
        return make(clusterPath, ADMIN, CREATE_PARTITION_SET, dev.tenure.controller.core.PartitionSet.checkName(name));
    }

    /** {@code P/admin/delete-partition-set}: the delete requests. */
    public static String deleteRequests(String clusterPath) {
        return make(clusterPath, ADMIN, DELETE_PARTITION_SET);
    }

    /** {@code P/admin/delete-partition-set/NAME}. */
    public static String deleteRequest(String clusterPath, String name) {
        return make(clusterPath, ADMIN, DELETE_PARTITION_SET, dev.tenure.controller.core.PartitionSet.checkName(name));
    }

    /** {@code P/admin/preferred-election}: a preferred-leader election request. */
    public static String preferredElection(String clusterPath) {
        return make(clusterPath, ADMIN, PREFERRED_ELECTION);
    }

    /** {@code P/controller/epoch}: the controller election's epoch node, which every controller write checks. */
    public static String controllerEpochNode(String clusterPath) {
        return controllerEpoch(clusterPath);
    }

    /**
     * Checks a node id for use as a node name: {@link PartitionState#checkNodeId}, and not {@code "."} or {@code
     * ".."}.
     *
     * @return {@code node}
     */
    public static String checkNodeId(String node) {
        PartitionState.checkNodeId(node);
        Preconditions.checkArgument(!node.equals(".") && !node.equals(".."), "node id must not be '.' or '..'");
        return node;
    }

    /**
     * Checks a partition id: 1 to 255 characters without whitespace, control characters, {@code ','}, {@code '/'} or
     * {@code '='}, and not {@code "."} or {@code ".."}.
     *
     * @return {@code partition}
     */
    public static String checkPartitionId(String partition) {
        Preconditions.checkArgument(partition != null && !partition.isEmpty(), "partition id must not be empty");
        Preconditions.checkArgument(
                CharMatcher.whitespace().or(CharMatcher.anyOf(",/=")).matchesNoneOf(partition)
                        && CharMatcher.javaIsoControl().matchesNoneOf(partition)
                        && partition.length() <= 255
                        && !partition.equals(".")
                        && !partition.equals(".."),
                "partition id %s must be 1 to 255 characters without whitespace, control characters, ',', '/' or '=',"
                        + " and not '.' or '..'",
                partition);
        return partition;
    }

    /** Checks a cluster path: a valid ZooKeeper path. */
    static String checkClusterPath(String clusterPath) {
        Preconditions.checkArgument(clusterPath != null, "cluster path must not be null");
        PathUtils.validatePath(clusterPath);
        return clusterPath;
    }

    private static String make(String clusterPath, String... children) {
        String path = ZKPaths.makePath(checkClusterPath(clusterPath), children[0], dropFirst(children));
        PathUtils.validatePath(path); // characters ZooKeeper refuses in names
        return path;
    }

    private static String[] dropFirst(String[] a) {
        String[] rest = new String[a.length - 1];
        System.arraycopy(a, 1, rest, 0, rest.length);
        return rest;
    }
}
