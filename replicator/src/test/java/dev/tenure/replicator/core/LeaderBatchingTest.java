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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The leader's fast path (issue 6): proposals taken together share one append, one sync and the same append
 * messages; followers answer new entries once, when durable; and the bytes a leader leaves unacknowledged per
 * follower are bounded, so a transport never has to drop appends of large entries.
 */
class LeaderBatchingTest {
    private static final List<String> IDS = List.of("a", "b", "c");

    /** Three cores wired by hand: messages are delivered only when the test says. */
    private static final class Trio {
        final Map<String, ReplicaCore> cores = new LinkedHashMap<>();
        final Map<String, InMemoryReplicaLog> logs = new LinkedHashMap<>();
        final List<Message> wire = new ArrayList<>();
        long now;

        Trio(CoreConfig.Builder tuning) {
            for (String id : IDS) {
                InMemoryReplicaLog log = new InMemoryReplicaLog();
                logs.put(id, log);
                CoreConfig cfg = tuning.build();
                cores.put(
                        id,
                        new ReplicaCore(
                                new CoreConfig(
                                        id,
                                        IDS,
                                        cfg.maxBatchEntries(),
                                        cfg.maxBatchBytes(),
                                        cfg.maxInflightBatches(),
                                        cfg.maxPendingProposals(),
                                        cfg.retryNanos(),
                                        cfg.heartbeatNanos(),
                                        cfg.checkQuorumNanos(),
                                        cfg.catchUpTailEntries(),
                                        cfg.snapshotChunksInFlight(),
                                        cfg.quiesce()),
                                log,
                                new InMemoryPromiseStore(),
                                0));
            }
        }

        /** Runs a node's actions: sends go on the wire, syncs happen at once; returns them. */
        List<Action> run(String id) {
            List<Action> actions = new ArrayList<>(cores.get(id).takeActions());
            boolean sync = false;
            for (Action a : actions) {
                if (a instanceof Action.Send s) {
                    wire.add(s.message());
                } else if (a instanceof Action.SyncLog) {
                    sync = true;
                }
            }
            if (sync) {
                long end = logs.get(id).sync();
                cores.get(id).logSynced(end, logs.get(id).epochAt(end - 1), now);
                actions.addAll(run(id));
            }
            return actions;
        }

        /** Delivers everything on the wire, and what that causes, until nothing moves. */
        void settle() {
            for (String id : IDS) {
                run(id);
            }
            while (!wire.isEmpty()) {
                Message m = wire.remove(0);
                cores.get(m.to()).receive(m, now);
                run(m.to());
            }
        }
    }

    private static List<ReplicaCore.Proposal> proposals(int n, int bytes) {
        List<ReplicaCore.Proposal> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] p = new byte[bytes];
            p[0] = (byte) i;
            list.add(new ReplicaCore.Proposal(1000 + i, p));
        }
        return list;
    }

    private static List<Message.Append> appendsTo(List<Message> wire, String to) {
        return wire.stream()
                .filter(m -> m instanceof Message.Append a
                        && a.to().equals(to)
                        && !a.entries().isEmpty())
                .map(m -> (Message.Append) m)
                .toList();
    }

    @Test
    void proposalsTakenTogetherShareOneSyncAndTheSameAppendMessages() {
        Trio t = new Trio(CoreConfig.builder("a", IDS));
        t.cores.get("a").becomeLeader(1, 0);
        t.settle();
        long end = t.logs.get("a").logEndOffset();

        t.cores.get("a").proposeAll(proposals(3, 10), 0);
        List<Action> actions = t.cores.get("a").takeActions();

        assertEquals(
                1, actions.stream().filter(a -> a instanceof Action.SyncLog).count(), actions.toString());
        List<Message> sent = actions.stream()
                .filter(a -> a instanceof Action.Send)
                .map(a -> ((Action.Send) a).message())
                .toList();
        for (String follower : List.of("b", "c")) {
            List<Message.Append> appends = appendsTo(sent, follower);
            assertEquals(1, appends.size(), "one message carries the batch to " + follower + ": " + sent);
            assertEquals(
                    List.of(end, end + 1, end + 2),
                    appends.get(0).entries().stream().map(Entry::offset).toList());
        }
        assertEquals(end + 3, t.logs.get("a").logEndOffset());
    }

    @Test
    void aFollowerAnswersNewEntriesOnceWhenDurableAndHeartbeatsAtOnce() {
        Trio t = new Trio(CoreConfig.builder("a", IDS));
        t.cores.get("a").becomeLeader(1, 0);
        t.settle();
        t.cores.get("a").proposeAll(proposals(2, 10), 0);
        t.run("a");
        Message.Append toB = appendsTo(t.wire, "b").get(0);
        t.wire.clear();

        ReplicaCore b = t.cores.get("b");
        b.receive(toB, 0);
        List<Action> beforeSync = b.takeActions();
        assertTrue(
                beforeSync.stream().noneMatch(a -> a instanceof Action.Send),
                "no answer before the entries are durable: " + beforeSync);
        long end = t.logs.get("b").sync();
        b.logSynced(end, t.logs.get("b").epochAt(end - 1), 0);
        List<Message> answers = b.takeActions().stream()
                .filter(a -> a instanceof Action.Send)
                .map(a -> ((Action.Send) a).message())
                .toList();
        assertEquals(1, answers.size(), answers.toString());
        assertEquals(end, ((Message.AppendAck) answers.get(0)).matchOffset());

        Message.Append heartbeat = new Message.Append(
                "a", "b", 1, end - 1, 1, List.of(), t.cores.get("a").commitOffset(), 5);
        b.receive(heartbeat, 0);
        List<Action> onHeartbeat = b.takeActions();
        assertEquals(
                1,
                onHeartbeat.stream().filter(a -> a instanceof Action.Send).count(),
                "an append without new entries is answered at once (it may be a read probe): " + onHeartbeat);
    }

    @Test
    void aLeaderLeavesAtMostTwoBatchesOfBytesUnacknowledgedPerFollower() {
        int payload = 1000;
        long batchBytes = 4 * (payload + 32L); // four entries per message
        Trio t = new Trio(CoreConfig.builder("a", IDS).maxBatchBytes(batchBytes).maxInflightBatches(64));
        t.cores.get("a").becomeLeader(1, 0);
        t.settle();

        t.cores.get("a").proposeAll(proposals(40, payload), 0);
        t.run("a");

        for (String follower : List.of("b", "c")) {
            List<Message.Append> appends = appendsTo(t.wire, follower);
            long bytes = appends.stream()
                    .flatMap(a -> a.entries().stream())
                    .mapToLong(Entry::sizeInBytes)
                    .sum();
            assertEquals(2, appends.size(), "two batches, although 64 messages may be in flight: " + appends);
            assertTrue(bytes <= ReplicaCore.INFLIGHT_BATCHES_OF_BYTES * batchBytes, "bytes in flight " + bytes);
        }

        t.settle(); // acknowledgements release the budget: everything gets through
        for (String id : IDS) {
            assertEquals(t.logs.get("a").logEndOffset(), t.logs.get(id).logEndOffset(), "log end of " + id);
        }
        assertEquals(t.logs.get("a").logEndOffset(), t.cores.get("a").commitOffset());
    }
}
