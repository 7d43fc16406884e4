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
package dev.tenure.replicator.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;

/**
 * A replica's snapshots: the newest valid one and one older, kept durably; reads of their files for an install
 * served to another replica; and one install in progress, received from another replica.
 *
 * <p>Every snapshot is a file: a header (id, epoch history, members), the state machine's bytes, a checksum. A
 * snapshot is durable and valid before {@link #write} or {@link #completeInstall} returns it, and only then
 * becomes {@link #latest()}; a crash before that leaves the previous snapshots as they were.
 *
 * <p>Threads: {@link #write} and {@link #openState} may be called from any thread; the others from the replica's
 * event thread only. Implementations say how they are synchronised.
 */
public interface SnapshotStore {
    /** The newest valid snapshot, if any. */
    Optional<SnapshotMeta> latest();

    /**
     * The oldest snapshot kept (the one a corrupt newest snapshot falls back to); {@link #latest()} when only one is
     * kept. The log must keep every entry from its offset on, or the fallback would have a gap.
     */
    Optional<SnapshotMeta> oldestKept();

    /**
     * Up to {@code maxBytes} bytes of the file of snapshot {@code id} from {@code position}, for an install; empty
     * when {@code id} is no longer kept (the reader should start over with {@link #latest()}).
     *
     * @throws IllegalArgumentException if {@code position} is negative or beyond the file
     */
    Optional<byte[]> read(SnapshotId id, long position, int maxBytes) throws IOException;

    /** Starts receiving the file of snapshot {@code id}, {@code sizeBytes} long, discarding any install in progress. */
    void beginInstall(SnapshotId id, long sizeBytes) throws IOException;

    /** Writes the next bytes of the install in progress, which must follow the ones written so far. */
    void writeInstallChunk(long position, byte[] data) throws IOException;

    /**
     * Checks the received file (header, checksum, id, size), makes it durable and the newest snapshot, and deletes
     * snapshots older than the one before it.
     *
     * @throws CorruptSnapshotException if the file fails a check; the install is discarded
     */
    SnapshotMeta completeInstall() throws IOException;

    /** Discards the install in progress, if any. */
    void abortInstall();

    /**
     * Writes a snapshot taken on this replica: the header, then what {@code state} writes, then the checksum;
     * durably (temporary file, fsync, rename, directory fsync). It becomes {@link #latest()}, and snapshots older
     * than the previous latest are deleted.
     */
    SnapshotMeta write(SnapshotId id, EpochHistory history, java.util.List<String> members, StateWriter state)
            throws IOException;

    /** The state machine's bytes of a kept snapshot, for a restore; the caller closes the stream. */
    InputStream openState(SnapshotId id) throws IOException;

    /** Writes a state machine's state. */
    @FunctionalInterface
    interface StateWriter {
        /** Writes the state to {@code out}; an exception fails this snapshot only, keeping the previous one. */
        void writeTo(OutputStream out) throws IOException;
    }

    /** A snapshot file that fails its checks. */
    final class CorruptSnapshotException extends IOException {
        private static final long serialVersionUID = 1L;

        /** A snapshot file that fails its checks; {@code message} says how. */
        public CorruptSnapshotException(String message) {
            super(message);
        }
    }

    /** No snapshots: a state machine without them replays its whole log, and the log is never compacted. */
    SnapshotStore NONE = new SnapshotStore() {
        @Override
        public Optional<SnapshotMeta> latest() {
            return Optional.empty();
        }

        @Override
        public Optional<SnapshotMeta> oldestKept() {
            return Optional.empty();
        }

        @Override
        public Optional<byte[]> read(SnapshotId id, long position, int maxBytes) {
            return Optional.empty();
        }

        @Override
        public void beginInstall(SnapshotId id, long sizeBytes) throws IOException {
            throw new IOException("this replica keeps no snapshots");
        }

        @Override
        public void writeInstallChunk(long position, byte[] data) throws IOException {
            throw new IOException("this replica keeps no snapshots");
        }

        @Override
        public SnapshotMeta completeInstall() throws IOException {
            throw new IOException("this replica keeps no snapshots");
        }

        @Override
        public void abortInstall() {}

        @Override
        public SnapshotMeta write(
                SnapshotId id, EpochHistory history, java.util.List<String> members, StateWriter state)
                throws IOException {
            throw new IOException("this replica keeps no snapshots");
        }

        @Override
        public InputStream openState(SnapshotId id) throws IOException {
            throw new IOException("this replica keeps no snapshots");
        }
    };
}
