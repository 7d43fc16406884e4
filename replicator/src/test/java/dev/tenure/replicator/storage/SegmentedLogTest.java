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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.storage.LogConfig.SyncPolicy;
import dev.tenure.replicator.storage.RecordingFileSync.Forced;
import dev.tenure.replicator.transport.netty.NettyTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class SegmentedLogTest {
    /** Payload bytes of the fixed-size entries, so a record is RECORD bytes long. */
    private static final int PAYLOAD = 10;

    private static final int RECORD = SegmentedLog.HEADER_BYTES + PAYLOAD;

    @TempDir
    Path root;

    /** The log directory (copies for crash simulations go next to it). */
    private Path dir;

    private final List<SegmentedLog> opened = new ArrayList<>();

    /** Whether {@link #syncRacesWithChanges} defers the log's writes ({@link SegmentedLog#deferWrites()}). */
    private boolean deferWrites;

    private ListAppender<ILoggingEvent> logged;

    @BeforeEach
    void captureLogs() {
        dir = root.resolve("log");
        logged = new ListAppender<>();
        logged.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(SegmentedLog.class)).addAppender(logged);
    }

    @AfterEach
    void closeLogs() throws IOException {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(SegmentedLog.class)).detachAppender(logged);
        for (SegmentedLog log : opened) {
            log.close();
        }
    }

    private SegmentedLog open(long maxSegmentBytes) throws IOException {
        SegmentedLog log = SegmentedLog.open(
                dir, LogConfig.builder().maxSegmentBytes(maxSegmentBytes).build());
        opened.add(log);
        return log;
    }

    private SegmentedLog reopen(SegmentedLog log) throws IOException {
        log.close();
        return open(log.config().maxSegmentBytes());
    }

    private static byte[] payload(long offset, int size) {
        byte[] p = new byte[size];
        for (int i = 0; i < size; i++) {
            p[i] = (byte) (offset * 31 + i);
        }
        return p;
    }

    /** {@code count} data entries of {@code epoch} from {@code from}, PAYLOAD bytes each. */
    private static List<Entry> data(long epoch, long from, int count) {
        List<Entry> list = new ArrayList<>();
        for (long o = from; o < from + count; o++) {
            list.add(Entry.data(epoch, o, payload(o, PAYLOAD)));
        }
        return list;
    }

    private static List<Entry> all(SegmentedLog log) {
        return log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE);
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".log"))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    private static void flipByte(Path file, long position) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) position] ^= 0x5a;
        Files.write(file, bytes);
    }

    /** Overwrites the payload length field of the record at {@code recordPosition}. */
    private static void setLength(Path file, long recordPosition, int length) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).putInt((int) recordPosition + 18, length);
        Files.write(file, bytes);
    }

    private static void cut(Path file, long size) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    private List<String> warnings() {
        return logged.list.stream()
                .filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage)
                .collect(Collectors.toList());
    }

    // ---- append and read ----

    @Test
    void appendedEntriesReadBackAcrossSegmentRolls() throws IOException {
        SegmentedLog log = open(1024);
        Random random = new Random(42);
        List<Entry> model = new ArrayList<>();
        long epoch = 1;
        while (model.size() < 600) {
            if (random.nextInt(10) == 0) {
                epoch++;
                model.add(Entry.epochStart(epoch, model.size()));
                log.append(model.subList(model.size() - 1, model.size()));
            }
            List<Entry> batch = new ArrayList<>();
            for (int i = random.nextInt(8); i >= 0; i--) {
                long o = (long) model.size() + batch.size();
                batch.add(Entry.data(epoch, o, payload(o, random.nextInt(120))));
            }
            log.append(batch);
            model.addAll(batch);
        }
        assertTrue(segmentFiles().size() > 10, "segments: " + segmentFiles());
        assertEquals(model.size(), log.logEndOffset());
        assertEquals(model, all(log));
        for (int i = 0; i < 300; i++) {
            int from = random.nextInt(model.size());
            int maxEntries = 1 + random.nextInt(50);
            long maxBytes = random.nextInt(2000);
            List<Entry> got = log.read(from, maxEntries, maxBytes);
            assertFalse(got.isEmpty(), "a read below the log end returns at least one entry");
            assertEquals(model.subList(from, from + got.size()), got);
            long bytes = got.stream().mapToLong(Entry::sizeInBytes).sum();
            assertTrue(got.size() == 1 || bytes <= maxBytes, "maxBytes respected");
            assertTrue(got.size() <= maxEntries);
            boolean full = from + got.size() == model.size() || got.size() == maxEntries;
            assertTrue(full || bytes + model.get(from + got.size()).sizeInBytes() > maxBytes, "no early stop");
        }
        assertEquals(List.of(), log.read(model.size(), 10, 1000), "a read at the log end is empty");
    }

    @Test
    void segmentFilesAreNamedByTheOffsetOfTheirFirstRecord() throws IOException {
        SegmentedLog log = open(10 * RECORD);
        log.append(data(1, 0, 35));
        List<Path> files = segmentFiles();
        assertEquals("00000000000000000000.log", files.get(0).getFileName().toString());
        assertEquals(
                List.of(
                        "00000000000000000000.log",
                        "00000000000000000010.log",
                        "00000000000000000020.log",
                        "00000000000000000030.log"),
                files.stream().map(p -> p.getFileName().toString()).collect(Collectors.toList()));
        for (Path f : files) {
            ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(f), 0, SegmentedLog.HEADER_BYTES);
            assertEquals(1, header.get(), "format byte");
            assertEquals(Entry.DATA, header.get());
            assertEquals(1, header.getLong(), "epoch");
            String name = f.getFileName().toString();
            assertEquals(Long.parseLong(name.substring(0, 20)), header.getLong(), "offset of " + name);
            assertEquals(PAYLOAD, header.getInt());
        }
    }

    @Test
    void appendRefusesEntriesThatDoNotFollowTheLogEnd() throws IOException {
        SegmentedLog log = open(4096);
        log.append(data(2, 0, 3));
        assertThrows(IllegalArgumentException.class, () -> log.append(data(2, 4, 1)), "gap");
        assertThrows(IllegalArgumentException.class, () -> log.append(data(2, 2, 1)), "repeat");
        assertThrows(IllegalArgumentException.class, () -> log.append(data(1, 3, 1)), "lower epoch");
        List<Entry> unordered = new ArrayList<>(data(3, 3, 1));
        unordered.addAll(data(2, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> log.append(unordered), "decreasing within a batch");
        assertEquals(3, log.logEndOffset(), "a refused batch appends nothing");
        assertEquals(data(2, 0, 3), all(reopen(log)));
    }

    @Test
    void reopenRestoresEntriesLogEndAndEpochHistory() throws IOException {
        SegmentedLog log = open(300);
        log.append(List.of(Entry.epochStart(1, 0)));
        log.append(data(1, 1, 20));
        log.append(List.of(Entry.epochStart(4, 21)));
        log.append(data(4, 22, 20));
        log.sync();
        List<Entry> before = all(log);
        EpochHistory history = log.epochHistory();
        assertEquals(EpochHistory.of(List.of(new EpochHistory.Start(1, 0), new EpochHistory.Start(4, 21))), history);

        SegmentedLog again = reopen(log);
        assertEquals(42, again.logEndOffset());
        assertEquals(before, all(again));
        assertEquals(history, again.epochHistory());
        assertEquals(4, again.epochAt(41));
        assertEquals(1, again.epochAt(20));
        assertEquals(List.of(), warnings(), "a clean reopen warns about nothing");
        again.append(data(4, 42, 1));
        assertEquals(43, reopen(again).logEndOffset());
    }

    @Test
    void anEmptyDirectoryOpensAsAnEmptyLog() throws IOException {
        SegmentedLog log = open(4096);
        assertEquals(0, log.logEndOffset());
        assertEquals(EpochHistory.empty(), log.epochHistory());
        assertEquals(List.of(), log.read(0, 10, 100));
        assertEquals(0, log.sync());
        assertEquals(List.of(dir.resolve("00000000000000000000.log")), segmentFiles());
        assertEquals(0, reopen(log).logEndOffset());
    }

    // ---- recovery: torn tails ----

    @Test
    void aRecordCutMidPayloadIsTruncatedOnOpenAndTheLogAcceptsAppends() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.close();
        Path segment = segmentFiles().get(0);
        cut(segment, 10L * RECORD - 4);

        SegmentedLog again = open(1 << 20);
        assertEquals(9, again.logEndOffset());
        assertEquals(data(1, 0, 9), all(again));
        assertEquals(9L * RECORD, Files.size(segment));
        assertTrue(
                warnings().stream()
                        .anyMatch(w -> w.contains(segment.toString()) && w.contains("position " + 9 * RECORD)),
                "the warning names the file and position: " + warnings());
        again.append(data(2, 9, 5));
        assertEquals(data(1, 0, 9), reopen(again).read(0, 9, Long.MAX_VALUE));
        assertEquals(14, opened.get(opened.size() - 1).logEndOffset());
    }

    @Test
    void aRecordCutMidHeaderIsTruncatedOnOpen() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.close();
        cut(segmentFiles().get(0), 9L * RECORD + 7);
        SegmentedLog again = open(1 << 20);
        assertEquals(9, again.logEndOffset());
        again.append(data(1, 9, 1));
        assertEquals(data(1, 0, 10), all(reopen(again)));
    }

    @Test
    void aCorruptedLastRecordIsTruncatedOnOpen() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.close();
        flipByte(segmentFiles().get(0), 9L * RECORD + SegmentedLog.HEADER_BYTES + 3);
        SegmentedLog again = open(1 << 20);
        assertEquals(9, again.logEndOffset());
        assertEquals(data(1, 0, 9), all(again));
        assertTrue(
                warnings().stream().anyMatch(w -> w.contains("checksum mismatch")),
                warnings().toString());
    }

    @Test
    void zeroBytesAfterTheLastRecordAreTruncatedOnOpen() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.close();
        Path segment = segmentFiles().get(0);
        Files.write(segment, new byte[5000], StandardOpenOption.APPEND);
        SegmentedLog again = open(1 << 20);
        assertEquals(data(1, 0, 10), all(again));
        assertEquals(10L * RECORD, Files.size(segment));
    }

    @Test
    void syncedEntriesSurviveACrashThatLosesAnyPartOfTheUnsyncedTail() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 20));
        assertEquals(20, log.sync());
        log.append(data(2, 20, 10));
        Path segment = segmentFiles().get(0);
        byte[] full = Files.readAllBytes(segment);
        List<Entry> expected = all(log);
        Files.copy(dir.resolve(EpochCheckpoint.FILE_NAME), root.resolve("checkpoint-copy"));
        log.close();

        // A crash keeps the synced prefix and any prefix of what followed (the page cache writes back in order
        // here; a torn write within a record is covered by the torn-tail tests).
        for (int keep = 20 * RECORD; keep <= full.length; keep += 17) {
            Path copy = Files.createDirectories(root.resolve("crash-" + keep));
            Files.write(copy.resolve(segment.getFileName()), java.util.Arrays.copyOf(full, keep));
            Files.copy(root.resolve("checkpoint-copy"), copy.resolve(EpochCheckpoint.FILE_NAME));
            try (SegmentedLog recovered = SegmentedLog.open(copy, LogConfig.defaults())) {
                long end = recovered.logEndOffset();
                assertEquals(keep / RECORD, end, "records wholly kept in " + keep + " bytes");
                assertEquals(expected.subList(0, (int) end), all(recovered));
                assertEquals(end > 20 ? 2 : 1, recovered.epochHistory().lastEpoch());
            }
        }
    }

    // ---- recovery: what open finds is made durable ----

    @Test
    void openForcesTheRecordsItFindsAndTheDirectory() throws IOException {
        SegmentedLog log = open(10 * RECORD);
        log.append(data(1, 0, 25)); // two rolls; the last segment holds 5 records no sync has forced
        log.close(); // without a sync: as after a SIGKILL, those records may be in the page cache only
        List<Path> segments = segmentFiles();
        assertEquals(3, segments.size());

        RecordingFileSync sync = new RecordingFileSync();
        SegmentedLog again = SegmentedLog.open(
                dir, LogConfig.builder().maxSegmentBytes(10 * RECORD).build(), sync);
        opened.add(again);
        List<Forced> atOpen = sync.forced();
        for (Path segment : segments) {
            assertTrue(atOpen.contains(file(segment)), segment + " forced by open: " + atOpen);
        }
        assertTrue(atOpen.contains(file(checkpoint())), "the checkpoint it kept is forced: " + atOpen);
        assertEquals(directory(dir), atOpen.get(atOpen.size() - 1), "then the directory: " + atOpen);

        // So a sync right after open may report the whole recovered log as durable: open forced it.
        assertEquals(new Synced(25, 1), again.syncWithEpoch());
        assertEquals(atOpen, sync.forced(), "nothing left for the sync to force");
    }

    @Test
    void aLogTakingNewEpochsFromItsRecordsWritesNoCheckpointForThemYetOpensWithTheWholeHistory() throws IOException {
        RecordingFileSync sync = new RecordingFileSync();
        SegmentedLog log = SegmentedLog.open(
                dir, LogConfig.builder().maxSegmentBytes(10 * RECORD).build(), sync);
        opened.add(log);
        log.takeNewEpochStartsFromTheRecords();
        String atOpen = Files.readString(checkpoint());
        List<Forced> forcedAtOpen = sync.forced();
        log.append(data(1, 0, 12));
        log.append(data(3, 12, 4)); // a new epoch: no checkpoint, no fsync on the appending thread
        assertEquals(atOpen, Files.readString(checkpoint()), "the checkpoint is not rewritten for epochs 1 and 3");
        List<Forced> byAppends =
                sync.forced().subList(forcedAtOpen.size(), sync.forced().size());
        assertTrue(
                byAppends.stream().noneMatch(f -> f.path().toString().contains(EpochCheckpoint.FILE_NAME)),
                "no checkpoint forced by the appends (a segment roll is): " + byAppends);
        log.sync();
        log.compact(10); // compaction writes it whole: the start and every epoch the log holds
        log.append(data(5, 16, 2));
        log.sync();
        SegmentedLog again = reopen(log);
        EpochHistory expected = EpochHistory.of(
                List.of(new EpochHistory.Start(1, 0), new EpochHistory.Start(3, 12), new EpochHistory.Start(5, 16)));
        assertEquals(expected, again.epochHistory(), "below the start from the checkpoint, above from the records");
        assertEquals(10, again.logStartOffset());
        assertTrue(
                logged.list.stream().noneMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN),
                "a checkpoint behind the records is kept as found, without a warning: " + logged.list);
    }

    @Test
    void openForcesTheSegmentWhoseTornTailItCut() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.close();
        Path segment = segmentFiles().get(0);
        cut(segment, 10L * RECORD - 4);

        RecordingFileSync sync = new RecordingFileSync();
        opened.add(SegmentedLog.open(dir, LogConfig.defaults(), sync));
        assertEquals(9L * RECORD, Files.size(segment));
        assertTrue(sync.forced().contains(file(segment)), sync.forced().toString());
        assertEquals(directory(dir), sync.forced().get(sync.forced().size() - 1));
    }

    @Test
    void openWithoutFsyncForcesNothing() throws IOException {
        SegmentedLog log = open(10 * RECORD);
        log.append(data(1, 0, 25));
        log.close();
        RecordingFileSync sync = new RecordingFileSync();
        LogConfig unsafe = LogConfig.builder()
                .maxSegmentBytes(10 * RECORD)
                .syncPolicy(SyncPolicy.UNSAFE_NO_FSYNC)
                .build();
        SegmentedLog again = SegmentedLog.open(dir, unsafe, sync);
        opened.add(again);
        again.append(data(2, 25, 10));
        again.sync();
        assertEquals(List.of(), sync.forced());
    }

    // ---- recovery: corruption before the tail ----

    /** 100 records in one segment, synced: the log whose record 10 gets a damaged length. */
    private Path hundredSyncedRecords() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 100));
        assertEquals(100, log.sync());
        log.close();
        Path segment = segmentFiles().get(0);
        assertEquals(100L * RECORD, Files.size(segment));
        return segment;
    }

    private void assertRefusedAt(Path segment, long position, long expectedOffset) throws IOException {
        long size = Files.size(segment);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(1 << 20));
        assertEquals(segment, e.file());
        assertEquals(position, e.position());
        assertEquals(expectedOffset, e.expectedOffset());
        assertTrue(e.getMessage().contains(segment.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("position " + position), e.getMessage());
        assertTrue(e.getMessage().contains("expected offset " + expectedOffset), e.getMessage());
        assertEquals(size, Files.size(segment), "nothing is dropped");
        assertEquals(List.of(), warnings(), "no torn tail is reported");
    }

    @Test
    void aLengthAboveTheLargestRecordIsCorruptionNotATornTail() throws IOException {
        Path segment = hundredSyncedRecords();
        setLength(segment, 10L * RECORD, 0x7FFFFFF0);
        assertRefusedAt(segment, 10L * RECORD, 10);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(1 << 20));
        assertTrue(e.getMessage().contains("maxRecordBytes"), e.getMessage());
    }

    @Test
    void aLengthRunningPastTheFileEndWithIntactRecordsAfterItIsCorruptionNotATornTail() throws IOException {
        Path segment = hundredSyncedRecords();
        long justPastTheEnd = Files.size(segment) - (10L * RECORD + SegmentedLog.HEADER_BYTES) + 1;
        setLength(segment, 10L * RECORD, (int) justPastTheEnd);
        assertRefusedAt(segment, 10L * RECORD, 10);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(1 << 20));
        assertTrue(e.getMessage().contains("intact record at byte position " + 11 * RECORD), e.getMessage());
    }

    @Test
    void aDamagedRecordFollowedByASingleIntactRecordIsCorruption() throws IOException {
        Path segment = hundredSyncedRecords();
        byte[] original = Files.readAllBytes(segment);

        // The last record but one claims the rest of the file, the last record included.
        setLength(segment, 98L * RECORD, 2 * PAYLOAD + SegmentedLog.HEADER_BYTES);
        assertRefusedAt(segment, 98L * RECORD, 98);

        // Its checksum fails, and the last record follows it intact.
        Files.write(segment, original);
        flipByte(segment, 98L * RECORD + SegmentedLog.HEADER_BYTES + 2);
        assertRefusedAt(segment, 98L * RECORD, 98);

        // Its header is cut off in the middle and the last record moved up against it (a lost write).
        ByteBuffer shifted = ByteBuffer.allocate(98 * RECORD + 7 + RECORD);
        shifted.put(original, 0, 98 * RECORD + 7).put(original, 99 * RECORD, RECORD);
        Files.write(segment, shifted.array());
        assertRefusedAt(segment, 98L * RECORD, 98);
    }

    @Test
    void aLastRecordWhoseLengthRunsPastTheFileEndIsStillATornTail() throws IOException {
        Path segment = hundredSyncedRecords();
        setLength(segment, 99L * RECORD, PAYLOAD + 1000);
        SegmentedLog again = open(1 << 20);
        assertEquals(data(1, 0, 99), all(again));
        assertTrue(
                warnings().stream().anyMatch(w -> w.contains("incomplete payload")),
                warnings().toString());
    }

    @Test
    void aDamagedRecordFollowedByOthersIsCorruptionNamingFileAndPosition() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.close();
        Path segment = segmentFiles().get(0);
        flipByte(segment, 4L * RECORD + SegmentedLog.HEADER_BYTES + 1);

        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(1 << 20));
        assertEquals(segment, e.file());
        assertEquals(4L * RECORD, e.position());
        assertEquals(4, e.expectedOffset());
        assertTrue(e.getMessage().contains(segment.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("position " + 4 * RECORD), e.getMessage());
        assertTrue(e.getMessage().contains("expected offset 4"), e.getMessage());
        assertEquals(10L * RECORD, Files.size(segment), "nothing is dropped");
    }

    @Test
    void aDamagedHeaderFollowedByOthersIsCorruption() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.close();
        flipByte(segmentFiles().get(0), 6L * RECORD); // the format byte
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(1 << 20));
        assertEquals(6L * RECORD, e.position());
    }

    @Test
    void damageInASegmentThatIsNotTheLastIsCorruptionEvenAtItsEnd() throws IOException {
        SegmentedLog log = open(10 * RECORD);
        log.append(data(1, 0, 25));
        log.close();
        Path first = segmentFiles().get(0);
        byte[] original = Files.readAllBytes(first);

        flipByte(first, 9L * RECORD + SegmentedLog.HEADER_BYTES); // its last record
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertEquals(first, e.file());
        assertEquals(9L * RECORD, e.position());
        assertTrue(e.getMessage().contains("not the last"), e.getMessage());

        Files.write(first, original);
        cut(first, 9L * RECORD + 5); // torn, but not at the tail of the log
        e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertEquals(first, e.file());
        assertEquals(9L * RECORD, e.position());
    }

    @Test
    void aMissingSegmentFileIsCorruption() throws IOException {
        SegmentedLog log = open(10 * RECORD);
        log.append(data(1, 0, 35));
        log.close();
        Files.delete(dir.resolve("00000000000000000010.log"));
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertEquals(dir.resolve("00000000000000000020.log"), e.file());
        assertEquals(10, e.expectedOffset());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());

        Files.delete(dir.resolve("00000000000000000000.log"));
        e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertEquals(0, e.expectedOffset());
    }

    @Test
    void aGapOrARepeatedOffsetIsCorruption() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.close();
        Path segment = segmentFiles().get(0);
        byte[] original = Files.readAllBytes(segment);

        // Record 3 cut out: record 4 follows record 2, intact.
        ByteBuffer gap = ByteBuffer.allocate(original.length - RECORD);
        gap.put(original, 0, 3 * RECORD).put(original, 4 * RECORD, original.length - 4 * RECORD);
        Files.write(segment, gap.array());
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(1 << 20));
        assertEquals(3L * RECORD, e.position());
        assertTrue(e.getMessage().contains("gap"), e.getMessage());

        // Record 3 twice.
        ByteBuffer repeat = ByteBuffer.allocate(original.length + RECORD);
        repeat.put(original, 0, 4 * RECORD).put(original, 3 * RECORD, original.length - 3 * RECORD);
        Files.write(segment, repeat.array());
        e = assertThrows(CorruptLogException.class, () -> open(1 << 20));
        assertEquals(4L * RECORD, e.position());
        assertTrue(e.getMessage().contains("repeated"), e.getMessage());
    }

    @Test
    void aLogWhoseSegmentFilesAreAllGoneIsCorruptionNotAnEmptyLog() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 3));
        log.close();
        Files.delete(segmentFiles().get(0));
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(1 << 20));
        assertEquals(dir.resolve("00000000000000000000.log"), e.file());
    }

    @Test
    void aRecordDamagedWhileTheLogIsOpenFailsTheReadInsteadOfReturningIt() throws IOException {
        SegmentedLog writer = open(1 << 20);
        writer.append(data(1, 0, 10));
        writer.close();
        // Reopened, so the entries are read from the files (recent appends are served from memory).
        SegmentedLog log = open(1 << 20);
        flipByte(segmentFiles().get(0), 5L * RECORD + SegmentedLog.HEADER_BYTES);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> log.read(3, 5, 10_000));
        CorruptLogException cause = (CorruptLogException) e.getCause();
        assertEquals(5L * RECORD, cause.position());
        assertEquals(data(1, 0, 5), log.read(0, 5, 10_000), "records before the damage still read");
    }

    // ---- truncation ----

    @Test
    void truncationSurvivesReopenAndTheLogContinuesAfterIt() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 10));
        log.append(data(2, 10, 10));
        log.truncate(15);
        assertEquals(15, log.logEndOffset());
        assertEquals(List.of(), log.read(15, 10, 1000));
        log.truncate(7);
        assertEquals(EpochHistory.of(List.of(new EpochHistory.Start(1, 0))), log.epochHistory());
        assertEquals(0, log.epochAt(7));
        log.append(data(3, 7, 3));
        List<Entry> expected = new ArrayList<>(data(1, 0, 7));
        expected.addAll(data(3, 7, 3));
        assertEquals(expected, all(log));

        SegmentedLog again = reopen(log);
        assertEquals(expected, all(again));
        assertEquals(
                EpochHistory.of(List.of(new EpochHistory.Start(1, 0), new EpochHistory.Start(3, 7))),
                again.epochHistory());
        assertEquals(List.of(), warnings());
        assertThrows(IllegalArgumentException.class, () -> again.truncate(11));
        assertThrows(IllegalArgumentException.class, () -> again.truncate(-1));
    }

    @Test
    void truncationAcrossSegmentsDeletesTheLaterSegmentFiles() throws IOException {
        SegmentedLog log = open(10 * RECORD);
        log.append(data(1, 0, 45));
        assertEquals(5, segmentFiles().size());

        log.truncate(30); // exactly the base of the fourth segment: it goes too
        assertEquals(
                List.of(
                        dir.resolve("00000000000000000000.log"),
                        dir.resolve("00000000000000000010.log"),
                        dir.resolve("00000000000000000020.log")),
                segmentFiles());
        log.truncate(13);
        assertEquals(2, segmentFiles().size());
        assertEquals(3L * RECORD, Files.size(dir.resolve("00000000000000000010.log")));
        log.append(data(2, 13, 20)); // rolls again from the truncated segment
        assertEquals(
                List.of(
                        dir.resolve("00000000000000000000.log"),
                        dir.resolve("00000000000000000010.log"),
                        dir.resolve("00000000000000000020.log"),
                        dir.resolve("00000000000000000030.log")),
                segmentFiles());
        List<Entry> expected = new ArrayList<>(data(1, 0, 13));
        expected.addAll(data(2, 13, 20));
        assertEquals(expected, all(reopen(log)));

        SegmentedLog again = opened.get(opened.size() - 1);
        again.truncate(0);
        assertEquals(List.of(dir.resolve("00000000000000000000.log")), segmentFiles());
        assertEquals(0, Files.size(segmentFiles().get(0)));
        assertEquals(EpochHistory.empty(), again.epochHistory());
        SegmentedLog empty = reopen(again);
        assertEquals(0, empty.logEndOffset());
        empty.append(data(5, 0, 1));
        assertEquals(data(5, 0, 1), all(reopen(empty)));
    }

    // ---- epoch history checkpoint ----

    private Path checkpoint() {
        return dir.resolve(EpochCheckpoint.FILE_NAME);
    }

    private static EpochHistory history(long... epochAndStart) {
        List<EpochHistory.Start> starts = new ArrayList<>();
        for (int i = 0; i < epochAndStart.length; i += 2) {
            starts.add(new EpochHistory.Start(epochAndStart[i], epochAndStart[i + 1]));
        }
        return EpochHistory.of(starts);
    }

    @Test
    void theCheckpointFollowsNewEpochsAndTruncations() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 5));
        assertEquals(history(1, 0), EpochCheckpoint.read(checkpoint()));
        log.append(data(3, 5, 5));
        assertEquals(history(1, 0, 3, 5), EpochCheckpoint.read(checkpoint()));
        log.truncate(7);
        assertEquals(history(1, 0, 3, 5), EpochCheckpoint.read(checkpoint()), "no epoch start removed");
        log.truncate(5);
        assertEquals(history(1, 0), EpochCheckpoint.read(checkpoint()));
        assertFalse(Files.exists(AtomicFiles.tempFor(checkpoint())));
    }

    @Test
    void aMissingCheckpointIsRebuiltFromTheRecords() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 5));
        log.append(data(2, 5, 5));
        log.close();
        Files.delete(checkpoint());
        Files.writeString(AtomicFiles.tempFor(checkpoint()), "half-written");
        SegmentedLog again = open(1 << 20);
        assertFalse(Files.exists(AtomicFiles.tempFor(checkpoint())), "a leftover temporary file is removed");
        assertEquals(history(1, 0, 2, 5), again.epochHistory());
        assertEquals(history(1, 0, 2, 5), EpochCheckpoint.read(checkpoint()));
        assertTrue(
                logged.list.stream().anyMatch(e -> e.getFormattedMessage().contains("is missing; writing it")),
                logged.list.toString());
    }

    @Test
    void aCorruptCheckpointIsRebuiltFromTheRecords() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 5));
        log.append(data(2, 5, 5));
        log.close();
        String text = Files.readString(checkpoint());
        Files.writeString(checkpoint(), text.replace("2 5", "2 6")); // checksum no longer matches
        SegmentedLog again = open(1 << 20);
        assertEquals(history(1, 0, 2, 5), again.epochHistory());
        assertEquals(history(1, 0, 2, 5), EpochCheckpoint.read(checkpoint()));
        assertTrue(
                warnings().stream().anyMatch(w -> w.contains("checksum")),
                warnings().toString());

        again.close();
        Files.writeString(checkpoint(), "garbage");
        assertEquals(history(1, 0, 2, 5), open(1 << 20).epochHistory());
    }

    @Test
    void aCheckpointThatDisagreesWithTheRecordsLosesToThem() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 5));
        log.append(data(2, 5, 5));
        log.close();
        EpochCheckpoint.write(checkpoint(), history(1, 0, 3, 4), FileSync.FORCE);
        SegmentedLog again = open(1 << 20);
        assertEquals(history(1, 0, 2, 5), again.epochHistory());
        assertEquals(2, again.epochAt(9));
        assertEquals(history(1, 0, 2, 5), EpochCheckpoint.read(checkpoint()));
        assertTrue(
                warnings().stream().anyMatch(w -> w.contains("records win")),
                warnings().toString());
    }

    @Test
    void epochStartsAtOrAfterTheLogEndAreTrimmedFromTheCheckpoint() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 5));
        log.close();
        // As after a crash between writing the checkpoint of a new epoch and its first record.
        EpochCheckpoint.write(checkpoint(), history(1, 0, 2, 5), FileSync.FORCE);
        SegmentedLog again = open(1 << 20);
        assertEquals(history(1, 0), again.epochHistory());
        assertEquals(history(1, 0), EpochCheckpoint.read(checkpoint()));
        assertEquals(List.of(), warnings(), "an expected state, not a warning");
    }

    // ---- compaction and reset ----

    private List<String> segmentNames() throws IOException {
        return segmentFiles().stream().map(p -> p.getFileName().toString()).collect(Collectors.toList());
    }

    private static String seg(long base) {
        return SegmentedLog.segmentName(base);
    }

    /** Entries [from, to) of epochs 1 (below 12), 2 (below 27) and 3, as {@link #threeEpochs} appends them. */
    private static List<Entry> threeEpochsRange(long from, long to) {
        List<Entry> list = new ArrayList<>();
        for (long o = from; o < to; o++) {
            list.add(Entry.data(o < 12 ? 1 : o < 27 ? 2 : 3, o, payload(o, PAYLOAD)));
        }
        return list;
    }

    /** 45 entries in segments of 10: epochs 1 from 0, 2 from 12, 3 from 27. */
    private SegmentedLog threeEpochs() throws IOException {
        SegmentedLog log = open(10 * RECORD);
        log.append(threeEpochsRange(0, 12));
        log.append(threeEpochsRange(12, 27));
        log.append(threeEpochsRange(27, 45));
        assertEquals(history(1, 0, 2, 12, 3, 27), log.epochHistory());
        assertEquals(List.of(seg(0), seg(10), seg(20), seg(30), seg(40)), segmentNames());
        return log;
    }

    @Test
    void compactDeletesWholeSegmentsBelowTheStartDurably() throws IOException {
        threeEpochs().close();
        RecordingFileSync sync = new RecordingFileSync();
        SegmentedLog log = SegmentedLog.open(
                dir, LogConfig.builder().maxSegmentBytes(10 * RECORD).build(), sync);
        opened.add(log);
        sync.clear();
        List<List<String>> filesAtForce = new ArrayList<>();
        sync.onForce(f -> {
            try {
                filesAtForce.add(segmentNames());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });

        log.compact(25); // [0, 10) and [10, 20) lie wholly below 25; [20, 30) does not
        assertEquals(20, log.logStartOffset());
        assertEquals(45, log.logEndOffset());
        assertEquals(List.of(seg(20), seg(30), seg(40)), segmentNames());
        assertEquals(history(1, 0, 2, 12, 3, 27), log.epochHistory(), "the history keeps the compacted prefix");
        assertEquals(2, log.epochAt(15));
        assertEquals(threeEpochsRange(20, 45), log.read(20, 100, Long.MAX_VALUE));

        // The new start is durable in the checkpoint before any segment goes; the directory is forced after.
        List<Forced> forced = sync.forced();
        Path temp = AtomicFiles.tempFor(checkpoint());
        int checkpointForce = forced.indexOf(file(temp));
        assertTrue(checkpointForce >= 0, forced.toString());
        assertEquals(
                List.of(seg(0), seg(10), seg(20), seg(30), seg(40)),
                filesAtForce.get(checkpointForce),
                "no segment deleted before the checkpoint names the new start");
        assertEquals(20, EpochCheckpoint.load(checkpoint()).logStart());
        assertEquals(directory(dir), forced.get(forced.size() - 1), forced.toString());
        assertEquals(List.of(seg(20), seg(30), seg(40)), filesAtForce.get(forced.size() - 1));

        // Never the active segment, even when the whole log is below the new start.
        log.compact(45);
        assertEquals(40, log.logStartOffset());
        assertEquals(List.of(seg(40)), segmentNames());
        assertEquals(threeEpochsRange(40, 45), log.read(40, 100, Long.MAX_VALUE));

        // At or below the start: nothing to do; beyond the end: refused.
        sync.clear();
        log.compact(40);
        log.compact(3);
        assertEquals(List.of(), sync.forced());
        assertThrows(IllegalArgumentException.class, () -> log.compact(46));
        assertEquals(40, log.logStartOffset());
    }

    @Test
    void compactedLogReopensWithItsStartAndFullEpochHistory() throws IOException {
        SegmentedLog log = threeEpochs();
        log.compact(31);
        assertEquals(30, log.logStartOffset());
        SegmentedLog again = reopen(log);
        assertEquals(30, again.logStartOffset());
        assertEquals(45, again.logEndOffset());
        assertEquals(history(1, 0, 2, 12, 3, 27), again.epochHistory());
        assertEquals(1, again.epochAt(11));
        assertEquals(threeEpochsRange(30, 45), again.read(30, 100, Long.MAX_VALUE));
        assertEquals(List.of(), warnings(), "a compacted log reopens without a warning");

        // A new epoch after the compaction, then a reopen: the checkpoint keeps the start and both parts.
        again.append(List.of(Entry.data(5, 45, payload(45, PAYLOAD))));
        SegmentedLog third = reopen(again);
        assertEquals(30, third.logStartOffset());
        assertEquals(history(1, 0, 2, 12, 3, 27, 5, 45), third.epochHistory());
        assertEquals(new EpochCheckpoint.Contents(30, history(1, 0, 2, 12, 3, 27, 5, 45)), load());
        assertEquals(List.of(), warnings());
    }

    private EpochCheckpoint.Contents load() throws IOException {
        return EpochCheckpoint.load(checkpoint());
    }

    @Test
    void aCompactionInterruptedBeforeItsDeletionsIsFinishedByOpen() throws IOException {
        SegmentedLog log = threeEpochs();
        log.close();
        // As after a crash right after compact() wrote the checkpoint: the segments below are still there.
        EpochCheckpoint.write(checkpoint(), 20, history(1, 0, 2, 12, 3, 27), FileSync.FORCE);
        SegmentedLog again = open(10 * RECORD);
        assertEquals(20, again.logStartOffset());
        assertEquals(List.of(seg(20), seg(30), seg(40)), segmentNames());
        assertEquals(threeEpochsRange(20, 45), again.read(20, 100, Long.MAX_VALUE));
        assertEquals(history(1, 0, 2, 12, 3, 27), again.epochHistory());
    }

    @Test
    void aLogStartThatIsNoLeftoverBoundaryDeletesNothingAndIsRefused() throws IOException {
        threeEpochs().close();
        List<String> all = segmentNames();
        EpochCheckpoint.write(checkpoint(), 15, history(1, 0, 2, 12, 3, 27), FileSync.FORCE);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertTrue(e.getMessage().contains("no segment starts there"), e.getMessage());
        assertEquals(all, segmentNames());

        // Every segment below the start, holding records: not what an interrupted reset leaves.
        EpochCheckpoint.write(checkpoint(), 100, history(1, 0, 2, 12, 3, 27), FileSync.FORCE);
        e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertTrue(e.getMessage().contains("every segment starts below the log start 100"), e.getMessage());
        assertEquals(all, segmentNames());
    }

    @Test
    void aMissingSegmentOfACompactedLogIsStillCorruption() throws IOException {
        SegmentedLog log = threeEpochs();
        log.compact(20);
        log.close();
        Files.delete(dir.resolve(seg(20)));
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertEquals(20, e.expectedOffset());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void aCompactedLogWithoutItsCheckpointIsRefused() throws IOException {
        SegmentedLog log = threeEpochs();
        log.compact(20);
        log.close();
        Files.delete(checkpoint());
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertEquals(checkpoint(), e.file());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        Files.writeString(checkpoint(), "garbage");
        e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
        assertEquals(List.of(seg(20), seg(30), seg(40)), segmentNames(), "nothing deleted");
    }

    @Test
    void aCheckpointWhoseEpochBelowTheStartIsAboveTheRecordsIsCorruption() throws IOException {
        SegmentedLog log = threeEpochs();
        log.compact(20);
        log.close();
        EpochCheckpoint.write(checkpoint(), 20, history(1, 0, 4, 12), FileSync.FORCE);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> open(10 * RECORD));
        assertEquals(20, e.expectedOffset());
        assertTrue(e.getMessage().contains("below the log start"), e.getMessage());
    }

    @Test
    void readBelowTheLogStartIsRefused() throws IOException {
        SegmentedLog log = threeEpochs();
        log.compact(20);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> log.read(19, 10, 1000));
        assertTrue(e.getMessage().contains("below the log start 20"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> log.read(0, 10, 1000));
        assertEquals(threeEpochsRange(20, 21), log.read(20, 1, 1000));
        assertThrows(IllegalArgumentException.class, () -> log.truncate(19), "the compacted entries are committed");

        log.truncate(20); // down to the start: an empty log that starts and ends at 20
        assertEquals(20, log.logEndOffset());
        assertEquals(history(1, 0, 2, 12), log.epochHistory());
        assertEquals(List.of(), log.read(20, 10, 1000));
        SegmentedLog again = reopen(log);
        assertEquals(20, again.logStartOffset());
        assertEquals(20, again.logEndOffset());
        assertEquals(history(1, 0, 2, 12), again.epochHistory());
        again.append(List.of(Entry.data(6, 20, payload(20, PAYLOAD))));
        assertEquals(history(1, 0, 2, 12, 6, 20), reopen(again).epochHistory());
    }

    @Test
    void resetToLeavesAnEmptyLogAtTheSnapshotOffset() throws IOException {
        threeEpochs().close();
        RecordingFileSync sync = new RecordingFileSync();
        SegmentedLog log = SegmentedLog.open(
                dir, LogConfig.builder().maxSegmentBytes(10 * RECORD).build(), sync);
        opened.add(log);
        sync.clear();

        EpochHistory snapshotHistory = history(1, 0, 2, 12, 4, 60);
        log.resetTo(100, snapshotHistory);
        assertEquals(100, log.logStartOffset());
        assertEquals(100, log.logEndOffset());
        assertEquals(snapshotHistory, log.epochHistory());
        assertEquals(4, log.epochAt(99));
        assertEquals(List.of(seg(100)), segmentNames());
        assertEquals(0, Files.size(dir.resolve(seg(100))));
        assertEquals(new EpochCheckpoint.Contents(100, snapshotHistory), load());
        assertEquals(List.of(), log.read(100, 10, 1000));
        assertThrows(IllegalArgumentException.class, () -> log.read(99, 10, 1000));
        assertEquals(new Synced(100, 4), log.syncWithEpoch());
        List<Forced> forced = sync.forced();
        assertEquals(directory(dir), forced.get(forced.size() - 1), "durable before it returns: " + forced);

        log.append(List.of(Entry.epochStart(5, 100)));
        log.append(data(5, 101, 14)); // rolls at 110
        assertEquals(List.of(seg(100), seg(110)), segmentNames());
        SegmentedLog again = reopen(log);
        assertEquals(100, again.logStartOffset());
        assertEquals(115, again.logEndOffset());
        assertEquals(history(1, 0, 2, 12, 4, 60, 5, 100), again.epochHistory());
        assertEquals(data(5, 101, 14), again.read(101, 100, Long.MAX_VALUE));
        assertEquals(List.of(), warnings());

        // Below the current start (a leader's older snapshot), and at exactly the current start.
        again.resetTo(50, history(1, 0, 2, 12, 4, 40));
        assertEquals(List.of(seg(50)), segmentNames());
        assertEquals(50, reopen(again).logStartOffset());
        SegmentedLog fourth = opened.get(opened.size() - 1);
        fourth.resetTo(50, history(1, 0, 3, 30));
        assertEquals(List.of(seg(50)), segmentNames());
        SegmentedLog fifth = reopen(fourth);
        assertEquals(50, fifth.logEndOffset());
        assertEquals(history(1, 0, 3, 30), fifth.epochHistory());

        // And back to an empty log at 0.
        fifth.resetTo(0, EpochHistory.empty());
        SegmentedLog sixth = reopen(fifth);
        assertEquals(0, sixth.logEndOffset());
        assertEquals(EpochHistory.empty(), sixth.epochHistory());
        assertEquals(List.of(seg(0)), segmentNames());
    }

    @Test
    void resetToRefusesAHistoryThatDoesNotEndAtItsOffset() throws IOException {
        SegmentedLog log = threeEpochs();
        assertThrows(IllegalArgumentException.class, () -> log.resetTo(100, history(1, 0, 2, 100)));
        assertThrows(IllegalArgumentException.class, () -> log.resetTo(100, EpochHistory.empty()));
        assertThrows(IllegalArgumentException.class, () -> log.resetTo(-1, EpochHistory.empty()));
        assertEquals(45, log.logEndOffset(), "a refused reset changes nothing");
        assertEquals(threeEpochsRange(0, 45), all(log));
    }

    @Test
    void resetInterruptedPartWayReopensWithItsStartUnchanged() throws IOException {
        SegmentedLog log = threeEpochs();
        log.compact(20);
        log.close();
        Path saved = root.resolve("saved");
        copyDir(dir, saved);
        EpochHistory oldHistory = history(1, 0, 2, 12, 3, 27);
        EpochHistory newHistory = history(1, 0, 2, 12, 4, 60);

        // resetTo deletes the segments newest first: a crash after deleting some leaves a prefix.
        Files.delete(dir.resolve(seg(40)));
        SegmentedLog crashed = open(10 * RECORD);
        assertEquals(20, crashed.logStartOffset());
        assertEquals(40, crashed.logEndOffset());
        assertEquals(threeEpochsRange(20, 40), crashed.read(20, 100, Long.MAX_VALUE));
        assertEquals(oldHistory, crashed.epochHistory());
        crashed.close();
        Files.delete(dir.resolve(seg(30)));
        crashed = open(10 * RECORD);
        assertEquals(20, crashed.logStartOffset());
        assertEquals(30, crashed.logEndOffset());
        assertEquals(oldHistory, crashed.epochHistory());
        crashed.close();

        // Then it empties the first segment: an empty log at the old start.
        cut(dir.resolve(seg(20)), 0);
        crashed = open(10 * RECORD);
        assertEquals(20, crashed.logStartOffset());
        assertEquals(20, crashed.logEndOffset());
        assertEquals(history(1, 0, 2, 12), crashed.epochHistory());
        crashed.close();

        // Then (a start above the old one) the checkpoint names the new start before the rename: the emptied
        // segment is a leftover below it, and the log opens as the new one.
        cut(dir.resolve(seg(20)), 0);
        EpochCheckpoint.write(checkpoint(), 100, newHistory, FileSync.FORCE);
        crashed = open(10 * RECORD);
        assertEquals(100, crashed.logStartOffset());
        assertEquals(100, crashed.logEndOffset());
        assertEquals(newHistory, crashed.epochHistory());
        assertEquals(List.of(seg(100)), segmentNames());
        crashed.close();

        // (A start below the old one) the rename comes first: the renamed empty segment is below the start the
        // old checkpoint names, and the log opens as the old one, emptied.
        deleteDir(dir);
        copyDir(saved, dir);
        Files.delete(dir.resolve(seg(40)));
        Files.delete(dir.resolve(seg(30)));
        cut(dir.resolve(seg(20)), 0);
        Files.move(dir.resolve(seg(20)), dir.resolve(seg(5)));
        crashed = open(10 * RECORD);
        assertEquals(20, crashed.logStartOffset());
        assertEquals(20, crashed.logEndOffset());
        assertEquals(history(1, 0, 2, 12), crashed.epochHistory());
        assertEquals(List.of(seg(20)), segmentNames());
    }

    private static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.collect(Collectors.toList())) {
                if (!f.getFileName().toString().equals("lock")) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }

    private static void deleteDir(Path d) throws IOException {
        try (Stream<Path> files = Files.list(d)) {
            for (Path f : files.collect(Collectors.toList())) {
                Files.delete(f);
            }
        }
        Files.delete(d);
    }

    @Test
    @Timeout(30)
    void syncFromAnotherThreadWhileCompactingAndResettingNeverFails() throws Exception {
        SegmentedLog log = SegmentedLog.open(
                dir, LogConfig.builder().maxSegmentBytes(8 * RECORD).build());
        opened.add(log);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> syncError = new AtomicReference<>();
        AtomicInteger syncs = new AtomicInteger();
        Thread syncer = new Thread(
                () -> {
                    try {
                        while (!stop.get()) {
                            log.sync();
                            syncs.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        syncError.set(t);
                    }
                },
                "group-commit");
        syncer.start();
        Random random = new Random(11);
        long epoch = 1;
        int compactions = 0;
        int resets = 0;
        for (int change = 0; change < 300 && syncError.get() == null; change++) {
            long start = log.logStartOffset();
            long end = log.logEndOffset();
            int r = random.nextInt(20);
            if (r == 0) {
                epoch++;
                long offset = end + random.nextInt(50);
                log.resetTo(offset, offset == 0 ? EpochHistory.empty() : history(epoch, 0));
                resets++;
            } else if (r < 5 && end > start) {
                log.compact(start + random.nextInt((int) (end - start) + 1));
                compactions++;
            } else {
                if (random.nextInt(20) == 0) {
                    epoch++;
                }
                log.append(data(epoch, end, 1 + random.nextInt(10)));
            }
        }
        stop.set(true);
        syncer.join();
        if (syncError.get() != null) {
            throw new AssertionError("sync failed", syncError.get());
        }
        assertTrue(compactions > 10 && resets > 3, compactions + " compactions, " + resets + " resets");
        assertTrue(syncs.get() > 0);
        List<Entry> content = log.read(log.logStartOffset(), Integer.MAX_VALUE, Long.MAX_VALUE);
        long start = log.logStartOffset();
        EpochHistory history = log.epochHistory();
        assertEquals(log.logEndOffset(), log.sync());
        SegmentedLog again = reopen(log);
        assertEquals(start, again.logStartOffset());
        assertEquals(history, again.epochHistory());
        assertEquals(content, again.read(start, Integer.MAX_VALUE, Long.MAX_VALUE));
    }

    // ---- concurrency ----

    @Test
    @Timeout(30)
    void syncFromAnotherThreadWhileAppendingAndTruncatingNeverFailsAndNeverOvershoots() throws Exception {
        // Forcing for real: syncs race with segment rolls and with truncations deleting the segments they force.
        syncRacesWithChanges(SyncPolicy.FSYNC, 400, 3_000);
    }

    @Test
    @Timeout(30)
    void syncWithoutFsyncRacingManyMoreChangesNeverOvershoots() throws Exception {
        syncRacesWithChanges(SyncPolicy.UNSAFE_NO_FSYNC, 30_000, 2_000);
    }

    @Test
    @Timeout(30)
    void syncRacingDeferredAppendsAndTruncationsWritesWhatWaitsAndNeverOvershoots() throws Exception {
        // The syncing thread writes the records an append left waiting while the event thread appends more.
        deferWrites = true;
        syncRacesWithChanges(SyncPolicy.FSYNC, 400, 3_000);
    }

    @Test
    void deferredAppendsReachTheFileInBulkAndWhateverNeedsTheFileWritesThemFirst() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.deferWrites();
        Path segment = segmentFiles().get(0);
        log.append(data(1, 0, 3));
        assertEquals(0, Files.size(segment), "an append under DEFERRED_BYTES leaves its records waiting");
        assertEquals(data(1, 0, 3), all(log), "read from the tail cache");
        assertEquals(3, log.sync(), "a sync writes what waits, then forces it");
        assertEquals(3L * RECORD, Files.size(segment));

        int fill = SegmentedLog.DEFERRED_BYTES / RECORD + 1;
        log.append(data(1, 3, fill - 1));
        assertEquals(3L * RECORD, Files.size(segment));
        log.append(data(1, 2 + fill, 1));
        assertEquals((3L + fill) * RECORD, Files.size(segment), "written once DEFERRED_BYTES wait");

        log.append(data(2, 3 + fill, 4));
        log.truncate(5 + fill); // inside what waits: written first, then cut
        assertEquals((5L + fill) * RECORD, Files.size(segment));
        log.append(data(3, 5 + fill, 2));
        List<Entry> expected = all(log);
        assertEquals(7 + fill, expected.size());
        SegmentedLog again = reopen(log); // close writes what waits (to the page cache, as appends did)
        assertEquals(expected, all(again));
        assertEquals(history(1, 0, 2, 3 + fill, 3, 5 + fill), again.epochHistory());
    }

    @Test
    void aReadTheTailCacheCannotAnswerWritesWhatWaitsFirst() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(data(1, 0, 5));
        SegmentedLog again = reopen(log); // an empty tail cache: offsets 0-4 are in the file only
        again.deferWrites();
        again.append(data(1, 5, 2));
        assertEquals(5L * RECORD, Files.size(segmentFiles().get(0)));
        assertEquals(data(1, 0, 7), again.read(0, 100, Long.MAX_VALUE), "the file read sees what waited");
        assertEquals(7L * RECORD, Files.size(segmentFiles().get(0)));
    }

    /**
     * The event thread appends (rolling segments) and truncates (deleting segments) while another thread
     * syncs in a loop; every sync must succeed and report an end not above the log end when it returned.
     */
    private void syncRacesWithChanges(SyncPolicy policy, int maxChanges, long maxMillis) throws Exception {
        SegmentedLog log = SegmentedLog.open(
                dir,
                LogConfig.builder()
                        .maxSegmentBytes(8 * RECORD)
                        .syncPolicy(policy)
                        .build());
        opened.add(log);
        if (deferWrites) {
            log.deferWrites();
        }
        // ends[v]: the log end after the v-th change by the event thread, published through `version`.
        long[] ends = new long[maxChanges + 2];
        AtomicInteger version = new AtomicInteger();
        int capacity = 200_000;
        int[] before = new int[capacity];
        int[] after = new int[capacity];
        long[] synced = new long[capacity];
        AtomicInteger observed = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> syncError = new AtomicReference<>();
        Thread syncer = new Thread(
                () -> {
                    try {
                        // The latest `capacity` syncs are kept (a ring): without fsync the syncer can run many
                        // syncs before the event thread changes anything, and those all report 0.
                        int n = 0;
                        while (!stop.get()) {
                            int v = version.get();
                            long end = log.sync();
                            int i = n % capacity;
                            before[i] = v;
                            synced[i] = end;
                            after[i] = version.get();
                            observed.set(++n);
                        }
                    } catch (Throwable t) {
                        syncError.set(t);
                    }
                },
                "group-commit");
        syncer.start();

        Random random = new Random(7);
        long epoch = 1;
        long deadline = System.nanoTime() + maxMillis * 1_000_000L;
        int changes = 0;
        int truncations = 0;
        while (changes < maxChanges && System.nanoTime() < deadline && syncError.get() == null) {
            long end = log.logEndOffset();
            if (end > 0 && random.nextInt(4) == 0) {
                log.truncate(Math.max(0, end - 1 - random.nextInt(30)));
                truncations++;
            } else {
                if (random.nextInt(20) == 0) {
                    epoch++;
                }
                log.append(data(epoch, end, 1 + random.nextInt(10)));
            }
            changes++;
            ends[changes] = log.logEndOffset();
            version.set(changes);
        }
        stop.set(true);
        syncer.join();
        if (syncError.get() != null) {
            throw new AssertionError("sync failed", syncError.get());
        }
        int total = observed.get();
        assertTrue(total > 10, "syncs: " + total);
        int n = Math.min(total, capacity);
        assertTrue(truncations > 5, "truncations: " + truncations);
        int nonZero = 0;
        for (int i = 0; i < n; i++) {
            // The log end when sync returned is one of the ends published around the call (or the next one: a
            // change may have been made but not yet published).
            long highest = 0;
            for (int v = before[i]; v <= Math.min(after[i] + 1, changes); v++) {
                highest = Math.max(highest, ends[v]);
            }
            assertTrue(
                    synced[i] <= highest,
                    "sync " + i + " returned " + synced[i] + ", above every log end " + "between versions " + before[i]
                            + " and " + after[i]);
            nonZero += synced[i] > 0 ? 1 : 0;
        }
        assertTrue(nonZero > 0, "syncs report progress");
        List<Entry> content = all(log);
        assertEquals(log.logEndOffset(), log.sync());
        assertEquals(content, all(reopen(log)));
    }

    // ---- lifecycle ----

    @Test
    void useAfterCloseIsRefused() throws IOException {
        SegmentedLog log = open(4096);
        log.append(data(1, 0, 3));
        log.close();
        log.close(); // idempotent
        for (Runnable call : List.<Runnable>of(
                log::logEndOffset,
                log::epochHistory,
                () -> log.epochAt(0),
                () -> log.append(data(1, 3, 1)),
                () -> log.truncate(1),
                () -> log.read(0, 1, 100),
                log::logStartOffset,
                () -> log.compact(1),
                () -> log.resetTo(10, history(1, 0)),
                () -> {
                    try {
                        log.sync();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                })) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call::run);
            assertEquals("log is closed", e.getMessage());
        }
    }

    @Test
    void aLogDirectoryCannotBeOpenedTwice() throws IOException {
        SegmentedLog log = open(4096);
        IOException e = assertThrows(IOException.class, () -> open(4096));
        assertTrue(e.getMessage().contains("already open"), e.getMessage());
        assertNotNull(reopen(log));
    }

    @Test
    void unsafeNoFsyncStillReportsTheLogEnd() throws IOException {
        try (SegmentedLog log = SegmentedLog.open(
                dir, LogConfig.builder().syncPolicy(SyncPolicy.UNSAFE_NO_FSYNC).build())) {
            log.append(data(1, 0, 4));
            assertEquals(new Synced(4, 1), log.syncWithEpoch());
        }
        assertEquals(LogConfig.DEFAULT_MAX_SEGMENT_BYTES, LogConfig.defaults().maxSegmentBytes());
        assertEquals(SyncPolicy.FSYNC, LogConfig.defaults().syncPolicy());
        assertThrows(
                IllegalArgumentException.class,
                () -> LogConfig.builder().maxSegmentBytes(10).build());
    }

    @Test
    void anAppendLargerThanMaxRecordBytesIsRefusedWithoutChangingTheLog() throws IOException {
        int max = SegmentedLog.HEADER_BYTES + 100;
        SegmentedLog log =
                SegmentedLog.open(dir, LogConfig.builder().maxRecordBytes(max).build());
        opened.add(log);
        log.append(data(1, 0, 3));
        Path segment = segmentFiles().get(0);
        byte[] segmentBefore = Files.readAllBytes(segment);
        String checkpointBefore = Files.readString(checkpoint());

        // A new epoch, so the checkpoint would be rewritten first; the oversized entry comes second.
        List<Entry> batch = List.of(Entry.data(2, 3, new byte[100]), Entry.data(2, 4, new byte[101]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> log.append(batch));
        assertTrue(e.getMessage().contains("maxRecordBytes " + max), e.getMessage());
        assertEquals(3, log.logEndOffset());
        assertEquals(history(1, 0), log.epochHistory());
        assertEquals(data(1, 0, 3), all(log));
        assertTrue(java.util.Arrays.equals(segmentBefore, Files.readAllBytes(segment)), "the segment is unchanged");
        assertEquals(checkpointBefore, Files.readString(checkpoint()), "the checkpoint is unchanged");

        log.append(batch.subList(0, 1)); // exactly maxRecordBytes is accepted
        assertEquals(4, reopen(log).logEndOffset());
    }

    @Test
    void aLogIsRefusedByAMaxRecordBytesSmallerThanARecordItHolds() throws IOException {
        SegmentedLog log = open(1 << 20);
        log.append(List.of(Entry.data(1, 0, new byte[500]), Entry.data(1, 1, new byte[10])));
        log.close();
        CorruptLogException e = assertThrows(
                CorruptLogException.class,
                () -> SegmentedLog.open(
                        dir, LogConfig.builder().maxRecordBytes(100).build()));
        assertEquals(0, e.position());
        assertTrue(e.getMessage().contains("maxRecordBytes 100"), e.getMessage());
        assertEquals(2, open(1 << 20).logEndOffset(), "opened with the size it was written with");
    }

    @Test
    void theDefaultMaxRecordBytesHoldsEveryEntryTheTransportCarries() {
        // A frame holding an entry also holds the entry's 21-byte header and the message's own fields, more
        // than a record's 26-byte header: an entry in a frame of the default size fits a record of it.
        assertTrue(LogConfig.DEFAULT_MAX_RECORD_BYTES >= NettyTransport.DEFAULT_MAX_FRAME_BYTES);
        assertEquals(LogConfig.DEFAULT_MAX_RECORD_BYTES, LogConfig.defaults().maxRecordBytes());
        assertThrows(
                IllegalArgumentException.class,
                () -> LogConfig.builder()
                        .maxRecordBytes(SegmentedLog.HEADER_BYTES - 1)
                        .build());
    }

    @Test
    void aRecordLargerThanASegmentGetsASegmentOfItsOwn() throws IOException {
        SegmentedLog log = open(100);
        byte[] big = new byte[1000];
        new Random(1).nextBytes(big);
        log.append(List.of(Entry.data(1, 0, "a".getBytes(StandardCharsets.UTF_8)), Entry.data(1, 1, big)));
        log.append(data(1, 2, 1));
        assertEquals(3, segmentFiles().size());
        List<Entry> content = all(log);
        assertEquals(content, all(reopen(log)));
        assertEquals(1000, content.get(1).payload().length);
    }

    @Test
    void logsOpenedWithOneTailBudgetKeepAtMostItInMemoryTogetherAndAClosedLogGivesItsShareBack() throws IOException {
        TailBudget budget = new TailBudget(20 * RECORD);
        SegmentedLog a = SegmentedLog.open(root.resolve("a"), LogConfig.defaults(), budget);
        try (SegmentedLog b = SegmentedLog.open(root.resolve("b"), LogConfig.defaults(), budget)) {
            a.append(data(1, 0, 100));
            b.append(data(1, 0, 100));
            long oneEntry = PAYLOAD + 32L;
            long together = a.tailCachedBytes() + b.tailCachedBytes();
            assertTrue(
                    together <= budget.totalBytes() + 2 * oneEntry,
                    "the two logs keep " + together + " bytes, against a budget of " + budget.totalBytes());
            assertEquals(together, budget.cachedBytes());
            assertEquals(data(1, 0, 100), all(a), "what the cache let go reads from the files");
            a.close();
            assertEquals(b.tailCachedBytes(), budget.cachedBytes(), "a closed log keeps nothing in the budget");
            b.append(data(1, 100, 100));
            assertTrue(
                    b.tailCachedBytes() > together / 2 + oneEntry,
                    "b grows into a's share: " + b.tailCachedBytes() + " bytes");
        } finally {
            a.close(); // idempotent
        }
    }
}
