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

import dev.tenure.replicator.core.Entry;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The format of one record in a {@link SegmentedLog} segment: the only place that knows it. A record is a 26-byte
 * header, big-endian, followed by the payload:
 *
 * <pre>
 * byte  0       format   always {@value #FORMAT}; any other value is not a record of this format
 * byte  1       type     the entry type: {@link Entry#DATA} or {@link Entry#EPOCH_START}
 * bytes 2..9    epoch    long, the leader epoch that wrote the entry (positive)
 * bytes 10..17  offset   long, the entry's offset in the log
 * bytes 18..21  length   int, the payload length in bytes (not counting the header)
 * bytes 22..25  crc      int, CRC32C of bytes 1..21 (type, epoch, offset, length) and then of the payload
 * bytes 26..    payload  {@code length} bytes, the entry's payload
 * </pre>
 *
 * The format byte is not covered by the CRC: it is checked by value. A record, header included, is at most
 * {@link LogConfig#maxRecordBytes()}; checking that bound, and that offsets and epochs follow each other, is the
 * log's job, not the format's.
 *
 * <p>Stateless and thread-safe.
 */
final class RecordFormat {
    /** The value of the format byte of every record this class writes. */
    static final byte FORMAT = 1;
    /** Bytes of a record header. */
    static final int HEADER_BYTES = 26;

    private static final int TYPE_POSITION = 1;
    private static final int EPOCH_POSITION = 2;
    private static final int OFFSET_POSITION = 10;
    private static final int LENGTH_POSITION = 18;
    private static final int CRC_POSITION = 22;
    /** The header bytes the CRC covers: type, epoch, offset, length (after the format byte). */
    private static final int CRC_COVERED_HEADER_BYTES = CRC_POSITION - TYPE_POSITION;

    private RecordFormat() {}

    /**
     * A record header as read, not yet validated.
     *
     * @param length the payload length the header announces (may be negative or huge in a damaged header)
     * @param crc the CRC32C stored in the header
     */
    record Header(byte format, byte type, long epoch, long offset, int length, int crc) {
        /** Whether the format byte is {@link #FORMAT}. */
        boolean knownFormat() {
            return format == FORMAT;
        }

        /** Whether the type is one {@link Entry} defines. */
        boolean knownType() {
            return type == Entry.DATA || type == Entry.EPOCH_START;
        }

        /** Whether the announced payload length is in {@code [0, maxPayload]}. */
        boolean lengthWithin(long maxPayload) {
            return length >= 0 && length <= maxPayload;
        }

        /** The bytes of the whole record, header included, as the header announces them. */
        long recordBytes() {
            return HEADER_BYTES + (long) length;
        }

        /**
         * Whether the stored CRC matches this header and {@code payload} (its remaining bytes, which should be
         * {@link #length()} of them). Does not move {@code payload}'s position.
         */
        boolean matches(ByteBuffer payload) {
            return checksum(type, epoch, offset, length, payload) == crc;
        }
    }

    /**
     * Reads the header at absolute index {@code index} of {@code buf}, which must hold {@link #HEADER_BYTES}
     * bytes from there; does not move the buffer's position.
     */
    static Header readHeader(ByteBuffer buf, int index) {
        return new Header(
                buf.get(index),
                buf.get(index + TYPE_POSITION),
                buf.getLong(index + EPOCH_POSITION),
                buf.getLong(index + OFFSET_POSITION),
                buf.getInt(index + LENGTH_POSITION),
                buf.getInt(index + CRC_POSITION));
    }

    /** Writes {@code e} as one record at {@code buf}'s position, which must have room for it. */
    static void encode(ByteBuffer buf, Entry e) {
        byte[] payload = e.payload();
        buf.put(FORMAT)
                .put(e.type())
                .putLong(e.epoch())
                .putLong(e.offset())
                .putInt(payload.length)
                .putInt(checksum(e.type(), e.epoch(), e.offset(), payload.length, ByteBuffer.wrap(payload)))
                .put(payload);
    }

    /** The CRC32C of a record: of the covered header fields, then of {@code payload}'s remaining bytes. */
    private static int checksum(byte type, long epoch, long offset, int length, ByteBuffer payload) {
        ByteBuffer covered = ByteBuffer.allocate(CRC_COVERED_HEADER_BYTES)
                .put(type)
                .putLong(epoch)
                .putLong(offset)
                .putInt(length)
                .flip();
        CRC32C crc = new CRC32C();
        crc.update(covered);
        crc.update(payload.duplicate());
        return (int) crc.getValue();
    }
}
