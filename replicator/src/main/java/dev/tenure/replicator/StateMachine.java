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

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The application's replicated state. The replica hands it every committed entry, in offset order,
 * exactly once per replica lifetime: after a restart it replays from {@link #appliedOffset()}.
 *
 * <p>It must be deterministic: the same entries in the same order give the same state and results on
 * every replica (no clocks, no randomness, no local files consulted). Called by the replica's apply lane only:
 * one call at a time, in order, each seeing the effects of the ones before. That is the apply thread, except that a
 * replica with threads of its own applies a few entries on the thread that committed them when the apply thread is
 * idle and applies have been quick (under 50 µs a batch on average), saving a thread hand-off; so do not rely on the
 * thread's identity (a thread-local, for example). Reads from other threads need the state machine's own
 * synchronisation.
 *
 * <h2>Snapshots</h2>
 *
 * A state machine that {@link #supportsSnapshots() supports snapshots} lets the replica keep its log short: the
 * replica snapshots the state now and then ({@link SnapshotPolicy}), deletes the log below it (less a catch-up
 * tail), restarts from the newest snapshot plus the entries after it, and brings a follower that lags behind the log
 * start up to date by sending it a snapshot, which it {@link #restore restores}. One that does not keeps the behaviour
 * of a replica without snapshots: the log is never compacted, a restart replays it from {@link #appliedOffset()},
 * and followers catch up from the log.
 */
public interface StateMachine {
    /**
     * Applies one committed entry.
     *
     * @param epoch the epoch the entry was written in
     * @param offset its offset
     * @param payload its payload (do not modify)
     * @return a result for the proposer (for example whether a compare-and-set matched), or null
     * @throws RuntimeException never for an entry it can apply; a throw stops the replica for good (fail-stop:
     *     it leaves the election, fails pending requests with {@link ReplicationException.ReplicaFailedException}
     *     and reports {@link dev.tenure.replicator.core.Role#FAILED}), since the state is unknown afterwards.
     *     Reject bad commands with a result instead, deterministically on every replica.
     */
    Object apply(long epoch, long offset, byte[] payload);

    /**
     * The offset from which to replay after a start: entries below it are already part of the state (a
     * state machine that keeps its state durably returns its last applied offset + 1). 0 by default: an
     * in-memory state machine replays the whole log.
     *
     * <p>A state machine may persist its applied offset whenever it likes: an entry is handed to {@link #apply}
     * only once it is committed <em>and</em> durable in this replica's own log, so a crash, even a power loss,
     * never leaves the log shorter than the persisted applied offset.
     */
    default long appliedOffset() {
        return 0;
    }

    /**
     * Whether this state machine writes and restores snapshots ({@link #snapshot()}, {@link #restore}). False by
     * default: the replica then never snapshots and never compacts its log.
     */
    default boolean supportsSnapshots() {
        return false;
    }

    /**
     * Captures the state as of the last applied entry, for a snapshot. Called on the apply thread between two
     * {@link #apply} calls, so the capture sees one consistent state; it must be quick, since applying waits for it.
     * The returned writer streams the captured state later, on the replica's snapshot thread, while applying goes on:
     * capture with copy-on-write, an immutable structure or a storage engine's own snapshot, not a copy of the state
     * (the demo's key-value store keeps the previous value of each key changed while a writer runs).
     *
     * <p>The writer's output is what {@link #restore} reads, on this replica or another one. A writer that throws
     * fails the snapshot only: the replica logs it, keeps its previous snapshot and tries again at the next trigger.
     *
     * @throws UnsupportedOperationException unless {@link #supportsSnapshots()}
     */
    default SnapshotWriter snapshot() {
        throw new UnsupportedOperationException("this state machine does not take snapshots");
    }

    /**
     * Replaces the whole state with the one a {@link SnapshotWriter} wrote: at start-up, from the newest snapshot, when
     * the state machine's own {@link #appliedOffset()} is behind it; and when a snapshot is installed from another
     * replica. Called on the apply thread; the next entry applied is the one at {@code offset}. A state machine that
     * keeps its state durably records {@code offset} as applied.
     *
     * @param offset the snapshot's offset: every entry below it is part of the state read
     * @param in the state, as written; the stream ends where the writer's output ended
     * @throws IOException if the state cannot be read: the replica stops (fail-stop), since its state is unknown
     * @throws UnsupportedOperationException unless {@link #supportsSnapshots()}
     */
    default void restore(long offset, InputStream in) throws IOException {
        throw new UnsupportedOperationException("this state machine does not restore snapshots");
    }

    /** Streams a captured state; see {@link StateMachine#snapshot()}. */
    @FunctionalInterface
    interface SnapshotWriter {
        /** Writes the state; called once, on the replica's snapshot thread. Does not close {@code out}. */
        void writeTo(OutputStream out) throws IOException;
    }
}
