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

import com.google.common.base.Preconditions;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingZooKeeperServer;
import org.apache.curator.utils.CloseableUtils;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.FourLetterWordMain;
import org.apache.zookeeper.util.ServiceUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process ZooKeeper ensemble on loopback (curator-test's {@link TestingCluster}), with client
 * factories and fault helpers for tests.
 *
 * <p>Servers are numbered {@code 0..size-1}. Every server binds 127.0.0.1 only. {@link #start()} returns
 * once a quorum serves requests. Clients made by {@link #newClient()} and proxies made by {@link
 * #newProxy()} are closed by {@link #close()} (or earlier by {@link #closeClientsAndProxies()}).
 *
 * <p>Fault helpers:
 *
 * <ul>
 *   <li>{@link #killServer(int)} / {@link #restartServer(int)} simulate a crash and a recovery of one
 *       server; {@link #killQuorumLeader()} kills the server that currently leads the ZooKeeper quorum;
 *       {@link #stopAll()} / {@link #restartAll()} take the whole ensemble down and up, keeping data.
 *   <li>{@link #expireSession(CuratorFramework)} expires a client's session on the server side,
 *       deterministically: it attaches a second handle to the same session id and password and closes
 *       it, which closes the session (about 0.1 s). Curator 5's {@code KillSession} only injects an
 *       expiry into the client and is not deterministic.
 *   <li>{@link #newProxy()} gives a {@link ZooKeeperProxy} that can cut one client off from the ensemble
 *       without expiring its session by itself.
 * </ul>
 *
 * <p>Not thread-safe for concurrent fault injection; call the fault helpers from the test thread.
 */
public final class ZooKeeperEnsemble implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperEnsemble.class);
    private static final String LOOPBACK = "127.0.0.1";

    /** ZooKeeper's bound on election-port bind attempts; 0 means "keep trying". */
    static final String ELECTION_PORT_BIND_RETRY = "zookeeper.electionPortBindRetry";

    static {
        // A server that cannot bind its election port gives up after three attempts and asks for System.exit,
        // which would end the test JVM. Keep it trying instead: a start that does not reach a quorum is retried
        // on fresh ports, and closing the failed servers stops their attempts.
        if (System.getProperty(ELECTION_PORT_BIND_RETRY) == null) {
            System.setProperty(ELECTION_PORT_BIND_RETRY, "0");
        }
        keepTheJvm();
    }

    /**
     * Makes ZooKeeper's fatal errors log instead of calling System.exit. Curator's TestingCluster starts each
     * server as a ZooKeeperServerEmbedded with the default exit handler, which sets the JVM-wide exit procedure
     * back to System.exit on every server start, so this runs again after every start and restart.
     */
    private static void keepTheJvm() {
        ServiceUtils.setSystemExitProcedure(ServiceUtils.LOG_ONLY);
    }

    private final int size;
    private final int tickTimeMs;
    private final Duration defaultSessionTimeout;
    private final List<CuratorFramework> clients = new CopyOnWriteArrayList<>();
    private final List<ZooKeeperProxy> proxies = new CopyOnWriteArrayList<>();
    private final boolean[] down;
    private TestingCluster cluster;
    private List<InstanceSpec> specs;
    private File baseDir;

    private ZooKeeperEnsemble(Builder builder) {
        this.size = builder.size;
        this.tickTimeMs = builder.tickTimeMs;
        this.defaultSessionTimeout = builder.sessionTimeout;
        this.down = new boolean[size];
    }

    /** A builder; the defaults are 3 servers, a 250 ms tick and a 10 s client session timeout. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ZooKeeperEnsemble}. */
    public static final class Builder {
        private int size = 3;
        private int tickTimeMs = 250;
        private Duration sessionTimeout = Duration.ofSeconds(10);

        private Builder() {}

        /** Number of servers (1 gives a standalone server). */
        public Builder servers(int size) {
            Preconditions.checkArgument(size >= 1, "servers must be >= 1, was %s", size);
            this.size = size;
            return this;
        }

        /**
         * The servers' tick time. The minimum session timeout is one tick; the maximum is 60 s whatever the
         * tick.
         */
        public Builder tickTime(Duration tick) {
            Preconditions.checkArgument(tick.toMillis() >= 10, "tick time must be >= 10 ms, was %s", tick);
            this.tickTimeMs = (int) tick.toMillis();
            return this;
        }

        /** The session timeout of clients made by {@link #newClient()}. */
        public Builder sessionTimeout(Duration timeout) {
            Preconditions.checkArgument(!timeout.isNegative() && !timeout.isZero(), "session timeout must be > 0");
            this.sessionTimeout = timeout;
            return this;
        }

        /** The ensemble, not started yet. */
        public ZooKeeperEnsemble build() {
            return new ZooKeeperEnsemble(this);
        }
    }

    /**
     * Starts the servers and waits until a quorum serves requests. Ports are drawn below the ephemeral range ({@link
     * LoopbackPorts#serverPort()}): a server that cannot bind its client port asks ZooKeeper to end the JVM, and
     * Curator's embedded servers let it, so the ports must not be taken by anything in between. A start that fails
     * otherwise is retried once on fresh ports.
     *
     * @throws Exception if the ensemble cannot be started
     */
    public void start() throws Exception {
        Preconditions.checkState(cluster == null, "Cannot be started more than once");
        try {
            startOnce();
        } catch (Exception first) {
            log.warn("ensemble failed to start, retrying once on fresh ports", first);
            closeCluster();
            startOnce();
        }
    }

    private void startOnce() throws Exception {
        baseDir = Files.createTempDirectory("tenure-zk").toFile();
        specs = new ArrayList<>();
        Map<String, Object> props = new HashMap<>();
        props.put("maxSessionTimeout", "60000");
        props.put("4lw.commands.whitelist", "*");
        for (int i = 0; i < size; i++) {
            File dir = new File(baseDir, "server-" + i);
            Preconditions.checkState(dir.mkdirs(), "cannot create %s", dir);
            specs.add(new InstanceSpec(
                    dir,
                    LoopbackPorts.serverPort(),
                    LoopbackPorts.serverPort(),
                    LoopbackPorts.serverPort(),
                    true,
                    i + 1,
                    tickTimeMs,
                    -1,
                    props,
                    LOOPBACK));
        }
        cluster = new TestingCluster(specs);
        try {
            cluster.start();
        } finally {
            keepTheJvm();
        }
        awaitQuorum(Duration.ofSeconds(30));
    }

    /** The client connect string of all servers. */
    public String connectString() {
        checkStarted();
        return specs.stream().map(s -> LOOPBACK + ":" + s.getPort()).collect(Collectors.joining(","));
    }

    /** The client connect string of one server. */
    public String connectString(int server) {
        return LOOPBACK + ":" + spec(server).getPort();
    }

    /** The number of servers. */
    public int size() {
        return size;
    }

    /** The session timeout given to clients made by {@link #newClient()}. */
    public Duration defaultSessionTimeout() {
        return defaultSessionTimeout;
    }

    /**
     * A client builder preconfigured for this ensemble: connect string, the default session timeout, a 5 s
     * connection timeout, an exponential back-off retry policy and no ensemble tracking. Start it with {@link
     * #newClient(CuratorFrameworkFactory.Builder)} to have it closed with the ensemble.
     */
    public CuratorFrameworkFactory.Builder clientBuilder() {
        return CuratorFrameworkFactory.builder()
                .connectString(connectString())
                .sessionTimeoutMs((int) defaultSessionTimeout.toMillis())
                .connectionTimeoutMs(5000)
                .ensembleTracker(false)
                .retryPolicy(new ExponentialBackoffRetry(50, 10, 1000));
    }

    /**
     * As {@link #clientBuilder()}, connecting through {@code proxy}. Ensemble tracking stays off: with it,
     * Curator would learn the servers' real addresses from {@code /zookeeper/config} and bypass the proxy.
     */
    public CuratorFrameworkFactory.Builder clientBuilder(ZooKeeperProxy proxy) {
        return clientBuilder().connectString(proxy.connectString());
    }

    /** A started, connected client with the default session timeout; closed with the ensemble. */
    public CuratorFramework newClient() throws InterruptedException {
        return newClient(clientBuilder());
    }

    /** A started, connected client with the given session timeout; closed with the ensemble. */
    public CuratorFramework newClient(Duration sessionTimeout) throws InterruptedException {
        return newClient(clientBuilder().sessionTimeoutMs((int) sessionTimeout.toMillis()));
    }

    /** Builds, starts and tracks a client; waits up to 30 s for it to connect. */
    public CuratorFramework newClient(CuratorFrameworkFactory.Builder builder) throws InterruptedException {
        CuratorFramework client = builder.build();
        clients.add(client);
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("client did not connect to " + builder.getEnsembleProvider());
        }
        return client;
    }

    /** A proxy in front of every server; closed with the ensemble. */
    public ZooKeeperProxy newProxy() throws IOException {
        List<InetSocketAddress> targets = specs.stream()
                .map(s -> new InetSocketAddress(LOOPBACK, s.getPort()))
                .collect(Collectors.toList());
        ZooKeeperProxy proxy = new ZooKeeperProxy(targets);
        proxies.add(proxy);
        return proxy;
    }

    /** Simulates a crash of one server. */
    public void killServer(int server) throws Exception {
        log.info("killing ZooKeeper server {}", server);
        Preconditions.checkState(cluster.killServer(spec(server)), "server %s not found", server);
        down[server] = true;
    }

    /** Restarts a killed or stopped server and waits until it serves requests. */
    public void restartServer(int server) throws Exception {
        log.info("restarting ZooKeeper server {}", server);
        try {
            Preconditions.checkState(cluster.restartServer(spec(server)), "server %s not found", server);
        } finally {
            keepTheJvm();
        }
        down[server] = false;
        awaitServing(server, Duration.ofSeconds(30));
    }

    /** Whether a server was killed or stopped and not restarted. */
    public boolean isDown(int server) {
        return down[server];
    }

    /**
     * Restarts every server that is down and waits until each serves; a no-op when all are up. With every server
     * down ({@link #stopAll()}) they are restarted together, since none serves before a quorum is back.
     */
    public void restoreAll() throws Exception {
        boolean allDown = true;
        for (int i = 0; i < size; i++) {
            allDown &= down[i];
        }
        if (allDown) {
            restartAll();
            return;
        }
        for (int i = 0; i < size; i++) {
            if (down[i]) {
                restartServer(i);
            }
        }
    }

    /** Stops every server, keeping their data. */
    public void stopAll() throws IOException {
        log.info("stopping all ZooKeeper servers");
        for (TestingZooKeeperServer s : cluster.getServers()) {
            s.stop();
        }
        java.util.Arrays.fill(down, true);
    }

    /** Restarts every server and waits for a quorum. */
    public void restartAll() throws Exception {
        log.info("restarting all ZooKeeper servers");
        try {
            for (TestingZooKeeperServer s : cluster.getServers()) {
                s.restart();
            }
        } finally {
            keepTheJvm();
        }
        java.util.Arrays.fill(down, false);
        awaitQuorum(Duration.ofSeconds(30));
    }

    /**
     * The index of the server that leads the ZooKeeper quorum (asked with the {@code srvr} command), or -1 if
     * none does right now. A standalone server counts as the leader.
     */
    public int quorumLeader() {
        for (int i = 0; i < size; i++) {
            if (down[i]) {
                continue;
            }
            String mode = mode(i);
            if (mode.equals("leader") || mode.equals("standalone")) {
                return i;
            }
        }
        return -1;
    }

    /** Kills the server that leads the ZooKeeper quorum and returns its index. */
    public int killQuorumLeader() throws Exception {
        int leader = quorumLeader();
        Preconditions.checkState(leader >= 0, "no server leads the quorum right now");
        killServer(leader);
        return leader;
    }

    /** The index of the server the client is connected to, or -1 if it is not connected. */
    public int serverOf(CuratorFramework client) throws Exception {
        InstanceSpec spec =
                cluster.findConnectionInstance(client.getZookeeperClient().getZooKeeper());
        return spec == null ? -1 : specs.indexOf(spec);
    }

    /**
     * Expires the client's current session on the server side and returns once the servers have closed it.
     * The client learns of it on its next contact ({@code LOST}, then a new session).
     */
    public void expireSession(CuratorFramework client) throws Exception {
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        long sessionId = zk.getSessionId();
        byte[] password = zk.getSessionPasswd();
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper twin = new ZooKeeper(
                connectString(),
                (int) defaultSessionTimeout.toMillis(),
                event -> {
                    if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                        connected.countDown();
                    }
                },
                sessionId,
                password);
        try {
            if (!connected.await(30, TimeUnit.SECONDS)) {
                throw new TimeoutException("could not attach to session 0x" + Long.toHexString(sessionId));
            }
        } finally {
            twin.close(); // closing the twin closes the shared session on the servers
        }
        log.info("expired session 0x{}", Long.toHexString(sessionId));
    }

    /** Closes the clients and proxies made so far, leaving the servers running. */
    public void closeClientsAndProxies() {
        for (CuratorFramework c : clients) {
            CloseableUtils.closeQuietly(c);
        }
        clients.clear();
        for (ZooKeeperProxy p : proxies) {
            p.close();
        }
        proxies.clear();
    }

    /** Closes clients, proxies and servers, and deletes the servers' data. Idempotent. */
    @Override
    public void close() {
        closeClientsAndProxies();
        closeCluster();
    }

    private void closeCluster() {
        if (cluster != null) {
            CloseableUtils.closeQuietly(cluster);
            cluster = null;
        }
        if (baseDir != null) {
            deleteRecursively(baseDir);
            baseDir = null;
        }
    }

    private static void deleteRecursively(File f) {
        File[] children = f.listFiles();
        if (children != null) {
            for (File c : children) {
                deleteRecursively(c);
            }
        }
        if (!f.delete() && f.exists()) {
            log.warn("could not delete {}", f);
        }
    }

    private InstanceSpec spec(int server) {
        checkStarted();
        Preconditions.checkElementIndex(server, size, "server");
        return specs.get(server);
    }

    private void checkStarted() {
        Preconditions.checkState(cluster != null, "ensemble is not started");
    }

    private String mode(int server) {
        try {
            String srvr =
                    FourLetterWordMain.send4LetterWord(LOOPBACK, spec(server).getPort(), "srvr", false, 2000);
            for (String line : srvr.split("\n", -1)) {
                if (line.startsWith("Mode: ")) {
                    return line.substring("Mode: ".length()).trim();
                }
            }
            return "not-serving";
        } catch (Exception e) {
            return "unreachable";
        }
    }

    private void awaitServing(int server, Duration timeout) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String mode = mode(server);
            if (mode.equals("leader") || mode.equals("follower") || mode.equals("standalone")) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("ZooKeeper server " + server + " is not serving: " + mode);
            }
            Thread.sleep(20); // polling a server's state; no event to wait on
        }
    }

    private void awaitQuorum(Duration timeout) throws TimeoutException, InterruptedException {
        for (int i = 0; i < size; i++) {
            awaitServing(i, timeout);
        }
    }
}
