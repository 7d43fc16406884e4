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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import java.io.IOException;
import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint's {@code FORCED} records against a partition's truncation, reset or deletion running at the same
 * moment, each interleaving driven step by step with gates on the forces (no timing): the checkpointer is held while
 * it forces one partition's files, the writer while it forces the record of the change, and the checkpointer is
 * released into its {@code FORCED} records exactly while the change waits for its record. Whatever the order, a
 * {@code FORCED} record never states an end the partition's files lose by a change recorded before it, so a node
 * whose change records a later checkpoint deleted still restarts.
 */
class WriteAheadLogCheckpointRaceTest {
    private static final long SEGMENT_BYTES = 1024;
    /** An {@code APPEND} record of one entry of a two-character partition, less the payload. */
    private static final int ONE_ENTRY_APPEND_BYTES = 38;

    @TempDir
    Path dir;

    private WriteAheadLog.Builder builder() {
        return WriteAheadLog.builder(dir.resolve("wal"), this::partitionDir);
    }

    private Path partitionDir(String id) {
        return dir.resolve("partitions").resolve(id);
    }

    /** A {@link FileSync} that forces for real and holds each force matching an armed gate until it is opened. */
    private static final class Gates implements FileSync {
        private final List<Gate> armed = new ArrayList<>();

        /** Holds the first force from now on of a file that {@code matches} (once earlier gates let theirs by). */
        Gate arm(String name, Predicate<Path> matches) {
            return arm(name, matches, 0);
        }

        /** As above, letting the first {@code passes} matching forces by. */
        Gate arm(String name, Predicate<Path> matches, int passes) {
            Gate g = new Gate(name, matches, passes);
            synchronized (armed) {
                armed.add(g);
            }
            return g;
        }

        @Override
        public void force(FileChannel channel, Path file, boolean metadata) throws IOException {
            Gate hit = null;
            synchronized (armed) {
                for (int i = 0; i < armed.size(); i++) {
                    Gate g = armed.get(i);
                    if (g.matches.test(file)) {
                        if (g.passes > 0) {
                            g.passes--;
                        } else {
                            hit = armed.remove(i);
                        }
                        break;
                    }
                }
            }
            if (hit != null) {
                hit.hold();
            }
            FORCE.force(channel, file, metadata);
        }

        @Override
        public void forceDirectory(Path d) throws IOException {
            FORCE.forceDirectory(d);
        }
    }

    private static final class Gate {
        final String name;
        final Predicate<Path> matches;
        /** Matching forces still to let by; under the list of armed gates. */
        int passes;

        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch open = new CountDownLatch(1);

        Gate(String name, Predicate<Path> matches, int passes) {
            this.name = name;
            this.matches = matches;
            this.passes = passes;
        }

        void hold() throws IOException {
            entered.countDown();
            try {
                if (!open.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("gate " + name + " never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }

        void awaitHeld() throws InterruptedException {
            assertTrue(entered.await(30, TimeUnit.SECONDS), "no force reached gate " + name);
        }

        void open() {
            open.countDown();
        }
    }

    private static boolean isWalSegment(Path p) {
        return p.getFileName().toString().endsWith(".wal");
    }

    private Predicate<Path> segmentOf(String partition) {
        Path pdir = partitionDir(partition).toAbsolutePath();
        return p -> p.toAbsolutePath().startsWith(pdir)
                && p.getFileName().toString().endsWith(".log");
    }

    private static Entry entry(long offset, int payloadBytes) {
        return Entry.data(1, offset, new byte[payloadBytes]);
    }

    /** The size of the segment the writer writes to (the newest). */
    private long currentSegmentSize() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("wal"))) {
            Path last = files.filter(WriteAheadLogCheckpointRaceTest::isWalSegment)
                    .sorted()
                    .reduce((a, b) -> b)
                    .orElseThrow();
            return Files.size(last);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(1); // polling a condition
        }
    }

    private Thread checkpointer() {
        String name = "tenure-wal-checkpoint " + dir.getFileName() + "/wal";
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no thread " + name));
    }

    /** Whether {@code thread} waits to enter the monitor of a partition log ({@code log}, or any if null). */
    private static boolean blockedOnPartitionLog(Thread thread, WriteAheadLog.PartitionLog log) {
        ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(thread.getId());
        if (info == null || info.getThreadState() != Thread.State.BLOCKED) {
            return false;
        }
        LockInfo lock = info.getLockInfo();
        return lock != null
                && lock.getClassName().equals(WriteAheadLog.PartitionLog.class.getName())
                && (log == null || lock.getIdentityHashCode() == System.identityHashCode(log));
    }

    /**
     * Partition p0 holds 10 entries its files were forced with at a checkpoint (so its last {@code FORCED} end is
     * 10); then a second checkpoint is held while it forces p1's files. Returns the gate holding it.
     */
    private Gate tenForcedEntriesAndACheckpointHeld(
            Gates gates, WriteAheadLog wal, WriteAheadLog.PartitionLog p0, WriteAheadLog.PartitionLog p1)
            throws Exception {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            entries.add(entry(i, 100));
        }
        p0.append(entries); // more than a segment: the writer starts the next one and a checkpoint forces p0
        p0.sync();
        await("the first checkpoint is done", () -> wal.stats().checkpoints() == 1);
        Gate held = gates.arm("checkpoint 2 forcing p1's files", segmentOf("p1"));
        p1.append(List.of(entry(0, (int) (SEGMENT_BYTES - currentSegmentSize()))));
        p1.sync(); // fills the segment: the next one starts, and a checkpoint of p1 alone
        held.awaitHeld();
        return held;
    }

    /** Pads the current segment so that a record of {@code recordBytes} fills it: the writer starts the next. */
    private void padSoThatTheNextRecordFillsTheSegment(WriteAheadLog.PartitionLog p1, int recordBytes)
            throws Exception {
        long used = currentSegmentSize();
        long pad = SEGMENT_BYTES - used - recordBytes; // the segment ends just short of full
        assertTrue(pad > ONE_ENTRY_APPEND_BYTES, "room for the padding: " + used);
        p1.append(List.of(entry(p1.logEndOffset(), (int) (pad - ONE_ENTRY_APPEND_BYTES))));
        p1.sync();
        assertEquals(SEGMENT_BYTES - recordBytes, currentSegmentSize());
    }

    /**
     * The race of the power-loss test's failure (seed 67022367675778): checkpoint 2 has noted p0's {@code FORCED}
     * end, 10, and is held forcing p1; p0 truncates to 5, which buffers its {@code TRUNCATE} record (ending a
     * segment) and waits for its force, holding p0's monitor. Released into its {@code FORCED} records then, the
     * checkpoint used to read the end of 10 that the truncation had not lowered yet, and its record followed the
     * {@code TRUNCATE} one, in the next segment. p0 then closes; checkpoint 3, whose {@code FORCED} records no longer
     * include p0, deletes the segment with the {@code TRUNCATE} record: the log said p0's files hold 10 entries, they
     * held 5, and the node refused to restart. Now the checkpoint waits for the truncation and records 5.
     */
    @Test
    void aCheckpointRacingATruncationNeverRecordsAForcedEndAboveTheTruncation() throws Exception {
        raceACheckpointWith("truncate 5", p0 -> p0.truncate(5), 21, 5, 0, 5);
    }

    /** As above for a reset (a snapshot install) to an offset below the end a checkpoint noted. */
    @Test
    void aCheckpointRacingAResetNeverRecordsAForcedEndTheResetRemoved() throws Exception {
        // A RESET record of p0 with one epoch start: 25 + 16 bytes.
        raceACheckpointWith("reset to 3", p0 -> p0.resetTo(3, p0.epochHistory().truncatedTo(3)), 41, 3, 3, 3);
    }

    @FunctionalInterface
    private interface Change {
        void apply(WriteAheadLog.PartitionLog p0) throws Exception;
    }

    private void raceACheckpointWith(
            String what, Change change, int recordBytes, long forcedAfter, long startAfter, long endAfter)
            throws Exception {
        Gates gates = new Gates();
        WriteAheadLog wal =
                builder().segmentBytes(SEGMENT_BYTES).fileSync(gates).open();
        WriteAheadLog.PartitionLog p0 = wal.openPartition("p0");
        WriteAheadLog.PartitionLog p1 = wal.openPartition("p1");
        Gate checkpoint2 = tenForcedEntriesAndACheckpointHeld(gates, wal, p0, p1);
        padSoThatTheNextRecordFillsTheSegment(p1, recordBytes);

        Gate changeForced = gates.arm("the writer forcing p0's " + what, WriteAheadLogCheckpointRaceTest::isWalSegment);
        List<Throwable> changeFailed = new ArrayList<>();
        Thread changing = new Thread(
                () -> {
                    try {
                        change.apply(p0);
                    } catch (Throwable t) {
                        synchronized (changeFailed) {
                            changeFailed.add(t);
                        }
                    }
                },
                "p0 " + what);
        changing.start();
        changeForced.awaitHeld(); // p0's record is written, the change waits for its force
        Gate checkpoint3 = gates.arm("checkpoint 3 forcing p1's files", segmentOf("p1"));
        long records = wal.stats().records();
        Thread checkpointer = checkpointer();
        checkpoint2.open();
        // Checkpoint 2 reaches its FORCED records: it either buffers both (p0's, p1's) or waits for p0's change.
        await(
                "checkpoint 2 buffers its FORCED records or waits for p0's " + what,
                () -> wal.stats().records() >= records + 2 || blockedOnPartitionLog(checkpointer, p0));
        changeForced.open();
        changing.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(changing.isAlive(), what + " never returned");
        assertEquals(List.of(), changeFailed);
        await("checkpoint 2 is done", () -> wal.stats().checkpoints() == 2);

        // Checkpoint 3 (of the segment holding p0's record) is held forcing p1 while p0 closes: it records no
        // FORCED end of p0, and deletes that segment.
        closeWhileCheckpointThreeIsHeld(checkpoint3, wal, p0, p1);

        List<String> records3 = WriteAheadLog.describe(dir.resolve("wal"), LogConfig.defaults());
        List<String> p0Records = recordsOf("p0", records3);
        // Checkpoint 2's record, then the one p0's close wrote.
        assertEquals(
                List.of("p0 forced " + forcedAfter, "p0 forced " + forcedAfter),
                p0Records,
                "the records left: " + records3);
        try (WriteAheadLog reopened = builder().open();
                WriteAheadLog.PartitionLog recovered = reopened.openPartition("p0")) {
            assertEquals(startAfter, recovered.logStartOffset());
            assertEquals(endAfter, recovered.logEndOffset());
            assertEquals(
                    endAfter - startAfter,
                    recovered.read(startAfter, 100, Long.MAX_VALUE).size());
        }
    }

    /**
     * A checkpoint's {@code FORCED} record may follow appends it does not cover: checkpoint 2 forced p0 at 10 (as
     * checkpoint 1 left it) and records 10 after p0's acknowledged append of entry 10, which ends a segment. Checkpoint
     * 3, of that segment, is held forcing p1 while p0 closes (its files forced with entry 10). Checkpoint 3 then
     * lists the open logs, without p0, and deletes the segment with p0's append: recovery used to find checkpoint 2's
     * record the last of p0 and cut its files at 10, losing the acknowledged entry (found by the power-loss test,
     * seed 17965356304356). Now p0's close records the end it forced, 11, and checkpoint 3 waits for that record.
     */
    @Test
    void aPartitionLogClosedWhileACheckpointRunsKeepsEveryAcknowledgedEntry() throws Exception {
        Gates gates = new Gates();
        WriteAheadLog wal =
                builder().segmentBytes(SEGMENT_BYTES).fileSync(gates).open();
        WriteAheadLog.PartitionLog p0 = wal.openPartition("p0");
        WriteAheadLog.PartitionLog p1 = wal.openPartition("p1");
        Gate checkpoint2 = tenForcedEntriesAndACheckpointHeld(gates, wal, p0, p1);
        p1.append(List.of(entry(1, 10))); // p1 is written in the segment of checkpoint 3 too
        p1.sync();
        p0.append(List.of(entry(10, (int) (SEGMENT_BYTES - currentSegmentSize()))));
        p0.sync(); // acknowledged; its record ends the segment: checkpoint 3 is queued
        Gate checkpoint3 = gates.arm("checkpoint 3 forcing p1's files", segmentOf("p1"));
        checkpoint2.open();
        await("checkpoint 2 is done", () -> wal.stats().checkpoints() == 2);
        closeWhileCheckpointThreeIsHeld(checkpoint3, wal, p0, p1);

        List<String> records = WriteAheadLog.describe(dir.resolve("wal"), LogConfig.defaults());
        List<String> p0Records = recordsOf("p0", records);
        assertEquals("p0 forced 11", p0Records.get(p0Records.size() - 1), "the records left: " + records);
        try (WriteAheadLog reopened = builder().open();
                WriteAheadLog.PartitionLog recovered = reopened.openPartition("p0")) {
            assertEquals(11, recovered.logEndOffset(), "the acknowledged entry 10 is kept; records: " + records);
            assertEquals(11, recovered.read(0, 100, Long.MAX_VALUE).size());
        }
    }

    /**
     * Checkpoint 2 is held forcing p1 while p0 is deleted: {@link WriteAheadLog#deletePartition} opens p0 again
     * (a {@code FORCED} record of its end, 10), buffers its {@code DELETED} record and waits for its force. Released
     * into its {@code FORCED} records then, the checkpoint used to buffer one for p0, after the {@code DELETED}
     * one: recovery then looked for the 10 entries in the deleted partition's directory and refused to start. Now
     * nothing of p0 follows its {@code DELETED} record, and p0 stays deleted.
     */
    @Test
    void aCheckpointRacingAPartitionDeletionNeverRecordsAForcedEndAfterTheDeletion() throws Exception {
        Gates gates = new Gates();
        WriteAheadLog wal =
                builder().segmentBytes(SEGMENT_BYTES).fileSync(gates).open();
        WriteAheadLog.PartitionLog p0 = wal.openPartition("p0");
        WriteAheadLog.PartitionLog p1 = wal.openPartition("p1");
        Gate checkpoint2 = tenForcedEntriesAndACheckpointHeld(gates, wal, p0, p1);
        p0.close();
        p1.append(List.of(entry(1, 10)));
        p1.sync(); // the FORCED record p0's close buffered came first: it is forced too

        // The deletion's first force (its open's FORCED record) passes; the second (its DELETED record) is held.
        Gate deletedForced =
                gates.arm("the writer forcing p0's DELETED record", WriteAheadLogCheckpointRaceTest::isWalSegment, 1);
        List<Throwable> deleteFailed = new ArrayList<>();
        Thread deleting = new Thread(
                () -> {
                    try {
                        wal.deletePartition("p0");
                    } catch (Throwable t) {
                        synchronized (deleteFailed) {
                            deleteFailed.add(t);
                        }
                    }
                },
                "delete p0");
        deleting.start();
        deletedForced.awaitHeld();
        long records = wal.stats().records();
        Thread checkpointer = checkpointer();
        checkpoint2.open();
        await(
                "checkpoint 2 buffers its FORCED records or waits for p0's deletion",
                () -> wal.stats().records() >= records + 2 || blockedOnPartitionLog(checkpointer, null));
        deletedForced.open();
        deleting.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(deleting.isAlive(), "the deletion never returned");
        assertEquals(List.of(), deleteFailed);
        await("checkpoint 2 is done", () -> wal.stats().checkpoints() == 2);
        p1.close();
        wal.close();

        List<String> records2 = WriteAheadLog.describe(dir.resolve("wal"), LogConfig.defaults());
        int deleted = -1;
        for (int i = 0; i < records2.size(); i++) {
            if (records2.get(i).endsWith(" p0 deleted")) {
                deleted = i;
            } else if (deleted >= 0) {
                assertFalse(records2.get(i).contains(" p0 "), "a record of p0 after its deletion: " + records2);
            }
        }
        assertTrue(deleted >= 0, "p0's DELETED record is kept: " + records2);
        try (WriteAheadLog reopened = builder().open()) {
            assertFalse(Files.exists(partitionDir("p0")), "a deleted partition stays deleted");
            try (WriteAheadLog.PartitionLog again = reopened.openPartition("p0")) {
                assertEquals(0, again.logEndOffset(), "a new, empty log");
            }
        }
    }

    /**
     * A checkpoint lists the open partition logs, then records a {@code FORCED} end for each: a log closed in
     * between (here p1, whose partition is then deleted through a new log) gets none. Its old end recorded after
     * the deletion would make recovery look for its entries in the deleted directory. The checkpoint is held
     * between the two steps on p0's monitor (which the test holds, as a truncation would).
     */
    @Test
    void aCheckpointRecordsNoForcedEndForAPartitionLogClosedSinceItListedIt() throws Exception {
        Gates gates = new Gates();
        WriteAheadLog wal =
                builder().segmentBytes(SEGMENT_BYTES).fileSync(gates).open();
        WriteAheadLog.PartitionLog p0 = wal.openPartition("p0");
        WriteAheadLog.PartitionLog p1 = wal.openPartition("p1");
        WriteAheadLog.PartitionLog p2 = wal.openPartition("p2");
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            entries.add(entry(i, 100));
        }
        p1.append(entries);
        p1.sync();
        await("the first checkpoint is done", () -> wal.stats().checkpoints() == 1); // p1's FORCED end is 10
        Gate checkpoint2 = gates.arm("checkpoint 2 forcing p2's files", segmentOf("p2"));
        p2.append(List.of(entry(0, (int) (SEGMENT_BYTES - currentSegmentSize()))));
        p2.sync();
        checkpoint2.awaitHeld();
        Thread checkpointer = checkpointer();
        synchronized (p0) { // p0 comes first in the checkpoint's list (the logs in the order they were opened)
            checkpoint2.open();
            await("checkpoint 2 lists the open logs and waits for p0", () -> blockedOnPartitionLog(checkpointer, p0));
            p1.close();
            wal.deletePartition("p1");
        }
        await("checkpoint 2 is done", () -> wal.stats().checkpoints() == 2);
        p0.close();
        p2.close();
        wal.close();

        List<String> records = WriteAheadLog.describe(dir.resolve("wal"), LogConfig.defaults());
        int deleted = -1;
        for (int i = 0; i < records.size(); i++) {
            if (records.get(i).endsWith(" p1 deleted")) {
                deleted = i;
            } else if (deleted >= 0) {
                assertFalse(records.get(i).contains(" p1 "), "a record of p1 after its deletion: " + records);
            }
        }
        assertTrue(deleted >= 0, "p1's DELETED record is kept: " + records);
        assertTrue(
                records.subList(deleted, records.size()).stream().anyMatch(r -> r.endsWith(" p0 forced 0")),
                "checkpoint 2 recorded its FORCED ends after the deletion: " + records);
        try (WriteAheadLog reopened = builder().open()) {
            assertFalse(Files.exists(partitionDir("p1")), "a deleted partition stays deleted");
            try (WriteAheadLog.PartitionLog again = reopened.openPartition("p1")) {
                assertEquals(0, again.logEndOffset(), "a new, empty log");
            }
        }
    }

    /**
     * Checkpoint 3, held at its gate (forcing p1's files), lets p0 close meanwhile; then it finishes, and p1 and the
     * write-ahead log close.
     */
    private static void closeWhileCheckpointThreeIsHeld(
            Gate checkpoint3, WriteAheadLog wal, WriteAheadLog.PartitionLog p0, WriteAheadLog.PartitionLog p1)
            throws Exception {
        checkpoint3.awaitHeld();
        p0.close();
        checkpoint3.open();
        await("checkpoint 3 is done", () -> wal.stats().checkpoints() == 3);
        p1.close();
        wal.close();
    }

    /** The records of {@code partition} in {@code records} ({@link WriteAheadLog#describe}), from its id on. */
    private static List<String> recordsOf(String partition, List<String> records) {
        String tag = " " + partition + " ";
        return records.stream()
                .filter(r -> r.contains(tag))
                .map(r -> r.substring(r.indexOf(tag) + 1))
                .toList();
    }
}
