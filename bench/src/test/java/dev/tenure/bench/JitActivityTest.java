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
