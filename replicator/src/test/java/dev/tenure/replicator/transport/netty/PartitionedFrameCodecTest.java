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

import static dev.tenure.replicator.transport.netty.MessageCodecTest.assertSameMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.transport.PartitionIds;
import dev.tenure.replicator.transport.netty.MessageCodec.PartitionedMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The {@code Partitioned} frame (type 30): a protocol message tagged with its partition. */
class PartitionedFrameCodecTest {
    private static final String LONGEST_ID =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".substring(0, 64);

    @Test
    void everyMessageTypeRoundTripsInAPartitionedFrame() throws Exception {
        for (String partition : List.of("p1", "x", LONGEST_ID, "orders.eu-west_3")) {
            for (Message m : MessageCodecTest.everyMessageType()) {
                byte[] frame = MessageCodec.encode(partition, m);
                PartitionedMessage decoded = MessageCodec.decodePartitioned(frame);
                assertEquals(partition, decoded.partition());
                assertSameMessage(m, decoded.message());

                ByteBuf buf = Unpooled.buffer();
                buf.writeByte(99); // bytes before the frame stay untouched
                MessageCodec.encode(partition, m, buf);
                assertEquals(99, buf.readByte());
                assertEquals(buf.readableBytes() - 4, buf.readInt(), "length field counts the bytes after it");
                PartitionedMessage fromBuf = MessageCodec.decodePartitioned(buf);
                assertEquals(partition, fromBuf.partition());
                assertSameMessage(m, fromBuf.message());

                assertTrue(MessageCodec.frameSizeUpperBound(partition, m) >= frame.length, m.toString());
                assertTrue(
                        frame.length - MessageCodec.encode(m).length <= MessageCodec.PARTITION_TAG_MAX_BYTES,
                        "the tag costs at most PARTITION_TAG_MAX_BYTES");
            }
        }
    }

    @Test
    void aPartitionedFrameIsTheUntaggedFrameBehindATagAndUntaggedFramesAreUnchanged() {
        byte[] untagged = MessageCodec.encode(new NewEpoch("a", "b", 1));
        // Version 1 of the untagged frame, byte for byte: length, version, type 10, "a", "b", epoch.
        assertArrayEquals(new byte[] {0, 0, 0, 16, 1, 10, 0, 1, 'a', 0, 1, 'b', 0, 0, 0, 0, 0, 0, 0, 1}, untagged);

        byte[] tagged = MessageCodec.encode("p7", new NewEpoch("a", "b", 1));
        byte[] expected = tagged("p7".getBytes(StandardCharsets.US_ASCII), untagged);
        assertArrayEquals(expected, tagged);
        assertArrayEquals(new byte[] {0, 0, 0, 21, 1, 30, 0, 2, 'p', '7', 10}, Arrays.copyOf(tagged, 11));
    }

    @Test
    void anInvalidPartitionIdIsRefusedAtEncoding() {
        ByteBuf buf = Unpooled.buffer();
        Message m = new NewEpoch("a", "b", 1);
        for (String bad : Arrays.asList(
                null, "", LONGEST_ID + "x", "a b", "p/1", "p:1", "é", "p\n", "p\u0000", "\uD800", "p1 ")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> MessageCodec.encode(bad, m, buf), String.valueOf(bad));
            assertTrue(e.getMessage().contains("invalid partition id"), e.getMessage());
            assertEquals(0, buf.writerIndex(), "a refused frame leaves the buffer as it was");
        }
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode("p1", new NewEpoch(null, "b", 1), buf));
        assertEquals(0, buf.writerIndex());
    }

    @Test
    void anInvalidPartitionIdIsMalformed() {
        byte[] inner = MessageCodec.encode(new NewEpoch("a", "b", 1));
        for (String bad : List.of("", LONGEST_ID + "x", "a b", "p/1", "é", "p\n", "🦊")) {
            assertMalformed(tagged(bad.getBytes(StandardCharsets.UTF_8), inner), "invalid partition id");
        }
        assertMalformed(tagged(new byte[] {'p', (byte) 0xC3}, inner), "partition is not valid UTF-8");
        byte[] overLimit = tagged(new byte[] {'p'}, inner);
        ByteBuffer.wrap(overLimit).putShort(6, (short) 0xFFFF);
        assertMalformed(overLimit, "partition of 65535 bytes exceeds " + MessageCodec.MAX_STRING_BYTES);
        assertEquals(PartitionIds.MAX_LENGTH, LONGEST_ID.length());
    }

    @Test
    void everyTruncationOfAPartitionedFrameIsMalformed() {
        for (Message m : MessageCodecTest.everyMessageType()) {
            byte[] frame = MessageCodec.encode("p-1", m);
            for (int cut = 0; cut < frame.length; cut++) {
                byte[] prefix = Arrays.copyOf(frame, cut);
                assertThrows(
                        MalformedFrameException.class,
                        () -> MessageCodec.decodePartitioned(prefix),
                        m + " cut at " + cut);
                if (cut >= 4) {
                    ByteBuf body = Unpooled.wrappedBuffer(prefix, 4, cut - 4);
                    assertThrows(
                            MalformedFrameException.class,
                            () -> MessageCodec.decodePartitioned(body),
                            m + " cut at " + cut);
                    ByteBuffer.wrap(prefix).putInt(0, cut - 4);
                    assertThrows(
                            MalformedFrameException.class,
                            () -> MessageCodec.decodePartitioned(prefix),
                            m + " cut at " + cut);
                }
            }
        }
    }

    @Test
    void aNestedTagIsMalformed() {
        byte[] once = MessageCodec.encode("inner", new NewEpoch("a", "b", 1));
        assertMalformed(tagged(bytes("outer"), once), "nested partition tag");
    }

    @Test
    void aHandshakeOrUnknownFrameInsideATagIsMalformed() {
        assertMalformed(tagged(bytes("p"), MessageCodec.encodeHello("c", "a", "b")), "not a Hello frame");
        assertMalformed(
                tagged(bytes("p"), MessageCodec.encodeFrame(new Frame.HelloRejected("no"))),
                "not a HelloRejected frame");
        byte[] unknown = MessageCodec.encode(new NewEpoch("a", "b", 1));
        unknown[5] = 42;
        assertMalformed(tagged(bytes("p"), unknown), "not unknown frame type 42");
        unknown[5] = 9;
        assertMalformed(tagged(bytes("p"), unknown), "not unknown frame type 9");
        // A tag and nothing after it.
        assertMalformed(new byte[] {0, 0, 0, 5, 1, 30, 0, 1, 'p'}, "truncated partitioned message type");
    }

    @Test
    void trailingBytesAfterAPartitionedFrameAreMalformed() {
        byte[] frame = MessageCodec.encode("p1", new NewEpoch("a", "b", 1));
        byte[] longer = Arrays.copyOf(frame, frame.length + 2);
        ByteBuffer.wrap(longer).putInt(0, longer.length - 4);
        assertMalformed(longer, "2 bytes left over after Partitioned frame");
    }

    @Test
    void theUntaggedAndTheTaggedDecoderEachRefuseTheOthersFrame() {
        byte[] tagged = MessageCodec.encode("p1", new NewEpoch("a", "b", 1));
        MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(tagged));
        assertTrue(e.getMessage().contains("expected a protocol message, got a Partitioned frame"), e.getMessage());
        byte[] untagged = MessageCodec.encode(new NewEpoch("a", "b", 1));
        assertMalformed(untagged, "expected a Partitioned frame, got a Protocol frame");
    }

    @Test
    void randomlyCorruptedPartitionedFramesDecodeOrThrowMalformedFrameExceptionOnly() {
        Random random = new Random(16);
        List<Message> messages = MessageCodecTest.everyMessageType();
        for (int i = 0; i < 20_000; i++) {
            byte[] frame =
                    MessageCodec.encode("part-" + random.nextInt(100), messages.get(random.nextInt(messages.size())));
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) {
                // Half of the flips hit the tag (bytes 4..12), where the interesting bytes are.
                int at = random.nextBoolean() ? 4 + random.nextInt(9) : 4 + random.nextInt(frame.length - 4);
                frame[at] = random.nextInt(3) == 0
                        ? (byte) random.nextInt()
                        : (byte) (frame[at] ^ (1 << random.nextInt(8)));
            }
            try {
                Frame decoded = MessageCodec.decodeFrame(Unpooled.wrappedBuffer(frame, 4, frame.length - 4));
                if (decoded instanceof Frame.Partitioned p) {
                    assertTrue(PartitionIds.isValid(p.partition()), "decoded an invalid id: " + p.partition());
                }
            } catch (MalformedFrameException expected) {
                // fine: reported as malformed
            } catch (RuntimeException e) {
                fail("corrupted frame " + Arrays.toString(frame) + " threw " + e, e);
            }
        }
    }

    // ---- helpers ----

    /** A Partitioned frame with the id bytes {@code id} around the protocol frame {@code inner} (given whole). */
    static byte[] tagged(byte[] id, byte[] inner) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(MessageCodec.PROTOCOL_VERSION);
        body.write(MessageCodec.PARTITIONED);
        body.write(id.length >> 8);
        body.write(id.length);
        body.write(id, 0, id.length);
        body.write(inner, 5, inner.length - 5); // the inner frame's type and body
        byte[] b = body.toByteArray();
        return ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertMalformed(byte[] frame, String reasonPart) {
        MalformedFrameException e =
                assertThrows(MalformedFrameException.class, () -> MessageCodec.decodePartitioned(frame));
        assertTrue(
                e.getMessage().contains(reasonPart),
                "reason '" + e.getMessage() + "' should mention '" + reasonPart + "'");
    }
}
