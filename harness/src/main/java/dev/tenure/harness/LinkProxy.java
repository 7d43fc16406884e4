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

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on 127.0.0.1 in front of one or more targets (one listening port each), whose connections can be cut
 * per {@link Links link} or dropped all at once. The one TCP proxy of Tenure's tests and harness: {@code verify}
 * puts one on every link it may cut, and testkit's {@code ZooKeeperProxy} puts one in front of an ensemble.
 *
 * <p>Each accepted connection belongs to one link, named by a {@link LinkNamer} from the connection's first bytes
 * (a fixed name, or the sender of a replication hello). Two faults, both ways on a connection:
 *
 * <ul>
 *   <li><b>cut</b> ({@link Links#cut}): while its link is cut the proxy moves no bytes either way on it and holds
 *       what it has read; a new connection on a cut link is accepted but not forwarded. This is a partition in
 *       which TCP connections survive: the endpoints see silence and time out on their own, and bytes held during
 *       the cut arrive late when it heals (if the endpoints still listen) — the delayed, stale messages a real
 *       network delivers.
 *   <li><b>drop</b> ({@link #drop()}): every connection through this proxy is reset at once (RST, like a crashed
 *       link) and new ones are reset on arrival, until {@link #heal()}. The endpoints notice at once.
 * </ul>
 *
 * <p>Closing one side of a connection closes the other.
 *
 * <p><b>TLS.</b> A proxy made by {@link #terminatingTls} sits in front of a replica whose replication port speaks
 * mutual TLS, where the hello is encrypted. It terminates TLS with every replica's key ({@link TlsKeys}): on accept it
 * completes a server handshake presenting the destination replica's certificate and requiring a client certificate
 * from the cluster's CA, names the link {@code SENDER->target} by the replica the client's certificate names, opens
 * its own TLS connection to the destination presenting the sender's certificate and key, and moves the plaintext
 * between the two sessions, with the same cut and drop. Each endpoint still sees the certificate of the replica it
 * expects. A client without a certificate from the CA, or with one naming no replica whose key the proxy holds, is
 * refused (the handshake fails, or the connection is closed). On a cut link the handshake with the client still
 * completes; nothing moves on after it, and the connection to the destination waits for the heal. A test-only man in
 * the middle: it holds every key.
 *
 * <p>Thread-safe; two threads per connection plus one accepting per target (with TLS, the first also makes both
 * handshakes). {@link #close()} closes every socket and
 * stops every thread it started (it waits up to 5 s for them).
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
        String name(DataInputStream in, ByteArrayOutputStream consumed) throws IOException;
    }

    /** Reads the sender's id from a whole hello frame (its 4-byte length prefix and body). */
    public interface HelloDecoder {
        /**
         * @throws Exception if the frame is not a well-formed hello
         */
        String sender(byte[] frame) throws Exception;
    }

    /** Every connection belongs to {@code link}. */
    public static LinkNamer fixed(String link) {
        return (in, consumed) -> link;
    }

    /**
     * Connections to replica {@code target}'s replication port: the link is {@code SENDER->target}, the sender
     * taken from the connection's first frame, a 4-byte big-endian length and a body, by {@code hello} ({@code
     * ?->target} if the first frame is not a well-formed hello).
     */
    public static LinkNamer replicationTo(String target, HelloDecoder hello) {
        Objects.requireNonNull(hello, "hello");
        return (in, consumed) -> {
            int length = in.readInt();
            consumed.write(ByteBuffer.allocate(4).putInt(length).array());
            if (length < 0 || length > MAX_HELLO_BYTES) {
                return Links.replication("?", target);
            }
            byte[] body = in.readNBytes(length);
            consumed.write(body);
            try {
                return Links.replication(hello.sender(consumed.toByteArray()), target);
            } catch (Exception e) {
                return Links.replication("?", target);
            }
        };
    }

    /** The longest a TLS handshake may take, either side. */
    private static final int HANDSHAKE_MILLIS = 10_000;

    private final String name;
    private final LinkNamer namer;
    private final TlsKeys tls; // null: bytes pass as they are
    private final String tlsTarget; // with tls: the destination replica's id
    private final Links links;
    private final List<ServerSocket> servers = new ArrayList<>();
    private final ExecutorService threads;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean dropping;
    private volatile boolean closed;

    /**
     * Binds an ephemeral port on 127.0.0.1 in front of {@code target} and starts accepting.
     *
     * @param name for thread names and logs
     * @param target where connections go
     * @param namer names each connection's link
     * @param links the cut links
     */
    public LinkProxy(String name, InetSocketAddress target, LinkNamer namer, Links links) throws IOException {
        this(name, List.of(target), namer, links);
    }

    /**
     * Binds one ephemeral port on 127.0.0.1 per target and starts accepting.
     *
     * @param name for thread names and logs
     * @param targets where connections go, one listening port each (in this order)
     * @param namer names each connection's link
     * @param links the cut links
     * @throws IOException if a port cannot be bound (what was bound is closed)
     */
    public LinkProxy(String name, List<InetSocketAddress> targets, LinkNamer namer, Links links) throws IOException {
        this(name, targets, Objects.requireNonNull(namer, "namer"), null, null, links);
    }

    /**
     * A proxy in front of replica {@code targetId}'s mutual-TLS replication port that terminates TLS (see the class
     * comment): binds an ephemeral port on 127.0.0.1 and starts accepting. Connections are named {@code
     * SENDER->targetId} by the replica the client's certificate names.
     *
     * @param name for thread names and logs
     * @param target the replica's replication port
     * @param targetId the replica's id; {@code keys} must hold its key
     * @param keys every replica's key and certificate, and the CA
     * @param links the cut links
     * @throws IllegalArgumentException if {@code keys} has no key for {@code targetId}
     */
    public static LinkProxy terminatingTls(
            String name, InetSocketAddress target, String targetId, TlsKeys keys, Links links) throws IOException {
        Objects.requireNonNull(keys, "keys");
        if (!keys.ids().contains(targetId.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("no key for replica '" + targetId + "' (have " + keys.ids() + ")");
        }
        return new LinkProxy(name, List.of(target), null, keys, targetId, links);
    }

    private LinkProxy(
            String name, List<InetSocketAddress> targets, LinkNamer namer, TlsKeys tls, String tlsTarget, Links links)
            throws IOException {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("at least one target is required");
        }
        this.name = Objects.requireNonNull(name, "name");
        this.namer = namer;
        this.tls = tls;
        this.tlsTarget = tlsTarget;
        this.links = Objects.requireNonNull(links, "links");
        AtomicInteger count = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "proxy-" + name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            for (InetSocketAddress target : targets) {
                ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                servers.add(server);
                threads.execute(() -> acceptLoop(server, Objects.requireNonNull(target, "target")));
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /** The address of the first target's port (127.0.0.1 and its port). */
    public InetSocketAddress address() {
        ServerSocket server = servers.get(0);
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    /** The {@code HOST:PORT} form of {@link #address()}. */
    public String hostPort() {
        return "127.0.0.1:" + servers.get(0).getLocalPort();
    }

    /** Every target's port as {@code 127.0.0.1:P1,127.0.0.1:P2,...}: a ZooKeeper connect string through the proxy. */
    public String connectString() {
        return servers.stream().map(s -> "127.0.0.1:" + s.getLocalPort()).collect(Collectors.joining(","));
    }

    /**
     * Resets every connection through this proxy (RST) and resets new ones on arrival until {@link #heal()}.
     *
     * @throws IllegalStateException if closed
     */
    public void drop() {
        checkOpen();
        dropping = true;
        for (Socket s : sockets) {
            reset(s);
        }
        log.info("proxy {} drops every connection", name);
    }

    /**
     * Lets connections through again after {@link #drop()}. Links cut in {@link Links} stay cut.
     *
     * @throws IllegalStateException if closed
     */
    public void heal() {
        checkOpen();
        dropping = false;
        log.info("proxy {} healed", name);
    }

    /** Whether the proxy drops connections ({@link #drop()} without a {@link #heal()} since). */
    public boolean isDropping() {
        return dropping;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("proxy " + name + " is closed");
        }
    }

    private void acceptLoop(ServerSocket server, InetSocketAddress target) {
        while (!closed) {
            try {
                Socket client = server.accept();
                if (dropping) {
                    reset(client);
                    continue;
                }
                sockets.add(client);
                if (tls == null) {
                    threads.execute(() -> serve(client, target));
                } else {
                    threads.execute(() -> serveTls(client, target));
                }
            } catch (IOException e) {
                if (!closed) {
                    log.warn("proxy {} stopped accepting", name, e);
                }
                return;
            }
        }
    }

    private void serve(Socket client, InetSocketAddress target) {
        Socket upstream = null;
        try {
            client.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(client.getInputStream());
            ByteArrayOutputStream consumed = new ByteArrayOutputStream();
            String link = namer.name(in, consumed);
            if (!links.awaitOpen(link)) {
                return;
            }
            upstream = new Socket();
            sockets.add(upstream);
            upstream.setTcpNoDelay(true);
            upstream.connect(target, 5_000);
            if (dropping || closed) {
                throw new SocketException("dropped");
            }
            OutputStream up = upstream.getOutputStream();
            up.write(consumed.toByteArray());
            up.flush();
            Socket server = upstream;
            threads.execute(() -> pump(link, server, client, server, client));
            pump(link, client, server, client, server);
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

    /**
     * Serves one connection to a mutual-TLS port: a server handshake as the destination, the link named by the
     * client's certificate, a client handshake as the sender, then the plaintext both ways.
     */
    private void serveTls(Socket client, InetSocketAddress target) {
        Socket upstream = null;
        try {
            client.setTcpNoDelay(true);
            client.setSoTimeout(HANDSHAKE_MILLIS);
            SSLSocket clientTls = tls.accept(client, tlsTarget);
            Optional<String> sender = tls.peerId(clientTls.getSession());
            if (sender.isEmpty()) {
                log.info("proxy {}: refused a client whose certificate names no replica", name);
                closeQuietly(client);
                return;
            }
            client.setSoTimeout(0);
            String link = Links.replication(sender.get(), tlsTarget);
            if (!links.awaitOpen(link)) {
                return;
            }
            upstream = new Socket();
            sockets.add(upstream);
            upstream.setTcpNoDelay(true);
            upstream.connect(target, 5_000);
            if (dropping || closed) {
                throw new SocketException("dropped");
            }
            upstream.setSoTimeout(HANDSHAKE_MILLIS);
            SSLSocket upstreamTls = tls.connect(upstream, sender.get(), tlsTarget);
            upstream.setSoTimeout(0);
            Socket server = upstream;
            threads.execute(() -> pump(link, upstreamTls, clientTls, server, client));
            pump(link, clientTls, upstreamTls, client, server);
        } catch (SSLException e) {
            log.info("proxy {}: TLS handshake failed: {}", name, e.toString());
            closeQuietly(client);
            closeQuietly(upstream);
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

    /**
     * Copies {@code from} to {@code to}, holding bytes while the link is cut; stops when dropped. {@code fromSocket}
     * and {@code toSocket} are the TCP connections under them (the same sockets without TLS), closed at the end.
     */
    private void pump(String link, Socket from, Socket to, Socket fromSocket, Socket toSocket) {
        byte[] buffer = new byte[BUFFER_BYTES];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (true) {
                int n = in.read(buffer);
                if (!links.awaitOpen(link) || dropping) {
                    break;
                }
                if (n < 0) {
                    to.shutdownOutput();
                    if (from.isOutputShutdown()) {
                        closeQuietly(fromSocket);
                        closeQuietly(toSocket);
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
        // Dropping: a RST for the other side too, even if this pump saw its side reset first (a FIN would tell the
        // peer the connection ended cleanly, which a dropped link never does).
        if (dropping) {
            reset(fromSocket);
            reset(toSocket);
        } else {
            closeQuietly(fromSocket);
            closeQuietly(toSocket);
        }
    }

    /** Closes with SO_LINGER 0: the peer gets a RST, as from a crashed link. */
    private void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (SocketException ignored) {
            // already closed
        }
        closeQuietly(s);
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

    /** Closes every socket and stops every thread; idempotent. */
    @Override
    public void close() {
        closed = true;
        for (ServerSocket server : servers) {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing: nothing to do
            }
        }
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
