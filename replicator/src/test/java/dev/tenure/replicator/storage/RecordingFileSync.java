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
