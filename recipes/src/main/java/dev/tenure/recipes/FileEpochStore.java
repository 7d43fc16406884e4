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
package dev.tenure.recipes;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * An {@link EpochStore} in one small file, replaced atomically: write a temporary file, fsync it, rename it
 * over the old one, fsync the directory. The content is one line, {@code tenure-epoch 1 EPOCH CRC32C}; a
 * file that does not match (truncated, edited, corrupted) is refused with an {@link IOException} naming the
 * file, never read as 0.
 *
 * <p>Not thread-safe; {@link EpochFence} serialises its calls.
 */
public final class FileEpochStore implements EpochStore {
    private static final String FORMAT = "tenure-epoch 1 ";

    private final Path file;
    private final Path temp;

    /** A store in {@code file}; its directory must exist. A missing file holds epoch 0. */
    public FileEpochStore(Path file) {
        Preconditions.checkNotNull(file, "file must not be null");
        this.file = file.toAbsolutePath();
        Preconditions.checkArgument(this.file.getParent() != null, "file must have a parent directory");
        this.temp = this.file.resolveSibling(this.file.getFileName() + ".tmp");
    }

    /** The file holding the epoch. */
    public Path file() {
        return file;
    }

    @Override
    public long load() throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return 0;
        }
        if (!text.startsWith(FORMAT) || !text.endsWith("\n")) {
            throw new IOException("corrupt epoch file " + file + ": not a tenure-epoch file");
        }
        // Trailing spaces before the newline are tolerated, as they always were.
        String[] parts = CharMatcher.is(' ')
                .trimTrailingFrom(text.substring(FORMAT.length(), text.length() - 1))
                .split(" ", -1);
        if (parts.length != 2) {
            throw new IOException("corrupt epoch file " + file + ": malformed content");
        }
        long epoch;
        long crc;
        try {
            epoch = Long.parseLong(parts[0]);
            crc = Long.parseLong(parts[1], 16);
        } catch (NumberFormatException e) {
            throw new IOException("corrupt epoch file " + file + ": malformed number", e);
        }
        if (crc != checksum(epoch) || epoch < 0) {
            throw new IOException("corrupt epoch file " + file + ": checksum mismatch");
        }
        return epoch;
    }

    @Override
    public void store(long epoch) throws IOException {
        Preconditions.checkArgument(epoch >= 0, "epoch must be >= 0");
        byte[] content =
                (FORMAT + epoch + " " + Long.toHexString(checksum(epoch)) + "\n").getBytes(StandardCharsets.UTF_8);
        DurableFiles.replace(temp, file, content);
    }

    private static long checksum(long epoch) {
        CRC32C crc = new CRC32C();
        crc.update(Long.toString(epoch).getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    @Override
    public String toString() {
        return "FileEpochStore{" + file + "}";
    }
}
