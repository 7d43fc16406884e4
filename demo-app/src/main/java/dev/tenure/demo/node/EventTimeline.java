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
package dev.tenure.demo.node;

import dev.tenure.demo.http.NodeObservations;
import dev.tenure.replicator.ReplicaListener;
import dev.tenure.replicator.core.SnapshotId;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The status page's timeline: the last 100 events of one replica, oldest first. It hears of lost majorities,
 * suspected leaders (fast failover), fencing, snapshots installed, and refused stale messages and snapshots taken (each at most one entry a second) as a
 * {@link ReplicaListener}; the node adds what it sees by sampling (role and epoch changes, followers catching up).
 * Thread-safe.
 */
final class EventTimeline implements ReplicaListener {
    private static final int CAPACITY = 100;

    private final long quorumTimeoutMs;
    private final Deque<NodeObservations.Event> events = new ArrayDeque<>();
    private volatile long lastStaleEvent;
    private volatile long lastSnapshotEvent;

    /** @param quorumTimeoutMs how long a leader waits for a majority before it gives its term up (for the text) */
    EventTimeline(long quorumTimeoutMs) {
        this.quorumTimeoutMs = quorumTimeoutMs;
        long longAgo = System.nanoTime() - 2_000_000_000L; // the first event of each kind is recorded
        this.lastStaleEvent = longAgo;
        this.lastSnapshotEvent = longAgo;
    }

    synchronized void add(String text) {
        events.addLast(new NodeObservations.Event(Instant.now(), text));
        while (events.size() > CAPACITY) {
            events.removeFirst();
        }
    }

    /** Recent events, oldest first. */
    synchronized List<NodeObservations.Event> events() {
        return List.copyOf(events);
    }

    @Override
    public void quorumLost(long epoch) {
        add("no majority answered within " + quorumTimeoutMs + " ms: gave up epoch " + epoch);
    }

    @Override
    public void leaderSuspected(long epoch, String leader) {
        add("suspected leader " + leader + " of epoch " + epoch + ": heard nothing from it for the suspicion timeout"
                + " (fast failover deposes it once a majority suspects it)");
    }

    @Override
    public void fenced(long epoch, long newerEpoch) {
        add("epoch " + epoch + " fenced by epoch " + newerEpoch + ": stopped leading");
    }

    @Override
    public void staleEpochRefused(String from, long staleEpoch, long promisedEpoch) {
        long now = System.nanoTime();
        if (now - lastStaleEvent > 1_000_000_000L) { // at most one timeline entry a second
            lastStaleEvent = now;
            add("refused an epoch-" + staleEpoch + " message from " + from + " (promised epoch " + promisedEpoch + ")");
        }
    }

    @Override
    public void snapshotTaken(SnapshotId snapshot, long sizeBytes, long nanos) {
        long now = System.nanoTime();
        if (now - lastSnapshotEvent > 1_000_000_000L) { // at most one timeline entry a second
            lastSnapshotEvent = now;
            add("took snapshot at offset " + snapshot.offset() + " (epoch " + snapshot.epoch() + ", " + sizeBytes
                    + " bytes, " + nanos / 1_000_000 + " ms)");
        }
    }

    @Override
    public void snapshotInstalled(SnapshotId snapshot, long sizeBytes) {
        add("installed snapshot at offset " + snapshot.offset() + " (epoch " + snapshot.epoch() + ", " + sizeBytes
                + " bytes) from another replica");
    }
}
