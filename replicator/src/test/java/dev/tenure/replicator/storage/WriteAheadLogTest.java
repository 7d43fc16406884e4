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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.Synced;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteAheadLogTest {
    @TempDir
    Path dir;

    private WriteAheadLog.Builder builder() {
        return WriteAheadLog.builder(
                dir.resolve("wal"), p -> dir.resolve("partitions").resolve(p));
    }

    private static Entry entry(long epoch, long offset, String payload) {
        return Entry.data(epoch, offset, payload.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void recordsBufferedWhileAForceRunsShareTheNextForce() throws Exception {
        GatedWalSync sync = new GatedWalSync();
        try (WriteAheadLog wal = builder().fileSync(sync).open()) {
            List<WriteAheadLog.PartitionLog> logs = new ArrayList<>();
            for (int i = 0; i < 101; i++) {
                logs.add(wal.openPartition("p" + i));
            }
            sync.gate = new CountDownLatch(1);
            logs.get(0).append(List.of(entry(1, 0, "first")));
            CompletableFuture<Synced> first = logs.get(0).syncAsync();
            assertTrue(sync.entered.await(30, TimeUnit.SECONDS), "the writer forces the first record");
            long forcesBefore = wal.stats().forces();
            List<CompletableFuture<Synced>> rest = new ArrayList<>();
            for (int i = 1; i < 101; i++) {
                logs.get(i).append(List.of(entry(1, 0, "p" + i)));
                rest.add(logs.get(i).syncAsync());
            }
            assertFalse(first.isDone(), "not durable before its force returns");
            sync.gate.countDown();
            assertEquals(new Synced(1, 1), first.get(30, TimeUnit.SECONDS));
            for (CompletableFuture<Synced> f : rest) {
                assertEquals(new Synced(1, 1), f.get(30, TimeUnit.SECONDS));
            }
            assertEquals(
                    forcesBefore + 2,
                    wal.stats().forces(),
                    "the first record's force, then one force for the 100 records buffered meanwhile");
            for (WriteAheadLog.PartitionLog log : logs) {
                log.close();
            }
        }
    }

    @Test
    void partitionLogsKeepAtMostTheNodesTailBudgetInMemoryTogetherAndReadWhatItEvictedFromTheirFiles()
            throws Exception {
        int partitions = 8;
        int perPartition = 200;
        int payload = 1024;
        long budget = 64 << 10;
        try (WriteAheadLog wal = builder().tailCacheBytes(budget).open()) {
            List<WriteAheadLog.PartitionLog> logs = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                logs.add(wal.openPartition("p" + p));
            }
            for (int i = 0; i < perPartition; i++) {
                for (int p = 0; p < partitions; p++) {
                    logs.get(p).append(List.of(entry(1, i, payloadOf(p, i, payload))));
                }
            }
            for (WriteAheadLog.PartitionLog log : logs) {
                log.syncAsync().get(30, TimeUnit.SECONDS);
            }
            long oneEntry = payload + 32L;
            long cached = logs.stream()
                    .mapToLong(WriteAheadLog.PartitionLog::tailCachedBytes)
                    .sum();
            assertTrue(
                    cached <= budget + partitions * oneEntry,
                    "the partitions keep " + cached + " bytes in memory together, against a budget of " + budget
                            + " (their own bound would let each keep 16 MiB: all "
                            + (long) partitions * perPartition * oneEntry + " bytes here)");
            assertTrue(cached >= budget / 2, "the budget is used: " + cached);
            for (int p = 0; p < partitions; p++) {
                List<Entry> read = new ArrayList<>();
                while (read.size() < perPartition) {
                    List<Entry> batch = logs.get(p).read(read.size(), perPartition, 1 << 20);
                    assertFalse(batch.isEmpty(), "partition p" + p + " reads on from " + read.size());
                    read.addAll(batch);
                }
                for (int i = 0; i < perPartition; i++) {
                    assertEquals(i, read.get(i).offset());
                    assertEquals(
                            payloadOf(p, i, payload), new String(read.get(i).payload(), StandardCharsets.UTF_8));
                }
            }
            for (WriteAheadLog.PartitionLog log : logs) {
                log.close();
            }
        }
    }

    @Test
    void aNegativeTailBudgetIsRefusedWhenConfigured() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> builder().tailCacheBytes(-1));
        assertEquals("tailCacheBytes must be at least 0, was -1", e.getMessage());
    }

    /** A payload of {@code bytes} ASCII characters naming its partition and offset. */
    private static String payloadOf(int partition, int offset, int bytes) {
        String head = "p" + partition + "@" + offset + ":";
        return head + "x".repeat(bytes - head.length());
    }

    @Test
    void aSyncCompletesOnlyOnceTheForceCoveringItsRecordsReturns() throws Exception {
        GatedWalSync sync = new GatedWalSync();
        try (WriteAheadLog wal = builder().fileSync(sync).open();
                WriteAheadLog.PartitionLog log = wal.openPartition("a")) {
            sync.gate = new CountDownLatch(1);
            log.append(List.of(entry(3, 0, "x"), entry(3, 1, "y")));
            CompletableFuture<Synced> synced = log.syncAsync();
            assertTrue(sync.entered.await(30, TimeUnit.SECONDS));
            assertThrows(TimeoutException.class, () -> synced.get(100, TimeUnit.MILLISECONDS));
            sync.gate.countDown();
            assertEquals(new Synced(2, 3), synced.get(30, TimeUnit.SECONDS));
            assertEquals(new Synced(2, 3), log.syncAsync().getNow(null), "already durable: completes at once");
        }
    }

    @Test
    void aSyncCallbackThatHasNotReturnedDelaysNoForce() throws Exception {
        GatedWalSync sync = new GatedWalSync();
        try (WriteAheadLog wal = builder().fileSync(sync).open();
                WriteAheadLog.PartitionLog a = wal.openPartition("a");
                WriteAheadLog.PartitionLog b = wal.openPartition("b")) {
            CountDownLatch callbackEntered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            sync.gate = new CountDownLatch(1); // a's force waits until its callback is attached
            a.append(List.of(entry(1, 0, "a0")));
            CompletableFuture<Void> slow = a.syncAsync().thenAccept(synced -> {
                callbackEntered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(sync.entered.await(30, TimeUnit.SECONDS), "the writer forces a's record");
            sync.gate.countDown();
            try {
                assertTrue(callbackEntered.await(30, TimeUnit.SECONDS), "a's sync completes and its callback runs");
                long forcesBefore = wal.stats().forces();
                b.append(List.of(entry(1, 0, "b0")));
                // The writer is not running a's callback: b's record is forced, and b's waiting sync completes.
                assertEquals(new Synced(1, 1), b.sync());
                assertTrue(wal.stats().forces() > forcesBefore, "b's record was forced");
                assertFalse(slow.isDone(), "while a's callback still waits");
                sync.gate = new CountDownLatch(1); // b1's sync is asked for before its force
                b.append(List.of(entry(1, 1, "b1")));
                CompletableFuture<Synced> queued = b.syncAsync();
                long forcesBeforeB1 = wal.stats().forces();
                sync.gate.countDown();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (wal.stats().forces() == forcesBeforeB1 && System.nanoTime() < deadline) {
                    Thread.sleep(1); // polling for the force, with a deadline
                }
                assertTrue(wal.stats().forces() > forcesBeforeB1, "b1's record was forced");
                assertFalse(
                        queued.isDone(),
                        "b1's asynchronous result waits behind a's callback: results complete in the order forced");
                release.countDown();
                assertEquals(new Synced(2, 1), queued.get(30, TimeUnit.SECONDS));
            } finally {
                release.countDown();
            }
            slow.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSyncCallbackMayTruncateTheLogItSynced() throws Exception {
        GatedWalSync sync = new GatedWalSync();
        // Not closed if the callback never returns: close would wait for a writer that waits for it.
        WriteAheadLog wal = builder().fileSync(sync).open();
        WriteAheadLog.PartitionLog log = wal.openPartition("a");
        sync.gate = new CountDownLatch(1); // the force waits until the callback is attached
        log.append(List.of(entry(1, 0, "x"), entry(1, 1, "y"), entry(1, 2, "z")));
        // A truncation waits for the force of its own record: the writer completes that wait, not the thread
        // running this callback, so the callback does not wait for itself.
        CompletableFuture<Long> truncated = log.syncAsync().thenApply(synced -> {
            log.truncate(1);
            return log.logEndOffset();
        });
        assertTrue(sync.entered.await(30, TimeUnit.SECONDS), "the writer forces the appends");
        sync.gate.countDown();
        assertEquals(1L, truncated.get(30, TimeUnit.SECONDS));
        assertEquals(new Synced(1, 1), log.sync());
        log.close();
        wal.close();
    }

    @Test
    void closeCompletesEverySyncItForcedBeforeItReturns() throws Exception {
        WriteAheadLog wal = builder().open();
        List<WriteAheadLog.PartitionLog> logs = new ArrayList<>();
        List<CompletableFuture<Synced>> syncs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            WriteAheadLog.PartitionLog log = wal.openPartition("p" + i);
            logs.add(log);
            log.append(List.of(entry(1, 0, "p" + i)));
            syncs.add(log.syncAsync());
        }
        for (WriteAheadLog.PartitionLog log : logs) {
            log.close();
        }
        wal.close();
        for (CompletableFuture<Synced> f : syncs) {
            assertEquals(new Synced(1, 1), f.getNow(null), "complete, and durable, when close returns");
        }
    }

    @Test
    void anAcknowledgedAppendWhosePartitionFilesLostItIsRewrittenFromTheWriteAheadLog() throws Exception {
        PowerLossDisk disk = new PowerLossDisk(0);
        WriteAheadLog wal = builder().fileSync(disk).open();
        WriteAheadLog.PartitionLog log = wal.openPartition("a");
        log.append(List.of(entry(1, 0, "zero"), entry(1, 1, "one")));
        log.append(List.of(entry(2, 2, "two")));
        assertEquals(new Synced(3, 2), log.syncAsync().get(30, TimeUnit.SECONDS));
        disk.powerOff();
        assertThrows(java.io.UncheckedIOException.class, log::close); // its files cannot be forced any more
        wal.close();
        // The partition's segment lost everything written after it was opened (it was never forced since).
        try (Stream<Path> files = Files.list(dir.resolve("partitions").resolve("a"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log")).toList()) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    ch.truncate(0);
                }
            }
        }
        try (WriteAheadLog reopened = builder().open();
                WriteAheadLog.PartitionLog recovered = reopened.openPartition("a")) {
            assertEquals(3, recovered.logEndOffset());
            List<Entry> entries = recovered.read(0, 10, Long.MAX_VALUE);
            assertEquals(List.of(entry(1, 0, "zero"), entry(1, 1, "one"), entry(2, 2, "two")), entries);
            assertEquals(0, reopened.stats().segments() - 1, "recovery deleted the replayed segments");
        }
    }

    @Test
    void aDeletedPartitionIsNotReplayedAndOneOpenedAgainAfterItsDeletionRecoversOnlyItsNewRecords() throws Exception {
        try (WriteAheadLog wal = builder().open()) {
            try (WriteAheadLog.PartitionLog a = wal.openPartition("a");
                    WriteAheadLog.PartitionLog b = wal.openPartition("b")) {
                a.append(List.of(entry(1, 0, "a0"), entry(1, 1, "a1")));
                b.append(List.of(entry(1, 0, "b0"), entry(1, 1, "b1"), entry(1, 2, "b2")));
                a.syncAsync().get(30, TimeUnit.SECONDS);
                b.syncAsync().get(30, TimeUnit.SECONDS);
            }
            wal.deletePartition("a");
            wal.deletePartition("b");
            assertFalse(Files.exists(dir.resolve("partitions").resolve("a")));
            try (WriteAheadLog.PartitionLog b = wal.openPartition("b")) {
                assertEquals(0, b.logEndOffset(), "a new, empty log");
                b.append(List.of(entry(7, 0, "new")));
                b.syncAsync().get(30, TimeUnit.SECONDS);
            }
        }
        // The segments are kept until a checkpoint: recovery reads every record of both partitions.
        try (WriteAheadLog reopened = builder().open()) {
            assertFalse(Files.exists(dir.resolve("partitions").resolve("a")), "a deleted partition stays deleted");
            try (WriteAheadLog.PartitionLog b = reopened.openPartition("b")) {
                assertEquals(List.of(entry(7, 0, "new")), b.read(0, 10, Long.MAX_VALUE));
            }
        }
    }

    @Test
    void aTruncationIsNeverUndoneByReplay() throws Exception {
        try (WriteAheadLog wal = builder().open();
                WriteAheadLog.PartitionLog log = wal.openPartition("a")) {
            log.append(List.of(entry(1, 0, "a"), entry(1, 1, "b"), entry(1, 2, "c")));
            log.truncate(1);
            log.append(List.of(entry(2, 1, "B")));
            log.syncAsync().get(30, TimeUnit.SECONDS);
        }
        // Closed cleanly, but the segments are kept until a checkpoint: replay them over the forced files.
        try (WriteAheadLog reopened = builder().open();
                WriteAheadLog.PartitionLog log = reopened.openPartition("a")) {
            assertEquals(List.of(entry(1, 0, "a"), entry(2, 1, "B")), log.read(0, 10, Long.MAX_VALUE));
        }
    }

    @Test
    void recordsThatATruncationSupersededAreNotReplayedOverALogCompactedPastIt() throws Exception {
        // Two ten-byte records per segment file: the log can start at 2 only by deleting a whole segment.
        LogConfig twoPerSegment = LogConfig.builder()
                .maxSegmentBytes(2 * (SegmentedLog.HEADER_BYTES + 10))
                .build();
        try (WriteAheadLog wal = builder().partitionConfig(twoPerSegment).open();
                WriteAheadLog.PartitionLog log = wal.openPartition("a".repeat(10))) {
            log.append(List.of(
                    entry(1, 0, "a".repeat(10)),
                    entry(1, 1, "b".repeat(10)),
                    entry(1, 2, "c".repeat(10)),
                    entry(1, 3, "d".repeat(10))));
            log.truncate(1);
            log.append(List.of(entry(2, 1, "B".repeat(10)), entry(2, 2, "C".repeat(10)), entry(2, 3, "D".repeat(10))));
            log.compact(2); // offsets 0 and 1 gone; the history below the start says epoch 2 began at 1
            assertEquals(2, log.logStartOffset());
            log.syncAsync().get(30, TimeUnit.SECONDS);
        }
        // The first record still kept (offsets 0-3 of epoch 1) contradicts the compacted history: a later truncation
        // superseded it, and replay must skip it until that truncation instead of refusing to open (seed 3000385 of
        // the power-loss test found this).
        try (WriteAheadLog reopened = builder().partitionConfig(twoPerSegment).open();
                WriteAheadLog.PartitionLog log = reopened.openPartition("a".repeat(10))) {
            assertEquals(2, log.logStartOffset());
            assertEquals(
                    List.of(entry(2, 2, "C".repeat(10)), entry(2, 3, "D".repeat(10))), log.read(2, 10, Long.MAX_VALUE));
        }
    }

    @Test
    void aRecordDamagedBeforeTheTailIsRefusedAndATornTailIsIgnored() throws Exception {
        Path segment;
        try (WriteAheadLog wal = builder().open();
                WriteAheadLog.PartitionLog log = wal.openPartition("a")) {
            for (int i = 0; i < 5; i++) {
                log.append(List.of(entry(1, i, "entry " + i)));
                log.syncAsync().get(30, TimeUnit.SECONDS);
            }
            segment = onlySegment();
        }
        byte[] intact = Files.readAllBytes(segment);
        // One byte flipped in the middle: damage followed by intact records.
        byte[] damaged = intact.clone();
        damaged[damaged.length / 2] ^= 0x40;
        Files.write(segment, damaged);
        CorruptLogException e =
                assertThrows(CorruptLogException.class, () -> builder().open());
        assertTrue(e.getMessage().contains("followed by an intact record"), e.getMessage());
        assertTrue(e.getMessage().contains(segment.getFileName().toString()), e.getMessage());

        // A torn tail instead: the intact records, then part of a record's header, then zeros.
        byte[] torn = new byte[intact.length + 40];
        System.arraycopy(intact, 0, torn, 0, intact.length);
        torn[intact.length] = WriteAheadLog.FORMAT;
        torn[intact.length + 1] = WriteAheadLog.APPEND;
        Files.write(segment, torn);
        try (WriteAheadLog reopened = builder().open();
                WriteAheadLog.PartitionLog log = reopened.openPartition("a")) {
            assertEquals(5, log.logEndOffset());
        }
    }

    @Test
    void aMissingSegmentIsRefused() throws Exception {
        Files.createDirectories(dir.resolve("wal"));
        Files.write(dir.resolve("wal").resolve(String.format("%020d.wal", 4)), new byte[0]);
        Files.write(dir.resolve("wal").resolve(String.format("%020d.wal", 6)), new byte[0]);
        CorruptLogException e =
                assertThrows(CorruptLogException.class, () -> builder().open());
        assertTrue(e.getMessage().contains("segment 5 of the write-ahead log is missing"), e.getMessage());
    }

    @Test
    void aPartitionWhoseFilesLostEntriesTheyHadBeenForcedWithIsRefusedByName() throws Exception {
        PowerLossDisk disk = new PowerLossDisk(0);
        WriteAheadLog wal = builder().segmentBytes(1024).fileSync(disk).open();
        WriteAheadLog.PartitionLog log = wal.openPartition("orders-7");
        for (int i = 0; i < 20; i++) {
            log.append(List.of(entry(1, i, "x".repeat(200))));
            log.syncAsync().get(30, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (wal.stats().checkpoints() < 2) { // the first entries' records are deleted once forced
            assertTrue(System.nanoTime() < deadline, "no checkpoint: " + wal.stats());
            Thread.sleep(5); // polling the checkpointer's counter
        }
        // A crash while the partition is open: the log keeps its records of it.
        disk.powerOff();
        try {
            log.close();
        } catch (RuntimeException powerLost) {
            // forcing its files may fail now, or there may be nothing left to force
        }
        wal.close();
        try (Stream<Path> files = Files.list(dir.resolve("partitions").resolve("orders-7"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log")).toList()) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    ch.truncate(0);
                }
            }
        }
        List<String> records = WriteAheadLog.describe(dir.resolve("wal"), LogConfig.defaults());
        CorruptLogException e =
                assertThrows(CorruptLogException.class, () -> builder().open(), records.toString());
        assertTrue(e.getMessage().contains("partition orders-7's log"), e.getMessage());
        assertTrue(e.getMessage().contains("lost entries they had been forced with"), e.getMessage());
    }

    @Test
    void aFailedForceFailsEveryPendingAndLaterSyncAndLaterAppends() throws Exception {
        FileSync failing = new FileSync() {
            volatile boolean broken;

            @Override
            public void force(FileChannel channel, Path file, boolean metadata) throws IOException {
                if (broken && file.toString().endsWith(".wal")) {
                    throw new IOException("EIO");
                }
                if (file.toString().endsWith(".wal")) {
                    broken = true; // the first force (the partition's open) succeeds, every later one fails
                }
            }

            @Override
            public void forceDirectory(Path d) {}
        };
        try (WriteAheadLog wal = builder().fileSync(failing).open()) {
            WriteAheadLog.PartitionLog log = wal.openPartition("a");
            log.append(List.of(entry(1, 0, "x")));
            ExecutionException e =
                    assertThrows(ExecutionException.class, () -> log.syncAsync().get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof IllegalStateException, e.toString());
            assertTrue(
                    e.getCause().getMessage().contains("failed earlier"),
                    e.getCause().getMessage());
            assertThrows(IllegalStateException.class, () -> log.append(List.of(entry(1, 1, "y"))));
            assertTrue(log.syncAsync().isCompletedExceptionally());
            assertThrows(IllegalStateException.class, () -> wal.openPartition("b"));
        }
    }

    @Test
    void aPartitionIsOpenedOnceItsIdIsCheckedAndUseAfterCloseIsRefused() throws Exception {
        WriteAheadLog wal = builder().open();
        WriteAheadLog.PartitionLog log = wal.openPartition("a");
        assertThrows(IllegalStateException.class, () -> wal.openPartition("a"));
        assertThrows(IllegalArgumentException.class, () -> wal.openPartition(""));
        assertThrows(IllegalArgumentException.class, () -> wal.openPartition("é"));
        IOException twice = assertThrows(IOException.class, () -> builder().open());
        assertTrue(twice.getMessage().contains("already open"), twice.getMessage());
        log.close();
        assertThrows(IllegalStateException.class, () -> log.append(List.of(entry(1, 0, "x"))));
        try (WriteAheadLog.PartitionLog again = wal.openPartition("a")) {
            again.append(List.of(entry(1, 0, "x")));
        }
        wal.close();
        assertThrows(IllegalStateException.class, () -> wal.openPartition("b"));
    }

    private Path onlySegment() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("wal"))) {
            List<Path> segments =
                    files.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
            assertEquals(1, segments.size(), segments.toString());
            return segments.get(0);
        }
    }
}
