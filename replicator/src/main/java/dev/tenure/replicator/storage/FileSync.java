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
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How the storage classes force files and directories to the disk: every {@code fsync} of {@link SegmentedLog},
 * {@link FilePromiseStore} and {@link AtomicFiles} goes through one of these. {@link #FORCE} is the real thing;
 * {@link #NONE} is what {@link LogConfig.SyncPolicy#UNSAFE_NO_FSYNC} uses. Package-private so that tests can
 * record what was forced (a power loss cannot be simulated in a unit test, but whether a file was forced
 * before a method returned can be observed); there is no public way to swap it.
 */
interface FileSync {
    /** Forces {@code channel}, open on {@code file}: its data, and its metadata too if {@code metadata}. */
    void force(FileChannel channel, Path file, boolean metadata) throws IOException;

    /** Makes the creation, deletion and renaming of files in {@code dir} durable. */
    void forceDirectory(Path dir) throws IOException;

    /** Forces the content and metadata of {@code file}, which is not open. */
    default void forceFile(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            force(ch, file, true);
        }
    }

    /** {@code fsync} / {@code fdatasync}, for real. */
    FileSync FORCE = new FileSync() {
        @Override
        public void force(FileChannel channel, Path file, boolean metadata) throws IOException {
            channel.force(metadata);
        }

        @Override
        public void forceDirectory(Path dir) throws IOException {
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            }
        }

        @Override
        public String toString() {
            return "FileSync.FORCE";
        }
    };

    /** Forces nothing: a machine crash may lose anything not yet written back. */
    FileSync NONE = new FileSync() {
        @Override
        public void force(FileChannel channel, Path file, boolean metadata) {}

        @Override
        public void forceDirectory(Path dir) {}

        @Override
        public void forceFile(Path file) {}

        @Override
        public String toString() {
            return "FileSync.NONE";
        }
    };

    /** {@code sync} under {@code policy}: {@link #NONE} for {@link LogConfig.SyncPolicy#UNSAFE_NO_FSYNC}. */
    static FileSync under(LogConfig.SyncPolicy policy, FileSync sync) {
        return policy == LogConfig.SyncPolicy.FSYNC ? sync : NONE;
    }
}
