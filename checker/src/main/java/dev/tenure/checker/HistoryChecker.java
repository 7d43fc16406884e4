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

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The entry point: reads a JSON Lines history of a key-value register (the format is in {@link HistoryReader} and
 * the package documentation), runs every check — {@link LinearizabilityChecker}, {@link LostWriteChecker}, {@link
 * PositionChecker} — and summarises them in a {@link CheckReport}:
 *
 * <pre>{@code
 * CheckReport report = HistoryChecker.create().check(Path.of("history.jsonl"));
 * System.out.print(report);              // for humans; report.toJson() has everything
 * if (!report.isValid()) { ... }         // VALID, INVALID, or UNKNOWN when a key's search ran out of budget
 * }</pre>
 *
 * <p>Lines of processes that are not clients (Jepsen's {@code "process":"nemesis"}) are accepted, left out of the
 * checks and listed in the report's timeline. Immutable and thread-safe: one checker may check many histories at
 * once. Pure computation beyond reading the history: no threads, no network.
 *
 * <p>Failure behaviour: a history that cannot be read is rejected with a {@link HistoryFormatException} naming its
 * line (nothing is checked), an I/O error propagates as {@link IOException}. A key whose linearizability search
 * exceeds its budget is reported as unknown, not as a verdict; the other checks are linear or near-linear and
 * always finish.
 */
public final class HistoryChecker {
    private final LinearizabilityChecker linearizability;
    private final LostWriteChecker lostWrites = new LostWriteChecker();
    private final PositionChecker positions = new PositionChecker();
    private final LongSupplier clock;

    private HistoryChecker(Builder b) {
        this.linearizability = b.linearizability;
        this.clock = b.clock;
    }

    /** A checker with default budgets. */
    public static HistoryChecker create() {
        return builder().build();
    }

    /** A builder, to change the linearizability budgets or the clock that times the checks. */
    public static Builder builder() {
        return new Builder();
    }

    /** Runs every check on a history already read. */
    public CheckReport check(History history) {
        long start = clock.getAsLong();
        LinearizabilityChecker.Result lin = linearizability.check(history);
        List<LostWriteChecker.LostWrite> lost = lostWrites.check(history);
        List<PositionChecker.PositionViolation> pos = positions.check(history);
        return new CheckReport(history, lin, lost, pos, Duration.ofNanos(clock.getAsLong() - start));
    }

    /**
     * Reads a UTF-8 JSON Lines file and runs every check.
     *
     * @throws HistoryFormatException if a line is malformed or the history ill-formed (the message names the line)
     * @throws IOException if the file cannot be read
     */
    public CheckReport check(Path history) throws IOException {
        return check(HistoryReader.read(history));
    }

    /**
     * Reads JSON Lines to the end of {@code history} (which is not closed) and runs every check.
     *
     * @throws HistoryFormatException if a line is malformed or the history ill-formed (the message names the line)
     * @throws IOException if reading fails
     */
    public CheckReport check(Reader history) throws IOException {
        return check(HistoryReader.read(history));
    }

    /** Options. Not thread-safe; the checker it builds is. */
    public static final class Builder {
        private LinearizabilityChecker linearizability = LinearizabilityChecker.create();
        private LongSupplier clock = System::nanoTime;

        private Builder() {}

        /** The linearizability checker, with its budgets (default {@link LinearizabilityChecker#create()}). */
        public Builder linearizability(LinearizabilityChecker checker) {
            this.linearizability = Objects.requireNonNull(checker, "checker");
            return this;
        }

        /** Monotonic nanoseconds for the time taken (default {@link System#nanoTime}). */
        public Builder clock(LongSupplier nanoClock) {
            this.clock = Objects.requireNonNull(nanoClock, "clock");
            return this;
        }

        /** The checker. */
        public HistoryChecker build() {
            return new HistoryChecker(this);
        }
    }
}
