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

import com.google.common.base.Preconditions;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.core.PromiseStore;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * A {@link PromiseStore} in one small file, replaced atomically: write a temporary file, fsync it, rename it
 * over the old one, fsync the directory. The content is one line, {@code tenure-promise 1 EPOCH LEADER
 * CRC32C}, the leader id URL-encoded and the CRC32C (hex) taken over {@code "EPOCH LEADER"}. A missing file
 * holds {@link Promise#NONE}; a file that does not match (truncated, edited, corrupted) is refused with an
 * {@link IOException} naming the file, never read as {@link Promise#NONE}. A temporary file left by a crash
 * is ignored and overwritten.
 *
 * <p>{@link #load()} forces the file and its directory before it returns the promise: a process killed
 * between the rename and the directory fsync of a store leaves the new promise readable but not yet
 * durable, and a power loss after the restart could bring the older promise back, letting an epoch the
 * replica had refused be accepted again.
 *
 * <p>Thread-safe (calls are serialised).
 */
public final class FilePromiseStore implements PromiseStore {
    private static final String FORMAT = "tenure-promise 1 ";

    private final Path file;
    private final FileSync sync;
    /** The last promise loaded or stored, to refuse going back; null until then. */
    private Promise known;

    /** A store in {@code file} that forces its writes; the directory must exist. */
    public FilePromiseStore(Path file) {
        this(file, LogConfig.SyncPolicy.FSYNC);
    }

    /** A store in {@code file}; with {@link LogConfig.SyncPolicy#UNSAFE_NO_FSYNC} a crash may lose a store. */
    public FilePromiseStore(Path file, LogConfig.SyncPolicy syncPolicy) {
        this(file, syncPolicy, FileSync.FORCE);
    }

    /** As {@link #FilePromiseStore(Path, LogConfig.SyncPolicy)}, forcing through {@code sync} (tests record it). */
    FilePromiseStore(Path file, LogConfig.SyncPolicy syncPolicy, FileSync sync) {
        Preconditions.checkNotNull(file, "file must not be null");
        Preconditions.checkNotNull(syncPolicy, "syncPolicy must not be null");
        Preconditions.checkNotNull(sync, "sync must not be null");
        this.file = file.toAbsolutePath();
        Preconditions.checkArgument(this.file.getParent() != null, "file must have a parent directory");
        this.sync = FileSync.under(syncPolicy, sync);
    }

    /** The file holding the promise. */
    public Path file() {
        return file;
    }

    /**
     * The promise in the file, {@link Promise#NONE} if there is none. With {@link LogConfig.SyncPolicy#FSYNC}
     * the file and its directory are forced before it is returned, so the promise returned survives a power
     * loss even if the store that wrote it was interrupted before its directory fsync.
     *
     * @throws IOException if the file does not hold a promise, or cannot be read or forced
     */
    @Override
    public synchronized Promise load() throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            known = Promise.NONE;
            return Promise.NONE;
        } catch (CharacterCodingException e) {
            throw new IOException("corrupt promise file " + file + ": not UTF-8", e);
        }
        if (!text.startsWith(FORMAT) || !text.endsWith("\n")) {
            throw new IOException("corrupt promise file " + file + ": not a tenure-promise file");
        }
        String[] parts = text.substring(FORMAT.length(), text.length() - 1).split(" ", -1);
        if (parts.length != 3) {
            throw new IOException("corrupt promise file " + file + ": malformed content");
        }
        long crc;
        Promise promise;
        try {
            crc = Long.parseLong(parts[2], 16);
            promise = new Promise(Long.parseLong(parts[0]), URLDecoder.decode(parts[1], StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) { // NumberFormatException, a bad escape, a negative epoch
            throw new IOException("corrupt promise file " + file + ": malformed content", e);
        }
        if (crc != checksum(parts[0] + " " + parts[1])) {
            throw new IOException("corrupt promise file " + file + ": checksum mismatch");
        }
        AtomicFiles.forceLoaded(file, sync);
        known = promise;
        return promise;
    }

    /**
     * Stores {@code promise}; durable when this returns.
     *
     * @throws IllegalStateException if the promise has a lower epoch than the one last loaded or stored
     */
    @Override
    public synchronized void store(Promise promise) throws IOException {
        Preconditions.checkNotNull(promise, "promise must not be null");
        if (known != null && promise.epoch() < known.epoch()) {
            throw new IllegalStateException("promise would go back from " + known + " to " + promise);
        }
        String body = promise.epoch() + " " + URLEncoder.encode(promise.leader(), StandardCharsets.UTF_8);
        String text = FORMAT + body + " " + Long.toHexString(checksum(body)) + "\n";
        AtomicFiles.replace(file, text.getBytes(StandardCharsets.UTF_8), sync);
        known = promise;
    }

    private static long checksum(String body) {
        CRC32C crc = new CRC32C();
        crc.update(body.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    @Override
    public String toString() {
        return "FilePromiseStore{" + file + "}";
    }
}
