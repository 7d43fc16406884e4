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
package dev.tenure.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.Append;
import dev.tenure.replicator.core.Message.AppendAck;
import dev.tenure.replicator.core.Message.EpochAck;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.storage.SegmentedLog;
import dev.tenure.replicator.testing.InMemoryNetwork;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.transport.Transport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sync's result can be handled after the log changed under it: a leader of epoch 5 whose sync finished, but
 * whose result waits while a leader of epoch 6 deposes it, truncates its entries and appends its own in their
 * place, must not take the old result for the new entries and acknowledge them before they are durable.
 */
@Timeout(60)
class ReplicaSyncRaceTest {
    private static final List<String> IDS = List.of("a", "b", "f");

    @TempDir
    Path dir;

    private final InMemoryNetwork network = new InMemoryNetwork();
    private final BlockingQueue<Message> toA = new LinkedBlockingQueue<>();
    private final BlockingQueue<Message> toB = new LinkedBlockingQueue<>();
    private final BlockingQueue<Synced> syncsDone = new LinkedBlockingQueue<>();
    private final Semaphore syncResults = new Semaphore(0);
    private SegmentedLog log;
    private Replica follower;

    @AfterEach
    void stop() throws Exception {
        syncResults.release(1000);
        if (follower != null) {
            follower.close();
        }
        if (log != null) {
            log.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static <T extends Message> T await(BlockingQueue<Message> q, Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Message m = q.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(m)) {
                return type.cast(m);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " within 10 s");
    }

    @Test
    void aSyncResultOverTakenByATruncationIsNotTakenForTheNewEntries() throws Exception {
        log = SegmentedLog.open(dir.resolve("log"), LogConfig.defaults());
        // The sync finishes at once; handing its result back waits for a permit, as a slow thread would.
        Replica.LogSyncer syncer = () -> {
            Synced s = log.syncWithEpoch();
            syncsDone.add(s);
            syncResults.acquire();
            return s;
        };
        Transport a = network.transport("a");
        a.start(toA::add);
        Transport b = network.transport("b");
        b.start(toB::add);
        ManualLeadership leadership = new ManualLeadership();
        follower = Replica.builder()
                .config(CoreConfig.builder("f", IDS).build())
                .log(log, syncer, false)
                .promises(new InMemoryPromiseStore())
                .transport(network.transport("f"))
                .leadership(leadership)
                .stateMachine(new KeyValueMachine())
                .proposalTimeout(Duration.ofSeconds(5))
                .build();
        follower.start();

        // f leads epoch 5 (a promises it): its epoch-start entry is synced on the sync thread, whose result is
        // held back.
        leadership.elect(5);
        await(toA, NewEpoch.class);
        a.send(new EpochAck("a", "f", 5, EpochHistory.empty(), 0));
        Synced first = syncsDone.poll(10, TimeUnit.SECONDS);
        assertEquals(new Synced(1, 5), first);

        // Epoch 6 (leader b) deposes f and replaces its log with b's entries before that result is handled.
        b.send(new NewEpoch("b", "f", 6));
        b.send(new Append(
                "b",
                "f",
                6,
                -1,
                0,
                List.of(Entry.epochStart(6, 0), Entry.data(6, 1, bytes("p")), Entry.data(6, 2, bytes("q"))),
                0,
                1));
        // The event thread handles b's messages in order; a proposal (refused on a follower) marks the point.
        barrier();

        syncResults.release(); // the stale result (1, epoch 5) reaches the core
        Synced second = syncsDone.poll(10, TimeUnit.SECONDS); // the next sync started after it
        assertEquals(new Synced(3, 6), second, "b's entries replaced f's before it");
        barrier(); // every action of the stale result has been carried out
        for (Message m : toB) {
            if (m instanceof AppendAck ack) {
                assertEquals(0, ack.matchOffset(), "acknowledged " + ack + " while none of b's entries was durable");
            }
        }

        syncResults.release(); // the current result (3, epoch 6)
        AppendAck ack;
        do {
            ack = await(toB, AppendAck.class);
        } while (ack.matchOffset() < 3);
        assertEquals(6, ack.epoch());
    }

    /** Waits until the follower's event thread has handled everything posted before (FIFO). */
    private void barrier() throws Exception {
        ExecutionException e = assertThrows(
                ExecutionException.class, () -> follower.propose(bytes("probe")).get(10, TimeUnit.SECONDS));
        assertInstanceOf(ReplicationException.class, e.getCause());
    }
}
