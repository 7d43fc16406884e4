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
package dev.tenure.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.harness.ServerPorts;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class LoopbackPortsTest {
    @Test
    void aFreePortIsAnUnprivilegedPortThatCanBeBoundOnLoopbackRightAfter() throws Exception {
        int port = LoopbackPorts.freePort();
        assertTrue(port >= 1024 && port <= 65535, "port " + port);
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress("127.0.0.1", port));
            assertEquals(port, server.getLocalPort());
        }
    }

    @Test
    void aServerPortIsOneReservedForThisJvmThatCanBeBound() throws Exception {
        int port = LoopbackPorts.serverPort();
        assertTrue(ServerPorts.isReserved(port), "drawn through ServerPorts (its own tests cover the drawing)");
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress("127.0.0.1", port));
            assertEquals(port, server.getLocalPort());
        }
    }
}
