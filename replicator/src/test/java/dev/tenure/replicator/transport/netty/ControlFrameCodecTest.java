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
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.transport.NodeTransport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The {@code Control} frame (type 31): an opaque, length-prefixed body of at most 1 MiB, with no sender field. */
@Timeout(60)
class ControlFrameCodecTest {
    private static final int MAX = NodeTransport.MAX_CONTROL_BYTES;

    static byte[] randomBytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A control frame, length field included, whose body length field says {@code declared} over {@code body}. */
    static byte[] controlFrame(int declared, byte[] body) {
        return ByteBuffer.allocate(4 + 1 + 1 + 4 + body.length)
                .putInt(1 + 1 + 4 + body.length)
                .put(MessageCodec.PROTOCOL_VERSION)
                .put(MessageCodec.CONTROL)
                .putInt(declared)
                .put(body)
                .array();
    }

    private static byte[] decodeControl(byte[] frame) throws MalformedFrameException {
        return assertInstanceOf(Frame.Control.class, MessageCodec.decodeFrame(frame))
                .body();
    }

    @Test
    void controlFramesOfZeroOneAndOneMebibyteBytesRoundTrip() throws Exception {
        for (int size : List.of(0, 1, MAX)) {
            byte[] body = randomBytes(size, size);
            Frame.Control frame = new Frame.Control(body.clone());
            byte[] encoded = MessageCodec.encodeFrame(frame);
            assertEquals(MessageCodec.CONTROL_OVERHEAD_BYTES + size, encoded.length);
            assertTrue(MessageCodec.frameSizeUpperBound(frame) >= encoded.length);
            assertArrayEquals(body, decodeControl(encoded), "size " + size);

            ByteBuf buf = Unpooled.buffer();
            buf.writeByte(99); // bytes before the frame stay untouched
            MessageCodec.encodeFrame(frame, buf);
            assertEquals(99, buf.readByte());
            assertEquals(buf.readableBytes() - 4, buf.readInt(), "the length field counts the bytes after it");
            Frame fromBuf = MessageCodec.decodeFrame(buf);
            assertArrayEquals(
                    body, assertInstanceOf(Frame.Control.class, fromBuf).body(), "size " + size);
        }
    }

    @Test
    void theBytesAreLengthVersionType31BodyLengthAndBody() {
        byte[] encoded = MessageCodec.encodeFrame(new Frame.Control(new byte[] {7, 8, 9}));
        assertArrayEquals(new byte[] {0, 0, 0, 9, 1, 31, 0, 0, 0, 3, 7, 8, 9}, encoded);
        assertEquals("Control", MessageCodec.frameName(MessageCodec.CONTROL));
    }

    @Test
    void aBodyAboveTheBoundIsRefusedAtEncodingNamingTheBoundAndTheBufferIsUnchanged() {
        ByteBuf out = Unpooled.buffer().writeByte(5);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> MessageCodec.encodeFrame(new Frame.Control(new byte[MAX + 1]), out));
        assertTrue(e.getMessage().contains("1048577 bytes exceeds the maximum of 1048576"), e.getMessage());
        assertEquals(1, out.readableBytes(), "nothing was left in the buffer");
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encodeFrame(new Frame.Control(null)));
    }

    @Test
    void everyTruncationOfAControlFrameIsMalformed() throws Exception {
        byte[] whole = MessageCodec.encodeFrame(new Frame.Control(randomBytes(40, 1)));
        for (int cut = 0; cut < whole.length; cut++) {
            byte[] truncated = Arrays.copyOf(whole, cut);
            if (cut >= 4) {
                ByteBuffer.wrap(truncated).putInt(0, cut - 4); // a consistent length field: the body itself is short
            }
            assertThrows(MalformedFrameException.class, () -> MessageCodec.decodeFrame(truncated), "cut at " + cut);
        }
        byte[] shortBody = controlFrame(40, randomBytes(39, 2));
        MalformedFrameException e =
                assertThrows(MalformedFrameException.class, () -> MessageCodec.decodeFrame(shortBody));
        assertEquals("truncated control body: needs 40 bytes, 39 left", e.getMessage());
        byte[] noLength = Arrays.copyOf(controlFrame(0, new byte[0]), 8);
        ByteBuffer.wrap(noLength).putInt(0, 4);
        MalformedFrameException e2 =
                assertThrows(MalformedFrameException.class, () -> MessageCodec.decodeFrame(noLength));
        assertTrue(e2.getMessage().startsWith("truncated control body length"), e2.getMessage());
    }

    @Test
    void aBodyLengthAboveTheBoundIsMalformedEvenWithTheBytesPresent() {
        MalformedFrameException e = assertThrows(
                MalformedFrameException.class,
                () -> MessageCodec.decodeFrame(controlFrame(MAX + 1, new byte[MAX + 1])));
        assertEquals("control body of 1048577 bytes exceeds the maximum of 1048576 bytes", e.getMessage());
        // A huge length with few bytes behind it is refused by the bound before anything is allocated.
        MalformedFrameException huge = assertThrows(
                MalformedFrameException.class,
                () -> MessageCodec.decodeFrame(controlFrame(Integer.MAX_VALUE, new byte[3])));
        assertTrue(huge.getMessage().contains("exceeds the maximum of 1048576"), huge.getMessage());
    }

    @Test
    void aNegativeBodyLengthIsMalformed() {
        for (int negative : new int[] {-1, Integer.MIN_VALUE}) {
            MalformedFrameException e = assertThrows(
                    MalformedFrameException.class, () -> MessageCodec.decodeFrame(controlFrame(negative, new byte[4])));
            assertEquals("negative control body length " + negative, e.getMessage());
        }
    }

    @Test
    void trailingBytesAfterTheBodyAreMalformed() {
        MalformedFrameException e = assertThrows(
                MalformedFrameException.class, () -> MessageCodec.decodeFrame(controlFrame(2, new byte[3])));
        assertEquals("1 bytes left over after Control frame", e.getMessage());
    }

    @Test
    void aControlFrameInsideAPartitionedFrameIsMalformedAndIsNotAProtocolMessage() throws Exception {
        byte[] control = MessageCodec.encodeFrame(new Frame.Control(new byte[] {1}));
        byte[] tagged =
                PartitionedFrameCodecTest.tagged("p1".getBytes(java.nio.charset.StandardCharsets.US_ASCII), control);
        MalformedFrameException nested =
                assertThrows(MalformedFrameException.class, () -> MessageCodec.decodeFrame(tagged));
        assertTrue(nested.getMessage().contains("not a Control frame"), nested.getMessage());
        MalformedFrameException notAMessage =
                assertThrows(MalformedFrameException.class, () -> MessageCodec.decode(control));
        assertTrue(notAMessage.getMessage().contains("got a Control frame"), notAMessage.getMessage());
        // and a protocol message's frames are untouched by the new type
        assertEquals(new NewEpoch("a", "b", 1), MessageCodec.decode(MessageCodec.encode(new NewEpoch("a", "b", 1))));
    }
}
