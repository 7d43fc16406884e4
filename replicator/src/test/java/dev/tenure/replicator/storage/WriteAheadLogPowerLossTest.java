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

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.DeferredPromiseStore;
import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded schedules of appends, truncations, compactions, resets and syncs on several partitions sharing one
 * {@link WriteAheadLog}, with small segments so that rolls and checkpoints happen often, cut by a power loss at a
 * random moment ({@link PowerLossDisk}). After recovery every partition's log must be a state it passed through no
 * earlier than its last acknowledged sync: nothing acknowledged is lost, nothing truncated comes back, nothing is
 * reordered. Two deliberately broken variants must be caught.
 */
class WriteAheadLogPowerLossTest {
    /** Schedules per test; {@code -Dtenure.wal.seeds=N} runs more (a soak), {@code -Dtenure.wal.seed=S} from seed S. */
    private static final int SEEDS = Integer.getInteger("tenure.wal.seeds", 40);

    private static final int PARTITIONS = 4;

    @TempDir
    Path tmp;

    @Test
    void everyAcknowledgedAppendSurvivesAPowerLossAtARandomMomentAndNothingTruncatedReturns() throws Exception {
        long base = Long.getLong("tenure.wal.seed", System.nanoTime());
        for (int i = 0; i < SEEDS; i++) {
            long seed = base + i;
            String problem = run(seed, WriteAheadLog.Defect.NONE);
            assertTrue(problem == null, "seed " + seed + " (rerun with -Dtenure.wal.seed=" + seed + "): " + problem);
        }
    }

    @Test
    void acknowledgingBeforeTheForceIsCaught() throws Exception {
        assertCaught(WriteAheadLog.Defect.ACK_BEFORE_FORCE);
    }

    @Test
    void aCheckpointThatDeletesSegmentsWithoutForcingThePartitionLogsIsCaught() throws Exception {
        assertCaught(WriteAheadLog.Defect.CHECKPOINT_WITHOUT_FORCING_PARTITIONS);
    }

    @Test
    void aCheckpointThatDeletesSegmentsWithoutRecordingThePromisesAgainIsCaught() throws Exception {
        assertCaught(WriteAheadLog.Defect.CHECKPOINT_WITHOUT_PROMISES);
    }

    private void assertCaught(WriteAheadLog.Defect defect) throws Exception {
        long base = Long.getLong("tenure.wal.seed", System.nanoTime());
        for (int i = 0; i < SEEDS; i++) {
            String problem = run(base + i, defect);
            if (problem != null) {
                System.out.println(defect + " caught by schedule " + i + " (seed " + (base + i) + "): "
                        + problem.lines().findFirst().orElse(""));
                return;
            }
        }
        throw new AssertionError(defect + " was never caught in " + SEEDS + " schedules from seed " + base);
    }

    /**
     * One partition's log and promise as the test knows them: each state they passed through, and the last one
     * acknowledged.
     */
    private static final class Model {
        final List<long[][]> states = new ArrayList<>(); // per state: per offset {epoch, payload hash}
        final List<Long> promises = new ArrayList<>(); // per state: the epoch of the promise stored before it
        long[][] current = new long[0][];
        long promise;
        int acknowledged;
        long epoch = 1;
        final List<String> trace = new ArrayList<>();

        void record() {
            states.add(current.clone());
            promises.add(promise);
        }
    }

    /** Runs one schedule; returns what went wrong, or null. */
    private String run(long seed, WriteAheadLog.Defect defect) throws Exception {
        Random random = new Random(seed);
        Path root = tmp.resolve("s" + seed + "-" + defect);
        Path walDir = root.resolve("wal");
        PowerLossDisk disk = new PowerLossDisk(200);
        LogConfig config = LogConfig.builder().maxSegmentBytes(2048).build();
        WriteAheadLog wal = WriteAheadLog.builder(walDir, p -> root.resolve(p))
                .partitionConfig(config)
                .segmentBytes(1024 + random.nextInt(4096))
                .fileSync(disk)
                .defect(defect)
                .open();
        List<WriteAheadLog.PartitionLog> logs = new ArrayList<>();
        List<DeferredPromiseStore> promiseStores = new ArrayList<>();
        List<Model> models = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            logs.add(wal.openPartition("p" + p));
            promiseStores.add(logs.get(p).promiseStore(new InMemoryPromiseStore()));
            Model m = new Model();
            m.record();
            models.add(m);
        }
        int ops = 50 + random.nextInt(250);
        for (int op = 0; op < ops; op++) {
            int p = random.nextInt(PARTITIONS);
            WriteAheadLog.PartitionLog log = logs.get(p);
            Model m = models.get(p);
            int kind = random.nextInt(100);
            long end = log.logEndOffset();
            if (kind < 55) {
                if (random.nextInt(8) == 0) {
                    m.epoch++;
                }
                int n = 1 + random.nextInt(5);
                List<Entry> entries = new ArrayList<>();
                long[][] next = Arrays.copyOf(m.current, m.current.length + n);
                for (int k = 0; k < n; k++) {
                    byte[] payload = new byte[random.nextInt(300)];
                    random.nextBytes(payload);
                    entries.add(Entry.data(m.epoch, end + k, payload));
                    next[(int) end + k] = new long[] {m.epoch, Arrays.hashCode(payload)};
                }
                log.append(entries);
                m.trace.add("append " + end + ".." + (end + n - 1) + " e" + m.epoch);
                m.current = next;
            } else if (kind < 65) {
                long start = log.logStartOffset();
                if (end > start) {
                    long to = start + random.nextInt((int) (end - start));
                    log.truncate(to);
                    m.trace.add("truncate " + to);
                    m.current = Arrays.copyOf(m.current, (int) to);
                }
            } else if (kind < 70) {
                if (end > 0) {
                    long to = random.nextInt((int) end + 1);
                    log.compact(to);
                    m.trace.add("compact " + to + " -> start " + log.logStartOffset());
                }
            } else if (kind < 72) {
                long offset = end + random.nextInt(20);
                EpochHistory h = log.epochHistory();
                if (offset > end || h.isEmpty()) {
                    m.epoch++;
                    h = h.withEntry(m.epoch, end);
                }
                if (offset == 0) {
                    continue;
                }
                log.resetTo(offset, h);
                m.trace.add("reset " + offset);
                long[][] next = Arrays.copyOf(m.current, (int) offset);
                for (int o = 0; o < offset; o++) {
                    next[o] = new long[] {h.epochAt(o), 0}; // unreadable below the new start
                }
                m.current = next;
            } else if (kind < 78) {
                // A promise: recorded in the write-ahead log before every later record of the partition.
                m.promise += 1 + random.nextInt(3);
                promiseStores.get(p).store(new Promise(m.promise, "n" + random.nextInt(3)));
                m.trace.add("promise " + m.promise);
            } else {
                var synced = log.syncAsync().get(10, TimeUnit.SECONDS);
                m.trace.add("synced " + synced);
                m.record();
                m.acknowledged = m.states.size() - 1;
                continue;
            }
            m.record();
        }
        if (random.nextBoolean()) {
            // The power goes right after an acknowledgement, while the disk may still be busy.
            int p = random.nextInt(PARTITIONS);
            Model m = models.get(p);
            logs.get(p).syncAsync().get(10, TimeUnit.SECONDS);
            m.record();
            m.acknowledged = m.states.size() - 1;
        }
        disk.powerOff();
        for (WriteAheadLog.PartitionLog log : logs) {
            try {
                log.close();
            } catch (IOException | RuntimeException expected) {
                // the power is off: forcing fails
            }
        }
        wal.close();
        String before = listing(walDir);
        disk.damageUnforced(root, random);

        List<String> records = new ArrayList<>(WriteAheadLog.describe(walDir, config));
        records.add("files before damage: " + before + ", after: " + listing(walDir));
        WriteAheadLog reopened;
        try {
            reopened = WriteAheadLog.builder(walDir, p -> root.resolve(p))
                    .partitionConfig(config)
                    .open();
        } catch (IOException | RuntimeException e) {
            StringBuilder traces = new StringBuilder();
            for (int p = 0; p < PARTITIONS; p++) {
                traces.append("\np").append(p).append(": ").append(String.join("; ", models.get(p).trace));
            }
            return "recovery failed: " + e + traces + "\nrecords:\n" + String.join("\n", records);
        }
        try {
            for (int p = 0; p < PARTITIONS; p++) {
                try (WriteAheadLog.PartitionLog log = reopened.openPartition("p" + p)) {
                    long promise =
                            log.promiseStore(new InMemoryPromiseStore()).load().epoch();
                    String problem = check(log, promise, models.get(p));
                    if (problem != null) {
                        return "partition p" + p + ": " + problem + "\n" + String.join("\n", models.get(p).trace);
                    }
                } catch (IOException e) {
                    return "partition p" + p + " cannot be opened: " + e + "\n" + String.join("; ", models.get(p).trace)
                            + "\nrecords:\n" + String.join("\n", records);
                }
            }
        } finally {
            reopened.close();
        }
        deleteTree(root);
        return null;
    }

    /**
     * Null if the recovered log equals a state at or after the last acknowledged one, and the recovered promise is at
     * least the one stored before that state (nothing recorded after a promise is durable without it) and at most
     * the last one stored.
     */
    private static String check(WriteAheadLog.PartitionLog log, long promise, Model m) {
        if (promise > m.promise) {
            return "recovered promise " + promise + " was never stored (the last was " + m.promise + ")";
        }
        long start = log.logStartOffset();
        long end = log.logEndOffset();
        List<Entry> entries = new ArrayList<>();
        for (long o = start; o < end; ) {
            List<Entry> batch = log.read(o, 1000, Long.MAX_VALUE);
            entries.addAll(batch);
            o += batch.size();
        }
        for (int s = m.acknowledged; s < m.states.size(); s++) {
            long[][] state = m.states.get(s);
            if (state.length != end || start > end) {
                continue;
            }
            boolean same = promise >= m.promises.get(s);
            for (Entry e : entries) {
                long[] want = state[(int) e.offset()];
                same &= want[0] == e.epoch() && want[1] == Arrays.hashCode(e.payload());
            }
            if (same) {
                return null;
            }
        }
        long[][] acked = m.states.get(m.acknowledged);
        return "recovered [" + start + ", " + end + ") with promise " + promise
                + " matches no state from the acknowledged one (state " + m.acknowledged + " of " + m.states.size()
                + ", end " + acked.length + ", promise " + m.promises.get(m.acknowledged) + ")";
    }

    private static String listing(Path dir) throws IOException {
        try (var list = Files.list(dir)) {
            return list.sorted()
                    .map(p -> {
                        try {
                            return p.getFileName() + "=" + Files.size(p);
                        } catch (IOException e) {
                            return p.getFileName() + "=?";
                        }
                    })
                    .toList()
                    .toString();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
