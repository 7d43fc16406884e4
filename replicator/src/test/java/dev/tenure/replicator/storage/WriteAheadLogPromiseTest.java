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

import dev.tenure.replicator.DeferredPromiseStore;
import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Promises recorded in a node's write-ahead log ({@link WriteAheadLog.PartitionLog#promiseStore}). */
class WriteAheadLogPromiseTest {
    @TempDir
    Path dir;

    private WriteAheadLog.Builder builder() {
        return WriteAheadLog.builder(
                dir.resolve("wal"), p -> dir.resolve("partitions").resolve(p));
    }

    private static DeferredPromiseStore promises(WriteAheadLog.PartitionLog log) {
        return log.promiseStore(new InMemoryPromiseStore());
    }

    private static Promise loaded(WriteAheadLog wal, String partition) throws IOException {
        try (WriteAheadLog.PartitionLog log = wal.openPartition(partition)) {
            return promises(log).load();
        }
    }

    @Test
    void aPromiseIsDurableOnlyOnceTheForceCoveringItsRecordReturns() throws Exception {
        GatedWalSync sync = new GatedWalSync();
        try (WriteAheadLog wal = builder().fileSync(sync).open();
                WriteAheadLog.PartitionLog log = wal.openPartition("a")) {
            DeferredPromiseStore store = promises(log);
            sync.gate = new CountDownLatch(1);
            store.store(new Promise(3, "n2"));
            CompletableFuture<Void> durable = store.syncAsync();
            assertTrue(sync.entered.await(30, TimeUnit.SECONDS), "the writer forces the promise's record");
            assertThrows(TimeoutException.class, () -> durable.get(100, TimeUnit.MILLISECONDS));
            assertEquals(new Promise(3, "n2"), store.load(), "the promise stored is the one loaded at once");
            sync.gate.countDown();
            durable.get(30, TimeUnit.SECONDS);
            assertTrue(store.syncAsync().isDone(), "already durable: completes at once");
        }
    }

    @Test
    void aPromiseIsReadBackByEveryRecoveryAndTheNewerOfItAndThePromiseFileIsLoaded() throws Exception {
        try (WriteAheadLog wal = builder().open()) {
            try (WriteAheadLog.PartitionLog a = wal.openPartition("a");
                    WriteAheadLog.PartitionLog b = wal.openPartition("b")) {
                promises(a).store(new Promise(4, "n1"));
                promises(a).store(new Promise(7, "n3"));
                promises(b).store(new Promise(2, ""));
                a.append(List.of(Entry.data(7, 0, "x".getBytes(StandardCharsets.UTF_8))));
                a.syncAsync().get(30, TimeUnit.SECONDS);
                b.syncAsync().get(30, TimeUnit.SECONDS);
            }
        }
        for (int recovery = 1; recovery <= 2; recovery++) { // the first recovery records them in its new segment
            try (WriteAheadLog wal = builder().open()) {
                assertEquals(new Promise(7, "n3"), loaded(wal, "a"), "recovery " + recovery);
                assertEquals(new Promise(2, ""), loaded(wal, "b"), "recovery " + recovery);
                assertEquals(Promise.NONE, loaded(wal, "c"), "a partition never promised anything");
            }
        }
        try (WriteAheadLog wal = builder().open();
                WriteAheadLog.PartitionLog a = wal.openPartition("a")) {
            InMemoryPromiseStore file = new InMemoryPromiseStore();
            file.store(new Promise(9, "n2")); // written to the partition's file before its promises moved here
            assertEquals(new Promise(9, "n2"), a.promiseStore(file).load(), "the file's is newer");
            InMemoryPromiseStore older = new InMemoryPromiseStore();
            older.store(new Promise(5, "n2"));
            assertEquals(new Promise(7, "n3"), a.promiseStore(older).load(), "the write-ahead log's is newer");
        }
    }

    @Test
    void aCheckpointRecordsEveryPromiseAgainBeforeItDeletesTheSegmentsThatHeldThem() throws Exception {
        assertEquals(
                List.of(new Promise(6, "n1"), new Promise(8, "n2")),
                promisesAfterCheckpoints(WriteAheadLog.Defect.NONE),
                "an open and a closed partition's promises survive the checkpoints");
        List<Promise> broken = promisesAfterCheckpoints(WriteAheadLog.Defect.CHECKPOINT_WITHOUT_PROMISES);
        assertEquals(
                List.of(Promise.NONE, Promise.NONE),
                broken,
                "the test's teeth: a checkpoint that does not record them again loses both");
    }

    /** Stores promises of "open" and of "closed" (then closed), checkpoints twice, recovers; their promises. */
    private List<Promise> promisesAfterCheckpoints(WriteAheadLog.Defect defect) throws Exception {
        Path walDir = dir.resolve("wal-" + defect);
        WriteAheadLog.Builder b = WriteAheadLog.builder(
                        walDir, p -> dir.resolve("partitions-" + defect).resolve(p))
                .segmentBytes(1024)
                .defect(defect);
        try (WriteAheadLog wal = b.open()) {
            try (WriteAheadLog.PartitionLog closed = wal.openPartition("closed")) {
                promises(closed).store(new Promise(8, "n2"));
                closed.syncAsync().get(30, TimeUnit.SECONDS);
            }
            try (WriteAheadLog.PartitionLog open = wal.openPartition("open")) {
                promises(open).store(new Promise(6, "n1"));
                byte[] payload = new byte[300];
                for (int i = 0; wal.stats().checkpoints() < 2; i++) {
                    open.append(List.of(Entry.data(6, i, payload)));
                    open.syncAsync().get(30, TimeUnit.SECONDS);
                    assertTrue(i < 10_000, "no checkpoint after " + i + " appends");
                }
                await(
                        "the segments holding the promises' first records are deleted",
                        () -> !Files.exists(walDir.resolve(String.format("%020d.wal", 1))));
            }
        }
        try (WriteAheadLog wal = b.defect(WriteAheadLog.Defect.NONE).open()) {
            return List.of(loaded(wal, "open"), loaded(wal, "closed"));
        }
    }

    @Test
    void aDeletedPartitionsPromiseIsForgottenAndTheIdOpenedAgainStartsWithoutOne() throws Exception {
        try (WriteAheadLog wal = builder().open()) {
            try (WriteAheadLog.PartitionLog a = wal.openPartition("a")) {
                promises(a).store(new Promise(12, "n1"));
                a.syncAsync().get(30, TimeUnit.SECONDS);
            }
            wal.deletePartition("a");
            assertEquals(Promise.NONE, loaded(wal, "a"), "forgotten at once");
            try (WriteAheadLog.PartitionLog a = wal.openPartition("a")) {
                promises(a).store(new Promise(1, "n2"));
                a.syncAsync().get(30, TimeUnit.SECONDS);
            }
        }
        try (WriteAheadLog wal = builder().open()) {
            assertEquals(new Promise(1, "n2"), loaded(wal, "a"), "recovery reads only the new partition's");
        }
    }

    @Test
    void aPromiseThatWouldGoBackOrComesAfterCloseIsRefused() throws Exception {
        try (WriteAheadLog wal = builder().open()) {
            WriteAheadLog.PartitionLog a = wal.openPartition("a");
            DeferredPromiseStore store = promises(a);
            store.store(new Promise(5, "n1"));
            IllegalStateException back =
                    assertThrows(IllegalStateException.class, () -> store.store(new Promise(4, "n2")));
            assertTrue(back.getMessage().contains("would go back"), back.getMessage());
            store.store(new Promise(5, "n1")); // the same again is allowed
            a.close();
            IllegalStateException closed =
                    assertThrows(IllegalStateException.class, () -> store.store(new Promise(6, "n1")));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            assertThrows(NullPointerException.class, () -> store.store(null));
        }
    }

    @Test
    void aCrashDuringRecoveryBeforeItDeletesTheOldSegmentsLeavesALogThatRecoversNextTime() throws Exception {
        Path segment;
        try (WriteAheadLog wal = builder().open();
                WriteAheadLog.PartitionLog a = wal.openPartition("a")) {
            promises(a).store(new Promise(4, "n2"));
            a.append(List.of(Entry.data(4, 0, "x".getBytes(StandardCharsets.UTF_8))));
            a.syncAsync().get(30, TimeUnit.SECONDS);
            try (java.util.stream.Stream<Path> files = Files.list(dir.resolve("wal"))) {
                segment = files.filter(p -> p.toString().endsWith(".wal"))
                        .sorted()
                        .reduce((x, y) -> y)
                        .orElseThrow();
            }
        }
        // A torn tail, as a crash leaves it: part of a record's header.
        byte[] intact = Files.readAllBytes(segment);
        byte[] torn = java.util.Arrays.copyOf(intact, intact.length + 7);
        torn[intact.length] = WriteAheadLog.FORMAT;
        torn[intact.length + 1] = WriteAheadLog.APPEND;
        Files.write(segment, torn);
        // Recovery dies (a power loss) when it forces the new segment holding the promises, before it deletes the
        // old ones: both are on the disk, the old one now not the last.
        FileSync dying = new FileSync() {
            @Override
            public void force(FileChannel channel, Path file, boolean metadata) throws IOException {
                if (file.toString().endsWith(".wal") && !file.equals(segment)) {
                    throw new IOException("power lost");
                }
            }

            @Override
            public void forceDirectory(Path d) {}
        };
        assertThrows(IOException.class, () -> builder().fileSync(dying).open());
        try (WriteAheadLog wal = builder().open()) {
            assertEquals(new Promise(4, "n2"), loaded(wal, "a"));
            try (WriteAheadLog.PartitionLog a = wal.openPartition("a")) {
                assertEquals(1, a.logEndOffset());
            }
        }
    }

    @Test
    void aMalformedPromiseRecordIsRefusedNamingItsPartition() throws Exception {
        Path walDir = dir.resolve("wal");
        Files.createDirectories(walDir);
        byte[] id = "p7".getBytes(StandardCharsets.US_ASCII);
        // A record whose checksum matches but whose leader length runs past its body.
        ByteBuffer b = ByteBuffer.allocate(WriteAheadLog.HEADER_BYTES + 1 + id.length + 8 + 4);
        b.position(WriteAheadLog.HEADER_BYTES);
        b.put((byte) id.length).put(id).putLong(3).putInt(99);
        WriteAheadLog.seal(WriteAheadLog.PROMISE, b.array(), b.capacity());
        Files.write(walDir.resolve(String.format("%020d.wal", 1)), b.array());
        CorruptLogException e =
                assertThrows(CorruptLogException.class, () -> builder().open());
        assertTrue(e.getMessage().contains("malformed promise record of partition p7"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("partitions").resolve("p7")), "nothing was written for it");
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(1); // polling a condition, with a deadline
        }
    }
}
