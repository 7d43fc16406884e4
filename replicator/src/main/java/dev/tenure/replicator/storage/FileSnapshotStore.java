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
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.core.SnapshotMeta;
import dev.tenure.replicator.core.SnapshotStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SnapshotStore} in one directory (for instance {@code <dataDir>/snapshots}).
 *
 * <h2>On disk</h2>
 *
 * <ul>
 *   <li>{@code <offset>-<epoch>.snap}: a snapshot, named by its id (both 20 digits, zero-padded), in the
 *       {@link SnapshotFormat}. At most two are kept: the newest (highest id, {@link #latest()}) and one older
 *       ({@link #oldestKept()}), the one a corrupt newest falls back to.
 *   <li>{@code <name>.snap.tmp}: a snapshot being written by {@link #write}; {@code <name>.snap.partial}: an
 *       install being received. Both are deleted by {@link #open}: a crash leaves them incomplete.
 *   <li>{@code <name>.snap.corrupt} (or {@code <name>.snap.<n>.corrupt}): a snapshot found corrupt by {@link #open}
 *       while an older valid one was there to fall back to; kept for inspection, never read again.
 * </ul>
 *
 * <h2>Durability</h2>
 *
 * A snapshot is written to its temporary (or partial) file, which is forced, then renamed into place atomically,
 * then the directory is forced; only then is it {@link #latest()}. A crash at any point leaves the snapshots that
 * were there before, plus at most a temporary file. Snapshots older than the two newest are deleted after the new
 * one is in place, and the directory is forced after the deletions. With {@link LogConfig.SyncPolicy#UNSAFE_NO_FSYNC}
 * nothing is forced.
 *
 * <h2>Recovery</h2>
 *
 * {@link #open} checks the newest snapshot file fully (every byte against its CRC, the header's id against the
 * file name). A corrupt newest is renamed to {@code .corrupt} with a WARN naming it and what failed, and the next
 * older one is checked in its place. If snapshot files exist but none is valid, {@code open} throws a {@link
 * CorruptSnapshotException} naming each and leaves them as they are: a replica never starts as if it had no
 * snapshot when it had one. The one older than the newest valid one has its header checked (a bad one is renamed
 * to {@code .corrupt} with a WARN); anything older is deleted. What is kept is forced before {@code open} returns,
 * as a snapshot a killed process renamed into place may not be on the disk yet.
 *
 * <h2>Threads</h2>
 *
 * Thread-safe. {@link #write} and {@link #openState} may run on a snapshot thread while {@link #read} and the
 * install calls run on the replica's event thread. The set of kept snapshots is guarded by one lock, held only to
 * look up or change it (and to open a kept file, so that a file found kept is never one being deleted); renames
 * into place and retention deletions run one at a time under a second lock; {@link #write} calls run one at a time
 * under a third, held while the state is written (so a second {@code write} waits, but {@link #read}, {@link
 * #latest()} and the install calls do not); the install in progress is guarded by a fourth. A snapshot deleted by
 * retention while a {@link #read} or an {@link #openState} stream has it open stays readable through that stream;
 * a later {@link #read} of it returns empty.
 */
public final class FileSnapshotStore implements SnapshotStore {
    private static final Logger LOG = LoggerFactory.getLogger(FileSnapshotStore.class);

    static final String SUFFIX = ".snap";
    static final String TEMP_SUFFIX = ".tmp";
    static final String PARTIAL_SUFFIX = ".partial";
    static final String CORRUPT_SUFFIX = ".corrupt";
    /** Snapshots kept: the newest and the one a corrupt newest falls back to. */
    static final int KEPT = 2;

    private static final Pattern NAME = Pattern.compile("(\\d{20})-(\\d{20})\\.snap");

    private final Path dir;
    private final FileSync sync;

    /** Guards {@link #kept}. */
    private final Object lock = new Object();
    /** The kept snapshots, by id; at most {@link #KEPT} once a change is complete. */
    private final TreeMap<SnapshotId, Kept> kept = new TreeMap<>();
    /** Renames into place and retention deletions, one at a time. */
    private final Object filesLock = new Object();
    /** {@link #write} calls, one at a time. */
    private final Object writeLock = new Object();
    /** Guards {@link #install}. */
    private final Object installLock = new Object();

    private Install install;

    /** A kept snapshot file. */
    private record Kept(Path path, SnapshotFormat.Header header, long size) {
        SnapshotMeta meta() {
            return header.meta(size);
        }
    }

    /** The install in progress. */
    private static final class Install {
        final SnapshotId id;
        final long size;
        final Path path;
        final FileChannel channel;
        long written;

        Install(SnapshotId id, long size, Path path, FileChannel channel) {
            this.id = id;
            this.size = size;
            this.path = path;
            this.channel = channel;
        }
    }

    private FileSnapshotStore(Path dir, FileSync sync) {
        this.dir = dir;
        this.sync = sync;
    }

    /**
     * Opens the snapshots in {@code dir}, creating the directory if needed; see the class description for what is
     * checked, set aside and deleted.
     *
     * @throws CorruptSnapshotException if snapshot files exist but none is valid
     * @throws IOException if the directory cannot be read or changed
     */
    public static FileSnapshotStore open(Path dir, LogConfig.SyncPolicy syncPolicy) throws IOException {
        return open(dir, syncPolicy, FileSync.FORCE);
    }

    /** As {@link #open(Path, LogConfig.SyncPolicy)}, forcing files through {@code sync} (tests record it). */
    static FileSnapshotStore open(Path dir, LogConfig.SyncPolicy syncPolicy, FileSync sync) throws IOException {
        Preconditions.checkNotNull(dir, "dir must not be null");
        Preconditions.checkNotNull(syncPolicy, "syncPolicy must not be null");
        Preconditions.checkNotNull(sync, "sync must not be null");
        PrivateFiles.createDirectories(dir);
        FileSnapshotStore store = new FileSnapshotStore(dir.toAbsolutePath(), FileSync.under(syncPolicy, sync));
        store.recover();
        return store;
    }

    /** The directory holding the snapshots. */
    public Path directory() {
        return dir;
    }

    /** The file name of snapshot {@code id}. */
    static String fileName(SnapshotId id) {
        return String.format("%020d-%020d%s", id.offset(), id.epoch(), SUFFIX);
    }

    // ---- SnapshotStore ----

    @Override
    public Optional<SnapshotMeta> latest() {
        synchronized (lock) {
            return kept.isEmpty()
                    ? Optional.empty()
                    : Optional.of(kept.lastEntry().getValue().meta());
        }
    }

    @Override
    public Optional<SnapshotMeta> oldestKept() {
        synchronized (lock) {
            return kept.isEmpty()
                    ? Optional.empty()
                    : Optional.of(kept.firstEntry().getValue().meta());
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Empty also when the file of a kept snapshot has disappeared from the directory. At the end of the file
     * (position equal to its size) the result is an empty array.
     *
     * @throws IllegalArgumentException if {@code position} is negative or beyond the file, or {@code maxBytes <= 0}
     */
    @Override
    public Optional<byte[]> read(SnapshotId id, long position, int maxBytes) throws IOException {
        Preconditions.checkNotNull(id, "id must not be null");
        Preconditions.checkArgument(position >= 0, "position must be >= 0, was %s", position);
        Preconditions.checkArgument(maxBytes > 0, "maxBytes must be > 0, was %s", maxBytes);
        Kept k;
        FileChannel ch;
        synchronized (lock) {
            k = kept.get(id);
            if (k == null) {
                return Optional.empty();
            }
            try {
                ch = FileChannel.open(k.path(), StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
        }
        try (ch) {
            Preconditions.checkArgument(
                    position <= k.size(), "position %s is beyond snapshot %s of %s bytes", position, id, k.size());
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(maxBytes, k.size() - position));
            SnapshotFormat.readFully(ch, buf, position, k.path());
            return Optional.of(buf.array());
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The bytes go to {@code <name>.snap.partial}, which is not forced until {@link #completeInstall}.
     *
     * @throws IllegalArgumentException if {@code sizeBytes <= 0}
     */
    @Override
    public void beginInstall(SnapshotId id, long sizeBytes) throws IOException {
        Preconditions.checkNotNull(id, "id must not be null");
        Preconditions.checkArgument(sizeBytes > 0, "sizeBytes must be > 0, was %s", sizeBytes);
        synchronized (installLock) {
            discardInstall();
            Path path = dir.resolve(fileName(id) + PARTIAL_SUFFIX);
            FileChannel ch = PrivateFiles.open(
                    path,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            install = new Install(id, sizeBytes, path, ch);
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code position} is not the number of bytes written so far, or the chunk
     *     would run past the size given to {@link #beginInstall}; nothing is written then, and the install goes on
     * @throws IllegalStateException if no install is in progress
     * @throws IOException if writing fails; the install is then discarded
     */
    @Override
    public void writeInstallChunk(long position, byte[] data) throws IOException {
        Preconditions.checkNotNull(data, "data must not be null");
        synchronized (installLock) {
            Install in = install;
            if (in == null) {
                throw new IllegalStateException("no snapshot install in progress");
            }
            Preconditions.checkArgument(
                    position == in.written,
                    "chunk at position %s of the install of snapshot %s, which has %s bytes so far",
                    position,
                    in.id,
                    in.written);
            Preconditions.checkArgument(
                    data.length <= in.size - in.written,
                    "chunk of %s bytes at position %s would run past the %s bytes of snapshot %s",
                    data.length,
                    position,
                    in.size,
                    in.id);
            try {
                ByteBuffer buf = ByteBuffer.wrap(data);
                long p = position;
                while (buf.hasRemaining()) {
                    p += in.channel.write(buf, p);
                }
            } catch (IOException e) {
                discardInstall();
                throw e;
            }
            in.written += data.length;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Checks that the size given to {@link #beginInstall} was received, then the whole file ({@link
     * SnapshotFormat}: format, checksums) and that its header names the id the install began with; then forces
     * it, renames it into place, forces the directory, makes it {@link #latest()} (if no newer one is kept) and
     * deletes the snapshots older than the two newest.
     *
     * @throws CorruptSnapshotException if a check fails; the partial file is deleted
     * @throws IllegalStateException if no install is in progress
     * @throws IOException if the files cannot be read or changed; the partial file is deleted
     */
    @Override
    public SnapshotMeta completeInstall() throws IOException {
        synchronized (installLock) {
            Install in = install;
            if (in == null) {
                throw new IllegalStateException("no snapshot install in progress");
            }
            try {
                if (in.written != in.size) {
                    throw SnapshotFormat.corrupt(
                            in.path,
                            "incomplete install: " + in.written + " of the " + in.size + " bytes announced received");
                }
                SnapshotFormat.Header header = SnapshotFormat.validate(in.channel, in.path);
                if (!header.id().equals(in.id)) {
                    throw SnapshotFormat.corrupt(
                            in.path,
                            "the header names snapshot " + header.id() + ", the install began for snapshot " + in.id);
                }
                sync.force(in.channel, in.path, true);
                in.channel.close();
                Path target = dir.resolve(fileName(in.id));
                SnapshotMeta meta;
                synchronized (filesLock) {
                    move(in.path, target);
                    install = null;
                    meta = adopt(new Kept(target, header, in.size), "installed");
                }
                return meta;
            } catch (IOException | RuntimeException e) {
                discardInstall();
                throw e;
            }
        }
    }

    @Override
    public void abortInstall() {
        synchronized (installLock) {
            discardInstall();
        }
    }

    /** Closes and deletes the install in progress, if any; problems are logged, not thrown. */
    private void discardInstall() {
        Install in = install;
        if (in == null) {
            return;
        }
        install = null;
        try {
            in.channel.close();
        } catch (IOException e) {
            LOG.warn("Cannot close {}", in.path, e);
        }
        try {
            Files.deleteIfExists(in.path);
        } catch (IOException e) {
            LOG.warn("Cannot delete the discarded snapshot install {}; open() deletes it", in.path, e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Streams the state to {@code <name>.snap.tmp} through a buffer, never holding it; a failure of {@code
     * state} or of the disk deletes the temporary file and leaves the kept snapshots as they were. Writes run one
     * at a time; reads, installs and {@link #latest()} go on meanwhile.
     *
     * @throws IllegalArgumentException if {@code history} does not end at {@code id}, or {@code members} cannot be
     *     written ({@link SnapshotFormat#encodeHeader})
     */
    @Override
    public SnapshotMeta write(SnapshotId id, EpochHistory history, List<String> members, StateWriter state)
            throws IOException {
        Preconditions.checkNotNull(id, "id must not be null");
        Preconditions.checkNotNull(history, "history must not be null");
        Preconditions.checkNotNull(members, "members must not be null");
        Preconditions.checkNotNull(state, "state must not be null");
        SnapshotFormat.encodeHeader(id, history, members); // refuses what cannot be written, before any file
        synchronized (writeLock) {
            Path target = dir.resolve(fileName(id));
            Path temp = dir.resolve(fileName(id) + TEMP_SUFFIX);
            long size;
            SnapshotFormat.Header header;
            try (FileChannel ch = PrivateFiles.open(
                    temp,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                size = SnapshotFormat.write(Channels.newOutputStream(ch), id, history, members, state);
                sync.force(ch, temp, true);
                header = SnapshotFormat.readHeader(ch, temp);
            } catch (IOException | RuntimeException e) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            synchronized (filesLock) {
                move(temp, target);
                return adopt(new Kept(target, header, size), "written");
            }
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The stream checks the file's CRC again as it is read: reading to the end of a state damaged since it was
     * checked throws {@link CorruptSnapshotException} instead of reporting the end.
     *
     * @throws IOException if {@code id} is not kept, or its file cannot be read
     */
    @Override
    public InputStream openState(SnapshotId id) throws IOException {
        Preconditions.checkNotNull(id, "id must not be null");
        Kept k;
        FileChannel ch;
        synchronized (lock) {
            k = kept.get(id);
            if (k == null) {
                throw new IOException("snapshot " + id + " is not kept in " + dir + " (kept: " + kept.keySet() + ")");
            }
            ch = FileChannel.open(k.path(), StandardOpenOption.READ);
        }
        try {
            return SnapshotFormat.stateStream(ch, k.path(), k.header());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    // ---- files ----

    /** Renames {@code from} over {@code to} atomically and forces the directory. Under {@link #filesLock}. */
    private void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + dir + " cannot rename atomically", e);
        }
        sync.forceDirectory(dir);
    }

    /**
     * Makes {@code k}, in place and durable, kept; deletes the snapshots older than the two newest and forces the
     * directory. Under {@link #filesLock}.
     */
    private SnapshotMeta adopt(Kept k, String how) throws IOException {
        List<Kept> dropped = new ArrayList<>();
        synchronized (lock) {
            kept.put(k.header().id(), k);
            while (kept.size() > KEPT) {
                dropped.add(kept.pollFirstEntry().getValue());
            }
        }
        LOG.info("Snapshot {} {}: {} bytes in {}", k.header().id(), how, k.size(), k.path());
        for (Kept d : dropped) {
            Files.deleteIfExists(d.path());
            LOG.info("Deleted snapshot {}, older than the two kept", d.path());
        }
        if (!dropped.isEmpty()) {
            sync.forceDirectory(dir);
        }
        return k.meta();
    }

    // ---- recovery ----

    private void recover() throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.sorted().toList();
        }
        TreeMap<SnapshotId, Path> candidates = new TreeMap<>(Comparator.reverseOrder());
        boolean corruptFiles = false;
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.endsWith(SUFFIX + TEMP_SUFFIX) || name.endsWith(SUFFIX + PARTIAL_SUFFIX)) {
                LOG.info("Deleting {}, left incomplete by an interrupted snapshot write or install", f);
                Files.delete(f);
                continue;
            }
            corruptFiles |= name.endsWith(CORRUPT_SUFFIX);
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                continue;
            }
            try {
                candidates.put(new SnapshotId(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))), f);
            } catch (IllegalArgumentException e) { // NumberFormatException too
                LOG.warn("Ignoring {}: its name is not a snapshot id ({})", f, e.getMessage());
            }
        }
        Kept newest = null;
        List<Map.Entry<Path, String>> corruptNewer = new ArrayList<>();
        Kept older = null;
        List<Path> extra = new ArrayList<>();
        for (Map.Entry<SnapshotId, Path> c : candidates.entrySet()) {
            Path f = c.getValue();
            if (newest == null) {
                try {
                    newest = load(f, c.getKey(), true);
                } catch (CorruptSnapshotException e) {
                    corruptNewer.add(Map.entry(f, e.getMessage()));
                }
            } else if (older == null) {
                try {
                    older = load(f, c.getKey(), false);
                } catch (CorruptSnapshotException e) {
                    setAside(f, e.getMessage(), "it is not kept as the fallback");
                }
            } else {
                extra.add(f);
            }
        }
        if (newest == null && !corruptNewer.isEmpty()) {
            StringBuilder sb = new StringBuilder("no valid snapshot in ")
                    .append(dir)
                    .append(", though there are snapshot files; refusing to start without the snapshot they hold"
                            + " (move them away to start without one, which is safe only if the log was never"
                            + " compacted). ");
            for (Map.Entry<Path, String> e : corruptNewer) {
                sb.append(e.getValue()).append("; ");
            }
            throw new CorruptSnapshotException(sb.substring(0, sb.length() - 2));
        }
        for (Map.Entry<Path, String> e : corruptNewer) {
            setAside(e.getKey(), e.getValue(), "falling back to the older snapshot " + newest.path());
        }
        for (Path f : extra) {
            LOG.info("Deleting snapshot {}, older than the two kept", f);
            Files.delete(f);
        }
        for (Kept k : java.util.Arrays.asList(newest, older)) {
            if (k != null) {
                kept.put(k.header().id(), k);
                sync.forceFile(k.path());
            }
        }
        sync.forceDirectory(dir);
        if (kept.isEmpty() && corruptFiles) {
            LOG.warn(
                    "No snapshot in {}, only files set aside as corrupt ({}); starting without a snapshot",
                    dir,
                    CORRUPT_SUFFIX);
        }
        LOG.info(
                "Opened the snapshots in {}: latest {}, oldest kept {}",
                dir,
                latest().map(m -> m.id() + " (" + m.sizeBytes() + " bytes)").orElse("none"),
                oldestKept().map(m -> m.id().toString()).orElse("none"));
    }

    /** Checks the snapshot file {@code f} named {@code id}: fully, or its header and trailer's length only. */
    private Kept load(Path f, SnapshotId id, boolean fully) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            SnapshotFormat.Header h = fully ? SnapshotFormat.validate(ch, f) : SnapshotFormat.readHeader(ch, f);
            long size = ch.size();
            if (!fully) {
                long stateLength = h.stateLength(size);
                ByteBuffer trailer = ByteBuffer.allocate(8);
                if (stateLength < 0) {
                    throw SnapshotFormat.corrupt(f, "truncated: " + size + " bytes, not even a header and a trailer");
                }
                SnapshotFormat.readFully(ch, trailer, size - SnapshotFormat.TRAILER_BYTES, f);
                if (trailer.flip().getLong() != stateLength) {
                    throw SnapshotFormat.corrupt(
                            f, "the trailer's state length does not match the file's size " + size);
                }
            }
            if (!h.id().equals(id)) {
                throw SnapshotFormat.corrupt(f, "id mismatch: the file name says " + id + ", the header " + h.id());
            }
            return new Kept(f, h, size);
        }
    }

    /** Renames the corrupt snapshot {@code f} to a {@code .corrupt} name, with a WARN. */
    private void setAside(Path f, String problem, String consequence) throws IOException {
        Path target = f.resolveSibling(f.getFileName() + CORRUPT_SUFFIX);
        for (int n = 2; Files.exists(target); n++) {
            target = f.resolveSibling(f.getFileName() + "." + n + CORRUPT_SUFFIX);
        }
        Files.move(f, target);
        sync.forceDirectory(dir);
        LOG.warn("{}; renamed to {} for inspection, {}", problem, target, consequence);
    }

    @Override
    public String toString() {
        return "FileSnapshotStore{" + dir + "}";
    }
}
