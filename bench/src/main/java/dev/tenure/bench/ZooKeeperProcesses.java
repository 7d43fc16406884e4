package dev.tenure.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.TimeoutException;

/**
 * A real ZooKeeper ensemble: {@code n} server processes ({@code QuorumPeerMain}) on 127.0.0.1, each with
 * its own data directory under {@code root}, {@code fsync} on unless asked otherwise. The baseline writes
 * into it and the replicas are elected on it.
 *
 * <p>{@code tickTime} is 500 ms: session timeouts from 1 s are allowed, and a session expires at most one tick
 * after its timeout (the servers check expiry in tick-sized buckets), which bounds crash failover at the session
 * timeout plus half a second plus the election (the servers clamp a session
 * timeout to 2 to 20 ticks); the write path does not depend on it. Not thread-safe; {@link #close()} stops
 * every server.
 */
public final class ZooKeeperProcesses implements AutoCloseable {
    public static final int TICK_MILLIS = 500;

    private final List<ChildJvm> servers = new ArrayList<>();
    private final List<Integer> clientPorts = new ArrayList<>();

    private ZooKeeperProcesses() {}

    /** Starts {@code n} servers and waits until they form a quorum. */
    public static ZooKeeperProcesses start(int n, Path root, boolean fsync, Duration timeout) throws Exception {
        ZooKeeperProcesses zk = new ZooKeeperProcesses();
        try {
            int[] client = new int[n];
            int[] quorum = new int[n];
            int[] election = new int[n];
            for (int i = 0; i < n; i++) {
                client[i] = freePort();
                quorum[i] = freePort();
                election[i] = freePort();
            }
            for (int i = 0; i < n; i++) {
                int id = i + 1;
                Path dir = Files.createDirectories(root.resolve("zk" + id));
                Files.writeString(dir.resolve("myid"), Integer.toString(id));
                StringBuilder cfg = new StringBuilder();
                cfg.append("tickTime=").append(TICK_MILLIS).append('\n');
                cfg.append("initLimit=20\nsyncLimit=10\n");
                cfg.append("dataDir=").append(dir.toAbsolutePath()).append('\n');
                cfg.append("clientPort=").append(client[i]).append('\n');
                cfg.append("clientPortAddress=127.0.0.1\n");
                cfg.append("admin.enableServer=false\n");
                cfg.append("4lw.commands.whitelist=srvr\n");
                cfg.append("maxClientCnxns=0\n");
                cfg.append("forceSync=").append(fsync ? "yes" : "no").append('\n');
                for (int j = 0; j < n; j++) {
                    cfg.append("server.")
                            .append(j + 1)
                            .append("=127.0.0.1:")
                            .append(quorum[j])
                            .append(':')
                            .append(election[j])
                            .append('\n');
                }
                Path cfgFile = dir.resolve("zoo.cfg");
                Files.writeString(cfgFile, cfg.toString());
                zk.clientPorts.add(client[i]);
                zk.servers.add(ChildJvm.start(
                        "zookeeper-" + id,
                        List.of("-Xmx512m", "-Dzookeeper.log.level=WARN"),
                        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                        List.of(cfgFile.toString()),
                        root.resolve("logs").resolve("zookeeper-" + id + ".log"),
                        null));
            }
            zk.awaitQuorum(timeout);
            return zk;
        } catch (Exception | Error e) {
            zk.close();
            throw e;
        }
    }

    /** The connect string of every server. */
    public String connectString() {
        StringJoiner j = new StringJoiner(",");
        for (int p : clientPorts) {
            j.add("127.0.0.1:" + p);
        }
        return j.toString();
    }

    /** The connect string of server {@code i} (0-based) alone. */
    public String connectString(int i) {
        return "127.0.0.1:" + clientPorts.get(i);
    }

    public int size() {
        return servers.size();
    }

    /** The 0-based index of the server leading the quorum, or -1 if none answers as leader. */
    public int quorumLeader() {
        for (int i = 0; i < clientPorts.size(); i++) {
            if ("leader".equals(mode(clientPorts.get(i)))) {
                return i;
            }
        }
        return -1;
    }

    /** The pids of the servers. */
    public List<Long> pids() {
        return servers.stream().map(ChildJvm::pid).toList();
    }

    private void awaitQuorum(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int serving = 0;
            boolean leader = false;
            for (int p : clientPorts) {
                String m = mode(p);
                if (m != null) {
                    serving++;
                    leader |= m.equals("leader");
                }
            }
            if (serving == clientPorts.size() && leader) {
                return;
            }
            for (ChildJvm s : servers) {
                if (!s.isAlive()) {
                    throw new IllegalStateException(s + " exited; see " + s.logFile());
                }
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("ZooKeeper servers did not form a quorum within " + timeout);
            }
            Thread.sleep(50); // polling the servers' mode: there is no event to wait on across processes
        }
    }

    /** The server's mode ("leader", "follower", ...) by the srvr four-letter word, or null if it does not answer. */
    static String mode(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("Mode: ")) {
                    return line.substring("Mode: ".length()).trim();
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /** A port free on 127.0.0.1 right now (the operating system picks it). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (ChildJvm s : servers) {
            s.close();
        }
    }
}
