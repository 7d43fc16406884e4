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
import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.ReplicaLog;
import dev.tenure.replicator.core.Synced;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ReplicaLog} in segment files in one directory, durable up to what {@link #sync()} returned.
 *
 * <h2>On disk</h2>
 *
 * <ul>
 *   <li>{@code 00000000000000000000.log}, ...: segments, each named by the offset of its first record (20
 *       digits, zero-padded). Segments hold consecutive offsets with no gap from the log start ({@link
 *       #logStartOffset()}: 0, or the first segment kept by {@link #compact} or made by {@link #resetTo}); only the
 *       last one is appended to.
 *   <li>A record is a 26-byte header, big-endian, then the payload: {@code [format byte = 1][type
 *       byte][epoch long][offset long][payload length int][CRC32C int]}. The CRC32C covers type, epoch,
 *       offset, length and payload ({@link RecordFormat} has it byte by byte). A record, header included, is at most {@link LogConfig#maxRecordBytes()}
 *       (16 MiB by default): {@link #append} refuses a larger entry before writing anything.
 *   <li>{@code epoch-history}: the leader epoch checkpoint ({@link EpochCheckpoint}: the log start and the
 *       {@link EpochHistory}, the epochs below the log start included, in text, with a CRC32C), replaced atomically
 *       before the first record of a new epoch is appended, after a truncation that removed epoch starts, before a
 *       compaction deletes segments and during a reset.
 *   <li>{@code lock}: held with a file lock while the log is open, so two processes cannot open it.
 * </ul>
 *
 * <h2>Durability</h2>
 *
 * {@link #append} writes to the page cache only (or, with {@code deferWrites()}, leaves small appends in memory until a
 * few KiB wait or something needs the file); {@link #sync()} forces what was appended ({@code fdatasync}:
 * the records and the file size, not the timestamps) and reports the log end offset now durable. Rare
 * structural changes make themselves durable before they return, so that a crash can only lose a suffix of
 * the last segment: a segment roll forces the full segment and the directory, a truncation forces the
 * truncated segment and the directory after each deleted segment, a compaction writes the new start to the
 * checkpoint before it deletes segments and forces the directory after, a reset ({@link #resetTo}) is ordered so
 * that a crash leaves the old log (a prefix of it, its start unchanged) or the new one, and the epoch checkpoint is
 * written with {@code fsync}. {@link #open} forces everything it finds before it returns (every segment, the epoch
 * checkpoint it keeps, the directory): records a killed process left in the page cache are read back as part
 * of the log, so they must be on the disk before anyone is told so; a {@link #sync()} right after open
 * reports the whole recovered log as durable, truthfully. With {@link LogConfig.SyncPolicy#UNSAFE_NO_FSYNC}
 * nothing is forced.
 *
 * <h2>Recovery</h2>
 *
 * {@link #open} reads every record and checks its header, checksum, offset and epoch. A torn tail in the
 * last segment is what a crash leaves behind, and is cut off with a warning: a damaged record (an incomplete
 * header or payload, a failed checksum) that runs to the end of the file or is followed only by zero bytes,
 * with no intact record starting at any byte position after it. Any other damage is refused with a {@link
 * CorruptLogException} naming the file, byte position and expected offset; data is never dropped silently. In
 * particular a damaged record followed by an intact one (whatever the damaged record's length says), and a
 * header announcing a record larger than {@link LogConfig#maxRecordBytes()}, are corruption.
 *
 * <p>The log starts where the checkpoint says (0 without one): segment files below that start are what an
 * interrupted compaction or reset left, and are deleted; if none is left, an empty segment is created at the start.
 * The first segment must then start exactly there: one starting above it means segment files are missing
 * (corruption), and a log whose first segment starts above 0 without a readable checkpoint is refused, as the
 * history below its start is lost. The epoch history is the checkpoint's below the log start followed by what the
 * records say from the log start on: the records win over the checkpoint there (a missing or damaged checkpoint of a
 * log starting at 0 is rebuilt from them with a warning; epoch starts at or after the log end, written before
 * records a crash lost, are dropped). An empty log whose only segment starts at {@code S} opens with start and end
 * {@code S} and the checkpoint's history below {@code S}.
 *
 * <h2>Threads</h2>
 *
 * One thread, the replica's event thread, calls {@link #append}, {@link #truncate}, {@link #compact}, {@link
 * #resetTo}, {@link #read}, {@link #epochAt} and {@link #close}. {@link #sync()} and {@link #syncWithEpoch()} may be called from any other
 * thread (a group-commit thread) concurrently with those; concurrent sync calls run one at a time. {@link
 * #logEndOffset()}, {@link #logStartOffset()} and {@link #epochHistory()} may be called from any thread. Do not interrupt a thread
 * inside {@code sync()}: a {@link FileChannel} closes itself when its user is interrupted, which fails the
 * log until it is reopened.
 *
 * <p>An {@link IOException} while writing fails the log: every later call throws {@link
 * IllegalStateException}; close it and open it again, which recovers what reached the disk. After {@link
 * #close()} every call throws {@link IllegalStateException}.
 */
public final class SegmentedLog implements ReplicaLog, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentedLog.class);

    /** Bytes of a record header ({@link RecordFormat}). */
    public static final int HEADER_BYTES = RecordFormat.HEADER_BYTES;

    static final String SEGMENT_SUFFIX = ".log";
    private static final Pattern SEGMENT_NAME = Pattern.compile("\\d{20}\\.log");
    private static final String LOCK_FILE = "lock";
    /** One index entry (a file position) per this many records: 8 bytes per 32 entries in memory. */
    static final int INDEX_INTERVAL = 32;
    /** Appends write through a buffer flushed at about this size. */
    private static final int WRITE_CHUNK = 1 << 20;

    private final Path dir;
    private final LogConfig config;
    /** {@link FileSync#NONE} under {@link LogConfig.SyncPolicy#UNSAFE_NO_FSYNC}. */
    private final FileSync fileSync;

    private final Path checkpointFile;
    private DirectoryLock dirLock;

    /** Guards what {@link #sync()} looks at: the segment map, the unsynced set, the end, the history. */
    private final Object lock = new Object();
    /** Runs sync calls one at a time. */
    private final Object syncLock = new Object();
    /** Set by {@link #takeNewEpochStartsFromTheRecords()}; read by the event thread. */
    private volatile boolean newEpochsFromRecords;

    // Changed by the event thread only, under `lock`; the event thread reads them without it.
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private Segment active;
    /** The base offset of the first segment. */
    private volatile long logStart;

    private volatile long logEnd;
    /** Recently appended entries, so replication and apply need not read them back from the files. */
    private final TailCache tail = new TailCache(64 * 1024, 16L << 20);

    private volatile EpochHistory history = EpochHistory.empty();
    /** Segments appended to since the last sync began. */
    private final Set<Segment> unsynced = new LinkedHashSet<>();
    /** The lowest end a truncation set since the current sync began (MAX_VALUE for none). */
    private long truncatedSinceSyncStart = Long.MAX_VALUE;

    private volatile boolean closed;
    private volatile IOException failure;
    /** Set by {@link #openDiscardingFrom}: records at and after this offset are dropped by recovery unread. */
    private long discardFrom = Long.MAX_VALUE;

    /** Grows with the batches appended (up to 4 write chunks): an idle log of a node with many holds 4 KiB. */
    private ByteBuffer writeBuffer = ByteBuffer.allocate(4 * 1024);

    /** Set by {@link #deferWrites()}: appends leave their records in {@link #writeBuffer} (see there). */
    private volatile boolean deferWrites;

    /**
     * With {@link #deferWrites}: the offset of the last record waiting in {@link #writeBuffer} to be written to the
     * end of the active segment, or -1 when none is. Guarded by {@code lock} then (the buffer too).
     */
    private long pendingLast = -1;

    /** With {@link #deferWrites}, the records an append leaves waiting are written once they reach this size. */
    static final int DEFERRED_BYTES = 8 * 1024;

    /** One segment file. */
    private static final class Segment {
        final long baseOffset;
        final Path path;
        final FileChannel channel;
        /** Bytes of valid records (the file size, once recovered). */
        long size;
        /** The offset after the last record. */
        long endOffset;
        /** positions[k] is the file position of the record at baseOffset + k * INDEX_INTERVAL. */
        long[] positions = new long[8];

        int indexed;
        /** Set when a truncation deleted this segment, so a concurrent sync skips it. */
        volatile boolean deleted;

        Segment(long baseOffset, Path path, FileChannel channel) {
            this.baseOffset = baseOffset;
            this.path = path;
            this.channel = channel;
            this.endOffset = baseOffset;
        }

        void recordAt(long offset, long position) {
            if ((offset - baseOffset) % INDEX_INTERVAL == 0) {
                if (indexed == positions.length) {
                    positions = Arrays.copyOf(positions, indexed * 2);
                }
                positions[indexed++] = position;
            }
        }

        void truncateIndex(long newEnd) {
            indexed = (int) ((newEnd - baseOffset + INDEX_INTERVAL - 1) / INDEX_INTERVAL);
        }

        boolean isEmpty() {
            return endOffset == baseOffset;
        }

        @Override
        public String toString() {
            return path.getFileName() + "[" + baseOffset + ", " + endOffset + ")";
        }
    }

    private SegmentedLog(Path dir, LogConfig config, FileSync fileSync) {
        this.dir = dir;
        this.config = config;
        this.fileSync = FileSync.under(config.syncPolicy(), fileSync);
        this.checkpointFile = dir.resolve(EpochCheckpoint.FILE_NAME);
    }

    /**
     * Opens the log in {@code dir}, creating the directory and an empty log if needed, and recovers it: a
     * torn tail is cut off, segments left below the log start by an interrupted compaction or reset are deleted,
     * the epoch history is rebuilt (the checkpoint's below the log start, the records' from it), and what was
     * found is forced to the disk (with {@link LogConfig.SyncPolicy#FSYNC}), so all of it is durable when this returns.
     *
     * @throws CorruptLogException if a record before the tail is damaged, a segment file is missing, or the log
     *     starts above 0 without a readable epoch checkpoint (the history below its start would be lost)
     * @throws IOException if the files cannot be read or written, or another process has the log open
     */
    public static SegmentedLog open(Path dir, LogConfig config) throws IOException {
        return open(dir, config, FileSync.FORCE);
    }

    /**
     * As {@link #open(Path, LogConfig)}, the entries this log keeps in memory counting against {@code budget}, shared
     * with the node's other logs opened with it (see {@link TailBudget}); {@link #close()} gives the share back.
     */
    public static SegmentedLog open(Path dir, LogConfig config, TailBudget budget) throws IOException {
        SegmentedLog log = open(dir, config);
        log.shareTailCache(budget);
        return log;
    }

    /** As {@link #open(Path, LogConfig)}, forcing files through {@code fileSync} (tests record it). */
    static SegmentedLog open(Path dir, LogConfig config, FileSync fileSync) throws IOException {
        return openDiscardingFrom(dir, config, fileSync, Long.MAX_VALUE);
    }

    /**
     * Opens the log in {@code dir} as {@link #open(Path, LogConfig)} does, but drops every record at and after
     * {@code discardFrom} (or the log start, if higher) without reading it: the segments wholly above it are
     * deleted and the one holding it is cut there, before anything is forced. For a log whose tail is held
     * durably elsewhere ({@link WriteAheadLog}, which rewrites it): records never forced may have reached the disk
     * in any shape after a power loss, and are not judged. Records below {@code discardFrom} are checked as
     * always.
     */
    static SegmentedLog openDiscardingFrom(Path dir, LogConfig config, FileSync fileSync, long discardFrom)
            throws IOException {
        Preconditions.checkArgument(discardFrom >= 0, "discardFrom must be >= 0, was %s", discardFrom);
        Preconditions.checkNotNull(dir, "dir must not be null");
        Preconditions.checkNotNull(config, "config must not be null");
        Preconditions.checkNotNull(fileSync, "fileSync must not be null");
        PrivateFiles.createDirectories(dir);
        SegmentedLog log = new SegmentedLog(dir.toAbsolutePath(), config, fileSync);
        log.discardFrom = discardFrom;
        try {
            log.recover();
        } catch (IOException | RuntimeException e) {
            try {
                log.closeFiles();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return log;
    }

    /** The directory holding the log. */
    public Path directory() {
        return dir;
    }

    /** The settings the log was opened with. */
    public LogConfig config() {
        return config;
    }

    // ---- ReplicaLog ----

    @Override
    public long logEndOffset() {
        checkUsable();
        return logEnd;
    }

    @Override
    public EpochHistory epochHistory() {
        checkUsable();
        return history;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Writes the records without forcing them; they are durable once a {@link #sync()} that began after
     * this call returned. When the entries start a new epoch, the epoch checkpoint is written (and forced)
     * first.
     *
     * @throws IllegalArgumentException if the entries do not follow the log end and its last epoch, or one of
     *     them would be a record larger than {@link LogConfig#maxRecordBytes()}; nothing is written then
     * @throws UncheckedIOException if writing fails (the log is then failed)
     */
    /**
     * From now on, an append that starts a new epoch does not rewrite the epoch history checkpoint (a temporary file,
     * two fsyncs and a rename on the appending thread, for every replica of every partition that a failover moves);
     * the checkpoint may then lag the records. What only the checkpoint knows — the log start and the epochs below it
     * — changes only by {@link #compact}, {@link #resetTo} and {@link #truncate}, which still write it whole (with
     * every epoch the log holds), and {@link #open} takes the epochs above the start from the records, as it always
     * did, keeping a checkpoint that lags them as found. For a log whose appends another log makes durable (a node's
     * {@link WriteAheadLog}, whose records carry every entry's epoch). Event thread, before appending.
     */
    void takeNewEpochStartsFromTheRecords() {
        newEpochsFromRecords = true;
    }

    /**
     * From now on, an append leaves its records in memory until {@link #DEFERRED_BYTES} of them are waiting, and
     * writes them to the segment file then, in one write: a partition with one small write after another costs one
     * system call (and one pass of the filesystem's write path) per {@code DEFERRED_BYTES}, not one per append.
     * Anything that needs the file as the log stands writes them first: {@link #sync()}, a read that the tail
     * cache cannot answer, {@link #truncate}, {@link #compact}, {@link #resetTo}, {@link #close}. Records that
     * wait are lost with the process: only for a log whose appends another log makes durable and replays after a
     * crash (a node's {@link WriteAheadLog}: its recovery rewrites a partition's files from its first record that
     * touches them, and it forces a partition's files with {@link #sync()}, which writes what waits first).
     * Event thread, before appending.
     */
    void deferWrites() {
        deferWrites = true;
    }

    /**
     * From now on, the entries this log keeps in memory (its tail cache) count against {@code budget}, a node's bound
     * shared with its other partitions' logs ({@link TailBudget}); {@link #close()} gives the share back. Reads the
     * cache no longer answers come from the files. Event thread, before appending; once.
     */
    void shareTailCache(TailBudget budget) {
        tail.share(budget);
    }

    /** The bytes this log keeps in memory for replication and apply (its tail cache), for tests. */
    long tailCachedBytes() {
        return tail.cachedBytes();
    }

    /**
     * Writes the records waiting in the write buffer ({@link #deferWrites}) to the end of the active segment. Event
     * thread, or a syncing thread under {@code lock}.
     */
    private void writePending() throws IOException {
        synchronized (lock) {
            if (pendingLast < 0) {
                return;
            }
            Set<Segment> written = new LinkedHashSet<>(2);
            long last = pendingLast;
            pendingLast = -1;
            flush(active, writeBuffer, last, written);
            unsynced.addAll(written);
        }
    }

    @Override
    public void append(List<Entry> entries) {
        checkUsable();
        if (entries.isEmpty()) {
            return;
        }
        long expected = logEnd;
        long lastEpoch = history.lastEpoch();
        EpochHistory next = history;
        for (Entry e : entries) {
            if (e.offset() != expected || e.epoch() < lastEpoch) {
                throw new IllegalArgumentException(
                        "entry " + e + " does not follow log end " + expected + " of epoch " + lastEpoch);
            }
            long recordBytes = HEADER_BYTES + (long) e.payload().length;
            if (recordBytes > config.maxRecordBytes()) {
                throw new IllegalArgumentException("entry " + e + " would be a record of " + recordBytes
                        + " bytes, more than maxRecordBytes " + config.maxRecordBytes());
            }
            next = next.withEntry(e.epoch(), e.offset());
            expected++;
            lastEpoch = e.epoch();
        }
        Set<Segment> written = new LinkedHashSet<>();
        try {
            if (!next.equals(history) && !newEpochsFromRecords) {
                // Before the records (as Kafka does): after a crash the checkpoint may be ahead of the records,
                // which open() trims, but never behind them.
                EpochCheckpoint.write(checkpointFile, logStart, next, fileSync);
            }
            if (deferWrites) {
                // A sync on another thread writes what waits in the buffer: the buffer and the end change together.
                synchronized (lock) {
                    writeRecords(entries, written);
                    unsynced.addAll(written);
                    history = next;
                    logEnd = expected;
                }
                tail.appended(entries);
                return;
            }
            writeRecords(entries, written);
        } catch (IOException e) {
            throw fail("cannot append to the log in " + dir, e);
        }
        synchronized (lock) {
            unsynced.addAll(written);
            history = next;
            logEnd = expected;
        }
        tail.appended(entries);
    }

    /**
     * Encodes {@code entries} after the records waiting in the write buffer (none unless {@link #deferWrites}) and
     * writes them to the segment files, rolling as needed; with {@link #deferWrites} the last few may be left waiting.
     */
    private void writeRecords(List<Entry> entries, Set<Segment> written) throws IOException {
        Segment seg = active;
        ByteBuffer buf = writeBuffer;
        long last = pendingLast; // -1, and the buffer empty, unless records wait
        pendingLast = -1;
        boolean kept = true; // buf is writeBuffer (a buffer grown past 4 write chunks is not kept)
        for (Entry e : entries) {
            int recordBytes = HEADER_BYTES + e.payload().length;
            long segBytes = seg.size + buf.position();
            if (segBytes > 0 && segBytes + recordBytes > config.maxSegmentBytes()) {
                flush(seg, buf, last, written);
                seg = roll(e.offset());
            } else if (buf.position() > 0 && buf.position() + recordBytes > WRITE_CHUNK) {
                flush(seg, buf, last, written);
            }
            if (buf.remaining() < recordBytes) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + recordBytes));
                buf.flip();
                bigger.put(buf);
                buf.clear();
                buf = bigger;
                kept = bigger.capacity() <= 4 * WRITE_CHUNK;
                writeBuffer = kept ? bigger : writeBuffer;
            }
            seg.recordAt(e.offset(), seg.size + buf.position());
            RecordFormat.encode(buf, e);
            last = e.offset();
        }
        if (deferWrites && kept && buf.position() < DEFERRED_BYTES) {
            pendingLast = last; // written by the next append that fills the buffer, or whoever needs the file
            return;
        }
        flush(seg, buf, last, written);
    }

    /** Writes the buffered records (the last at {@code lastOffset}) to the end of {@code seg}. */
    private static void flush(Segment seg, ByteBuffer buf, long lastOffset, Set<Segment> written) throws IOException {
        if (buf.position() == 0) {
            return;
        }
        buf.flip();
        long position = seg.size;
        while (buf.hasRemaining()) {
            position += seg.channel.write(buf, position);
        }
        buf.clear();
        seg.size = position;
        seg.endOffset = lastOffset + 1;
        written.add(seg);
    }

    /** Closes the active segment and starts one at {@code baseOffset}. */
    private Segment roll(long baseOffset) throws IOException {
        // Recovery treats damage in a segment that is not the last as corruption, so a segment must be
        // complete on disk before a later one can exist.
        fileSync.force(active.channel, active.path, true);
        Segment seg = createSegment(baseOffset);
        synchronized (lock) {
            segments.put(baseOffset, seg);
            active = seg;
        }
        return seg;
    }

    private Segment createSegment(long baseOffset) throws IOException {
        Path path = dir.resolve(segmentName(baseOffset));
        FileChannel ch = PrivateFiles.open(
                path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            fileSync.forceDirectory(dir);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new Segment(baseOffset, path, ch);
    }

    /** The file name of the segment starting at {@code baseOffset}. */
    static String segmentName(long baseOffset) {
        return String.format("%020d%s", baseOffset, SEGMENT_SUFFIX);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Truncates the segment holding {@code newEnd} and deletes the segments after it (the last first), and
     * makes that durable before returning; then rewrites the epoch checkpoint if epoch starts were removed.
     *
     * @throws IllegalArgumentException unless {@code logStartOffset() <= newEnd <= logEndOffset()}: the entries below
     *     the log start are in a snapshot, committed
     * @throws UncheckedIOException if the files cannot be changed (the log is then failed)
     */
    @Override
    public void truncate(long newEnd) {
        checkUsable();
        long end = logEnd;
        long start = logStart;
        if (newEnd < start || newEnd > end) {
            throw new IllegalArgumentException(
                    "cannot truncate to " + newEnd + " a log holding [" + start + ", " + end + ")");
        }
        if (newEnd == end) {
            return;
        }
        try {
            writePending();
        } catch (IOException e) {
            throw fail("cannot write the log in " + dir + " before truncating it", e);
        }
        EpochHistory before = history;
        EpochHistory next = before.truncatedTo(newEnd);
        tail.truncated(newEnd);
        Segment keep = newEnd == start
                ? segments.firstEntry().getValue()
                : segments.floorEntry(newEnd - 1).getValue();
        List<Segment> removed = new ArrayList<>(
                segments.tailMap(keep.baseOffset, false).descendingMap().values());
        try {
            long position = newEnd == keep.endOffset ? keep.size : positionOf(keep, newEnd);
            synchronized (lock) {
                for (Segment s : removed) {
                    s.deleted = true;
                    segments.remove(s.baseOffset);
                    unsynced.remove(s);
                }
                active = keep;
                logEnd = newEnd;
                history = next;
                truncatedSinceSyncStart = Math.min(truncatedSinceSyncStart, newEnd);
            }
            // Last segment first, each deletion durable before the next: a crash leaves a prefix of the
            // segments, never a gap.
            for (Segment s : removed) {
                s.channel.close();
                Files.delete(s.path);
                fileSync.forceDirectory(dir);
            }
            keep.channel.truncate(position);
            // New appends overwrite the cut-off bytes; if the cut were lost in a crash, stale records could
            // follow new ones, which recovery would have to refuse as corruption.
            fileSync.force(keep.channel, keep.path, true);
            keep.size = position;
            keep.endOffset = newEnd;
            keep.truncateIndex(newEnd);
            if (!next.equals(before)) {
                EpochCheckpoint.write(checkpointFile, start, next, fileSync);
            }
        } catch (IOException e) {
            throw fail("cannot truncate the log in " + dir + " to " + newEnd, e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The first segment's base offset: the log holds whole segments only.
     */
    @Override
    public long logStartOffset() {
        checkUsable();
        return logStart;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Deletes the segments that end at or below {@code newStart}, oldest first, never the active (last) one; the
     * log then starts at the base of the first segment kept, which may be below {@code newStart}. The new start is
     * written to the epoch checkpoint (forced) before any segment is deleted, and the directory is forced after the
     * deletions, before this returns: after a crash, {@link #open} finds the new start and deletes the segments
     * left below it. The epoch history is unchanged and keeps covering the deleted entries. A {@code newStart} at or
     * below the log start changes nothing.
     *
     * @throws IllegalArgumentException if {@code newStart > logEndOffset()}
     * @throws UncheckedIOException if the files cannot be changed (the log is then failed)
     */
    @Override
    public void compact(long newStart) {
        checkUsable();
        long end = logEnd;
        if (newStart > end) {
            throw new IllegalArgumentException("cannot compact to " + newStart + " a log ending at " + end);
        }
        if (newStart <= logStart) {
            return;
        }
        try {
            writePending();
        } catch (IOException e) {
            throw fail("cannot write the log in " + dir + " before compacting it", e);
        }
        List<Segment> removed = new ArrayList<>();
        for (Segment s : segments.values()) {
            if (s == active || s.endOffset > newStart) {
                break;
            }
            removed.add(s);
        }
        if (removed.isEmpty()) {
            return;
        }
        long start = segments.higherKey(removed.get(removed.size() - 1).baseOffset);
        try {
            // First: once the checkpoint names the new start, open() deletes whatever is left below it, so a crash
            // part-way through the deletions leaves a log that starts at either the old start or the new one.
            EpochCheckpoint.write(checkpointFile, start, history, fileSync);
            synchronized (lock) {
                for (Segment s : removed) {
                    s.deleted = true;
                    segments.remove(s.baseOffset);
                    unsynced.remove(s);
                }
                logStart = start;
            }
            for (Segment s : removed) {
                s.channel.close();
                Files.delete(s.path);
            }
            fileSync.forceDirectory(dir);
        } catch (IOException e) {
            throw fail("cannot compact the log in " + dir + " to " + newStart, e);
        }
        LOG.info(
                "Compacted the log in {}: {} segment(s) deleted, the log now starts at {} (asked for {})",
                dir,
                removed.size(),
                start,
                newStart);
    }

    /**
     * {@inheritDoc}
     *
     * <p>In an order that a crash at any point leaves either the old log with its start unchanged (a prefix of
     * it, as a truncation would) or the new empty one: every segment but the first is deleted, the last first,
     * each deletion made durable; the first segment is emptied and forced; then the checkpoint gets the new start
     * and history and the emptied segment is renamed to the new base (the checkpoint first when the new start is
     * above the old one, the rename first when below: {@link #open} deletes an empty segment left below the start
     * the checkpoint names, and refuses a log whose first segment starts above it); last the directory is forced.
     *
     * @throws IllegalArgumentException if {@code offset < 0}, or {@code history} has an epoch start at or after
     *     {@code offset}, or does not cover the entries below it (no epoch at {@code offset - 1})
     * @throws UncheckedIOException if the files cannot be changed (the log is then failed)
     */
    @Override
    public void resetTo(long offset, EpochHistory history) {
        checkUsable();
        Preconditions.checkNotNull(history, "history must not be null");
        Preconditions.checkArgument(offset >= 0, "offset must be >= 0, was %s", offset);
        Preconditions.checkArgument(
                history.truncatedTo(offset).equals(history),
                "history %s has epoch starts at or after the offset %s",
                history,
                offset);
        Preconditions.checkArgument(
                offset == 0 || history.epochAt(offset - 1) > 0,
                "history %s does not cover the entries below the offset %s",
                history,
                offset);
        Segment first = segments.firstEntry().getValue();
        List<Segment> removed = new ArrayList<>(
                segments.tailMap(first.baseOffset, false).descendingMap().values());
        long oldStart = first.baseOffset;
        tail.clear();
        synchronized (lock) {
            pendingLast = -1; // the records waiting go with the log they belonged to
            writeBuffer.clear();
            for (Segment s : removed) {
                s.deleted = true;
                segments.remove(s.baseOffset);
            }
            unsynced.clear();
            active = first;
            logEnd = offset;
            this.history = history;
            truncatedSinceSyncStart = Math.min(truncatedSinceSyncStart, offset);
        }
        try {
            // Newest first, each durable before the next: a crash leaves a prefix of the old log.
            for (Segment s : removed) {
                s.channel.close();
                Files.delete(s.path);
                fileSync.forceDirectory(dir);
            }
            first.channel.truncate(0);
            fileSync.force(first.channel, first.path, true);
            Path target = dir.resolve(segmentName(offset));
            if (offset >= oldStart) {
                EpochCheckpoint.write(checkpointFile, offset, history, fileSync);
            }
            if (offset != oldStart) {
                Files.move(first.path, target, StandardCopyOption.ATOMIC_MOVE);
                fileSync.forceDirectory(dir);
            }
            if (offset < oldStart) {
                EpochCheckpoint.write(checkpointFile, offset, history, fileSync);
            }
            Segment reset = new Segment(offset, target, first.channel);
            reset.size = 0;
            synchronized (lock) {
                segments.remove(oldStart);
                segments.put(offset, reset);
                active = reset;
                logStart = offset;
            }
            fileSync.forceDirectory(dir);
        } catch (IOException e) {
            throw fail("cannot reset the log in " + dir + " to " + offset, e);
        }
        LOG.info("Reset the log in {} to an empty log at offset {} with epoch history {}", dir, offset, history);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads from the segment files (through the page cache) and checks every record's checksum.
     *
     * @return the entries from {@code from}; empty if {@code from >= logEndOffset()}
     * @throws IllegalArgumentException if {@code from < logStartOffset()} (those entries were compacted) or {@code
     *     maxEntries < 1}
     * @throws UncheckedIOException if reading fails or a record fails its checksum
     */
    @Override
    public List<Entry> read(long from, int maxEntries, long maxBytes) {
        checkUsable();
        long start = logStart;
        Preconditions.checkArgument(
                from >= start, "from %s is below the log start %s: those entries were compacted", from, start);
        Preconditions.checkArgument(maxEntries >= 1, "maxEntries must be >= 1, was %s", maxEntries);
        List<Entry> batch = new ArrayList<>();
        long end = logEnd;
        if (from >= end) {
            return batch;
        }
        if (tail.read(from, maxEntries, maxBytes, batch)) {
            return batch;
        }
        try {
            writePending();
        } catch (IOException e) {
            throw fail("cannot write the log in " + dir + " before reading it", e);
        }
        long bytes = 0;
        long offset = from;
        Map.Entry<Long, Segment> current = segments.floorEntry(from);
        try {
            while (current != null && offset < end && batch.size() < maxEntries) {
                Segment seg = current.getValue();
                PositionalReader reader = new PositionalReader(seg.channel, seg.path, seg.size);
                long position = positionOf(seg, offset, reader);
                while (offset < seg.endOffset && batch.size() < maxEntries) {
                    Entry e = readRecord(seg, reader, position, offset);
                    bytes += e.sizeInBytes();
                    if (!batch.isEmpty() && bytes > maxBytes) {
                        return batch;
                    }
                    batch.add(e);
                    position += HEADER_BYTES + e.payload().length;
                    offset++;
                }
                current = segments.higherEntry(seg.baseOffset);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read offset " + offset + " of the log in " + dir, e);
        }
        return batch;
    }

    private Entry readRecord(Segment seg, PositionalReader reader, long position, long offset) throws IOException {
        ByteBuffer h = reader.bytes(position, HEADER_BYTES);
        if (h == null) {
            throw new CorruptLogException(seg.path, position, offset, "record header beyond the end of the segment");
        }
        RecordFormat.Header header = RecordFormat.readHeader(h, h.position());
        ByteBuffer payload = header.length() < 0 ? null : reader.bytes(position + HEADER_BYTES, header.length());
        if (!header.knownFormat() || payload == null) {
            throw new CorruptLogException(seg.path, position, offset, "bad record header");
        }
        if (!header.matches(payload)) {
            throw new CorruptLogException(seg.path, position, offset, "checksum mismatch");
        }
        if (header.offset() != offset) {
            throw new CorruptLogException(seg.path, position, offset, "found offset " + header.offset());
        }
        byte[] data = new byte[header.length()];
        payload.get(data);
        return new Entry(header.epoch(), header.offset(), header.type(), data);
    }

    /** The file position of the record at {@code offset} in {@code seg}. */
    private long positionOf(Segment seg, long offset) throws IOException {
        return positionOf(seg, offset, new PositionalReader(seg.channel, seg.path, seg.size));
    }

    private long positionOf(Segment seg, long offset, PositionalReader reader) throws IOException {
        int k = (int) ((offset - seg.baseOffset) / INDEX_INTERVAL);
        long position = seg.positions[k];
        for (long o = seg.baseOffset + (long) k * INDEX_INTERVAL; o < offset; o++) {
            ByteBuffer h = reader.bytes(position, HEADER_BYTES);
            if (h == null) {
                throw new CorruptLogException(seg.path, position, o, "record header beyond the end of the segment");
            }
            position += RecordFormat.readHeader(h, h.position()).recordBytes();
        }
        return position;
    }

    // ---- durability ----

    /**
     * Makes every entry appended before this call durable and returns the log end offset that is now
     * durable. Safe to call from a thread other than the event thread, concurrently with appends,
     * truncations and reads.
     *
     * <p>The end is taken before forcing, so entries appended meanwhile are left to the next sync. If a
     * truncation ran meanwhile, the result is capped at the lowest end it set, so it never exceeds the log
     * end at return. A caller that reports the result back to the event thread later should use {@link
     * #syncWithEpoch()}, whose epoch lets the event thread tell whether the log changed in between.
     *
     * @throws IOException if forcing fails; the log is then failed (the kernel may have dropped the pages
     *     that could not be written, so a retry could falsely succeed)
     * @throws IllegalStateException if the log is closed or failed
     */
    public long sync() throws IOException {
        return syncWithEpoch().endOffset();
    }

    /** As {@link #sync()}, also returning the epoch of the last durable entry (0 if none) at that moment. */
    public Synced syncWithEpoch() throws IOException {
        synchronized (syncLock) {
            long end;
            List<Segment> toForce;
            synchronized (lock) {
                checkUsable();
                end = logEnd;
                try {
                    writePending();
                } catch (IOException e) {
                    var unused = fail("cannot write the log in " + dir + " before syncing it", e);
                    throw e;
                }
                toForce = new ArrayList<>(unsynced);
                unsynced.clear();
                truncatedSinceSyncStart = Long.MAX_VALUE;
            }
            // Not under `lock`: the event thread keeps appending while the disk works.
            for (Segment s : toForce) {
                try {
                    // fdatasync: the data and the metadata needed to read it back (the file size) reach the
                    // disk; only timestamps may not. Enough for appended records (ZooKeeper's log does the
                    // same). Structural changes (roll, truncation) still force everything and the directory.
                    fileSync.force(s.channel, s.path, false);
                } catch (ClosedChannelException e) {
                    if (s.deleted) {
                        continue; // a truncation removed it: nothing in it is part of the log any more
                    }
                    checkUsable();
                    throw fail("cannot sync " + s.path + ": its channel was closed", e);
                } catch (IOException e) {
                    throw fail("cannot sync " + s.path, e);
                }
            }
            synchronized (lock) {
                checkUsable();
                long durable = Math.min(end, truncatedSinceSyncStart);
                return new Synced(durable, durable == 0 ? 0 : history.epochAt(durable - 1));
            }
        }
    }

    // ---- lifecycle ----

    /**
     * Closes the files. Does not sync: entries not synced may or may not be found when the log is opened
     * again. Idempotent; call it from the event thread once the sync thread has stopped (a sync running
     * meanwhile fails with {@link IllegalStateException}).
     */
    @Override
    public void close() throws IOException {
        IOException unwritten = null;
        synchronized (lock) {
            if (closed) {
                return;
            }
            if (failure == null) {
                try {
                    writePending(); // to the page cache, as an append without deferWrites would have
                } catch (IOException e) {
                    unwritten = e;
                }
            }
            closed = true;
        }
        tail.release();
        closeFiles();
        if (unwritten != null) {
            throw unwritten;
        }
    }

    private void closeFiles() throws IOException {
        IOException first = null;
        List<Segment> all;
        synchronized (lock) {
            all = new ArrayList<>(segments.values());
        }
        for (Segment s : all) {
            try {
                s.channel.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        try {
            if (dirLock != null) {
                dirLock.close();
            }
        } catch (IOException e) {
            first = first == null ? e : first;
        }
        if (first != null) {
            throw first;
        }
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("log is closed");
        }
        IOException f = failure;
        if (f != null) {
            throw new IllegalStateException("the log in " + dir + " failed earlier; close it and open it again", f);
        }
    }

    private UncheckedIOException fail(String message, IOException cause) {
        if (failure == null) {
            failure = cause;
        }
        LOG.error("{}; the log is failed until reopened", message, cause);
        return new UncheckedIOException(message, cause);
    }

    // ---- recovery ----

    private void recover() throws IOException {
        dirLock = DirectoryLock.acquire(dir.resolve(LOCK_FILE), "the log in " + dir);
        Files.deleteIfExists(AtomicFiles.tempFor(checkpointFile));

        // The checkpoint first: it says where the log starts.
        EpochCheckpoint.Contents stored = null;
        EpochCheckpoint.CorruptCheckpointException badCheckpoint = null;
        try {
            stored = EpochCheckpoint.load(checkpointFile);
        } catch (EpochCheckpoint.CorruptCheckpointException e) {
            badCheckpoint = e;
        }

        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p ->
                            SEGMENT_NAME.matcher(p.getFileName().toString()).matches())
                    .sorted()
                    .toList();
        }
        if (files.isEmpty()) {
            if (Files.exists(checkpointFile)) {
                // Segment 0 is created (durably) before the checkpoint is ever written, and compaction and reset
                // never delete the last segment file.
                throw new CorruptLogException(
                        dir.resolve(segmentName(0)), 0, 0, "no segment file, but " + checkpointFile + " exists");
            }
            Segment first = createSegment(0);
            segments.put(0L, first);
        }
        long[] bases = new long[files.size()];
        for (int i = 0; i < files.size(); i++) {
            String name = files.get(i).getFileName().toString();
            try {
                bases[i] = Long.parseLong(name.substring(0, name.length() - SEGMENT_SUFFIX.length()));
            } catch (NumberFormatException e) {
                throw new CorruptLogException(files.get(i), 0, 0, "the file name is not a segment's base offset");
            }
        }
        long start;
        if (stored != null) {
            start = stored.logStart();
        } else if (files.isEmpty() || bases[0] == 0) {
            start = 0; // the history is rebuilt from the records, as they hold all of it
        } else {
            throw new CorruptLogException(
                    checkpointFile,
                    0,
                    bases[0],
                    "the log's first segment starts at offset " + bases[0] + " but the epoch history checkpoint is "
                            + (badCheckpoint != null ? "damaged (" + badCheckpoint.getMessage() + ")" : "missing")
                            + ": the epoch history below the first segment, and whether segments are missing, cannot"
                            + " be known");
        }
        // Segments below the start the checkpoint names are what an interrupted compaction or reset left: a
        // compaction writes the new start (a segment's base) before it deletes the segments below it, a reset to
        // a higher offset writes it before it renames its one emptied segment. Anything else is not deleted.
        int firstKept = 0;
        while (firstKept < files.size() && bases[firstKept] < start) {
            firstKept++;
        }
        if (firstKept > 0) {
            if (firstKept < files.size() && bases[firstKept] != start) {
                throw new CorruptLogException(
                        files.get(firstKept),
                        0,
                        start,
                        "the log starts at offset " + start + " (" + checkpointFile + ") but no segment starts there:"
                                + " the first at or after it starts at " + bases[firstKept]);
            }
            if (firstKept == files.size() && (files.size() > 1 || Files.size(files.get(0)) > 0)) {
                throw new CorruptLogException(
                        files.get(0),
                        0,
                        start,
                        "every segment starts below the log start " + start + " that " + checkpointFile
                                + " names, and they are not the one empty segment an interrupted reset leaves");
            }
        }
        for (int i = 0; i < firstKept; i++) {
            Path leftover = files.get(i);
            LOG.info(
                    "Deleting segment {}, below the log start {} that {} names (left by an interrupted compaction"
                            + " or reset)",
                    leftover,
                    start,
                    checkpointFile);
            Files.delete(leftover);
        }
        if (!files.isEmpty() && firstKept == files.size()) {
            segments.put(start, createSegment(start));
        }
        EpochHistory below = EpochHistory.empty();
        if (start > 0) {
            below = stored.history().truncatedTo(start);
            if (below.epochAt(start - 1) == 0) {
                throw new CorruptLogException(
                        checkpointFile,
                        0,
                        start,
                        "the log starts at offset " + start + " but the checkpoint's epoch history " + stored.history()
                                + " has no epoch below it");
            }
        }
        logStart = start;
        long cut = Math.max(discardFrom, start);
        int kept = files.size();
        if (discardFrom != Long.MAX_VALUE) {
            // Segments wholly at or above the cut go, last first (the first kept segment stays, emptied if need be).
            while (kept - 1 > firstKept && bases[kept - 1] >= cut) {
                kept--;
            }
            for (int i = files.size() - 1; i >= kept; i--) {
                LOG.info(
                        "Deleting segment {}: at or above offset {}, which the write-ahead log rewrites",
                        files.get(i),
                        cut);
                Files.delete(files.get(i));
            }
        }
        long expected = start;
        long prevEpoch = below.lastEpoch();
        EpochHistory scanned = below;
        for (int i = firstKept; i < kept; i++) {
            Path path = files.get(i);
            long base = bases[i];
            if (base != expected) {
                throw new CorruptLogException(
                        path,
                        0,
                        expected,
                        (i == firstKept
                                        ? "the first segment starts at offset " + base + ", not at the log start "
                                                + expected
                                        : "the segment starts at offset " + base + " but the previous one ends at "
                                                + expected)
                                + (base > expected ? " (a segment file is missing)" : ""));
            }
            if (i > firstKept && segments.lastEntry().getValue().isEmpty()) {
                Segment prev = segments.lastEntry().getValue();
                throw new CorruptLogException(prev.path, 0, expected, "an empty segment is followed by " + path);
            }
            Segment seg =
                    new Segment(base, path, FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE));
            segments.put(base, seg);
            scanned = scan(seg, i == kept - 1, prevEpoch, scanned, cut);
            prevEpoch = scanned.lastEpoch();
            expected = seg.endOffset;
        }
        active = segments.lastEntry().getValue();
        logEnd = active.endOffset;
        // What open finds counts as durable from here on: sync() reports it, the replica reports it to its
        // leader. But a process killed (SIGKILL) before its sync leaves the unsynced tail in the page cache,
        // readable though not on the disk, and a power loss after the restart would take back what was already
        // reported. So everything found is forced before open returns. Only the last segment can hold unforced
        // records if every earlier writer ran with FSYNC (a roll forces the full segment before the next one
        // exists; a truncation forces the segment it keeps), but a log last written with UNSAFE_NO_FSYNC breaks
        // that, and forcing a file that is already on the disk costs little next to the scan above, which has
        // just read every byte. So every segment is forced.
        for (Segment s : segments.values()) {
            fileSync.force(s.channel, s.path, true);
        }
        history = reconcileCheckpoint(stored, badCheckpoint, scanned);
        // Last: file creations, deletions and renames that a killed process made but did not fsync the
        // directory for (a new segment, a deleted one, the checkpoint's rename). Without this, a segment created
        // just before the kill could vanish in a power loss along with everything appended to it after the
        // restart (sync forces only the file).
        fileSync.forceDirectory(dir);
        LOG.info(
                "Opened the log in {}: {} segment(s), log start offset {}, log end offset {}, epoch history {}",
                dir,
                segments.size(),
                logStart,
                logEnd,
                history);
    }

    /**
     * Reads and checks every record of {@code seg}; returns {@code history} with the records' epochs added.
     * Cuts off a torn tail of the last segment; throws {@link CorruptLogException} for any other damage.
     */
    private EpochHistory scan(Segment seg, boolean last, long prevEpoch, EpochHistory history, long cut)
            throws IOException {
        long fileSize = seg.channel.size();
        PositionalReader reader = new PositionalReader(seg.channel, seg.path, fileSize);
        long maxPayload = (long) config.maxRecordBytes() - HEADER_BYTES;
        long position = 0;
        long offset = seg.baseOffset;
        while (position < fileSize) {
            if (offset >= cut) {
                LOG.info(
                        "Cutting {} at byte position {} (offset {}): the write-ahead log rewrites what follows",
                        seg.path,
                        position,
                        offset);
                seg.channel.truncate(position); // forced, with every segment, at the end of recover()
                break;
            }
            String problem;
            long recordEnd; // where the damaged record ends, or -1 if its header cannot tell
            ByteBuffer h = reader.bytes(position, HEADER_BYTES);
            if (h == null) {
                problem = "incomplete record header (" + (fileSize - position) + " bytes before the end of the file)";
                recordEnd = fileSize;
            } else {
                RecordFormat.Header header = RecordFormat.readHeader(h, h.position());
                long epoch = header.epoch();
                long recordOffset = header.offset();
                int length = header.length();
                if (!header.knownFormat()) {
                    problem = "unknown record format " + header.format();
                    recordEnd = -1;
                } else if (!header.lengthWithin(maxPayload)) {
                    // append never writes such a record, and a crash does not make one: a header torn by a crash
                    // is a prefix of the one written followed by zeros, which never announces more. A flipped bit
                    // does; read as a torn tail it would drop every record after it.
                    throw new CorruptLogException(
                            seg.path,
                            position,
                            offset,
                            "the record header announces a payload of " + length + " bytes, outside [0, "
                                    + maxPayload + "] (maxRecordBytes " + config.maxRecordBytes()
                                    + " less the header); if the log was written with a larger maxRecordBytes,"
                                    + " open it with that");
                } else if (position + HEADER_BYTES + length > fileSize) {
                    problem = "incomplete payload (" + length + " bytes announced, "
                            + (fileSize - position - HEADER_BYTES) + " in the file)";
                    recordEnd = fileSize;
                } else {
                    recordEnd = position + header.recordBytes();
                    if (!header.matches(reader.bytes(position + HEADER_BYTES, length))) {
                        problem = "checksum mismatch";
                    } else {
                        // An intact record: anything wrong with it now is not a torn write.
                        if (!header.knownType()) {
                            throw new CorruptLogException(
                                    seg.path, position, offset, "unknown entry type " + header.type());
                        }
                        if (recordOffset != offset) {
                            throw new CorruptLogException(
                                    seg.path,
                                    position,
                                    offset,
                                    (recordOffset < offset ? "repeated offset " : "gap: found offset ") + recordOffset);
                        }
                        if (epoch <= 0 || epoch < prevEpoch) {
                            throw new CorruptLogException(
                                    seg.path,
                                    position,
                                    offset,
                                    "epoch " + epoch + " after epoch " + prevEpoch
                                            + (offset == logStart && logStart > 0
                                                    ? " (the last epoch below the log start in " + checkpointFile + ")"
                                                    : ""));
                        }
                        seg.recordAt(offset, position);
                        history = history.withEntry(epoch, offset);
                        prevEpoch = epoch;
                        offset++;
                        position = recordEnd;
                        continue;
                    }
                }
            }
            // A torn tail is what a crash leaves of the last records written: the damaged record runs to the end
            // of the last segment (or is followed by zeros only, space allocated but never written), and no
            // intact record follows it. An intact record after it means the damage is inside data that was
            // written, and possibly synced and acknowledged, after it: corruption, whatever the damaged record's
            // length says.
            boolean tornShape = last && (recordEnd == fileSize || zerosFrom(reader, position, fileSize));
            if (!tornShape) {
                throw new CorruptLogException(
                        seg.path,
                        position,
                        offset,
                        problem + (last ? ", with more data after it" : ", in a segment that is not the last"));
            }
            long intact = intactRecordAfter(seg, position, fileSize, offset, prevEpoch);
            if (intact >= 0) {
                throw new CorruptLogException(
                        seg.path,
                        position,
                        offset,
                        problem + ", followed by an intact record at byte position " + intact
                                + " (not a torn tail: the records after the damage would be lost)");
            }
            LOG.warn(
                    "Truncating the torn tail of {} at byte position {} (offset {}): {}; {} byte(s) dropped",
                    seg.path,
                    position,
                    offset,
                    problem,
                    fileSize - position);
            seg.channel.truncate(position); // forced, with every segment, at the end of recover()
            break;
        }
        seg.size = position;
        seg.endOffset = offset;
        return history;
    }

    /**
     * The position of the first intact record of {@code seg} that starts after the damaged record at {@code
     * damaged} (which should have had offset {@code offset}), or -1 if there is none. Tries every byte position,
     * since the damaged record's length cannot be trusted. Intact: format byte, a known type, a length within
     * {@link LogConfig#maxRecordBytes()} with the payload inside the file, a matching CRC, and an offset and
     * epoch that could follow the damaged record: offset above {@code offset} by at most one per header's worth
     * of bytes in between, epoch positive and not below {@code prevEpoch}. Those cheap checks leave the CRC to
     * very few candidates, so the scan costs about one read of the rest of the file; it runs only when the
     * last segment is damaged.
     */
    private long intactRecordAfter(Segment seg, long damaged, long fileSize, long offset, long prevEpoch)
            throws IOException {
        long lastStart = fileSize - HEADER_BYTES;
        long maxPayload = (long) config.maxRecordBytes() - HEADER_BYTES;
        PositionalReader scanned = new PositionalReader(seg.channel, seg.path, fileSize);
        PositionalReader payloads = new PositionalReader(seg.channel, seg.path, fileSize);
        for (long from = damaged + 1; from <= lastStart; ) {
            // Chunks overlap by a header less one byte, so every candidate's header is inside one chunk.
            int n = (int) Math.min(PositionalReader.CHUNK, fileSize - from);
            ByteBuffer chunk = scanned.bytes(from, n);
            int base = chunk.position();
            int candidates = n - HEADER_BYTES + 1;
            for (int i = 0; i < candidates; i++) {
                int p = base + i;
                if (chunk.get(p) != RecordFormat.FORMAT) {
                    continue;
                }
                long q = from + i;
                RecordFormat.Header header = RecordFormat.readHeader(chunk, p);
                if (!header.knownType()
                        || header.epoch() <= 0
                        || header.epoch() < prevEpoch
                        || header.offset() <= offset
                        || header.offset() - offset > (q - damaged) / HEADER_BYTES
                        || !header.lengthWithin(maxPayload)
                        || q + header.recordBytes() > fileSize) {
                    continue;
                }
                if (header.matches(payloads.bytes(q + HEADER_BYTES, header.length()))) {
                    return q;
                }
            }
            from += candidates;
        }
        return -1;
    }

    /** Whether every byte from {@code position} to {@code end} is zero (space allocated but never written). */
    private static boolean zerosFrom(PositionalReader reader, long position, long end) throws IOException {
        for (long p = position; p < end; ) {
            int n = (int) Math.min(PositionalReader.CHUNK, end - p);
            ByteBuffer b = reader.bytes(p, n);
            while (b.hasRemaining()) {
                if (b.get() != 0) {
                    return false;
                }
            }
            p += n;
        }
        return true;
    }

    /** Whether {@code a}'s epoch starts are the first of {@code b}'s. */
    private static boolean isPrefix(EpochHistory a, EpochHistory b) {
        List<EpochHistory.Start> as = a.starts();
        List<EpochHistory.Start> bs = b.starts();
        return as.size() <= bs.size() && bs.subList(0, as.size()).equals(as);
    }

    /**
     * Checks the epoch checkpoint as loaded against the history {@code scanned} (the checkpoint's below the log
     * start, then the records'), which wins; rewrites the checkpoint if needed.
     */
    private EpochHistory reconcileCheckpoint(
            EpochCheckpoint.Contents stored, EpochCheckpoint.CorruptCheckpointException bad, EpochHistory scanned)
            throws IOException {
        if (bad != null) {
            LOG.warn("{}; rebuilding it from the records: {}", bad.getMessage(), scanned);
            EpochCheckpoint.write(checkpointFile, logStart, scanned, fileSync);
            return scanned;
        }
        if (stored == null) {
            if (logEnd > 0) {
                // Only a log that starts at 0 gets here (see open), whose records hold its whole history: nothing is
                // lost, and a log that takes new epochs from its records never wrote one before its first compaction.
                LOG.info(
                        "The epoch history checkpoint {} is missing; writing it from the records: {}",
                        checkpointFile,
                        scanned);
            }
            EpochCheckpoint.write(checkpointFile, logStart, scanned, fileSync);
            return scanned;
        }
        EpochHistory trimmed = stored.history().truncatedTo(logEnd);
        if (!trimmed.equals(scanned) && trimmed.equals(stored.history()) && isPrefix(trimmed, scanned)) {
            // Behind the records: a new epoch's first append did not rewrite it (takeNewEpochStartsFromTheRecords).
            // The records win, and everything it says is right: kept as found, forced as below.
            fileSync.forceFile(checkpointFile);
        } else if (!trimmed.equals(scanned)) {
            LOG.warn(
                    "The epoch history checkpoint {} says {} but the records say {}; the records win, rewriting it",
                    checkpointFile,
                    trimmed,
                    scanned);
            EpochCheckpoint.write(checkpointFile, logStart, scanned, fileSync);
        } else if (!trimmed.equals(stored.history())) {
            // Written before records that did not reach the disk.
            LOG.info(
                    "Dropping epoch starts at or after the log end {} from {}: {} becomes {}",
                    logEnd,
                    checkpointFile,
                    stored.history(),
                    scanned);
            EpochCheckpoint.write(checkpointFile, logStart, scanned, fileSync);
        } else {
            // Kept as found. The records win over the checkpoint (the history is always the scanned one), so a
            // checkpoint a power loss took back would only be rewritten at the next open; it is forced anyway,
            // as everything else open found, for one fsync (its rename is covered by the directory fsync).
            fileSync.forceFile(checkpointFile);
        }
        return scanned;
    }

    /** Positional reads through a buffer: recovery and reads touch a file front to back. */
    private static final class PositionalReader {
        static final int CHUNK = 64 * 1024;

        private final FileChannel channel;
        private final Path path;
        private final long limit;
        private ByteBuffer window = ByteBuffer.allocate(0);
        private long windowStart;

        PositionalReader(FileChannel channel, Path path, long limit) {
            this.channel = channel;
            this.path = path;
            this.limit = limit;
        }

        /**
         * A buffer whose position..limit holds the {@code n} bytes at {@code position}, or null if the file
         * ends (at the reader's limit) before them. Valid until the next call.
         */
        ByteBuffer bytes(long position, int n) throws IOException {
            if (n < 0 || position + n > limit) {
                return null;
            }
            if (position < windowStart || position + n > windowStart + window.limit()) {
                int want = (int) Math.min(Math.max(n, CHUNK), limit - position);
                if (window.capacity() < want) {
                    window = ByteBuffer.allocate(Math.max(want, CHUNK));
                }
                window.clear().limit(want);
                while (window.hasRemaining()) {
                    if (channel.read(window, position + window.position()) < 0) {
                        throw new EOFException(path + " ended at " + (position + window.position())
                                + " while reading up to " + (position + want));
                    }
                }
                window.flip();
                windowStart = position;
            }
            int start = (int) (position - windowStart);
            return window.duplicate().position(start).limit(start + n);
        }
    }

    @Override
    public String toString() {
        return "SegmentedLog{" + dir + ", end=" + logEnd + ", history=" + history + "}";
    }
}
