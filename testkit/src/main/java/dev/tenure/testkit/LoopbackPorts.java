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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1, for servers that must be told their port before they bind it (a child process's
 * command line, a replica's advertised address).
 *
 * <p>Thread-safe: stateless.
 */
public final class LoopbackPorts {
    private static final String LOOPBACK = "127.0.0.1";
    /** {@link #serverPort()} draws from [FIRST, END): below the ephemeral ranges of Linux (32768) and others. */
    static final int FIRST_SERVER_PORT = 20_000;

    static final int END_SERVER_PORT = 32_000;
    /** Ports {@link #serverPort()} handed out in this JVM: never handed out twice. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

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
     * A TCP port free on 127.0.0.1 for a server of this JVM to bind soon: drawn at random below the operating
     * system's ephemeral port range, so that no outgoing connection or port-0 bind of any process can take it in the
     * meantime (the race of {@link #freePort()} is then left only against other processes drawing the same way, over
     * 12,000 ports), and never handed out twice in this JVM. Falls back to {@link #freePort()} if 100 draws find no
     * free port.
     *
     * @throws IOException if no port can be bound on 127.0.0.1
     */
    public static int serverPort() throws IOException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 100; i++) {
            int port = random.nextInt(FIRST_SERVER_PORT, END_SERVER_PORT);
            if (HANDED_OUT.add(port)) {
                if (canBind(port)) {
                    return port;
                }
            }
        }
        return freePort();
    }

    private static boolean canBind(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(LOOPBACK, port), 1);
            return true;
        } catch (IOException taken) {
            return false;
        }
    }
}
