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
package dev.tenure.demo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ElectionTourTest {
    @Test
    @Timeout(value = 120)
    void tourShowsFailoverWithAHigherEpochAndTheStaleWriteRefused() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new ElectionTour(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("[node-1] acquired leadership: epoch 1"), out);
        assertTrue(out.contains("took over"), out);
        assertTrue(out.contains("late write with epoch 1 is refused"), out);
        assertTrue(out.contains("epochs went 1 -> 2 -> 3"), out);
        assertTrue(out.contains("Done"), out);
    }
}
