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
package dev.tenure.bench.jmh;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.netty.MalformedFrameException;
import dev.tenure.replicator.transport.netty.MessageCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Frame encoding and decoding of the hot message, an {@link Message.Append} of {@code entries} entries of {@code
 * valueBytes} each, into and out of a pooled Netty buffer as the transport does; and of the follower's answer, an
 * {@link Message.AppendAck}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class CodecBenchmark {
    @Param({"1", "64"})
    public int entries;

    @Param({"100"})
    public int valueBytes;

    private Message.Append append;
    private Message.AppendAck ack;
    private ByteBuf buf;
    private ByteBuf encodedAppend;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] value = new byte[valueBytes];
        ThreadLocalRandom.current().nextBytes(value);
        List<Entry> list = new ArrayList<>();
        for (int i = 0; i < entries; i++) {
            list.add(Entry.data(3, 1000 + i, value));
        }
        append = new Message.Append("r1", "r2", 3, 999, 3, list, 990, 7);
        ack = new Message.AppendAck("r2", "r1", 3, 1000 + entries, 7);
        buf = PooledByteBufAllocator.DEFAULT.heapBuffer(1 << 16);
        encodedAppend = PooledByteBufAllocator.DEFAULT.heapBuffer(1 << 16);
        MessageCodec.encode(append, encodedAppend);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buf.release();
        encodedAppend.release();
    }

    @Benchmark
    public int encodeAppend() {
        buf.clear();
        MessageCodec.encode(append, buf);
        return buf.readableBytes();
    }

    @Benchmark
    public Message decodeAppend() throws MalformedFrameException {
        // The frame decoder hands the codec the frame without its length field.
        return MessageCodec.decode(encodedAppend.slice(
                MessageCodec.LENGTH_FIELD_BYTES, encodedAppend.readableBytes() - MessageCodec.LENGTH_FIELD_BYTES));
    }

    @Benchmark
    public int encodeAck() {
        buf.clear();
        MessageCodec.encode(ack, buf);
        return buf.readableBytes();
    }
}
