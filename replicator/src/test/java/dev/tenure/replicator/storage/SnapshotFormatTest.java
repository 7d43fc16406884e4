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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.core.SnapshotStore.CorruptSnapshotException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotFormatTest {
    private static final SnapshotId ID = new SnapshotId(100, 3);
    private static final EpochHistory HISTORY =
            EpochHistory.of(List.of(new EpochHistory.Start(1, 0), new EpochHistory.Start(3, 40)));
    private static final List<String> MEMBERS = List.of("a", "b", "ü");

    @TempDir
    Path dir;

    private static byte[] state(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] snapshot(byte[] state) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long written = SnapshotFormat.write(out, ID, HISTORY, MEMBERS, s -> s.write(state));
        assertEquals(out.size(), written);
        return out.toByteArray();
    }

    private Path file(byte[] bytes) throws IOException {
        Path f = dir.resolve("s.snap");
        Files.write(f, bytes);
        return f;
    }

    private SnapshotFormat.Header validate(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            return SnapshotFormat.validate(ch, f);
        }
    }

    private byte[] readState(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            SnapshotFormat.Header h = SnapshotFormat.readHeader(ch, f);
            try (InputStream in = SnapshotFormat.stateStream(FileChannel.open(f, StandardOpenOption.READ), f, h)) {
                return in.readAllBytes();
            }
        }
    }

    private CorruptSnapshotException refused(byte[] bytes, String what) throws IOException {
        Path f = file(bytes);
        CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, () -> validate(f));
        assertTrue(e.getMessage().contains(f.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(what), "says '" + what + "': " + e.getMessage());
        return e;
    }

    @Test
    void aWrittenSnapshotReadsBackItsHeaderAndState() throws IOException {
        byte[] state = state(200_000, 1);
        byte[] bytes = snapshot(state);
        Path f = file(bytes);
        SnapshotFormat.Header h = validate(f);
        assertEquals(ID, h.id());
        assertEquals(HISTORY, h.history());
        assertEquals(MEMBERS, h.members());
        assertEquals(bytes.length, h.headerBytes() + state.length + SnapshotFormat.TRAILER_BYTES);
        assertEquals(state.length, h.meta(bytes.length).sizeBytes() - h.headerBytes() - 12);
        assertArrayEquals(state, readState(f));
    }

    @Test
    void theLayoutIsTheOneDocumented() throws IOException {
        byte[] state = "state".getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = snapshot(state);
        ByteBuffer b = ByteBuffer.wrap(bytes);
        assertEquals("TSNP", new String(bytes, 0, 4, StandardCharsets.US_ASCII));
        assertEquals(SnapshotFormat.MAGIC, b.getInt(0));
        assertEquals(1, b.get(4), "version");
        assertEquals(100, b.getLong(5), "offset");
        assertEquals(3, b.getLong(13), "epoch");
        assertEquals(2, b.getInt(21), "history starts");
        assertEquals(1, b.getLong(25));
        assertEquals(0, b.getLong(33));
        assertEquals(3, b.getLong(41));
        assertEquals(40, b.getLong(49));
        assertEquals(3, b.getInt(57), "members");
        assertEquals(1, b.getShort(61));
        assertEquals('a', b.get(63));
        assertEquals(1, b.getShort(64));
        assertEquals(2, b.getShort(67), "ü is two bytes of UTF-8");
        int headerCrcAt = 71;
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, headerCrcAt);
        assertEquals((int) crc.getValue(), b.getInt(headerCrcAt), "header CRC");
        int stateAt = headerCrcAt + 4;
        assertArrayEquals(state, Arrays.copyOfRange(bytes, stateAt, stateAt + state.length));
        assertEquals(state.length, b.getLong(stateAt + state.length), "state length");
        crc.reset();
        crc.update(bytes, 0, bytes.length - 4);
        assertEquals((int) crc.getValue(), b.getInt(bytes.length - 4), "CRC of everything before it");
        assertEquals(stateAt + state.length + 12, bytes.length);
    }

    @Test
    void anEmptyStateAndNoMembersAreAValidSnapshot() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotFormat.write(
                out, new SnapshotId(1, 1), EpochHistory.of(List.of(new EpochHistory.Start(1, 0))), List.of(), s -> {});
        Path f = file(out.toByteArray());
        assertEquals(List.of(), validate(f).members());
        assertArrayEquals(new byte[0], readState(f));
    }

    @Test
    void theStateIsStreamedByteByByteAndCloseOnlyFlushes() throws IOException {
        byte[] state = state(300_000, 2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotFormat.write(out, ID, HISTORY, MEMBERS, s -> {
            for (byte x : state) {
                s.write(x);
            }
            s.close(); // a state writer that closes what it is given
        });
        assertArrayEquals(state, readState(file(out.toByteArray())));
    }

    @Test
    void aStateWriterThatFailsFailsTheWrite() {
        IOException e = assertThrows(
                IOException.class,
                () -> SnapshotFormat.write(new ByteArrayOutputStream(), ID, HISTORY, MEMBERS, s -> {
                    s.write(1);
                    throw new IOException("state machine failed");
                }));
        assertEquals("state machine failed", e.getMessage());
    }

    @Test
    void everyFlippedByteIsDetected() throws IOException {
        byte[] bytes = snapshot(state(300, 3));
        for (int i = 0; i < bytes.length; i++) {
            byte[] damaged = bytes.clone();
            damaged[i] ^= 0x10;
            Path f = file(damaged);
            int at = i;
            assertThrows(CorruptSnapshotException.class, () -> validate(f), "a flip at " + at + " is caught");
        }
    }

    @Test
    void everyTruncationAndAppendedBytesAreDetected() throws IOException {
        byte[] bytes = snapshot(state(100, 4));
        for (int keep = 0; keep < bytes.length; keep++) {
            Path f = file(Arrays.copyOf(bytes, keep));
            int at = keep;
            assertThrows(CorruptSnapshotException.class, () -> validate(f), "cut to " + at + " bytes is caught");
        }
        refused(Arrays.copyOf(bytes, bytes.length + 1), "trailer says");
    }

    @Test
    void eachCheckNamesWhatFailed() throws IOException {
        byte[] bytes = snapshot(state(100, 5));
        byte[] badMagic = bytes.clone();
        badMagic[0] = 'X';
        refused(badMagic, "bad magic");
        byte[] badVersion = bytes.clone();
        badVersion[4] = 2;
        refused(badVersion, "unsupported format version 2");
        byte[] badHeader = bytes.clone();
        badHeader[10] ^= 1;
        refused(badHeader, "header checksum mismatch");
        byte[] badState = bytes.clone();
        badState[100] ^= 1;
        refused(badState, "checksum mismatch");
        byte[] badCount = bytes.clone();
        ByteBuffer.wrap(badCount).putInt(21, Integer.MAX_VALUE);
        refused(badCount, "not in [1, ");
        ByteBuffer.wrap(badCount).putInt(21, 1000);
        refused(badCount, "truncated epoch history of 1000 starts");
    }

    /** A file with {@code header} (no CRC) and {@code state}, with every checksum right. */
    private static byte[] craft(ByteBuffer header, byte[] state, long trailerLength) {
        header.flip();
        int headerLength = header.remaining();
        ByteBuffer b = ByteBuffer.allocate(headerLength + 4 + state.length + 12);
        b.put(header);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, headerLength);
        b.putInt((int) crc.getValue()).put(state).putLong(trailerLength);
        crc.reset();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    private static ByteBuffer header(long offset, long epoch, long... epochAndStart) {
        ByteBuffer h = ByteBuffer.allocate(1024);
        h.putInt(SnapshotFormat.MAGIC)
                .put((byte) 1)
                .putLong(offset)
                .putLong(epoch)
                .putInt(epochAndStart.length / 2);
        for (long v : epochAndStart) {
            h.putLong(v);
        }
        return h;
    }

    @Test
    void aHeaderWithRightChecksumsButWrongValuesIsRefused() throws IOException {
        byte[] state = state(10, 6);
        assertTrue(validate(file(craft(header(100, 3, 1, 0, 3, 40).putInt(0), state, 10)))
                .members()
                .isEmpty());
        refused(craft(header(100, 3, 1, 0, 2, 40).putInt(0), state, 10), "does not end at snapshot");
        refused(craft(header(100, 3, 1, 0, 3, 100).putInt(0), state, 10), "at or after the snapshot's offset");
        refused(craft(header(0, 3, 3, 0).putInt(0), state, 10), "invalid header");
        refused(craft(header(100, 3, 3, 40, 1, 50).putInt(0), state, 10), "invalid header");
        refused(craft(header(100, 3, 3, 0).putInt(-1), state, 10), "-1 members");
        refused(craft(header(100, 3, 3, 0).putInt(1).putShort((short) 0), state, 10), "member 0 of 0 bytes");
        refused(
                craft(header(100, 3, 3, 0).putInt(1).putShort((short) 1).put((byte) 0xff), state, 10),
                "not valid UTF-8");
        refused(
                craft(
                        header(100, 3, 3, 0)
                                .putInt(2)
                                .putShort((short) 1)
                                .put((byte) 'a')
                                .putShort((short) 1)
                                .put((byte) 'a'),
                        state,
                        10),
                "member a twice");
        refused(craft(header(100, 3, 3, 0).putInt(0), state, 9), "the trailer says the state is 9 bytes");
    }

    @Test
    void aHeaderThatCannotBeWrittenIsRefusedBeforeAnyByte() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThrows(
                IllegalArgumentException.class,
                () -> SnapshotFormat.write(out, new SnapshotId(100, 2), HISTORY, MEMBERS, s -> {}));
        assertThrows(
                IllegalArgumentException.class,
                () -> SnapshotFormat.write(out, ID, HISTORY, List.of("a", "a"), s -> {}));
        assertThrows(
                IllegalArgumentException.class, () -> SnapshotFormat.write(out, ID, HISTORY, List.of(""), s -> {}));
        assertThrows(
                IllegalArgumentException.class,
                () -> SnapshotFormat.write(out, ID, HISTORY, List.of("x".repeat(1025)), s -> {}));
        assertEquals(0, out.size());
    }

    @Test
    void theStateStreamChecksTheFileAtItsEnd() throws IOException {
        byte[] state = state(5000, 7);
        byte[] bytes = snapshot(state);
        Path f = file(bytes);
        SnapshotFormat.Header h = validate(f);
        bytes[h.headerBytes() + 4000] ^= 1; // damaged after validation, before the restore reads it
        Files.write(f, bytes);
        try (InputStream in = SnapshotFormat.stateStream(FileChannel.open(f, StandardOpenOption.READ), f, h)) {
            // Every byte is handed out; the end is not reported, the damage is.
            assertEquals(5000, in.readNBytes(5000).length);
            CorruptSnapshotException e = assertThrows(CorruptSnapshotException.class, in::read);
            assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        }
        try (InputStream in = SnapshotFormat.stateStream(FileChannel.open(f, StandardOpenOption.READ), f, h)) {
            assertThrows(CorruptSnapshotException.class, in::readAllBytes);
        }
    }
}
