package dev.tenure.checker;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Runs every check on a history — {@link LinearizabilityChecker}, {@link LostWriteChecker}, {@link
 * PositionChecker} — and summarises them in a {@link CheckReport}. Immutable and thread-safe. Pure computation: no
 * I/O, no threads.
 *
 * <p>Failure behaviour: a key whose linearizability search exceeds its budget is reported as unknown, not as a
 * verdict; the other checks are linear or near-linear and always finish.
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

    public static Builder builder() {
        return new Builder();
    }

    /** Runs every check. */
    public CheckReport check(History history) {
        long start = clock.getAsLong();
        LinearizabilityChecker.Result lin = linearizability.check(history);
        List<LostWriteChecker.LostWrite> lost = lostWrites.check(history);
        List<PositionChecker.PositionViolation> pos = positions.check(history);
        return new CheckReport(history, lin, lost, pos, Duration.ofNanos(clock.getAsLong() - start));
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

        public HistoryChecker build() {
            return new HistoryChecker(this);
        }
    }
}
