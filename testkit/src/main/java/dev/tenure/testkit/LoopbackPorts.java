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

import dev.tenure.harness.ServerPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Free TCP ports on 127.0.0.1, for servers that must be told their port before they bind it (a child process's
 * command line, a replica's advertised address).
 *
 * <p>Thread-safe.
 */
public final class LoopbackPorts {
    private static final String LOOPBACK = "127.0.0.1";

    private LoopbackPorts() {}

    /**
     * A TCP port free on 127.0.0.1 at the time of the call: binds port 0 on 127.0.0.1 (the operating system picks
     * an unused port), closes the socket and returns the port.
     *
     * <p><b>Racy by nature:</b> the port is free only when this method returns. Nothing reserves it, so another
     * process (or another thread of this one) can take it between this call and the moment the caller's server
     * binds it, and that bind then fails with "address already in use". Bind as soon as possible after the call;
     * where a server can bind port 0 itself and report its port, prefer that.
     *
     * @throws IOException if no port can be bound on 127.0.0.1
     */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            // So that the caller's bind is not refused because of this socket's recent use of the port.
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(LOOPBACK, 0), 1);
            return socket.getLocalPort();
        }
    }

    /**
     * A TCP port on 127.0.0.1 for a server of this JVM to bind, now or again later: drawn below the operating system's
     * ephemeral port range (no outgoing connection or port-0 bind of any process takes it) and reserved for the life
     * of this JVM against every other JVM drawing ports this way, so parallel test JVMs never share one. See {@link
     * ServerPorts}.
     *
     * @throws IOException if no port can be found and bound on 127.0.0.1
     */
    public static int serverPort() throws IOException {
        return ServerPorts.reserve();
    }
}
