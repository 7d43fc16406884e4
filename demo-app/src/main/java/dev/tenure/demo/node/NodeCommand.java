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
package dev.tenure.demo.node;

import dev.tenure.replicator.SnapshotPolicy;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.zookeeper.FastFailover;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code node}: one replica of the key-value service against a ZooKeeper ensemble. */
@Command(
        name = "node",
        mixinStandardHelpOptions = true,
        exitCodeOnInvalidInput = 64, // EX_USAGE: bad arguments, on every command
        defaultValueProvider = EnvironmentDefaults.class,
        description = {
            "Runs one replica against a ZooKeeper ensemble until SIGTERM (a leader hands over first).",
            "Every option --foo-bar may come from the environment variable TENURE_FOO_BAR instead; a flag on the"
                    + " command line wins."
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped cleanly", "1:failed to start (the message says why)", "64:bad arguments"})
public final class NodeCommand implements Callable<Integer> {
    @Option(names = "--id", required = true, description = "this replica's id")
    String id;

    @Option(names = "--zk", required = true, description = "ZooKeeper connect string")
    String zk;

    @Option(names = "--data-dir", required = true, description = "directory for the log and the promise")
    Path dataDir;

    @Option(names = "--http", required = true, description = "HTTP listen address HOST:PORT")
    String http;

    @Option(names = "--repl", required = true, description = "replication listen address HOST:PORT")
    String repl;

    @Option(
            names = "--replicas",
            required = true,
            description = "the replica set a new cluster starts with, comma-separated, including --id; once the cluster"
                    + " exists its replica set lives in ZooKeeper and changes with the members command")
    String replicas;

    @Option(
            names = "--partitions",
            defaultValue = "1",
            paramLabel = "P",
            description = "spread the keys over P replicated logs (partitions), each led by its own leader, key to"
                    + " partition by CRC-32 of the key mod P; every node of a cluster must use the same P, at most "
                    + dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS
                    + "; 1 is the single log, which alone offers membership changes (default: ${DEFAULT-VALUE})")
    int partitions;

    @Option(
            names = "--leadership",
            paramLabel = "MODE",
            description = "where the partitions' leaders come from: election (each partition's own fenced election,"
                    + " the default) or controller (one elected node of the cluster, the controller, assigns every"
                    + " partition's leader and leader epoch; needs --partitions 2 or more; see docs/controller.md);"
                    + " every node of a cluster must use the same")
    String leadership;

    @Option(
            names = "--controller-rebalance-interval-ms",
            paramLabel = "N",
            description = "with --leadership controller: how often the controller moves partitions back to their"
                    + " preferred leaders when a node's share led elsewhere is above --controller-imbalance-percent;"
                    + " 0 never (default: 300000)")
    Long controllerRebalanceIntervalMs;

    @Option(
            names = "--controller-imbalance-percent",
            paramLabel = "PCT",
            description = "with --leadership controller: the share, 0..100, of a node's preferred partitions led"
                    + " elsewhere above which the rebalance moves them back (default: 10)")
    Double controllerImbalancePercent;

    @Option(names = "--http-advertise", description = "HTTP address others use (default: the bound one)")
    String httpAdvertise;

    @Option(
            names = "--http-allowed-host",
            paramLabel = "NAME[:PORT]",
            split = ",",
            description = "extra Host names the HTTP API answers (besides 127.0.0.1, localhost, [::1] and the bound"
                    + " and advertised addresses); others get 421 (DNS rebinding); repeatable or comma-separated")
    List<String> httpAllowedHosts = new java.util.ArrayList<>();

    @Option(
            names = "--http-token-file",
            paramLabel = "PATH",
            description = "file holding a bearer token that writes and admin routes then require (Authorization:"
                    + " Bearer TOKEN; reads stay open); default: the TENURE_HTTP_TOKEN environment variable, else none")
    Path httpTokenFile;

    @Option(
            names = "--transport-tls-config",
            paramLabel = "FILE",
            description = "mutual TLS between the replicas: a properties file with Kafka-style keys (ssl.keystore.type"
                    + " PEM|PKCS12, ssl.keystore.location, ssl.key.location, ssl.keystore.password,"
                    + " ssl.truststore.location, ...; see docs/security.md); the files reload when they change."
                    + " `demo-app certs` writes one per replica")
    Path transportTlsConfig;

    @Option(
            names = "--zk-auth-file",
            paramLabel = "FILE",
            description = "ZooKeeper digest credential user:password: every node this replica creates can then be"
                    + " changed only by that identity (anyone may read); default: the TENURE_ZK_AUTH environment"
                    + " variable, else open nodes")
    Path zkAuthFile;

    @Option(
            names = "--zk-tls-config",
            paramLabel = "FILE",
            description = "connect to ZooKeeper's secure client port over TLS: a properties file with ZooKeeper's"
                    + " client keys (zookeeper.ssl.keyStore.location, zookeeper.ssl.trustStore.location, .type PEM or"
                    + " PKCS12, .password; see docs/security.md); `demo-app zk start --tls` writes one; default: the"
                    + " TENURE_ZK_TLS_CONFIG environment variable, else plaintext")
    Path zkTlsConfig;

    @Option(
            names = "--transport-plaintext",
            description = "replicate without TLS: anyone who can reach the replication port can speak as any replica;"
                    + " only for a trusted network")
    boolean transportPlaintext;

    @Option(
            names = "--http-tls-cert",
            paramLabel = "PEM",
            description = "serve HTTPS (TLS 1.3 and 1.2) with this certificate chain; needs --http-tls-key")
    Path httpTlsCert;

    @Option(names = "--http-tls-key", paramLabel = "PEM", description = "the HTTPS certificate's PKCS#8 private key")
    Path httpTlsKey;

    @Option(
            names = "--http-tls-client-ca",
            paramLabel = "PEM",
            description = "with HTTPS: client certificates signed by this CA authorize writes and admin routes, as"
                    + " the token does (reads stay open)")
    Path httpTlsClientCa;

    @Option(
            names = "--http-max-connections",
            defaultValue = "1024",
            paramLabel = "N",
            description = "HTTP connections beyond N at once are answered 503 and closed (default: ${DEFAULT-VALUE})")
    int httpMaxConnections;

    @Option(names = "--repl-advertise", description = "replication address others use (default: the bound one)")
    String replAdvertise;

    @Option(names = "--cluster", defaultValue = "kv", description = "cluster name (default: ${DEFAULT-VALUE})")
    String cluster;

    @Option(
            names = "--session-timeout-ms",
            defaultValue = "10000",
            description = "ZooKeeper session timeout (default: ${DEFAULT-VALUE})")
    int sessionTimeoutMs;

    @Option(
            names = "--no-fast-failover",
            description = "turn fast failover off: a crashed or frozen leader is then replaced only when its ZooKeeper"
                    + " session expires (about --session-timeout-ms). Default: on, followers that hear nothing from"
                    + " the leader for the suspicion timeout depose it once a majority of them suspect it")
    boolean noFastFailover;

    @Option(
            names = "--suspicion-timeout-ms",
            paramLabel = "N",
            description = "fast failover: silence from the leader after which a follower suspects it, at least "
                    + KvNode.MIN_SUSPICION_TIMEOUT_MS
                    + " (two heartbeats) and below --session-timeout-ms; a leader paused for longer (a GC pause) is"
                    + " deposed. Default: a third of the session timeout, within 300..5000")
    Long suspicionTimeoutMs;

    @Option(
            names = "--minimum-term-ms",
            paramLabel = "N",
            description = "fast failover: no leader is suspected before its term lasted this long, so leadership"
                    + " changes at most once per minimum term (default: the suspicion timeout)")
    Long minimumTermMs;

    @Option(
            names = "--depose-backoff-ms",
            paramLabel = "N",
            description = "fast failover: a replica deposes no leader within this long after its previous depose"
                    + " (default: the suspicion timeout)")
    Long deposeBackoffMs;

    @Option(
            names = "--request-timeout-ms",
            defaultValue = "10000",
            description = "how long a write waits for its commit, or a linearizable read for its confirmation, before"
                    + " the HTTP API answers 503 (a write: outcome unknown, it may still commit) (default:"
                    + " ${DEFAULT-VALUE})")
    long requestTimeoutMs;

    @Option(
            names = "--snapshot-entries",
            defaultValue = "100000",
            paramLabel = "N",
            description = "take a snapshot once this many entries were applied since the last one (lowered by up to"
                    + " --snapshot-spread) (default: ${DEFAULT-VALUE})")
    long snapshotEntries;

    @Option(
            names = "--snapshot-bytes",
            defaultValue = "64MiB",
            paramLabel = "SIZE",
            converter = ByteSize.class,
            description = "or once the entries applied since the last one have this many payload bytes (lowered by up"
                    + " to --snapshot-spread); bytes, or with K/KiB, M/MiB, G/GiB (default: ${DEFAULT-VALUE})")
    long snapshotBytes;

    @Option(
            names = "--snapshot-spread",
            defaultValue = "0.5",
            paramLabel = "F",
            description = "the largest fraction, in [0, 1), by which both thresholds are lowered at random after each"
                    + " snapshot, so that replicas do not snapshot together (default: ${DEFAULT-VALUE})")
    double snapshotSpread;

    @Option(
            names = "--catch-up-tail",
            defaultValue = "" + KvNode.DEFAULT_CATCH_UP_TAIL_ENTRIES,
            paramLabel = "N",
            description = "entries kept below a snapshot when the log is compacted, so that a follower lagging by fewer"
                    + " catches up from the log instead of by a snapshot install (default: ${DEFAULT-VALUE})")
    long catchUpTail;

    @Option(
            names = "--segment-bytes",
            defaultValue = "64MiB",
            paramLabel = "SIZE",
            converter = ByteSize.class,
            description = "size at which a log segment is closed; compaction deletes whole segments only; bytes, or"
                    + " with K/KiB, M/MiB, G/GiB (default: ${DEFAULT-VALUE})")
    long segmentBytes;

    /** Runs on the node before it starts; a no-op. A test's own main may set it (see EarlyAckNodeMain in tests). */
    java.util.function.Consumer<KvNode> beforeStart = node -> {};

    /** Parses HOST:PORT. */
    static InetSocketAddress address(String flag, String value) {
        if (value == null) {
            return null;
        }
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(flag + " must be HOST:PORT, was '" + value + "'");
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(value.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " has an invalid port: '" + value + "'");
        }
    }

    /** The snapshot flags as a policy (a snapshot on a clean stop too). */
    private SnapshotPolicy snapshotPolicy() {
        if (snapshotEntries < 1) {
            throw new IllegalArgumentException("--snapshot-entries must be at least 1, was " + snapshotEntries);
        }
        if (snapshotBytes < 1) {
            throw new IllegalArgumentException("--snapshot-bytes must be at least 1, was " + snapshotBytes);
        }
        if (!(snapshotSpread >= 0 && snapshotSpread < 1)) {
            throw new IllegalArgumentException("--snapshot-spread must be in [0, 1), was " + snapshotSpread);
        }
        return SnapshotPolicy.defaults()
                .withEntries(snapshotEntries)
                .withBytes(snapshotBytes)
                .withRandomSpread(snapshotSpread);
    }

    /**
     * The fast failover settings from the flags: off with {@code --no-fast-failover}; derived from the negotiated
     * session timeout when no bound is given; else explicit, each bound not given defaulting to the suspicion timeout
     * (itself, when not given, a third of {@code --session-timeout-ms} within 300..5000 ms).
     */
    FastFailover fastFailover() {
        boolean anyBound = suspicionTimeoutMs != null || minimumTermMs != null || deposeBackoffMs != null;
        if (noFastFailover) {
            if (anyBound) {
                throw new IllegalArgumentException("--no-fast-failover turns fast failover off: drop"
                        + " --suspicion-timeout-ms, --minimum-term-ms and --depose-backoff-ms (or their TENURE_"
                        + " variables), which would have no effect");
            }
            return FastFailover.off();
        }
        if (!anyBound) {
            return FastFailover.fromSessionTimeout();
        }
        long suspicion = suspicionTimeoutMs != null
                ? suspicionTimeoutMs
                : FastFailover.suspicionFor(Duration.ofMillis(sessionTimeoutMs)).toMillis();
        if (suspicion < KvNode.MIN_SUSPICION_TIMEOUT_MS) {
            throw new IllegalArgumentException("--suspicion-timeout-ms must be at least "
                    + KvNode.MIN_SUSPICION_TIMEOUT_MS + " (two heartbeat intervals), was " + suspicion);
        }
        if (suspicion >= sessionTimeoutMs) {
            throw new IllegalArgumentException("--suspicion-timeout-ms must be below --session-timeout-ms ("
                    + sessionTimeoutMs + "), was " + suspicion + ": a leader's session would expire first; turn fast"
                    + " failover off with --no-fast-failover instead");
        }
        long minimumTerm = minimumTermMs != null ? minimumTermMs : suspicion;
        long backoff = deposeBackoffMs != null ? deposeBackoffMs : suspicion;
        if (minimumTerm < 0) {
            throw new IllegalArgumentException("--minimum-term-ms must be at least 0, was " + minimumTerm);
        }
        if (backoff < 0) {
            throw new IllegalArgumentException("--depose-backoff-ms must be at least 0, was " + backoff);
        }
        return FastFailover.of(
                Duration.ofMillis(suspicion), Duration.ofMillis(minimumTerm), Duration.ofMillis(backoff));
    }

    /**
     * The leadership mode from {@code --leadership}, checked against the other flags: the controller needs several
     * partitions and takes none of fast failover's bounds (which tune elections); the controller's own options need
     * it.
     */
    KvNode.Leadership leadershipMode() {
        String mode = leadership == null ? "election" : leadership.trim();
        boolean controllerOptions = controllerRebalanceIntervalMs != null || controllerImbalancePercent != null;
        if (mode.equals("election")) {
            if (controllerOptions) {
                throw new IllegalArgumentException("--controller-rebalance-interval-ms and"
                        + " --controller-imbalance-percent (or their TENURE_ variables) apply to --leadership"
                        + " controller only");
            }
            return KvNode.Leadership.ELECTION;
        }
        if (!mode.equals("controller")) {
            throw new IllegalArgumentException("--leadership must be election or controller, was '" + mode + "'");
        }
        if (partitions < 2) {
            throw new IllegalArgumentException("--leadership controller needs --partitions 2 or more, was "
                    + partitions + ": the controller assigns the leaders of partitions, and the single log keeps"
                    + " its own election (and its membership changes)");
        }
        if (suspicionTimeoutMs != null || minimumTermMs != null || deposeBackoffMs != null) {
            throw new IllegalArgumentException("--suspicion-timeout-ms, --minimum-term-ms and --depose-backoff-ms (or"
                    + " their TENURE_ variables) tune fast failover, which only elections have: with --leadership"
                    + " controller a dead leader's partitions move when the controller sees its ZooKeeper session"
                    + " end, and a leader cut off from its majority gives its term up (check quorum); drop them");
        }
        if (controllerRebalanceIntervalMs != null && controllerRebalanceIntervalMs < 0) {
            throw new IllegalArgumentException(
                    "--controller-rebalance-interval-ms must be at least 0, was " + controllerRebalanceIntervalMs);
        }
        if (controllerImbalancePercent != null
                && !(controllerImbalancePercent >= 0 && controllerImbalancePercent <= 100)) {
            throw new IllegalArgumentException(
                    "--controller-imbalance-percent must be within 0..100, was " + controllerImbalancePercent);
        }
        return KvNode.Leadership.CONTROLLER;
    }

    /** The controller's rebalance interval from the flag, or its default. */
    Duration controllerRebalanceInterval() {
        return controllerRebalanceIntervalMs == null
                ? KvNode.DEFAULT_CONTROLLER_REBALANCE_INTERVAL
                : Duration.ofMillis(controllerRebalanceIntervalMs);
    }

    /** The controller's imbalance threshold from the flag, or its default. */
    double controllerImbalancePercent() {
        return controllerImbalancePercent == null
                ? KvNode.DEFAULT_CONTROLLER_IMBALANCE_PERCENT
                : controllerImbalancePercent;
    }

    /** The ZooKeeper credential from --zk-auth-file or TENURE_ZK_AUTH, or null. */
    private dev.tenure.recipes.ZooKeeperAcls zooKeeperAcls() throws java.io.IOException {
        return zooKeeperAcls(zkAuthFile);
    }

    /**
     * The ZooKeeper credential of a command: from {@code authFile} if given, else from the environment variable {@code
     * TENURE_ZK_AUTH} ({@code user:password}), else null (no credential).
     *
     * @throws IllegalArgumentException if TENURE_ZK_AUTH is set but not {@code user:password}
     */
    public static dev.tenure.recipes.ZooKeeperAcls zooKeeperAcls(java.nio.file.Path authFile)
            throws java.io.IOException {
        if (authFile != null) {
            return dev.tenure.recipes.ZooKeeperAcls.fromFile(authFile);
        }
        String env = System.getenv("TENURE_ZK_AUTH");
        if (env == null || env.isBlank()) {
            return null;
        }
        int colon = env.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("TENURE_ZK_AUTH must be user:password");
        }
        return dev.tenure.recipes.ZooKeeperAcls.digest(
                env.substring(0, colon).trim(), env.substring(colon + 1).trim());
    }

    /** ZooKeeper client TLS from --zk-tls-config or TENURE_ZK_TLS_CONFIG (a file name), or null. */
    private dev.tenure.recipes.ZooKeeperClientTls zooKeeperTls() throws java.io.IOException {
        Path file = zkTlsConfig;
        if (file == null) {
            String env = System.getenv("TENURE_ZK_TLS_CONFIG");
            if (env == null || env.isBlank()) {
                return null;
            }
            file = Path.of(env.trim());
        }
        return dev.tenure.recipes.ZooKeeperClientTls.fromFile(file);
    }

    /** The replication transport's TLS from the flags: exactly one of the two must be given. */
    private dev.tenure.replicator.transport.netty.tls.TlsContext transportTls() throws java.io.IOException {
        if (transportTlsConfig == null && !transportPlaintext) {
            throw new IllegalArgumentException("choose the replication transport's security: --transport-tls-config"
                    + " FILE for mutual TLS (demo-app certs writes the files), or --transport-plaintext on a trusted"
                    + " network");
        }
        if (transportTlsConfig != null && transportPlaintext) {
            throw new IllegalArgumentException("--transport-tls-config and --transport-plaintext exclude each other");
        }
        if (transportPlaintext) {
            System.err.println("WARNING: --transport-plaintext: replication is not authenticated; anyone who can reach"
                    + " the replication port can send protocol messages as any replica");
            return null;
        }
        return dev.tenure.replicator.transport.netty.tls.TlsContext.load(
                dev.tenure.replicator.transport.netty.tls.TlsSettings.fromFile(transportTlsConfig));
    }

    /** The HTTP API's protections from the flags (the advertised address is an allowed Host too). */
    private dev.tenure.demo.http.HttpOptions httpOptions(KvNode.Config config) throws java.io.IOException {
        List<String> hosts = new java.util.ArrayList<>(httpAllowedHosts);
        if (config.httpAdvertise() != null) {
            hosts.add(config.httpAdvertise().getHostString() + ":"
                    + config.httpAdvertise().getPort());
        }
        String token = null;
        if (httpTokenFile != null) {
            token = java.nio.file.Files.readString(httpTokenFile, java.nio.charset.StandardCharsets.UTF_8)
                    .trim();
            if (token.isEmpty()) {
                throw new IllegalArgumentException("--http-token-file " + httpTokenFile + " is empty");
            }
        } else {
            String env = System.getenv("TENURE_HTTP_TOKEN");
            token = env == null || env.isBlank() ? null : env.trim();
        }
        if (httpMaxConnections < 1) {
            throw new IllegalArgumentException("--http-max-connections must be at least 1, was " + httpMaxConnections);
        }
        if ((httpTlsCert == null) != (httpTlsKey == null)) {
            throw new IllegalArgumentException("--http-tls-cert and --http-tls-key go together");
        }
        if (httpTlsClientCa != null && httpTlsCert == null) {
            throw new IllegalArgumentException("--http-tls-client-ca needs --http-tls-cert and --http-tls-key");
        }
        java.util.Optional<dev.tenure.demo.http.HttpTls> tls = httpTlsCert == null
                ? java.util.Optional.empty()
                : java.util.Optional.of(dev.tenure.demo.http.HttpTls.fromPem(
                        httpTlsCert, httpTlsKey, java.util.Optional.ofNullable(httpTlsClientCa)));
        return dev.tenure.demo.http.HttpOptions.DEFAULT
                .withTls(tls)
                .withAllowedHosts(hosts)
                .withToken(java.util.Optional.ofNullable(token))
                .withMaxConnections(httpMaxConnections);
    }

    @Override
    public Integer call() throws Exception {
        KvNode.Config config;
        SnapshotPolicy snapshots;
        FastFailover failover;
        KvNode.Leadership mode;
        try {
            if (requestTimeoutMs < 1) {
                throw new IllegalArgumentException("--request-timeout-ms must be at least 1, was " + requestTimeoutMs);
            }
            snapshots = snapshotPolicy();
            if (partitions < 1 || partitions > dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS) {
                throw new IllegalArgumentException("--partitions must be 1.."
                        + dev.tenure.demo.kv.Partitioning.MAX_PARTITIONS + ", was " + partitions);
            }
            mode = leadershipMode();
            failover = mode == KvNode.Leadership.CONTROLLER ? FastFailover.off() : fastFailover();
            if (catchUpTail < 0) {
                throw new IllegalArgumentException("--catch-up-tail must be at least 0, was " + catchUpTail);
            }
            if (segmentBytes < LogConfig.MIN_SEGMENT_BYTES) {
                throw new IllegalArgumentException(
                        "--segment-bytes must be at least " + LogConfig.MIN_SEGMENT_BYTES + ", was " + segmentBytes);
            }
            List<String> ids = Arrays.stream(replicas.split(","))
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList();
            config = new KvNode.Config(
                    id,
                    zk,
                    dataDir,
                    address("--http", http),
                    address("--repl", repl),
                    ids,
                    address("--http-advertise", httpAdvertise),
                    address("--repl-advertise", replAdvertise),
                    cluster,
                    sessionTimeoutMs);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 64; // EX_USAGE, as for every bad argument
        }
        dev.tenure.replicator.transport.netty.tls.TlsContext transportTls;
        try {
            transportTls = transportTls();
        } catch (IllegalArgumentException | java.io.IOException e) {
            System.err.println("error: " + e.getMessage());
            return 64; // EX_USAGE, as for every bad argument
        }
        dev.tenure.recipes.ZooKeeperAcls zooKeeperAcls;
        try {
            zooKeeperAcls = zooKeeperAcls();
        } catch (IllegalArgumentException | java.io.IOException e) {
            System.err.println("error: " + e.getMessage());
            return 64; // EX_USAGE, as for every bad argument
        }
        dev.tenure.recipes.ZooKeeperClientTls zooKeeperTls;
        try {
            zooKeeperTls = zooKeeperTls();
        } catch (IllegalArgumentException | java.io.IOException e) {
            System.err.println("error: " + e.getMessage());
            return 64; // EX_USAGE, as for every bad argument
        }
        dev.tenure.demo.http.HttpOptions httpOptions;
        try {
            httpOptions = httpOptions(config);
        } catch (IllegalArgumentException | java.io.IOException e) {
            System.err.println("error: " + e.getMessage());
            return 64; // EX_USAGE, as for every bad argument
        }
        KvNode node = new KvNode(config)
                .requestTimeout(Duration.ofMillis(requestTimeoutMs))
                .httpOptions(httpOptions)
                .transportTls(transportTls)
                .zooKeeperAcls(zooKeeperAcls)
                .zooKeeperTls(zooKeeperTls)
                .snapshotPolicy(snapshots)
                .catchUpTailEntries(catchUpTail)
                .logSegmentBytes(segmentBytes)
                .partitions(partitions)
                .leadership(mode)
                .controllerRebalance(controllerRebalanceInterval(), controllerImbalancePercent())
                .fastFailover(failover);
        beforeStart.accept(node);
        try {
            node.start();
        } catch (Exception e) {
            System.err.println("error: replica " + id + " could not start: " + e.getMessage());
            node.close();
            return 1;
        }
        System.out.println("replica " + id + " serving at " + node.url() + " (status page " + node.url() + "/)"
                + (partitions > 1 ? " with " + partitions + " partitions" : "") + "; " + node.fastFailoverText());
        // SIGTERM: with the controller, a controlled shutdown (its leaderships move first); else the hand-off.
        Shutdown.awaitSignal();
        node.close();
        return 0;
    }
}
