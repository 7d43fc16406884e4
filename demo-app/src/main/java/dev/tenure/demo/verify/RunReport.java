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
package dev.tenure.demo.verify;

import dev.tenure.checker.CheckReport;
import dev.tenure.checker.History;
import dev.tenure.checker.HistoryChecker;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * What the checker found in a run's history: for a single log, the {@link HistoryChecker}'s report of the whole
 * history; for several partitions, one report per partition ({@link PartitionedCheck}: each partition's keys checked
 * as a history of their own, since log positions are positions in one partition's log). The figures add up over the
 * partitions; the verdict is the worst. Immutable.
 */
final class RunReport {
    private final int partitions;
    private final Map<String, CheckReport> reports;

    private RunReport(int partitions, Map<String, CheckReport> reports) {
        this.partitions = partitions;
        this.reports = Collections.unmodifiableMap(new LinkedHashMap<>(reports));
    }

    /** Checks {@code history}: as one log if {@code partitions} is 1, else partition by partition. */
    static RunReport check(History history, int partitions) {
        return partitions == 1
                ? new RunReport(1, Map.of("0", HistoryChecker.create().check(history)))
                : new RunReport(partitions, PartitionedCheck.check(history, partitions));
    }

    /** The partitions the history was split into (1: checked whole). */
    int partitions() {
        return partitions;
    }

    /** Each partition's report, by partition id (partitions without an operation absent); one entry for a single log. */
    Map<String, CheckReport> byPartition() {
        return reports;
    }

    /** Invalid if any partition's history is, else unknown if any is, else valid. */
    CheckReport.Verdict verdict() {
        boolean unknown = false;
        for (CheckReport r : reports.values()) {
            if (r.verdict() == CheckReport.Verdict.INVALID) {
                return CheckReport.Verdict.INVALID;
            }
            unknown |= r.verdict() == CheckReport.Verdict.UNKNOWN;
        }
        return unknown ? CheckReport.Verdict.UNKNOWN : CheckReport.Verdict.VALID;
    }

    int operations() {
        return sum(CheckReport::operations);
    }

    int linearizabilityViolations() {
        return sum(r -> r.linearizabilityViolations().size());
    }

    int unknownKeys() {
        return sum(r -> r.unknownKeys().size());
    }

    int lostWrites() {
        return sum(r -> r.lostWrites().size());
    }

    int positionViolations() {
        return sum(r -> r.positionViolations().size());
    }

    /** The time all checks took. */
    Duration elapsed() {
        return reports.values().stream().map(CheckReport::elapsed).reduce(Duration.ZERO, Duration::plus);
    }

    private int sum(ToIntFunction<CheckReport> figure) {
        return reports.values().stream().mapToInt(figure).sum();
    }

    /** The single log's report as the checker prints it; for partitions, a header and each partition's report. */
    @Override
    public String toString() {
        if (partitions == 1) {
            return reports.values().iterator().next().toString();
        }
        StringBuilder b = new StringBuilder();
        b.append("History check by partition: ")
                .append(verdict())
                .append(" (")
                .append(elapsed().toMillis())
                .append(" ms; ")
                .append(partitions)
                .append(" partitions, ")
                .append(reports.size())
                .append(" with operations; ")
                .append(operations())
                .append(" operations, ")
                .append(linearizabilityViolations())
                .append(" keys not linearizable, ")
                .append(unknownKeys())
                .append(" unknown, ")
                .append(lostWrites())
                .append(" lost writes, ")
                .append(positionViolations())
                .append(" position violations)\n");
        b.append("  each partition's keys are checked as a history of their own: line numbers count that"
                + " partition's events, times are from its first event\n");
        reports.forEach((id, r) -> b.append("  partition ")
                .append(id)
                .append(": ")
                .append(r.toString().stripTrailing().replace("\n", "\n  "))
                .append('\n'));
        return b.toString();
    }
}
