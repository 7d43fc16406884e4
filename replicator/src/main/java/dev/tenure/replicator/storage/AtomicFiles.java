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
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Small files replaced atomically, as {@code FileEpochStore} does: temp file, fsync, rename, fsync directory;
 * and made durable when loaded ({@link #forceLoaded}).
 */
final class AtomicFiles {
    private AtomicFiles() {}

    /** The temporary file {@link #replace} writes before renaming it over {@code file}. */
    static Path tempFor(Path file) {
        return file.resolveSibling(file.getFileName() + ".tmp");
    }

    /**
     * Replaces {@code file} with {@code content}: after a crash the file holds either the old or the new
     * content, never a mix. With {@link FileSync#NONE} nothing is forced (and a crash may lose the change).
     */
    static void replace(Path file, byte[] content, FileSync sync) throws IOException {
        Path temp = tempFor(file);
        try (FileChannel ch = PrivateFiles.open(
                temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            sync.force(ch, temp, true);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + file + " cannot rename atomically", e);
        }
        sync.forceDirectory(file.getParent());
    }

    /**
     * Forces {@code file}, just read, and its directory, before its content is acted on. A file can be read
     * back before it is durable: a process killed after the rename of {@link #replace} but before the
     * directory fsync leaves the new content in the page cache, where a restarted process finds it; a power
     * loss afterwards could still bring the old content back. Forcing what was read makes it what survives.
     */
    static void forceLoaded(Path file, FileSync sync) throws IOException {
        sync.forceFile(file);
        sync.forceDirectory(file.getParent());
    }
}
