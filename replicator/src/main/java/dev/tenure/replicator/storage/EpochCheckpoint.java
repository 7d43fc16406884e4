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
 * history in a small text file, replaced atomically.
 *
 * <pre>
 * tenure-epoch-history 1
 * EPOCH START_OFFSET        (one line per epoch, in order)
 * crc32c HEX                (CRC32C of every byte before this line)
 * </pre>
 */
final class EpochCheckpoint {
    static final String FILE_NAME = "epoch-history";
    private static final String FORMAT = "tenure-epoch-history 1\n";
    private static final String CRC = "crc32c ";

    private EpochCheckpoint() {}

    /** Thrown for a checkpoint file that cannot be read back. */
    static final class CorruptCheckpointException extends IOException {
        private static final long serialVersionUID = 1L;

        CorruptCheckpointException(Path file, String problem, Throwable cause) {
            super("corrupt epoch history checkpoint " + file + ": " + problem, cause);
        }
    }

    /** The history in {@code file}, or null if there is no such file. */
    static EpochHistory read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (!text.startsWith(FORMAT) || !text.endsWith("\n")) {
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
            for (String line : body.substring(FORMAT.length()).split("\n", -1)) {
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
            return EpochHistory.of(starts);
        } catch (NumberFormatException e) {
            throw new CorruptCheckpointException(file, "malformed number", e);
        } catch (IllegalArgumentException e) {
            throw new CorruptCheckpointException(file, e.getMessage(), e);
        }
    }

    /** Replaces {@code file} with {@code history} atomically, forcing it through {@code sync}. */
    static void write(Path file, EpochHistory history, FileSync sync) throws IOException {
        StringBuilder sb = new StringBuilder(FORMAT);
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
