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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Linux pressure stall information for IO ({@code /proc/pressure/io}): the total time, in microseconds, during
 * which every non-idle task of the machine was stalled on IO ("full"). Two readings around a measured interval
 * give the share of the interval the disk held everything up — a disturbance of the machine that the figures of
 * that interval then reflect (this shared VM's disk sometimes stalls for minutes). Thread-safe.
 */
final class IoPressure {
    private static final Path FILE = Path.of("/proc/pressure/io");

    private IoPressure() {}

    /** The "full" stall total in microseconds, or -1 where the kernel does not report it. */
    static long fullStallMicros() {
        try {
            for (String line : Files.readAllLines(FILE)) {
                if (line.startsWith("full ")) {
                    int at = line.indexOf("total=");
                    return at < 0
                            ? -1
                            : Long.parseLong(
                                    line.substring(at + "total=".length()).trim());
                }
            }
            return -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
