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

import com.google.common.base.Splitter;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * CPU time spent by the JIT compilers of this process and every process it started (the replicas, the demo nodes,
 * the ZooKeeper servers), read from Linux's {@code /proc/<pid>/task/<tid>/stat} of the threads named {@code C1
 * CompilerThre…} and {@code C2 CompilerThre…}. On two cores a JVM that has just started compiles for tens of seconds
 * and takes that CPU from the systems measured; two readings around a measured interval say how much of it did.
 *
 * <p>Coarse: the kernel counts in ticks of 10 ms, and a compiler thread or process that ends between two readings
 * takes its count with it (a difference is then clamped at zero). Thread-safe.
 */
final class JitActivity {
    private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ is 100 on Linux

    private JitActivity() {}

    /** Compiler CPU time in nanoseconds so far, or -1 where {@code /proc} does not tell. */
    static long compilerCpuNanos() {
        return compilerCpuNanos(Stream.concat(
                        Stream.of(ProcessHandle.current()),
                        ProcessHandle.current().descendants())
                .toList());
    }

    /** This process's compiler CPU time in nanoseconds so far, or -1 where {@code /proc} does not tell. */
    static long ownCompilerCpuNanos() {
        return compilerCpuNanos(List.of(ProcessHandle.current()));
    }

    private static long compilerCpuNanos(List<ProcessHandle> processes) {
        long ticks = 0;
        boolean seen = false;
        for (ProcessHandle p : processes) {
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", p.pid() + "", "task"))) {
                for (Path task : tasks) {
                    long t = compilerTicks(task);
                    if (t >= 0) {
                        ticks += t;
                        seen = true;
                    }
                }
            } catch (IOException | RuntimeException gone) {
                // the process ended, or this is not Linux
            }
        }
        return seen ? ticks * NANOS_PER_TICK : -1;
    }

    /** User plus system ticks of {@code task} if it is a compiler thread, else -1. */
    private static long compilerTicks(Path task) {
        try {
            String comm = Files.readString(task.resolve("comm"));
            if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) {
                return -1;
            }
            String stat = Files.readString(task.resolve("stat"));
            // After the command in parentheses: state is field 3 of the line; utime and stime are fields 14 and 15.
            List<String> f = Splitter.on(' ')
                    .splitToList(stat.substring(stat.lastIndexOf(')') + 2).trim());
            return Long.parseLong(f.get(11)) + Long.parseLong(f.get(12));
        } catch (IOException | RuntimeException gone) {
            return -1;
        }
    }

    /** The share of one core the compilers used between two readings {@code interval} apart, in percent; -1 if unknown. */
    static double percentOfACore(long before, long after, long intervalNanos) {
        if (before < 0 || after < 0 || intervalNanos <= 0) {
            return -1;
        }
        return 100.0 * Math.max(0, after - before) / intervalNanos;
    }
}
