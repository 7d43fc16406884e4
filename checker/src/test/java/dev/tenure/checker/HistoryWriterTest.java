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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.checker.Event.F;
import dev.tenure.checker.Event.Type;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryWriterTest {
    @Test
    void writtenEventsReadBackAsTheSameHistory() throws IOException {
        List<Event> events = new TestHistory()
                .write(1, "k", "a", 0, 10)
                .cas(2, "k", null, "b", 5, 20, Type.FAIL)
                .cas(2, "k", "a", "c", 25, 30, Type.INFO)
                .read(1, "k", "a", 40, 50)
                .delete(3, "k", 60, 70)
                .read(1, "k", null, 80, 90)
                .writeAt(4, "j", "x", 100, 110, 3, 17)
                .events();
        StringWriter out = new StringWriter();
        try (HistoryWriter w = HistoryWriter.to(out, () -> 0)) {
            for (Event e : events) {
                w.append(e);
            }
            assertEquals(events.size(), w.size());
        }
        History back = HistoryReader.read(new StringReader(out.toString()));
        assertEquals(events, back.events());
    }

    @Test
    void concurrentClientsProduceAWellFormedHistoryInTimeOrder(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("h.jsonl");
        int threads = 8;
        int opsPerThread = 300;
        try (HistoryWriter w = HistoryWriter.create(file)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < threads; p++) {
                int process = p;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < opsPerThread; i++) {
                        String value = process + "-" + i;
                        String key = "k" + (i % 3);
                        Event invoke = w.record(t -> Event.invoke(process, F.WRITE, key, value, t));
                        w.record(t -> invoke.completion(Type.OK, t));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
        }
        // reading validates it: times never go backwards, every completion follows its process's invoke
        History h = HistoryReader.read(file);
        assertEquals(2 * threads * opsPerThread, h.events().size());
        assertEquals(threads * opsPerThread, h.operations().size());
        assertTrue(h.operations().stream().allMatch(Operation::isOk));
    }

    @Test
    void anEventThatDoesNotFitIsRejectedAndNotWritten() throws IOException {
        StringWriter out = new StringWriter();
        HistoryWriter w = HistoryWriter.to(out, () -> 0);
        Event invoke = Event.invoke(1, F.READ, "k", null, 10);
        w.append(invoke);
        String before = out.toString();
        assertThrows(HistoryFormatException.class, () -> w.append(Event.invoke(1, F.READ, "k", null, 11)));
        assertThrows(HistoryFormatException.class, () -> w.append(invoke.completion(Type.OK, 5)));
        assertThrows(
                HistoryFormatException.class,
                () -> w.append(Event.invoke(2, F.READ, "k", null, 12).completion(Type.OK, 12)));
        assertEquals(before, out.toString());
        assertEquals(1, w.size());
    }

    @Test
    void recordStampsTheClockUnderTheLock() throws IOException {
        long[] now = {100};
        StringWriter out = new StringWriter();
        try (HistoryWriter w = HistoryWriter.to(out, () -> now[0]++)) {
            Event invoke = w.record(t -> Event.invoke(1, F.DELETE, "k", null, t));
            Event ok = w.record(t -> invoke.completion(Type.OK, t).withPosition(1, 1));
            assertEquals(100, invoke.time());
            assertEquals(101, ok.time());
        }
    }

    @Test
    void appendingAfterCloseFailsAndCloseIsIdempotent() throws IOException {
        HistoryWriter w = HistoryWriter.to(new StringWriter(), () -> 0);
        w.close();
        w.close();
        assertThrows(IllegalStateException.class, () -> w.append(Event.invoke(1, F.READ, "k", null, 1)));
    }
}
