package dev.tenure.demo.verify;

import dev.tenure.replicator.transport.netty.MalformedFrameException;
import dev.tenure.replicator.transport.netty.MessageCodec;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on 127.0.0.1 in front of one target, whose connections can be cut per {@link Links link}.
 *
 * <p>Each accepted connection belongs to one link, named by a {@link LinkNamer} from the connection's first bytes
 * (a fixed name, or the sender of a replication hello). While its link is cut the proxy moves no bytes either way
 * on it and holds what it has read; a new connection on a cut link is accepted but not forwarded. This is a
 * partition in which TCP connections survive: the endpoints see silence and time out on their own, and bytes held
 * during the cut arrive late when it heals (if the endpoints still listen) — the delayed, stale messages a real
 * network delivers. Closing one side closes the other.
 *
 * <p>Thread-safe; two threads per connection plus one accepting. {@link #close()} closes every socket and stops
 * every thread.
 */
public final class LinkProxy implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(LinkProxy.class);
    private static final int BUFFER_BYTES = 64 * 1024;
    /** The largest hello frame read to name a link; larger first frames are forwarded under an unknown link. */
    private static final int MAX_HELLO_BYTES = 4 * 1024;

    /** Names the link of a new connection from the bytes its opening side sends first. */
    public interface LinkNamer {
        /**
         * Reads what it needs from {@code in} and returns the link's name.
         *
         * @param in the opening side's bytes
         * @param consumed receives every byte read from {@code in}; they are forwarded first
         */
        String name(DataInputStream in, java.io.ByteArrayOutputStream consumed) throws IOException;
    }

    /** Every connection belongs to {@code link}. */
    public static LinkNamer fixed(String link) {
        return (in, consumed) -> link;
    }

    /**
     * Connections to replica {@code target}'s replication port: the link is {@code SENDER->target}, the sender
     * taken from the connection's hello frame ({@code ?->target} if the first frame is not a well-formed hello).
     */
    public static LinkNamer replicationTo(String target) {
        return (in, consumed) -> {
            int length = in.readInt();
            consumed.write(ByteBuffer.allocate(4).putInt(length).array());
            if (length < 0 || length > MAX_HELLO_BYTES) {
                return Links.replication("?", target);
            }
            byte[] body = in.readNBytes(length);
            consumed.write(body);
            try {
                return Links.replication(MessageCodec.helloSender(consumed.toByteArray()), target);
            } catch (MalformedFrameException e) {
                return Links.replication("?", target);
            }
        };
    }

    private final String name;
    private final InetSocketAddress target;
    private final LinkNamer namer;
    private final Links links;
    private final ServerSocket server;
    private final ExecutorService threads;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * Binds an ephemeral port on 127.0.0.1 and starts accepting.
     *
     * @param name for thread names and logs
     * @param target where connections go
     * @param namer names each connection's link
     * @param links the cut links
     */
    public LinkProxy(String name, InetSocketAddress target, LinkNamer namer, Links links) throws IOException {
        this.name = Objects.requireNonNull(name, "name");
        this.target = Objects.requireNonNull(target, "target");
        this.namer = Objects.requireNonNull(namer, "namer");
        this.links = Objects.requireNonNull(links, "links");
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        AtomicInteger count = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "proxy-" + name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        threads.execute(this::acceptLoop);
    }

    /** The proxy's address (127.0.0.1 and its port). */
    public InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    /** The {@code HOST:PORT} form of {@link #address()}. */
    public String hostPort() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                threads.execute(() -> serve(client));
            } catch (IOException e) {
                if (!closed) {
                    log.warn("proxy {} stopped accepting", name, e);
                }
                return;
            }
        }
    }

    private void serve(Socket client) {
        Socket upstream = null;
        try {
            client.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(client.getInputStream());
            java.io.ByteArrayOutputStream consumed = new java.io.ByteArrayOutputStream();
            String link = namer.name(in, consumed);
            if (!links.awaitOpen(link)) {
                return;
            }
            upstream = new Socket();
            sockets.add(upstream);
            upstream.setTcpNoDelay(true);
            upstream.connect(target, 5_000);
            OutputStream up = upstream.getOutputStream();
            up.write(consumed.toByteArray());
            up.flush();
            Socket server = upstream;
            threads.execute(() -> pump(link, server, client));
            pump(link, client, server);
        } catch (IOException e) {
            log.debug("proxy {}: connection ended: {}", name, e.toString());
            closeQuietly(client);
            closeQuietly(upstream);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(client);
            closeQuietly(upstream);
        } catch (RuntimeException e) {
            log.warn("proxy {}: connection failed", name, e);
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    /** Copies {@code from} to {@code to}, holding bytes while the link is cut. */
    private void pump(String link, Socket from, Socket to) {
        byte[] buffer = new byte[BUFFER_BYTES];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (true) {
                int n = in.read(buffer);
                if (!links.awaitOpen(link)) {
                    break;
                }
                if (n < 0) {
                    to.shutdownOutput();
                    if (from.isOutputShutdown()) {
                        closeQuietly(from);
                        closeQuietly(to);
                    }
                    return;
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            log.debug("proxy {}: {} ended: {}", name, link, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(from);
        closeQuietly(to);
    }

    private void closeQuietly(Socket s) {
        if (s == null) {
            return;
        }
        sockets.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // closing: nothing to do
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
