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
package dev.tenure.demo.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tenure.replicator.StateMachine.SnapshotWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Snapshots of the key-value store: a snapshot holds exactly the state at its capture, also while changes are applied
 * on another thread as it is written; its extra memory is bounded by the keys changed meanwhile; one writer at a time;
 * a malformed snapshot is refused with a clear error and leaves the state as it was.
 *
 * <p>The concurrent test is seeded: {@code -Dkv.seed=N} runs its rounds from seed N (each round's seed is printed on
 * failure).
 */
class KvStateMachineSnapshotTest {
    private static final long BASE_SEED = Long.getLong("kv.seed", 20260514L);
    private static final int ROUNDS = 24;

    private final KvStateMachine store = new KvStateMachine();
    private final ExecutorService threads = Executors.newFixedThreadPool(2);
    private long offset;

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        assertTrue(threads.awaitTermination(10, TimeUnit.SECONDS), "test threads stopped");
    }

    // ---- the state at the capture ----

    @Test
    void restoringASnapshotGivesTheStateAtItsCaptureByteForByte() throws IOException {
        apply(KvCommand.put("a", utf8("1")));
        apply(KvCommand.put("empty", new byte[0]));
        apply(KvCommand.put("bytes", new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF, 0}));
        apply(KvCommand.put("ключ", utf8("значение")));
        apply(KvCommand.put("gone", utf8("x")));
        apply(KvCommand.delete("gone"));

        KvStateMachine restored = restore(write(store.snapshot()));

        assertEquals(
                stateOf(store, List.of("a", "empty", "bytes", "ключ", "gone")),
                stateOf(restored, List.of("a", "empty", "bytes", "ключ", "gone")));
        assertEquals(4, restored.size());
        assertArrayEquals(new byte[0], restored.get("empty").orElseThrow());
    }

    @Test
    void anEmptyStoreRestoresEmpty() throws IOException {
        KvStateMachine restored = restore(write(store.snapshot()));

        assertEquals(0, restored.size());
    }

    @Test
    void changesAppliedAfterTheCaptureAreNotInTheSnapshotButAreInTheLiveState() throws IOException {
        apply(KvCommand.put("changed", utf8("before")));
        apply(KvCommand.put("deleted", utf8("before")));
        apply(KvCommand.put("recreated", utf8("before")));
        apply(KvCommand.put("same", utf8("before")));
        SnapshotWriter writer = store.snapshot();

        apply(KvCommand.put("changed", utf8("after")));
        apply(KvCommand.put("changed", utf8("after again")));
        apply(KvCommand.delete("deleted"));
        apply(KvCommand.delete("recreated"));
        apply(KvCommand.put("recreated", utf8("after")));
        apply(KvCommand.put("created", utf8("after")));
        apply(KvCommand.cas("created", utf8("after"), utf8("cas after")));
        apply(KvCommand.put("created then deleted", utf8("after")));
        apply(KvCommand.delete("created then deleted"));
        KvStateMachine restored = restore(write(writer));

        List<String> keys = List.of("changed", "deleted", "recreated", "same", "created", "created then deleted");
        assertEquals(
                Map.of("changed", "before", "deleted", "before", "recreated", "before", "same", "before"),
                stateOf(restored, keys));
        assertEquals(4, restored.size());
        assertEquals(
                Map.of("changed", "after again", "recreated", "after", "same", "before", "created", "cas after"),
                stateOf(store, keys),
                "the live state has every change, and no deleted key");
        assertEquals(4, store.size());
    }

    /**
     * One thread applies puts, deletes, creates and compare-and-sets while another writes the snapshot; the restored
     * state equals the state at the capture exactly, and the live state the state after every change. Half the rounds
     * run in lockstep (each write of the snapshot's stream lets the applier apply a batch, then the writer goes on:
     * reproducible from the seed), half truly concurrently (each write lets the applier run on without waiting).
     */
    @Test
    @Timeout(120)
    void aSnapshotWrittenWhileAnotherThreadAppliesChangesHoldsExactlyTheStateAtTheCapture() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            long seed = BASE_SEED + round;
            try {
                concurrentRound(seed, round % 2 == 0);
            } catch (AssertionError | Exception e) {
                throw new AssertionError(
                        "round failed with seed " + seed + " (rerun with -Dkv.seed=" + seed + "): " + e.getMessage(),
                        e);
            }
        }
    }

    private void concurrentRound(long seed, boolean lockstep) throws Exception {
        Random random = new Random(seed);
        KvStateMachine machine = new KvStateMachine();
        Map<String, byte[]> model = new HashMap<>();
        int keySpace = 500 + random.nextInt(2500);
        for (int i = 0; i < keySpace; i++) {
            if (random.nextInt(3) > 0) {
                KvCommand put = KvCommand.put(key(i), value(random));
                machine.apply(1, i, put.encode());
                model.put(put.key(), put.value());
            }
        }
        Map<String, byte[]> atCapture = new HashMap<>(model);
        SnapshotWriter writer = machine.snapshot();

        List<KvCommand> changes = new ArrayList<>();
        for (int i = 0, n = 1000 + random.nextInt(4000); i < n; i++) {
            String k = key(random.nextInt(keySpace + keySpace / 4)); // some keys never existed: creates
            int op = random.nextInt(10);
            byte[] current = model.get(k);
            KvCommand c;
            if (op < 5) {
                c = KvCommand.put(k, value(random));
            } else if (op < 8) {
                c = KvCommand.delete(k);
            } else {
                boolean match = random.nextBoolean();
                byte[] expect = match ? current : value(random);
                c = KvCommand.cas(k, expect, value(random));
            }
            changes.add(c);
            applyToModel(model, c);
        }

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Semaphore batches = new Semaphore(0);
        SynchronousQueue<Boolean> batchDone = new SynchronousQueue<>();
        java.util.concurrent.atomic.AtomicBoolean writerFinished = new java.util.concurrent.atomic.AtomicBoolean();
        int perBatch = 1 + random.nextInt(200);
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                bytes.write(b);
                handOff();
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                bytes.write(b, off, len);
                handOff();
            }

            /** Lets the applier apply a batch; in lockstep, waits until it has. */
            private void handOff() throws IOException {
                batches.release();
                if (lockstep) {
                    try {
                        if (batchDone.poll(30, TimeUnit.SECONDS) == null) {
                            throw new IOException("the applier did not finish its batch in 30 s");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException();
                    }
                }
            }
        };
        CompletableFuture<Void> writing = CompletableFuture.runAsync(
                () -> {
                    try {
                        writer.writeTo(out);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    } finally {
                        writerFinished.set(true);
                        batches.release(); // the applier applies the rest
                    }
                },
                threads);
        CompletableFuture<Integer> applying = CompletableFuture.supplyAsync(
                () -> {
                    int during = 0;
                    int next = 0;
                    try {
                        while (true) {
                            batches.acquire();
                            // In lockstep the writer waits in handOff() until the batch is done, so it cannot finish
                            // meanwhile: a batch taken before the writer finished is answered, the last one is not.
                            boolean finished = writerFinished.get();
                            for (int i = 0; (finished || i < perBatch) && next < changes.size(); i++) {
                                machine.apply(
                                        2, 100_000 + next, changes.get(next++).encode());
                                during += finished ? 0 : 1;
                            }
                            if (finished) {
                                return during;
                            }
                            if (lockstep) {
                                batchDone.put(true);
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                },
                threads);
        writing.get(60, TimeUnit.SECONDS);
        int appliedDuringTheWrite = applying.get(60, TimeUnit.SECONDS);

        KvStateMachine restored = restore(bytes.toByteArray());
        assertSameState(atCapture, restored, "restored snapshot");
        assertSameState(model, machine, "live state");
        if (lockstep) {
            assertTrue(appliedDuringTheWrite > 0, "changes were applied while the writer streamed");
        }
    }

    private static void applyToModel(Map<String, byte[]> model, KvCommand c) {
        switch (c.op()) {
            case PUT -> model.put(c.key(), c.value());
            case DELETE -> model.remove(c.key());
            case CAS -> {
                byte[] current = model.get(c.key());
                if (c.expectAbsent()
                        ? current == null
                        : current != null && java.util.Arrays.equals(current, c.expect())) {
                    model.put(c.key(), c.value());
                }
            }
        }
    }

    private static void assertSameState(Map<String, byte[]> expected, KvStateMachine actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": number of keys");
        for (Map.Entry<String, byte[]> e : expected.entrySet()) {
            byte[] v = actual.get(e.getKey()).orElse(null);
            if (v == null || !java.util.Arrays.equals(e.getValue(), v)) {
                fail(what + ": key " + e.getKey() + " differs");
            }
        }
    }

    private static String key(int i) {
        return "key-" + i;
    }

    private static byte[] value(Random random) {
        byte[] v = new byte[random.nextInt(600)];
        random.nextBytes(v);
        return v;
    }

    // ---- memory and writers ----

    @Test
    void preImagesAreBoundedByTheKeysChangedAndDroppedOnceTheWriterHasFinished() throws IOException {
        for (int i = 0; i < 1000; i++) {
            apply(KvCommand.put(key(i), utf8("v" + i)));
        }
        SnapshotWriter writer = store.snapshot();

        for (int round = 0; round < 50; round++) { // 50 changes to each of the same 20 keys
            for (int i = 0; i < 10; i++) {
                apply(KvCommand.put(key(i), utf8("round " + round)));
            }
            for (int i = 10; i < 15; i++) {
                apply(KvCommand.delete(key(i)));
                apply(KvCommand.put(key(i), utf8("again " + round)));
            }
            for (int i = 2000; i < 2005; i++) {
                apply(KvCommand.put(key(i), utf8("new " + round)));
                apply(KvCommand.delete(key(i)));
            }
        }
        apply(KvCommand.delete(key(999)));
        apply(KvCommand.delete("never existed"));

        assertEquals(21, store.preImages(), "one pre-image per key changed, however often");
        assertEquals(1005, store.storedKeys(), "a deleted key stays as a tombstone while the writer may run");
        assertEquals(999, store.size(), "tombstones are not keys");

        write(writer);
        apply(KvCommand.put("after", utf8("x")));

        assertEquals(0, store.preImages(), "pre-images dropped at the first apply after the writer finished");
        assertEquals(1000, store.storedKeys(), "tombstones removed");
        assertEquals(1000, store.size());
    }

    @Test
    void withoutACaptureNothingIsKeptForDeletedKeys() {
        apply(KvCommand.put("k", utf8("v")));
        apply(KvCommand.delete("k"));

        assertEquals(0, store.preImages());
        assertEquals(0, store.storedKeys());
    }

    @Test
    void aSecondCaptureWhileAWriterIsRunningIsRefused() throws Exception {
        apply(KvCommand.put("k", utf8("v")));
        SnapshotWriter first = store.snapshot();
        SynchronousQueue<Boolean> inside = new SynchronousQueue<>();
        SynchronousQueue<Boolean> release = new SynchronousQueue<>();
        CompletableFuture<Void> writing = CompletableFuture.runAsync(
                () -> {
                    try {
                        first.writeTo(new OutputStream() {
                            @Override
                            public void write(int b) {}

                            @Override
                            public void write(byte[] b, int off, int len) {
                                try {
                                    inside.put(true);
                                    release.take();
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            }
                        });
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                },
                threads);
        inside.take();

        IllegalStateException refused = assertThrows(IllegalStateException.class, store::snapshot);
        assertTrue(refused.getMessage().contains("still running"), refused.getMessage());

        release.put(true);
        writing.get(10, TimeUnit.SECONDS);
        store.snapshot(); // the writer has finished: a new capture is taken
    }

    @Test
    void aCaptureWhoseWriterNeverStartedIsSupersededAndItsWriterRefusesToRun() throws IOException {
        apply(KvCommand.put("k", utf8("old")));
        SnapshotWriter abandoned = store.snapshot();
        apply(KvCommand.put("k", utf8("new")));
        apply(KvCommand.delete("k"));

        SnapshotWriter next = store.snapshot();

        assertEquals(0, store.storedKeys(), "the abandoned capture's tombstone is gone");
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> write(abandoned));
        assertTrue(refused.getMessage().contains("superseded"), refused.getMessage());
        assertEquals(0, restore(write(next)).size());
    }

    @Test
    void aWriterRunsOnce() throws IOException {
        SnapshotWriter writer = store.snapshot();
        write(writer);

        assertThrows(IllegalStateException.class, () -> write(writer));
    }

    @Test
    void aRestoreWhileAWriterIsPendingLeavesTheWriterStreamingTheCapturedState() throws IOException {
        apply(KvCommand.put("captured", utf8("yes")));
        SnapshotWriter writer = store.snapshot();
        apply(KvCommand.delete("captured"));
        KvStateMachine other = new KvStateMachine();
        other.apply(1, 0, KvCommand.put("installed", utf8("yes")).encode());
        byte[] installed = write(other.snapshot());

        store.restore(7, new ByteArrayInputStream(installed));
        apply(KvCommand.put("after restore", utf8("yes")));

        assertEquals(Map.of("captured", "yes"), stateOf(restore(write(writer)), List.of("captured", "installed")));
        assertEquals(
                Map.of("installed", "yes", "after restore", "yes"),
                stateOf(store, List.of("captured", "installed", "after restore")));
        assertEquals(2, store.size());
    }

    // ---- malformed snapshots ----

    @Test
    void everyTruncationOfASnapshotIsRefusedAndLeavesTheStateAsItWas() throws IOException {
        KvStateMachine source = new KvStateMachine();
        source.apply(1, 0, KvCommand.put("a", utf8("one")).encode());
        source.apply(1, 1, KvCommand.put("b", utf8("two")).encode());
        byte[] whole = write(source.snapshot());
        apply(KvCommand.put("mine", utf8("kept")));

        for (int length = 0; length < whole.length; length++) {
            byte[] cut = java.util.Arrays.copyOf(whole, length);
            IOException e = assertThrows(IOException.class, () -> store.restore(2, new ByteArrayInputStream(cut)));
            assertTrue(e.getMessage().contains("truncated"), length + " bytes: " + e.getMessage());
        }
        assertEquals(Map.of("mine", "kept"), stateOf(store, List.of("mine", "a", "b")));
        assertEquals(1, store.size());
    }

    @Test
    void aSnapshotWithAnotherMagicIsRefused() {
        assertRefused(snapshotBytes(0x12345678, 1, out -> out.writeInt(-1), 0), "not a key-value snapshot");
    }

    @Test
    void aSnapshotOfAnotherVersionIsRefused() {
        assertRefused(snapshotBytes(KvStateMachine.FORMAT_MAGIC, 2, out -> out.writeInt(-1), 0), "version 2");
    }

    @Test
    void aNegativeKeyLengthIsRefused() {
        assertRefused(snapshotBytes(KvStateMachine.FORMAT_MAGIC, 1, out -> out.writeInt(-2), 0), "negative key length");
    }

    @Test
    void aNegativeValueLengthIsRefused() {
        assertRefused(
                snapshotBytes(
                        KvStateMachine.FORMAT_MAGIC,
                        1,
                        out -> {
                            record(out, utf8("k"), null);
                            out.writeInt(-5);
                        },
                        1),
                "negative value length");
    }

    @Test
    void aLengthBeyondTheEndIsRefusedAsTruncatedWithoutAllocatingIt() {
        assertRefused(
                snapshotBytes(KvStateMachine.FORMAT_MAGIC, 1, out -> out.writeInt(Integer.MAX_VALUE), 0), "truncated");
    }

    @Test
    void aRecordCountThatDoesNotMatchIsRefused() {
        assertRefused(
                snapshotBytes(KvStateMachine.FORMAT_MAGIC, 1, out -> record(out, utf8("k"), utf8("v")), 2),
                "says it has 2 records but holds 1");
    }

    @Test
    void bytesAfterTheEndAreRefused() {
        byte[] valid = snapshotBytes(KvStateMachine.FORMAT_MAGIC, 1, out -> {}, 0);
        byte[] longer = java.util.Arrays.copyOf(valid, valid.length + 1);

        assertRefused(longer, "bytes after the end");
    }

    @Test
    void aDuplicateKeyIsRefused() {
        assertRefused(
                snapshotBytes(
                        KvStateMachine.FORMAT_MAGIC,
                        1,
                        out -> {
                            record(out, utf8("k"), utf8("1"));
                            record(out, utf8("k"), utf8("2"));
                        },
                        2),
                "duplicate key");
    }

    @Test
    void aKeyThatIsNotUtf8IsRefused() {
        assertRefused(
                snapshotBytes(
                        KvStateMachine.FORMAT_MAGIC, 1, out -> record(out, new byte[] {(byte) 0xFF}, utf8("v")), 1),
                "not UTF-8");
    }

    @Test
    void theHandWrittenFormatIsWhatTheWriterWrites() throws IOException {
        apply(KvCommand.put("k", utf8("v")));

        assertArrayEquals(
                snapshotBytes(KvStateMachine.FORMAT_MAGIC, 1, out -> record(out, utf8("k"), utf8("v")), 1),
                write(store.snapshot()));
    }

    private void assertRefused(byte[] snapshot, String because) {
        apply(KvCommand.put("mine", utf8("kept")));
        IOException e = assertThrows(IOException.class, () -> store.restore(2, new ByteArrayInputStream(snapshot)));
        assertTrue(e.getMessage().contains(because), e.getMessage());
        assertEquals(Map.of("mine", "kept"), stateOf(store, List.of("mine", "k")), "the state is as it was");
    }

    private interface Records {
        void write(DataOutputStream out) throws IOException;
    }

    /** The format by hand: magic, version, the records, the end marker and the count. */
    private static byte[] snapshotBytes(int magic, int version, Records records, long count) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            out.writeInt(magic);
            out.writeInt(version);
            records.write(out);
            out.writeInt(-1);
            out.writeLong(count);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toByteArray();
    }

    /** A record: key length, key, then (unless {@code value} is null) value length and value. */
    private static void record(DataOutputStream out, byte[] key, byte[] value) throws IOException {
        out.writeInt(key.length);
        out.write(key);
        if (value != null) {
            out.writeInt(value.length);
            out.write(value);
        }
    }

    // ---- helpers ----

    private void apply(KvCommand c) {
        store.apply(1, offset++, c.encode());
    }

    private static byte[] write(SnapshotWriter writer) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writer.writeTo(out);
        return out.toByteArray();
    }

    private static KvStateMachine restore(byte[] snapshot) throws IOException {
        KvStateMachine m = new KvStateMachine();
        m.restore(1, new ByteArrayInputStream(snapshot));
        return m;
    }

    /** The values of {@code keys} that {@code m} has, as text. */
    private static Map<String, String> stateOf(KvStateMachine m, List<String> keys) {
        Map<String, String> state = new HashMap<>();
        for (String k : keys) {
            m.get(k).ifPresent(v -> state.put(k, new String(v, StandardCharsets.ISO_8859_1)));
        }
        return state;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
