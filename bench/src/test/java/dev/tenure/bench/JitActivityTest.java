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
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class JitActivityTest {
    @Test
    void onLinuxTheCompilerThreadsOfThisJvmAreFoundAndTheirTimeNeverGoesBack() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux's /proc");
        long first = JitActivity.compilerCpuNanos();
        long second = JitActivity.compilerCpuNanos();
        assertTrue(first >= 0, "this JVM has C1/C2 compiler threads: " + first);
        assertEquals(0, first % 10_000_000L, "counted in 10 ms ticks");
        assertTrue(second >= first, first + " then " + second);
    }

    @Test
    void theShareIsOfOneCoreAndUnknownOrBackwardsReadingsAreNotInvented() {
        assertEquals(50.0, JitActivity.percentOfACore(1_000_000_000L, 1_500_000_000L, 1_000_000_000L), 1e-9);
        assertEquals(150.0, JitActivity.percentOfACore(0, 3_000_000_000L, 2_000_000_000L), 1e-9);
        assertEquals(0.0, JitActivity.percentOfACore(900, 100, 1_000_000_000L), 1e-9);
        assertEquals(-1.0, JitActivity.percentOfACore(-1, 100, 1_000_000_000L), 1e-9);
        assertEquals(-1.0, JitActivity.percentOfACore(0, 100, 0), 1e-9);
    }
}
