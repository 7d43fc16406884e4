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
package dev.tenure.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Many elections (one per partition) on one shared control scheduler and listener pool, no threads of their own. */
@Tag("zookeeper")
class SharedControlSchedulerTest {
    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers(Duration.ofSeconds(10));

    private final ScheduledThreadPoolExecutor control = new ScheduledThreadPoolExecutor(1);
    private final ExecutorService listeners = Executors.newFixedThreadPool(2);
    private final List<FencedLeaderElection> elections = new ArrayList<>();

    @AfterEach
    void tearDown() {
        elections.forEach(FencedLeaderElection::close);
        control.shutdownNow();
        listeners.shutdownNow();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            TimeUnit.MILLISECONDS.sleep(5); // polling a condition, with a deadline
        }
    }

    private static Optional<FencedLeaderElection> leaderOf(List<FencedLeaderElection> participants) {
        List<FencedLeaderElection> leading =
                participants.stream().filter(e -> e.currentToken().isPresent()).toList();
        assertTrue(leading.size() <= 1, "one leader at most: " + leading);
        return leading.stream().findFirst();
    }

    @Test
    void tenPartitionsOfThreeParticipantsEachElectOneLeaderAndHandOverWithoutThreadsOfTheirOwn() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        List<List<FencedLeaderElection>> partitions = new ArrayList<>();
        for (int p = 0; p < 10; p++) {
            List<FencedLeaderElection> participants = new ArrayList<>();
            for (String node : List.of("n1", "n2", "n3")) {
                FencedLeaderElection e = FencedLeaderElection.builder(client, "/shared-control/p" + p)
                        .participantId(node)
                        .controlScheduler(control)
                        .listenerExecutor(listeners)
                        .build();
                e.start();
                participants.add(e);
                elections.add(e);
            }
            partitions.add(participants);
        }
        for (int p = 0; p < partitions.size(); p++) {
            List<FencedLeaderElection> participants = partitions.get(p);
            await(() -> leaderOf(participants).isPresent(), "partition p" + p + " has a leader");
        }
        Set<String> own = Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName)
                .filter(n -> n.startsWith("tenure-election-") || n.startsWith("tenure-leadership-"))
                .collect(Collectors.toSet());
        assertEquals(Set.of(), own, "no election started a thread of its own");

        Set<Long> firstEpochs = ConcurrentHashMap.newKeySet();
        for (List<FencedLeaderElection> participants : partitions) {
            FencedLeaderElection leader = leaderOf(participants).orElseThrow();
            long epoch = leader.currentToken().orElseThrow().epoch();
            firstEpochs.add(epoch);
            leader.close();
            List<FencedLeaderElection> rest =
                    participants.stream().filter(e -> e != leader).toList();
            await(() -> leaderOf(rest).isPresent(), "another participant of " + participants + " leads");
            long next =
                    leaderOf(rest).orElseThrow().currentToken().orElseThrow().epoch();
            assertTrue(next > epoch, "the next term's epoch " + next + " is above " + epoch);
        }
        assertFalse(firstEpochs.isEmpty());
        assertFalse(control.isShutdown(), "closing elections leaves the shared scheduler to its owner");
    }
}
