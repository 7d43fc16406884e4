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
package dev.tenure.replicator;

import com.google.common.base.Preconditions;

/**
 * When a replica snapshots its state machine (if the state machine {@link StateMachine#supportsSnapshots() supports
 * snapshots}). A snapshot is taken once the entries applied since the last one reach {@link #entries()} or their
 * bytes reach {@link #bytes()}, each threshold lowered by a random fraction of up to {@link #randomSpread()} drawn
 * afresh after every snapshot, so that replicas do not all snapshot at the same moment (ZooKeeper's {@code
 * snapCount/2 + rand(snapCount/2)}); and, if {@link #onStop()}, when the replica closes.
 *
 * <p>Immutable and thread-safe. The constructor throws {@link IllegalArgumentException} for a threshold below 1 or a
 * spread outside [0, 1).
 *
 * @param entries applied entries between snapshots (default 100,000, as etcd's {@code SnapshotCount})
 * @param bytes applied payload bytes between snapshots (default 64 MiB)
 * @param randomSpread the largest fraction by which a threshold is randomly lowered, in [0, 1) (default 0.5)
 * @param onStop whether {@link Replica#close()} takes a snapshot of what was applied since the last one (default
 *     true), so that the next start replays less
 */
public record SnapshotPolicy(long entries, long bytes, double randomSpread, boolean onStop) {
    /** Default {@link #entries()}. */
    public static final long DEFAULT_ENTRIES = 100_000;
    /** Default {@link #bytes()}. */
    public static final long DEFAULT_BYTES = 64L << 20;

    /** Checks the thresholds and the spread. */
    public SnapshotPolicy {
        Preconditions.checkArgument(entries >= 1, "entries must be >= 1, was %s", entries);
        Preconditions.checkArgument(bytes >= 1, "bytes must be >= 1, was %s", bytes);
        Preconditions.checkArgument(
                randomSpread >= 0 && randomSpread < 1, "randomSpread must be in [0, 1), was %s", randomSpread);
    }

    /** The defaults: 100,000 entries, 64 MiB, a spread of 0.5, a snapshot on stop. */
    public static SnapshotPolicy defaults() {
        return new SnapshotPolicy(DEFAULT_ENTRIES, DEFAULT_BYTES, 0.5, true);
    }

    /** This policy with {@code n} {@link #entries()}. */
    public SnapshotPolicy withEntries(long n) {
        return new SnapshotPolicy(n, bytes, randomSpread, onStop);
    }

    /** This policy with {@code n} {@link #bytes()}. */
    public SnapshotPolicy withBytes(long n) {
        return new SnapshotPolicy(entries, n, randomSpread, onStop);
    }

    /** This policy with {@link #randomSpread()} {@code spread}. */
    public SnapshotPolicy withRandomSpread(double spread) {
        return new SnapshotPolicy(entries, bytes, spread, onStop);
    }

    /** This policy with {@link #onStop()} {@code on}. */
    public SnapshotPolicy withOnStop(boolean on) {
        return new SnapshotPolicy(entries, bytes, randomSpread, on);
    }
}
