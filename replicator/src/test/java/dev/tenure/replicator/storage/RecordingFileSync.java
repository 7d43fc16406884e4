package dev.tenure.replicator.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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

    private synchronized void record(Forced f) {
        forced.add(f);
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
