package dev.tenure.replicator.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Small files replaced atomically, as {@code FileEpochStore} does: temp file, fsync, rename, fsync directory. */
final class AtomicFiles {
    private AtomicFiles() {}

    /** The temporary file {@link #replace} writes before renaming it over {@code file}. */
    static Path tempFor(Path file) {
        return file.resolveSibling(file.getFileName() + ".tmp");
    }

    /**
     * Replaces {@code file} with {@code content}: after a crash the file holds either the old or the new
     * content, never a mix. With {@code fsync} false nothing is forced (and a crash may lose the change).
     */
    static void replace(Path file, byte[] content, boolean fsync) throws IOException {
        Path temp = tempFor(file);
        try (FileChannel ch = FileChannel.open(
                temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (fsync) {
                ch.force(true);
            }
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + file + " cannot rename atomically", e);
        }
        if (fsync) {
            forceDirectory(file.getParent());
        }
    }

    /** Makes the creation, deletion and renaming of files in {@code dir} durable. */
    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
