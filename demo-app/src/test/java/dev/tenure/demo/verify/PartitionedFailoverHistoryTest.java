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
package dev.tenure.demo.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.checker.CheckReport;
import dev.tenure.checker.History;
import dev.tenure.checker.HistoryReader;
import dev.tenure.checker.HistoryWriter;
import dev.tenure.demo.kv.KvService;
import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import dev.tenure.replicator.core.Role;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients on a partitioned cluster (3 replicas, 6 partitions, in process) while the node leading the most partitions
 * is killed: every partition it led elects a new leader, and the history of every key is linearizable, with no
 * acknowledged write lost and each partition's log positions in order.
 */
class PartitionedFailoverHistoryTest {
    private static final int PARTITIONS = 6;

    @TempDir
    Path dir;

    @Test
    @Timeout(180)
    void keysSpreadOverPartitionsAndEachKeysHistoryIsLinearizableAcrossTheFailoverOfANodeLeadingSeveral()
            throws Exception {
        try (EmbeddedCluster cluster =
                new EmbeddedCluster(0).partitions(PARTITIONS).requestTimeout(Duration.ofSeconds(5))) {
            cluster.start();
            await(() -> leaders(cluster.nodes()) == PARTITIONS, "every partition led");
            Path file = dir.resolve("history.jsonl");
            KvNode victim;
            int victimLed;
            try (HistoryWriter history = HistoryWriter.create(file)) {
                List<URI> urls =
                        cluster.nodes().stream().map(n -> URI.create(n.url())).toList();
                Workload workload = new Workload(urls, 4, 24, 20261216L, history, Duration.ofSeconds(5), Duration.ZERO);
                workload.start();
                try {
                    await(() -> workload.operations() >= 300, "300 operations before the failure");
                    victim = cluster.nodes().stream()
                            .max(Comparator.comparingInt(n -> n.leading().size()))
                            .orElseThrow();
                    victimLed = victim.leading().size();
                    cluster.kill(victim.id());
                    List<KvNode> survivors =
                            cluster.nodes().stream().filter(n -> n != victim).toList();
                    await(() -> leaders(survivors) == PARTITIONS, "every partition led by a survivor");
                    long after = workload.operations();
                    await(() -> workload.operations() >= after + 300, "300 operations after the failover");
                } finally {
                    workload.stop();
                }
                KvNode reader = cluster.nodes().stream()
                        .filter(n -> n != victim)
                        .findFirst()
                        .orElseThrow();
                assertEquals(List.of(), workload.finalReads(99, URI.create(reader.url()), Duration.ofSeconds(60)));
            }
            assertTrue(victimLed >= 2, "the killed node led several partitions: " + victimLed);
            History history = HistoryReader.read(file);
            Map<String, CheckReport> reports = PartitionedCheck.check(history, PARTITIONS);
            assertTrue(reports.size() >= 5, "the keys spread over the partitions: " + reports.keySet());
            reports.forEach((p, r) -> assertTrue(r.isValid(), "partition " + p + ": " + r));
        }
    }

    /** Partitions that a node of {@code nodes} leads with a commit in its epoch. */
    private static int leaders(List<KvNode> nodes) {
        int led = 0;
        for (int i = 0; i < PARTITIONS; i++) {
            for (KvNode n : nodes) {
                KvService.Status s = n.partitions().get(i).status();
                if (s.replica().role() == Role.LEADER && s.replica().commitOffset() > 0) {
                    led++;
                    break;
                }
            }
        }
        return led;
    }

    private static void await(BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(what);
            }
            Thread.sleep(20); // polling
        }
    }
}
