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

import dev.tenure.replicator.core.EpochHistory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The leader epoch checkpoint of a {@link SegmentedLog} (Kafka's {@code leader-epoch-checkpoint}): the epoch
 * history and the log's start offset in a small text file, replaced atomically, so that both change together.
 *
 * <pre>
 * tenure-epoch-history 2
 * log-start OFFSET          (the first offset the log holds; segments wholly below it are leftovers)
 * EPOCH START_OFFSET        (one line per epoch, in order; the epochs below the log start included)
 * crc32c HEX                (CRC32C of every byte before this line)
 * </pre>
 *
 * Version 1 is the same without the {@code log-start} line, for a log that starts at 0; it is still what is
 * written for such a log, so a log never compacted keeps the format that earlier releases read.
 */
final class EpochCheckpoint {
    static final String FILE_NAME = "epoch-history";
    private static final String FORMAT_1 = "tenure-epoch-history 1\n";
    private static final String FORMAT_2 = "tenure-epoch-history 2\n";
    private static final String LOG_START = "log-start ";
    private static final String CRC = "crc32c ";

    private EpochCheckpoint() {}

    /**
     * What a checkpoint holds.
     *
     * @param logStart the first offset the log holds (0 for a version 1 file)
     * @param history the epoch history of the log, below its start included
     */
    record Contents(long logStart, EpochHistory history) {}

    /** Thrown for a checkpoint file that cannot be read back. */
    static final class CorruptCheckpointException extends IOException {
        private static final long serialVersionUID = 1L;

        CorruptCheckpointException(Path file, String problem, Throwable cause) {
            super("corrupt epoch history checkpoint " + file + ": " + problem, cause);
        }
    }

    /** The history in {@code file}, or null if there is no such file. */
    static EpochHistory read(Path file) throws IOException {
        Contents c = load(file);
        return c == null ? null : c.history();
    }

    /** The log start and history in {@code file}, or null if there is no such file. */
    static Contents load(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        boolean v2 = text.startsWith(FORMAT_2);
        if (!(v2 || text.startsWith(FORMAT_1)) || !text.endsWith("\n")) {
            throw new CorruptCheckpointException(file, "not a tenure-epoch-history file", null);
        }
        int crcLine = text.lastIndexOf('\n', text.length() - 2) + 1;
        String body = text.substring(0, crcLine);
        String last = text.substring(crcLine, text.length() - 1);
        if (!last.startsWith(CRC)) {
            throw new CorruptCheckpointException(file, "no checksum line", null);
        }
        try {
            if (Long.parseLong(last.substring(CRC.length()), 16) != checksum(body)) {
                throw new CorruptCheckpointException(file, "checksum mismatch", null);
            }
            List<EpochHistory.Start> starts = new ArrayList<>();
            long logStart = 0;
            boolean startRead = !v2;
            for (String line : body.substring(FORMAT_1.length()).split("\n", -1)) {
                if (!startRead) {
                    if (!line.startsWith(LOG_START)) {
                        throw new CorruptCheckpointException(file, "no log-start line", null);
                    }
                    logStart = Long.parseLong(line.substring(LOG_START.length()));
                    if (logStart < 0) {
                        throw new CorruptCheckpointException(file, "negative log start " + logStart, null);
                    }
                    startRead = true;
                    continue;
                }
                if (line.isEmpty()) {
                    continue;
                }
                // Trailing spaces are tolerated, as they always were.
                String[] parts = line.replaceFirst(" +$", "").split(" ", -1);
                if (parts.length != 2) {
                    throw new CorruptCheckpointException(file, "malformed line '" + line + "'", null);
                }
                starts.add(new EpochHistory.Start(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
            }
            if (!startRead) {
                throw new CorruptCheckpointException(file, "no log-start line", null);
            }
            return new Contents(logStart, EpochHistory.of(starts));
        } catch (NumberFormatException e) {
            throw new CorruptCheckpointException(file, "malformed number", e);
        } catch (IllegalArgumentException e) {
            throw new CorruptCheckpointException(file, e.getMessage(), e);
        }
    }

    /** Replaces {@code file} with {@code history} and log start 0 atomically, forcing it through {@code sync}. */
    static void write(Path file, EpochHistory history, FileSync sync) throws IOException {
        write(file, 0, history, sync);
    }

    /** Replaces {@code file} with {@code logStart} and {@code history} atomically, forcing it through {@code sync}. */
    static void write(Path file, long logStart, EpochHistory history, FileSync sync) throws IOException {
        if (logStart < 0) {
            throw new IllegalArgumentException("log start must be >= 0, was " + logStart);
        }
        StringBuilder sb = new StringBuilder(logStart == 0 ? FORMAT_1 : FORMAT_2);
        if (logStart > 0) {
            sb.append(LOG_START).append(logStart).append('\n');
        }
        for (EpochHistory.Start s : history.starts()) {
            sb.append(s.epoch()).append(' ').append(s.startOffset()).append('\n');
        }
        String body = sb.toString();
        String text = body + CRC + Long.toHexString(checksum(body)) + "\n";
        AtomicFiles.replace(file, text.getBytes(StandardCharsets.UTF_8), sync);
    }

    private static long checksum(String body) {
        CRC32C crc = new CRC32C();
        crc.update(body.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }
}
