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

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * Appends client events to a history in the JSON Lines form {@link HistoryReader} reads. Thread-safe: clients of the
 * harness append from many threads; each event is validated, written and flushed under one lock, so the file is
 * always a well-formed prefix of the history.
 *
 * <p>Use {@link #record(LongFunction)} rather than {@link #append(Event)} to take the timestamp: it reads the clock
 * under the lock, so events are written in time order. Take it <em>before</em> sending a request (invoke) and
 * <em>after</em> its response arrived (completion); an interval that is too wide only makes the checker more
 * permissive, one that is too narrow can make it report a violation that did not happen.
 *
 * <p>Failure behaviour: an event that does not fit the history so far (time going backwards, a second invoke for a
 * process, a completion without an invoke, ...) is rejected with a {@link HistoryFormatException} and not written.
 * An {@link IOException} from the underlying writer propagates; the line may then be partly written, so the harness
 * should treat the history as damaged. Appending after {@link #close()} throws {@link IllegalStateException}.
 */
public final class HistoryWriter implements Closeable {
    private final Writer out;
    private final LongSupplier clock;
    private final PairingValidator validator = new PairingValidator();
    private long count;
    private boolean closed;

    private HistoryWriter(Writer out, LongSupplier clock) {
        this.out = Objects.requireNonNull(out, "out");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Creates (or truncates) a UTF-8 file; timestamps from {@link System#nanoTime()}. */
    public static HistoryWriter create(Path path) throws IOException {
        return new HistoryWriter(Files.newBufferedWriter(path, StandardCharsets.UTF_8), System::nanoTime);
    }

    /** Writes to {@code out}, which {@link #close()} closes; {@code clock} gives monotonic nanoseconds. */
    public static HistoryWriter to(Writer out, LongSupplier clock) {
        return new HistoryWriter(out instanceof BufferedWriter ? out : new BufferedWriter(out), clock);
    }

    /**
     * Appends an event with the time it already carries, which must not be before the last event's.
     *
     * @throws HistoryFormatException if the event does not fit the history written so far
     */
    public synchronized void append(Event event) throws IOException {
        ensureOpen();
        validator.accept(event, (int) Math.min(Integer.MAX_VALUE, count + 1));
        write(event);
    }

    /**
     * Reads the clock, builds the event for that time and appends it, all under the lock; returns the event.
     *
     * @throws HistoryFormatException if the event does not fit the history written so far
     */
    public synchronized Event record(LongFunction<Event> eventAt) throws IOException {
        ensureOpen();
        Event event = Objects.requireNonNull(eventAt.apply(clock.getAsLong()), "event");
        validator.accept(event, (int) Math.min(Integer.MAX_VALUE, count + 1));
        write(event);
        return event;
    }

    /** Events written so far. */
    public synchronized long size() {
        return count;
    }

    /** Flushes and closes the underlying writer. Idempotent. */
    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            out.close();
        }
    }

    private void write(Event event) throws IOException {
        out.write(EventJson.encode(event));
        out.write('\n');
        out.flush();
        count++;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the history writer is closed");
        }
    }
}
