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
package dev.tenure.bench;

import dev.tenure.replicator.StateMachine;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark's key-value state machine: an entry's first 4 bytes are the key (a big-endian int), the rest its
 * value; the state maps each key to its latest value. Used by the snapshot sections, with or without snapshots.
 *
 * <p>Capture for a snapshot: a shallow copy of the key-to-value map on the apply thread. The values are never
 * modified after they are stored (an overwrite stores a new array), so the copy shares them; what the apply thread
 * pays is one reference per key (the longest capture is reported as {@link #captureMaxMicros()}), not a copy of the
 * values. The snapshot thread then streams the copy: {@code int count},
 * then per key {@code int key, int length, bytes}.
 *
 * <p>Thread-safety: {@link #apply}, {@link #snapshot} and {@link #restore} run on the replica's apply thread, as
 * {@link StateMachine} says; the returned writer on the snapshot thread reads only its own copy; {@link #keys()} and
 * the capture figures may be read from any thread. A malformed entry (shorter than 4 bytes) is ignored, on every
 * replica alike.
 */
final class KeyValueStateMachine implements StateMachine {
    static final int KEY_BYTES = 4;

    private final boolean snapshots;
    private final HashMap<Integer, byte[]> map = new HashMap<>();
    private volatile int keys;
    private final AtomicLong captureMaxNanos = new AtomicLong();
    private final AtomicLong captures = new AtomicLong();

    /** @param snapshots whether it {@linkplain #supportsSnapshots() supports snapshots} */
    KeyValueStateMachine(boolean snapshots) {
        this.snapshots = snapshots;
    }

    /** Writes {@code key} into the first {@link #KEY_BYTES} bytes of {@code payload}. */
    static void putKey(byte[] payload, int key) {
        payload[0] = (byte) (key >>> 24);
        payload[1] = (byte) (key >>> 16);
        payload[2] = (byte) (key >>> 8);
        payload[3] = (byte) key;
    }

    @Override
    public Object apply(long epoch, long offset, byte[] payload) {
        if (payload.length < KEY_BYTES) {
            return null;
        }
        int key = ((payload[0] & 0xff) << 24)
                | ((payload[1] & 0xff) << 16)
                | ((payload[2] & 0xff) << 8)
                | (payload[3] & 0xff);
        map.put(key, Arrays.copyOfRange(payload, KEY_BYTES, payload.length));
        keys = map.size();
        return null;
    }

    @Override
    public boolean supportsSnapshots() {
        return snapshots;
    }

    @Override
    public SnapshotWriter snapshot() {
        if (!snapshots) {
            throw new UnsupportedOperationException("snapshots are off");
        }
        long start = System.nanoTime();
        Map<Integer, byte[]> copy = new HashMap<>(map);
        captureMaxNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
        captures.incrementAndGet();
        return out -> {
            DataOutputStream data = new DataOutputStream(new BufferedOutputStream(out, 1 << 16));
            data.writeInt(copy.size());
            for (Map.Entry<Integer, byte[]> e : copy.entrySet()) {
                data.writeInt(e.getKey());
                data.writeInt(e.getValue().length);
                data.write(e.getValue());
            }
            data.flush(); // not closed: the caller owns out
        };
    }

    @Override
    public void restore(long offset, InputStream in) throws IOException {
        if (!snapshots) {
            throw new UnsupportedOperationException("snapshots are off");
        }
        map.clear();
        DataInputStream data = new DataInputStream(new BufferedInputStream(in, 1 << 16));
        int n = data.readInt();
        for (int i = 0; i < n; i++) {
            int key = data.readInt();
            byte[] value = new byte[data.readInt()];
            data.readFully(value);
            map.put(key, value);
        }
        keys = map.size();
    }

    /** Keys held now. */
    int keys() {
        return keys;
    }

    /** The longest capture so far, in microseconds (the time applying waited for it). */
    long captureMaxMicros() {
        return captureMaxNanos.get() / 1000;
    }

    /** Captures taken so far. */
    long captures() {
        return captures.get();
    }
}
