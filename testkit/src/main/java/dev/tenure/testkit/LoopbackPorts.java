package dev.tenure.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Free TCP ports on 127.0.0.1, for servers that must be told their port before they bind it (a child process's
 * command line, a replica's advertised address).
 *
 * <p>Thread-safe: stateless.
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
}
