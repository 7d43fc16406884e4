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

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Property-based fuzzing of the transport's frame codec: arbitrary bytes, and mutations (bit flips, truncations,
 * insertions, extreme length and count fields) of valid frames from the seed corpus ({@code
 * src/test/resources/fuzz/frames/}), decode to a frame or are refused with {@link MalformedFrameException} — never
 * another exception, never an allocation sized by the input before it is checked. Tries per property: jqwik's
 * default, or {@code -Djqwik.tries.default=N} for a long run (docs/security.md, "Fuzzing"); a failure prints the
 * seed to repeat it with {@code -Djqwik.seeds.whenfixed=...} (see there).
 */
class FrameFuzzTest {
    /** The corpus: one valid frame of each type, committed as files so that a long run starts from them. */
    static List<byte[]> corpus() {
        List<byte[]> frames = new ArrayList<>();
        for (String name : List.of(
                "hello",
                "hello-rejected",
                "ping",
                "new-epoch",
                "append",
                "append-ack",
                "rejected",
                "partitioned",
                "control")) {
            try (InputStream in = FrameFuzzTest.class.getResourceAsStream("/fuzz/frames/" + name + ".bin")) {
                assertNotNull(in, "corpus file fuzz/frames/" + name + ".bin");
                frames.add(in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return frames;
    }

    /** The frames the corpus files hold (see {@link #theCorpusFilesAreTheseFramesAndDecode}). */
    static List<Frame> corpusFrames() {
        return List.of(
                new Frame.Hello("cluster", "r1", "r2"),
                new Frame.HelloRejected("not a member"),
                new Frame.Ping(),
                new Frame.Protocol(new Message.NewEpoch("r1", "r2", 7)),
                new Frame.Protocol(new Message.Append(
                        "r1",
                        "r2",
                        7,
                        3,
                        6,
                        List.of(Entry.data(7, 4, new byte[] {1, 2, 3}), Entry.epochStart(7, 5)),
                        4,
                        9)),
                new Frame.Protocol(new Message.AppendAck("r2", "r1", 7, 6, 9)),
                new Frame.Protocol(new Message.Rejected("r2", "r1", 8, "r3", 7)),
                new Frame.Partitioned("p-12", new Message.NewEpoch("n1", "n2", 3)),
                new Frame.Control(new byte[] {'L', 'A', 'R', 0, 1, 2, 3, -1}));
    }

    @Example
    void theCorpusFilesAreTheseFramesAndDecode() throws Exception {
        String out = System.getProperty("tenure.fuzz.writeCorpus");
        if (out != null) {
            List<Frame> frames0 = corpusFrames();
            List<String> names = List.of(
                    "hello",
                    "hello-rejected",
                    "ping",
                    "new-epoch",
                    "append",
                    "append-ack",
                    "rejected",
                    "partitioned",
                    "control");
            for (int i = 0; i < frames0.size(); i++) {
                java.nio.file.Files.write(
                        java.nio.file.Path.of(out).resolve(names.get(i) + ".bin"),
                        MessageCodec.encodeFrame(frames0.get(i)));
            }
        }
        List<byte[]> files = corpus();
        List<Frame> frames = corpusFrames();
        for (int i = 0; i < frames.size(); i++) {
            byte[] encoded = MessageCodec.encodeFrame(frames.get(i));
            assertTrue(
                    Arrays.equals(encoded, files.get(i)),
                    "corpus file " + i + " is the encoding of " + frames.get(i)
                            + " (regenerate with -Dtenure.fuzz.writeCorpus=replicator/src/test/resources/fuzz/frames)");
            assertNotNull(MessageCodec.decodeFrame(files.get(i)));
        }
    }

    /** Decodes, or is refused as malformed; anything else fails the property. */
    private static void decodesOrIsRefused(byte[] frame) {
        try {
            assertNotNull(MessageCodec.decodeFrame(frame));
        } catch (MalformedFrameException refused) {
            assertNotNull(refused.getMessage(), "a refusal says why");
        }
    }

    @Property
    void arbitraryBytesDecodeOrAreRefusedAsMalformed(@ForAll @Size(max = 600) byte[] bytes) {
        decodesOrIsRefused(bytes);
    }

    @Property
    void arbitraryBodiesBehindAValidLengthFieldDecodeOrAreRefused(@ForAll @Size(max = 600) byte[] body) {
        byte[] frame = ByteBuffer.allocate(4 + body.length)
                .putInt(body.length)
                .put(body)
                .array();
        decodesOrIsRefused(frame);
    }

    @Property
    void arbitraryBodiesBehindAControlFramesTypeDecodeOrAreRefused(@ForAll @Size(max = 600) byte[] body) {
        byte[] frame = ByteBuffer.allocate(4 + 2 + body.length)
                .putInt(2 + body.length)
                .put(MessageCodec.PROTOCOL_VERSION)
                .put(MessageCodec.CONTROL)
                .put(body)
                .array();
        decodesOrIsRefused(frame);
    }

    @Property
    void mutatedCorpusFramesDecodeOrAreRefusedAsMalformed(@ForAll("mutatedCorpus") byte[] frame) {
        decodesOrIsRefused(frame);
    }

    @Provide
    Arbitrary<byte[]> mutatedCorpus() {
        Arbitrary<byte[]> seeds = Arbitraries.of(corpus());
        return Arbitraries.oneOf(
                Combinators.combine(
                                seeds,
                                Arbitraries.integers().between(0, 10_000),
                                Arbitraries.integers().between(0, 7))
                        .as(FrameFuzzTest::flipBit),
                Combinators.combine(seeds, Arbitraries.integers().between(0, 10_000))
                        .as(FrameFuzzTest::truncate),
                Combinators.combine(
                                seeds,
                                Arbitraries.integers().between(0, 10_000),
                                Arbitraries.bytes().array(byte[].class).ofMaxSize(16))
                        .as(FrameFuzzTest::insert),
                Combinators.combine(
                                seeds,
                                Arbitraries.integers().between(0, 10_000),
                                Arbitraries.of(
                                        Integer.MAX_VALUE,
                                        Integer.MIN_VALUE,
                                        -1,
                                        0,
                                        1,
                                        0x7fff,
                                        0xffff,
                                        1 << 24,
                                        1 << 30))
                        .as(FrameFuzzTest::overwriteInt),
                Combinators.combine(
                                seeds,
                                Arbitraries.integers().between(0, 10_000),
                                Arbitraries.of(Long.MAX_VALUE, Long.MIN_VALUE, -1L, 0L))
                        .as(FrameFuzzTest::overwriteLong));
    }

    private static byte[] flipBit(byte[] seed, int at, int bit) {
        byte[] b = seed.clone();
        b[at % b.length] ^= (byte) (1 << bit);
        return b;
    }

    private static byte[] truncate(byte[] seed, int at) {
        return Arrays.copyOf(seed, at % (seed.length + 1));
    }

    private static byte[] insert(byte[] seed, int at, byte[] extra) {
        int i = at % (seed.length + 1);
        byte[] b = new byte[seed.length + extra.length];
        System.arraycopy(seed, 0, b, 0, i);
        System.arraycopy(extra, 0, b, i, extra.length);
        System.arraycopy(seed, i, b, i + extra.length, seed.length - i);
        return b;
    }

    private static byte[] overwriteInt(byte[] seed, int at, int value) {
        byte[] b = seed.clone();
        if (b.length >= 4) {
            ByteBuffer.wrap(b).putInt(at % (b.length - 3), value);
        }
        return b;
    }

    private static byte[] overwriteLong(byte[] seed, int at, long value) {
        byte[] b = seed.clone();
        if (b.length >= 8) {
            ByteBuffer.wrap(b).putLong(at % (b.length - 7), value);
        }
        return b;
    }

    @Property
    void theStreamDecoderSplitsArbitraryBytesIntoFramesOrClosesWithoutBufferingALargeOne(
            @ForAll @Size(max = 300) byte[] bytes) {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(1024, true));
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes));
            ch.checkException();
            ByteBuf frame;
            while ((frame = ch.readInbound()) != null) {
                try {
                    assertTrue(frame.readableBytes() <= FrameDecoder.HANDSHAKE_MAX_FRAME_BYTES);
                } finally {
                    frame.release();
                }
            }
        } catch (io.netty.handler.codec.DecoderException refused) {
            // a negative or too long length field, refused as it is read: the connection closes
            assertNotNull(refused.getMessage(), "a refusal says why");
        } finally {
            ch.releaseInbound();
            var unused = ch.close();
        }
    }

    @Example
    void aLengthFieldOfTwoGigabytesIsRefusedAtTheLengthFieldNotBuffered() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(16 << 20, false));
        ByteBuf header = Unpooled.buffer(8).writeInt(Integer.MAX_VALUE).writeInt(0);
        TooLongFrameException refused = assertThrows(TooLongFrameException.class, () -> {
            ch.writeInbound(header);
            ch.checkException();
        });
        assertTrue(refused.getMessage().contains("2147483647"), refused.getMessage());
        assertTrue(ch.inboundMessages().isEmpty(), "nothing was buffered as a frame");
        var unused = ch.close();
    }
}
