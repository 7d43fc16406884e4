package dev.tenure.demo.zk;

import com.google.common.base.Preconditions;
import java.io.Closeable;
import java.io.File;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real ZooKeeper ensemble on loopback: one {@code java} process per server, each running {@code
 * org.apache.zookeeper.server.quorum.QuorumPeerMain}. For demos, scripts and end-to-end tests that need
 * servers which can be SIGKILLed; for in-process tests use {@code dev.tenure.testkit.ZooKeeperEnsemble}.
 *
 * <p>Servers are numbered {@code 1..n} (their {@code myid}). Everything binds 127.0.0.1 only. With a base
 * port {@code B}, server {@code s} listens for clients on {@code B+s-1}, for quorum traffic on {@code
 * B+707+s-1} and for leader election on {@code B+1707+s-1} (so base 2181 gives ZooKeeper's familiar 2181,
 * 2888, 3888); with base port 0 (the builder's default) every port is a free one picked at start. The
 * servers use tickTime 500 ms, initLimit 10, syncLimit 5, maxSessionTimeout 60 s, all four-letter words,
 * and no admin server.
 *
 * <p>On disk, under the directory given to {@link #builder(Path)}:
 *
 * <ul>
 *   <li>{@code zk-N/zoo.cfg} (rewritten at every start), {@code zk-N/data/} with {@code myid} (kept
 *       between runs: delete the directory for a fresh ensemble), {@code zk-N/server.log} (the server's
 *       log, INFO) and {@code zk-N/console.log} (the JVM's stdout and stderr, for crashes before logging
 *       starts);
 *   <li>{@code zk-logback.xml}, the servers' logging configuration;
 *   <li>{@code ensemble.pids}, one line {@code <server> <pid> <clientPort>} per server, so that another
 *       process can find and stop them: {@link #stop(Path)}, {@link #status(Path)}.
 * </ul>
 *
 * <p>Each server JVM runs with {@code -Xmx256m} and the class path of this JVM (passed in the {@code
 * CLASSPATH} environment variable, made absolute, so the process's command line stays short enough for
 * {@link ProcessHandle.Info#commandLine()} to show {@code QuorumPeerMain}).
 *
 * <p>Lifecycle, like Curator's recipes: {@link #start()} once, then {@link #close()} (idempotent) stops every
 * process this object started and waits for each to exit: SIGTERM, then SIGKILL after 5 s. A JVM shutdown
 * hook does the same if this JVM exits normally or on SIGTERM/Ctrl-C without {@code close()}. <b>No hook runs
 * when this JVM is SIGKILLed</b>: the servers then keep running, and {@link #stop(Path)} (the command {@code
 * zk stop --dir DIR}) stops them from the pid file. {@link #detach()} hands the servers over to the pid file
 * on purpose: {@code zk start} uses it to leave them running after it exits.
 *
 * <p>Threads: every method may be called from any thread. Instance methods are serialized on this object,
 * and the blocking ones ({@link #start()}, {@link #restart(int)}, {@link #quorumLeader()}, {@link #close()})
 * hold it while they wait, for at most the start timeout (60 s by default) plus the stop grace. The shutdown
 * hook does not take the lock.
 */
public final class ZkEnsemble implements Closeable {
    /** The pid file's name inside the ensemble directory. */
    public static final String PID_FILE = "ensemble.pids";
    /** The largest ensemble this launcher starts. */
    public static final int MAX_SERVERS = 15;
    /** Server {@code s}'s quorum port is {@code basePort + QUORUM_PORT_OFFSET + s - 1}. */
    public static final int QUORUM_PORT_OFFSET = 707;
    /** Server {@code s}'s leader-election port is {@code basePort + ELECTION_PORT_OFFSET + s - 1}. */
    public static final int ELECTION_PORT_OFFSET = 1707;
    /** How long {@link #start()} and {@link #restart(int)} wait for the servers to serve, by default. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);

    static final String MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
    static final String LOOPBACK = "127.0.0.1";
    static final String LOGBACK_FILE = "zk-logback.xml";
    static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final Duration EXIT_WAIT = Duration.ofSeconds(10);
    private static final int PROBE_TIMEOUT_MS = 1000;
    private static final long POLL_MS = 100;
    private static final Logger log = LoggerFactory.getLogger(ZkEnsemble.class);

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
    /** Every process ever started, for close() and the shutdown hook (which does not take the lock). */
    private final List<Process> launched = new CopyOnWriteArrayList<>();
    // Guarded by this.
    private final Process[] processes;
    private final int[] clientPorts;
    private final int[] quorumPorts;
    private final int[] electionPorts;
    private State state = State.LATENT;
    private Thread shutdownHook;
    private boolean pidFileWritten;

    private ZkEnsemble(Builder builder) {
        this.dir = builder.dir;
        this.size = builder.servers;
        this.basePort = builder.basePort;
        this.startTimeout = builder.startTimeout;
        this.processes = new Process[size];
        this.clientPorts = new int[size];
        this.quorumPorts = new int[size];
        this.electionPorts = new int[size];
    }

    /**
     * A builder for an ensemble whose files live under {@code dir} (created if missing). Defaults: 3 servers,
     * free ports, a 60 s start timeout.
     */
    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    /** Builds a {@link ZkEnsemble}; {@link #build()} checks the options together. */
    public static final class Builder {
        private final Path dir;
        private int servers = 3;
        private int basePort = 0;
        private Duration startTimeout = DEFAULT_START_TIMEOUT;

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
            Preconditions.checkArgument(
                    !timeout.isNegative() && !timeout.isZero(), "start timeout must be > 0, was %s", timeout);
            this.startTimeout = timeout;
            return this;
        }

        /** @throws IllegalArgumentException if the base port leaves no room for every server's three ports */
        public ZkEnsemble build() {
            Optional<String> bad = basePortOutOfRange(basePort, servers);
            Preconditions.checkArgument(bad.isEmpty(), "%s", bad.orElse(""));
            return new ZkEnsemble(this);
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
    public synchronized void start() throws IOException, InterruptedException {
        Preconditions.checkState(state == State.LATENT, "Cannot be started more than once");
        state = State.STARTED;
        boolean started = false;
        try {
            Files.createDirectories(dir);
            List<Long> running = runningPids(dir);
            if (!running.isEmpty()) {
                throw new IOException("an ensemble started from " + dir + " is still running (pids " + running
                        + "); stop it first with: zk stop --dir " + dir);
            }
            assignPorts();
            writeFiles();
            registerShutdownHook();
            long deadline = deadline(startTimeout);
            for (int server = 1; server <= size; server++) {
                processes[server - 1] = launch(server);
                writePidFile();
            }
            int leader = awaitQuorum(allServers(), deadline, "start");
            started = true;
            log.info("ZooKeeper ensemble in {} serves at {}; quorum leader server.{}", dir, connectString(), leader);
        } finally {
            if (!started) {
                abortStart();
            }
        }
    }

    private void abortStart() throws IOException {
        state = State.CLOSED;
        removeShutdownHook();
        try {
            stopLaunched();
            if (pidFileWritten) {
                Files.deleteIfExists(PidFile.path(dir));
            }
        } catch (IOException e) {
            log.warn("could not stop every server after a failed start; run: zk stop --dir {}", dir, e);
        }
    }

    /** The servers' addresses for a ZooKeeper or Curator client: {@code 127.0.0.1:P1,127.0.0.1:P2,...}. */
    public synchronized String connectString() {
        checkPortsAssigned();
        return Arrays.stream(clientPorts).mapToObj(p -> LOOPBACK + ":" + p).collect(Collectors.joining(","));
    }

    /** The number of servers. */
    public int servers() {
        return size;
    }

    /** The directory holding the servers' configuration, data, logs and the pid file. */
    public Path directory() {
        return dir;
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
        return awaitQuorum(Set.of(), deadline(startTimeout), "quorum leader");
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
        Process process = processes[server - 1];
        Preconditions.checkState(
                process != null && process.isAlive(), "server %s (pid %s) is not running", server, pidOf(process));
        process.destroyForcibly();
        if (!process.waitFor(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IOException("server " + server + " (pid " + process.pid() + ") did not exit within "
                    + EXIT_WAIT.toSeconds() + " s of SIGKILL");
        }
        log.info("killed server.{} (pid {})", server, process.pid());
    }

    /**
     * Starts server {@code server} again on the same ports and data, first stopping its process if it is still
     * alive (SIGTERM, then SIGKILL after 5 s). Returns once the server serves again, which needs a majority of
     * the ensemble alive; the pid file is updated with the new pid.
     *
     * @throws IOException if the server does not serve within the start timeout; its process is left running
     *     and {@link #close()} still stops it
     */
    public synchronized void restart(int server) throws IOException, InterruptedException {
        checkStarted();
        checkServer(server);
        Process old = processes[server - 1];
        if (old != null && old.isAlive()) {
            stopHandles(List.of(old.toHandle()));
        }
        long deadline = deadline(startTimeout);
        processes[server - 1] = launch(server);
        writePidFile();
        awaitQuorum(Set.of(server), deadline, "restart of server " + server);
        log.info("restarted server.{} (pid {})", server, processes[server - 1].pid());
    }

    /** Each server's current process and what it answers to {@code srvr}. */
    public synchronized List<ZkServerStatus> status() {
        checkStarted();
        List<ZkServerStatus> statuses = new ArrayList<>();
        for (int server = 1; server <= size; server++) {
            Process process = processes[server - 1];
            boolean alive = process != null && process.isAlive();
            int port = clientPorts[server - 1];
            statuses.add(new ZkServerStatus(
                    server,
                    pidOf(process),
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
    public synchronized void detach() {
        Preconditions.checkState(state == State.STARTED, "only a started ensemble can be detached (it is %s)", state);
        state = State.DETACHED;
        removeShutdownHook();
        log.info("detached the ZooKeeper ensemble in {}; stop it with: zk stop --dir {}", dir, dir);
    }

    /**
     * Stops every server process this ensemble started (SIGTERM, then SIGKILL after 5 s), waits for each to
     * exit and removes the pid file; the data stays. Idempotent; a no-op after {@link #detach()}.
     *
     * @throws IOException if some process did not exit; the pid file is then kept for {@link #stop(Path)}
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
        Files.deleteIfExists(PidFile.path(dir));
        log.info("stopped the ZooKeeper ensemble in {}", dir);
    }

    @Override
    public synchronized String toString() {
        return "ZkEnsemble{dir=" + dir + ", servers=" + size + ", state=" + state + "}";
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
        List<ProcessHandle> handles = new ArrayList<>();
        for (PidFile.Entry entry : PidFile.read(absolute)) {
            Optional<ProcessHandle> handle = ProcessHandle.of(entry.pid());
            if (handle.isEmpty() || !handle.get().isAlive()) {
                continue;
            }
            if (!isZooKeeperServer(handle.get())) {
                log.warn(
                        "pid {} (server.{}) in {} is not a ZooKeeper server process now; left alone",
                        entry.pid(),
                        entry.server(),
                        PidFile.path(absolute));
                continue;
            }
            handles.add(handle.get());
        }
        stopHandles(handles);
        Files.deleteIfExists(PidFile.path(absolute));
        return handles.stream().map(ProcessHandle::pid).collect(Collectors.toList());
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
            boolean alive = ProcessHandle.of(entry.pid())
                    .map(ZkEnsemble::isZooKeeperServer)
                    .orElse(false);
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
                .filter(pid ->
                        ProcessHandle.of(pid).map(ZkEnsemble::isZooKeeperServer).orElse(false))
                .collect(Collectors.toList());
    }

    /**
     * Why {@code basePort} cannot be used for {@code servers} servers, checked without binding: out of range.
     * Empty if usable; 0 (free ports) is always usable.
     */
    static Optional<String> basePortOutOfRange(int basePort, int servers) {
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
    static Optional<String> unusableBasePort(int basePort, int servers) {
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

    /** True if the process is alive and its command line names ZooKeeper's {@code QuorumPeerMain}. */
    static boolean isZooKeeperServer(ProcessHandle handle) {
        return handle.isAlive()
                && handle.pid() != ProcessHandle.current().pid()
                && handle.info()
                        .commandLine()
                        .map(line -> line.contains("QuorumPeerMain"))
                        .orElse(false);
    }

    /** Completes when every process started so far has exited. */
    CompletableFuture<Void> allExited() {
        return CompletableFuture.allOf(launched.stream().map(Process::onExit).toArray(CompletableFuture[]::new));
    }

    private void assignPorts() throws IOException {
        if (basePort == 0) {
            List<ServerSocket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 3 * size; i++) {
                    ServerSocket socket = new ServerSocket();
                    sockets.add(socket);
                    socket.bind(new InetSocketAddress(LOOPBACK, 0));
                }
                for (int i = 0; i < size; i++) {
                    clientPorts[i] = sockets.get(3 * i).getLocalPort();
                    quorumPorts[i] = sockets.get(3 * i + 1).getLocalPort();
                    electionPorts[i] = sockets.get(3 * i + 2).getLocalPort();
                }
            } finally {
                for (ServerSocket socket : sockets) {
                    socket.close();
                }
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
                        "  <root level=\"INFO\"><appender-ref ref=\"FILE\"/></root>",
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
                    .append(electionPorts[i])
                    .append(';')
                    .append(LOOPBACK)
                    .append(':')
                    .append(clientPorts[i])
                    .append('\n');
        }
        for (int server = 1; server <= size; server++) {
            Path serverDir = serverDir(server);
            Path data = serverDir.resolve("data");
            Files.createDirectories(data);
            Files.writeString(data.resolve("myid"), server + "\n", StandardCharsets.US_ASCII);
            String config = "# Written by Tenure's ZkEnsemble at every start.\n"
                    + "tickTime=500\n"
                    + "initLimit=10\n"
                    + "syncLimit=5\n"
                    + "maxSessionTimeout=60000\n"
                    // Forward slashes: java.util.Properties would read a backslash as an escape.
                    + "dataDir=" + data.toString().replace('\\', '/') + "\n"
                    + "clientPort=" + clientPorts[server - 1] + "\n"
                    + "clientPortAddress=" + LOOPBACK + "\n"
                    + "4lw.commands.whitelist=*\n"
                    + "admin.enableServer=false\n"
                    + servers;
            Files.writeString(serverDir.resolve("zoo.cfg"), config, StandardCharsets.UTF_8);
        }
    }

    private Process launch(int server) throws IOException {
        Path serverDir = serverDir(server);
        List<String> command = List.of(
                javaExecutable(),
                "-Xmx256m",
                "-Djava.net.preferIPv4Stack=true",
                "-Dlogback.configurationFile=" + dir.resolve(LOGBACK_FILE),
                "-Dtenure.zk.log=" + serverDir.resolve("server.log"),
                MAIN_CLASS,
                serverDir.resolve("zoo.cfg").toString());
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(serverDir.toFile())
                .redirectErrorStream(true)
                // A file, not a pipe: the server must outlive this JVM after detach().
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        serverDir.resolve("console.log").toFile()));
        // The class path goes in the environment: /proc/<pid>/cmdline is read up to one page only, and a long
        // -cp would push QuorumPeerMain out of ProcessHandle.Info#commandLine, which stop(dir) checks.
        builder.environment().put("CLASSPATH", childClassPath());
        Process process = builder.start();
        process.getOutputStream().close();
        launched.add(process);
        log.info("started server.{} (pid {}, client port {})", server, process.pid(), clientPorts[server - 1]);
        return process;
    }

    /**
     * Polls every server with {@code srvr} until a majority serves with exactly one leader and every server in
     * {@code mustServe} serves; returns the leader. Fails fast if a process in {@code mustServe} exits.
     */
    private int awaitQuorum(Set<Integer> mustServe, long deadline, String what)
            throws IOException, InterruptedException {
        int majority = size / 2 + 1;
        while (true) {
            for (int server : mustServe) {
                Process process = processes[server - 1];
                if (process != null && !process.isAlive()) {
                    throw new IOException("server " + server + " (pid " + process.pid() + ") exited with code "
                            + process.exitValue() + " during " + what + "; see " + serverDir(server)
                            + "/server.log and console.log");
                }
            }
            Map<Integer, ZkServerMode> modes = new LinkedHashMap<>();
            for (int server = 1; server <= size; server++) {
                Process process = processes[server - 1];
                modes.put(
                        server,
                        process != null && process.isAlive()
                                ? ZkServerMode.probe(clientPorts[server - 1], PROBE_TIMEOUT_MS)
                                : ZkServerMode.NO_ANSWER);
            }
            List<Integer> leaders = modes.entrySet().stream()
                    .filter(e -> e.getValue().leads())
                    .map(Map.Entry::getKey)
                    .collect(Collectors.toList());
            long serving = modes.values().stream().filter(ZkServerMode::serving).count();
            boolean required = mustServe.stream().allMatch(s -> modes.get(s).serving());
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

    private void writePidFile() throws IOException {
        List<PidFile.Entry> entries = new ArrayList<>();
        for (int server = 1; server <= size; server++) {
            Process process = processes[server - 1];
            if (process != null) {
                entries.add(new PidFile.Entry(server, process.pid(), clientPorts[server - 1]));
            }
        }
        PidFile.write(dir, entries);
        pidFileWritten = true;
    }

    private void stopLaunched() throws IOException {
        List<ProcessHandle> alive = launched.stream()
                .filter(Process::isAlive)
                .map(Process::toHandle)
                .collect(Collectors.toList());
        try {
            stopHandles(alive);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            alive.forEach(ProcessHandle::destroyForcibly);
            throw new InterruptedIOException("interrupted while stopping the ZooKeeper servers in " + dir
                    + "; sent SIGKILL to every one still alive");
        }
    }

    /** SIGTERM to all, then SIGKILL to those alive after {@link #STOP_GRACE}; waits for every one to exit. */
    static void stopHandles(List<ProcessHandle> handles) throws IOException, InterruptedException {
        handles.forEach(ProcessHandle::destroy);
        long graceDeadline = deadline(STOP_GRACE);
        List<ProcessHandle> stubborn = new ArrayList<>();
        for (ProcessHandle handle : handles) {
            if (!awaitExit(handle, graceDeadline)) {
                stubborn.add(handle);
            }
        }
        stubborn.forEach(ProcessHandle::destroyForcibly);
        long killDeadline = deadline(EXIT_WAIT);
        List<Long> survivors = new ArrayList<>();
        for (ProcessHandle handle : stubborn) {
            if (!awaitExit(handle, killDeadline)) {
                survivors.add(handle.pid());
            }
        }
        if (!survivors.isEmpty()) {
            throw new IOException("processes " + survivors + " did not exit after SIGTERM and SIGKILL");
        }
    }

    private static boolean awaitExit(ProcessHandle handle, long deadline) throws InterruptedException {
        try {
            handle.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return !handle.isAlive();
        }
    }

    private void registerShutdownHook() {
        Thread hook = new Thread(
                () -> {
                    try {
                        stopHandles(launched.stream()
                                .filter(Process::isAlive)
                                .map(Process::toHandle)
                                .collect(Collectors.toList()));
                        Files.deleteIfExists(PidFile.path(dir));
                    } catch (IOException | InterruptedException | RuntimeException e) {
                        System.err.println("could not stop the ZooKeeper servers in " + dir + " (" + e
                                + "); stop them with: zk stop --dir " + dir);
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

    private static long pidOf(Process process) {
        return process == null ? -1 : process.pid();
    }

    private static long deadline(Duration timeout) {
        return System.nanoTime() + timeout.toNanos();
    }

    private static String describe(Map<Integer, ZkServerMode> modes) {
        return modes.entrySet().stream()
                .map(e -> "server." + e.getKey() + "=" + e.getValue().label())
                .collect(Collectors.joining(", "));
    }

    /** The {@code java} executable running this JVM, for starting child JVMs (also used by other launchers). */
    public static String javaExecutable() {
        return ProcessHandle.current()
                .info()
                .command()
                .filter(command -> Files.isExecutable(Path.of(command)))
                .orElseGet(() ->
                        Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * This JVM's class path with every entry made absolute (the servers run in their own directories), for child
     * JVMs (also used by other launchers).
     */
    public static String childClassPath() throws IOException {
        String classPath = System.getProperty("java.class.path", "");
        String absolute = Arrays.stream(classPath.split(File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> new File(entry).getAbsolutePath())
                .collect(Collectors.joining(File.pathSeparator));
        if (absolute.isEmpty()) {
            throw new IOException("java.class.path is empty: cannot start ZooKeeper server processes");
        }
        return absolute;
    }
}
