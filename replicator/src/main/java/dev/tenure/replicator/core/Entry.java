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

import java.util.Arrays;
import java.util.Objects;

/**
 * One log entry: its position (epoch, offset), its type and its payload. Immutable; the payload array
 * must not be modified after construction.
 *
 * <p>An entry is identified by (epoch, offset): one epoch has one leader, which assigns each offset once,
 * so two logs holding the same (epoch, offset) hold the same entry and the same prefix before it.
 */
public final class Entry {
    /** An application entry, handed to the state machine once committed. */
    public static final byte DATA = 1;
    /** The first entry a leader appends in its epoch; committing it commits everything before it. */
    public static final byte EPOCH_START = 2;

    private static final byte[] EMPTY = new byte[0];

    private final long epoch;
    private final long offset;
    private final byte type;
    private final byte[] payload;

    /**
     * An entry; a null payload is empty.
     *
     * @throws IllegalArgumentException for an epoch below 1, a negative offset or an unknown type
     */
    public Entry(long epoch, long offset, byte type, byte[] payload) {
        if (epoch <= 0) {
            throw new IllegalArgumentException("epoch must be > 0, was " + epoch);
        }
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0, was " + offset);
        }
        if (type != DATA && type != EPOCH_START) {
            throw new IllegalArgumentException("unknown entry type " + type);
        }
        this.epoch = epoch;
        this.offset = offset;
        this.type = type;
        this.payload = payload == null ? EMPTY : payload;
    }

    /** A data entry carrying {@code payload}. */
    public static Entry data(long epoch, long offset, byte[] payload) {
        return new Entry(epoch, offset, DATA, payload);
    }

    /** The entry a leader writes first in its epoch. */
    public static Entry epochStart(long epoch, long offset) {
        return new Entry(epoch, offset, EPOCH_START, EMPTY);
    }

    /** The epoch it was written in. */
    public long epoch() {
        return epoch;
    }

    /** Its offset in the log. */
    public long offset() {
        return offset;
    }

    /** Its type: {@link #DATA} or {@link #EPOCH_START}. */
    public byte type() {
        return type;
    }

    /** True for a data entry. */
    public boolean isData() {
        return type == DATA;
    }

    /** The payload; callers must not modify it. */
    public byte[] payload() {
        return payload;
    }

    /** Bytes this entry takes in a batch, for size limits (payload plus a fixed header estimate). */
    public int sizeInBytes() {
        return payload.length + 32;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Entry)) {
            return false;
        }
        Entry e = (Entry) o;
        return epoch == e.epoch && offset == e.offset && type == e.type && Arrays.equals(payload, e.payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(epoch, offset, type) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return (type == EPOCH_START ? "start" : "data") + "@" + epoch + ":" + offset + "(" + payload.length + "B)";
    }
}
