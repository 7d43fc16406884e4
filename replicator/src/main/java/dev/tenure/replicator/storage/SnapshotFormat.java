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

import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.core.SnapshotMeta;
import dev.tenure.replicator.core.SnapshotStore.CorruptSnapshotException;
import dev.tenure.replicator.core.SnapshotStore.StateWriter;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * The format of a snapshot file of a {@link FileSnapshotStore}: the only place that knows it. Big-endian:
 *
 * <pre>
 * bytes 0..3    magic        {@value #MAGIC_TEXT} in ASCII (0x54 0x53 0x4E 0x50)
 * byte  4       version      always {@value #VERSION}
 * bytes 5..12   offset       long, the snapshot id's offset: the first offset not in the snapshot (&gt; 0)
 * bytes 13..20  epoch        long, the snapshot id's epoch: the epoch of the entry at offset - 1 (&gt; 0)
 * bytes 21..24  starts       int n, the epoch history's starts (1..{@value #MAX_HISTORY_STARTS})
 * n x 16 bytes  start        [epoch long][start offset long]: the epoch history of the log up to the snapshot,
 *                            epochs and offsets strictly increasing, every start below the id's offset, the last
 *                            epoch equal to the id's epoch
 * 4 bytes       members      int m, the replica set's size (0..{@value #MAX_MEMBERS})
 * m times       member       [byte count unsigned short, 1..{@value #MAX_MEMBER_BYTES}][UTF-8], distinct ids
 * 4 bytes       header crc   int, CRC32C of every byte before it (from byte 0)
 * L bytes       state        the state machine's bytes, as its snapshot writer wrote them
 * 8 bytes       state length long L
 * 4 bytes       crc          int, CRC32C of every byte before it (from byte 0: header, header crc, state, length)
 * </pre>
 *
 * The header has its own CRC so that it can be trusted before the state is streamed (a file's header is read
 * without reading the whole file); the last CRC covers everything. The state's length is in the trailer because
 * the state is streamed while it is written, its length unknown until the end; a reader finds the state between
 * the header's end and the trailer, and checks that the trailer's length says the same. A file is {@code header +
 * L + 12} bytes long, exactly.
 *
 * <p>Parsing is strict: a bad magic, version, count, length, string, history, id or checksum, or bytes left over,
 * is a {@link CorruptSnapshotException} naming the file and what failed. Nothing is allocated before the bytes it
 * stands for are known to be in the file.
 *
 * <p>Stateless and thread-safe; the streams it returns are for one thread.
 */
final class SnapshotFormat {
    static final String MAGIC_TEXT = "TSNP";
    /** {@link #MAGIC_TEXT} as the first int of the file. */
    static final int MAGIC = 0x54534E50;

    static final byte VERSION = 1;
    /** Bytes before the history's starts: magic, version, offset, epoch, start count. */
    static final int FIXED_HEADER_BYTES = 4 + 1 + 8 + 8 + 4;
    /** Bytes after the state: its length and the CRC. */
    static final int TRAILER_BYTES = 8 + 4;

    static final int MAX_HISTORY_STARTS = 1 << 20;
    static final int MAX_MEMBERS = 1024;
    static final int MAX_MEMBER_BYTES = 1024;

    /** The buffer the state is written through, and files are read through. */
    static final int BUFFER_BYTES = 64 * 1024;

    private SnapshotFormat() {}

    /**
     * A checked header.
     *
     * @param headerBytes the header's length, its CRC included: where the state starts
     */
    record Header(SnapshotId id, EpochHistory history, List<String> members, int headerBytes) {
        /** The meta of a file of {@code fileSize} bytes with this header. */
        SnapshotMeta meta(long fileSize) {
            return new SnapshotMeta(id, history, members, fileSize);
        }

        /** The state's length in a file of {@code fileSize} bytes. */
        long stateLength(long fileSize) {
            return fileSize - headerBytes - TRAILER_BYTES;
        }
    }

    // ---- writing ----

    /**
     * The header of a snapshot, its CRC included.
     *
     * @throws IllegalArgumentException if the history does not end at the id (an epoch start at or after its
     *     offset, or another epoch at {@code offset - 1}), or a member id is empty, repeated or too long, or there
     *     are too many of either
     */
    static byte[] encodeHeader(SnapshotId id, EpochHistory history, List<String> members) {
        checkHistory(id, history);
        if (members.size() > MAX_MEMBERS) {
            throw new IllegalArgumentException(members.size() + " members, more than " + MAX_MEMBERS);
        }
        List<byte[]> encoded = new ArrayList<>(members.size());
        Set<String> seen = new HashSet<>();
        int memberBytes = 0;
        for (String m : members) {
            byte[] b = utf8(m);
            if (b.length == 0 || b.length > MAX_MEMBER_BYTES) {
                throw new IllegalArgumentException(
                        "member id of " + b.length + " bytes of UTF-8, not in [1, " + MAX_MEMBER_BYTES + "]");
            }
            if (!seen.add(m)) {
                throw new IllegalArgumentException("member " + m + " twice in " + members);
            }
            encoded.add(b);
            memberBytes += 2 + b.length;
        }
        List<EpochHistory.Start> starts = history.starts();
        ByteBuffer buf = ByteBuffer.allocate(FIXED_HEADER_BYTES + 16 * starts.size() + 4 + memberBytes + 4);
        buf.putInt(MAGIC).put(VERSION).putLong(id.offset()).putLong(id.epoch()).putInt(starts.size());
        for (EpochHistory.Start s : starts) {
            buf.putLong(s.epoch()).putLong(s.startOffset());
        }
        buf.putInt(encoded.size());
        for (byte[] b : encoded) {
            buf.putShort((short) b.length).put(b);
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        return buf.array();
    }

    /**
     * Writes a whole snapshot file to {@code out}: the header, what {@code state} writes, the trailer; returns the
     * bytes written. The state goes through a {@value #BUFFER_BYTES}-byte buffer and a CRC32C as it is written,
     * and is never held in memory. {@code state} may flush the stream it is given; closing it only flushes it.
     * {@code out} is flushed, not closed.
     *
     * @throws IllegalArgumentException as {@link #encodeHeader}, before anything is written
     * @throws IOException if writing, or {@code state}, fails
     */
    static long write(OutputStream out, SnapshotId id, EpochHistory history, List<String> members, StateWriter state)
            throws IOException {
        byte[] header = encodeHeader(id, history, members);
        CRC32C crc = new CRC32C();
        BufferedOutputStream checked = new BufferedOutputStream(new CheckedOutputStream(out, crc), BUFFER_BYTES);
        checked.write(header);
        StateOutput stateOut = new StateOutput(checked);
        state.writeTo(stateOut);
        long length = stateOut.finish();
        checked.write(ByteBuffer.allocate(8).putLong(length).array());
        checked.flush(); // the CRC now covers every byte before it
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        out.flush();
        return header.length + length + TRAILER_BYTES;
    }

    /** The stream a state writer writes to: counts, and does not close the file under it. */
    private static final class StateOutput extends OutputStream {
        private final OutputStream out;
        private long count;
        private boolean finished;

        StateOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            checkOpen();
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            checkOpen();
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void flush() throws IOException {
            checkOpen();
            out.flush();
        }

        /** Flushes only: the snapshot's trailer follows. */
        @Override
        public void close() throws IOException {
            if (!finished) {
                out.flush();
            }
        }

        long finish() {
            finished = true;
            return count;
        }

        private void checkOpen() throws IOException {
            if (finished) {
                throw new IOException("the snapshot's state was already written");
            }
        }
    }

    // ---- reading ----

    /**
     * Reads and checks the header of the snapshot file open on {@code ch}: magic, version, counts and lengths
     * against the file's size, the header CRC, then the values (the id, a history that ends at it, the members).
     * Reads nothing after the header.
     *
     * @throws CorruptSnapshotException naming {@code file} and what failed
     */
    static Header readHeader(FileChannel ch, Path file) throws IOException {
        long fileSize = ch.size();
        Reader r = new Reader(ch, file, fileSize - TRAILER_BYTES);
        CRC32C crc = new CRC32C();
        ByteBuffer fixed = r.bytes(FIXED_HEADER_BYTES, "header", crc);
        int magic = fixed.getInt();
        if (magic != MAGIC) {
            throw corrupt(file, "bad magic 0x" + Integer.toHexString(magic) + ", not a snapshot file");
        }
        byte version = fixed.get();
        if (version != VERSION) {
            throw corrupt(file, "unsupported format version " + version + " (this replica reads " + VERSION + ")");
        }
        long offset = fixed.getLong();
        long epoch = fixed.getLong();
        int startCount = fixed.getInt();
        if (startCount < 1 || startCount > MAX_HISTORY_STARTS) {
            throw corrupt(file, "epoch history of " + startCount + " starts, not in [1, " + MAX_HISTORY_STARTS + "]");
        }
        ByteBuffer startBytes = r.bytes(16 * startCount, "epoch history of " + startCount + " starts", crc);
        long[] starts = new long[2 * startCount];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = startBytes.getLong();
        }
        int memberCount = r.bytes(4, "member count", crc).getInt();
        if (memberCount < 0 || memberCount > MAX_MEMBERS) {
            throw corrupt(file, memberCount + " members, not in [0, " + MAX_MEMBERS + "]");
        }
        byte[][] memberBytes = new byte[memberCount][];
        for (int i = 0; i < memberCount; i++) {
            int length =
                    Short.toUnsignedInt(r.bytes(2, "length of member " + i, crc).getShort());
            if (length < 1 || length > MAX_MEMBER_BYTES) {
                throw corrupt(file, "member " + i + " of " + length + " bytes, not in [1, " + MAX_MEMBER_BYTES + "]");
            }
            memberBytes[i] = new byte[length];
            r.bytes(length, "member " + i, crc).get(memberBytes[i]);
        }
        int expectedCrc = (int) crc.getValue();
        int headerCrc = r.bytes(4, "header checksum", null).getInt();
        if (headerCrc != expectedCrc) {
            throw corrupt(file, "header checksum mismatch");
        }
        // The header is as written; what it says must still make sense.
        SnapshotId id;
        EpochHistory history;
        try {
            id = new SnapshotId(offset, epoch);
            List<EpochHistory.Start> list = new ArrayList<>(startCount);
            for (int i = 0; i < startCount; i++) {
                list.add(new EpochHistory.Start(starts[2 * i], starts[2 * i + 1]));
            }
            history = EpochHistory.of(list);
            checkHistory(id, history);
        } catch (IllegalArgumentException e) {
            throw corrupt(file, "invalid header: " + e.getMessage());
        }
        List<String> members = new ArrayList<>(memberCount);
        for (int i = 0; i < memberCount; i++) {
            String m;
            try {
                m = StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(memberBytes[i]))
                        .toString();
            } catch (CharacterCodingException e) {
                throw corrupt(file, "member " + i + " is not valid UTF-8");
            }
            if (members.contains(m)) {
                throw corrupt(file, "member " + m + " twice");
            }
            members.add(m);
        }
        return new Header(id, history, List.copyOf(members), (int) r.position());
    }

    /**
     * Checks the whole snapshot file open on {@code ch}: its header ({@link #readHeader}), the trailer's state
     * length against the file's size, and the CRC over every byte.
     *
     * @return the file's header
     * @throws CorruptSnapshotException naming {@code file} and what failed
     */
    static Header validate(FileChannel ch, Path file) throws IOException {
        Header h = readHeader(ch, file);
        long fileSize = ch.size();
        long stateLength = h.stateLength(fileSize);
        if (stateLength < 0) {
            throw corrupt(file, "truncated: " + fileSize + " bytes, not even a header and a trailer");
        }
        long crcEnd = fileSize - 4;
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES);
        for (long position = 0; position < crcEnd; ) {
            buf.clear().limit((int) Math.min(BUFFER_BYTES, crcEnd - position));
            readFully(ch, buf, position, file);
            buf.flip();
            position += buf.remaining();
            crc.update(buf);
        }
        ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES);
        readFully(ch, trailer, fileSize - TRAILER_BYTES, file);
        trailer.flip();
        long storedLength = trailer.getLong();
        int storedCrc = trailer.getInt();
        if (storedLength != stateLength) {
            throw corrupt(
                    file,
                    "the trailer says the state is " + storedLength + " bytes, the file holds " + stateLength
                            + " between the header and the trailer");
        }
        if (storedCrc != (int) crc.getValue()) {
            throw corrupt(file, "checksum mismatch");
        }
        return h;
    }

    /**
     * The state bytes of the snapshot file open on {@code ch}, whose header is {@code h}; the stream owns {@code
     * ch} and closes it. It checks the file again as it goes: the CRC over the header, the state and the trailer's
     * length, compared with the file's CRC when the state has been read to its end, where a mismatch fails the
     * read with a {@link CorruptSnapshotException} instead of reporting the end (so a reader that reads to the end
     * never takes a damaged state as whole).
     */
    static InputStream stateStream(FileChannel ch, Path file, Header h) throws IOException {
        return new StateInput(ch, file, h);
    }

    private static final class StateInput extends InputStream {
        private final FileChannel ch;
        private final Path file;
        private final long stateStart;
        private final long stateEnd;
        private final CRC32C crc = new CRC32C();
        private final ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES);
        private long position;
        private boolean checked;

        StateInput(FileChannel ch, Path file, Header h) throws IOException {
            this.ch = ch;
            this.file = file;
            long fileSize = ch.size();
            this.stateStart = h.headerBytes();
            this.stateEnd = fileSize - TRAILER_BYTES;
            if (h.stateLength(fileSize) < 0) {
                throw corrupt(file, "truncated: " + fileSize + " bytes, not even a header and a trailer");
            }
            ByteBuffer header = ByteBuffer.allocate(h.headerBytes());
            readFully(ch, header, 0, file);
            header.flip();
            crc.update(header);
            position = h.headerBytes();
            buf.limit(0);
        }

        @Override
        public int read() throws IOException {
            if (!fill()) {
                return -1;
            }
            return buf.get() & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, buf.remaining());
            buf.get(b, off, n);
            return n;
        }

        @Override
        public int available() {
            return buf.remaining();
        }

        /** Makes bytes available in {@code buf}; false at the end of the state (after checking the CRC). */
        private boolean fill() throws IOException {
            if (buf.hasRemaining()) {
                return true;
            }
            if (position >= stateEnd) {
                checkAtEnd();
                return false;
            }
            buf.clear().limit((int) Math.min(BUFFER_BYTES, stateEnd - position));
            readFully(ch, buf, position, file);
            buf.flip();
            position += buf.remaining();
            crc.update(buf.duplicate());
            return true;
        }

        private void checkAtEnd() throws IOException {
            if (checked) {
                return;
            }
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES);
            readFully(ch, trailer, stateEnd, file);
            trailer.flip();
            crc.update(trailer.array(), 0, 8);
            long storedLength = trailer.getLong();
            int storedCrc = trailer.getInt();
            if (storedLength != stateEnd - stateStart) {
                throw corrupt(
                        file,
                        "the trailer says the state is " + storedLength + " bytes, the file holds "
                                + (stateEnd - stateStart));
            }
            if (storedCrc != (int) crc.getValue()) {
                throw corrupt(file, "checksum mismatch at the end of the state");
            }
            checked = true;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    // ---- helpers ----

    /** Checks that {@code history} is the history of a log that ends at {@code id}. */
    private static void checkHistory(SnapshotId id, EpochHistory history) {
        if (!history.truncatedTo(id.offset()).equals(history)) {
            throw new IllegalArgumentException(
                    "epoch history " + history + " has an epoch start at or after the snapshot's offset " + id);
        }
        if (history.epochAt(id.offset() - 1) != id.epoch()) {
            throw new IllegalArgumentException("epoch history " + history + " does not end at snapshot " + id);
        }
    }

    static CorruptSnapshotException corrupt(Path file, String what) {
        return new CorruptSnapshotException("corrupt snapshot file " + file + ": " + what);
    }

    private static byte[] utf8(String s) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8
                    .newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("member id is not valid UTF-16 (unpaired surrogate)", e);
        }
    }

    /** Fills {@code buf} from {@code position} of {@code ch}. */
    static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long p = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, p);
            if (n < 0) {
                throw new EOFException(file + " ended at " + p + " while reading up to " + (p + buf.remaining()));
            }
            p += n;
        }
    }

    /** Sequential reads of the header, each checked against where the header must end. */
    private static final class Reader {
        private final FileChannel ch;
        private final Path file;
        /** Where the trailer starts: the header must end before it. */
        private final long limit;

        private long position;

        Reader(FileChannel ch, Path file, long limit) {
            this.ch = ch;
            this.file = file;
            this.limit = limit;
        }

        /** The next {@code n} bytes, added to {@code crc} if not null. */
        ByteBuffer bytes(int n, String what, CRC32C crc) throws IOException {
            if (position + n > limit) {
                throw corrupt(
                        file,
                        "truncated " + what + ": needs " + n + " bytes at position " + position + ", the file has "
                                + Math.max(0, limit - position) + " before its trailer");
            }
            ByteBuffer b = ByteBuffer.allocate(n);
            readFully(ch, b, position, file);
            b.flip();
            position += n;
            if (crc != null) {
                crc.update(b.duplicate());
            }
            return b;
        }

        long position() {
            return position;
        }
    }
}
