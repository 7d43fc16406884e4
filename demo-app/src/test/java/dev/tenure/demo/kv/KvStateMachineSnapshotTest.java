package dev.tenure.demo.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.StateMachine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The key-value store's snapshots: what a writer streams is the map at capture, whatever the apply path does. */
class KvStateMachineSnapshotTest {
    private long offset;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void put(KvStateMachine m, String k, String v) {
        m.apply(1, offset++, KvCommand.put(k, b(v)).encode());
    }

    private void delete(KvStateMachine m, String k) {
        m.apply(1, offset++, KvCommand.delete(k).encode());
    }

    private static Map<String, String> contents(KvStateMachine m, Iterable<String> keys) {
        Map<String, String> out = new HashMap<>();
        for (String k : keys) {
            m.get(k).ifPresent(v -> out.put(k, new String(v, StandardCharsets.UTF_8)));
        }
        return out;
    }

    private static byte[] stream(StateMachine.SnapshotWriter w) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.writeTo(out);
        return out.toByteArray();
    }

    private static KvStateMachine restored(byte[] snapshot) throws IOException {
        KvStateMachine m = new KvStateMachine();
        m.restore(1, new ByteArrayInputStream(snapshot));
        return m;
    }

    @Test
    void aSnapshotRestoresTheSameMap() throws IOException {
        KvStateMachine m = new KvStateMachine();
        put(m, "a", "1");
        put(m, "b", "2");
        put(m, "c", "");
        delete(m, "b");
        KvStateMachine r = restored(stream(m.snapshot()));
        assertEquals(2, r.size());
        assertArrayEquals(b("1"), r.get("a").orElseThrow());
        assertArrayEquals(new byte[0], r.get("c").orElseThrow());
        assertTrue(r.get("b").isEmpty());
    }

    @Test
    void changesAfterTheCaptureAreNotInTheSnapshotAndItsPreImagesAreDroppedAfterwards() throws IOException {
        KvStateMachine m = new KvStateMachine();
        put(m, "kept", "old");
        put(m, "changed", "old");
        put(m, "deleted", "old");
        StateMachine.SnapshotWriter w = m.snapshot();
        put(m, "changed", "new");
        put(m, "changed", "newer");
        delete(m, "deleted");
        put(m, "created", "new");
        assertEquals(3, m.pendingPreImages(), "one pre-image per key changed, however often");
        KvStateMachine r = restored(stream(w));
        var keys = java.util.List.of("kept", "changed", "deleted", "created");
        assertEquals(Map.of("kept", "old", "changed", "old", "deleted", "old"), contents(r, keys));
        assertEquals(0, m.pendingPreImages(), "the writer finished: nothing more is kept");
        assertEquals(Map.of("kept", "old", "changed", "newer", "created", "new"), contents(m, keys));
    }

    @Test
    void preImagesStayBoundedByTheKeysChangedWhileTheWriterRuns() {
        KvStateMachine m = new KvStateMachine();
        for (int i = 0; i < 10_000; i++) {
            put(m, "k" + i, "v");
        }
        m.snapshot();
        for (int i = 0; i < 100_000; i++) {
            put(m, "k" + (i % 10), "v" + i);
        }
        assertEquals(10, m.pendingPreImages());
    }

    /**
     * The apply path changes, deletes and creates keys on one thread while the writer streams on another: the
     * restored map is the map at capture, exactly. Seeded and bounded; a failure names its seed.
     */
    @Test
    void aWriterRacingTheApplyPathStreamsExactlyTheMapAtCapture() throws Exception {
        long base = Long.getLong("kv.seed", 20261204L);
        for (long seed = base; seed < base + 10; seed++) {
            Random random = new Random(seed);
            KvStateMachine m = new KvStateMachine();
            Map<String, String> expected = new HashMap<>();
            for (int i = 0; i < 5_000; i++) {
                String k = "k" + random.nextInt(3_000);
                put(m, k, "v" + i);
                expected.put(k, "v" + i);
            }
            StateMachine.SnapshotWriter w = m.snapshot();
            AtomicBoolean stop = new AtomicBoolean();
            long s = seed;
            CompletableFuture<Void> applier = CompletableFuture.runAsync(() -> {
                Random r = new Random(s * 31);
                for (int i = 0; i < 20_000 && !stop.get(); i++) {
                    String k = "k" + r.nextInt(4_000); // some created, some deleted, some changed
                    if (r.nextInt(4) == 0) {
                        delete(m, k);
                    } else {
                        put(m, k, "x" + i);
                    }
                }
            });
            byte[] snapshot = stream(w);
            stop.set(true);
            applier.get(30, TimeUnit.SECONDS);
            KvStateMachine r = restored(snapshot);
            java.util.Set<String> keys = new java.util.HashSet<>(expected.keySet());
            for (int i = 0; i < 4_000; i++) {
                keys.add("k" + i);
            }
            assertEquals(expected, contents(r, keys), "seed " + seed + " (rerun with -Dkv.seed=" + seed + ")");
            assertEquals(expected.size(), r.size(), "seed " + seed);
        }
    }

    @Test
    void aSecondWriterWhileOneRunsIsRefused() throws Exception {
        KvStateMachine m = new KvStateMachine();
        put(m, "a", "1");
        StateMachine.SnapshotWriter w = m.snapshot();
        CompletableFuture<IllegalStateException> second = new CompletableFuture<>();
        w.writeTo(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                if (!second.isDone()) {
                    second.complete(assertThrows(IllegalStateException.class, m::snapshot));
                }
            }

            @Override
            public void write(byte[] bytes, int off, int len) {
                write(0);
            }
        });
        assertTrue(second.get().getMessage().contains("already being written"));
        m.snapshot(); // once it finished, the next is allowed
    }

    @Test
    void aRestoreDuringAWriteLeavesTheWriterOnTheMapItCaptured() throws IOException {
        KvStateMachine m = new KvStateMachine();
        put(m, "a", "old");
        StateMachine.SnapshotWriter w = m.snapshot();
        KvStateMachine other = new KvStateMachine();
        put(other, "b", "other");
        m.restore(9, new ByteArrayInputStream(stream(other.snapshot())));
        put(m, "a", "after-restore");
        KvStateMachine r = restored(stream(w));
        assertEquals(Map.of("a", "old"), contents(r, java.util.List.of("a", "b")));
    }

    @Test
    void malformedSnapshotsAreRefusedAndTheMapIsUnchanged() throws IOException {
        KvStateMachine source = new KvStateMachine();
        put(source, "a", "1");
        byte[] good = stream(source.snapshot());
        KvStateMachine m = new KvStateMachine();
        put(m, "mine", "x");

        assertRefused(m, Arrays.copyOf(good, good.length - 3), "truncated");
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertRefused(m, magic, "not a key-value snapshot");
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertRefused(m, trailing, "bytes after its end");
        byte[] count = good.clone();
        count[count.length - 1] = 7;
        assertRefused(m, count, "says 7 records");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(KvStateMachine.MAGIC);
        out.writeByte(1);
        out.writeInt(-5);
        assertRefused(m, bytes.toByteArray(), "-5 bytes");
        bytes.reset();
        out.writeInt(KvStateMachine.MAGIC);
        out.writeByte(9);
        assertRefused(m, bytes.toByteArray(), "unknown record tag 9");
        assertEquals(Map.of("mine", "x"), contents(m, java.util.List.of("mine", "a")), "unchanged");
    }

    private static void assertRefused(KvStateMachine m, byte[] snapshot, String why) {
        IOException e = assertThrows(IOException.class, () -> m.restore(1, new ByteArrayInputStream(snapshot)));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }
}
