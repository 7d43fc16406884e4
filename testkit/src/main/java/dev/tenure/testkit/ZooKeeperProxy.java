package dev.tenure.testkit;

import com.google.common.base.Preconditions;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loopback TCP proxy placed in front of every server of an ensemble, so a test can cut one client off
 * from ZooKeeper without touching the servers or expiring the session by itself.
 *
 * <p>Give the client {@link #connectString()} instead of the ensemble's, with Curator's ensemble tracking off
 * ({@link ZooKeeperEnsemble#clientBuilder(ZooKeeperProxy)} does both). {@link #cut()} resets every
 * proxied connection and refuses new ones (the client sees the connection drop at once and goes
 * {@code SUSPENDED}; if the cut lasts longer than the session timeout, the servers expire the session).
 * {@link #heal()} lets connections through again.
 *
 * <p>Thread-safe. Binds to 127.0.0.1 only. {@link #close()} stops every thread it started.
 */
public final class ZooKeeperProxy implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperProxy.class);

    private final List<Listener> listeners = new ArrayList<>();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final ExecutorService threads;
    private final AtomicBoolean cut = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Starts a proxy with one listening port per target address.
     *
     * @param targets the servers' client addresses
     * @throws IOException if a loopback port cannot be bound
     */
    public ZooKeeperProxy(List<InetSocketAddress> targets) throws IOException {
        Preconditions.checkArgument(!targets.isEmpty(), "at least one target is required");
        AtomicInteger threadCount = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "zk-proxy-" + threadCount.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            for (InetSocketAddress target : targets) {
                ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                Listener listener = new Listener(server, target);
                listeners.add(listener);
                threads.execute(listener::acceptLoop);
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /** The connect string a client uses to reach the ensemble through this proxy. */
    public String connectString() {
        return listeners.stream()
                .map(l -> "127.0.0.1:" + l.server.getLocalPort())
                .collect(Collectors.joining(","));
    }

    /** Resets every proxied connection and refuses new ones until {@link #heal()}. */
    public void cut() {
        checkOpen();
        cut.set(true);
        closeAllConnections();
        log.info("proxy {} cut", connectString());
    }

    /** Lets connections through again after {@link #cut()}. */
    public void heal() {
        checkOpen();
        cut.set(false);
        log.info("proxy {} healed", connectString());
    }

    /** Whether the proxy is currently cut. */
    public boolean isCut() {
        return cut.get();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (Listener l : listeners) {
            closeQuietly(l.server);
        }
        closeAllConnections();
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void checkOpen() {
        Preconditions.checkState(!closed.get(), "proxy is closed");
    }

    private void closeAllConnections() {
        for (Socket s : sockets) {
            try {
                s.setSoLinger(true, 0); // send RST, like a crashed link
            } catch (SocketException ignored) {
                // already closed
            }
            closeQuietly(s);
        }
        sockets.clear();
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private final class Listener {
        final ServerSocket server;
        final InetSocketAddress target;

        Listener(ServerSocket server, InetSocketAddress target) {
            this.server = server;
            this.target = target;
        }

        void acceptLoop() {
            while (!closed.get()) {
                Socket client;
                try {
                    client = server.accept();
                } catch (IOException e) {
                    return; // closed
                }
                if (cut.get()) {
                    closeQuietly(client);
                    continue;
                }
                threads.execute(() -> connect(client));
            }
        }

        private void connect(Socket client) {
            Socket upstream = new Socket();
            try {
                upstream.connect(target, 2000);
            } catch (IOException e) {
                closeQuietly(upstream);
                closeQuietly(client);
                return;
            }
            sockets.add(client);
            sockets.add(upstream);
            if (cut.get() || closed.get()) {
                closeAllConnections();
                return;
            }
            threads.execute(() -> pump(client, upstream));
            threads.execute(() -> pump(upstream, client));
        }

        private void pump(Socket from, Socket to) {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (cut.get()) {
                        break;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // connection reset or closed
            } finally {
                sockets.remove(from);
                sockets.remove(to);
                closeQuietly(from);
                closeQuietly(to);
            }
        }
    }
}
