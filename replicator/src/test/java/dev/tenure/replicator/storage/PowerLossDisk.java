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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A model of a disk that loses power, for the log files ({@code *.log}, {@code *.wal}). It remembers, per file, the
 * size it had when a force of it began: those bytes are on the disk (the files are appended to, and a truncation is
 * forced before the file is written again, so the bytes below that size do not change afterwards). {@link #powerOff()}
 * is the moment the power goes: from then on every force fails (nothing more reaches the disk, and the code under
 * test stops acknowledging). {@link #damageUnforced} then rewrites each log file as the disk could hold it after the
 * restart: the forced bytes, followed by nothing, a prefix of what was written after them, zeros, or garbage.
 *
 * <p>A file deleted and created again under the same name keeps the old one's forced size until it is forced
 * again, which overstates what survives: the model can miss a loss there, never invent one. Not modelled: directory
 * entries (a created, deleted or renamed file is taken as durable at once) and the small
 * files written atomically with a force before a rename (epoch checkpoints, promises), which this leaves as they
 * are. Forces take {@code latencyMicros} (a disk's latency, so that a crash can fall inside one); nothing waits on it.
 */
final class PowerLossDisk implements FileSync {
    private final Map<Path, Long> forcedSize = new ConcurrentHashMap<>();
    private final long latencyMicros;
    private volatile boolean off;

    PowerLossDisk(long latencyMicros) {
        this.latencyMicros = latencyMicros;
    }

    @Override
    public void force(FileChannel channel, Path file, boolean metadata) throws IOException {
        checkOn(file);
        long size = channel.size(); // what was written before the force began: all of it reaches the disk
        if (latencyMicros > 0) {
            try {
                TimeUnit.MICROSECONDS.sleep(latencyMicros); // the disk's latency, not synchronisation
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        checkOn(file);
        forcedSize.put(file.toAbsolutePath(), size);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        checkOn(dir);
    }

    @Override
    public void forceFile(Path file) throws IOException {
        checkOn(file);
    }

    private void checkOn(Path path) throws IOException {
        if (off) {
            throw new IOException("power lost: cannot force " + path);
        }
    }

    /** The power goes: every force from now on fails. */
    void powerOff() {
        off = true;
    }

    /**
     * Rewrites every log file under {@code root} as a disk could hold it after the power came back: the bytes
     * forced, then (chosen by {@code random}) nothing, a prefix of the unforced bytes, or that prefix followed by
     * zeros (space allocated, never written). A partition's segment ({@code *.log}) may also get the unforced bytes
     * with a page of zeros among them (a page never written back while later ones were), or garbage: the
     * write-ahead log rewrites those bytes, whatever they are. The write-ahead log's own segments ({@code *.wal}) do
     * not, as a damaged record followed by data is corruption there (as in a segmented log of its own).
     */
    void damageUnforced(Path root, Random random) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".log") || p.toString().endsWith(".wal"))
                    .toList();
        }
        for (Path f : files) {
            long forced = forcedSize.getOrDefault(f.toAbsolutePath(), 0L);
            byte[] all = Files.readAllBytes(f);
            if (all.length <= forced) {
                continue;
            }
            int unforced = all.length - (int) forced;
            boolean wal = f.toString().endsWith(".wal");
            byte[] tail;
            switch (random.nextInt(wal ? 3 : 5)) {
                case 0 -> tail = new byte[0];
                case 1 -> tail = Arrays.copyOfRange(all, (int) forced, (int) forced + random.nextInt(unforced + 1));
                case 2 -> {
                    tail = Arrays.copyOfRange(all, (int) forced, all.length);
                    Arrays.fill(tail, random.nextInt(tail.length), tail.length, (byte) 0);
                }
                case 3 -> {
                    tail = Arrays.copyOfRange(all, (int) forced, all.length);
                    int from = random.nextInt(tail.length);
                    Arrays.fill(tail, from, Math.min(tail.length, from + 4096), (byte) 0);
                }
                default -> {
                    tail = new byte[1 + random.nextInt(Math.min(unforced, 512))];
                    random.nextBytes(tail);
                }
            }
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.truncate(forced);
                ch.write(ByteBuffer.wrap(tail), forced);
            }
        }
    }
}
