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
package dev.tenure.checker;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One client line of a history: the invocation or the completion of one operation by one client process.
 * Immutable and thread-safe; the constructor rejects inconsistent fields (a read invoke with a value, an epoch
 * without an offset, ...) with an {@link IllegalArgumentException}. Lines of other processes (the nemesis) are
 * {@link NonClientEvent}s.
 *
 * <p>The wire form (see {@link HistoryReader}) is {@code {"process":3,"type":"ok","f":"write","key":"k1",
 * "value":"v7","time":123,"epoch":2,"offset":41}}. In this record the {@code value} field is split by meaning:
 *
 * <ul>
 *   <li>{@code read}: {@link #value()} is null on the invoke; on an {@code ok} it is the value read, null meaning
 *       absent.
 *   <li>{@code write}: {@link #value()} is the value written.
 *   <li>{@code cas}: {@link #expected()} is the expected value (null = absent) and {@link #value()} the new value;
 *       on the wire they are {@code [expected, new]}.
 *   <li>{@code delete}: no value.
 * </ul>
 *
 * <p>On a completion of a write, cas or delete the arguments may be omitted (null); the operation's arguments are
 * always taken from its invoke.
 *
 * @param process the client process (an integer on the wire); it has at most one operation outstanding
 * @param type invoke or one of the three completions
 * @param f the operation
 * @param key the key operated on
 * @param value see above
 * @param expected the expected value of a cas (null = absent); null for every other operation
 * @param time monotonic nanoseconds; events of a history are in non-decreasing time order
 * @param epoch the epoch the service reported for an {@code ok} write, cas or delete, if any
 * @param offset the offset the service reported for an {@code ok} write, cas or delete, if any
 */
public record Event(
        int process,
        Type type,
        F f,
        String key,
        String value,
        String expected,
        long time,
        OptionalLong epoch,
        OptionalLong offset) {

    /** Whether the line is an invocation or which completion it is. */
    public enum Type {
        /** The operation was sent. */
        INVOKE,
        /** The operation took effect (a read returned {@link #value()}). */
        OK,
        /** The operation definitely did not take effect. */
        FAIL,
        /**
         * Unknown: the operation may take effect at any time after its invoke, or never. The process's operation is
         * over; it may invoke again.
         */
        INFO;

        /** The name used on the wire. */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The operation, as in Jepsen's {@code :f}. */
    public enum F {
        /** Reads the key's value (null = absent). */
        READ,
        /** Sets the key's value. */
        WRITE,
        /** Sets the key's value if it is the expected one (null = absent). */
        CAS,
        /** Removes the key. */
        DELETE;

        /** The name used on the wire. */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** True for write, cas and delete: the operations that can change the register. */
        public boolean isMutation() {
            return this != READ;
        }
    }

    /** Validates the fields; see the class comment. */
    public Event {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(epoch, "epoch");
        Objects.requireNonNull(offset, "offset");
        if (epoch.isPresent() != offset.isPresent()) {
            throw new IllegalArgumentException("epoch and offset come together");
        }
        if (f != F.CAS && expected != null) {
            throw new IllegalArgumentException("only a cas has an expected value");
        }
        if (type == Type.INVOKE) {
            if (f == F.READ && value != null) {
                throw new IllegalArgumentException("a read invoke carries no value");
            }
            if ((f == F.WRITE || f == F.CAS) && value == null) {
                throw new IllegalArgumentException("a " + f.wireName() + " invoke needs the value it writes");
            }
        }
        if (epoch.isPresent() && type != Type.OK) {
            throw new IllegalArgumentException("only an ok completion carries a position");
        }
        if (f == F.DELETE && value != null) {
            throw new IllegalArgumentException("a delete carries no value");
        }
    }

    /** The invocation of a read, write or delete ({@code value} is the written value; null for read and delete). */
    public static Event invoke(int process, F f, String key, String value, long time) {
        if (f == F.CAS) {
            throw new IllegalArgumentException("use invokeCas for a cas");
        }
        return new Event(process, Type.INVOKE, f, key, value, null, time, OptionalLong.empty(), OptionalLong.empty());
    }

    /** The invocation of a compare-and-set of {@code key} from {@code expected} (null = absent) to {@code update}. */
    public static Event invokeCas(int process, String key, String expected, String update, long time) {
        return new Event(
                process, Type.INVOKE, F.CAS, key, update, expected, time, OptionalLong.empty(), OptionalLong.empty());
    }

    /**
     * The completion of this invocation, with the same arguments (for a read: no value; use {@link #withValue} for
     * the value an {@code ok} read returned).
     */
    public Event completion(Type completion, long time) {
        if (type != Type.INVOKE) {
            throw new IllegalStateException("only an invoke has a completion: " + this);
        }
        if (completion == Type.INVOKE) {
            throw new IllegalArgumentException("a completion is ok, fail or info");
        }
        return new Event(
                process,
                completion,
                f,
                key,
                f == F.READ ? null : value,
                expected,
                time,
                OptionalLong.empty(),
                OptionalLong.empty());
    }

    /** This event with {@link #value()} replaced, e.g. the value an {@code ok} read returned (null = absent). */
    public Event withValue(String newValue) {
        return new Event(process, type, f, key, newValue, expected, time, epoch, offset);
    }

    /** This event with the position the service reported for it. */
    public Event withPosition(long newEpoch, long newOffset) {
        return new Event(
                process, type, f, key, value, expected, time, OptionalLong.of(newEpoch), OptionalLong.of(newOffset));
    }

    /** This event at another time. */
    public Event atTime(long newTime) {
        return new Event(process, type, f, key, value, expected, newTime, epoch, offset);
    }

    /** The wire form, one JSON object without a line terminator. */
    @Override
    public String toString() {
        return EventJson.encode(this);
    }
}
