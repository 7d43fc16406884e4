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
package dev.tenure.replicator.testing;

import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.core.SnapshotMeta;
import dev.tenure.replicator.core.SnapshotStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A {@link SnapshotStore} in memory, durable across simulated crashes (which keep the object): it keeps the two
 * newest snapshots, as {@code FileSnapshotStore} does, in a format of its own with a CRC32C over each whole "file",
 * so an install checks what it received as a file store would. For tests.
 *
 * <p>Thread-safe: every method synchronises on the store.
 */
public final class InMemorySnapshotStore implements SnapshotStore {
    /** A kept snapshot: its header, its bytes, and where the state is in them. */
    // Never compared: the store reads its fields.
    @SuppressWarnings("ArrayRecordComponent")
    private record Kept(SnapshotMeta meta, byte[] bytes, int stateFrom, int stateTo) {}

    /** Oldest first; at most two. */
    private final List<Kept> kept = new ArrayList<>();

    private ByteArrayOutputStream partial;
    private SnapshotId partialId;
    private long partialSize;

    @Override
    public synchronized Optional<SnapshotMeta> latest() {
        return kept.isEmpty()
                ? Optional.empty()
                : Optional.of(kept.get(kept.size() - 1).meta());
    }

    @Override
    public synchronized Optional<SnapshotMeta> oldestKept() {
        return kept.isEmpty() ? Optional.empty() : Optional.of(kept.get(0).meta());
    }

    private Optional<Kept> find(SnapshotId id) {
        return kept.stream().filter(k -> k.meta().id().equals(id)).findFirst();
    }

    @Override
    public synchronized Optional<byte[]> read(SnapshotId id, long position, int maxBytes) {
        return find(id).map(k -> {
            if (position < 0 || position > k.bytes().length) {
                throw new IllegalArgumentException("position " + position + " outside snapshot " + id);
            }
            return Arrays.copyOfRange(k.bytes(), (int) position, (int) Math.min(k.bytes().length, position + maxBytes));
        });
    }

    @Override
    public synchronized void beginInstall(SnapshotId id, long sizeBytes) {
        partial = new ByteArrayOutputStream();
        partialId = id;
        partialSize = sizeBytes;
    }

    @Override
    public synchronized void writeInstallChunk(long position, byte[] data) {
        if (partial == null) {
            throw new IllegalStateException("no install in progress");
        }
        if (position != partial.size() || position + data.length > partialSize) {
            throw new IllegalArgumentException(
                    "chunk at " + position + " of " + data.length + " bytes does not follow " + partial.size());
        }
        partial.write(data, 0, data.length);
    }

    @Override
    public synchronized SnapshotMeta completeInstall() throws IOException {
        if (partial == null) {
            throw new IllegalStateException("no install in progress");
        }
        byte[] bytes = partial.toByteArray();
        SnapshotId expected = partialId;
        partial = null;
        if (bytes.length != partialSize) {
            throw new CorruptSnapshotException(
                    "install of " + expected + " has " + bytes.length + " bytes of " + partialSize);
        }
        Kept k = parse(bytes);
        if (!k.meta().id().equals(expected)) {
            throw new CorruptSnapshotException("received snapshot " + k.meta().id() + " instead of " + expected);
        }
        keep(k);
        return k.meta();
    }

    @Override
    public synchronized void abortInstall() {
        partial = null;
    }

    @Override
    public SnapshotMeta write(SnapshotId id, EpochHistory history, List<String> members, StateWriter state)
            throws IOException {
        ByteArrayOutputStream stateBytes = new ByteArrayOutputStream();
        state.writeTo(stateBytes);
        Kept k = parse(encode(id, history, members, stateBytes.toByteArray()));
        synchronized (this) {
            keep(k);
        }
        return k.meta();
    }

    @Override
    public synchronized InputStream openState(SnapshotId id) throws IOException {
        Kept k = find(id).orElseThrow(() -> new IOException("no snapshot " + id));
        return new ByteArrayInputStream(k.bytes(), k.stateFrom(), k.stateTo() - k.stateFrom());
    }

    /** Flips one bit of the newest snapshot's bytes (a corrupt file), for tests of what refuses it. */
    public synchronized void corruptLatest() {
        Kept k = kept.get(kept.size() - 1);
        k.bytes()[k.bytes().length / 2] ^= 1;
    }

    private void keep(Kept k) {
        kept.removeIf(o -> o.meta().id().equals(k.meta().id()));
        kept.add(k);
        kept.sort((a, b) -> a.meta().id().compareTo(b.meta().id()));
        while (kept.size() > 2) {
            kept.remove(0);
        }
    }

    private static byte[] encode(SnapshotId id, EpochHistory history, List<String> members, byte[] state) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeLong(id.offset());
            out.writeLong(id.epoch());
            out.writeInt(history.starts().size());
            for (EpochHistory.Start s : history.starts()) {
                out.writeLong(s.epoch());
                out.writeLong(s.startOffset());
            }
            out.writeInt(members.size());
            for (String m : members) {
                out.writeUTF(m);
            }
            out.writeInt(state.length);
            out.write(state);
            CRC32C crc = new CRC32C();
            crc.update(bytes.toByteArray());
            out.writeInt((int) crc.getValue());
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Kept parse(byte[] bytes) throws CorruptSnapshotException {
        try {
            CRC32C crc = new CRC32C();
            crc.update(bytes, 0, bytes.length - 4);
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
            SnapshotId id = new SnapshotId(in.readLong(), in.readLong());
            List<EpochHistory.Start> starts = new ArrayList<>();
            for (int n = in.readInt(); n > 0; n--) {
                starts.add(new EpochHistory.Start(in.readLong(), in.readLong()));
            }
            List<String> members = new ArrayList<>();
            for (int n = in.readInt(); n > 0; n--) {
                members.add(in.readUTF());
            }
            int stateLength = in.readInt();
            int stateFrom = bytes.length - 4 - stateLength;
            in.skipNBytes(stateLength);
            if (in.readInt() != (int) crc.getValue() || in.available() != 0) {
                throw new CorruptSnapshotException("snapshot " + id + " fails its CRC");
            }
            return new Kept(
                    new SnapshotMeta(id, EpochHistory.of(starts), members, bytes.length),
                    bytes,
                    stateFrom,
                    bytes.length - 4);
        } catch (CorruptSnapshotException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new CorruptSnapshotException("snapshot bytes are malformed: " + e);
        }
    }
}
