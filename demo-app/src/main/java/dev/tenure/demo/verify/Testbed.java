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
package dev.tenure.demo.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tenure.demo.node.ClusterCertificates;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.LinkProxy;
import dev.tenure.harness.Links;
import dev.tenure.harness.NodeLauncher;
import dev.tenure.harness.StatusProbe;
import dev.tenure.harness.TlsKeys;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import dev.tenure.harness.fault.FaultTarget;
import dev.tenure.recipes.PreviousSession;
import dev.tenure.replicator.transport.netty.MessageCodec;
import dev.tenure.testkit.LoopbackPorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The system under test: a 3-process ZooKeeper ensemble, replica processes ({@code node}, with {@code --partitions
 * P} when there are several partitions) and a {@link LinkProxy}
 * on every link the harness may cut — each replica reaches each ZooKeeper server through a proxy of its own (link
 * {@code zk:ID}), and each replica's replication port sits behind a proxy that tells its connections apart by
 * sender (links {@code FROM->TO}), which the replicas advertise instead of their own port. HTTP is not proxied:
 * clients always reach the replicas.
 *
 * <p>Replication runs over mutual TLS by default: throwaway certificates ({@link ClusterCertificates}), one per
 * replica, and proxies that terminate TLS ({@link LinkProxy#terminatingTls}) — each holds every replica's key,
 * presents the destination's certificate, names the link by the sender's client certificate and reaches the
 * destination with the sender's own. A test-only man in the middle: the replicas still authenticate each other's
 * certificates and the ids their hellos claim. With {@code plaintextReplication} the replicas run {@code
 * --transport-plaintext} and the proxies name links by the sender in the hello. ZooKeeper is always authenticated: a
 * throwaway digest credential ({@code zk-auth}) with an ACL only the replicas can write.
 *
 * <p>Layout under the directory: {@code zk/} (the ensemble), {@code ID/data}, {@code ID/node.log}, {@code
 * ID/session}, {@code tls/} (the CA, and per replica its certificate, key and {@code transport.properties}, owner
 * only), {@code zk-auth}, {@code pids.txt} (every process started). Not thread-safe except where noted: one thread (the harness's) drives it; {@link #status} and
 * {@link #leader} may be called from any thread. {@link #close()} stops every process and proxy it started,
 * also after a failure part way.
 */
final class Testbed implements FaultTarget, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Testbed.class);
    /** The replicas' JVM options; their log is the post-mortem of a failed run. */
    private static final List<String> NODE_JVM_OPTIONS =
            List.of("-Xmx256m", "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true", "-Dtenure.log.level=INFO");

    private final Path dir;
    private final List<String> ids;
    private final int sessionTimeoutMs;
    private final String nodeMainClass;
    private final List<String> nodeArguments;
    private final int partitions;
    private final boolean plaintextReplication;
    private final Links links = new Links();
    private final List<AutoCloseable> proxies = new ArrayList<>();
    private final Map<String, NodeLauncher> launchers = new LinkedHashMap<>();
    // Guarded by this: a restart replaces a replica's process.
    private final Map<String, ChildProcess> replicas = new LinkedHashMap<>();
    // Guarded by this: the size of each replica's node.log when its current process was started.
    private final Map<String, Long> logSizeAtStart = new LinkedHashMap<>();
    private final StatusProbe probe = new StatusProbe(Duration.ofSeconds(1), Duration.ofMillis(100));
    private ZooKeeperProcessEnsemble zk;
    private boolean closed;

    /**
     * @param dir working directory (created if missing)
     * @param ids the replicas' ids
     * @param sessionTimeoutMs the replicas' ZooKeeper session timeout
     * @param nodeMainClass the main class every replica process runs (the demo's; the harness's own tests run a
     *     deliberately broken node from their class path)
     * @param nodeArguments more {@code node} arguments every replica gets, after the testbed's own
     * @param partitions the partitions every replica hosts ({@code node --partitions P}); 1 for the single log
     * @param plaintextReplication replication in plaintext instead of mutual TLS
     */
    Testbed(
            Path dir,
            List<String> ids,
            int sessionTimeoutMs,
            String nodeMainClass,
            List<String> nodeArguments,
            int partitions,
            boolean plaintextReplication) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, was " + partitions);
        }
        this.partitions = partitions;
        this.plaintextReplication = plaintextReplication;
        this.dir = dir;
        this.ids = List.copyOf(ids);
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.nodeMainClass = java.util.Objects.requireNonNull(nodeMainClass, "nodeMainClass");
        this.nodeArguments = List.copyOf(nodeArguments);
    }

    /** The file listing every process started, one line {@code WHAT PID} each, appended as they start. */
    static final String PIDS_FILE = "pids.txt";

    /** Starts ZooKeeper, the proxies and every replica; returns when ZooKeeper serves (not yet a leader). */
    void start() throws IOException, InterruptedException {
        Files.createDirectories(dir);
        zk = ZooKeeperProcessEnsemble.builder(dir.resolve("zk")).recordPids().build();
        try {
            zk.start();
        } finally {
            for (int server = 1; server <= zk.servers(); server++) {
                if (zk.isRunning(server)) {
                    recordPid("zookeeper-" + server, zk.pid(server));
                }
            }
        }
        Map<String, String> replAdvertised = new LinkedHashMap<>();
        Map<String, Integer> replPorts = new LinkedHashMap<>();
        // Mutual TLS between the replicas (unless plaintext is asked for): a throwaway CA and a certificate per
        // replica. The proxies hold every key: they terminate TLS to tell links apart by the sender's certificate,
        // as the nemesis cuts links by name (see the class comment).
        Map<String, Path> tlsConfigs = plaintextReplication ? Map.of() : writeCertificates(dir.resolve("tls"), ids);
        TlsKeys keys = plaintextReplication ? null : proxyKeys(dir.resolve("tls"), ids);
        for (String id : ids) {
            int replPort = LoopbackPorts.serverPort();
            replPorts.put(id, replPort);
            LinkProxy proxy = replicationProxy(
                    id, new InetSocketAddress(InetAddress.getLoopbackAddress(), replPort), keys, links);
            proxies.add(proxy);
            replAdvertised.put(id, proxy.hostPort());
        }
        // ... and a ZooKeeper tree only the replicas can write (a throwaway digest credential).
        Path zkAuth = dir.resolve("zk-auth");
        Files.writeString(zkAuth, "tenure:" + java.util.UUID.randomUUID() + "\n");
        for (String id : ids) {
            List<String> connect = new ArrayList<>();
            for (int server = 1; server <= zk.servers(); server++) {
                LinkProxy proxy = new LinkProxy(
                        "zk" + server + "-" + id,
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), zk.clientPort(server)),
                        LinkProxy.fixed(Links.zooKeeper(id)),
                        links);
                proxies.add(proxy);
                connect.add(proxy.hostPort());
            }
            Path home = dir.resolve(id);
            Files.createDirectories(home);
            List<String> extra = new ArrayList<>(
                    List.of("--repl-advertise", replAdvertised.get(id), "--zk-auth-file", zkAuth.toString()));
            if (plaintextReplication) {
                extra.add("--transport-plaintext");
            } else {
                extra.addAll(
                        List.of("--transport-tls-config", tlsConfigs.get(id).toString()));
            }
            if (partitions > 1) {
                extra.addAll(List.of("--partitions", Integer.toString(partitions)));
            }
            extra.addAll(nodeArguments);
            launchers.put(
                    id,
                    NodeLauncher.builder(id)
                            .mainClass(nodeMainClass)
                            .jvmOptions(NODE_JVM_OPTIONS)
                            .zooKeeper(String.join(",", connect))
                            .dataDir(home.resolve("data"))
                            .http("127.0.0.1:" + LoopbackPorts.serverPort())
                            .repl("127.0.0.1:" + replPorts.get(id))
                            .replicas(ids)
                            .cluster("verify")
                            .sessionTimeout(Duration.ofMillis(sessionTimeoutMs))
                            .extraArguments(extra)
                            .logFile(home.resolve("node.log"))
                            .stopGrace(Duration.ZERO)
                            .build());
            startReplica(id);
        }
    }

    /**
     * Writes the CA and every replica's certificate, key and {@code transport.properties} under {@code tlsDir}
     * ({@link ClusterCertificates}); each replica's files readable by the owner only. Returns each replica's
     * properties file.
     */
    static Map<String, Path> writeCertificates(Path tlsDir, List<String> ids) throws IOException {
        Map<String, Path> configs = ClusterCertificates.write(tlsDir, ids);
        for (String id : ids) {
            ownerOnly(tlsDir.resolve(id));
        }
        return configs;
    }

    /** Every replica's key and certificate and the CA, as {@link #writeCertificates} wrote them: the proxies'. */
    static TlsKeys proxyKeys(Path tlsDir, List<String> ids) throws IOException {
        Map<String, Path> dirs = new LinkedHashMap<>();
        ids.forEach(id -> dirs.put(id, tlsDir.resolve(id)));
        return TlsKeys.fromPemDirectories(tlsDir.resolve("ca.pem"), dirs);
    }

    /**
     * The proxy in front of replica {@code id}'s replication port {@code target}: it terminates TLS and names links
     * by the sender's certificate with {@code keys}, or names them by the sender in the plaintext hello when {@code
     * keys} is null.
     */
    static LinkProxy replicationProxy(String id, InetSocketAddress target, TlsKeys keys, Links links)
            throws IOException {
        return keys == null
                ? new LinkProxy("repl-" + id, target, LinkProxy.replicationTo(id, MessageCodec::helloSender), links)
                : LinkProxy.terminatingTls("repl-" + id, target, id, keys, links);
    }

    /** Makes {@code replicaDir} and the files in it readable by the owner only (0700, 0600), where POSIX. */
    private static void ownerOnly(Path replicaDir) throws IOException {
        if (!replicaDir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.list(replicaDir)) {
            for (Path f : files.toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
            }
        }
        Files.setPosixFilePermissions(replicaDir, PosixFilePermissions.fromString("rwx------"));
    }

    /** Starts replica {@code id}'s process (again) and records its pid. */
    @Override
    public synchronized void startReplica(String id) throws IOException {
        if (closed) {
            throw new IllegalStateException("the testbed is closed: not starting replica " + id + " again");
        }
        ChildProcess running = replicas.get(id);
        if (running != null && running.isAlive()) {
            throw new IllegalStateException("replica " + id + " is running (pid " + running.pid() + ")");
        }
        Path nodeLog = dir.resolve(id).resolve("node.log");
        logSizeAtStart.put(id, Files.exists(nodeLog) ? Files.size(nodeLog) : 0L);
        ChildProcess p = launchers.get(id).start();
        replicas.put(id, p);
        recordPid("replica-" + id, p.pid());
    }

    /**
     * The snapshot installs replica {@code id} has logged since its current process was started: the replicator's
     * INFO line {@code replica ID installed snapshot ...} in {@code ID/node.log}.
     */
    synchronized long snapshotInstallsSinceStart(String id) throws IOException {
        String installed = "replica " + id + " installed snapshot ";
        try (java.io.InputStream in = Files.newInputStream(dir.resolve(id).resolve("node.log"))) {
            in.skipNBytes(logSizeAtStart.getOrDefault(id, 0L));
            return new java.io.BufferedReader(
                            new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8))
                    .lines()
                    .filter(line -> line.contains(installed))
                    .count();
        }
    }

    /** SIGKILLs ZooKeeper server {@code server}. */
    @Override
    public void killZooKeeper(int server) throws IOException, InterruptedException {
        zk.kill(server);
    }

    /** Restarts ZooKeeper server {@code server} and records its pid. */
    @Override
    public void restartZooKeeper(int server) throws IOException, InterruptedException {
        try {
            zk.restart(server);
        } finally {
            if (zk.isRunning(server)) {
                recordPid("zookeeper-" + server, zk.pid(server));
            }
        }
    }

    private synchronized void recordPid(String what, long pid) throws IOException {
        Files.writeString(
                dir.resolve(PIDS_FILE),
                what + " " + pid + "\n",
                java.nio.charset.StandardCharsets.US_ASCII,
                java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
    }

    @Override
    public List<String> ids() {
        return ids;
    }

    @Override
    public Links links() {
        return links;
    }

    @Override
    public int zooKeeperServers() {
        return zk.servers();
    }

    @Override
    public int zooKeeperQuorumLeader() throws IOException, InterruptedException {
        return zk.quorumLeader();
    }

    /** Replica {@code id}'s current process. Any thread. */
    @Override
    public synchronized ChildProcess replica(String id) {
        return replicas.get(id);
    }

    /** Replica {@code id}'s HTTP base URL. */
    String url(String id) {
        return launchers.get(id).url().toString();
    }

    @Override
    public URI baseUrl(String id) {
        return launchers.get(id).url();
    }

    /** Replica {@code id}'s data directory, {@code ID/data}. */
    @Override
    public Path dataDir(String id) {
        return launchers.get(id).dataDir();
    }

    /** Every replica's HTTP base URL. */
    List<URI> urls() {
        return ids.stream().map(id -> URI.create(url(id))).toList();
    }

    /** Replica {@code id}'s {@code /status}, or empty if it does not answer within a second. Any thread. */
    Optional<JsonNode> status(String id) {
        try {
            return running().containsKey(id)
                    ? probe.status(id, launchers.get(id).url()).map(StatusProbe.NodeStatus::json)
                    : Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** The replicas whose process runs and is not paused, id to HTTP base URL. Any thread. */
    private synchronized Map<String, URI> running() {
        Map<String, URI> running = new LinkedHashMap<>();
        for (String id : ids) {
            ChildProcess p = replicas.get(id);
            if (p != null && p.isAlive() && !p.isPaused()) {
                running.put(id, launchers.get(id).url());
            }
        }
        return running;
    }

    /**
     * The live replica that says it leads the highest epoch, if any; with several partitions, the node that leads the
     * most of them. Any thread.
     */
    @Override
    public Optional<String> leader() {
        if (partitions > 1) {
            return StatusProbe.mostLeading(partitionLeaders(), ids);
        }
        try {
            return StatusProbe.leaderOf(probe.statuses(running()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /**
     * With several partitions, each partition's leader among the live, running replicas (partitions without one
     * absent); empty for the single log. Any thread.
     */
    @Override
    public Map<String, StatusProbe.PartitionLeader> partitionLeaders() {
        if (partitions == 1) {
            return Map.of();
        }
        try {
            return StatusProbe.partitionLeadersOf(probe.statuses(running()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        }
    }

    /**
     * With the controller: the node that says it is the active controller in the highest epoch, among the live,
     * running replicas ({@link StatusProbe#controllerOf}); empty if none says so. Any thread.
     */
    @Override
    public Optional<StatusProbe.ControllerSeen> controller() {
        try {
            return StatusProbe.controllerOf(probe.statuses(running()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /**
     * With the controller: waits until a live, running replica says it is the active controller in an epoch above
     * {@code aboveEpoch} and every live, running replica answers and names it, in that epoch; returns it. Polls every
     * 100 ms.
     *
     * @throws TimeoutException naming what the replicas said last, if that does not happen within {@code timeout}
     */
    StatusProbe.ControllerSeen awaitController(long aboveEpoch, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, URI> asked = running();
            Map<String, StatusProbe.NodeStatus> statuses = probe.statuses(asked);
            Optional<StatusProbe.ControllerSeen> c = StatusProbe.controllerOf(statuses);
            if (c.isPresent()
                    && c.get().epoch() > aboveEpoch
                    && statuses.keySet().containsAll(asked.keySet())
                    && StatusProbe.controllerAgreed(c.get(), statuses)) {
                return c.get();
            }
            if (System.nanoTime() - deadline >= 0) {
                Map<String, String> seen = new LinkedHashMap<>();
                statuses.forEach(
                        (id, s) -> seen.put(id, s.json().path("controller").toString()));
                throw new TimeoutException("no controller above epoch " + aboveEpoch + " agreed on by " + asked.keySet()
                        + " within " + timeout + "; last seen: " + seen);
            }
            Thread.sleep(100); // polling the replicas' status
        }
    }

    /** The {@code /status} of every live, running replica that answers, by id. Any thread. */
    Map<String, StatusProbe.NodeStatus> statuses() throws InterruptedException {
        return probe.statuses(running());
    }

    /** The partitions every replica hosts (1: the single log). */
    int partitions() {
        return partitions;
    }

    /**
     * Waits until a replica leads with a committed entry of its epoch and every live, running replica names it
     * leader; returns it. With several partitions: until every partition has such a leader that every live, running
     * replica names ({@link #awaitPartitionLeaders}), and returns the node that leads the most. Polls every 100 ms.
     *
     * @throws TimeoutException if that does not happen within {@code timeout}
     */
    String awaitLeader(Duration timeout) throws InterruptedException, TimeoutException {
        if (partitions > 1) {
            return StatusProbe.mostLeading(awaitPartitionLeaders(timeout), ids).orElseThrow();
        }
        return probe.awaitLeader(this::running, -1, true, timeout).id();
    }

    /**
     * With several partitions: waits until each has a leader with a committed entry that every live, running replica
     * names, and returns them by partition id. Polls every 100 ms.
     *
     * @throws TimeoutException naming the partitions without one, if that does not happen within {@code timeout}
     */
    Map<String, StatusProbe.PartitionLeader> awaitPartitionLeaders(Duration timeout)
            throws InterruptedException, TimeoutException {
        return probe.awaitPartitionLeaders(this::running, partitions, timeout);
    }

    /**
     * With several partitions: {@link #awaitPartitionLeaders}, and further until each partition is led by its
     * preferred leader ({@link StatusProbe#awaitPreferredLeaders}). Polls every 100 ms.
     *
     * @throws TimeoutException naming the partitions led elsewhere, if that does not happen within {@code timeout}
     */
    Map<String, StatusProbe.PartitionLeader> awaitPreferredLeaders(Duration timeout)
            throws InterruptedException, TimeoutException {
        return probe.awaitPreferredLeaders(this::running, partitions, timeout);
    }

    /**
     * Like {@link #awaitLeader}, right after {@link #start()}: fails at once when a replica's process exits instead
     * (a node that refuses its arguments, say), naming it, its exit code and the first line of its log.
     *
     * @throws IOException if a replica exited
     * @throws TimeoutException if no leader is agreed on within {@code timeout}
     */
    String awaitFirstLeader(Duration timeout) throws IOException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String id : ids) {
                ChildProcess p = replica(id);
                if (!p.isAlive()) {
                    List<String> lines = Files.readAllLines(p.logFile(), java.nio.charset.StandardCharsets.UTF_8);
                    // The first line, and the last lines that name an error: the log is deleted with a test's
                    // temporary directory, so the message is all that is left of it.
                    List<String> errors = lines.stream()
                            .filter(l -> l.contains("ERROR") || l.contains("Exception") || l.contains("rror:"))
                            .toList();
                    List<String> last = errors.subList(Math.max(0, errors.size() - 4), errors.size());
                    throw new IOException("replica " + id + " exited with code " + p.exitValue() + " at start ("
                            + (lines.isEmpty() ? "no output" : lines.get(0))
                            + (last.isEmpty() ? "" : "; " + String.join(" | ", last)) + "); see "
                            + p.logFile());
                }
            }
            try {
                return awaitLeader(Duration.ofSeconds(1));
            } catch (TimeoutException e) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new TimeoutException(
                            "no agreed leader within " + timeout + " of the start; last round: " + e.getMessage());
                }
            }
        }
    }

    /** Cuts replica {@code id} off from ZooKeeper only. */
    @Override
    public void cutZooKeeper(String id) {
        links.cut(List.of(Links.zooKeeper(id)));
    }

    /** Cuts the replication links between {@code a} and each of {@code others}, both ways. */
    @Override
    public void cutReplication(String a, Collection<String> others) {
        List<String> cut = new ArrayList<>();
        for (String b : others) {
            if (!b.equals(a)) {
                cut.add(Links.replication(a, b));
                cut.add(Links.replication(b, a));
            }
        }
        links.cut(cut);
    }

    /**
     * Expires replica {@code id}'s ZooKeeper session the way the servers do: opens a second handle on the same
     * session (id and password from the file the replica keeps in its data directory, {@link PreviousSession}), then
     * closes it, which ends the session for both handles.
     */
    @Override
    public void expireSession(String id) throws IOException, InterruptedException {
        PreviousSession.Session session = PreviousSession.read(dataDir(id).resolve(PreviousSession.FILE_NAME));
        PreviousSession.Outcome outcome =
                PreviousSession.end(zk.connectString(), new ZKClientConfig(), session, Duration.ofSeconds(10));
        if (outcome == PreviousSession.Outcome.UNANSWERED) {
            throw new IOException("could not join " + session + " of " + id + " within 10 s");
        }
        log.info("expired {} of replica {}: {}", session, id, outcome);
    }

    /** Heals every link, resumes paused replicas and restarts dead ones and dead ZooKeeper servers. */
    void healEverything() throws IOException, InterruptedException {
        links.healAll();
        for (ChildProcess p : replicasNow()) {
            if (p.isPaused()) {
                p.resume();
            }
        }
        for (int server = 1; server <= zk.servers(); server++) {
            if (!zk.isRunning(server)) {
                restartZooKeeper(server);
            }
        }
        for (String id : ids) {
            if (!replica(id).isAlive()) {
                startReplica(id);
            }
        }
    }

    private synchronized List<ChildProcess> replicasNow() {
        return List.copyOf(replicas.values());
    }

    /** Stops every replica (SIGCONT, SIGKILL), every proxy and every ZooKeeper server. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        links.close();
        ChildProcess.closeAll(replicas.values());
        for (AutoCloseable proxy : proxies) {
            try {
                proxy.close();
            } catch (Exception e) {
                log.warn("closing a proxy failed", e);
            }
        }
        proxies.clear();
        if (zk != null) {
            try {
                zk.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
