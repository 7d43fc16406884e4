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
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A {@link FileSync} that forces for real and records, in order, what it forced. */
final class RecordingFileSync implements FileSync {
    /** One force: of a file, or of a directory (its entries). */
    record Forced(boolean directory, Path path) {
        @Override
        public String toString() {
            return (directory ? "directory " : "file ") + path;
        }
    }

    private final List<Forced> forced = new ArrayList<>();
    /** Called after each force, on the forcing thread: tests look at the directory at that moment. */
    private volatile Consumer<Forced> hook = f -> {};

    @Override
    public void force(FileChannel channel, Path file, boolean metadata) throws IOException {
        FORCE.force(channel, file, metadata);
        record(new Forced(false, file.toAbsolutePath()));
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        FORCE.forceDirectory(dir);
        record(new Forced(true, dir.toAbsolutePath()));
    }

    private void record(Forced f) {
        synchronized (this) {
            forced.add(f);
        }
        hook.accept(f);
    }

    /** Calls {@code hook} after every force from now on (replacing any earlier hook). */
    void onForce(Consumer<Forced> hook) {
        this.hook = hook;
    }

    /** What was forced so far, in order. */
    synchronized List<Forced> forced() {
        return List.copyOf(forced);
    }

    synchronized void clear() {
        forced.clear();
    }

    static Forced file(Path file) {
        return new Forced(false, file.toAbsolutePath());
    }

    static Forced directory(Path dir) {
        return new Forced(true, dir.toAbsolutePath());
    }
}
