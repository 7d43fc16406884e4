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
package dev.tenure.replicator.trace;

import dev.tenure.replicator.core.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A diagnostic probe that follows writes through the replicas' threads: each replica stamps the moment (
 * {@link System#nanoTime()}) an entry passes a {@link Point} of the write path, so that a benchmark running the
 * replicas in one process can tell, hop by hop, where a write's latency goes (issue 20).
 *
 * <p>Off unless the JVM runs with {@code -Dtenure.writeTrace=true}: {@link #ENABLED} is a constant then read once,
 * and every call site tests it first, so the JIT removes the probe from the write path when it is off. When on, it
 * keeps the first {@value #CAPACITY} stamps after the last {@link #reset()} and drops the rest: run it over a short
 * stretch of writes.
 *
 * <p>Thread-safe: stamps may come from any thread; {@link #stamps()} returns those completely written.
 */
public final class WriteTrace {
    /** Whether the probe records: {@code -Dtenure.writeTrace=true}. */
    public static final boolean ENABLED = Boolean.getBoolean("tenure.writeTrace");

    /** Stamps kept after a reset; later ones are dropped. */
    public static final int CAPACITY = 1 << 18;

    /** Where on the write path a stamp is taken, in the order an entry passes them at one write in flight. */
    public enum Point {
        /** Leader, caller's thread: {@code propose} was called. */
        PROPOSED,
        /** Leader, event thread: the proposal is handed to the core. */
        TAKEN,
        /** Leader, event thread: the core appended it to the log (a write to the page cache). */
        APPENDED,
        /** Transport thread: the frame carrying it is written to the socket (Append on the leader, ack on a follower). */
        WRITTEN,
        /** Follower, transport thread: the Append carrying it is decoded. */
        RECEIVED,
        /** Follower, event thread: the core handles the Append (and appends). */
        HANDLED,
        /** Leader or follower: a sync that covers it starts (sync thread, or a follower's event thread). */
        SYNC_START,
        /** Leader or follower: that sync returned (the entry is durable here). */
        SYNC_END,
        /** Leader or follower, event thread: the core learns of that sync. */
        SYNC_HANDLED,
        /** Leader, transport thread: the follower's acknowledgement of it is decoded. */
        ACK_RECEIVED,
        /** Leader, event thread: the core handles that acknowledgement. */
        ACK_HANDLED,
        /** Leader, event thread: the entry is committed and handed to the apply thread. */
        COMMITTED,
        /** Leader, apply thread: applying it starts. */
        APPLY_START,
        /** Leader, apply thread: its proposal's future is completed. */
        COMPLETED
    }

    /**
     * One stamp.
     *
     * @param replica the replica that took it
     * @param point where
     * @param offset the entry's offset
     * @param nanos when ({@link System#nanoTime()})
     * @param thread the name of the thread that took it
     */
    public record Stamp(String replica, Point point, long offset, long nanos, String thread) {}

    private static final Stamp[] STAMPS = new Stamp[ENABLED ? CAPACITY : 0];
    private static final AtomicInteger NEXT = new AtomicInteger();

    private WriteTrace() {}

    /** Records that {@code offset} passed {@code point} at {@code replica} now; call only if {@link #ENABLED}. */
    public static void stamp(String replica, Point point, long offset) {
        stamp(replica, point, offset, System.nanoTime());
    }

    /** Records that {@code offset} passed {@code point} at {@code replica} at {@code nanos}. */
    public static void stamp(String replica, Point point, long offset, long nanos) {
        if (!ENABLED || offset < 0) {
            return;
        }
        int i = NEXT.getAndIncrement();
        if (i < CAPACITY) {
            STAMPS[i] = new Stamp(
                    replica, point, offset, nanos, Thread.currentThread().getName());
        }
    }

    /**
     * Records, for each entry a replication message carries ({@link Message.Append}) or acknowledges ({@link
     * Message.AppendAck}: the entry just below its match offset), that it passed {@code point}; other messages are
     * ignored.
     */
    public static void stamp(String replica, Point point, Message message) {
        if (!ENABLED) {
            return;
        }
        long now = System.nanoTime();
        if (message instanceof Message.Append a) {
            for (var e : a.entries()) {
                stamp(replica, point, e.offset(), now);
            }
        } else if (message instanceof Message.AppendAck ack) {
            stamp(replica, point, ack.matchOffset() - 1, now);
        }
    }

    /** Forgets every stamp. */
    public static void reset() {
        if (ENABLED) {
            int n = Math.min(NEXT.get(), CAPACITY);
            for (int i = 0; i < n; i++) {
                STAMPS[i] = null;
            }
            NEXT.set(0);
        }
    }

    /** The stamps recorded since the last reset, in no particular order. */
    public static List<Stamp> stamps() {
        List<Stamp> all = new ArrayList<>();
        int n = Math.min(NEXT.get(), CAPACITY);
        for (int i = 0; i < n; i++) {
            Stamp s = STAMPS[i];
            if (s != null) {
                all.add(s);
            }
        }
        return all;
    }
}
