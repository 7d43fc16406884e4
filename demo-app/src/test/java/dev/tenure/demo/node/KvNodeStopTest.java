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
package dev.tenure.demo.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Stopping a replica (SIGTERM's path) does not wait on an unreachable ZooKeeper. */
@Timeout(120)
class KvNodeStopTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private EmbeddedCluster cluster;

    @AfterEach
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void everyReplicaStopsWithinSecondsWhileZooKeeperIsDown() throws Exception {
        cluster = new EmbeddedCluster(0).partitions(6);
        cluster.start();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (cluster.nodes().stream().mapToInt(n -> n.leading().size()).sum() != 6) {
            assertTrue(System.nanoTime() < deadline, "every partition has a leader");
            TimeUnit.MILLISECONDS.sleep(20); // polling the replicas' roles, with a deadline
        }
        cluster.ensemble().stopAll();
        for (KvNode n : cluster.nodes()) {
            long started = System.nanoTime();
            n.close(); // its two registrations' foreground deletes each waited out the connection timeout, and more
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(tookMs < 8_000, n.id() + " took " + tookMs + " ms to stop while ZooKeeper was down");
        }
    }
}
