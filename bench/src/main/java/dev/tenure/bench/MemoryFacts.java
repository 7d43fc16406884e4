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

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.common.base.Splitter;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's memory: heap in use (peak since the last {@link #resetPeaks()}, and what the last collection
 * left, which approximates the live set), the heap limit, time spent in garbage collection, and the resident set
 * size (now and its peak, from {@code /proc/self/status}; -1 where that file does not exist).
 */
record MemoryFacts(
        long heapUsedBytes,
        long heapPeakUsedBytes,
        long heapAfterGcBytes,
        long heapMaxBytes,
        long gcCount,
        long gcMillis,
        long rssBytes,
        long rssPeakBytes) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            p.resetPeakUsage();
        }
    }

    static MemoryFacts now() {
        long peak = 0;
        long afterGc = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                peak += p.getPeakUsage().getUsed();
                MemoryUsage c = p.getCollectionUsage();
                afterGc += c == null ? 0 : c.getUsed();
            }
        }
        long count = 0;
        long millis = 0;
        for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, g.getCollectionCount());
            millis += Math.max(0, g.getCollectionTime());
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return new MemoryFacts(
                heap.getUsed(),
                peak,
                afterGc,
                heap.getMax(),
                count,
                millis,
                procStatusBytes("VmRSS:"),
                procStatusBytes("VmHWM:"));
    }

    /** A "kB" line of /proc/self/status in bytes, or -1. */
    private static long procStatusBytes(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    String v = line.substring(key.length()).trim();
                    return Long.parseLong(Splitter.onPattern("\\s+")
                                    .split(v)
                                    .iterator()
                                    .next())
                            * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("heap_used_bytes", heapUsedBytes);
        o.put("heap_peak_used_bytes", heapPeakUsedBytes);
        o.put("heap_after_gc_bytes", heapAfterGcBytes);
        o.put("heap_max_bytes", heapMaxBytes);
        o.put("gc_count", gcCount);
        o.put("gc_ms", gcMillis);
        o.put("rss_bytes", rssBytes);
        o.put("rss_peak_bytes", rssPeakBytes);
        return o;
    }
}
