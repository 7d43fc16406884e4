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
import dev.tenure.checker.Event;
import dev.tenure.checker.History;
import dev.tenure.checker.HistoryChecker;
import dev.tenure.demo.kv.Partitioning;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a history of a partitioned service partition by partition: the events of the keys of each partition ({@link
 * Partitioning#partitionOf}) form a history of their own, checked by the {@link HistoryChecker}. Linearizability is per
 * key, so splitting by key loses nothing; lost writes are per key too; log positions ({@code epoch}, {@code offset})
 * are positions in one partition's log, so duplicates and reorderings are only meaningful within a partition — the
 * whole history would show two partitions' offset 7 as a duplicate. A client's operations stay paired (an invoke and
 * its completion name the same key), and a client still has at most one operation outstanding in each part.
 * Stateless.
 */
final class PartitionedCheck {
    private PartitionedCheck() {}

    /** Each partition's report, by partition id, for every partition with at least one operation. */
    static Map<String, CheckReport> check(History history, int partitions) {
        List<List<Event>> parts = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            parts.add(new ArrayList<>());
        }
        for (Event e : history.events()) {
            parts.get(Partitioning.partitionOf(e.key(), partitions)).add(e);
        }
        Map<String, CheckReport> reports = new LinkedHashMap<>();
        for (int i = 0; i < partitions; i++) {
            if (!parts.get(i).isEmpty()) {
                reports.put(Partitioning.id(i), HistoryChecker.create().check(History.of(parts.get(i))));
            }
        }
        return reports;
    }
}
