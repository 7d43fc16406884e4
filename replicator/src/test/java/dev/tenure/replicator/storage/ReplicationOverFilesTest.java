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
package dev.tenure.replicator.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Action;
import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.core.ReplicaCore;
import dev.tenure.replicator.core.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replication core over the file log and the file promise store: three replicas driven in one thread,
 * every message delivered, every sync request served at once. What the leader committed must be on every
 * replica's disk, identical, after the logs are closed and opened again.
 */
class ReplicationOverFilesTest {
    private static final List<String> IDS = List.of("a", "b", "c");

    @TempDir
    Path root;

    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<Message> inflight = new ArrayList<>();
    private final Set<Long> committed = new HashSet<>();
    private final Set<Long> failed = new HashSet<>();
    private long now;

    private final class Node {
        final String id;
        final SegmentedLog log;
        final FilePromiseStore promises;
        final ReplicaCore core;

        Node(String id) throws IOException {
            this.id = id;
            Path dir = Files.createDirectories(root.resolve(id));
            // Small segments, so replication crosses segment rolls.
            this.log = SegmentedLog.open(
                    dir.resolve("log"),
                    LogConfig.builder().maxSegmentBytes(1024).build());
            this.promises = new FilePromiseStore(dir.resolve("promise"));
            this.core = new ReplicaCore(
                    CoreConfig.builder(id, IDS).maxBatchEntries(7).build(), log, promises, now);
        }

        List<Entry> entries() {
            return log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE);
        }
    }

    @AfterEach
    void closeLogs() throws IOException {
        for (Node n : nodes.values()) {
            n.log.close();
        }
    }

    private void startAll() throws IOException {
        for (String id : IDS) {
            nodes.put(id, new Node(id));
        }
    }

    private void restartAll() throws IOException {
        for (Node n : nodes.values()) {
            n.log.close();
        }
        nodes.clear();
        inflight.clear();
        startAll();
    }

    /** Executes a node's actions: messages go in flight, sync requests are served at once. */
    private void drain(Node n) {
        for (Action a : n.core.takeActions()) {
            if (a instanceof Action.Send s) {
                inflight.add(s.message());
            } else if (a instanceof Action.SyncLog) {
                long end;
                try {
                    end = n.log.sync();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                n.core.logSynced(end, end == 0 ? 0 : n.log.epochAt(end - 1), now);
                drain(n);
            } else if (a instanceof Action.ProposalCommitted pc) {
                committed.add(pc.proposalId());
            } else if (a instanceof Action.ProposalFailed pf) {
                failed.add(pf.proposalId());
            }
        }
    }

    /** Delivers messages until none is in flight. */
    private void settle() {
        for (int round = 0; round < 10_000 && !inflight.isEmpty(); round++) {
            List<Message> batch = new ArrayList<>(inflight);
            inflight.clear();
            for (Message m : batch) {
                Node to = nodes.get(m.to());
                to.core.receive(m, now);
                drain(to);
            }
        }
        assertTrue(inflight.isEmpty(), "the cluster did not settle");
    }

    private void elect(String id, long epoch) {
        Node n = nodes.get(id);
        n.core.becomeLeader(epoch, now);
        drain(n);
        settle();
        assertEquals(Role.LEADER, n.core.role(), n.core.toString());
    }

    private void propose(String id, long from, int count) {
        Node leader = nodes.get(id);
        for (long p = from; p < from + count; p++) {
            leader.core.propose(p, ("payload " + p).getBytes(StandardCharsets.UTF_8), now);
            drain(leader);
            if (p % 10 == 0) {
                settle(); // let some proposals accumulate into batches, deliver others one by one
            }
        }
        settle();
        // A heartbeat carries the final commit offset to the followers.
        now += 1_000_000_000L;
        leader.core.tick(now);
        drain(leader);
        settle();
    }

    private void assertAllLogsEqual(String leaderId) {
        Node leader = nodes.get(leaderId);
        List<Entry> expected = leader.entries();
        for (Node n : nodes.values()) {
            assertEquals(expected, n.entries(), "log of " + n.id);
            assertEquals(leader.log.epochHistory(), n.log.epochHistory(), "epoch history of " + n.id);
        }
    }

    @Test
    void everyCommittedEntryIsOnEveryReplicasDiskAfterReopening() throws IOException {
        startAll();
        elect("a", 1);
        propose("a", 0, 100);

        assertEquals(100, committed.size(), "committed: " + committed.size() + ", failed: " + failed);
        Node leader = nodes.get("a");
        assertEquals(101, leader.log.logEndOffset(), "an epoch-start entry and 100 data entries");
        assertEquals(101, leader.core.commitOffset());
        for (Node n : nodes.values()) {
            assertEquals(101, n.core.commitOffset(), "commit offset of " + n.id);
        }
        try (Stream<Path> files = Files.list(root.resolve("a/log"))) {
            assertTrue(files.filter(p -> p.toString().endsWith(".log")).count() > 3, "segments rolled");
        }
        assertAllLogsEqual("a");

        restartAll();
        assertAllLogsEqual("a");
        for (Node n : nodes.values()) {
            assertEquals(101, n.log.logEndOffset());
            assertEquals(new Promise(1, "a"), n.promises.load(), "promise of " + n.id);
        }
        List<Entry> data = nodes.get("b").entries().subList(1, 101);
        for (int i = 0; i < 100; i++) {
            assertEquals("payload " + i, new String(data.get(i).payload(), StandardCharsets.UTF_8));
        }

        // The reopened replicas go on: a new leader recovers from the logs on disk and commits more.
        elect("b", 2);
        propose("b", 100, 20);
        assertEquals(120, committed.size());
        assertEquals(122, nodes.get("b").core.commitOffset());
        restartAll();
        assertAllLogsEqual("b");
        assertEquals(122, nodes.get("c").log.logEndOffset());
        assertEquals(2, nodes.get("c").log.epochHistory().lastEpoch());
    }
}
