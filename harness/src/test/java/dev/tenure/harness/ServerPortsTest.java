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
package dev.tenure.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ServerPortsTest {
    @TempDir
    Path dir;

    @Test
    void portsAreDrawnBelowTheEphemeralRangeNeverTwiceInOneJvmAndCanBeBound() throws Exception {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int port = ServerPorts.reserve(dir, ServerPorts.FIRST, ServerPorts.END);
            assertTrue(port >= ServerPorts.FIRST && port < ServerPorts.END, "port " + port);
            assertTrue(seen.add(port), "port " + port + " handed out twice");
            assertTrue(ServerPorts.isReserved(port));
        }
        int port = ServerPorts.reserve();
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress("127.0.0.1", port));
            assertEquals(port, server.getLocalPort());
        }
    }

    @Test
    @Timeout(60)
    void aPortReservedByAnotherJvmIsNeverDrawnHereUntilThatJvmEnds() throws Exception {
        Path locks = dir;
        // A range of eight ports this JVM has not drawn yet, above the range the other tests draw from.
        int first = freeRange(8);
        int end = first + 8;
        ChildProcess holder = ChildJvm.builder("port-holder")
                .jvmOptions(List.of("-Xmx32m", "-XX:TieredStopAtLevel=1"))
                .mainClass(PortHolderMain.class.getName())
                .arguments(List.of(locks.toString(), Integer.toString(first), Integer.toString(end), "6"))
                .process()
                .logFile(dir.resolve("holder.log"))
                .readyPrefix("HOLDING ")
                .start();
        Set<Integer> held;
        try (holder) {
            held = Arrays.stream(
                            holder.awaitReady(Duration.ofSeconds(30)).trim().split(","))
                    .map(Integer::valueOf)
                    .collect(Collectors.toSet());
            assertEquals(6, held.size(), "the other JVM holds six distinct ports");
            Set<Integer> drawnHere = new HashSet<>();
            drawnHere.add(ServerPorts.reserve(locks, first, end));
            drawnHere.add(ServerPorts.reserve(locks, first, end));
            assertEquals(2, drawnHere.size());
            for (int port : drawnHere) {
                assertTrue(!held.contains(port), "port " + port + " is held by the other JVM: " + held);
            }
            IOException none = assertThrows(
                    IOException.class,
                    () -> ServerPorts.reserve(locks, first, end),
                    () -> "held " + held + ", drawn here " + drawnHere);
            assertTrue(none.getMessage().contains("no free port"), none.getMessage());
        }
        // The holder is gone (close stops it): its reservations ended with it, and this JVM can now draw them.
        Set<Integer> afterwards = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            afterwards.add(ServerPorts.reserve(locks, first, end));
        }
        assertEquals(held, afterwards);
    }

    /** The first port of {@code size} consecutive ports in [END, 32768) that this JVM has not reserved. */
    private static int freeRange(int size) {
        for (int first = ServerPorts.END; first + size <= 32_768; first += size) {
            boolean free = true;
            for (int port = first; port < first + size; port++) {
                free &= !ServerPorts.isReserved(port);
            }
            if (free) {
                return first;
            }
        }
        throw new IllegalStateException("no unreserved range above " + ServerPorts.END);
    }
}
