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
package dev.tenure.replicator.transport.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.Append;
import dev.tenure.replicator.core.Message.AppendAck;
import dev.tenure.replicator.core.Message.AppendReject;
import dev.tenure.replicator.core.Message.EpochAck;
import dev.tenure.replicator.core.Message.Fetch;
import dev.tenure.replicator.core.Message.FetchResponse;
import dev.tenure.replicator.core.Message.FetchSnapshot;
import dev.tenure.replicator.core.Message.InstallSnapshot;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.core.Message.Rejected;
import dev.tenure.replicator.core.Message.SnapshotChunk;
import dev.tenure.replicator.core.SnapshotId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MessageCodecTest {
    private static final EpochHistory HISTORY = EpochHistory.of(
            List.of(new EpochHistory.Start(1, 0), new EpochHistory.Start(3, 7), new EpochHistory.Start(9, 8)));
    private static final List<Entry> ENTRIES =
            List.of(Entry.epochStart(9, 8), Entry.data(9, 9, bytes("hello")), Entry.data(9, 10, new byte[0]));

    static List<Message> everyMessageType() {
        return List.of(
                new NewEpoch("a", "b", 4),
                new EpochAck("b", "a", 4, HISTORY, 11),
                new EpochAck("b", "a", 4, EpochHistory.empty(), 0),
                new Rejected("b", "a", 5, "c", 4),
                new Rejected("b", "a", 0, "", 4),
                new Fetch("a", "b", 4, 17, 1 << 20),
                new FetchResponse("b", "a", 4, 8, ENTRIES, 11),
                new FetchResponse("b", "a", 4, 11, List.of(), 11),
                new Append("a", "b", 9, 7, 3, ENTRIES, 8, 42),
                new Append("a", "b", 9, -1, -1, List.of(), 0, 0),
                new AppendAck("b", "a", 9, 11, 42),
                new AppendReject("b", "a", 9, 5, 42),
                new NewEpoch("a", "b", Long.MAX_VALUE),
                new AppendAck("b", "a", Long.MIN_VALUE, -1, Long.MAX_VALUE),
                new InstallSnapshot("a", "b", 9, SNAPSHOT, 5000),
                new FetchSnapshot("b", "a", 9, SNAPSHOT, 0, 1 << 20),
                new FetchSnapshot("b", "a", 9, new SnapshotId(Long.MAX_VALUE, Long.MAX_VALUE), 4999, 1),
                new SnapshotChunk("a", "b", 9, SNAPSHOT, 1000, 5000, bytes("chunk"), 0x1234abcd),
                new SnapshotChunk("a", "b", 9, SNAPSHOT, 5000, 5000, new byte[0], 0));
    }

    private static final SnapshotId SNAPSHOT = new SnapshotId(8, 3);

    @Test
    void everyMessageTypeRoundTripsThroughBytesAndByteBuf() throws Exception {
        for (Message m : everyMessageType()) {
            assertSameMessage(m, MessageCodec.decode(MessageCodec.encode(m)));

            ByteBuf buf = Unpooled.buffer();
            buf.writeByte(99); // bytes before the frame stay untouched
            MessageCodec.encode(m, buf);
            assertEquals(99, buf.readByte());
            assertEquals(buf.readableBytes() - 4, buf.readInt(), "length field counts the bytes after it");
            assertSameMessage(m, MessageCodec.decode(buf));
            assertTrue(MessageCodec.frameSizeUpperBound(m) >= MessageCodec.encode(m).length, m.toString());
        }
    }

    @Test
    void unicodeIdsAndReasonsRoundTrip() throws Exception {
        String leader = "réplica-α-节点-🦊";
        String follower = "フォロワー\u0000\n";
        Message m = new Rejected(leader, follower, 3, "🦊".repeat(250), 2);
        assertSameMessage(m, MessageCodec.decode(MessageCodec.encode(m)));

        Frame hello = new Frame.Hello("κλάστερ", leader, follower);
        assertEquals(hello, MessageCodec.decodeFrame(MessageCodec.encodeFrame(hello)));
    }

    @Test
    void largeEntryListsAndLargePayloadsRoundTrip() throws Exception {
        List<Entry> many = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            many.add(Entry.data(7, 100 + i, new byte[] {(byte) i}));
        }
        Message append = new Append("a", "b", 7, 99, 7, many, 50, 1);
        assertSameMessage(append, MessageCodec.decode(MessageCodec.encode(append)));

        byte[] big = new byte[3 << 20];
        new Random(1).nextBytes(big);
        Message response = new FetchResponse("b", "a", 7, 0, List.of(Entry.epochStart(7, 0), Entry.data(7, 1, big)), 2);
        assertSameMessage(response, MessageCodec.decode(MessageCodec.encode(response)));
    }

    @Test
    void handshakeFramesRoundTripAndAreNotMessages() throws Exception {
        Frame hello = new Frame.Hello("cluster", "a", "b");
        Frame rejected = new Frame.HelloRejected("no");
        assertEquals(hello, MessageCodec.decodeFrame(MessageCodec.encodeFrame(hello)));
        assertEquals(rejected, MessageCodec.decodeFrame(MessageCodec.encodeFrame(rejected)));
        assertMalformed(MessageCodec.encodeFrame(hello), "expected a protocol message");
    }

    @Test
    void helloSenderNamesTheOpeningSideAndRefusesAnyOtherFrame() throws Exception {
        assertEquals("r2", MessageCodec.helloSender(MessageCodec.encodeHello("kv", "r2", "r1")));
        assertEquals(
                new Frame.Hello("kv", "r2", "r1"),
                MessageCodec.decodeFrame(MessageCodec.encodeHello("kv", "r2", "r1")));
        assertThrows(
                MalformedFrameException.class,
                () -> MessageCodec.helloSender(MessageCodec.encodeFrame(new Frame.HelloRejected("no"))));
        assertThrows(
                MalformedFrameException.class,
                () -> MessageCodec.helloSender(MessageCodec.encode(new NewEpoch("a", "b", 3))));
        assertThrows(MalformedFrameException.class, () -> MessageCodec.helloSender(new byte[] {0, 0}));
    }

    @Test
    void longRejectionReasonIsShortenedNotRefused() throws Exception {
        String reason = "x".repeat(MessageCodec.MAX_REASON_CHARS - 1) + "🦊" + "y".repeat(2000);
        Frame.HelloRejected decoded = (Frame.HelloRejected)
                MessageCodec.decodeFrame(MessageCodec.encodeFrame(new Frame.HelloRejected(reason)));
        assertEquals("x".repeat(MessageCodec.MAX_REASON_CHARS - 1), decoded.reason());
    }

    @Test
    void everyTruncationOfEveryMessageTypeIsMalformed() {
        for (Message m : everyMessageType()) {
            byte[] frame = MessageCodec.encode(m);
            for (int cut = 0; cut < frame.length; cut++) {
                byte[] prefix = Arrays.copyOf(frame, cut);
                // As a length-field decoder would hand it over: the body alone, shorter than it should be.
                if (cut >= 4) {
                    ByteBuf body = Unpooled.wrappedBuffer(prefix, 4, cut - 4);
                    assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(body), m + " cut at " + cut);
                }
                // As bytes with a length field that no longer matches.
                assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(prefix), m + " cut at " + cut);
                // As bytes whose length field was fixed up to match the shorter body.
                if (cut >= 4) {
                    ByteBuffer.wrap(prefix).putInt(0, cut - 4);
                    assertThrows(
                            MalformedFrameException.class, () -> MessageCodec.decode(prefix), m + " cut at " + cut);
                }
            }
        }
    }

    @Test
    void unknownProtocolVersionIsMalformed() {
        byte[] frame = MessageCodec.encode(new NewEpoch("a", "b", 1));
        frame[4] = 2;
        assertMalformed(frame, "unsupported protocol version 2");
    }

    @Test
    void unknownFrameTypeIsMalformed() {
        byte[] frame = MessageCodec.encode(new NewEpoch("a", "b", 1));
        frame[5] = 42;
        assertMalformed(frame, "unknown frame type 42");
    }

    @Test
    void unknownEntryTypeIsMalformed() {
        byte[] frame = appendWithOneEntry(Entry.data(2, 5, bytes("x")));
        frame[entryStart(frame) + 16] = 3;
        assertMalformed(frame, "unknown type 3");
    }

    @Test
    void entryWithEpochZeroIsMalformed() {
        byte[] frame = appendWithOneEntry(Entry.data(2, 5, bytes("x")));
        ByteBuffer.wrap(frame).putLong(entryStart(frame), 0);
        assertMalformed(frame, "invalid entry 0 of 1");
    }

    @Test
    void negativeOrOversizedPayloadLengthIsMalformed() {
        byte[] frame = appendWithOneEntry(Entry.data(2, 5, bytes("x")));
        int lengthAt = entryStart(frame) + 17;
        ByteBuffer.wrap(frame).putInt(lengthAt, -1);
        assertMalformed(frame, "negative payload length -1");
        ByteBuffer.wrap(frame).putInt(lengthAt, Integer.MAX_VALUE);
        assertMalformed(frame, "exceeds the");
    }

    @Test
    void negativeOrOversizedEntryCountIsMalformed() {
        byte[] frame = appendWithOneEntry(Entry.data(2, 5, bytes("x")));
        int countAt = entryStart(frame) - 4;
        ByteBuffer.wrap(frame).putInt(countAt, -5);
        assertMalformed(frame, "negative entry count -5");
        ByteBuffer.wrap(frame).putInt(countAt, Integer.MAX_VALUE);
        assertMalformed(frame, "do not fit");
    }

    @Test
    void invalidEpochHistoryIsMalformed() {
        byte[] frame = MessageCodec.encode(new EpochAck("b", "a", 4, HISTORY, 11));
        // The history starts after header: len(4) version(1) type(1) "b"(3) "a"(3) epoch(8) count(4).
        int firstStart = 4 + 1 + 1 + 3 + 3 + 8 + 4;
        ByteBuffer.wrap(frame).putLong(firstStart + 16, 1); // second epoch 3 -> 1: not increasing
        assertMalformed(frame, "invalid epoch history");
        ByteBuffer.wrap(frame).putInt(firstStart - 4, -1);
        assertMalformed(frame, "negative epoch history size");
        ByteBuffer.wrap(frame).putInt(firstStart - 4, 1 << 30);
        assertMalformed(frame, "does not fit");
    }

    @Test
    void stringLongerThanTheLimitIsMalformed() {
        byte[] frame = MessageCodec.encode(new NewEpoch("a", "b", 1));
        ByteBuffer.wrap(frame).putShort(6, (short) (MessageCodec.MAX_STRING_BYTES + 1));
        assertMalformed(frame, "exceeds " + MessageCodec.MAX_STRING_BYTES);
    }

    @Test
    void invalidUtf8IsMalformed() {
        byte[] frame = MessageCodec.encode(new NewEpoch("a", "b", 1));
        frame[8] = (byte) 0xC3; // a lead byte with no continuation
        assertMalformed(frame, "not valid UTF-8");
    }

    @Test
    void trailingBytesAreMalformed() {
        byte[] frame = MessageCodec.encode(new NewEpoch("a", "b", 1));
        byte[] longer = Arrays.copyOf(frame, frame.length + 3);
        ByteBuffer.wrap(longer).putInt(0, longer.length - 4);
        assertMalformed(longer, "3 bytes left over after NewEpoch frame");
    }

    @Test
    void emptyFrameIsMalformed() {
        assertMalformed(new byte[] {0, 0, 0, 0}, "truncated protocol version");
        assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(Unpooled.EMPTY_BUFFER));
    }

    @Test
    void randomlyCorruptedFramesDecodeOrThrowMalformedFrameExceptionOnly() {
        Random random = new Random(20240601);
        List<Message> messages = everyMessageType();
        for (int i = 0; i < 20_000; i++) {
            byte[] frame = MessageCodec.encode(messages.get(random.nextInt(messages.size())));
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) {
                int at = 4 + random.nextInt(frame.length - 4);
                frame[at] = random.nextInt(3) == 0
                        ? (byte) random.nextInt()
                        : (byte) (frame[at] ^ (1 << random.nextInt(8)));
            }
            try {
                MessageCodec.decode(Unpooled.wrappedBuffer(frame, 4, frame.length - 4));
            } catch (MalformedFrameException expected) {
                // fine: reported as malformed
            } catch (RuntimeException e) {
                fail("corrupted frame " + Arrays.toString(frame) + " threw " + e, e);
            }
        }
    }

    @Test
    void messageThatCannotBeSentUnalteredIsRefusedAtEncoding() {
        ByteBuf buf = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(new NewEpoch(null, "b", 1), buf));
        assertThrows(
                IllegalArgumentException.class, () -> MessageCodec.encode(new NewEpoch("a".repeat(1025), "b", 1), buf));
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(new NewEpoch("a\uD800", "b", 1), buf));
        assertThrows(
                IllegalArgumentException.class, () -> MessageCodec.encode(new EpochAck("a", "b", 1, null, 0), buf));
        assertThrows(
                IllegalArgumentException.class,
                () -> MessageCodec.encode(new Append("a", "b", 1, 0, 0, null, 0, 0), buf));
        assertEquals(0, buf.writerIndex(), "a refused message leaves the buffer as it was");
        MessageCodec.encode(new NewEpoch("é".repeat(512), "b", 1), buf); // exactly 1024 bytes: allowed
        MessageCodec.encode(new NewEpoch("a".repeat(1024), "b", 1), buf); // the same in ASCII
    }

    // ---- snapshot messages ----

    /** Where the snapshot id of a snapshot message from "a" to "b" starts: after the header. */
    private static final int SNAPSHOT_ID_AT = 4 + 1 + 1 + 3 + 3 + 8;

    @Test
    void aChunkOfOneMebibyteRoundTripsAndItsBoundCoversIt() throws Exception {
        byte[] data = new byte[1 << 20];
        new Random(3).nextBytes(data);
        SnapshotChunk chunk = new SnapshotChunk("a", "b", 4, SNAPSHOT, 1 << 20, 3L << 20, data, 77);
        byte[] frame = MessageCodec.encode(chunk);
        assertSameMessage(chunk, MessageCodec.decode(frame));
        assertTrue(MessageCodec.frameSizeUpperBound(chunk) >= frame.length);
        assertTrue(MessageCodec.frameSizeUpperBound(chunk) < frame.length + 200, "a tight bound: queue accounting");
    }

    @Test
    void theLargestChunkDataForAFrameSizeFitsIt() throws Exception {
        int maxFrameBytes = 64 * 1024;
        String longest = "é".repeat(MessageCodec.MAX_STRING_BYTES / 2);
        byte[] data = new byte[maxFrameBytes - MessageCodec.SNAPSHOT_CHUNK_OVERHEAD_BYTES];
        SnapshotChunk chunk = new SnapshotChunk(longest, longest, 4, SNAPSHOT, 0, data.length, data, 0);
        byte[] frame = MessageCodec.encode(chunk);
        assertEquals(maxFrameBytes, frame.length - MessageCodec.LENGTH_FIELD_BYTES, "exactly the frame, at most");
        assertSameMessage(chunk, MessageCodec.decode(frame));
    }

    @Test
    void anInvalidSnapshotIdIsMalformed() {
        for (Message m : List.of(
                new InstallSnapshot("a", "b", 9, SNAPSHOT, 5000),
                new FetchSnapshot("a", "b", 9, SNAPSHOT, 0, 10),
                new SnapshotChunk("a", "b", 9, SNAPSHOT, 0, 5000, new byte[3], 0))) {
            byte[] frame = MessageCodec.encode(m);
            ByteBuffer.wrap(frame).putLong(SNAPSHOT_ID_AT, 0);
            assertMalformed(frame, "invalid snapshot id: offset 0");
            frame = MessageCodec.encode(m);
            ByteBuffer.wrap(frame).putLong(SNAPSHOT_ID_AT + 8, -3);
            assertMalformed(frame, "invalid snapshot id: offset 8 and epoch -3");
        }
    }

    @Test
    void aSnapshotSizeBelowOneIsMalformed() {
        byte[] frame = MessageCodec.encode(new InstallSnapshot("a", "b", 9, SNAPSHOT, 5000));
        ByteBuffer.wrap(frame).putLong(SNAPSHOT_ID_AT + 16, 0);
        assertMalformed(frame, "snapshot size must be > 0, was 0");
        ByteBuffer.wrap(frame).putLong(SNAPSHOT_ID_AT + 16, Long.MIN_VALUE);
        assertMalformed(frame, "snapshot size must be > 0");
    }

    @Test
    void aFetchAtANegativePositionOrOfNoBytesIsMalformed() {
        byte[] frame = MessageCodec.encode(new FetchSnapshot("a", "b", 9, SNAPSHOT, 10, 100));
        ByteBuffer.wrap(frame).putLong(SNAPSHOT_ID_AT + 16, -1);
        assertMalformed(frame, "snapshot position must be >= 0, was -1");
        frame = MessageCodec.encode(new FetchSnapshot("a", "b", 9, SNAPSHOT, 10, 100));
        ByteBuffer.wrap(frame).putInt(SNAPSHOT_ID_AT + 24, 0);
        assertMalformed(frame, "maxBytes must be > 0, was 0");
        ByteBuffer.wrap(frame).putInt(SNAPSHOT_ID_AT + 24, Integer.MIN_VALUE);
        assertMalformed(frame, "maxBytes must be > 0");
    }

    @Test
    void aChunkOutsideItsSnapshotOrItsFrameIsMalformed() {
        SnapshotChunk chunk = new SnapshotChunk("a", "b", 9, SNAPSHOT, 100, 5000, new byte[50], 0);
        int positionAt = SNAPSHOT_ID_AT + 16;
        int sizeAt = positionAt + 8;
        int lengthAt = sizeAt + 8;

        byte[] frame = MessageCodec.encode(chunk);
        ByteBuffer.wrap(frame).putLong(positionAt, -1);
        assertMalformed(frame, "chunk position must be >= 0, was -1");

        frame = MessageCodec.encode(chunk);
        ByteBuffer.wrap(frame).putLong(positionAt, 4951); // 4951 + 50 > 5000
        assertMalformed(frame, "runs past the snapshot's 5000 bytes");
        ByteBuffer.wrap(frame).putLong(positionAt, Long.MAX_VALUE);
        assertMalformed(frame, "runs past");

        frame = MessageCodec.encode(chunk);
        ByteBuffer.wrap(frame).putLong(sizeAt, 0);
        assertMalformed(frame, "snapshot size must be > 0, was 0");

        frame = MessageCodec.encode(chunk);
        ByteBuffer.wrap(frame).putInt(lengthAt, -1);
        assertMalformed(frame, "negative chunk length -1");
        ByteBuffer.wrap(frame).putInt(lengthAt, 55); // more than the 50 + 4 (crc) bytes left
        assertMalformed(frame, "chunk of 55 bytes exceeds the 54 bytes left in the frame");
        ByteBuffer.wrap(frame).putInt(lengthAt, Integer.MAX_VALUE);
        assertMalformed(frame, "exceeds the");
        ByteBuffer.wrap(frame).putInt(lengthAt, 52); // fits, but leaves 2 bytes for the 4-byte crc
        assertMalformed(frame, "truncated chunk crc");
        ByteBuffer.wrap(frame).putInt(lengthAt, 46); // leaves 8 bytes: 4 left over after the crc
        assertMalformed(frame, "4 bytes left over after SnapshotChunk frame");
    }

    @Test
    void aSnapshotMessageThatWouldBeMalformedIsRefusedAtEncoding() {
        ByteBuf buf = Unpooled.buffer();
        for (Message m : List.of(
                new InstallSnapshot("a", "b", 9, SNAPSHOT, 0),
                new InstallSnapshot("a", "b", 9, null, 10),
                new FetchSnapshot("a", "b", 9, SNAPSHOT, -1, 10),
                new FetchSnapshot("a", "b", 9, SNAPSHOT, 0, 0),
                new SnapshotChunk("a", "b", 9, SNAPSHOT, -1, 10, new byte[1], 0),
                new SnapshotChunk("a", "b", 9, SNAPSHOT, 0, 0, new byte[0], 0),
                new SnapshotChunk("a", "b", 9, SNAPSHOT, 5, 10, new byte[6], 0),
                new SnapshotChunk("a", "b", 9, SNAPSHOT, 0, 10, null, 0))) {
            assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(m, buf), m.toString());
            assertEquals(0, buf.writerIndex(), "a refused message leaves the buffer as it was: " + m);
        }
    }

    // ---- helpers ----

    static void assertSameMessage(Message expected, Message actual) {
        if (expected instanceof SnapshotChunk c) {
            // A record compares arrays by identity: compare the data by content, the rest as a record.
            SnapshotChunk d = (SnapshotChunk) actual;
            assertArrayEquals(c.data(), d.data());
            assertEquals(
                    c,
                    new SnapshotChunk(
                            d.from(), d.to(), d.epoch(), d.snapshot(), d.position(), d.sizeBytes(), c.data(), d.crc()));
            return;
        }
        // Records compare lists with Entry.equals, which compares payloads by content.
        assertEquals(expected, actual);
        if (expected instanceof Append a) {
            assertPayloads(a.entries(), ((Append) actual).entries());
        } else if (expected instanceof FetchResponse r) {
            assertPayloads(r.entries(), ((FetchResponse) actual).entries());
        }
    }

    private static void assertPayloads(List<Entry> expected, List<Entry> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).payload(), actual.get(i).payload());
        }
    }

    private static void assertMalformed(byte[] frame, String reasonPart) {
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(frame));
        assertTrue(
                e.getMessage().contains(reasonPart),
                "reason '" + e.getMessage() + "' should mention '" + reasonPart + "'");
    }

    private static byte[] appendWithOneEntry(Entry entry) {
        return MessageCodec.encode(new Append("a", "b", 2, 4, 1, List.of(entry), 0, 0));
    }

    /** Where the first entry of an Append from "a" to "b" starts. */
    @SuppressWarnings("UnusedVariable") // the frame names what the offset is into at each call site
    private static int entryStart(byte[] appendFrame) {
        // len(4) version(1) type(1) "a"(3) "b"(3) epoch(8) prevOffset(8) prevEpoch(8) count(4)
        return 4 + 1 + 1 + 3 + 3 + 8 + 8 + 8 + 4;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
