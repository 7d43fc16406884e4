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
package dev.tenure.replicator.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ZooKeeperNode.Placement#preferredSpread}: what it promises, over many sizes. */
class PlacementTest {
    private static List<String> nodes(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            ids.add("n" + i);
        }
        return ids;
    }

    @Test
    void threeNodesAlternateTheSuccessorsOfEachNodesPartitions() {
        assertEquals(
                List.of(
                        List.of("n1", "n2", "n3"),
                        List.of("n2", "n3", "n1"),
                        List.of("n3", "n1", "n2"),
                        List.of("n1", "n3", "n2"),
                        List.of("n2", "n1", "n3"),
                        List.of("n3", "n2", "n1")),
                ZooKeeperNode.Placement.preferredSpread(nodes(3), 6, 3));
    }

    @Test
    void everySetHoldsDistinctNodesAndEveryNodeIsPreferredAndHoldsReplicasEvenly() {
        for (int n = 1; n <= 7; n++) {
            for (int rf = 1; rf <= n; rf++) {
                for (int partitions : List.of(0, 1, n, 3 * n + 1, 10 * n * Math.max(1, n - 1))) {
                    String what = n + " nodes, " + rf + " replicas, " + partitions + " partitions";
                    List<List<String>> sets = ZooKeeperNode.Placement.preferredSpread(nodes(n), partitions, rf);
                    assertEquals(partitions, sets.size(), what);
                    Map<String, Integer> preferred = new HashMap<>();
                    Map<String, Integer> held = new HashMap<>();
                    for (int i = 0; i < partitions; i++) {
                        List<String> set = sets.get(i);
                        assertEquals(rf, set.size(), what + ": " + set);
                        assertEquals(rf, new HashSet<>(set).size(), what + ": the nodes of " + set + " repeat");
                        assertEquals("n" + (i % n + 1), set.get(0), what + ": partition " + i + "'s preferred leader");
                        preferred.merge(set.get(0), 1, Integer::sum);
                        set.forEach(id -> held.merge(id, 1, Integer::sum));
                    }
                    assertTrue(spread(preferred, n) <= 1, what + ": preferred " + preferred);
                    // within each run of n partitions every node holds as many replicas as any other
                    assertTrue(spread(held, n) <= rf, what + ": replicas held " + held);
                    if (partitions % n == 0) {
                        assertEquals(0, spread(held, n), what + ": replicas held " + held);
                    }
                }
            }
        }
    }

    @Test
    void thePartitionsANodePrefersHaveTheirSecondReplicasOnEveryOtherNodeInTurn() {
        for (int n = 2; n <= 7; n++) {
            for (int rf = 2; rf <= n; rf++) {
                int partitions = 6 * n * (n - 1);
                List<List<String>> sets = ZooKeeperNode.Placement.preferredSpread(nodes(n), partitions, rf);
                for (String node : nodes(n)) {
                    Map<String, Integer> successors = new HashMap<>();
                    for (List<String> set : sets) {
                        if (set.get(0).equals(node)) {
                            successors.merge(set.get(1), 1, Integer::sum);
                        }
                    }
                    String what = n + " nodes, " + rf + " replicas: " + node + "'s successors " + successors;
                    assertEquals(n - 1, successors.size(), what);
                    assertEquals(0, spread(successors, n - 1), what);
                }
            }
        }
    }

    @Test
    void aReplicationFactorOutsideOneToTheNodesOrRepeatedNodesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ZooKeeperNode.Placement.preferredSpread(nodes(3), 6, 0));
        assertThrows(IllegalArgumentException.class, () -> ZooKeeperNode.Placement.preferredSpread(nodes(3), 6, 4));
        assertThrows(
                IllegalArgumentException.class,
                () -> ZooKeeperNode.Placement.preferredSpread(List.of("n1", "n1", "n2"), 6, 2));
        assertThrows(IllegalArgumentException.class, () -> ZooKeeperNode.Placement.preferredSpread(nodes(3), -1, 2));
    }

    /** Largest count minus smallest over {@code expected} keys (a missing key counts 0). */
    private static int spread(Map<String, Integer> counts, int expected) {
        int max = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        int min = counts.size() < expected
                ? 0
                : counts.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        return max - min;
    }
}
