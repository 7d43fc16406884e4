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
package dev.tenure.replicator.core;

import java.util.List;

/**
 * The replication protocol's messages. Every message names its sender, its receiver and an epoch; a
 * receiver that has promised a higher epoch answers {@link Rejected} and acts on nothing else in it. Records: their
 * lists and arrays are not copied, so neither sender nor receiver may modify them; so shared, they are immutable and
 * may cross threads.
 */
public sealed interface Message
        permits Message.NewEpoch,
                Message.EpochAck,
                Message.Rejected,
                Message.Fetch,
                Message.FetchResponse,
                Message.Append,
                Message.AppendAck,
                Message.AppendReject,
                Message.InstallSnapshot,
                Message.FetchSnapshot,
                Message.SnapshotChunk {
    /** The sender's id. */
    String from();

    /** The receiver's id. */
    String to();

    /** The epoch the message is sent in. */
    long epoch();

    /** Leader to all: "promise {@code epoch} to me". */
    record NewEpoch(String from, String to, long epoch) implements Message {}

    /**
     * Follower to leader: promised, durably; its log (synced before this reply) has this history and end.
     */
    record EpochAck(String from, String to, long epoch, EpochHistory history, long logEnd) implements Message {}

    /**
     * Refusal of a message of {@code rejectedEpoch}: the sender has promised {@code epoch} to {@code
     * promisedLeader}.
     */
    record Rejected(String from, String to, long epoch, String promisedLeader, long rejectedEpoch) implements Message {}

    /** A recovering leader asks the replica with the most up-to-date log for entries from {@code fromOffset}. */
    record Fetch(String from, String to, long epoch, long fromOffset, long maxBytes) implements Message {}

    /** Entries from {@code fromOffset}; {@code logEnd} is the responder's log end. */
    record FetchResponse(String from, String to, long epoch, long fromOffset, List<Entry> entries, long logEnd)
            implements Message {}

    /**
     * Leader to follower: entries following the entry at {@code prevOffset} (which must have {@code
     * prevEpoch}; -1 for none), the leader's commit offset, and a probe number the follower echoes.
     */
    record Append(
            String from,
            String to,
            long epoch,
            long prevOffset,
            long prevEpoch,
            List<Entry> entries,
            long commitOffset,
            long probe)
            implements Message {}

    /** The follower's log matches the leader's, durably, up to {@code matchOffset} (exclusive). */
    record AppendAck(String from, String to, long epoch, long matchOffset, long probe) implements Message {}

    /** The follower could not place an append: its log ends at {@code logEnd} or differs at the prev entry. */
    record AppendReject(String from, String to, long epoch, long logEnd, long probe) implements Message {}

    /**
     * "The entries you need are below my log start: pull this snapshot." Sent by a leader to a follower whose next
     * entry it no longer holds, and by a follower to its recovering leader in answer to a {@link Fetch} below its
     * log start.
     */
    record InstallSnapshot(String from, String to, long epoch, SnapshotId snapshot, long sizeBytes)
            implements Message {}

    /** Asks for {@code maxBytes} bytes of a snapshot's file from {@code position}, in the sender's current epoch. */
    record FetchSnapshot(String from, String to, long epoch, SnapshotId snapshot, long position, int maxBytes)
            implements Message {}

    /**
     * Bytes of a snapshot's file from {@code position}; {@code crc} is the CRC32C of {@code data}. The receiver
     * refuses a chunk of another epoch, snapshot or position, or whose data fails its CRC.
     */
    // Never compared: receivers read the fields.
    @SuppressWarnings("ArrayRecordComponent")
    record SnapshotChunk(
            String from,
            String to,
            long epoch,
            SnapshotId snapshot,
            long position,
            long sizeBytes,
            byte[] data,
            int crc)
            implements Message {}
}
