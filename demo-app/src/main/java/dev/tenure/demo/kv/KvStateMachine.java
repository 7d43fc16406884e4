package dev.tenure.demo.kv;

import com.google.common.base.Preconditions;
import dev.tenure.replicator.StateMachine;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The key-value store as a replicated state machine. Deterministic: the result of every command depends
 * only on the commands before it. Applied on the replica's apply thread; reads from any thread see a
 * consistent value per key.
 *
 * <h2>Snapshots</h2>
 *
 * A snapshot streams the map as it was when {@link #snapshot()} captured it, without a second copy of the map:
 * the capture only starts recording, and until the writer has finished, the apply path saves the capture-time value
 * of each key before it first changes or deletes it (a <em>pre-image</em>; "absent" for a key created since). The
 * writer streams the live map, taking a key's pre-image instead of its live value whenever it has one, then writes
 * the pre-images of the keys deleted since. Memory beyond the map is one pre-image per key changed while the writer
 * runs. One writer at a time.
 *
 * <p>Format (big-endian): the magic {@code KVS1} (4 bytes); per key, {@code [1][key length int][key UTF-8][value
 * length int][value]}; then {@code [0][record count long]} and the end of the stream. A key may appear twice (a key
 * changed while the writer ran is written from its pre-image, maybe also from the live map before it changed, with the
 * same value); {@link #restore} keeps the last. Restore refuses anything else with an {@link IOException}: another
 * magic, a negative or oversized length, a stream that ends early, a count that does not match, bytes after the end.
 */
public final class KvStateMachine implements StateMachine {
    /** The magic at the start of a snapshot: "KVS1". */
    static final int MAGIC = 0x4b565331;
    /** The largest key or value a snapshot record may carry: the largest payload an entry can have. */
    static final int MAX_FIELD_BYTES = 16 << 20;

    /**
     * The result of a compare-and-set: whether it replaced the value, and the exact bytes it found ({@code null}:
     * the key was absent).
     */
    @SuppressWarnings("ArrayRecordComponent") // never compared or printed: callers read its fields only
    public record CasResult(boolean replaced, byte[] current) {}

    /** The live map; replaced whole by a restore. */
    private volatile ConcurrentHashMap<String, byte[]> map = new ConcurrentHashMap<>();
    /** The capture a snapshot writer streams, or null; set and cleared on the apply thread and by the writer. */
    private volatile Capture capture;

    /** A captured state: the map at capture time is {@code live} with {@code preImages} laid over it. */
    private static final class Capture {
        final ConcurrentHashMap<String, byte[]> live;
        /** Capture-time values of keys changed since; {@link Optional#empty()}: the key was absent. */
        final ConcurrentHashMap<String, Optional<byte[]>> preImages = new ConcurrentHashMap<>();

        volatile boolean writing;

        Capture(ConcurrentHashMap<String, byte[]> live) {
            this.live = live;
        }
    }

    @Override
    public Object apply(long epoch, long offset, byte[] payload) {
        KvCommand c;
        try {
            c = KvCommand.decode(payload);
        } catch (IllegalArgumentException e) {
            return null; // not a key-value command: no effect, on every replica alike
        }
        ConcurrentHashMap<String, byte[]> m = map;
        switch (c.op()) {
            case PUT:
                keepPreImage(m, c.key());
                m.put(c.key(), c.value());
                return null;
            case DELETE:
                keepPreImage(m, c.key());
                m.remove(c.key());
                return null;
            default:
                byte[] current = m.get(c.key());
                // Bytes, never decoded text: distinct byte strings can decode to the same replacement characters.
                boolean matches =
                        c.expectAbsent() ? current == null : current != null && Arrays.equals(current, c.expect());
                if (matches) {
                    keepPreImage(m, c.key());
                    m.put(c.key(), c.value());
                }
                return new CasResult(matches, current);
        }
    }

    /**
     * Before the first change of {@code key} since a capture: saves its capture-time value. The pre-image is put before
     * the live map changes, so a writer that reads the changed value then finds the pre-image.
     */
    @SuppressWarnings("ReferenceEquality") // the same map object, not an equal map: a restore replaces the object
    private void keepPreImage(ConcurrentHashMap<String, byte[]> m, String key) {
        Capture c = capture;
        if (c != null && c.live == m) {
            c.preImages.putIfAbsent(key, Optional.ofNullable(m.get(key)));
        }
    }

    /** The applied value of {@code key}. */
    public Optional<byte[]> get(String key) {
        return Optional.ofNullable(map.get(key));
    }

    /** Number of keys. */
    public int size() {
        return map.size();
    }

    @Override
    public boolean supportsSnapshots() {
        return true;
    }

    /**
     * Captures the map as it is now (called on the apply thread between two applies): starts recording pre-images and
     * returns the writer that streams the captured map.
     *
     * @throws IllegalStateException if another snapshot's writer is still running
     */
    @Override
    public SnapshotWriter snapshot() {
        Capture previous = capture;
        Preconditions.checkState(
                previous == null || !previous.writing, "a snapshot of this key-value store is already being written");
        // A previous capture whose writer never ran (its snapshot failed before writing) is dropped.
        Capture c = new Capture(map);
        capture = c;
        return out -> write(c, out);
    }

    private void write(Capture c, OutputStream target) throws IOException {
        c.writing = true;
        try {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(target, 64 << 10));
            out.writeInt(MAGIC);
            long records = 0;
            for (Map.Entry<String, byte[]> e : c.live.entrySet()) {
                byte[] value = e.getValue();
                // Read the value first, then look for a pre-image: a key changed after the capture has one by then.
                if (!c.preImages.containsKey(e.getKey())) {
                    writeRecord(out, e.getKey(), value);
                    records++;
                }
            }
            for (Map.Entry<String, Optional<byte[]>> e : c.preImages.entrySet()) {
                if (e.getValue().isPresent()) {
                    writeRecord(out, e.getKey(), e.getValue().get());
                    records++;
                }
            }
            out.writeByte(0);
            out.writeLong(records);
            out.flush();
        } finally {
            if (capture == c) {
                capture = null;
            }
        }
    }

    private static void writeRecord(DataOutputStream out, String key, byte[] value) throws IOException {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        out.writeByte(1);
        out.writeInt(k.length);
        out.write(k);
        out.writeInt(value.length);
        out.write(value);
    }

    /**
     * Replaces the map with the one a snapshot holds (on the apply thread). A snapshot being written goes on from the
     * map it captured; changes after the restore are not recorded for it.
     *
     * @throws IOException if the stream is not a whole, well-formed key-value snapshot; the map is then unchanged
     */
    @Override
    public void restore(long offset, InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        ConcurrentHashMap<String, byte[]> restored = new ConcurrentHashMap<>();
        try {
            int magic = in.readInt();
            if (magic != MAGIC) {
                throw new IOException("not a key-value snapshot: magic " + Integer.toHexString(magic));
            }
            long records = 0;
            while (true) {
                int tag = in.readUnsignedByte();
                if (tag == 0) {
                    break;
                }
                if (tag != 1) {
                    throw new IOException("key-value snapshot: unknown record tag " + tag + " after " + records);
                }
                String key = new String(readField(in, "key", records), StandardCharsets.UTF_8);
                restored.put(key, readField(in, "value", records));
                records++;
            }
            long count = in.readLong();
            if (count != records) {
                throw new IOException("key-value snapshot: says " + count + " records, holds " + records);
            }
            if (in.read() != -1) {
                throw new IOException("key-value snapshot: bytes after its end");
            }
        } catch (EOFException e) {
            throw new IOException("key-value snapshot: truncated", e);
        }
        capture = null;
        map = restored;
    }

    private static byte[] readField(DataInputStream in, String what, long record) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_FIELD_BYTES) {
            throw new IOException("key-value snapshot: record " + record + " has a " + what + " of " + length
                    + " bytes (at most " + MAX_FIELD_BYTES + ")");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return bytes;
    }

    /** Pre-images held for the snapshot being written (0 when none is): for tests of the memory bound. */
    int pendingPreImages() {
        Capture c = capture;
        return c == null ? 0 : c.preImages.size();
    }
}
