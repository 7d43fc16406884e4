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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What sharing the disk path between partitions can save, measured on the disk under a directory: a round of {@code
 * partitions} small durable writes costs
 *
 * <ul>
 *   <li>{@code oneLog}: all appended to one file, then one fdatasync — one partition with that many in flight, or a
 *       node-level write-ahead log shared by that many partitions with one in flight each;
 *   <li>{@code filesOnPool}: one append and one fdatasync per file, on a pool of 4 threads — per-partition files
 *       synced by a shared sync pool, as {@code ZooKeeperNode} does today;
 *   <li>{@code filesOneThread}: one append per file, then every file forced by one thread — per-partition files with
 *       one sync scheduler.
 * </ul>
 *
 * <p>Usage: {@code java -cp bench.jar dev.tenure.bench.FsyncSharing DIR [ROUNDS] [PARTITIONS]}; it deletes what it
 * wrote. Runs three repetitions and prints the milliseconds per round of each.
 */
public final class FsyncSharing {
    private FsyncSharing() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]).resolve("fsync-sharing");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int partitions = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        Files.createDirectories(dir);
        List<FileChannel> files = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (FileChannel one = open(dir.resolve("one"))) {
            for (int i = 0; i < partitions; i++) {
                files.add(open(dir.resolve("p" + i)));
            }
            for (int rep = 1; rep <= 3; rep++) {
                double oneLog = oneLog(one, partitions, rounds);
                double filesOnPool = filesOnPool(files, pool, rounds);
                double filesOneThread = filesOneThread(files, rounds);
                System.out.printf(
                        Locale.ROOT,
                        "repetition %d, ms per round of %d writes: oneLog %.2f, filesOnPool %.2f, filesOneThread %.2f"
                                + " (filesOnPool / oneLog = %.1f)%n",
                        rep,
                        partitions,
                        oneLog,
                        filesOnPool,
                        filesOneThread,
                        filesOnPool / oneLog);
            }
        } finally {
            pool.shutdownNow();
            for (FileChannel f : files) {
                f.close();
            }
            try (var paths = Files.list(dir)) {
                for (Path p : paths.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    private static FileChannel open(Path p) throws IOException {
        return FileChannel.open(
                p, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static double oneLog(FileChannel one, int partitions, int rounds) throws IOException {
        ByteBuffer record = ByteBuffer.allocate(100);
        long start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < partitions; i++) {
                record.clear();
                one.write(record);
            }
            one.force(false);
        }
        return (System.nanoTime() - start) / 1e6 / rounds;
    }

    private static double filesOnPool(List<FileChannel> files, ExecutorService pool, int rounds) throws Exception {
        long start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            List<Future<?>> syncs = new ArrayList<>();
            for (FileChannel f : files) {
                syncs.add(pool.submit(() -> {
                    f.write(ByteBuffer.allocate(100));
                    f.force(false);
                    return null;
                }));
            }
            for (Future<?> s : syncs) {
                s.get();
            }
        }
        return (System.nanoTime() - start) / 1e6 / rounds;
    }

    private static double filesOneThread(List<FileChannel> files, int rounds) throws IOException {
        long start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            for (FileChannel f : files) {
                f.write(ByteBuffer.allocate(100));
            }
            for (FileChannel f : files) {
                f.force(false);
            }
        }
        return (System.nanoTime() - start) / 1e6 / rounds;
    }
}
