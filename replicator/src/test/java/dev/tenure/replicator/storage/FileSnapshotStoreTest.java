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

import static dev.tenure.replicator.storage.RecordingFileSync.directory;
import static dev.tenure.replicator.storage.RecordingFileSync.file;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.core.SnapshotMeta;
import dev.tenure.replicator.core.SnapshotStore.CorruptSnapshotException;
import dev.tenure.replicator.storage.LogConfig.SyncPolicy;
import dev.tenure.replicator.storage.RecordingFileSync.Forced;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class FileSnapshotStoreTest {
    private static final List<String> MEMBERS = List.of("r1", "r2", "r3");

    @TempDir
    Path root;

    private Path dir;
    private ListAppender<ILoggingEvent> logged;

    @BeforeEach
    void captureLogs() {
        dir = root.resolve("snapshots");
        logged = new ListAppender<>();
        logged.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(FileSnapshotStore.class)).addAppender(logged);
    }

    @AfterEach
    void detach() {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(FileSnapshotStore.class)).detachAppender(logged);
    }

    private List<String> warnings() {
        return logged.list.stream()
                .filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage)
                .collect(Collectors.toList());
    }

    private FileSnapshotStore open() throws IOException {
        return FileSnapshotStore.open(dir, SyncPolicy.FSYNC);
    }

    /** Snapshot id {@code offset}, epoch 1 below 50 and 2 from 50 (so ids of offset > 50 have epoch 2). */
    private static SnapshotId id(long offset) {
        return new SnapshotId(offset, offset > 50 ? 2 : 1);
    }

    private static EpochHistory historyOf(SnapshotId id) {
        List<EpochHistory.Start> starts = new ArrayList<>();
        starts.add(new EpochHistory.Start(1, 0));
        if (id.epoch() == 2) {
            starts.add(new EpochHistory.Start(2, 50));
        }
        return EpochHistory.of(starts);
    }

    /** The state of the snapshot at {@code offset}: a few KiB derived from it. */
    private static byte[] state(long offset) {
        byte[] b = new byte[3000 + (int) offset];
        new Random(offset).nextBytes(b);
        return b;
    }

    private static SnapshotMeta write(FileSnapshotStore store, long offset) throws IOException {
        SnapshotId id = id(offset);
        return store.write(id, historyOf(id), MEMBERS, out -> out.write(state(offset)));
    }

    private static byte[] stateOf(FileSnapshotStore store, SnapshotId id) throws IOException {
        try (InputStream in = store.openState(id)) {
            return in.readAllBytes();
        }
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private Path fileOf(long offset) {
        return dir.resolve(FileSnapshotStore.fileName(id(offset)));
    }

    private static void flipByte(Path file, long position) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) position] ^= 0x5a;
        Files.write(file, bytes);
    }

    /** The whole file of snapshot {@code id}, read through {@link FileSnapshotStore#read} in chunks. */
    private static byte[] readAll(FileSnapshotStore store, SnapshotId id, int chunk) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long size = store.latest().orElseThrow().sizeBytes();
        for (long p = 0; p < size; ) {
            byte[] b = store.read(id, p, chunk).orElseThrow();
            assertTrue(b.length > 0 && b.length <= chunk);
            out.write(b);
            p += b.length;
        }
        return out.toByteArray();
    }

    // ---- write, reopen, read back ----

    @Test
    void writtenSnapshotSurvivesReopenAndReadsBackItsState() throws IOException {
        FileSnapshotStore store = open();
        assertEquals(Optional.empty(), store.latest());
        assertEquals(Optional.empty(), store.oldestKept());
        SnapshotMeta meta = write(store, 80);
        assertEquals(id(80), meta.id());
        assertEquals(historyOf(id(80)), meta.history());
        assertEquals(MEMBERS, meta.members());
        assertEquals(Files.size(fileOf(80)), meta.sizeBytes());
        assertEquals(Optional.of(meta), store.latest());
        assertEquals(Optional.of(meta), store.oldestKept(), "the only one kept is also the oldest");
        assertArrayEquals(state(80), stateOf(store, id(80)));
        assertEquals(List.of(FileSnapshotStore.fileName(id(80))), names());

        FileSnapshotStore again = open();
        assertEquals(Optional.of(meta), again.latest());
        assertArrayEquals(state(80), stateOf(again, id(80)));
        assertEquals(List.of(), warnings());
    }

    @Test
    void aStateWrittenInSmallPiecesIsStreamed() throws IOException {
        FileSnapshotStore store = open();
        byte[] big = new byte[3 << 20];
        new Random(9).nextBytes(big);
        SnapshotMeta meta = store.write(id(90), historyOf(id(90)), MEMBERS, out -> {
            for (int i = 0; i < big.length; i += 1000) {
                out.write(big, i, Math.min(1000, big.length - i));
            }
        });
        assertTrue(meta.sizeBytes() > big.length);
        assertArrayEquals(big, stateOf(open(), id(90)));
    }

    @Test
    void keepsTheNewestTwo() throws IOException {
        FileSnapshotStore store = open();
        write(store, 10);
        write(store, 20);
        SnapshotMeta third = write(store, 60);
        assertEquals(List.of(FileSnapshotStore.fileName(id(20)), FileSnapshotStore.fileName(id(60))), names());
        assertEquals(id(60), store.latest().orElseThrow().id());
        assertEquals(id(20), store.oldestKept().orElseThrow().id());

        // An id older than both kept is written, and is then the oldest of three: deleted at once.
        write(store, 15);
        assertEquals(List.of(FileSnapshotStore.fileName(id(20)), FileSnapshotStore.fileName(id(60))), names());
        assertEquals(Optional.of(third), store.latest());

        FileSnapshotStore again = open();
        assertEquals(Optional.of(third), again.latest());
        assertEquals(id(20), again.oldestKept().orElseThrow().id());
        assertArrayEquals(state(20), stateOf(again, id(20)));
    }

    @Test
    void openDeletesAllButTheTwoNewest() throws IOException {
        FileSnapshotStore store = open();
        write(store, 10);
        write(store, 20);
        Files.copy(fileOf(10), root.resolve("ten"));
        write(store, 30);
        // As after a crash between a rename into place and the retention deletions.
        Files.copy(root.resolve("ten"), fileOf(10));
        FileSnapshotStore again = open();
        assertEquals(List.of(FileSnapshotStore.fileName(id(20)), FileSnapshotStore.fileName(id(30))), names());
        assertEquals(id(20), again.oldestKept().orElseThrow().id());
    }

    @Test
    void writeForcesFileThenRenamesThenForcesDirectory() throws IOException {
        RecordingFileSync sync = new RecordingFileSync();
        FileSnapshotStore store = FileSnapshotStore.open(dir, SyncPolicy.FSYNC, sync);
        write(store, 10);
        write(store, 20);
        sync.clear();
        Path temp = dir.resolve(FileSnapshotStore.fileName(id(30)) + ".tmp");
        List<String> atForce = new ArrayList<>();
        sync.onForce(f -> {
            try {
                atForce.add(String.join(",", names()));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        write(store, 30);
        List<Forced> forced = sync.forced();
        assertEquals(List.of(file(temp), directory(dir), directory(dir)), forced);
        String n10 = FileSnapshotStore.fileName(id(10));
        String n20 = FileSnapshotStore.fileName(id(20));
        String n30 = FileSnapshotStore.fileName(id(30));
        assertEquals(n10 + "," + n20 + "," + n30 + ".tmp", atForce.get(0), "the temporary file is forced first");
        assertEquals(n10 + "," + n20 + "," + n30, atForce.get(1), "renamed, then the directory is forced");
        assertEquals(n20 + "," + n30, atForce.get(2), "the oldest is deleted, then the directory is forced");
    }

    @Test
    void unsafeNoFsyncForcesNothing() throws IOException {
        RecordingFileSync sync = new RecordingFileSync();
        FileSnapshotStore store = FileSnapshotStore.open(dir, SyncPolicy.UNSAFE_NO_FSYNC, sync);
        write(store, 10);
        write(store, 20);
        write(store, 30);
        FileSnapshotStore source = store;
        FileSnapshotStore target = FileSnapshotStore.open(root.resolve("other"), SyncPolicy.UNSAFE_NO_FSYNC, sync);
        target.beginInstall(id(30), source.latest().orElseThrow().sizeBytes());
        target.writeInstallChunk(0, readAll(source, id(30), 1 << 20));
        target.completeInstall();
        FileSnapshotStore.open(dir, SyncPolicy.UNSAFE_NO_FSYNC, sync);
        assertEquals(List.of(), sync.forced());
    }

    @Test
    void openForcesWhatItKeeps() throws IOException {
        FileSnapshotStore store = open();
        write(store, 10);
        write(store, 20);
        RecordingFileSync sync = new RecordingFileSync();
        FileSnapshotStore.open(dir, SyncPolicy.FSYNC, sync);
        assertEquals(List.of(file(fileOf(20)), file(fileOf(10)), directory(dir)), sync.forced());
    }

    // ---- corruption at open ----

    @Test
    void corruptNewestFallsBackToTheOlderWithAWarning() throws IOException {
        FileSnapshotStore store = open();
        SnapshotMeta older = write(store, 10);
        write(store, 20);
        flipByte(fileOf(20), Files.size(fileOf(20)) - 100); // in the state: only the full CRC catches it

        FileSnapshotStore again = open();
        assertEquals(Optional.of(older), again.latest());
        assertEquals(Optional.of(older), again.oldestKept());
        assertArrayEquals(state(10), stateOf(again, id(10)));
        Path setAside = dir.resolve(FileSnapshotStore.fileName(id(20)) + ".corrupt");
        assertTrue(Files.exists(setAside), "kept for inspection: " + names());
        assertFalse(Files.exists(fileOf(20)));
        List<String> w = warnings();
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).contains(fileOf(20).toString()), w.get(0));
        assertTrue(w.get(0).contains("checksum mismatch"), w.get(0));
        assertTrue(w.get(0).contains(setAside.toString()), w.get(0));
        assertTrue(w.get(0).contains("falling back to the older snapshot " + fileOf(10)), w.get(0));

        // A second corrupt file of the same name does not replace the first.
        write(again, 20);
        flipByte(fileOf(20), Files.size(fileOf(20)) - 100);
        FileSnapshotStore third = open();
        assertEquals(id(10), third.latest().orElseThrow().id());
        assertTrue(Files.exists(setAside));
        assertTrue(Files.exists(dir.resolve(FileSnapshotStore.fileName(id(20)) + ".2.corrupt")), names().toString());
    }

    @Test
    void aSnapshotWhoseHeaderNamesAnotherIdIsCorrupt() throws IOException {
        FileSnapshotStore store = open();
        write(store, 10);
        write(store, 20);
        Files.move(fileOf(20), fileOf(25));
        FileSnapshotStore again = open();
        assertEquals(id(10), again.latest().orElseThrow().id());
        assertTrue(warnings().get(0).contains("id mismatch"), warnings().toString());
    }

    @Test
    void anOlderSnapshotWithABadHeaderIsSetAside() throws IOException {
        FileSnapshotStore store = open();
        write(store, 10);
        write(store, 20);
        write(store, 30);
        flipByte(fileOf(20), 6); // in the header
        FileSnapshotStore again = open();
        assertEquals(id(30), again.latest().orElseThrow().id());
        assertEquals(id(30), again.oldestKept().orElseThrow().id());
        assertTrue(Files.exists(dir.resolve(FileSnapshotStore.fileName(id(20)) + ".corrupt")));
        assertTrue(
                warnings().get(0).contains("header checksum mismatch"),
                warnings().toString());
    }

    @Test
    void allSnapshotsCorruptRefusesToOpen() throws IOException {
        FileSnapshotStore store = open();
        write(store, 10);
        write(store, 20);
        flipByte(fileOf(10), 200);
        flipByte(fileOf(20), 0);
        List<String> before = names();
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, this::open);
        assertTrue(e.getMessage().contains("no valid snapshot in " + dir), e.getMessage());
        assertTrue(e.getMessage().contains(fileOf(10) + ": checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains(fileOf(20) + ": bad magic"), e.getMessage());
        assertEquals(before, names(), "the files are left as they are, so the next open refuses too");
        assertThrows(CorruptSnapshotException.class, this::open);

        // Even a single snapshot file.
        Files.delete(fileOf(10));
        assertThrows(CorruptSnapshotException.class, this::open);
    }

    @Test
    void interruptedWriteLeavesPreviousSnapshotsIntact() throws IOException {
        FileSnapshotStore store = open();
        SnapshotMeta first = write(store, 10);
        SnapshotMeta second = write(store, 20);
        List<String> before = names();
        IOException e = assertThrows(
                IOException.class,
                () -> store.write(id(30), historyOf(id(30)), MEMBERS, out -> {
                    out.write(new byte[200_000]);
                    throw new IOException("state machine failed");
                }));
        assertEquals("state machine failed", e.getMessage());
        assertEquals(before, names(), "the temporary file is gone");
        assertEquals(Optional.of(second), store.latest());
        assertEquals(Optional.of(first), store.oldestKept());

        // A crash part-way leaves a temporary file (and an install a partial one): open deletes them.
        Files.write(dir.resolve(FileSnapshotStore.fileName(id(30)) + ".tmp"), new byte[1000]);
        Files.write(dir.resolve(FileSnapshotStore.fileName(id(40)) + ".partial"), new byte[1000]);
        FileSnapshotStore again = open();
        assertEquals(before, names());
        assertEquals(Optional.of(second), again.latest());
        assertArrayEquals(state(20), stateOf(again, id(20)));
    }

    @Test
    void aHistoryThatDoesNotEndAtTheIdIsRefusedBeforeAnyFile() throws IOException {
        FileSnapshotStore store = open();
        assertThrows(
                IllegalArgumentException.class,
                () -> store.write(id(80), historyOf(id(10)), MEMBERS, out -> out.write(1)));
        assertEquals(List.of(), names());
    }

    // ---- read, for installs elsewhere ----

    @Test
    void readServesTheFileInChunks() throws IOException {
        FileSnapshotStore store = open();
        SnapshotMeta meta = write(store, 10);
        byte[] whole = Files.readAllBytes(fileOf(10));
        assertArrayEquals(whole, readAll(store, id(10), 1000));
        assertArrayEquals(new byte[0], store.read(id(10), meta.sizeBytes(), 10).orElseThrow(), "at the end");
        assertThrows(IllegalArgumentException.class, () -> store.read(id(10), meta.sizeBytes() + 1, 10));
        assertThrows(IllegalArgumentException.class, () -> store.read(id(10), -1, 10));
        assertThrows(IllegalArgumentException.class, () -> store.read(id(10), 0, 0));
        assertEquals(Optional.empty(), store.read(id(11), 0, 10), "never kept");
    }

    @Test
    void readOfDeletedSnapshotIsEmpty() throws IOException {
        FileSnapshotStore store = open();
        write(store, 10);
        write(store, 20);
        assertTrue(store.read(id(10), 0, 100).isPresent());
        write(store, 30); // retention deletes 10
        assertEquals(Optional.empty(), store.read(id(10), 0, 100));
        Files.delete(fileOf(20)); // gone from under the store
        assertEquals(Optional.empty(), store.read(id(20), 0, 100));
        assertThrows(IOException.class, () -> store.openState(id(10)));
    }

    // ---- install ----

    private FileSnapshotStore source() throws IOException {
        FileSnapshotStore source = FileSnapshotStore.open(root.resolve("leader"), SyncPolicy.FSYNC);
        write(source, 60);
        return source;
    }

    @Test
    void anInstalledSnapshotBecomesLatestDurably() throws IOException {
        FileSnapshotStore source = source();
        SnapshotMeta meta = source.latest().orElseThrow();
        RecordingFileSync sync = new RecordingFileSync();
        FileSnapshotStore store = FileSnapshotStore.open(dir, SyncPolicy.FSYNC, sync);
        write(store, 10);
        sync.clear();

        store.beginInstall(meta.id(), meta.sizeBytes());
        for (long p = 0; p < meta.sizeBytes(); ) {
            byte[] chunk = source.read(meta.id(), p, 1000).orElseThrow();
            store.writeInstallChunk(p, chunk);
            p += chunk.length;
        }
        Path partial = dir.resolve(FileSnapshotStore.fileName(meta.id()) + ".partial");
        assertTrue(Files.exists(partial));
        assertEquals(Optional.of(id(10)), store.latest().map(SnapshotMeta::id), "not before it completes");
        assertEquals(meta, store.completeInstall());
        assertEquals(Optional.of(meta), store.latest());
        assertEquals(id(10), store.oldestKept().orElseThrow().id());
        assertArrayEquals(state(60), stateOf(store, meta.id()));
        assertFalse(Files.exists(partial));
        assertEquals(List.of(file(partial), directory(dir)), sync.forced());
        assertEquals(Optional.of(meta), open().latest());
    }

    @Test
    void installChunkAtWrongPositionIsRefused() throws IOException {
        FileSnapshotStore source = source();
        SnapshotMeta meta = source.latest().orElseThrow();
        byte[] whole = readAll(source, meta.id(), 1 << 20);
        FileSnapshotStore store = open();
        assertThrows(IllegalStateException.class, () -> store.writeInstallChunk(0, whole));
        store.beginInstall(meta.id(), meta.sizeBytes());
        store.writeInstallChunk(0, java.util.Arrays.copyOfRange(whole, 0, 100));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> store.writeInstallChunk(50, java.util.Arrays.copyOfRange(whole, 50, 150)));
        assertTrue(e.getMessage().contains("which has 100 bytes so far"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> store.writeInstallChunk(200, java.util.Arrays.copyOfRange(whole, 200, 300)),
                "a gap");
        e = assertThrows(
                IllegalArgumentException.class,
                () -> store.writeInstallChunk(100, java.util.Arrays.copyOfRange(whole, 100, whole.length + 1)));
        assertTrue(e.getMessage().contains("run past"), e.getMessage());
        // Refused chunks write nothing: the install goes on from where it was.
        store.writeInstallChunk(100, java.util.Arrays.copyOfRange(whole, 100, whole.length));
        assertEquals(meta, store.completeInstall());
        assertThrows(IllegalStateException.class, store::completeInstall, "nothing in progress any more");
    }

    @Test
    void installWithBadCrcIsDiscarded() throws IOException {
        FileSnapshotStore source = source();
        SnapshotMeta meta = source.latest().orElseThrow();
        byte[] whole = readAll(source, meta.id(), 1 << 20);
        whole[whole.length - 200] ^= 1;
        FileSnapshotStore store = open();
        SnapshotMeta kept = write(store, 10);
        store.beginInstall(meta.id(), meta.sizeBytes());
        store.writeInstallChunk(0, whole);
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, store::completeInstall);
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains(".partial"), "names the file: " + e.getMessage());
        assertEquals(List.of(FileSnapshotStore.fileName(id(10))), names(), "the partial file is deleted");
        assertEquals(Optional.of(kept), store.latest());
        assertThrows(IllegalStateException.class, store::completeInstall, "discarded");
    }

    @Test
    void installOfAnotherIdIsRefused() throws IOException {
        FileSnapshotStore source = source();
        SnapshotMeta meta = source.latest().orElseThrow();
        byte[] whole = readAll(source, meta.id(), 1 << 20);
        FileSnapshotStore store = open();
        SnapshotId other = new SnapshotId(70, 2);
        store.beginInstall(other, meta.sizeBytes());
        store.writeInstallChunk(0, whole);
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, store::completeInstall);
        assertTrue(e.getMessage().contains("names snapshot " + meta.id()), e.getMessage());
        assertEquals(List.of(), names());
        assertEquals(Optional.empty(), store.latest());
    }

    @Test
    void anIncompleteInstallIsRefusedAndAnAbortedOneLeavesNothing() throws IOException {
        FileSnapshotStore source = source();
        SnapshotMeta meta = source.latest().orElseThrow();
        byte[] whole = readAll(source, meta.id(), 1 << 20);
        FileSnapshotStore store = open();
        store.beginInstall(meta.id(), meta.sizeBytes());
        store.writeInstallChunk(0, java.util.Arrays.copyOf(whole, 500));
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, store::completeInstall);
        assertTrue(e.getMessage().contains("500 of the " + meta.sizeBytes()), e.getMessage());
        assertEquals(List.of(), names());

        store.beginInstall(meta.id(), meta.sizeBytes());
        store.writeInstallChunk(0, java.util.Arrays.copyOf(whole, 500));
        store.abortInstall();
        assertEquals(List.of(), names());
        store.abortInstall(); // nothing in progress: nothing to do

        // A new begin discards the install in progress and starts from 0.
        store.beginInstall(new SnapshotId(70, 2), 10_000);
        store.writeInstallChunk(0, new byte[10]);
        store.beginInstall(meta.id(), meta.sizeBytes());
        assertEquals(List.of(FileSnapshotStore.fileName(meta.id()) + ".partial"), names());
        store.writeInstallChunk(0, whole);
        assertEquals(meta, store.completeInstall());
    }

    // ---- threads ----

    @Test
    @Timeout(60)
    void readsAndInstallsOnTheEventThreadRunAlongsideWrites() throws Exception {
        FileSnapshotStore source = source();
        SnapshotMeta installed = source.latest().orElseThrow();
        byte[] installBytes = readAll(source, installed.id(), 1 << 20);
        FileSnapshotStore store = open();
        write(store, 1);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> error = new AtomicReference<>();
        Thread snapshotter = new Thread(
                () -> {
                    try {
                        for (long offset = 2; offset < 200 && !stop.get(); offset++) {
                            write(store, offset);
                        }
                    } catch (Throwable t) {
                        error.set(t);
                    }
                },
                "snapshotter");
        snapshotter.start();
        int reads = 0;
        int empties = 0;
        while (snapshotter.isAlive() && error.get() == null) {
            SnapshotMeta latest = store.latest().orElseThrow();
            // A whole file read in chunks is that snapshot's file, byte for byte, or the snapshot went meanwhile.
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            boolean gone = false;
            for (long p = 0; p < latest.sizeBytes(); ) {
                Optional<byte[]> b = store.read(latest.id(), p, 1024);
                if (b.isEmpty()) {
                    gone = true;
                    break;
                }
                out.write(b.get());
                p += b.get().length;
            }
            if (gone) {
                empties++;
            } else {
                ByteArrayOutputStream expected = new ByteArrayOutputStream();
                SnapshotFormat.write(
                        expected,
                        latest.id(),
                        historyOf(latest.id()),
                        MEMBERS,
                        o -> o.write(state(latest.id().offset())));
                assertArrayEquals(expected.toByteArray(), out.toByteArray(), "snapshot " + latest.id());
                reads++;
            }
            store.beginInstall(installed.id(), installed.sizeBytes());
            store.writeInstallChunk(0, installBytes);
            store.completeInstall();
        }
        stop.set(true);
        snapshotter.join();
        if (error.get() != null) {
            throw new AssertionError("write failed", error.get());
        }
        assertTrue(reads > 0, "reads " + reads + ", empty " + empties);
        assertEquals(2, names().size(), names().toString());
        FileSnapshotStore again = open();
        assertEquals(store.latest(), again.latest());
        assertEquals(store.oldestKept(), again.oldestKept());
    }
}
