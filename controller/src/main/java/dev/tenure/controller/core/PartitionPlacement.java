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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Where a new partition set's replicas go: spread evenly over the registered nodes, and the preferred leaders (the
 * first replica of each partition) too, taking into account what the nodes already carry.
 *
 * <p>As Kafka's rack-unaware assignment, the preferred leaders go round the nodes in order and each partition's
 * followers are the nodes after its leader on the ring; unlike it, each choice is the least-loaded node (fewest
 * preferred leaderships for a leader, fewest replicas for a follower, ties broken by ring order from where the last
 * choice was made), so that the counts stay even also across sets and when the partition count is not a multiple of
 * the node count. Starting from nodes that carry nothing, the preferred leaderships of the set differ by at most one
 * between nodes, and the replicas by at most two (checked over many sizes by {@code PartitionPlacementTest}).
 *
 * <p>Pure and deterministic: the same input gives the same placement. Thread-safe (stateless).
 */
public final class PartitionPlacement {
    private PartitionPlacement() {}

    /**
     * The replica sets of {@code partitions} new partitions, preferred leader first.
     *
     * @param nodes the registered nodes, in a stable order (the ring)
     * @param partitions how many partitions
     * @param replicationFactor replicas per partition
     * @param leadersNow preferred leaderships each node already has (absent: none)
     * @param replicasNow replicas each node already has (absent: none)
     * @param start where on the ring to start (any int; taken modulo the node count)
     * @throws IllegalArgumentException if the replication factor is below 1 or above the node count, or there are no
     *     partitions
     */
    public static List<List<String>> place(
            List<String> nodes,
            int partitions,
            int replicationFactor,
            Map<String, Integer> leadersNow,
            Map<String, Integer> replicasNow,
            int start) {
        Preconditions.checkArgument(partitions >= 1, "partitions must be at least 1, was %s", partitions);
        Preconditions.checkArgument(
                replicationFactor >= 1, "the replication factor must be at least 1, was %s", replicationFactor);
        Preconditions.checkArgument(new HashSet<>(nodes).size() == nodes.size(), "nodes must be distinct: %s", nodes);
        Preconditions.checkArgument(
                replicationFactor <= nodes.size(),
                "replication factor %s is above the %s registered nodes %s",
                replicationFactor,
                nodes.size(),
                nodes);
        int n = nodes.size();
        Map<String, Integer> leaders = new HashMap<>();
        Map<String, Integer> replicas = new HashMap<>();
        for (String node : nodes) {
            leaders.put(node, leadersNow.getOrDefault(node, 0));
            replicas.put(node, replicasNow.getOrDefault(node, 0));
        }
        // First every preferred leader, so that the followers can be placed knowing each node's whole load.
        int[] leaderOf = new int[partitions];
        int cursor = Math.floorMod(start, n);
        for (int p = 0; p < partitions; p++) {
            int leader = -1;
            for (int k = 0; k < n; k++) {
                int i = (cursor + k) % n;
                if (leader < 0 || less(nodes.get(i), nodes.get(leader), leaders, replicas)) {
                    leader = i;
                }
            }
            leaderOf[p] = leader;
            leaders.merge(nodes.get(leader), 1, Integer::sum);
            replicas.merge(nodes.get(leader), 1, Integer::sum);
            cursor = (leader + 1) % n;
        }
        List<List<String>> placement = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            int leader = leaderOf[p];
            List<String> set = new ArrayList<>(replicationFactor);
            set.add(nodes.get(leader));
            for (int r = 1; r < replicationFactor; r++) {
                int follower = -1;
                for (int k = 0; k < n; k++) {
                    int i = (leader + r + k) % n; // ring order, from offset r after the leader
                    if (i == leader || set.contains(nodes.get(i))) {
                        continue;
                    }
                    if (follower < 0 || replicas.get(nodes.get(i)) < replicas.get(nodes.get(follower))) {
                        follower = i;
                    }
                }
                set.add(nodes.get(follower));
                replicas.merge(nodes.get(follower), 1, Integer::sum);
            }
            placement.add(List.copyOf(set));
        }
        return placement;
    }

    /** Whether {@code a} is a better next leader than {@code b}: fewer leaderships, then fewer replicas. */
    private static boolean less(String a, String b, Map<String, Integer> leaders, Map<String, Integer> replicas) {
        int byLeaders = Integer.compare(leaders.get(a), leaders.get(b));
        return byLeaders < 0 || (byLeaders == 0 && replicas.get(a) < replicas.get(b));
    }
}
