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
import dev.tenure.replicator.DeferredPromiseStore;
import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.core.PromiseStore;
import dev.tenure.replicator.core.ReplicaLog;
import dev.tenure.replicator.core.Synced;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's write-ahead log: the one file set, and the one {@code fdatasync} at a time, that makes every
 * partition's log appends durable (as TiKV's raft-engine shares one log among its regions). Each partition keeps
 * its own {@link SegmentedLog}, which it appends to, reads, truncates, compacts and resets as before; what changes
 * is how an append becomes durable. A {@link PartitionLog} appends its entries to its segmented log (the page cache)
 * and to this log's buffer; one writer thread writes whatever every partition buffered to the current segment file
 * and forces it, so 100 partitions with one write in flight each cost one fsync where per-partition files cost 100.
 * The partitions' own files are forced only at checkpoints, in the background.
 *
 * <h2>On disk</h2>
 *
 * <ul>
 *   <li>{@code 00000000000000000001.wal}, ...: segments, numbered consecutively. Only the last is written to;
 *       every earlier one was forced whole before the next was created (and the directory forced after).
 *   <li>A record: {@code [format byte 'W'][kind byte][body length int][CRC32C int]} then the body, big-endian; the
 *       CRC covers kind, length and body. The body starts with the partition id (a length byte, then ASCII), then
 *       per kind: {@code APPEND} (the first offset, a count, then each entry's epoch, type, payload length and
 *       payload), {@code TRUNCATE} (the new end), {@code RESET} (the offset, then the epoch history's starts),
 *       {@code FORCED} (the end its files were forced to), {@code DELETED} (nothing: the partition was deleted, and
 *       recovery applies none of its records before this one) or {@code PROMISE} (the epoch, then the leader's id:
 *       a length and UTF-8; see "Promises").
 *   <li>{@code lock}: held with a file lock while the log is open.
 * </ul>
 *
 * <h2>Durability and checkpoints</h2>
 *
 * A partition's {@link PartitionLog#syncAsync()} completes once every record it wrote before the call is forced
 * here; that is when its appends count as durable (the replica then acknowledges them). A truncation is made
 * durable in the partition's own files at once (as {@link SegmentedLog#truncate} always did) and recorded here, so
 * that replay never resurrects what it cut; a reset (a snapshot install) is recorded <em>and forced</em> here before
 * the partition's files are reset, so that replay never applies entries from before the reset to the reset log.
 *
 * <p>When the current segment reaches {@link Builder#segmentBytes}, the writer starts the next one and hands a
 * checkpoint to a second thread: it forces every partition log written in the older segments ({@link
 * SegmentedLog#sync()}), then deletes those segments. So at any moment, every append that is in a deleted segment
 * is in its partition's files durably, and every append since is in a segment that is kept. A partition log closed
 * in between is forced as it closes.
 *
 * <p>Before it deletes them, the checkpoint also writes, and waits for the force of, a {@code FORCED} record of
 * every open partition: the end below which its files hold its log durably. Recovery trusts the last one of a
 * partition whose kept records say nothing else, so a {@code FORCED} record must stay true of the files until a
 * later record of the partition: the files lose entries below it only by a truncation, reset or deletion, whose
 * record follows it in the log and is forced before the files change. A partition log's truncations, resets and
 * deletion buffer their record, wait for its force and change the files while holding the log's monitor, and a
 * {@code FORCED} record is read and buffered under the same monitor; so it either comes before their record
 * (which supersedes it) or states the end they left, never the end from before a change recorded ahead of it.
 * Recovery also cuts the partition's files at that end, so the last {@code FORCED} record must cover every append
 * recorded before it whose record may be gone. A checkpoint's record may not (it forced the files before appends
 * recorded ahead of its record); the checkpoint that deletes those appends' records forced the partition, and
 * either records the end it forced or finds the partition log closed: a close forces the files and buffers a
 * {@code FORCED} record of the end they hold, the log's last, and a checkpoint waits for everything buffered, not
 * only its own records, to be forced before it deletes anything. No {@code FORCED} record is written for a
 * partition log after its close (one opened again under the same id writes its own) or once its {@code DELETED}
 * record is buffered (its close writes none either).
 *
 * <h2>Promises</h2>
 *
 * {@link PartitionLog#promiseStore} keeps a partition's promise here, as a {@code PROMISE} record: {@code store}
 * buffers it and returns, and it is durable once the force covering it returns ({@link
 * dev.tenure.replicator.DeferredPromiseStore}: the replica acts on it only then). Records are forced in order, so
 * nothing the partition recorded after its promise is durable without it. Every partition's newest promise is also
 * kept in memory until its deletion; a checkpoint records them all again (under the lock that a store holds while it
 * buffers its record and notes the promise, and that a deletion holds while it buffers its {@code DELETED} record
 * and forgets it) before it deletes segments, and recovery writes the promises it read (the newest of each partition
 * after its last {@code DELETED} record) into the new segment and forces it before deleting the old ones.
 *
 * <h2>Recovery</h2>
 *
 * {@link #open} reads every record of every segment (a torn tail of the last segment, damage that runs to the end
 * of the file or is followed by zero bytes only, is what a crash leaves and is ignored; any other damage is refused
 * with a {@link CorruptLogException}, as is a missing segment). For each partition with records, it works out the
 * lowest offset they touch ({@code m}): below it the partition's files are durable (a checkpoint forced them before
 * the segments that could say otherwise were deleted); from it on they may hold anything a power loss left of
 * writes never forced. So the partition's log is opened with everything from {@code m} on dropped unread ({@link
 * SegmentedLog#openDiscardingFrom}) and the records are applied again in order from the first one that touches
 * {@code m} (which is either an append at the log end {@code m} or a truncation to {@code m}, so what the log held
 * at and above {@code m} before it does not matter). A partition whose records include a reset is reset again and
 * gets the records after its last reset. Entries below the partition's log start (compacted since) are skipped.
 * Each replayed log is forced, then every segment is deleted and a new one begun. A record that would leave a gap
 * in a partition's log (its files lost entries they had been forced with) is refused with a {@link
 * CorruptLogException} naming the partition.
 *
 * <h2>Memory</h2>
 *
 * The recent entries the partition logs keep in memory for replication and apply (each {@link SegmentedLog}'s tail
 * cache) count against one bound for all of them ({@link Builder#tailCacheBytes}): each open partition log may hold
 * an equal share, plus its newest entry, so a node's memory for them does not grow with its partitions.
 *
 * <h2>Threads</h2>
 *
 * Each partition's log is used as a {@link SegmentedLog} is: one thread at a time (the partition's event lane)
 * appends, truncates, compacts, resets, reads and calls {@link PartitionLog#syncAsync()}; different partitions' logs
 * may be used from different threads at once (appends to this log's buffer take one short lock). This log runs three
 * threads of its own whatever the number of partitions: the writer, the completer and the checkpointer. Futures
 * returned by {@link PartitionLog#syncAsync()} complete on the completer, one force's results after another, each
 * force's in the order their syncs were asked for: the writer hands it what one force made durable and goes on to
 * the next, so callbacks never delay a force, and one thread, not one per partition, wakes for a force's results.
 * A callback there delays the results of the partitions after it: keep it short (a replica handles the result
 * there only when it has nothing else to do, and hands it to its own lane otherwise), and never wait in it for
 * another of this log's futures. The waits of this log itself ({@link PartitionLog#sync()}, truncations, resets,
 * deletions, checkpoints) are completed by the writer, so a callback that truncates does not wait for itself. A
 * checkpoint waits for a partition's truncation, reset or deletion under way (each waits for one force of the
 * writer, which never waits for the checkpointer or the completer); nothing waits for a checkpoint.
 *
 * <p>Failure is fail-stop, as for {@link SegmentedLog}: once a write or force fails (here or while forcing a
 * partition log for a checkpoint), every pending and later sync fails with {@link IllegalStateException}, appends
 * throw it too, and the node must be restarted, which recovers what reached the disk. {@link #close()} writes and
 * forces what was buffered, then stops both threads; close every partition log first.
 */
public final class WriteAheadLog implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);

    /** The threads a write-ahead log runs, whatever its number of partitions: writer, completer, checkpointer. */
    public static final int THREADS = 3;

    /** Default size at which the writer starts a new segment and a checkpoint: 64 MiB. */
    public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

    /**
     * Default bytes of recent entries the partitions' logs keep in memory together ({@link
     * Builder#tailCacheBytes}): 16 MiB, whatever the number of partitions — what one log of its own keeps.
     */
    public static final long DEFAULT_TAIL_CACHE_BYTES = 16L << 20;

    static final byte FORMAT = 'W';
    static final byte APPEND = 1;
    static final byte TRUNCATE = 2;
    static final byte RESET = 3;
    static final byte FORCED = 4;
    static final byte DELETED = 5;
    static final byte PROMISE = 6;
    static final int HEADER_BYTES = 10;
    private static final Pattern SEGMENT_NAME = Pattern.compile("\\d{20}\\.wal");
    private static final String SEGMENT_SUFFIX = ".wal";
    private static final String LOCK_FILE = "lock";
    /** Room in a record's body beside its entries' payloads: the id, counts and per-entry headers. */
    private static final int BODY_SLACK = 64 * 1024;

    private final Path dir;
    private final LogConfig partitionConfig;
    private final Function<String, Path> partitionDirectory;
    private final long segmentBytes;
    private final FileSync fileSync;
    private final int maxBodyBytes;

    private DirectoryLock dirLock;

    /** Guards the buffer, the sequence numbers, the waiters, the open partitions and the failure. */
    private final Object lock = new Object();

    private byte[] buffer = new byte[64 * 1024];
    private int buffered;
    /** Bytes of records ever handed to this log since it was opened: the end of the buffer. */
    private long appendedLsn;
    /** Bytes forced: every record ending at or below this is durable. */
    private long durableLsn;

    private final Set<PartitionLog> dirtyInBuffer = new HashSet<>();
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>((a, b) -> Long.compare(a.lsn, b.lsn));
    /** The open partition logs in the order they were opened: a checkpoint records their ends in that order. */
    private final Map<String, PartitionLog> open = new LinkedHashMap<>();
    /**
     * Every partition's newest promise recorded here (stored, or recovered), until the partition is deleted: a
     * checkpoint records them again before it deletes the segments that held them, recovery reads them back.
     */
    private final Map<String, Promise> promises = new HashMap<>();

    private IOException failure;
    private boolean closing;

    // The writer thread's own state.
    private FileChannel segment;
    private long segmentSeq;
    /** The path of {@link #segment}: named once per segment, not per force (formatting it showed in profiles). */
    private Path segmentFile;

    private long segmentSize;
    private final Set<PartitionLog> dirtyInSegment = new HashSet<>();
    /** Segment numbers on disk, oldest first; changed by the writer (new) and the checkpointer (deleted). */
    private final ArrayDeque<Long> liveSegments = new ArrayDeque<>();

    private final ArrayDeque<Checkpoint> checkpoints = new ArrayDeque<>();
    private final Thread writer;
    private final Thread checkpointer;
    /** Completes the futures of {@link PartitionLog#syncAsync()}: one force's results per task, in order. */
    private final Thread completer;
    /** Forces' results the completer has not completed yet, oldest first; guarded by itself. */
    private final ArrayDeque<List<Waiter>> completions = new ArrayDeque<>();
    /** Set by the writer as it exits: the completer completes what it was handed, then exits. */
    private boolean writerDone; // guarded by completions

    // Counters, for status and benchmarks; under `lock`.
    private long forces;
    private long recordsWritten;
    private long checkpointsDone;

    /** Deliberately broken variants, for the tests that show the power-loss test catches them. */
    enum Defect {
        NONE,
        /** Completes syncs before forcing the segment. */
        ACK_BEFORE_FORCE,
        /** Deletes old segments at a checkpoint without forcing the partition logs written in them. */
        CHECKPOINT_WITHOUT_FORCING_PARTITIONS,
        /** Deletes old segments at a checkpoint without recording the partitions' promises again. */
        CHECKPOINT_WITHOUT_PROMISES
    }

    private final Defect defect;
    /** The bound on the entries every partition log keeps in memory, together. */
    private final TailBudget tailBudget;

    /**
     * A sync waiting for the force of {@code lsn}: completed by the completer, or by the writer itself if {@code
     * blocking} (a thread of this log's own callers waits on it).
     */
    private record Waiter(long lsn, CompletableFuture<Synced> future, Synced synced, boolean blocking) {}

    private record Checkpoint(long firstKeptSeq, Set<PartitionLog> logs) {}

    /** Counters of the log's work since it was opened. */
    public record Stats(long forces, long records, long bytes, long checkpoints, int segments) {}

    private WriteAheadLog(Builder b, FileSync fileSync) {
        this.dir = b.dir.toAbsolutePath();
        this.partitionConfig = b.partitionConfig;
        this.partitionDirectory = b.partitionDirectory;
        this.segmentBytes = b.segmentBytes;
        this.fileSync = FileSync.under(b.partitionConfig.syncPolicy(), fileSync);
        this.maxBodyBytes = b.partitionConfig.maxRecordBytes() + BODY_SLACK;
        this.defect = b.defect;
        this.tailBudget = new TailBudget(b.tailCacheBytes);
        String name = dir.getParent() == null || dir.getParent().getFileName() == null
                ? String.valueOf(dir)
                : dir.getParent().getFileName() + "/" + dir.getFileName();
        this.writer = new Thread(this::runWriter, "tenure-wal-writer " + name);
        this.checkpointer = new Thread(this::runCheckpointer, "tenure-wal-checkpoint " + name);
        this.completer = new Thread(this::runCompleter, "tenure-wal-complete " + name);
        writer.setDaemon(true);
        checkpointer.setDaemon(true);
        completer.setDaemon(true);
    }

    /** A builder; {@code dir} holds the segments, {@code partitionDirectory} maps a partition id to its log's. */
    public static Builder builder(Path dir, Function<String, Path> partitionDirectory) {
        return new Builder(dir, partitionDirectory);
    }

    /** Builds and opens a {@link WriteAheadLog}. */
    public static final class Builder {
        private final Path dir;
        private final Function<String, Path> partitionDirectory;
        private LogConfig partitionConfig = LogConfig.defaults();
        private long segmentBytes = DEFAULT_SEGMENT_BYTES;
        private FileSync fileSync = FileSync.FORCE;
        private Defect defect = Defect.NONE;
        private long tailCacheBytes = DEFAULT_TAIL_CACHE_BYTES;

        private Builder(Path dir, Function<String, Path> partitionDirectory) {
            this.dir = Preconditions.checkNotNull(dir, "dir must not be null");
            this.partitionDirectory =
                    Preconditions.checkNotNull(partitionDirectory, "partitionDirectory must not be null");
        }

        /** How the partitions' segmented logs are configured; its sync policy applies to this log too. */
        public Builder partitionConfig(LogConfig config) {
            this.partitionConfig = Preconditions.checkNotNull(config, "config must not be null");
            return this;
        }

        /** The size at which a new segment and a checkpoint start (default {@link #DEFAULT_SEGMENT_BYTES}). */
        public Builder segmentBytes(long bytes) {
            Preconditions.checkArgument(bytes >= 1024, "segmentBytes must be at least 1024, was %s", bytes);
            this.segmentBytes = bytes;
            return this;
        }

        /**
         * The bytes of recent entries that the partitions' logs keep in memory together, so that replication and
         * apply need not read back what was just written (default {@link #DEFAULT_TAIL_CACHE_BYTES}): each open
         * partition log may hold an equal share, plus its newest entry ({@link TailBudget}). 0 keeps only each log's
         * newest entry.
         *
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder tailCacheBytes(long bytes) {
            Preconditions.checkArgument(bytes >= 0, "tailCacheBytes must be at least 0, was %s", bytes);
            this.tailCacheBytes = bytes;
            return this;
        }

        /** Tests break the log on purpose. */
        Builder defect(Defect defect) {
            this.defect = Preconditions.checkNotNull(defect);
            return this;
        }

        /** Tests record or model what is forced. */
        Builder fileSync(FileSync sync) {
            this.fileSync = Preconditions.checkNotNull(sync);
            return this;
        }

        /**
         * Opens the log, creating the directory if needed, and recovers: every partition with records is replayed
         * into its own log, which is forced, and the segments are deleted (see the class comment).
         *
         * @throws CorruptLogException if a segment is damaged before its tail, a segment is missing, or a
         *     partition's log lacks entries its records continue
         * @throws IOException if the files cannot be read or written, or another process has the log open
         */
        public WriteAheadLog open() throws IOException {
            PrivateFiles.createDirectories(dir);
            WriteAheadLog wal = new WriteAheadLog(this, fileSync);
            try {
                wal.recover();
            } catch (IOException | RuntimeException e) {
                wal.closeFiles();
                throw e;
            }
            wal.completer.start();
            wal.writer.start();
            wal.checkpointer.start();
            return wal;
        }
    }

    /** The directory holding the segments. */
    public Path directory() {
        return dir;
    }

    /** Counters of the work done since open. Thread-safe. */
    public Stats stats() {
        synchronized (lock) {
            return new Stats(forces, recordsWritten, durableLsn, checkpointsDone, liveSegments.size());
        }
    }

    /**
     * Opens partition {@code id}'s log (its {@link SegmentedLog} in {@code partitionDirectory(id)}, recovered as
     * {@link SegmentedLog#open} does), whose appends become durable through this log.
     *
     * @throws IllegalStateException if the partition's log is open already, or this log is closed or failed
     * @throws IOException as {@link SegmentedLog#open}
     */
    public PartitionLog openPartition(String id) throws IOException {
        Preconditions.checkNotNull(id, "id must not be null");
        Preconditions.checkArgument(
                !id.isEmpty()
                        && id.length() <= 255
                        && StandardCharsets.US_ASCII.newEncoder().canEncode(id),
                "a partition id is 1 to 255 ASCII characters: %s",
                id);
        synchronized (lock) {
            checkUsable();
            Preconditions.checkState(!closing, "the write-ahead log is closed");
            Preconditions.checkState(!open.containsKey(id), "partition %s's log is open already", id);
            open.put(id, null); // reserved while its files open
        }
        try {
            SegmentedLog log = SegmentedLog.open(partitionDirectory.apply(id), partitionConfig, fileSync);
            // This log's records carry every entry's epoch: a new epoch costs no checkpoint fsyncs on the lane.
            log.takeNewEpochStartsFromTheRecords();
            // Its appends are durable through this log's records, so its own file writes may wait and go in bulk.
            log.deferWrites();
            // Its entries in memory count against the node's bound, not a bound of its own.
            log.shareTailCache(tailBudget);
            PartitionLog p = new PartitionLog(id, log);
            try {
                // Open forced the files: say so durably before anything is appended (see the class comment).
                p.recordForced(true);
                p.sync();
            } catch (IOException | RuntimeException e) {
                log.close();
                throw e;
            }
            synchronized (lock) {
                open.put(id, p);
            }
            return p;
        } catch (IOException | RuntimeException e) {
            synchronized (lock) {
                open.remove(id);
            }
            throw e;
        }
    }

    /**
     * Deletes partition {@code id}'s log for good: records, durably, that the partition is deleted (so that recovery
     * never replays its earlier records into a directory of a deleted partition), then deletes its files. The
     * partition's log must not be open. Opening the same id later starts a new, empty log.
     *
     * @throws IllegalStateException if the partition's log is open, or this log is closed or failed
     * @throws IOException if its files cannot be deleted
     */
    public void deletePartition(String id) throws IOException {
        PartitionLog p = openPartition(id);
        try {
            p.markDeleted();
        } finally {
            p.close();
        }
        Path dir = partitionDirectory.apply(id);
        if (Files.exists(dir)) {
            com.google.common.io.MoreFiles.deleteRecursively(
                    dir, com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE);
        }
    }

    /**
     * One partition's log: a {@link SegmentedLog} whose appends, truncations and resets are recorded in the
     * write-ahead log, which makes them durable ({@link #syncAsync()}). Used by one thread at a time, as a
     * {@link SegmentedLog} is; {@link #syncAsync()} and the read-only accessors may be called from any thread.
     */
    public final class PartitionLog implements ReplicaLog, Closeable {
        private final String id;
        private final byte[] idBytes;
        private final SegmentedLog log;
        // Under WriteAheadLog.this.lock.
        private long lastLsn;
        private Synced lastState;
        /** The end its files had when last forced, lowered by truncations and set by resets (both durable). */
        private long forcedEnd;

        // Under this log's monitor; closed and deleted are also set under WriteAheadLog.this.lock, and storePromise
        // reads them under that lock alone.
        private boolean closed;
        private boolean forcedAtClose;
        /** Set once the partition's {@code DELETED} record is buffered. */
        private boolean deleted;

        private PartitionLog(String id, SegmentedLog log) {
            this.id = id;
            this.idBytes = id.getBytes(StandardCharsets.US_ASCII);
            this.log = log;
            long end = log.logEndOffset();
            this.lastState = new Synced(end, end == 0 ? 0 : log.epochHistory().epochAt(end - 1));
            this.forcedEnd = end;
        }

        /** The bytes of recent entries this log keeps in memory (its tail cache); for tests. */
        long tailCachedBytes() {
            return log.tailCachedBytes();
        }

        /** The partition id. */
        public String id() {
            return id;
        }

        /** The partition's own segmented log (read-only use: its directory, offsets). */
        public SegmentedLog segmentedLog() {
            return log;
        }

        @Override
        public long logEndOffset() {
            return log.logEndOffset();
        }

        @Override
        public EpochHistory epochHistory() {
            return log.epochHistory();
        }

        @Override
        public long epochAt(long offset) {
            return log.epochAt(offset);
        }

        @Override
        public long logStartOffset() {
            return log.logStartOffset();
        }

        @Override
        public List<Entry> read(long from, int maxEntries, long maxBytes) {
            return log.read(from, maxEntries, maxBytes);
        }

        /** Appends to the partition's files (the page cache) and to the write-ahead log's buffer. */
        @Override
        public void append(List<Entry> entries) {
            if (entries.isEmpty()) {
                return;
            }
            log.append(entries);
            int from = 0;
            while (from < entries.size()) {
                int to = from;
                long bytes = 0;
                while (to < entries.size()
                        && (to == from || bytes + entryBytes(entries.get(to)) <= maxBodyBytes - BODY_SLACK)) {
                    bytes += entryBytes(entries.get(to));
                    to++;
                }
                List<Entry> chunk = entries.subList(from, to);
                int body = 1 + idBytes.length + 12 + (int) bytes;
                ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + body);
                b.position(HEADER_BYTES);
                putId(b);
                b.putLong(chunk.get(0).offset()).putInt(chunk.size());
                for (Entry e : chunk) {
                    b.putLong(e.epoch())
                            .put(e.type())
                            .putInt(e.payload().length)
                            .put(e.payload());
                }
                boolean lastChunk = to == entries.size();
                Entry last = entries.get(entries.size() - 1);
                record(APPEND, b.array(), b.position(), lastChunk ? new Synced(last.offset() + 1, last.epoch()) : null);
                from = to;
            }
        }

        /** Truncates the partition's files durably (as {@link SegmentedLog#truncate}) and records it. */
        @Override
        public void truncate(long newEnd) {
            long end = log.logEndOffset();
            if (newEnd >= end || newEnd < log.logStartOffset()) {
                log.truncate(newEnd); // removes nothing, or refuses the argument
                return;
            }
            ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + 1 + idBytes.length + 8);
            b.position(HEADER_BYTES);
            putId(b);
            b.putLong(newEnd);
            Synced after =
                    new Synced(newEnd, newEnd == 0 ? 0 : log.epochHistory().epochAt(newEnd - 1));
            synchronized (this) { // not while a checkpoint forces this partition: see forceForCheckpoint
                record(TRUNCATE, b.array(), b.position(), after);
                awaitOwnRecords("truncation");
                log.truncate(newEnd);
                synchronized (lock) {
                    forcedEnd = newEnd; // the truncation forced everything below it
                }
            }
        }

        /** As {@link SegmentedLog#compact}: durable before it returns; nothing to record. */
        @Override
        public void compact(long newStart) {
            log.compact(newStart);
        }

        /** Records, and forces, that the partition is deleted (see {@link WriteAheadLog#deletePartition}). */
        private void markDeleted() {
            ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + 1 + idBytes.length);
            b.position(HEADER_BYTES);
            putId(b);
            synchronized (this) {
                synchronized (lock) { // with its promise forgotten: a checkpoint records no promise after it
                    record(DELETED, b.array(), b.position(), null);
                    promises.remove(id);
                    deleted = true; // no FORCED or PROMISE record of this log may follow it: see recordForced
                }
                awaitOwnRecords("deletion");
            }
        }

        /** Records the reset here and forces it, then resets the partition's files (durably). */
        @Override
        public void resetTo(long offset, EpochHistory history) {
            Preconditions.checkNotNull(history, "history must not be null");
            Preconditions.checkArgument(offset >= 0, "offset must be >= 0, was %s", offset);
            Preconditions.checkArgument(
                    history.truncatedTo(offset).equals(history) && (offset == 0 || history.epochAt(offset - 1) > 0),
                    "history %s does not fit a log reset to %s",
                    history,
                    offset);
            List<EpochHistory.Start> starts = history.starts();
            ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + 1 + idBytes.length + 12 + 16 * starts.size());
            b.position(HEADER_BYTES);
            putId(b);
            b.putLong(offset).putInt(starts.size());
            for (EpochHistory.Start s : starts) {
                b.putLong(s.epoch()).putLong(s.startOffset());
            }
            synchronized (this) {
                record(
                        RESET,
                        b.array(),
                        b.position(),
                        new Synced(offset, offset == 0 ? 0 : history.epochAt(offset - 1)));
                awaitOwnRecords("reset");
                log.resetTo(offset, history);
                synchronized (lock) {
                    forcedEnd = offset; // the reset was forced
                }
            }
        }

        /**
         * Waits until this partition's records are forced: a truncation or reset is recorded durably here before
         * the partition's files change, so that a record saying the files hold more never outlives them.
         */
        private void awaitOwnRecords(String what) {
            try {
                syncAsync(true).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while forcing the " + what + " of partition " + id, e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("cannot force the " + what + " of partition " + id, e.getCause());
            }
        }

        /**
         * Completes, with the log's end and the epoch before it as of this call, once everything this log recorded
         * before the call is durable; at once if it is already. Completes exceptionally with {@link
         * IllegalStateException} if the write-ahead log failed or closed first. Non-blocking; any thread.
         */
        public CompletableFuture<Synced> syncAsync() {
            return syncAsync(false);
        }

        /** {@link #syncAsync()}; completed by the writer itself if {@code blocking} (the caller waits on it). */
        private CompletableFuture<Synced> syncAsync(boolean blocking) {
            synchronized (lock) {
                if (failure != null) {
                    return CompletableFuture.failedFuture(failedException());
                }
                if (lastLsn <= durableLsn) {
                    return CompletableFuture.completedFuture(lastState);
                }
                if (closing) {
                    return CompletableFuture.failedFuture(new IllegalStateException("the write-ahead log is closed"));
                }
                CompletableFuture<Synced> f = new CompletableFuture<>();
                waiters.add(new Waiter(lastLsn, f, lastState, blocking));
                return f;
            }
        }

        /** {@link #syncAsync()}, waiting for it. */
        public Synced sync() throws IOException {
            try {
                return syncAsync(true).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the write-ahead log", e);
            } catch (ExecutionException e) {
                throw new IOException("the write-ahead log could not sync partition " + id, e.getCause());
            }
        }

        /**
         * Forces the partition's own files (so that the write-ahead log no longer needs its records), buffers a
         * {@code FORCED} record of the end they hold as this log's last record (none once the partition is deleted,
         * or if the write-ahead log failed or is closing: it deletes nothing more then), and closes them. Idempotent.
         */
        @Override
        public void close() throws IOException {
            synchronized (this) {
                if (closed) {
                    return;
                }
                synchronized (lock) { // storePromise reads it under the lock only
                    closed = true;
                }
                try {
                    long end = log.sync();
                    forcedAtClose = true;
                    synchronized (lock) {
                        forcedEnd = end;
                        if (!deleted && failure == null && !closing) {
                            // This log's last record: an older FORCED record, buffered after appends it does not
                            // cover, must not be the last word once a checkpoint deletes those appends' records.
                            bufferForced(false);
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // Its records here are still needed: no checkpoint may delete them now.
                    fail(new IOException("partition " + id + "'s log could not be forced as it closed", e));
                    throw e;
                } finally {
                    log.close();
                    synchronized (lock) {
                        open.remove(id, this);
                    }
                }
            }
        }

        /**
         * For a checkpoint: forces the partition's files unless closed (which forced them). Truncations and resets
         * wait meanwhile (they take this monitor too), so the end the force reports is exact when it is noted.
         */
        void forceForCheckpoint() throws IOException {
            synchronized (this) {
                if (closed) {
                    if (!forcedAtClose) {
                        throw new IOException("partition " + id + "'s log closed without being forced");
                    }
                    return;
                }
                long end = log.sync();
                synchronized (lock) {
                    forcedEnd = end;
                }
            }
        }

        /**
         * Buffers a {@code FORCED} record: the partition's files hold its log durably up to {@code end}. A partition
         * open has one in the kept segments (at open, and again at each checkpoint), so that recovery can cut away
         * what a power loss left of appends whose records did not reach the disk here. With {@code asWrite}, a sync
         * of this partition waits for it.
         *
         * <p>Under this log's monitor, so never inside a truncation or reset: those buffer their record, wait for
         * it to be forced, change the files and only then lower {@code forcedEnd}; a {@code FORCED} record buffered
         * in between would follow their record in the log and still state the end from before, which the files no
         * longer hold once the change is made (the class comment's rule for {@code FORCED} records). Nothing is
         * buffered for a log closed (its last record is the {@code FORCED} one its close wrote, and a log opened
         * again under the same id writes its own) or deleted (no record of this log may follow its {@code DELETED}
         * one).
         */
        private void recordForced(boolean asWrite) {
            synchronized (this) {
                if (!closed && !deleted) {
                    bufferForced(asWrite);
                }
            }
        }

        /** Buffers a {@code FORCED} record of {@code forcedEnd}; under this log's monitor. */
        private void bufferForced(boolean asWrite) {
            ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + 1 + idBytes.length + 8);
            b.position(HEADER_BYTES);
            putId(b);
            synchronized (lock) { // the end read and the record buffered at one moment
                b.putLong(forcedEnd);
                record(FORCED, b.array(), b.position(), null, asWrite);
            }
        }

        /** An entry in an {@code APPEND} record: epoch, type, payload length, payload. */
        private static int entryBytes(Entry e) {
            return 13 + e.payload().length;
        }

        private void putId(ByteBuffer b) {
            b.put((byte) idBytes.length).put(idBytes);
        }

        /** Adds the record in {@code bytes[0, n)}, body from {@link #HEADER_BYTES}, to the buffer. */
        private void record(byte kind, byte[] bytes, int n, Synced state) {
            record(kind, bytes, n, state, true);
        }

        /** As above; returns the record's end in the log. A record not {@code asWrite} leaves the sync state. */
        private long record(byte kind, byte[] bytes, int n, Synced state, boolean asWrite) {
            seal(kind, bytes, n);
            synchronized (lock) {
                long end = bufferSealed(bytes, n);
                if (asWrite) {
                    lastLsn = end;
                    if (state != null) {
                        lastState = state;
                    }
                    dirtyInBuffer.add(this);
                }
                return end;
            }
        }

        /**
         * Records {@code promise} as this partition's: durable once a {@link #syncAsync()} called after this returns
         * completes. Its record precedes every record this log buffers afterwards, so none of those is durable
         * without it (the write-ahead log is forced in order).
         *
         * @throws IllegalStateException if the promise has a lower epoch than the one last recorded here, or this log
         *     is closed or deleted, or the write-ahead log failed or closed
         */
        void storePromise(Promise promise) {
            Preconditions.checkNotNull(promise, "promise must not be null");
            byte[] bytes = promiseRecord(idBytes, promise);
            // Under the write-ahead log's lock only, not this log's monitor: a checkpoint holds that while it forces
            // the partition's files, and the event lane must not wait for it. Closing and deletion set their flags
            // under the lock too, so no PROMISE record follows a DELETED one.
            synchronized (lock) { // the record buffered and the newest promise noted at one moment
                Preconditions.checkState(!closed && !deleted, "partition %s's log is closed", id);
                Promise known = promises.get(id);
                if (known != null && promise.epoch() < known.epoch()) {
                    throw new IllegalStateException(
                            "the promise of partition " + id + " would go back from " + known + " to " + promise);
                }
                record(PROMISE, bytes, bytes.length, null);
                promises.put(id, promise);
            }
        }

        /**
         * This partition's promise store: promises recorded in the write-ahead log, forced with every partition's
         * writes ({@link DeferredPromiseStore}). {@code legacy} is the partition's promise file, read once: a
         * promise stored there before the partition's promises moved here still counts (the newer of the two is
         * loaded); nothing is written to it.
         */
        public DeferredPromiseStore promiseStore(PromiseStore legacy) {
            Preconditions.checkNotNull(legacy, "legacy must not be null");
            return new DeferredPromiseStore() {
                @Override
                public Promise load() throws IOException {
                    Promise onFile = legacy.load();
                    Promise here;
                    synchronized (lock) {
                        here = promises.get(id);
                    }
                    return here == null ? onFile : newer(onFile, here);
                }

                @Override
                public void store(Promise promise) {
                    storePromise(promise);
                }

                @Override
                public CompletableFuture<Void> syncAsync() {
                    return PartitionLog.this.syncAsync().thenApply(synced -> null);
                }

                @Override
                public String toString() {
                    return "promises of " + PartitionLog.this;
                }
            };
        }

        @Override
        public String toString() {
            return "PartitionLog[" + id + ", " + log + "]";
        }
    }

    /** Adds {@code value}'s four bytes, big-endian, to {@code crc} (as its header holds them). */
    private static void updateInt(CRC32C crc, int value) {
        crc.update(value >>> 24);
        crc.update(value >>> 16);
        crc.update(value >>> 8);
        crc.update(value);
    }

    /** Fills in the header of the record in {@code bytes[0, n)}, whose body starts at {@link #HEADER_BYTES}. */
    static void seal(byte kind, byte[] bytes, int n) {
        int length = n - HEADER_BYTES;
        CRC32C crc = new CRC32C();
        crc.update(kind);
        updateInt(crc, length);
        crc.update(bytes, HEADER_BYTES, length);
        ByteBuffer.wrap(bytes).put(0, FORMAT).put(1, kind).putInt(2, length).putInt(6, (int) crc.getValue());
    }

    /** Under {@link #lock}: adds the sealed record in {@code bytes[0, n)} to the buffer; returns its end. */
    private long bufferSealed(byte[] bytes, int n) {
        checkUsable();
        Preconditions.checkState(!closing, "the write-ahead log is closed");
        if (buffered + n > buffer.length) {
            byte[] grown = new byte[Math.max(buffer.length * 2, buffered + n)];
            System.arraycopy(buffer, 0, grown, 0, buffered);
            buffer = grown;
        }
        System.arraycopy(bytes, 0, buffer, buffered, n);
        buffered += n;
        appendedLsn += n;
        recordsWritten++;
        lock.notifyAll();
        return appendedLsn;
    }

    /**
     * A {@code PROMISE} record, unsealed: the partition id, the epoch, then the leader's id (a length, then UTF-8).
     */
    private static byte[] promiseRecord(byte[] idBytes, Promise promise) {
        byte[] leader = promise.leader().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + 1 + idBytes.length + 8 + 4 + leader.length);
        b.position(HEADER_BYTES);
        b.put((byte) idBytes.length)
                .put(idBytes)
                .putLong(promise.epoch())
                .putInt(leader.length)
                .put(leader);
        return b.array();
    }

    /** The promise in a {@code PROMISE} record's body (after the partition id). */
    private static Promise readPromise(ByteBuffer body, Rec r) throws CorruptLogException {
        ByteBuffer b = body.duplicate();
        try {
            long epoch = b.getLong();
            int length = b.getInt();
            if (length < 0 || length != b.remaining()) {
                throw new IllegalArgumentException("leader length " + length + " of " + b.remaining() + " bytes");
            }
            byte[] leader = new byte[length];
            b.get(leader);
            return new Promise(epoch, new String(leader, StandardCharsets.UTF_8));
        } catch (RuntimeException e) { // too short, a bad length, a negative epoch
            throw new CorruptLogException(
                    r.file, r.position, r.index, "malformed promise record of partition " + r.partition + ": " + e);
        }
    }

    /** The newer of two promises of one partition: the higher epoch, or at one epoch the one naming its leader. */
    static Promise newer(Promise a, Promise b) {
        if (a.epoch() != b.epoch()) {
            return a.epoch() > b.epoch() ? a : b;
        }
        return b.leader().isEmpty() ? a : b;
    }

    /**
     * On the checkpointer: records every partition's newest promise again, so that deleting the segments that held
     * its records loses none. Under {@link #lock}, with each partition's newest promise: a store of a newer one
     * buffers its record after these, a deletion its {@code DELETED} record with the promise forgotten.
     */
    private void recordPromisesAgain() {
        synchronized (lock) {
            for (Map.Entry<String, Promise> e : promises.entrySet()) {
                byte[] bytes = promiseRecord(e.getKey().getBytes(StandardCharsets.US_ASCII), e.getValue());
                seal(PROMISE, bytes, bytes.length);
                bufferSealed(bytes, bytes.length);
            }
        }
    }

    // ---- the writer ----

    private void runWriter() {
        try {
            write();
        } finally {
            synchronized (completions) {
                writerDone = true;
                completions.notifyAll();
            }
        }
    }

    /** The writer's loop: until closed and everything buffered is forced, or until a failure. */
    private void write() {
        byte[] spare = new byte[64 * 1024];
        while (true) {
            byte[] toWrite;
            int length;
            long endLsn;
            synchronized (lock) {
                while (buffered == 0 && !closing && failure == null) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                if (failure != null || (buffered == 0 && closing)) {
                    return;
                }
                toWrite = buffer;
                length = buffered;
                buffer = spare;
                buffered = 0;
                endLsn = appendedLsn;
                dirtyInSegment.addAll(dirtyInBuffer);
                dirtyInBuffer.clear();
            }
            if (defect == Defect.ACK_BEFORE_FORCE) {
                completeUpTo(endLsn);
            }
            try {
                ByteBuffer out = ByteBuffer.wrap(toWrite, 0, length);
                while (out.hasRemaining()) {
                    segment.write(out);
                }
                fileSync.force(segment, segmentFile, false);
                segmentSize += length;
                if (segmentSize >= segmentBytes) {
                    rotate();
                }
            } catch (IOException | RuntimeException e) {
                fail(e instanceof IOException io ? io : new IOException(e));
                return;
            }
            synchronized (lock) {
                forces++;
            }
            completeUpTo(endLsn);
            spare = toWrite;
        }
    }

    /** On the checkpointer: waits until everything up to {@code lsn} is forced. */
    private void awaitDurable(long lsn) throws IOException {
        CompletableFuture<Synced> f = new CompletableFuture<>();
        synchronized (lock) {
            checkUsable();
            if (lsn <= durableLsn) {
                return;
            }
            waiters.add(new Waiter(lsn, f, new Synced(0, 0), true));
        }
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted during a checkpoint", e);
        } catch (ExecutionException e) {
            throw new IOException("the checkpoint's records could not be forced", e.getCause());
        }
    }

    /**
     * On the writer: records {@code lsn} as durable, completes the blocking waits for it here and hands the other
     * syncs waiting for it to the completer.
     */
    private void completeUpTo(long lsn) {
        List<Waiter> done = new ArrayList<>();
        synchronized (lock) {
            durableLsn = Math.max(durableLsn, lsn);
            while (!waiters.isEmpty() && waiters.peek().lsn <= lsn) {
                done.add(waiters.poll());
            }
        }
        List<Waiter> handed = new ArrayList<>(done.size());
        for (Waiter w : done) {
            if (w.blocking) {
                w.future.complete(w.synced);
            } else {
                handed.add(w);
            }
        }
        if (!handed.isEmpty()) {
            synchronized (completions) {
                completions.add(handed);
                completions.notifyAll();
            }
        }
    }

    /** The completer: completes each force's syncs, in order, until the writer exits and everything is done. */
    private void runCompleter() {
        while (true) {
            List<Waiter> batch;
            synchronized (completions) {
                while (completions.isEmpty() && !writerDone) {
                    try {
                        completions.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                batch = completions.poll();
                if (batch == null) {
                    return; // the writer is done and so is everything it handed over
                }
            }
            for (Waiter w : batch) {
                w.future.complete(w.synced); // a callback that throws fails its own dependent future only
            }
        }
    }

    /** On the writer thread: the current segment is forced; begin the next and hand a checkpoint over. */
    private void rotate() throws IOException {
        long next = segmentSeq + 1;
        FileChannel created = createSegment(next);
        FileChannel old = segment;
        segment = created;
        segmentSeq = next;
        segmentFile = segmentPath(next);
        segmentSize = 0;
        old.close();
        Set<PartitionLog> logs = new HashSet<>(dirtyInSegment);
        dirtyInSegment.clear();
        synchronized (checkpoints) {
            checkpoints.add(new Checkpoint(next, logs));
            checkpoints.notifyAll();
        }
    }

    private FileChannel createSegment(long seq) throws IOException {
        Path path = segmentPath(seq);
        FileChannel ch = PrivateFiles.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        fileSync.forceDirectory(dir); // before any record in it counts as durable
        synchronized (liveSegments) {
            liveSegments.add(seq);
        }
        return ch;
    }

    private void runCheckpointer() {
        while (true) {
            Checkpoint c;
            synchronized (checkpoints) {
                while (checkpoints.isEmpty()) {
                    synchronized (lock) {
                        if (closing || failure != null) {
                            return;
                        }
                    }
                    try {
                        checkpoints.wait(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                c = checkpoints.poll();
            }
            try {
                for (PartitionLog p : c.logs) {
                    if (defect != Defect.CHECKPOINT_WITHOUT_FORCING_PARTITIONS) {
                        p.forceForCheckpoint();
                    }
                }
                // Every open partition's FORCED record, in the kept segments, before the older ones go.
                List<PartitionLog> all;
                synchronized (lock) {
                    all = new ArrayList<>();
                    for (PartitionLog p : open.values()) {
                        if (p != null) {
                            all.add(p);
                        }
                    }
                }
                for (PartitionLog p : all) {
                    p.recordForced(false);
                }
                if (defect != Defect.CHECKPOINT_WITHOUT_PROMISES) {
                    recordPromisesAgain();
                }
                // Everything buffered so far: these records, and the last FORCED record of every log closed since.
                long upTo;
                synchronized (lock) {
                    upTo = appendedLsn;
                }
                awaitDurable(upTo);
                List<Long> deleted = new ArrayList<>();
                synchronized (liveSegments) {
                    while (!liveSegments.isEmpty() && liveSegments.peekFirst() < c.firstKeptSeq) {
                        deleted.add(liveSegments.pollFirst());
                    }
                }
                for (long seq : deleted) {
                    Files.deleteIfExists(segmentPath(seq));
                }
                fileSync.forceDirectory(dir);
                synchronized (lock) {
                    checkpointsDone++;
                }
                LOG.debug("Checkpoint: forced {} partition log(s), deleted segment(s) {}", c.logs.size(), deleted);
            } catch (IOException | RuntimeException e) {
                synchronized (lock) {
                    if (closing && failure == null) {
                        return; // closed during the checkpoint: the partitions were forced as they closed
                    }
                }
                fail(e instanceof IOException io ? io : new IOException(e));
                return;
            }
        }
    }

    private void fail(IOException e) {
        List<Waiter> failed;
        synchronized (lock) {
            if (failure == null) {
                failure = e;
            }
            failed = new ArrayList<>(waiters);
            waiters.clear();
            lock.notifyAll();
        }
        LOG.error("The write-ahead log in {} failed; every partition's sync fails until the node restarts", dir, e);
        for (Waiter w : failed) {
            w.future.completeExceptionally(failedException());
        }
    }

    private IllegalStateException failedException() {
        return new IllegalStateException(
                "the write-ahead log in " + dir + " failed earlier; restart to recover what reached the disk", failure);
    }

    private void checkUsable() {
        if (failure != null) {
            throw failedException();
        }
    }

    /**
     * Writes and forces what was buffered, stops the threads and closes the files. Pending syncs of records
     * buffered before complete; later calls fail. Close every partition log first. Idempotent.
     */
    @Override
    public void close() throws IOException {
        synchronized (lock) {
            if (closing) {
                return;
            }
            closing = true;
            lock.notifyAll();
        }
        synchronized (checkpoints) {
            checkpoints.notifyAll();
        }
        try {
            writer.join();
            checkpointer.join();
            completer.join(); // every sync the writer forced is complete
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Waiter> left;
        synchronized (lock) {
            left = new ArrayList<>(waiters);
            waiters.clear();
        }
        for (Waiter w : left) {
            w.future.completeExceptionally(new IllegalStateException("the write-ahead log closed"));
        }
        closeFiles();
    }

    private void closeFiles() throws IOException {
        if (segment != null) {
            segment.close();
        }
        if (dirLock != null) {
            dirLock.close();
        }
    }

    private Path segmentPath(long seq) {
        return dir.resolve(String.format("%020d", seq) + SEGMENT_SUFFIX);
    }

    // ---- recovery ----

    /** What recovery learns of a partition in the first pass. */
    private static final class Plan {
        long lowest = Long.MAX_VALUE;
        long replayFrom = -1; // the index of the first record to apply
        boolean reset;
        boolean changed; // has an append or truncation (after its last reset, if any)
        long forcedEnd = -1; // the last FORCED record's end, and its index
        long forcedIndex = -1;
        boolean deleted; // a DELETED record came before every record this plan counts
        /**
         * During replay: the offset from which a record contradicted the compacted log (see {@link #apply}); records
         * are skipped until a truncation to it or below. -1 when replaying normally.
         */
        long supersededFrom = -1;
    }

    /** One record as read back. */
    private record Rec(long index, byte kind, String partition, ByteBuffer body, Path file, long position) {}

    @FunctionalInterface
    private interface RecordVisitor {
        void accept(Rec r) throws IOException;
    }

    private void recover() throws IOException {
        dirLock = DirectoryLock.acquire(dir.resolve(LOCK_FILE), "the write-ahead log in " + dir);
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p ->
                            SEGMENT_NAME.matcher(p.getFileName().toString()).matches())
                    .sorted()
                    .toList();
        }
        long[] seqs = new long[files.size()];
        for (int i = 0; i < files.size(); i++) {
            String name = files.get(i).getFileName().toString();
            seqs[i] = Long.parseLong(name.substring(0, name.length() - SEGMENT_SUFFIX.length()));
            if (i > 0 && seqs[i] != seqs[i - 1] + 1) {
                throw new CorruptLogException(
                        files.get(i), 0, 0, "segment " + (seqs[i - 1] + 1) + " of the write-ahead log is missing");
            }
        }
        long[] validEnd = new long[files.size()];
        // Pass 1: check every record, find each partition's lowest touched offset and where its replay starts.
        Map<String, Plan> plans = new LinkedHashMap<>();
        long records = scanAll(files, validEnd, true, r -> {
            if (r.kind == PROMISE) {
                promises.merge(r.partition, readPromise(r.body, r), WriteAheadLog::newer);
                return;
            }
            if (r.kind == DELETED) {
                promises.remove(r.partition);
                Plan gone = new Plan(); // nothing before this record is applied: the partition was deleted
                gone.deleted = true;
                plans.put(r.partition, gone);
                return;
            }
            Plan p = plans.computeIfAbsent(r.partition, k -> new Plan());
            ByteBuffer b = r.body;
            if (r.kind == RESET) {
                p.reset = true;
                p.replayFrom = r.index;
                p.lowest = Long.MAX_VALUE;
                return;
            }
            if (p.reset) {
                return; // replayed whole from the reset
            }
            long offset = b.getLong(b.position());
            if (r.kind == FORCED) {
                p.forcedEnd = offset;
                p.forcedIndex = r.index;
                return;
            }
            p.changed = true;
            if (offset < p.lowest) {
                p.lowest = offset;
                p.replayFrom = r.index;
            }
        });
        for (Plan p : plans.values()) {
            if (p.deleted && !p.reset && !p.changed && p.forcedIndex < 0) {
                p.replayFrom = Long.MAX_VALUE; // deleted, and not opened again since: nothing to replay
                continue;
            }
            if (!p.reset && !p.changed) {
                // Only FORCED records: the files hold the log up to the last one's end, and beyond it at most what
                // appends whose records never reached the disk here left.
                p.lowest = p.forcedEnd;
                p.replayFrom = p.forcedIndex;
            }
        }
        // Pass 2: apply each partition's records from its replay start.
        Map<String, SegmentedLog> logs = new LinkedHashMap<>();
        try {
            scanAll(files, validEnd, false, r -> {
                if (r.kind == PROMISE) {
                    return; // read in the first pass
                }
                Plan p = plans.get(r.partition);
                if (r.index < p.replayFrom) {
                    return;
                }
                SegmentedLog log = logs.get(r.partition);
                if (log == null) {
                    Path pdir = partitionDirectory.apply(r.partition);
                    log = SegmentedLog.openDiscardingFrom(pdir, partitionConfig, fileSync, p.reset ? 0 : p.lowest);
                    logs.put(r.partition, log);
                    log.shareTailCache(tailBudget);
                    if (!p.reset && log.logEndOffset() < Math.max(p.lowest, log.logStartOffset())) {
                        throw new CorruptLogException(
                                r.file,
                                r.position,
                                p.lowest,
                                "partition " + r.partition + "'s log in " + pdir + " ends at offset "
                                        + log.logEndOffset() + " but its records here need it to hold every entry"
                                        + " below " + p.lowest + ": the partition's files lost entries they had"
                                        + " been forced with");
                    }
                }
                apply(log, r, p);
            });
            for (SegmentedLog log : logs.values()) {
                log.sync();
            }
        } finally {
            for (SegmentedLog log : logs.values()) {
                log.close();
            }
        }
        long next = files.isEmpty() ? 1 : seqs[seqs.length - 1] + 1;
        if (!files.isEmpty()) {
            // The last old segment loses its torn tail first: the new segment follows it from now until the old ones
            // are deleted, and damage in a segment that is not the last is corruption to the next recovery.
            Path last = files.get(files.size() - 1);
            long valid = validEnd[files.size() - 1];
            if (Files.size(last) > valid) {
                try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
                    ch.truncate(valid);
                    fileSync.force(ch, last, true);
                }
            }
        }
        segment = createSegment(next);
        segmentSeq = next;
        segmentFile = segmentPath(next);
        // The promises first, in the new segment and forced: the old segments are their only copy until then.
        if (!promises.isEmpty()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Map.Entry<String, Promise> e : promises.entrySet()) {
                byte[] bytes = promiseRecord(e.getKey().getBytes(StandardCharsets.US_ASCII), e.getValue());
                seal(PROMISE, bytes, bytes.length);
                out.write(bytes, 0, bytes.length);
            }
            ByteBuffer all = ByteBuffer.wrap(out.toByteArray());
            while (all.hasRemaining()) {
                segment.write(all);
            }
            fileSync.force(segment, segmentFile, false);
            segmentSize += out.size();
        }
        for (Path f : files) {
            Files.delete(f);
        }
        if (!files.isEmpty()) {
            fileSync.forceDirectory(dir);
        }
        if (!files.isEmpty()) {
            LOG.info(
                    "Recovered the write-ahead log in {}: {} record(s) in {} segment(s), {} partition log(s) replayed",
                    dir,
                    records,
                    files.size(),
                    logs.size());
        }
    }

    /**
     * Applies one record to a partition's log during recovery.
     *
     * <p>A record replayed here may have been superseded: replay starts at the first record touching the lowest offset
     * any kept record touches, but a compaction (which writes no record: it is durable in the partition's files) may
     * since have moved the log's start above that offset, keeping below it the epoch history as it stood at the
     * compaction — after a later truncation and the appends that replaced what it cut. An append whose entries
     * contradict that history (an entry below the start of another epoch than the history's, or an entry at the start
     * of an epoch below the history's last) belongs to a history a later truncation cut away: it and every record of the
     * partition after it are skipped until that truncation (one to its offset or below), which the kept records hold,
     * being later than it. Applying it instead refused to open the node ("does not follow log end"; the power-loss
     * test, seed 3000385).
     */
    private void apply(SegmentedLog log, Rec r, Plan plan) throws IOException {
        ByteBuffer b = r.body;
        long start = log.logStartOffset();
        long end = log.logEndOffset();
        if (plan.supersededFrom >= 0) {
            if (r.kind == TRUNCATE && b.getLong(b.position()) <= plan.supersededFrom) {
                plan.supersededFrom = -1; // the truncation that cut the superseded history away: applied below
            } else if (r.kind != RESET) {
                return;
            } else {
                plan.supersededFrom = -1;
            }
        }
        switch (r.kind) {
            case RESET -> {
                long offset = b.getLong();
                int n = b.getInt();
                List<EpochHistory.Start> starts = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    starts.add(new EpochHistory.Start(b.getLong(), b.getLong()));
                }
                log.resetTo(offset, EpochHistory.of(starts));
            }
            case FORCED -> {
                // Nothing to apply: the files were cut at (or below) this end when opened.
            }
            case TRUNCATE -> {
                long newEnd = Math.max(b.getLong(), start);
                if (newEnd < end) {
                    log.truncate(newEnd);
                }
            }
            case APPEND -> {
                long first = b.getLong();
                int n = b.getInt();
                List<Entry> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    long epoch = b.getLong();
                    byte type = b.get();
                    byte[] payload = new byte[b.getInt()];
                    b.get(payload);
                    long offset = first + i;
                    if (offset >= start) {
                        entries.add(new Entry(epoch, offset, type, payload));
                    } else if (plan.supersededFrom < 0 && contradicts(log, offset, epoch)) {
                        plan.supersededFrom = offset;
                    }
                }
                if (plan.supersededFrom < 0
                        && !entries.isEmpty()
                        && entries.get(0).offset() == end
                        && end == start
                        && entries.get(0).epoch() < log.epochHistory().lastEpoch()) {
                    plan.supersededFrom = end;
                }
                if (plan.supersededFrom >= 0) {
                    LOG.info(
                            "Recovery of partition {}: the record at {}@{} belongs to a history a later truncation cut"
                                    + " away (it contradicts the log compacted to {} at offset {}); skipping it until"
                                    + " that truncation",
                            r.partition,
                            r.file.getFileName(),
                            r.position,
                            start,
                            plan.supersededFrom);
                    return;
                }
                if (entries.isEmpty()) {
                    return;
                }
                long from = entries.get(0).offset();
                if (from > end) {
                    throw new CorruptLogException(
                            r.file,
                            r.position,
                            from,
                            "partition " + r.partition + "'s log in " + log.directory() + " ends at offset " + end
                                    + " but the write-ahead log continues it at " + from
                                    + ": the partition's files lost entries they had been forced with");
                }
                int same = 0;
                while (same < entries.size()
                        && entries.get(same).offset() < end
                        && log.epochAt(entries.get(same).offset())
                                == entries.get(same).epoch()) {
                    same++;
                }
                if (same == entries.size()) {
                    return;
                }
                long diverge = entries.get(same).offset();
                if (diverge < log.logEndOffset()) {
                    log.truncate(diverge);
                }
                log.append(entries.subList(same, entries.size()));
            }
            default -> throw new IllegalStateException("unknown record kind " + r.kind);
        }
    }

    /** Whether the compacted log knows another epoch at {@code offset}, below its start, than {@code epoch}. */
    private static boolean contradicts(SegmentedLog log, long offset, long epoch) {
        long known = log.epochHistory().epochAt(offset);
        return known > 0 && known != epoch;
    }

    /** Reads every record of {@code files} in order; returns how many. Pass 1 checks and records valid ends. */
    private long scanAll(List<Path> files, long[] validEnd, boolean check, RecordVisitor visitor) throws IOException {
        long index = 0;
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            boolean last = i == files.size() - 1;
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                long size = check ? ch.size() : validEnd[i];
                long position = 0;
                ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
                while (position < size) {
                    String problem = null;
                    header.clear();
                    readFully(ch, header, position);
                    int length = 0;
                    ByteBuffer body = null;
                    if (header.position() < HEADER_BYTES) {
                        problem = "incomplete record header";
                    } else if (header.get(0) != FORMAT) {
                        problem = "unknown record format " + header.get(0);
                    } else if (header.get(1) < APPEND || header.get(1) > PROMISE) {
                        problem = "unknown record kind " + header.get(1);
                    } else {
                        length = header.getInt(2);
                        if (length < 2 || length > maxBodyBytes) {
                            problem = "record length " + length + " outside [2, " + maxBodyBytes + "]";
                        } else if (position + HEADER_BYTES + length > size) {
                            problem = "incomplete record body";
                        } else {
                            body = ByteBuffer.allocate(length);
                            readFully(ch, body, position + HEADER_BYTES);
                            CRC32C crc = new CRC32C();
                            crc.update(header.get(1));
                            updateInt(crc, length);
                            crc.update(body.array(), 0, length);
                            if ((int) crc.getValue() != header.getInt(6)) {
                                problem = "checksum mismatch";
                            }
                        }
                    }
                    if (problem != null) {
                        if (!check) {
                            throw new IllegalStateException("a record checked once fails now: " + f + " @" + position);
                        }
                        if (!last) {
                            throw new CorruptLogException(
                                    f,
                                    position,
                                    index,
                                    "write-ahead log record: " + problem + ", in a segment that is not the last");
                        }
                        long intact = intactRecordAfter(ch, position + 1, size);
                        if (intact >= 0) {
                            throw new CorruptLogException(
                                    f,
                                    position,
                                    index,
                                    "write-ahead log record: " + problem
                                            + ", followed by an intact record at byte position " + intact
                                            + " (not a torn tail: the records after the damage would be lost)");
                        }
                        LOG.warn(
                                "Ignoring the torn tail of {} from byte position {}: {} ({} byte(s))",
                                f,
                                position,
                                problem,
                                size - position);
                        break;
                    }
                    body.flip();
                    int idLength = Byte.toUnsignedInt(body.get());
                    byte[] idBytes = new byte[idLength];
                    body.get(idBytes);
                    String partition = new String(idBytes, StandardCharsets.US_ASCII);
                    visitor.accept(new Rec(index, header.get(1), partition, body.slice(), f, position));
                    index++;
                    position += HEADER_BYTES + length;
                }
                if (check) {
                    validEnd[i] = position;
                }
            }
        }
        return index;
    }

    /**
     * The position of the first intact record starting at or after {@code from}, or -1: a format byte, a known kind,
     * a length within bounds with the body inside the file, and a matching CRC. Tries every byte position, since a
     * damaged record's length cannot be trusted; the cheap checks leave the CRC to few candidates. Only run on a
     * damaged last segment: a torn tail is damage with no intact record after it.
     */
    private long intactRecordAfter(FileChannel ch, long from, long size) throws IOException {
        ByteBuffer window = ByteBuffer.allocate(64 * 1024);
        for (long base = from; base + HEADER_BYTES <= size; base += window.capacity() - HEADER_BYTES) {
            window.clear();
            readFully(ch, window, base);
            int n = window.position();
            for (int i = 0; i + HEADER_BYTES <= n; i++) {
                if (window.get(i) != FORMAT || window.get(i + 1) < APPEND || window.get(i + 1) > PROMISE) {
                    continue;
                }
                int length = window.getInt(i + 2);
                long at = base + i;
                if (length < 2 || length > maxBodyBytes || at + HEADER_BYTES + length > size) {
                    continue;
                }
                ByteBuffer body = ByteBuffer.allocate(length);
                readFully(ch, body, at + HEADER_BYTES);
                CRC32C crc = new CRC32C();
                crc.update(window.get(i + 1));
                updateInt(crc, length);
                crc.update(body.array(), 0, length);
                if ((int) crc.getValue() == window.getInt(i + 6)) {
                    return at;
                }
            }
            if (n < window.capacity()) {
                break;
            }
        }
        return -1;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, position + b.position());
            if (n < 0) {
                return;
            }
        }
    }

    /** One line per record of the segments in {@code dir} (kind, partition, offset), for tests' failure reports. */
    static List<String> describe(Path dir, LogConfig partitionConfig) throws IOException {
        WriteAheadLog wal = new WriteAheadLog(builder(dir, p -> dir), FileSync.NONE);
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p ->
                            SEGMENT_NAME.matcher(p.getFileName().toString()).matches())
                    .sorted()
                    .toList();
        }
        List<String> lines = new ArrayList<>();
        wal.scanAll(files, new long[files.size()], true, r -> {
            String kind = switch (r.kind) {
                case APPEND -> "append " + r.body.getLong(0) + " x" + r.body.getInt(8);
                case TRUNCATE -> "truncate " + r.body.getLong(0);
                case RESET -> "reset " + r.body.getLong(0);
                case DELETED -> "deleted";
                case PROMISE -> "promise " + r.body.getLong(0);
                default -> "forced " + r.body.getLong(0);
            };
            lines.add(r.file.getFileName() + "@" + r.position + " " + r.partition + " " + kind);
        });
        return lines;
    }

    @Override
    public String toString() {
        return "WriteAheadLog[" + dir + "]";
    }
}
