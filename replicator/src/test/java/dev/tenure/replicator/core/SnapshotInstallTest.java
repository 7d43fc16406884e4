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

import static dev.tenure.replicator.core.ScriptedCluster.Outcome.COMMITTED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message.FetchSnapshot;
import dev.tenure.replicator.core.Message.InstallSnapshot;
import dev.tenure.replicator.core.Message.SnapshotChunk;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Snapshots, compaction and installs in the core, scripted message by message (docs/replication.md, "Snapshots").
 * Chunks are small (64 bytes) so that an install takes several.
 */
class SnapshotInstallTest {
    private static final long CHUNK = 64;

    /** a leads epoch 1 with b; c is cut off while {@code n} entries commit; a then snapshots with no tail. */
    private static ScriptedCluster laggingFollower(int n, long tail) {
        return laggingFollower(ScriptedCluster.withSnapshots(tail, CHUNK, "a", "b", "c"), n);
    }

    private static ScriptedCluster laggingFollower(ScriptedCluster c, int n) {
        c.elect("a", 1);
        c.settle();
        c.isolate("c");
        for (int i = 0; i < n; i++) {
            c.propose("a", "m" + i);
        }
        c.settle();
        return c;
    }

    private static void assertSameState(ScriptedCluster c, String... ids) {
        for (String id : ids) {
            assertEquals(c.node(ids[0]).applied, c.node(id).applied, "state of " + id);
        }
    }

    @Test
    void followerBehindTheLogStartCatchesUpByInstallThenByAppends() {
        ScriptedCluster c = laggingFollower(20, 0);
        SnapshotMeta snap = c.node("a").snapshot();
        assertEquals(21, snap.id().offset(), "epoch start + 20 entries applied");
        assertTrue(c.node("a").log.logStartOffset() == 21, "no tail: everything below the snapshot is deleted");
        c.healAll();
        c.tick(200);
        long m = c.propose("a", "after");
        c.settle();
        c.tick(200); // the commit offset reaches the followers
        assertEquals(COMMITTED, c.outcomes.get(m));
        assertEquals(1, c.actionsOf("c", Action.RestoreSnapshot.class).size(), "c installed one snapshot");
        assertEquals(21, c.node("c").log.logStartOffset(), "c's log starts at the snapshot");
        assertEquals(c.node("a").entries(), c.node("c").entries());
        assertEquals(c.node("a").core.commitOffset(), c.node("c").core.commitOffset());
        assertSameState(c, "a", "b", "c");
    }

    @Test
    void compactionKeepsTheCatchUpTailSoAFollowerWithinItCatchesUpFromTheLog() {
        ScriptedCluster c = laggingFollower(6, 10);
        c.node("a").snapshot();
        assertEquals(0, c.node("a").log.logStartOffset(), "the tail of 10 entries covers the whole log of 7");
        c.healAll();
        c.tick(200);
        c.settle();
        assertTrue(
                c.actionsOf("a", Action.Send.class).stream().noneMatch(s -> s.message() instanceof InstallSnapshot),
                "no snapshot sent to a follower within the tail");
        assertEquals(c.node("a").entries().subList(0, 7), c.node("c").entries().subList(0, 7));
        assertSameState(c, "a", "b", "c");
    }

    @Test
    void compactionNeverPassesTheOldestSnapshotKept() {
        ScriptedCluster c = laggingFollower(10, 0);
        SnapshotMeta first = c.node("a").snapshot();
        for (int i = 0; i < 10; i++) {
            c.propose("a", "n" + i);
        }
        c.settle();
        c.node("a").snapshot();
        assertEquals(
                first.id().offset(),
                c.node("a").log.logStartOffset(),
                "the log keeps everything from the older snapshot, its fallback");
    }

    @Test
    void chunksOfAnotherEpochAtAnotherPositionOrFailingTheirCrcAreRefused() {
        ScriptedCluster c = laggingFollower(20, 0);
        c.node("a").snapshot();
        c.healAll();
        c.tickOnly(200); // a offers
        c.deliverAll(InstallSnapshot.class); // c asks for the first chunk
        // Stop at c's first request: take the chunk a sends for it, and tamper with copies.
        c.deliverAll(FetchSnapshot.class);
        List<Message> chunks = c.hold(m -> m instanceof SnapshotChunk);
        SnapshotChunk chunk = (SnapshotChunk) chunks.get(0);
        assertEquals(0, chunk.position());

        c.deliver(new SnapshotChunk(
                chunk.from(),
                chunk.to(),
                chunk.epoch() - 1,
                chunk.snapshot(),
                0,
                chunk.sizeBytes(),
                chunk.data(),
                chunk.crc()));
        assertEquals(0, c.node("c").core.installing().orElseThrow().receivedBytes(), "older epoch refused");

        c.deliver(new SnapshotChunk(
                chunk.from(),
                chunk.to(),
                chunk.epoch(),
                chunk.snapshot(),
                CHUNK,
                chunk.sizeBytes(),
                chunk.data(),
                chunk.crc()));
        assertEquals(0, c.node("c").core.installing().orElseThrow().receivedBytes(), "wrong position refused");

        byte[] flipped = chunk.data().clone();
        flipped[3] ^= 1;
        c.deliver(new SnapshotChunk(
                chunk.from(), chunk.to(), chunk.epoch(), chunk.snapshot(), 0, chunk.sizeBytes(), flipped, chunk.crc()));
        assertEquals(0, c.node("c").core.installing().orElseThrow().receivedBytes(), "bad CRC refused");

        c.deliver(new SnapshotChunk(
                chunk.from(),
                chunk.to(),
                chunk.epoch(),
                new SnapshotId(chunk.snapshot().offset() - 1, 1),
                0,
                chunk.sizeBytes(),
                chunk.data(),
                chunk.crc()));
        assertEquals(0, c.node("c").core.installing().orElseThrow().receivedBytes(), "another snapshot refused");
        assertTrue(c.actionsOf("c", Action.RestoreSnapshot.class).isEmpty());

        c.deliver(chunk);
        assertEquals(CHUNK, c.node("c").core.installing().orElseThrow().receivedBytes(), "the real chunk is taken");
        chunks.subList(1, chunks.size()).forEach(c::deliver);
        c.settle();
        assertEquals(1, c.actionsOf("c", Action.RestoreSnapshot.class).size());
        assertSameState(c, "a", "c");
    }

    @Test
    void leaderChangeMidInstallRestartsTheInstallUnderTheNewEpoch() {
        // One chunk request at a time, so that the install is stopped after its first chunk.
        ScriptedCluster c = laggingFollower(ScriptedCluster.withSnapshots(0, CHUNK, 1, "a", "b", "c"), 20);
        c.node("a").snapshot();
        c.node("b").snapshot();
        c.healAll();
        c.tickOnly(200);
        c.deliverAll(InstallSnapshot.class);
        c.deliverAll(FetchSnapshot.class);
        c.deliverAll(SnapshotChunk.class); // one chunk in
        assertTrue(c.node("c").core.installing().orElseThrow().receivedBytes() > 0);
        List<Message> late = c.hold(m -> true); // a's answers in flight when the leader changes
        c.resign("a");
        c.elect("b", 2);
        c.deliverAll(Message.NewEpoch.class);
        assertTrue(c.node("c").core.installing().isEmpty(), "promising epoch 2 aborted epoch 1's install");
        c.settle();
        for (Message m : late) {
            c.deliver(m); // epoch 1's chunks and requests, too late: refused
        }
        c.tick(200);
        c.settle();
        List<Action.RestoreSnapshot> restores = c.actionsOf("c", Action.RestoreSnapshot.class);
        assertEquals(1, restores.size(), "one install, completed under epoch 2");
        assertEquals(2, c.node("c").core.epoch());
        assertTrue(
                c.actionsOf("c", Action.Send.class).stream()
                        .map(Action.Send::message)
                        .filter(m -> m instanceof FetchSnapshot && m.to().equals("b"))
                        .allMatch(m -> m.epoch() == 2),
                "every request to the new leader carries its epoch");
        long m = c.propose("b", "after");
        c.settle();
        c.tick(200);
        assertEquals(COMMITTED, c.outcomes.get(m));
        assertSameState(c, "b", "c");
    }

    @Test
    void anInstallKeepsTheConfiguredNumberOfChunkRequestsInFlight() {
        ScriptedCluster c = laggingFollower(ScriptedCluster.withSnapshots(0, CHUNK, 3, "a", "b", "c"), 40);
        SnapshotMeta snap = c.node("a").snapshot();
        assertTrue(snap.sizeBytes() > 4 * CHUNK, "the snapshot takes more than 4 chunks: " + snap.sizeBytes());
        c.healAll();
        c.tickOnly(200);
        c.deliverAll(InstallSnapshot.class);
        List<Message> requests = c.hold(m -> m instanceof FetchSnapshot);
        assertEquals(
                List.of(0L, CHUNK, 2 * CHUNK),
                requests.stream().map(m -> ((FetchSnapshot) m).position()).toList(),
                "three consecutive chunks asked for at once");
        requests.forEach(c::deliver);
        List<Message> answers = c.hold(m -> m instanceof SnapshotChunk);
        assertEquals(3, answers.size());
        c.deliver(answers.get(0));
        List<Message> next = c.hold(m -> m instanceof FetchSnapshot);
        assertEquals(
                List.of(3 * CHUNK),
                next.stream().map(m -> ((FetchSnapshot) m).position()).toList(),
                "each chunk taken asks for one more");
        answers.subList(1, 3).forEach(c::deliver);
        next.forEach(c::deliver);
        c.settle();
        assertEquals(1, c.actionsOf("c", Action.RestoreSnapshot.class).size());
        assertSameState(c, "a", "c");
    }

    @Test
    void aSourceServingSmallerChunksThanAskedForStillCompletesTheInstall() {
        ScriptedCluster c = ScriptedCluster.withSnapshots(0, CHUNK, 4, "a", "b", "c");
        c.maxBatchBytesOf.put("a", CHUNK / 3); // a serves at most 21 bytes whatever c asks for
        c.restart("a");
        laggingFollower(c, 30);
        c.node("a").snapshot();
        c.healAll();
        c.tick(200);
        c.settle();
        for (int i = 0; i < 200 && c.node("c").core.installing().isPresent(); i++) {
            c.tick(200); // requests that did not line up with the smaller chunks are asked again
            c.settle();
        }
        assertEquals(1, c.actionsOf("c", Action.RestoreSnapshot.class).size(), "the install completed");
        assertTrue(
                c.actionsOf("a", Action.Send.class).stream()
                        .map(Action.Send::message)
                        .filter(m -> m instanceof SnapshotChunk)
                        .allMatch(m -> ((SnapshotChunk) m).data().length <= CHUNK / 3),
                "a never sent more than its own chunk size");
        assertSameState(c, "a", "c");
    }

    @Test
    void divergenceBelowTheLogStartMakesTheFollowerTakeTheSnapshot() {
        ScriptedCluster c = ScriptedCluster.withSnapshots(0, CHUNK, "a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "m1");
        c.settle();
        c.isolate("a");
        c.propose("a", "x1"); // uncommitted, on a only
        c.propose("a", "x2");
        c.settle();
        c.resign("a");
        c.elect("b", 2);
        c.settle();
        for (int i = 0; i < 10; i++) {
            c.propose("b", "n" + i);
        }
        c.settle();
        c.node("b").snapshot();
        assertTrue(c.node("b").log.logStartOffset() > 3, "b compacted past a's divergent entries");
        c.healAll();
        c.tick(200);
        c.settle();
        assertEquals(1, c.actionsOf("a", Action.RestoreSnapshot.class).size(), "a took b's snapshot");
        assertEquals(c.node("b").entries(), c.node("a").entries(), "a's divergent entries are gone");
        assertTrue(c.node("a").applied.stream().noneMatch(e -> e.endsWith(":x1") || e.endsWith(":x2")));
        assertSameState(c, "a", "b");
    }

    @Test
    void recoveringLeaderWhoseMostUpToDateReplicaStartsAfterItsLogInstallsFromIt() {
        ScriptedCluster c = laggingFollower(20, 0);
        c.node("b").snapshot(); // b, as up to date as a, compacted everything
        c.processCrash("a");
        c.healAll();
        c.elect("c", 2); // c's log ends long before b's log starts
        c.settle();
        c.tick(200);
        assertEquals(Role.LEADER, c.node("c").core.role());
        assertEquals(1, c.actionsOf("c", Action.RestoreSnapshot.class).size(), "c installed b's snapshot");
        long m = c.propose("c", "after");
        c.settle();
        c.tick(200); // the commit offset reaches b
        assertEquals(COMMITTED, c.outcomes.get(m));
        assertEquals(c.node("b").entries(), c.node("c").entries());
        assertSameState(c, "b", "c");
    }

    @Test
    void restartLoadsTheSnapshotAndReplaysOnlyTheTail() {
        ScriptedCluster c = laggingFollower(20, 0);
        c.healAll();
        c.tick(200); // c catches up from the log
        c.node("c").snapshot();
        List<String> before = List.copyOf(c.node("c").applied);
        c.processCrash("c");
        c.restart("c");
        assertEquals(21, c.node("c").core.commitOffset(), "the snapshot's entries are committed");
        assertEquals(21, c.node("c").core.applyOffset());
        assertEquals(before, c.node("c").applied, "restored from the snapshot, not replayed");
        long m = c.propose("a", "after");
        c.settle();
        c.tick(200);
        assertEquals(COMMITTED, c.outcomes.get(m));
        assertSameState(c, "a", "c");
    }

    @Test
    void logEndingBeforeItsSnapshotIsResetToStartAtIt() {
        // A crash after an installed snapshot was renamed into place, before the log was reset.
        ScriptedCluster c = laggingFollower(20, 0);
        SnapshotMeta snap = c.node("a").snapshot();
        ScriptedCluster.Node n = c.node("c");
        try {
            n.snapshots.write(
                    snap.id(),
                    snap.history(),
                    snap.members(),
                    out -> out.write(c.node("a").snapshots.openState(snap.id()).readAllBytes()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        c.processCrash("c");
        c.restart("c");
        assertEquals(snap.id().offset(), n.log.logStartOffset());
        assertEquals(snap.id().offset(), n.log.logEndOffset());
        assertEquals(snap.history(), n.log.epochHistory());
    }

    @Test
    void logStartingAfterTheNewestSnapshotRefusesToStart() {
        ScriptedCluster c = laggingFollower(20, 0);
        c.node("a").snapshot();
        ScriptedCluster.Node a = c.node("a");
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> new ReplicaCore(
                        CoreConfig.builder("a", List.of("a", "b", "c")).build(),
                        a.log,
                        a.promises,
                        SnapshotStore.NONE,
                        0));
        assertTrue(e.getMessage().contains("entries between them are gone"), e.getMessage());
    }

    @Test
    void fetchOfASnapshotNoLongerKeptIsAnsweredWithAnOfferOfTheNewest() {
        ScriptedCluster c = laggingFollower(10, 0);
        SnapshotMeta first = c.node("a").snapshot();
        c.propose("a", "more");
        c.settle();
        c.node("a").snapshot();
        c.propose("a", "again");
        c.settle();
        SnapshotMeta newest = c.node("a").snapshot(); // the first is no longer kept
        c.node("a").core.takeActions();
        c.node("a").core.receive(new FetchSnapshot("c", "a", 1, first.id(), 0, 64), 0);
        List<Action> out = c.node("a").core.takeActions();
        assertTrue(out.stream().noneMatch(x -> x instanceof Action.Send s && s.message() instanceof SnapshotChunk));
        assertTrue(
                out.stream()
                        .anyMatch(x -> x instanceof Action.Send s
                                && s.message() instanceof InstallSnapshot o
                                && o.snapshot().equals(newest.id())),
                "an offer of the newest snapshot: " + out);
    }

    @Test
    void fetchSnapshotOfAnOlderEpochIsRefusedAndServesNothing() {
        ScriptedCluster c = laggingFollower(10, 0);
        SnapshotMeta snap = c.node("a").snapshot();
        c.node("a").core.takeActions();
        c.resign("a");
        c.elect("a", 3);
        c.node("a").core.takeActions();
        c.node("a").core.receive(new FetchSnapshot("c", "a", 1, snap.id(), 0, 64), 0);
        List<Action> out = c.node("a").core.takeActions();
        assertTrue(out.stream().noneMatch(x -> x instanceof Action.Send s && s.message() instanceof SnapshotChunk));
        assertTrue(out.stream()
                .anyMatch(x -> x instanceof Action.Send s
                        && s.message() instanceof Message.Rejected r
                        && r.rejectedEpoch() == 1));
    }
}
