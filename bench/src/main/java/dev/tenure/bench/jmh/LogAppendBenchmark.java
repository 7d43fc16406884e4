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
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.storage.SegmentedLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * The log's write path: append a batch of entries to a {@link SegmentedLog} in a fresh temporary directory, with
 * or without the sync that makes the batch durable. With {@code sync = true} one operation is one group commit of
 * {@code batch} entries (one write, one fdatasync); entries per second = batch × operations per second. With
 * {@code sync = false} it is the CPU cost of encoding, checksumming and writing to the page cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class LogAppendBenchmark {
    @Param({"1", "64", "512"})
    public int batch;

    @Param({"100"})
    public int valueBytes;

    @Param({"true", "false"})
    public boolean sync;

    private Path dir;
    private SegmentedLog log;
    private byte[] value;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("tenure-jmh-log-");
        log = SegmentedLog.open(dir, LogConfig.defaults());
        value = new byte[valueBytes];
        ThreadLocalRandom.current().nextBytes(value);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        log.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public long appendBatch() throws IOException {
        long offset = log.logEndOffset();
        List<Entry> entries = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) {
            entries.add(Entry.data(1, offset + i, value));
        }
        log.append(entries);
        return sync ? log.sync() : log.logEndOffset();
    }
}
