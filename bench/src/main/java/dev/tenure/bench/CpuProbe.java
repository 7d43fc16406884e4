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

import java.util.zip.CRC32C;

/**
 * How fast this machine's CPU runs right now: the time a fixed piece of work (CRC-32C of 8 MiB) takes on the
 * calling thread, in microseconds. On a shared VM the same work takes up to ten times longer when the host's cores
 * are busy with other guests; a benchmark point measured during such a spell is slower for reasons outside the
 * systems compared. The probe costs about a millisecond at full speed. Thread-safe.
 */
final class CpuProbe {
    private static final byte[] DATA = new byte[1 << 20];

    @SuppressWarnings("UnusedVariable") // written, never read: the volatile store keeps the JIT from dropping the work
    private static volatile long sink;

    static {
        for (int i = 0; i < 200; i++) {
            measureMicros(); // compile the loop before the first reading that counts
        }
    }

    private CpuProbe() {}

    /** Microseconds the fixed work took now. */
    static double measureMicros() {
        long start = System.nanoTime();
        CRC32C crc = new CRC32C();
        for (int i = 0; i < 8; i++) {
            crc.update(DATA, 0, DATA.length);
        }
        sink = crc.getValue();
        return (System.nanoTime() - start) / 1000.0;
    }
}
