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
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates a replica's directories and files readable by their owner only: directories {@code 0700}, files {@code
 * 0600} (a log, a promise, a snapshot and the demo's session file hold data and secrets no other local user should
 * read). On a file system without POSIX permissions they are created as {@link Files} would. The permissions apply
 * to what is created; an existing file or directory keeps its own. Thread-safe (stateless).
 */
public final class PrivateFiles {
    private static final FileAttribute<Set<PosixFilePermission>> DIRECTORY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final FileAttribute<Set<PosixFilePermission>> FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private PrivateFiles() {}

    /** Whether {@code path}'s file system has POSIX permissions (else nothing here restricts anything). */
    public static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** {@link Files#createDirectories}, each directory it creates {@code 0700}. */
    public static Path createDirectories(Path dir) throws IOException {
        return posix(dir) ? Files.createDirectories(dir, DIRECTORY) : Files.createDirectories(dir);
    }

    /** {@link FileChannel#open(Path, OpenOption...)}, a file it creates {@code 0600}. */
    public static FileChannel open(Path file, OpenOption... options) throws IOException {
        return posix(file) ? FileChannel.open(file, Set.of(options), FILE) : FileChannel.open(file, Set.of(options));
    }

    /** Sets {@code file}'s permissions to {@code 0600} (for a file that may exist from before). */
    public static void restrict(Path file) throws IOException {
        if (posix(file)) {
            Files.setPosixFilePermissions(file, FILE.value());
        }
    }
}
