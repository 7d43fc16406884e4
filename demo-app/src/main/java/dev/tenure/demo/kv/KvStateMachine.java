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

import dev.tenure.replicator.StateMachine;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The key-value store as a replicated state machine. Deterministic: the result of every command depends only on the
 * commands before it. Applied on the replica's apply thread; reads ({@link #get}, {@link #size}) from any thread see a
 * consistent value per key.
 *
 * <h2>Snapshots</h2>
 *
 * It {@link #supportsSnapshots() supports snapshots} without a second copy of the map: {@link #snapshot()} only marks
 * the moment (the <em>capture</em>); from then until the writer has finished, the apply path saves the value a key had
 * at the capture (its <em>pre-image</em>, or an "absent" marker for a key that did not exist) before it first changes
 * or deletes it, and a delete leaves a tombstone in the map instead of removing the key. The writer, on the replica's
 * snapshot thread, streams the live map while applying goes on: for each key it reads the live value, then looks for a
 * pre-image (in that order: the apply path saves the pre-image before it changes the value, so a change the writer
 * sees is never missed) and writes the pre-image if there is one, skipping keys created after the capture; tombstones
 * keep every key that existed at the capture in the map, so the map's weakly consistent iteration visits each of them
 * exactly once. Extra memory is bounded by the keys changed while the writer runs (a reference to each one's old
 * value, no copy of any value). After the writer has finished, the apply thread drops the pre-images and removes the
 * tombstones the next time it applies (or captures, or restores).
 *
 * <p>One writer at a time: {@link #snapshot()} throws {@link IllegalStateException} while another writer is running
 * (the replica never asks for two); a writer that has not started yet is superseded, and refuses to run.
 *
 * <h2>Snapshot format</h2>
 *
 * Big-endian, as {@link DataOutputStream} writes: the magic {@code 0x544B5653} ("TKVS"), the format version (an int,
 * {@value #FORMAT_VERSION}); then one record per key, in no particular order: the key's length (an int, &ge; 0), the
 * key (UTF-8), the value's length (an int, &ge; 0), the value; then the end marker, a key length of -1, followed by the
 * number of records (a long). {@link #restore} rejects anything else with an {@link IOException} that says what is
 * wrong: another magic or version, a negative length, a truncated record, a key that is not UTF-8, a duplicate key, a
 * count that does not match, bytes after the count. (The snapshot file around it has its own header and CRC.)
 */
public final class KvStateMachine implements StateMachine {
    /** "TKVS": the first four bytes of a key-value snapshot. */
    static final int FORMAT_MAGIC = 0x544B5653;
    /** The snapshot format this class writes and reads. */
    static final int FORMAT_VERSION = 1;
    /** The key length that ends the records. */
    static final int END_OF_RECORDS = -1;

    private static final int BUFFER_BYTES = 64 << 10;

    /**
     * A deleted key's value while a writer runs: the key stays in the map, so the writer's iteration still visits it.
     * Compared by identity: no stored value is this array.
     */
    private static final byte[] TOMBSTONE = new byte[0];
    /** The pre-image of a key that did not exist at the capture. Compared by identity. */
    private static final byte[] ABSENT = new byte[0];

    /**
     * The result of a compare-and-set: whether it replaced the value, and the exact bytes it found ({@code null}:
     * the key was absent).
     */
    @SuppressWarnings("ArrayRecordComponent") // never compared or printed: callers read its fields only
    public record CasResult(boolean replaced, byte[] current) {}

    /** Replaced as a whole by {@link #restore}; changed in place by the apply thread only. */
    private volatile ConcurrentHashMap<String, byte[]> map = new ConcurrentHashMap<>();
    /** Keys with a value (tombstones not counted). Changed by the apply thread only. */
    private final AtomicInteger keys = new AtomicInteger();
    /** The newest capture, until the apply thread has released it. Apply thread only. */
    private Capture capture;

    @Override
    public Object apply(long epoch, long offset, byte[] payload) {
        KvCommand c;
        try {
            c = KvCommand.decode(payload);
        } catch (IllegalArgumentException e) {
            return null; // not a key-value command: no effect, on every replica alike
        }
        switch (c.op()) {
            case PUT:
                put(c.key(), c.value());
                return null;
            case DELETE:
                delete(c.key());
                return null;
            default:
                byte[] current = valueOf(map.get(c.key()));
                // Bytes, never decoded text: distinct byte strings can decode to the same replacement characters.
                boolean matches =
                        c.expectAbsent() ? current == null : current != null && Arrays.equals(current, c.expect());
                if (matches) {
                    put(c.key(), c.value());
                }
                return new CasResult(matches, current);
        }
    }

    private void put(String key, byte[] value) {
        ConcurrentHashMap<String, byte[]> m = map;
        byte[] old = m.get(key);
        Capture active = active();
        if (active != null) {
            active.savePreImage(key, old); // before the change: see the class comment
        }
        m.put(key, value);
        if (valueOf(old) == null) {
            keys.incrementAndGet();
        }
    }

    private void delete(String key) {
        ConcurrentHashMap<String, byte[]> m = map;
        byte[] old = m.get(key);
        if (valueOf(old) == null) {
            return; // nothing changes
        }
        Capture active = active();
        if (active != null) {
            active.savePreImage(key, old);
            m.put(key, TOMBSTONE);
        } else {
            m.remove(key);
        }
        keys.decrementAndGet();
    }

    /** A stored value as the store's value: {@code null} for absent and for a tombstone. */
    private static byte[] valueOf(byte[] stored) {
        return stored == TOMBSTONE ? null : stored;
    }

    /** The applied value of {@code key}. */
    public Optional<byte[]> get(String key) {
        return Optional.ofNullable(valueOf(map.get(key)));
    }

    /** Number of keys. */
    public int size() {
        return keys.get();
    }

    // ---- snapshots ----

    @Override
    public boolean supportsSnapshots() {
        return true;
    }

    /**
     * Captures the state as it is now (apply thread, between two applies): O(1), no copy. The writer streams it later,
     * on another thread, while applying goes on; see the class comment.
     *
     * @throws IllegalStateException if the writer of the previous capture is still running
     */
    @Override
    public SnapshotWriter snapshot() {
        Capture previous = capture;
        if (previous != null) {
            if (!previous.state.compareAndSet(Capture.CAPTURED, Capture.SUPERSEDED)
                    && previous.state.get() == Capture.WRITING) {
                throw new IllegalStateException("a snapshot writer is still running: one writer at a time");
            }
            release(previous);
        }
        capture = new Capture(map);
        return capture;
    }

    /**
     * Replaces the whole state with the one read from {@code in} (apply thread), once all of it has been read and
     * checked: a malformed snapshot leaves the state as it was. A writer still running keeps streaming the state it
     * captured.
     *
     * @throws IOException if {@code in} is not a snapshot in the format above (the message says what is wrong), or
     *     cannot be read
     */
    @Override
    public void restore(long offset, InputStream in) throws IOException {
        ConcurrentHashMap<String, byte[]> next = read(in);
        Capture previous = capture;
        if (previous != null && previous.state.get() >= Capture.DONE) {
            release(previous);
        }
        // A capture of the old map stays as it is: nothing changes that map any more, so its writer, if it runs,
        // still streams the captured state, and active() never returns it again.
        map = next;
        keys.set(next.size());
    }

    /**
     * The capture whose pre-images the apply path must save, or null: none, or its writer has finished (then it is
     * released now), or a restore has replaced the map it captured.
     */
    @SuppressWarnings("ReferenceEquality") // whether it is the same map instance, not an equal one
    private Capture active() {
        Capture c = capture;
        if (c == null) {
            return null;
        }
        if (c.state.get() >= Capture.DONE) {
            release(c);
            return null;
        }
        return c.live == map ? c : null;
    }

    /** Drops a finished capture: removes the tombstones it needed (every one is a key it has a pre-image of). */
    private void release(Capture c) {
        for (String key : c.preImages.keySet()) {
            c.live.remove(key, TOMBSTONE);
        }
        c.preImages.clear();
        if (capture == c) {
            capture = null;
        }
    }

    /** Pre-images saved for the current capture; for tests of the memory bound. */
    int preImages() {
        Capture c = capture;
        return c == null ? 0 : c.preImages.size();
    }

    /** Keys in the map, tombstones included; for tests of the memory bound. */
    int storedKeys() {
        return map.size();
    }

    /** A captured state and its writer. The apply thread adds pre-images; the writer reads them. */
    private static final class Capture implements SnapshotWriter {
        static final int CAPTURED = 0;
        static final int WRITING = 1;
        static final int DONE = 2;
        static final int SUPERSEDED = 3;

        final ConcurrentHashMap<String, byte[]> live;
        /** Each key changed since the capture, with its value at the capture ({@link #ABSENT} if it had none). */
        final ConcurrentHashMap<String, byte[]> preImages = new ConcurrentHashMap<>();

        final AtomicInteger state = new AtomicInteger(CAPTURED);

        Capture(ConcurrentHashMap<String, byte[]> live) {
            this.live = live;
        }

        /** Apply thread, before the first change of {@code key} since the capture. */
        void savePreImage(String key, byte[] stored) {
            byte[] value = valueOf(stored);
            preImages.putIfAbsent(key, value == null ? ABSENT : value);
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            if (!state.compareAndSet(CAPTURED, WRITING)) {
                throw new IllegalStateException(
                        state.get() == SUPERSEDED
                                ? "this snapshot was superseded by a newer capture before it was written"
                                : "this snapshot writer has run already");
            }
            try {
                DataOutputStream d = new DataOutputStream(new BufferedOutputStream(out, BUFFER_BYTES));
                // Flushed, never closed: the stream is the replica's.
                d.writeInt(FORMAT_MAGIC);
                d.writeInt(FORMAT_VERSION);
                long records = 0;
                for (Map.Entry<String, byte[]> e : live.entrySet()) {
                    // The live value first, then the pre-image: a change is saved before it is made.
                    byte[] value = e.getValue();
                    byte[] preImage = preImages.get(e.getKey());
                    byte[] captured = preImage != null ? preImage : value;
                    if (captured == ABSENT || captured == TOMBSTONE) {
                        continue; // created after the capture (or deleted before it)
                    }
                    writeRecord(d, e.getKey(), captured);
                    records++;
                }
                d.writeInt(END_OF_RECORDS);
                d.writeLong(records);
                d.flush();
            } finally {
                state.set(DONE);
            }
        }

        private static void writeRecord(DataOutputStream d, String key, byte[] value) throws IOException {
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            d.writeInt(k.length);
            d.write(k);
            d.writeInt(value.length);
            d.write(value);
        }
    }

    /** Reads a whole snapshot; see the class comment for what it rejects. */
    private static ConcurrentHashMap<String, byte[]> read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(new BufferedInputStream(in, BUFFER_BYTES));
        int magic = readInt(d, "the header");
        if (magic != FORMAT_MAGIC) {
            throw new IOException(
                    String.format("not a key-value snapshot: magic 0x%08X, expected 0x%08X", magic, FORMAT_MAGIC));
        }
        int version = readInt(d, "the header");
        if (version != FORMAT_VERSION) {
            throw new IOException("unsupported key-value snapshot version " + version + " (this build reads version "
                    + FORMAT_VERSION + ")");
        }
        ConcurrentHashMap<String, byte[]> map = new ConcurrentHashMap<>();
        long records = 0;
        while (true) {
            int keyLength = readInt(d, "record " + records);
            if (keyLength == END_OF_RECORDS) {
                break;
            }
            if (keyLength < 0) {
                throw new IOException("negative key length " + keyLength + " in record " + records);
            }
            String key = utf8(readBytes(d, keyLength, "the key of record " + records), records);
            int valueLength = readInt(d, "record " + records);
            if (valueLength < 0) {
                throw new IOException("negative value length " + valueLength + " in record " + records);
            }
            byte[] value = readBytes(d, valueLength, "the value of record " + records);
            if (map.put(key, value) != null) {
                throw new IOException("duplicate key in record " + records);
            }
            records++;
        }
        long count;
        try {
            count = d.readLong();
        } catch (EOFException e) {
            throw new IOException("truncated key-value snapshot: the record count after the end marker is missing", e);
        }
        if (count != records) {
            throw new IOException("the key-value snapshot says it has " + count + " records but holds " + records);
        }
        if (d.read() != -1) {
            throw new IOException("bytes after the end of the key-value snapshot");
        }
        return map;
    }

    private static int readInt(DataInputStream d, String where) throws IOException {
        try {
            return d.readInt();
        } catch (EOFException e) {
            throw new IOException("truncated key-value snapshot: it ends in " + where, e);
        }
    }

    /** Reads exactly {@code n} bytes; never allocates more than what the stream holds, whatever {@code n} says. */
    private static byte[] readBytes(DataInputStream d, int n, String what) throws IOException {
        byte[] b = d.readNBytes(n);
        if (b.length != n) {
            throw new IOException(
                    "truncated key-value snapshot: " + what + " has " + b.length + " of its " + n + " bytes");
        }
        return b;
    }

    private static String utf8(byte[] b, long record) throws IOException {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IOException("the key of record " + record + " is not UTF-8", e);
        }
    }
}
