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

import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One operation of a {@link History}: a client's invoke paired with its completion. Immutable and thread-safe; the
 * constructor rejects a null field or an {@code invoke} outcome with an exception.
 *
 * <p>Its real-time interval is {@code [invokeTime, completeTime]} for an {@code ok} or {@code fail} operation and
 * {@code [invokeTime, +infinity)} for an {@code info} one (see {@link #intervalEnd()}): an operation whose outcome
 * is unknown may take effect at any point after its invoke, or never. An invoke the history never completes is an
 * {@code info} operation with no completion line.
 *
 * @param id the position of the operation's invoke among all invokes of the history, from 0
 * @param process the process that invoked it
 * @param f the operation
 * @param key the key
 * @param value read: the value returned ({@code ok} only; null = absent); write: the value written; cas: the new
 *     value; delete: null
 * @param expected cas: the expected value (null = absent); null otherwise
 * @param outcome {@link Event.Type#OK}, {@link Event.Type#FAIL} or {@link Event.Type#INFO}
 * @param invokeTime the time of the invoke
 * @param completeTime the time of the completion event, or {@link Long#MAX_VALUE} if there is none
 * @param epoch the epoch reported by an {@code ok} completion, if any
 * @param offset the offset reported by an {@code ok} completion, if any
 * @param invokeLine the 1-based line (event number) of the invoke
 * @param completeLine the 1-based line of the completion, or 0 if there is none
 */
public record Operation(
        int id,
        int process,
        Event.F f,
        String key,
        String value,
        String expected,
        Event.Type outcome,
        long invokeTime,
        long completeTime,
        OptionalLong epoch,
        OptionalLong offset,
        int invokeLine,
        int completeLine) {

    /** Checks the fields; an operation's outcome is ok, fail or info, never {@code invoke}. */
    public Operation {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(epoch, "epoch");
        Objects.requireNonNull(offset, "offset");
        if (outcome == Event.Type.INVOKE) {
            throw new IllegalArgumentException("an operation's outcome is ok, fail or info");
        }
    }

    /** True for write, cas and delete. */
    public boolean isMutation() {
        return f.isMutation();
    }

    /** True if it completed {@code ok}. */
    public boolean isOk() {
        return outcome == Event.Type.OK;
    }

    /** True if it completed {@code fail}: it had no effect. */
    public boolean isFail() {
        return outcome == Event.Type.FAIL;
    }

    /** True if it completed {@code info}: its outcome is unknown. */
    public boolean isInfo() {
        return outcome == Event.Type.INFO;
    }

    /** Whether the history has a completion event for this operation. */
    public boolean hasCompletion() {
        return completeLine > 0;
    }

    /**
     * The end of the interval in which the operation may take effect: {@link #completeTime()} for {@code ok} and
     * {@code fail}, {@link Long#MAX_VALUE} for {@code info}.
     */
    public long intervalEnd() {
        return outcome == Event.Type.INFO ? Long.MAX_VALUE : completeTime;
    }

    /** True if this operation's interval ends strictly before {@code other} is invoked (so it is ordered first). */
    public boolean precedes(Operation other) {
        return intervalEnd() < other.invokeTime;
    }

    /**
     * For a mutation, the register's value after it takes effect (null = absent); for a read, the value it
     * returned.
     */
    public String result() {
        return f == Event.F.DELETE ? null : value;
    }

    /** A one-line description with times in milliseconds relative to {@code originNanos}. */
    public String describe(long originNanos) {
        StringBuilder b = new StringBuilder();
        b.append("op#").append(id).append(" p").append(process).append(' ');
        switch (f) {
            case READ -> {
                b.append("read(").append(key).append(')');
                if (outcome == Event.Type.OK) {
                    b.append(" -> ").append(quote(value));
                }
            }
            case WRITE ->
                b.append("write(").append(key).append(", ").append(quote(value)).append(')');
            case CAS ->
                b.append("cas(")
                        .append(key)
                        .append(", ")
                        .append(quote(expected))
                        .append(" -> ")
                        .append(quote(value))
                        .append(')');
            case DELETE -> b.append("delete(").append(key).append(')');
        }
        b.append(' ').append(outcome.wireName());
        if (epoch.isPresent()) {
            b.append(" at ").append(epoch.getAsLong()).append('/').append(offset.getAsLong());
        }
        b.append(" [line ").append(invokeLine);
        if (hasCompletion()) {
            b.append('-').append(completeLine);
        }
        b.append(", t=").append(millis(invokeTime - originNanos)).append("..");
        if (hasCompletion()) {
            b.append(millis(completeTime - originNanos));
        } else {
            b.append(" never completed");
        }
        return b.append(']').toString();
    }

    @Override
    public String toString() {
        return describe(0);
    }

    /** A value for humans: quoted, or {@code absent}. */
    static String quote(String v) {
        return v == null ? "absent" : '"' + v + '"';
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.3fms", nanos / 1e6);
    }
}
