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
package dev.tenure.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.HdrHistogram.Histogram;

/**
 * How long one small durable write takes on the disk under the replicas, measured before the runs: most of
 * a replicated write's latency at one in flight, and what group commit amortises at more.
 *
 * <p>Three ways: {@code append} grows a file and forces data and metadata ({@code FileChannel.force(true)},
 * fsync); {@code appendDatasync} grows a file and forces with {@code force(false)} (fdatasync, which still writes
 * the new file size: Tenure's segment sync); {@code prealloc} overwrites a preallocated file with {@code
 * force(false)} (ZooKeeper's transaction log, which preallocates 64 MiB).
 *
 * @param appendP50Micros median of append + force(true)
 * @param preallocP50Micros median of overwrite + force(false)
 * @param appendDatasyncP50Micros median of append + force(false)
 */
record DiskProbe(
        int writes,
        double appendP50Micros,
        double appendP99Micros,
        double preallocP50Micros,
        double preallocP99Micros,
        double appendDatasyncP50Micros,
        double appendDatasyncP99Micros) {

    static final int WRITES = 200;

    static DiskProbe measure(Path dir, int valueBytes) throws IOException {
        Histogram append = new Histogram(3);
        Histogram prealloc = new Histogram(3);
        Histogram appendDatasync = new Histogram(3);
        Path a = dir.resolve("probe-append");
        Path d = dir.resolve("probe-append-datasync");
        Path p = dir.resolve("probe-prealloc");
        try (FileChannel ca = FileChannel.open(a, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                FileChannel cd = FileChannel.open(d, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                FileChannel cp = FileChannel.open(
                        p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(1L << 20, (long) WRITES * valueBytes + 4096));
            cp.write(zeros, 0);
            cp.force(true);
            ByteBuffer value = ByteBuffer.allocate(valueBytes);
            for (int i = 0; i < WRITES; i++) {
                long start = System.nanoTime();
                ca.write(value.clear());
                ca.force(true);
                append.recordValue(System.nanoTime() - start);
                start = System.nanoTime();
                cd.write(value.clear());
                cd.force(false);
                appendDatasync.recordValue(System.nanoTime() - start);
                start = System.nanoTime();
                cp.write(value.clear(), (long) i * valueBytes % (zeros.capacity() - valueBytes));
                cp.force(false);
                prealloc.recordValue(System.nanoTime() - start);
            }
        } finally {
            Files.deleteIfExists(a);
            Files.deleteIfExists(d);
            Files.deleteIfExists(p);
        }
        return new DiskProbe(
                WRITES,
                append.getValueAtPercentile(50) / 1000.0,
                append.getValueAtPercentile(99) / 1000.0,
                prealloc.getValueAtPercentile(50) / 1000.0,
                prealloc.getValueAtPercentile(99) / 1000.0,
                appendDatasync.getValueAtPercentile(50) / 1000.0,
                appendDatasync.getValueAtPercentile(99) / 1000.0);
    }
}
