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
package dev.tenure.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InProcessPartitionsTest {
    @Test
    void bothShapesCommitWritesAndReportTheirCostPerWrite() throws Exception {
        InProcessPartitions.Round many;
        InProcessPartitions.Round one;
        try (InProcessPartitions cluster = new InProcessPartitions(6)) {
            many = cluster.run(6, 1, 0.2, 0.5);
            one = cluster.run(1, 6, 0.2, 0.5);
        }
        for (InProcessPartitions.Round r : java.util.List.of(many, one)) {
            assertTrue(r.writes() > 0, "writes committed: " + r);
            assertTrue(r.cpuMicrosPerWrite() > 0, "CPU per write measured: " + r);
            assertTrue(r.bytesPerWrite() > 0, "allocation per write measured: " + r);
        }
        assertEquals("6 x 1", many.shape());
        assertEquals("1 x 6", one.shape());
    }
}
