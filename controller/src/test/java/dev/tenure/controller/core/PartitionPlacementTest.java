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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Where {@link PartitionPlacement} puts a partition set's replicas and preferred leaders. */
class PartitionPlacementTest {
    private static List<String> nodes(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            ids.add("n" + i);
        }
        return ids;
    }

    private static int spread(Map<String, Integer> counts, List<String> nodes) {
        int max = 0;
        int min = Integer.MAX_VALUE;
        for (String node : nodes) {
            int c = counts.getOrDefault(node, 0);
            max = Math.max(max, c);
            min = Math.min(min, c);
        }
        return max - min;
    }

    @Test
    void overEveryNodeCountAndReplicationFactorPreferredLeadersDifferByAtMostOneAndReplicasByAtMostTwoBetweenNodes() {
        long seed = Long.getLong("placement.seed", 20261206L);
        Random random = new Random(seed);
        for (int round = 0; round < 2000; round++) {
            int n = 1 + random.nextInt(9);
            int rf = 1 + random.nextInt(n);
            int partitions = 1 + random.nextInt(60);
            int start = random.nextInt();
            List<String> nodes = nodes(n);
            Collections.shuffle(nodes, random);
            List<List<String>> placement = PartitionPlacement.place(nodes, partitions, rf, Map.of(), Map.of(), start);
            String where = "seed " + seed + " round " + round + ": " + n + " nodes, " + partitions + " partitions, rf "
                    + rf + ": " + placement;
            assertEquals(partitions, placement.size(), where);
            Map<String, Integer> leaders = new HashMap<>();
            Map<String, Integer> replicas = new HashMap<>();
            for (List<String> set : placement) {
                assertEquals(rf, set.size(), where);
                assertEquals(rf, new HashSet<>(set).size(), "distinct replicas: " + where);
                assertTrue(nodes.containsAll(set), where);
                leaders.merge(set.get(0), 1, Integer::sum);
                set.forEach(r -> replicas.merge(r, 1, Integer::sum));
            }
            assertTrue(spread(leaders, nodes) <= 1, "preferred leaders " + leaders + ", " + where);
            assertTrue(spread(replicas, nodes) <= 2, "replicas " + replicas + ", " + where);
        }
    }

    @Test
    void setsPlacedOneAfterAnotherKeepTheNodesEvenlyLoaded() {
        long seed = Long.getLong("placement.seed", 20261206L);
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            int n = 2 + random.nextInt(6);
            List<String> nodes = nodes(n);
            Map<String, Integer> leaders = new HashMap<>();
            Map<String, Integer> replicas = new HashMap<>();
            for (int set = 0; set < 5; set++) {
                int rf = 1 + random.nextInt(n);
                for (List<String> s : PartitionPlacement.place(
                        nodes, 1 + random.nextInt(7), rf, leaders, replicas, random.nextInt())) {
                    leaders.merge(s.get(0), 1, Integer::sum);
                    s.forEach(r -> replicas.merge(r, 1, Integer::sum));
                }
                assertTrue(spread(leaders, nodes) <= 1, "seed " + seed + " round " + round + ": leaders " + leaders);
                assertTrue(spread(replicas, nodes) <= 3, "seed " + seed + " round " + round + ": replicas " + replicas);
            }
        }
    }

    @Test
    void twelvePartitionsOfThreeReplicasOnThreeNodesGiveEachNodeFourPreferredLeaderships() {
        List<List<String>> p = PartitionPlacement.place(nodes(3), 12, 3, Map.of(), Map.of(), 0);
        Map<String, Integer> leaders = new HashMap<>();
        p.forEach(s -> leaders.merge(s.get(0), 1, Integer::sum));
        assertEquals(Map.of("n1", 4, "n2", 4, "n3", 4), leaders);
        assertEquals(p, PartitionPlacement.place(nodes(3), 12, 3, Map.of(), Map.of(), 0), "deterministic");
    }

    @Test
    void aReplicationFactorAboveTheNodeCountOrBelowOneIsRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> PartitionPlacement.place(nodes(2), 3, 3, Map.of(), Map.of(), 0));
        assertTrue(e.getMessage().contains("above the 2 registered nodes"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class, () -> PartitionPlacement.place(nodes(2), 3, 0, Map.of(), Map.of(), 0));
        assertThrows(
                IllegalArgumentException.class, () -> PartitionPlacement.place(nodes(2), 0, 1, Map.of(), Map.of(), 0));
    }
}
