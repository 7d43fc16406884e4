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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class RecordFormatTest {
    private static final Entry ENTRY = new Entry(7, 42, Entry.DATA, "hello".getBytes(StandardCharsets.UTF_8));

    private static ByteBuffer encoded() {
        ByteBuffer buf = ByteBuffer.allocate(RecordFormat.HEADER_BYTES + ENTRY.payload().length);
        RecordFormat.encode(buf, ENTRY);
        assertFalse(buf.hasRemaining(), "a record is its header and its payload, nothing else");
        return buf.flip();
    }

    @Test
    @SuppressWarnings("ByteBufferBackingArray") // encoded() allocates the buffer: its array starts at offset 0
    void aRecordIsLaidOutAsDocumentedByteByByte() {
        ByteBuffer buf = encoded();
        assertEquals(RecordFormat.FORMAT, buf.get(0));
        assertEquals(Entry.DATA, buf.get(1));
        assertEquals(7L, buf.getLong(2));
        assertEquals(42L, buf.getLong(10));
        assertEquals(5, buf.getInt(18));
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 1, 21);
        crc.update(buf.array(), 26, 5);
        assertEquals((int) crc.getValue(), buf.getInt(22), "CRC32C of bytes 1..21, then the payload");
        assertEquals("hello", new String(buf.array(), 26, 5, StandardCharsets.UTF_8));
    }

    @Test
    void aHeaderReadsBackWhatWasEncodedAndMatchesItsPayload() {
        ByteBuffer buf = encoded();
        RecordFormat.Header h = RecordFormat.readHeader(buf, 0);
        assertEquals(new RecordFormat.Header(RecordFormat.FORMAT, Entry.DATA, 7, 42, 5, buf.getInt(22)), h);
        assertTrue(h.knownFormat());
        assertTrue(h.knownType());
        assertEquals(RecordFormat.HEADER_BYTES + 5, h.recordBytes());
        assertTrue(h.matches(buf.duplicate().position(RecordFormat.HEADER_BYTES)));
    }

    @Test
    void aFlippedBitAnywhereButTheFormatByteFailsTheChecksum() {
        for (int i = 1; i < RecordFormat.HEADER_BYTES + 5; i++) {
            ByteBuffer buf = encoded();
            buf.put(i, (byte) (buf.get(i) ^ 0x10));
            RecordFormat.Header h = RecordFormat.readHeader(buf, 0);
            assertFalse(h.matches(buf.duplicate().position(RecordFormat.HEADER_BYTES)), "byte " + i);
        }
    }
}
