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
package dev.tenure.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code DIR/ensemble.pids} of a {@link ZooKeeperProcessEnsemble} that records its pids: one line {@code <server> <pid> <clientPort>} per server process, and comment
 * lines starting with {@code #}. Written whole to a temporary file and moved into place, so a reader never
 * sees a half-written file.
 *
 * <p>Stateless. Not thread-safe for one directory: concurrent writers share its temporary file, so one process writes
 * it. {@link #read} throws {@link IOException} for a missing file or a malformed line; a {@link #write} that fails
 * leaves the previous file in place.
 */
public final class PidFile {
    /** One server process: its number, its pid and its client port. */
    public record Entry(int server, long pid, int clientPort) {}

    private PidFile() {}

    /** The pid file of the ensemble in {@code dir}. */
    public static Path path(Path dir) {
        return dir.resolve(ZooKeeperProcessEnsemble.PID_FILE);
    }

    /** Reads the entries; {@link java.nio.file.NoSuchFileException} if there is no pid file. */
    public static List<Entry> read(Path dir) throws IOException {
        Path file = path(dir);
        List<Entry> entries = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String[] fields = trimmed.split("\\s+", -1);
            try {
                if (fields.length < 3) {
                    throw new NumberFormatException("expected 3 fields");
                }
                entries.add(
                        new Entry(Integer.parseInt(fields[0]), Long.parseLong(fields[1]), Integer.parseInt(fields[2])));
            } catch (NumberFormatException e) {
                throw new IOException("malformed line in " + file + ": '" + line + "' (" + e.getMessage() + ")", e);
            }
        }
        return entries;
    }

    /** Replaces the pid file in {@code dir} with {@code entries}, atomically. */
    public static void write(Path dir, List<Entry> entries) throws IOException {
        StringBuilder text = new StringBuilder()
                .append("# ZooKeeper server processes started by pid ")
                .append(ProcessHandle.current().pid())
                .append(" at ")
                .append(Instant.now())
                .append('\n')
                .append("# stop them with: zk stop --dir ")
                .append(dir)
                .append('\n')
                .append("# server pid clientPort\n");
        for (Entry entry : entries) {
            text.append(entry.server())
                    .append(' ')
                    .append(entry.pid())
                    .append(' ')
                    .append(entry.clientPort())
                    .append('\n');
        }
        Path tmp = dir.resolve(ZooKeeperProcessEnsemble.PID_FILE + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, path(dir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
