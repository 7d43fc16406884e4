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
package dev.tenure.replicator.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message.Append;
import dev.tenure.replicator.core.Message.AppendAck;
import dev.tenure.replicator.core.Message.Fetch;
import dev.tenure.replicator.core.Message.FetchResponse;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.storage.SegmentedLog;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The core's durability rules (docs/replication.md, "What is durable at start-up", "Apply only what is durable
 * here") and its rule that an elected replica that cannot recover gives up its term (issue 12, defects 1-3).
 */
class ReplicaCoreDurabilityTest {
    private static final List<String> MEMBERS = List.of("a", "b", "c");

    @TempDir
    Path dir;

    private static CoreConfig config(String self) {
        return CoreConfig.builder(self, MEMBERS)
                .checkQuorum(Duration.ofSeconds(1))
                .build();
    }

    private static Entry data(long epoch, long offset) {
        return Entry.data(epoch, offset, ("d" + offset).getBytes(StandardCharsets.UTF_8));
    }

    private static <T> List<T> of(List<Action> actions, Class<T> type) {
        List<T> found = new ArrayList<>();
        for (Action a : actions) {
            if (type.isInstance(a)) {
                found.add(type.cast(a));
            } else if (a instanceof Action.Send s && type.isInstance(s.message())) {
                found.add(type.cast(s.message()));
            }
        }
        return found;
    }

    private static long maxAckedMatch(List<Action> actions) {
        return of(actions, AppendAck.class).stream()
                .mapToLong(AppendAck::matchOffset)
                .max()
                .orElse(-1);
    }

    @Test
    void entriesReadBackAtStartAreAcknowledgedOnlyAfterASync() throws Exception {
        Path logDir = dir.resolve("log");
        try (SegmentedLog log = SegmentedLog.open(logDir, LogConfig.defaults())) {
            log.append(List.of(data(1, 0), data(1, 1), data(1, 2)));
            // Closed without a sync: after a process crash the page cache still holds the three records.
        }
        InMemoryPromiseStore promises = new InMemoryPromiseStore();
        promises.store(new Promise(1, "b"));
        try (SegmentedLog log = SegmentedLog.open(logDir, LogConfig.defaults())) {
            assertEquals(3, log.logEndOffset(), "the records are read back");
            ReplicaCore follower = new ReplicaCore(config("a"), log, promises, 0);
            List<Action> atStart = follower.takeActions();
            assertEquals(1, of(atStart, Action.SyncLog.class).size(), "the core asks for a sync of what it found");

            // A heartbeat from the leader whose log matches: not acknowledged as durable before the sync.
            follower.receive(new Append("b", "a", 1, 2, 1, List.of(), 3, 1), 0);
            List<Action> beforeSync = follower.takeActions();
            assertTrue(
                    maxAckedMatch(beforeSync) < 3,
                    "acknowledged data that no sync has reported durable: " + beforeSync);
            assertTrue(of(beforeSync, Action.Apply.class).isEmpty(), "applied data not known durable");

            Synced synced = log.syncWithEpoch();
            follower.logSynced(synced.endOffset(), synced.epoch(), 0);
            List<Action> afterSync = follower.takeActions();
            assertEquals(3, maxAckedMatch(afterSync), "acknowledged once synced: " + afterSync);
            assertEquals(List.of(new Action.Apply(3)), of(afterSync, Action.Apply.class));
        }
    }

    @Test
    void followerAppliesNothingUntilTheEntriesAreDurable() {
        InMemoryReplicaLog log = new InMemoryReplicaLog();
        InMemoryPromiseStore promises = new InMemoryPromiseStore();
        promises.store(new Promise(1, "b"));
        ReplicaCore follower = new ReplicaCore(config("a"), log, promises, 0);
        follower.receive(new Append("b", "a", 1, -1, 0, List.of(data(1, 0), data(1, 1)), 2, 0), 0);
        List<Action> beforeSync = follower.takeActions();
        assertEquals(2, follower.commitOffset(), "the leader's commit offset is learned at once");
        assertTrue(of(beforeSync, Action.Apply.class).isEmpty(), "applied before durable: " + beforeSync);
        assertEquals(1, of(beforeSync, Action.SyncLog.class).size());
        assertEquals(0, follower.applyOffset());

        follower.logSynced(log.sync(), 1, 0);
        assertEquals(List.of(new Action.Apply(2)), of(follower.takeActions(), Action.Apply.class));
    }

    @Test
    void leaderAppliesWhatItsFollowersCommittedOnlyAfterItsOwnSync() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.node("a").autoSync = false;
        c.node("a").actions.clear();
        long p = c.propose("a", "x");
        c.settle(); // b and c hold x durably and acknowledge it: committed without a's own sync
        assertEquals(ScriptedCluster.Outcome.COMMITTED, c.outcomes.get(p));
        long end = c.node("a").core.logEndOffset();
        assertEquals(end, c.node("a").core.commitOffset());
        assertTrue(c.node("a").core.durableOffset() < end);
        assertTrue(
                c.actionsOf("a", Action.Apply.class).stream().allMatch(a -> a.applyOffset() < end),
                "the leader applied an entry its own log does not hold durably");
        c.sync("a");
        assertEquals(end, c.node("a").core.applyOffset());
    }

    @Test
    void replicaElectedWithNoReachablePeerGivesUpWithinTheCheckQuorumInterval() {
        InMemoryReplicaLog log = new InMemoryReplicaLog();
        ReplicaCore core = new ReplicaCore(config("a"), log, new InMemoryPromiseStore(), 0);
        core.becomeLeader(1, 0);
        core.takeActions(); // NewEpoch to b and c: lost
        long interval = Duration.ofSeconds(1).toNanos();
        core.tick(interval - 1);
        assertEquals(Role.RECOVERING, core.role());
        assertTrue(of(core.takeActions(), Action.QuorumLost.class).isEmpty());
        core.tick(interval);
        List<Action> actions = core.takeActions();
        assertEquals(List.of(new Action.QuorumLost(1)), of(actions, Action.QuorumLost.class));
        assertEquals(Role.FOLLOWER, core.role());
    }

    @Test
    void recoveringLeaderWhoseMostUpToDateReplicaStopsAnsweringGivesUp() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.preload("b", 1, 1, 1, 1); // b holds the longest log: the new leader must fetch it from b
        c.elect("a", 2);
        c.settleDropping(m -> m instanceof Fetch || m instanceof FetchResponse); // b stops answering fetches
        assertEquals(Role.RECOVERING, c.node("a").core.role());
        c.cut("a", "b");
        c.node("a").actions.clear();
        for (int i = 0; i < 9; i++) {
            c.tick(1000); // its fetches are resent and lost
        }
        assertEquals(Role.RECOVERING, c.node("a").core.role(), "gave up before the check-quorum interval");
        c.tick(1000);
        c.tick(1000);
        assertEquals(List.of(new Action.QuorumLost(2)), c.actionsOf("a", Action.QuorumLost.class));
        assertFalse(c.node("a").core.role() == Role.RECOVERING, "still holds the term it cannot use");
    }
}
