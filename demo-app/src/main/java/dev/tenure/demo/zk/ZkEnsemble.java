package dev.tenure.demo.zk;

import dev.tenure.harness.ZooKeeperProcessEnsemble;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ensemble that {@code zk start|run} and the {@code verify} harness run: a {@link ZooKeeperProcessEnsemble}
 * (one {@code QuorumPeerMain} process per server on 127.0.0.1, tickTime 500 ms, initLimit 10, syncLimit 5,
 * maxSessionTimeout 60 s, {@code -Xmx256m}, server logs at INFO; see that class for the port and file layout)
 * whose pids are recorded in {@code DIR/ensemble.pids}, one line {@code <server> <pid> <clientPort>} per
 * server, rewritten after every process start. Another process finds and stops the servers through that file:
 * {@link #stop(Path)}, {@link #status(Path)}.
 *
 * <p>Lifecycle, like Curator's recipes: {@link #start()} once, then {@link #close()} (idempotent) stops every
 * process this object started, waits for each to exit and removes the pid file. A JVM shutdown hook does the
 * same if this JVM exits normally or on SIGTERM/Ctrl-C. <b>No hook runs when this JVM is SIGKILLed</b>: the
 * servers then keep running, and {@link #stop(Path)} (the command {@code zk stop --dir DIR}) stops them from
 * the pid file. {@link #detach()} hands the servers over to the pid file on purpose: {@code zk start} uses it
 * to leave them running after it exits.
 *
 * <p>Threads: every method may be called from any thread; see {@link ZooKeeperProcessEnsemble} for which ones
 * block and for how long.
 */
public final class ZkEnsemble implements Closeable {
    /** The pid file's name inside the ensemble directory. */
    public static final String PID_FILE = "ensemble.pids";

    private static final int PROBE_TIMEOUT_MS = 1000;
    private static final Logger log = LoggerFactory.getLogger(ZkEnsemble.class);

    private final ZooKeeperProcessEnsemble servers;
    private final PidFileRecorder recorder;

    private ZkEnsemble(ZooKeeperProcessEnsemble.Builder builder, PidFileRecorder recorder) {
        this.recorder = recorder;
        this.servers = builder.listener(recorder).build();
    }

    /**
     * A builder for an ensemble whose files live under {@code dir} (created if missing). Defaults: 3 servers,
     * free ports, a 60 s start timeout.
     */
    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /** Builds a {@link ZkEnsemble}; {@link #build()} checks the options together. Not thread-safe. */
    public static final class Builder {
        private final ZooKeeperProcessEnsemble.Builder servers;
        private final Path dir;

        private Builder(Path dir) {
            this.servers = ZooKeeperProcessEnsemble.builder(dir);
            this.dir = dir.toAbsolutePath().normalize();
        }

        /** Number of servers, {@code 1..ZooKeeperProcessEnsemble.MAX_SERVERS}; 1 runs a standalone server. */
        public Builder servers(int servers) {
            this.servers.servers(servers);
            return this;
        }

        /** The first client port (see {@link ZooKeeperProcessEnsemble} for the layout), or 0 for free ports. */
        public Builder basePort(int basePort) {
            this.servers.basePort(basePort);
            return this;
        }

        /** How long {@link #start()} and {@link #restart(int)} wait for the servers to serve. Default 60 s. */
        public Builder startTimeout(Duration timeout) {
            this.servers.startTimeout(timeout);
            return this;
        }

        /** @throws IllegalArgumentException if the base port leaves no room for every server's three ports */
        public ZkEnsemble build() {
            return new ZkEnsemble(servers, new PidFileRecorder(dir));
        }
    }

    /**
     * Refuses to start over a running ensemble from the same directory, and keeps {@code ensemble.pids} in step
     * with the processes the ensemble starts and stops.
     */
    private static final class PidFileRecorder implements ZooKeeperProcessEnsemble.Listener {
        private final Path dir;
        // Guarded by this.
        private final Map<Integer, PidFile.Entry> entries = new TreeMap<>();
        private boolean removed;

        PidFileRecorder(Path dir) {
            this.dir = dir;
        }

        @Override
        public void starting() throws IOException {
            List<Long> running = runningPids(dir);
            if (!running.isEmpty()) {
                throw new IOException("an ensemble started from " + dir + " is still running (pids " + running
                        + "); stop it first with: zk stop --dir " + dir);
            }
        }

        @Override
        public synchronized void launched(int server, long pid, int clientPort) throws IOException {
            entries.put(server, new PidFile.Entry(server, pid, clientPort));
            PidFile.write(dir, List.copyOf(entries.values()));
        }

        @Override
        public synchronized void stopped() throws IOException {
            Files.deleteIfExists(PidFile.path(dir));
            removed = true;
        }

        /** True if this ensemble wrote a pid file and did not remove it. */
        synchronized boolean leftBehind() {
            return !entries.isEmpty() && !removed;
        }
    }

    /**
     * Starts every server and returns once all of them serve and one leads the quorum. On failure (a port in
     * use, a server process that exits, no quorum within the start timeout, an ensemble from the same
     * directory still running) it stops whatever it started and throws; the ensemble is then closed.
     *
     * @throws IOException if the ensemble cannot be started; the message names the log to read
     * @throws IllegalStateException if called more than once
     */
    public void start() throws IOException, InterruptedException {
        try {
            servers.start();
        } catch (IOException e) {
            if (recorder.leftBehind()) {
                log.warn("could not stop every server after a failed start; run: zk stop --dir {}", directory());
            }
            throw e;
        }
    }

    /** The servers' addresses for a ZooKeeper or Curator client: {@code 127.0.0.1:P1,127.0.0.1:P2,...}. */
    public String connectString() {
        return servers.connectString();
    }

    /** The number of servers. */
    public int servers() {
        return servers.servers();
    }

    /** The directory holding the servers' configuration, data, logs and the pid file. */
    public Path directory() {
        return servers.directory();
    }

    /** The client port of server {@code server} (1-based). */
    public int clientPort(int server) {
        return servers.clientPort(server);
    }

    /** The pid of server {@code server}'s current process (after {@link #restart(int)}, the new one). */
    public long pid(int server) {
        return servers.pid(server);
    }

    /** True if server {@code server}'s current process is alive. */
    public boolean isRunning(int server) {
        return servers.isRunning(server);
    }

    /** See {@link ZooKeeperProcessEnsemble#quorumLeader()}. */
    public int quorumLeader() throws IOException, InterruptedException {
        return servers.quorumLeader();
    }

    /** See {@link ZooKeeperProcessEnsemble#kill(int)}. */
    public void kill(int server) throws IOException, InterruptedException {
        servers.kill(server);
    }

    /** See {@link ZooKeeperProcessEnsemble#restart(int)}; the pid file is updated with the new pid. */
    public void restart(int server) throws IOException, InterruptedException {
        servers.restart(server);
    }

    /** Each server's current process and what it answers to {@code srvr}. */
    public List<ZkServerStatus> status() {
        List<ZkServerStatus> statuses = new ArrayList<>();
        for (int server = 1; server <= servers.servers(); server++) {
            boolean alive = servers.isRunning(server);
            int port = servers.clientPort(server);
            statuses.add(new ZkServerStatus(
                    server,
                    servers.pid(server),
                    port,
                    alive,
                    alive ? ZkServerMode.probe(port, PROBE_TIMEOUT_MS) : ZkServerMode.NO_ANSWER));
        }
        return statuses;
    }

    /**
     * Hands the running servers over to the pid file: {@link #close()} and the shutdown hook no longer stop
     * them, and only {@link #stop(Path)} does. Instance methods other than the getters may no longer be
     * called.
     */
    public void detach() {
        servers.detach();
        log.info("stop the ZooKeeper ensemble in {} with: zk stop --dir {}", directory(), directory());
    }

    /**
     * Stops every server process this ensemble started (SIGTERM, then SIGKILL after 5 s), waits for each to
     * exit and removes the pid file; the data stays. Idempotent; a no-op after {@link #detach()}.
     *
     * @throws IOException if some process did not exit; the pid file is then kept for {@link #stop(Path)}
     */
    @Override
    public void close() throws IOException {
        servers.close();
    }

    @Override
    public String toString() {
        return "ZkEnsemble{" + servers + "}";
    }

    /**
     * Stops the server processes recorded in {@code dir}'s pid file, by another process than the one that
     * started them (for example after {@code zk start}, or after the starting JVM was SIGKILLed): SIGTERM,
     * then SIGKILL after 5 s, waiting for each to exit; then removes the pid file. A recorded pid is only
     * signalled if it is alive and its command line contains {@code QuorumPeerMain}, so a pid reused by an
     * unrelated process is left alone. The data stays.
     *
     * @return the pids that were stopped; empty if none was running (the stale pid file is still removed)
     * @throws java.nio.file.NoSuchFileException if {@code dir} has no pid file
     * @throws IOException if some process did not exit; the pid file is then kept
     */
    public static List<Long> stop(Path dir) throws IOException, InterruptedException {
        Path absolute = dir.toAbsolutePath().normalize();
        List<Long> pids =
                PidFile.read(absolute).stream().map(PidFile.Entry::pid).collect(Collectors.toList());
        List<Long> stopped = ZooKeeperProcessEnsemble.stopServers(pids);
        Files.deleteIfExists(PidFile.path(absolute));
        return stopped;
    }

    /**
     * Each server recorded in {@code dir}'s pid file: its pid, whether that pid is a live ZooKeeper server
     * process, and what it answers to {@code srvr} (asked only if alive, 1 s timeout each).
     *
     * @throws java.nio.file.NoSuchFileException if {@code dir} has no pid file
     */
    public static List<ZkServerStatus> status(Path dir) throws IOException {
        List<ZkServerStatus> statuses = new ArrayList<>();
        for (PidFile.Entry entry : PidFile.read(dir.toAbsolutePath().normalize())) {
            boolean alive = isZooKeeperServer(entry.pid());
            ZkServerMode mode =
                    alive ? ZkServerMode.probe(entry.clientPort(), PROBE_TIMEOUT_MS) : ZkServerMode.NO_ANSWER;
            statuses.add(new ZkServerStatus(entry.server(), entry.pid(), entry.clientPort(), alive, mode));
        }
        return statuses;
    }

    /** The live ZooKeeper server pids recorded in {@code dir}'s pid file; empty if there is no pid file. */
    static List<Long> runningPids(Path dir) throws IOException {
        if (!Files.exists(PidFile.path(dir))) {
            return List.of();
        }
        return PidFile.read(dir).stream()
                .map(PidFile.Entry::pid)
                .filter(ZkEnsemble::isZooKeeperServer)
                .collect(Collectors.toList());
    }

    private static boolean isZooKeeperServer(long pid) {
        return ProcessHandle.of(pid)
                .map(ZooKeeperProcessEnsemble::isServerProcess)
                .orElse(false);
    }

    /** Completes when every process started so far has exited. */
    CompletableFuture<Void> allExited() {
        return servers.allExited();
    }
}
