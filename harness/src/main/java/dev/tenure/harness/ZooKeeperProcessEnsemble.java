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

import com.google.common.base.Preconditions;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.X509Exception;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real ZooKeeper ensemble on loopback: one {@code java} process per server, each running {@code
 * org.apache.zookeeper.server.quorum.QuorumPeerMain} from this JVM's class path. For benchmarks, demos and
 * end-to-end tests that need servers which can be SIGKILLed; for in-process tests use testkit's {@code ZooKeeperEnsemble}.
 *
 * <p>Servers are numbered {@code 1..n} (their {@code myid}). Everything binds 127.0.0.1 only. With a base
 * port {@code B}, server {@code s} listens for clients on {@code B+s-1}, for quorum traffic on {@code
 * B+707+s-1} and for leader election on {@code B+1707+s-1} (so base 2181 gives ZooKeeper's familiar 2181,
 * 2888, 3888); with base port 0 (the builder's default) every port is one {@link ServerPorts} reserves for
 * this JVM at start (below the ephemeral range, never shared with another JVM drawing there). The
 * servers' settings are the {@link Builder}'s; every four-letter word is allowed and there is no admin
 * server.
 *
 * <p>On disk, under the directory given to {@link #builder(Path)}:
 *
 * <ul>
 *   <li>{@code zk-N/zoo.cfg} (rewritten at every start), {@code zk-N/data/} with {@code myid} (kept
 *       between runs: delete the directory for a fresh ensemble), {@code zk-N/server.log} (the server's
 *       log) and {@code zk-N/console.log} (the JVM's stdout and stderr, for crashes before logging starts);
 *   <li>{@code zk-logback.xml}, the servers' logging configuration;
 *   <li>with {@link Builder#clientTls}, {@link #CLIENT_TLS_FILE} ({@code 0600}): the settings a client needs for the
 *       TLS-only client ports.
 * </ul>
 *
 * <p>Each server JVM gets the class path of this JVM in the {@code CLASSPATH} environment variable ({@link
 * ChildJvm#childClassPath()}), so that its command line stays short enough for {@link
 * ProcessHandle.Info#commandLine()} to show {@code QuorumPeerMain}: {@link #isServerProcess(ProcessHandle)}
 * and {@link #stopServers(Collection)} rely on it.
 *
 * <p>Lifecycle, like Curator's recipes: {@link #start()} once, then {@link #close()} (idempotent) stops every
 * process this object started and waits for each to exit: SIGTERM, then SIGKILL after 5 s. A JVM shutdown
 * hook does the same if this JVM exits normally or on SIGTERM/Ctrl-C without {@code close()}. <b>No hook runs
 * when this JVM is SIGKILLed</b>: the servers then keep running; a {@link Listener} that records their pids
 * lets another process stop them with {@link #stopServers(Collection)}. {@link #detach()} leaves the servers
 * running on purpose.
 *
 * <p>Threads: every method may be called from any thread. Instance methods are serialized on this object,
 * and the blocking ones ({@link #start()}, {@link #restart(int)}, {@link #quorumLeader()}, {@link #close()})
 * hold it while they wait, for at most the start timeout (60 s by default) plus the stop grace. The shutdown
 * hook does not take the lock. What a server reports is a snapshot: the quorum can re-elect behind the
 * caller's back right after {@link #quorumLeader()} returns.
 */
public final class ZooKeeperProcessEnsemble implements Closeable {
    /** The largest ensemble this launcher starts. */
    public static final int MAX_SERVERS = 15;
    /** Server {@code s}'s quorum port is {@code basePort + QUORUM_PORT_OFFSET + s - 1}. */
    public static final int QUORUM_PORT_OFFSET = 707;
    /** Server {@code s}'s leader-election port is {@code basePort + ELECTION_PORT_OFFSET + s - 1}. */
    public static final int ELECTION_PORT_OFFSET = 1707;
    /** How long {@link #start()} and {@link #restart(int)} wait for the servers to serve, by default. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);
    /** How long a server gets to exit after SIGTERM before it is sent SIGKILL. */
    public static final Duration STOP_GRACE = Duration.ofSeconds(5);
    /** The address every server binds. */
    public static final String LOOPBACK = "127.0.0.1";

    static final String MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
    static final String LOGBACK_FILE = "zk-logback.xml";
    /**
     * With {@link Builder#clientTls}: the client TLS settings (ZooKeeper's {@code zookeeper.client.secure}, {@code
     * zookeeper.ssl.*} keys) written into the ensemble directory, for {@code node --zk-tls-config} and for this
     * class's own {@code srvr} probes.
     */
    public static final String CLIENT_TLS_FILE = "zk-client-tls.properties";

    /**
     * TLS on the servers' client ports: each server listens for clients on a TLS-only secure client port ({@code
     * secureClientPort}, Netty) instead of a plaintext one, presents {@code serverKeyStore} and requires a client
     * certificate that {@code trustStore} accepts. {@code clientKeyStore} is the certificate a client presents,
     * written into {@link #CLIENT_TLS_FILE} with {@code trustStore} (which must accept the servers' certificates
     * too: one CA). Key stores are ZooKeeper PEM key stores: the PKCS#8 private key and the certificate chain in one
     * file; the trust store holds the CA certificates as PEM. The servers' certificates must name 127.0.0.1 (ZooKeeper's
     * client checks the host name). The servers' quorum traffic runs over TLS too ({@code sslQuorum}), each presenting
     * {@code serverKeyStore} and checking the others' against {@code trustStore}.
     */
    public record ClientTls(Path serverKeyStore, Path clientKeyStore, Path trustStore) {
        public ClientTls {
            Objects.requireNonNull(serverKeyStore, "serverKeyStore");
            Objects.requireNonNull(clientKeyStore, "clientKeyStore");
            Objects.requireNonNull(trustStore, "trustStore");
        }
    }

    /** The pid file's name inside the ensemble directory, with {@link Builder#recordPids()}. */
    public static final String PID_FILE = "ensemble.pids";

    private static final Set<String> SERVING_MODES = Set.of("leader", "follower", "observer", "standalone");
    private static final Set<String> LEADING_MODES = Set.of("leader", "standalone");
    private static final int PROBE_TIMEOUT_MS = 1000;
    private static final long POLL_MS = 100;
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperProcessEnsemble.class);

    /**
     * Told about the ensemble's processes, for example to record their pids where another process can find
     * them. Methods have no-op defaults.
     */
    public interface Listener {
        /**
         * {@link #start()} is about to start the servers; nothing has been started yet. Called with the
         * ensemble's lock held. An exception fails the start, which then stops nothing and does not call {@link
         * #stopped()}.
         */
        default void starting() throws IOException {}

        /**
         * Server {@code server}'s process was started, by {@link #start()} or {@link #restart(int)}, before it
         * is waited for. Called with the ensemble's lock held. An exception fails that start or restart.
         */
        default void launched(int server, long pid, int clientPort) throws IOException {}

        /**
         * Every process this ensemble started has exited, after {@link #close()}, a failed {@link #start()} or
         * the shutdown hook stopped them. Not called if some process did not exit, nor after {@link
         * #detach()}. The shutdown hook calls it from its own thread without the ensemble's lock.
         */
        default void stopped() throws IOException {}
    }

    private enum State {
        LATENT,
        STARTED,
        DETACHED,
        CLOSED
    }

    private final Path dir;
    private final int size;
    private final int basePort;
    private final Duration startTimeout;
    private final Duration tickTime;
    private final int initLimit;
    private final int syncLimit;
    private final Duration maxSessionTimeout;
    private final boolean forceSync;
    private final int maxClientConnections;
    private final String heap;
    private final String serverLogLevel;
    private final Listener listener;
    private final PidFileRecorder recorder;
    private final ClientTls clientTls; // null: plaintext client ports
    /** Every process ever started, for close() and the shutdown hook (which does not take the lock). */
    private final List<ChildProcess> launched = new CopyOnWriteArrayList<>();
    // Guarded by this.
    private final ChildProcess[] processes;
    private final int[] clientPorts;
    private final int[] quorumPorts;
    private final int[] electionPorts;
    private State state = State.LATENT;
    private Thread shutdownHook;

    private ZooKeeperProcessEnsemble(Builder builder) {
        this.dir = builder.dir;
        this.size = builder.servers;
        this.basePort = builder.basePort;
        this.startTimeout = builder.startTimeout;
        this.tickTime = builder.tickTime;
        this.initLimit = builder.initLimit;
        this.syncLimit = builder.syncLimit;
        this.maxSessionTimeout = builder.maxSessionTimeout;
        this.forceSync = builder.forceSync;
        this.maxClientConnections = builder.maxClientConnections;
        this.heap = builder.heap;
        this.serverLogLevel = builder.serverLogLevel;
        this.recorder = builder.recordPids ? new PidFileRecorder(dir) : null;
        this.clientTls = builder.clientTls;
        this.listener = recorder == null ? builder.listener : chain(recorder, builder.listener);
        this.processes = new ChildProcess[size];
        this.clientPorts = new int[size];
        this.quorumPorts = new int[size];
        this.electionPorts = new int[size];
    }

    /**
     * A builder for an ensemble whose files live under {@code dir} (created if missing). Defaults: 3 servers,
     * free ports, a 60 s start timeout, tickTime 500 ms, initLimit 10, syncLimit 5, maxSessionTimeout 60 s,
     * fsync on, at most 60 connections per client address, {@code -Xmx256m}, server logs at INFO.
     */
    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /** Builds a {@link ZooKeeperProcessEnsemble}; {@link #build()} checks the options together. Not thread-safe. */
    public static final class Builder {
        private final Path dir;
        private int servers = 3;
        private int basePort = 0;
        private Duration startTimeout = DEFAULT_START_TIMEOUT;
        private Duration tickTime = Duration.ofMillis(500);
        private int initLimit = 10;
        private int syncLimit = 5;
        private Duration maxSessionTimeout = Duration.ofSeconds(60);
        private boolean forceSync = true;
        private int maxClientConnections = 60;
        private String heap = "256m";
        private String serverLogLevel = "INFO";
        private Listener listener = new Listener() {};
        private boolean recordPids;
        private ClientTls clientTls;

        private Builder(Path dir) {
            Preconditions.checkNotNull(dir, "dir");
            this.dir = dir.toAbsolutePath().normalize();
        }

        /** Number of servers, {@code 1..MAX_SERVERS}; 1 runs a standalone server. Default 3. */
        public Builder servers(int servers) {
            Preconditions.checkArgument(
                    servers >= 1 && servers <= MAX_SERVERS,
                    "servers must be between 1 and %s, was %s",
                    MAX_SERVERS,
                    servers);
            this.servers = servers;
            return this;
        }

        /** The first client port (see the class comment for the layout), or 0 for free ports. Default 0. */
        public Builder basePort(int basePort) {
            Preconditions.checkArgument(basePort >= 0, "base port must be >= 0, was %s", basePort);
            this.basePort = basePort;
            return this;
        }

        /** How long {@link #start()} and {@link #restart(int)} wait for the servers to serve. Default 60 s. */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = positive(timeout, "start timeout");
            return this;
        }

        /**
         * ZooKeeper's {@code tickTime}, whole milliseconds. Sessions expire at most one tick after their timeout
         * (servers check expiry in tick-sized buckets), and servers clamp a session timeout to at least 2 ticks.
         * Default 500 ms.
         */
        public Builder tickTime(Duration tickTime) {
            this.tickTime = positive(tickTime, "tickTime");
            return this;
        }

        /** ZooKeeper's {@code initLimit}, in ticks. Default 10. */
        public Builder initLimit(int ticks) {
            Preconditions.checkArgument(ticks >= 1, "initLimit must be >= 1, was %s", ticks);
            this.initLimit = ticks;
            return this;
        }

        /** ZooKeeper's {@code syncLimit}, in ticks. Default 5. */
        public Builder syncLimit(int ticks) {
            Preconditions.checkArgument(ticks >= 1, "syncLimit must be >= 1, was %s", ticks);
            this.syncLimit = ticks;
            return this;
        }

        /** ZooKeeper's {@code maxSessionTimeout}: longer session timeouts are clamped to it. Default 60 s. */
        public Builder maxSessionTimeout(Duration timeout) {
            this.maxSessionTimeout = positive(timeout, "maxSessionTimeout");
            return this;
        }

        /** ZooKeeper's {@code forceSync}: whether the servers fsync their transaction log. Default true. */
        public Builder forceSync(boolean forceSync) {
            this.forceSync = forceSync;
            return this;
        }

        /** ZooKeeper's {@code maxClientCnxns} per client address; 0 for no limit. Default 60. */
        public Builder maxClientConnections(int connections) {
            Preconditions.checkArgument(connections >= 0, "maxClientConnections must be >= 0, was %s", connections);
            this.maxClientConnections = connections;
            return this;
        }

        /** Each server JVM's maximum heap, as for {@code -Xmx} (for example {@code 512m}). Default 256m. */
        public Builder heap(String heap) {
            Preconditions.checkArgument(
                    heap != null && heap.matches("[0-9]+[kKmMgG]?"), "heap must look like 512m, was %s", heap);
            this.heap = heap;
            return this;
        }

        /** The level of the servers' {@code server.log} (logback: TRACE, DEBUG, INFO, WARN, ERROR). Default INFO. */
        public Builder serverLogLevel(String level) {
            Preconditions.checkArgument(
                    level != null && level.matches("TRACE|DEBUG|INFO|WARN|ERROR|OFF"),
                    "server log level must be one of TRACE, DEBUG, INFO, WARN, ERROR, OFF; was %s",
                    level);
            this.serverLogLevel = level;
            return this;
        }

        /**
         * Records the servers' pids in {@code DIR/ensemble.pids} ({@link #PID_FILE}), one line {@code <server>
         * <pid> <clientPort>} per server, rewritten after every process start and removed once every process
         * stopped; refuses to start over a running ensemble from the same directory. Another process finds and
         * stops the servers through that file: {@link ZooKeeperProcessEnsemble#stop(Path)}, {@link
         * ZooKeeperProcessEnsemble#status(Path)} (the {@code zk start|stop|status} commands). Default: off.
         */
        public Builder recordPids() {
            this.recordPids = true;
            return this;
        }

        /**
         * TLS-only client ports (see {@link ClientTls}); the ensemble writes {@code DIR/}{@link #CLIENT_TLS_FILE} for
         * clients, and its own {@code srvr} probes use it. The connect string is unchanged: the client ports are the
         * secure ones. Default: plaintext client ports.
         */
        public Builder clientTls(ClientTls tls) {
            this.clientTls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /** Told about started and stopped processes. Default: none. */
        public Builder listener(Listener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * @throws IllegalArgumentException if the base port leaves no room for every server's three ports, or
         *     maxSessionTimeout is shorter than ZooKeeper's minimum session timeout (2 ticks)
         */
        public ZooKeeperProcessEnsemble build() {
            Optional<String> bad = basePortOutOfRange(basePort, servers);
            Preconditions.checkArgument(bad.isEmpty(), "%s", bad.orElse(""));
            Preconditions.checkArgument(
                    maxSessionTimeout.compareTo(tickTime.multipliedBy(2)) >= 0,
                    "maxSessionTimeout %s is shorter than 2 ticks of %s",
                    maxSessionTimeout,
                    tickTime);
            return new ZooKeeperProcessEnsemble(this);
        }

        private static Duration positive(Duration duration, String what) {
            Preconditions.checkArgument(
                    duration != null && duration.toMillis() > 0, "%s must be >= 1 ms, was %s", what, duration);
            return duration;
        }
    }

    /**
     * Starts every server and returns once all of them serve and one leads the quorum. On failure (a port in
     * use, a server process that exits, no quorum within the start timeout) it stops whatever it started and
     * throws; the ensemble is then closed.
     *
     * @throws IOException if the ensemble cannot be started; the message names the log to read
     * @throws IllegalStateException if called more than once
     */
    public synchronized void start() throws IOException, InterruptedException {
        Preconditions.checkState(state == State.LATENT, "Cannot be started more than once");
        state = State.STARTED;
        boolean started = false;
        try {
            Files.createDirectories(dir);
            listener.starting();
            assignPorts();
            writeFiles();
            registerShutdownHook();
            long deadline = ChildProcess.deadline(startTimeout);
            for (int server = 1; server <= size; server++) {
                launch(server);
            }
            int leader = awaitQuorum(allServers(), deadline, "start");
            started = true;
            log.info("ZooKeeper ensemble in {} serves at {}; quorum leader server.{}", dir, connectString(), leader);
        } finally {
            if (!started) {
                try {
                    abortStart();
                } finally {
                    if (recorder != null && recorder.leftBehind()) {
                        log.warn("could not stop every server after a failed start; run: zk stop --dir {}", dir);
                    }
                }
            }
        }
    }

    private void abortStart() {
        state = State.CLOSED;
        removeShutdownHook();
        try {
            stopLaunched();
        } catch (IOException e) {
            log.warn("could not stop every ZooKeeper server after a failed start in {}", dir, e);
        }
    }

    /** The servers' addresses for a ZooKeeper or Curator client: {@code 127.0.0.1:P1,127.0.0.1:P2,...}. */
    public synchronized String connectString() {
        checkPortsAssigned();
        return Arrays.stream(clientPorts).mapToObj(p -> LOOPBACK + ":" + p).collect(Collectors.joining(","));
    }

    /**
     * The client TLS settings file ({@code DIR/}{@link #CLIENT_TLS_FILE}) for {@code node --zk-tls-config}, if the
     * client ports are TLS-only; written by {@link #start()}.
     */
    public Optional<Path> clientTlsFile() {
        return clientTls == null ? Optional.empty() : Optional.of(dir.resolve(CLIENT_TLS_FILE));
    }

    /** The number of servers. */
    public int servers() {
        return size;
    }

    /** The directory holding the servers' configuration, data and logs. */
    public Path directory() {
        return dir;
    }

    /** The directory of server {@code server} (1-based): {@code zk-N} under {@link #directory()}. */
    public Path serverDirectory(int server) {
        checkServer(server);
        return serverDir(server);
    }

    /** The client port of server {@code server} (1-based). */
    public synchronized int clientPort(int server) {
        checkServer(server);
        checkPortsAssigned();
        return clientPorts[server - 1];
    }

    /** The pid of server {@code server}'s current process (after {@link #restart(int)}, the new one). */
    public synchronized long pid(int server) {
        checkServer(server);
        Preconditions.checkState(processes[server - 1] != null, "server %s was never started", server);
        return processes[server - 1].pid();
    }

    /** True if server {@code server}'s current process is alive. */
    public synchronized boolean isRunning(int server) {
        checkServer(server);
        return processes[server - 1] != null && processes[server - 1].isAlive();
    }

    /**
     * The server that leads the quorum, waiting (up to the start timeout) until a majority serves with one
     * leader, for example while the servers re-elect after the leader was killed. With one server, that
     * server.
     *
     * @throws IOException if no quorum forms in time
     */
    public synchronized int quorumLeader() throws IOException, InterruptedException {
        checkStarted();
        return awaitQuorum(Set.of(), ChildProcess.deadline(startTimeout), "quorum leader");
    }

    /**
     * SIGKILLs server {@code server}'s process (no shutdown of any kind, like a crash) and waits for it to
     * exit. Its data stays; {@link #restart(int)} brings it back.
     *
     * @throws IllegalStateException if the server is not running
     * @throws IOException if the process has not exited 10 s after SIGKILL
     */
    public synchronized void kill(int server) throws IOException, InterruptedException {
        checkStarted();
        checkServer(server);
        ChildProcess process = processes[server - 1];
        Preconditions.checkState(
                process != null && process.isAlive(), "server %s (pid %s) is not running", server, pidOf(process));
        process.kill();
        log.info("killed server.{} (pid {})", server, process.pid());
    }

    /**
     * Starts server {@code server} again on the same ports and data, first stopping its process if it is still
     * alive (SIGTERM, then SIGKILL after 5 s). Returns once the server serves again, which needs a majority of
     * the ensemble alive.
     *
     * @throws IOException if the server does not serve within the start timeout; its process is left running
     *     and {@link #close()} still stops it
     */
    public synchronized void restart(int server) throws IOException, InterruptedException {
        checkStarted();
        checkServer(server);
        ChildProcess old = processes[server - 1];
        if (old != null && old.isAlive()) {
            ChildProcess.stop(List.of(old.handle()), STOP_GRACE);
        }
        long deadline = ChildProcess.deadline(startTimeout);
        launch(server);
        awaitQuorum(Set.of(server), deadline, "restart of server " + server);
        log.info("restarted server.{} (pid {})", server, processes[server - 1].pid());
    }

    /**
     * Hands the running servers over to whoever recorded their pids: {@link #close()} and the shutdown hook no
     * longer stop them. Instance methods other than the getters may no longer be called.
     */
    public synchronized void detach() {
        Preconditions.checkState(state == State.STARTED, "only a started ensemble can be detached (it is %s)", state);
        state = State.DETACHED;
        removeShutdownHook();
        log.info("detached the ZooKeeper ensemble in {}", dir);
        if (recorder != null) {
            log.info("stop the ZooKeeper ensemble in {} with: zk stop --dir {}", dir, dir);
        }
    }

    /** Completes when every process started so far has exited. */
    public CompletableFuture<Void> allExited() {
        return CompletableFuture.allOf(
                launched.stream().map(ChildProcess::onExit).toArray(CompletableFuture[]::new));
    }

    /**
     * Stops every server process this ensemble started (SIGTERM, then SIGKILL after 5 s), waits for each to
     * exit and then tells the listener; the data stays. Idempotent; a no-op before {@link #start()} and after
     * {@link #detach()}.
     *
     * @throws IOException if some process did not exit (the listener is then not told)
     * @throws InterruptedIOException if interrupted; every process still alive has then been sent SIGKILL
     */
    @Override
    public synchronized void close() throws IOException {
        State was = state;
        state = State.CLOSED;
        if (was != State.STARTED) {
            return;
        }
        removeShutdownHook();
        stopLaunched();
        log.info("stopped the ZooKeeper ensemble in {}", dir);
    }

    @Override
    public synchronized String toString() {
        return "ZooKeeperProcessEnsemble{dir=" + dir + ", servers=" + size + ", state=" + state + "}";
    }

    /**
     * Stops the ZooKeeper server processes among {@code pids}, for example ones recorded by another process
     * that has since died: SIGTERM, then SIGKILL after 5 s, waiting for each to exit. A pid is only signalled
     * if it is alive and {@link #isServerProcess(ProcessHandle)}, so a pid reused by an unrelated process is
     * left alone.
     *
     * @return the pids that were stopped
     * @throws IOException if some process did not exit
     */
    public static List<Long> stopServers(Collection<Long> pids) throws IOException, InterruptedException {
        List<ProcessHandle> handles = new ArrayList<>();
        for (long pid : pids) {
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            if (handle.isEmpty() || !handle.get().isAlive()) {
                continue;
            }
            if (!isServerProcess(handle.get())) {
                log.warn("pid {} is not a ZooKeeper server process now; left alone", pid);
                continue;
            }
            handles.add(handle.get());
        }
        ChildProcess.stop(handles, STOP_GRACE);
        return handles.stream().map(ProcessHandle::pid).collect(Collectors.toList());
    }

    /** True if the process is alive, not this JVM, and its command line names ZooKeeper's {@code QuorumPeerMain}. */
    public static boolean isServerProcess(ProcessHandle handle) {
        return handle.isAlive()
                && handle.pid() != ProcessHandle.current().pid()
                && handle.info()
                        .commandLine()
                        .map(line -> line.contains("QuorumPeerMain"))
                        .orElse(false);
    }

    /**
     * Asks the server on {@code 127.0.0.1:clientPort} with the {@code srvr} four-letter word. Never throws: a
     * connection failure or a timeout is empty.
     */
    public static Optional<String> srvr(int clientPort, int timeoutMs) {
        return srvr(clientPort, timeoutMs, null);
    }

    /**
     * As {@link #srvr(int, int)}, over TLS with {@code tls} (ZooKeeper client settings, as {@link #CLIENT_TLS_FILE}
     * holds them) unless it is null.
     */
    public static Optional<String> srvr(int clientPort, int timeoutMs, ZKClientConfig tls) {
        try {
            return Optional.of(
                    tls == null
                            ? FourLetterWordMain.send4LetterWord(LOOPBACK, clientPort, "srvr", false, timeoutMs)
                            : FourLetterWordMain.send4LetterWord(LOOPBACK, clientPort, "srvr", tls, timeoutMs));
        } catch (IOException | X509Exception.SSLContextException e) {
            return Optional.empty();
        }
    }

    /**
     * The client TLS settings {@code dir}'s ensemble wrote ({@link #CLIENT_TLS_FILE}), or null if it has none (plaintext
     * client ports).
     */
    static ZKClientConfig clientTlsConfig(Path dir) throws IOException {
        Path file = dir.resolve(CLIENT_TLS_FILE);
        if (!Files.exists(file)) {
            return null;
        }
        java.util.Properties properties = new java.util.Properties();
        try (java.io.Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(in);
        }
        ZKClientConfig config = new ZKClientConfig();
        for (String key : properties.stringPropertyNames()) {
            config.setProperty(key, properties.getProperty(key));
        }
        return config;
    }

    /**
     * The value of the {@code Mode:} line of a {@code srvr} answer ({@code leader}, {@code follower}, {@code
     * observer}, {@code standalone}, {@code read-only}); empty if there is none, which a server answers while it
     * is not serving requests.
     */
    public static Optional<String> modeOf(String srvrAnswer) {
        if (srvrAnswer == null) {
            return Optional.empty();
        }
        return srvrAnswer
                .lines()
                .map(String::strip)
                .filter(line -> line.startsWith("Mode:"))
                .map(line -> line.substring("Mode:".length()).strip())
                .findFirst();
    }

    /**
     * Why {@code basePort} cannot be used for {@code servers} servers, checked without binding: out of range.
     * Empty if usable; 0 (free ports) is always usable.
     */
    public static Optional<String> basePortOutOfRange(int basePort, int servers) {
        if (basePort == 0) {
            return Optional.empty();
        }
        int last = basePort + ELECTION_PORT_OFFSET + servers - 1;
        if (basePort < 1 || last > 65535) {
            return Optional.of("base port " + basePort + " is unusable: " + servers + " servers need ports " + basePort
                    + ".." + last + ", and ports end at 65535");
        }
        return Optional.empty();
    }

    /**
     * Why {@code basePort} cannot be used for {@code servers} servers: out of range, or one of the ports cannot
     * be bound on 127.0.0.1 now. Empty if usable; 0 (free ports) is always usable. The check is racy by nature:
     * another process can take a port before the servers bind it.
     */
    public static Optional<String> unusableBasePort(int basePort, int servers) {
        Optional<String> outOfRange = basePortOutOfRange(basePort, servers);
        if (outOfRange.isPresent() || basePort == 0) {
            return outOfRange;
        }
        for (Map.Entry<Integer, String> port : portLayout(basePort, servers).entrySet()) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(LOOPBACK, port.getKey()));
            } catch (IOException e) {
                return Optional.of("base port " + basePort + " is unusable: " + LOOPBACK + ":" + port.getKey() + " ("
                        + port.getValue() + ") cannot be bound: " + e.getMessage());
            }
        }
        return Optional.empty();
    }

    private static Map<Integer, String> portLayout(int basePort, int servers) {
        Map<Integer, String> layout = new LinkedHashMap<>();
        for (int server = 1; server <= servers; server++) {
            layout.put(basePort + server - 1, "client port of server " + server);
            layout.put(basePort + QUORUM_PORT_OFFSET + server - 1, "quorum port of server " + server);
            layout.put(basePort + ELECTION_PORT_OFFSET + server - 1, "election port of server " + server);
        }
        return layout;
    }

    private void assignPorts() throws IOException {
        if (basePort == 0) {
            // Reserved below the ephemeral range: no outgoing connection (a ZooKeeper client's, a peer's) can take a
            // port between this choice and the server's bind, nor another JVM drawing through ServerPorts.
            for (int i = 0; i < size; i++) {
                clientPorts[i] = ServerPorts.reserve();
                quorumPorts[i] = ServerPorts.reserve();
                electionPorts[i] = ServerPorts.reserve();
            }
            return;
        }
        Optional<String> unusable = unusableBasePort(basePort, size);
        if (unusable.isPresent()) {
            throw new BindException(unusable.get());
        }
        for (int i = 0; i < size; i++) {
            clientPorts[i] = basePort + i;
            quorumPorts[i] = basePort + QUORUM_PORT_OFFSET + i;
            electionPorts[i] = basePort + ELECTION_PORT_OFFSET + i;
        }
    }

    private void writeFiles() throws IOException {
        Files.writeString(
                dir.resolve(LOGBACK_FILE),
                String.join(
                        "\n",
                        "<configuration>",
                        "  <appender name=\"FILE\" class=\"ch.qos.logback.core.FileAppender\">",
                        "    <file>${tenure.zk.log}</file>",
                        "    <append>true</append>",
                        "    <encoder><pattern>%d{ISO8601} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>",
                        "  </appender>",
                        "  <root level=\"" + serverLogLevel + "\"><appender-ref ref=\"FILE\"/></root>",
                        "</configuration>",
                        ""),
                StandardCharsets.UTF_8);
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < size; i++) {
            servers.append("server.")
                    .append(i + 1)
                    .append('=')
                    .append(LOOPBACK)
                    .append(':')
                    .append(quorumPorts[i])
                    .append(':')
                    .append(electionPorts[i]);
            if (clientTls == null) { // a client address here would open a plaintext port
                servers.append(';').append(LOOPBACK).append(':').append(clientPorts[i]);
            }
            servers.append('\n');
        }
        Path clientTlsFile = dir.resolve(CLIENT_TLS_FILE);
        if (clientTls == null) {
            Files.deleteIfExists(clientTlsFile);
        } else {
            writePrivate(
                    clientTlsFile,
                    "# ZooKeeper client TLS for this ensemble (node --zk-tls-config FILE); written by Tenure's"
                            + " ZooKeeperProcessEnsemble at every start\n"
                            + "zookeeper.client.secure=true\n"
                            + "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\n"
                            + "zookeeper.ssl.keyStore.location=" + slashes(clientTls.clientKeyStore()) + "\n"
                            + "zookeeper.ssl.keyStore.type=PEM\n"
                            + "zookeeper.ssl.trustStore.location=" + slashes(clientTls.trustStore()) + "\n"
                            + "zookeeper.ssl.trustStore.type=PEM\n");
        }
        for (int server = 1; server <= size; server++) {
            Path serverDir = serverDir(server);
            Path data = serverDir.resolve("data");
            Files.createDirectories(data);
            Files.writeString(data.resolve("myid"), server + "\n", StandardCharsets.US_ASCII);
            String config = "# Written by Tenure's ZooKeeperProcessEnsemble at every start.\n"
                    + "tickTime=" + tickTime.toMillis() + "\n"
                    + "initLimit=" + initLimit + "\n"
                    + "syncLimit=" + syncLimit + "\n"
                    + "maxSessionTimeout=" + maxSessionTimeout.toMillis() + "\n"
                    + "forceSync=" + (forceSync ? "yes" : "no") + "\n"
                    + "maxClientCnxns=" + maxClientConnections + "\n"
                    // Forward slashes: java.util.Properties would read a backslash as an escape.
                    + "dataDir=" + data.toString().replace('\\', '/') + "\n"
                    + clientPortConfig(server)
                    + "4lw.commands.whitelist=*\n"
                    + "admin.enableServer=false\n"
                    + servers;
            Files.writeString(serverDir.resolve("zoo.cfg"), config, StandardCharsets.UTF_8);
        }
    }

    /** The client port's lines of zoo.cfg: plaintext, or a TLS-only secure port with client certificates required. */
    private String clientPortConfig(int server) {
        int port = clientPorts[server - 1];
        if (clientTls == null) {
            return "clientPort=" + port + "\n" + "clientPortAddress=" + LOOPBACK + "\n";
        }
        return "secureClientPort=" + port + "\n"
                + "secureClientPortAddress=" + LOOPBACK + "\n"
                + "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
                + "ssl.keyStore.location=" + slashes(clientTls.serverKeyStore()) + "\n"
                + "ssl.keyStore.type=PEM\n"
                + "ssl.trustStore.location=" + slashes(clientTls.trustStore()) + "\n"
                + "ssl.trustStore.type=PEM\n"
                + "ssl.clientAuth=need\n"
                // Quorum TLS too: the servers' own traffic (proposals, elections) with the same certificates.
                + "sslQuorum=true\n"
                + "ssl.quorum.keyStore.location=" + slashes(clientTls.serverKeyStore()) + "\n"
                + "ssl.quorum.keyStore.type=PEM\n"
                + "ssl.quorum.trustStore.location=" + slashes(clientTls.trustStore()) + "\n"
                + "ssl.quorum.trustStore.type=PEM\n";
    }

    /** Absolute, with forward slashes: java.util.Properties would read a backslash as an escape. */
    private static String slashes(Path file) {
        return file.toAbsolutePath().normalize().toString().replace('\\', '/');
    }

    /** Writes {@code text} to {@code file}, readable by its owner only where the file system has POSIX permissions. */
    private static void writePrivate(Path file, String text) throws IOException {
        Files.deleteIfExists(file);
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(
                    file,
                    java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private void launch(int server) throws IOException {
        Path serverDir = serverDir(server);
        // A file, not a pipe: the server must outlive this JVM after detach(). The class path goes in the
        // environment (ChildJvm does that): /proc/<pid>/cmdline is read up to one page only, and a long -cp would
        // push QuorumPeerMain out of ProcessHandle.Info#commandLine, which isServerProcess checks.
        ChildProcess process = ChildJvm.builder("zookeeper-" + server)
                .jvmOptions(List.of(
                        "-Xmx" + heap,
                        "-Djava.net.preferIPv4Stack=true",
                        "-Dlogback.configurationFile=" + dir.resolve(LOGBACK_FILE),
                        "-Dtenure.zk.log=" + serverDir.resolve("server.log")))
                .mainClass(MAIN_CLASS)
                .arguments(List.of(serverDir.resolve("zoo.cfg").toString()))
                .process()
                .workingDirectory(serverDir)
                .logFile(serverDir.resolve("console.log"))
                .stopGrace(STOP_GRACE)
                .start();
        launched.add(process);
        processes[server - 1] = process;
        log.info("started server.{} (pid {}, client port {})", server, process.pid(), clientPorts[server - 1]);
        listener.launched(server, process.pid(), clientPorts[server - 1]);
    }

    /**
     * Polls every server with {@code srvr} until a majority serves with exactly one leader and every server in
     * {@code mustServe} serves; returns the leader. Fails fast if a process in {@code mustServe} exits. Polling:
     * another process's mode has no event to wait on.
     */
    private int awaitQuorum(Set<Integer> mustServe, long deadline, String what)
            throws IOException, InterruptedException {
        int majority = size / 2 + 1;
        ZKClientConfig probeTls = clientTls == null ? null : clientTlsConfig(dir);
        while (true) {
            for (int server : mustServe) {
                ChildProcess process = processes[server - 1];
                if (process != null && !process.isAlive()) {
                    throw new IOException("server " + server + " (pid " + process.pid() + ") exited with code "
                            + process.exitValue() + " during " + what + "; see " + serverDir(server)
                            + "/server.log and console.log");
                }
            }
            Map<Integer, String> modes = new LinkedHashMap<>();
            for (int server = 1; server <= size; server++) {
                ChildProcess process = processes[server - 1];
                modes.put(
                        server,
                        process != null && process.isAlive()
                                ? srvr(clientPorts[server - 1], PROBE_TIMEOUT_MS, probeTls)
                                        .map(answer -> modeOf(answer).orElse("not-serving"))
                                        .orElse("no-answer")
                                : "no-answer");
            }
            List<Integer> leaders = modes.entrySet().stream()
                    .filter(e -> LEADING_MODES.contains(e.getValue()))
                    .map(Map.Entry::getKey)
                    .collect(Collectors.toList());
            long serving =
                    modes.values().stream().filter(SERVING_MODES::contains).count();
            boolean required = mustServe.stream().allMatch(s -> SERVING_MODES.contains(modes.get(s)));
            if (leaders.size() == 1 && serving >= majority && required) {
                return leaders.get(0);
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("no ZooKeeper quorum for " + what + " within " + startTimeout.toSeconds()
                        + " s (modes: " + describe(modes) + "); see " + dir + "/zk-N/server.log");
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** Stops every launched process still alive, then tells the listener if any process was ever launched. */
    private void stopLaunched() throws IOException {
        List<ProcessHandle> alive = launched.stream()
                .filter(ChildProcess::isAlive)
                .map(ChildProcess::handle)
                .collect(Collectors.toList());
        try {
            ChildProcess.stop(alive, STOP_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while stopping the ZooKeeper servers in " + dir
                    + "; sent SIGKILL to every one still alive");
        }
        if (!launched.isEmpty()) {
            listener.stopped();
        }
    }

    private void registerShutdownHook() {
        Thread hook = new Thread(
                () -> {
                    try {
                        stopLaunched();
                    } catch (IOException | RuntimeException e) {
                        System.err.println("could not stop the ZooKeeper servers in " + dir + " (" + e + "); pids "
                                + launched.stream().map(ChildProcess::pid).collect(Collectors.toList()));
                    }
                },
                "zk-ensemble-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        shutdownHook = hook;
    }

    private void removeShutdownHook() {
        if (shutdownHook == null) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down and the hook is running or about to run: let it.
        }
        shutdownHook = null;
    }

    private Path serverDir(int server) {
        return dir.resolve("zk-" + server);
    }

    private Set<Integer> allServers() {
        return IntStream.rangeClosed(1, size).boxed().collect(Collectors.toSet());
    }

    private void checkStarted() {
        Preconditions.checkState(state == State.STARTED, "the ensemble is %s, not started", state);
    }

    private void checkServer(int server) {
        Preconditions.checkArgument(server >= 1 && server <= size, "server must be in 1..%s, was %s", size, server);
    }

    private void checkPortsAssigned() {
        Preconditions.checkState(clientPorts[0] != 0, "ports are assigned by start()");
    }

    private static long pidOf(ChildProcess process) {
        return process == null ? -1 : process.pid();
    }

    private static String describe(Map<Integer, String> modes) {
        return modes.entrySet().stream()
                .map(e -> "server." + e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", "));
    }

    /** Each server's current process and what it answers to {@code srvr}. */
    public synchronized List<ZooKeeperServerStatus> status() throws IOException {
        ZKClientConfig tls = clientTls == null ? null : clientTlsConfig(dir);
        List<ZooKeeperServerStatus> statuses = new ArrayList<>();
        for (int server = 1; server <= size; server++) {
            boolean alive = isRunning(server);
            int port = clientPort(server);
            statuses.add(new ZooKeeperServerStatus(
                    server,
                    pid(server),
                    port,
                    alive,
                    alive ? ZooKeeperServerMode.probe(port, PROBE_TIMEOUT_MS, tls) : ZooKeeperServerMode.NO_ANSWER));
        }
        return statuses;
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
        List<Long> stopped = stopServers(pids);
        Files.deleteIfExists(PidFile.path(absolute));
        return stopped;
    }

    /**
     * Each server recorded in {@code dir}'s pid file: its pid, whether that pid is a live ZooKeeper server
     * process, and what it answers to {@code srvr} (asked only if alive, 1 s timeout each).
     *
     * @throws java.nio.file.NoSuchFileException if {@code dir} has no pid file
     */
    public static List<ZooKeeperServerStatus> status(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath().normalize();
        List<ZooKeeperServerStatus> statuses = new ArrayList<>();
        List<PidFile.Entry> entries = PidFile.read(absolute);
        ZKClientConfig tls = clientTlsConfig(absolute);
        for (PidFile.Entry entry : entries) {
            boolean alive = isServerPid(entry.pid());
            ZooKeeperServerMode mode = alive
                    ? ZooKeeperServerMode.probe(entry.clientPort(), PROBE_TIMEOUT_MS, tls)
                    : ZooKeeperServerMode.NO_ANSWER;
            statuses.add(new ZooKeeperServerStatus(entry.server(), entry.pid(), entry.clientPort(), alive, mode));
        }
        return statuses;
    }

    /** The live ZooKeeper server pids recorded in {@code dir}'s pid file; empty if there is no pid file. */
    public static List<Long> runningPids(Path dir) throws IOException {
        if (!Files.exists(PidFile.path(dir))) {
            return List.of();
        }
        return PidFile.read(dir).stream()
                .map(PidFile.Entry::pid)
                .filter(ZooKeeperProcessEnsemble::isServerPid)
                .collect(Collectors.toList());
    }

    private static boolean isServerPid(long pid) {
        return ProcessHandle.of(pid)
                .map(ZooKeeperProcessEnsemble::isServerProcess)
                .orElse(false);
    }

    private static Listener chain(Listener first, Listener second) {
        return new Listener() {
            @Override
            public void starting() throws IOException {
                first.starting();
                second.starting();
            }

            @Override
            public void launched(int server, long pid, int clientPort) throws IOException {
                first.launched(server, pid, clientPort);
                second.launched(server, pid, clientPort);
            }

            @Override
            public void stopped() throws IOException {
                first.stopped();
                second.stopped();
            }
        };
    }

    /**
     * Refuses to start over a running ensemble from the same directory, and keeps {@code ensemble.pids} in step
     * with the processes the ensemble starts and stops.
     */
    private static final class PidFileRecorder implements Listener {
        private final Path dir;
        // Guarded by this.
        private final Map<Integer, PidFile.Entry> entries = new TreeMap<>();
        private boolean removed;

        PidFileRecorder(Path dir) {
            this.dir = dir.toAbsolutePath().normalize();
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
}
