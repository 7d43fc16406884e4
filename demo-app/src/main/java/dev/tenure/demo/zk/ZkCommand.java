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
package dev.tenure.demo.zk;

import dev.tenure.harness.PidFile;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import dev.tenure.harness.ZooKeeperServerStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code zk}: start, inspect and stop a multi-process ZooKeeper ensemble on loopback ({@link ZooKeeperProcessEnsemble}).
 *
 * <pre>
 * zk start  --dir DIR [--servers 3] [--base-port 2181] [--timeout-s 60] [--tls]  start, leave running, exit 0
 * zk status --dir DIR                                                           one line per server
 * zk stop   --dir DIR                                                           stop what DIR/ensemble.pids records
 * zk run    --dir DIR [--servers 3] [--base-port 2181] [--timeout-s 60] [--tls]  foreground; Ctrl-C/SIGTERM stops it
 * </pre>
 *
 * <p>With {@code --tls} the client ports are TLS-only secure client ports that require a client certificate;
 * throwaway certificates are written to {@code DIR/tls} (once, kept across restarts) and the client settings to
 * {@code DIR/zk-client-tls.properties}, which a node takes with {@code --zk-tls-config}.
 *
 * <p>Exit codes: 0 done; 1 failed (no quorum in time, nothing to stop, already running; the message says
 * which); 64 bad input (missing {@code --dir}, servers out of 1..15, a base port out of range or in use).
 * Output goes to the command line's out and err writers.
 */
@Command(
        name = "zk",
        mixinStandardHelpOptions = true,
        exitCodeOnInvalidInput = 64, // EX_USAGE: bad arguments, on every command
        description = "Start, inspect and stop a ZooKeeper ensemble of separate processes on 127.0.0.1.",
        subcommands = {ZkCommand.Start.class, ZkCommand.Stop.class, ZkCommand.Status.class, ZkCommand.Run.class})
public final class ZkCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing subcommand: start, stop, status or run");
    }

    /** Runs {@code zk} with {@code args} (without the leading {@code zk}) and exits with its exit code. */
    public static void main(String... args) {
        System.exit(run(args));
    }

    /** Runs {@code zk} with {@code args} (without the leading {@code zk}); returns the exit code. */
    public static int run(String... args) {
        return new CommandLine(new ZkCommand()).execute(args);
    }

    /** As {@link #run(String...)}, writing to {@code out} and {@code err}. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return new CommandLine(new ZkCommand()).setOut(out).setErr(err).execute(args);
    }

    /** {@code --dir}, required by every subcommand. */
    static final class DirOption {
        @Option(
                names = "--dir",
                required = true,
                paramLabel = "DIR",
                description = "Directory for the servers' configuration, data, logs and ensemble.pids.")
        Path dir;

        Path dir() {
            return dir.toAbsolutePath().normalize();
        }
    }

    /** The options of {@code start} and {@code run}. */
    static final class EnsembleOptions {
        @Option(
                names = "--servers",
                defaultValue = "3",
                paramLabel = "N",
                description = "Number of servers, 1.." + ZooKeeperProcessEnsemble.MAX_SERVERS
                        + " (default: ${DEFAULT-VALUE}).")
        int servers;

        @Option(
                names = "--base-port",
                defaultValue = "2181",
                paramLabel = "PORT",
                description = "Client ports are PORT, PORT+1, ...; quorum ports PORT+"
                        + ZooKeeperProcessEnsemble.QUORUM_PORT_OFFSET + "...; election ports PORT+"
                        + ZooKeeperProcessEnsemble.ELECTION_PORT_OFFSET
                        + "...; 0 picks free ports (default: ${DEFAULT-VALUE}).")
        int basePort;

        @Option(
                names = "--timeout-s",
                defaultValue = "60",
                paramLabel = "SECONDS",
                description = "How long to wait for a quorum (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Option(
                names = "--tls",
                description = "TLS-only client ports (secureClientPort, client certificates required) and quorum"
                        + " TLS between the servers: writes"
                        + " throwaway certificates to DIR/tls and the client settings to DIR/"
                        + ZooKeeperProcessEnsemble.CLIENT_TLS_FILE + " for node --zk-tls-config.")
        boolean tls;

        /** Checks the options and that DIR has no running ensemble; throws the usage error that exits 64. */
        ZooKeeperProcessEnsemble ensemble(CommandSpec spec, Path dir) throws IOException {
            if (servers < 1 || servers > ZooKeeperProcessEnsemble.MAX_SERVERS) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--servers must be between 1 and " + ZooKeeperProcessEnsemble.MAX_SERVERS + ", was " + servers);
            }
            if (timeoutSeconds < 1) {
                throw new ParameterException(spec.commandLine(), "--timeout-s must be >= 1, was " + timeoutSeconds);
            }
            if (basePort < 0) {
                throw new ParameterException(spec.commandLine(), "--base-port must be >= 0, was " + basePort);
            }
            List<Long> running = ZooKeeperProcessEnsemble.runningPids(dir);
            if (!running.isEmpty()) {
                throw new AlreadyRunning(dir, running);
            }
            Optional<String> unusable = ZooKeeperProcessEnsemble.unusableBasePort(basePort, servers);
            if (unusable.isPresent()) {
                throw new ParameterException(spec.commandLine(), unusable.get());
            }
            ZooKeeperProcessEnsemble.Builder builder = ZooKeeperProcessEnsemble.builder(dir)
                    .recordPids()
                    .servers(servers)
                    .basePort(basePort)
                    .startTimeout(Duration.ofSeconds(timeoutSeconds));
            if (tls) {
                builder.clientTls(dev.tenure.demo.node.ClusterCertificates.writeZooKeeper(dir.resolve("tls")));
            }
            return builder.build();
        }
    }

    /** DIR already has live servers: not a usage error, exit 1. */
    static final class AlreadyRunning extends IOException {
        AlreadyRunning(Path dir, List<Long> pids) {
            super("an ensemble started from " + dir + " is still running (pids " + pids
                    + "); stop it first with: zk stop --dir " + dir);
        }
    }

    @Command(
            name = "start",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64, // EX_USAGE: bad arguments, on every command
            description = {
                "Start the servers, wait for a quorum, print the connect string and exit, leaving them running.",
                "If this command is killed before it prints, run 'zk stop --dir DIR'."
            })
    static final class Start implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        DirOption dirOption;

        @Mixin
        EnsembleOptions options;

        @Override
        public Integer call() {
            Path dir = dirOption.dir();
            try (ZooKeeperProcessEnsemble ensemble = options.ensemble(spec, dir)) {
                ensemble.start();
                printStarted(spec.commandLine().getOut(), ensemble);
                // From here on only the pid file knows the servers: close() leaves them running.
                ensemble.detach();
                spec.commandLine().getOut().println("stop with: zk stop --dir " + dir);
                spec.commandLine().getOut().flush();
                return 0;
            } catch (IOException | IllegalStateException e) {
                return fail(spec, "start", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail(spec, "start", e);
            }
        }
    }

    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64, // EX_USAGE: bad arguments, on every command
            description = {
                "Start the servers in the foreground and stop them all on Ctrl-C or SIGTERM.",
                "Returns when every server has exited (for example after 'zk stop --dir DIR').",
                "If this process is SIGKILLed, the servers keep running: stop them with 'zk stop --dir DIR'."
            })
    static final class Run implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        DirOption dirOption;

        @Mixin
        EnsembleOptions options;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (ZooKeeperProcessEnsemble ensemble = options.ensemble(spec, dirOption.dir())) {
                ensemble.start();
                printStarted(out, ensemble);
                out.println("running in the foreground: Ctrl-C or SIGTERM stops every server");
                out.flush();
                // The ensemble's shutdown hook stops the servers on Ctrl-C/SIGTERM, which also ends this wait.
                ensemble.allExited().join();
                out.println("every ZooKeeper server has exited");
                out.flush();
                return 0;
            } catch (IOException | IllegalStateException e) {
                return fail(spec, "run", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail(spec, "run", e);
            }
        }
    }

    @Command(
            name = "stop",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64, // EX_USAGE: bad arguments, on every command
            description = {
                "Stop the servers recorded in DIR/ensemble.pids (SIGTERM, then SIGKILL after 5 s) and remove"
                        + " the pid file; the data stays.",
                "Works after 'zk start', and after a 'zk run' or a test JVM was SIGKILLed.",
                "Exits 1 if there is nothing to stop."
            })
    static final class Stop implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        DirOption dirOption;

        @Override
        public Integer call() {
            Path dir = dirOption.dir();
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            List<Long> stopped;
            try {
                stopped = ZooKeeperProcessEnsemble.stop(dir);
            } catch (NoSuchFileException e) {
                err.println("zk stop: nothing to stop: " + PidFile.path(dir) + " does not exist");
                err.flush();
                return 1;
            } catch (IOException e) {
                return fail(spec, "stop", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail(spec, "stop", e);
            }
            if (stopped.isEmpty()) {
                err.println("zk stop: nothing to stop: no ZooKeeper server recorded in " + PidFile.path(dir)
                        + " is running (removed the stale pid file)");
                err.flush();
                return 1;
            }
            out.println("stopped " + stopped.size() + " ZooKeeper server process(es): pids "
                    + stopped.stream().map(String::valueOf).collect(Collectors.joining(" ")));
            out.println("data kept in " + dir + " (delete it for a fresh ensemble)");
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64, // EX_USAGE: bad arguments, on every command
            description = "One line per server recorded in DIR/ensemble.pids: pid, client port, alive, mode.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        DirOption dirOption;

        @Override
        public Integer call() {
            Path dir = dirOption.dir();
            PrintWriter out = spec.commandLine().getOut();
            List<ZooKeeperServerStatus> statuses;
            try {
                statuses = ZooKeeperProcessEnsemble.status(dir);
            } catch (NoSuchFileException e) {
                spec.commandLine()
                        .getErr()
                        .println("zk status: no ensemble recorded: " + PidFile.path(dir) + " does not exist");
                spec.commandLine().getErr().flush();
                return 1;
            } catch (IOException e) {
                return fail(spec, "status", e);
            }
            for (ZooKeeperServerStatus status : statuses) {
                out.println("server." + status.server() + " pid=" + status.pid() + " clientPort=" + status.clientPort()
                        + " alive=" + status.alive() + " mode=" + status.mode().label());
            }
            out.println("connect string: " + connectString(statuses));
            Path tlsFile = dir.resolve(ZooKeeperProcessEnsemble.CLIENT_TLS_FILE);
            if (java.nio.file.Files.exists(tlsFile)) {
                out.println("client ports are TLS only: --zk-tls-config " + tlsFile);
            }
            out.flush();
            return 0;
        }
    }

    private static void printStarted(PrintWriter out, ZooKeeperProcessEnsemble ensemble)
            throws IOException, InterruptedException {
        out.println("started " + ensemble.servers() + " ZooKeeper server process(es) in " + ensemble.directory());
        for (int server = 1; server <= ensemble.servers(); server++) {
            out.println("server." + server + " pid=" + ensemble.pid(server) + " clientPort="
                    + ensemble.clientPort(server) + " log="
                    + ensemble.directory().resolve("zk-" + server).resolve("server.log"));
        }
        out.println("quorum leader: server." + ensemble.quorumLeader());
        out.println("connect string: " + ensemble.connectString());
        if (ensemble.clientTlsFile().isPresent()) {
            out.println("client ports are TLS only (client certificates required); connect with: node --zk "
                    + ensemble.connectString() + " --zk-tls-config "
                    + ensemble.clientTlsFile().get());
        }
        out.flush();
    }

    private static String connectString(List<ZooKeeperServerStatus> statuses) {
        return statuses.stream()
                .map(s -> ZooKeeperProcessEnsemble.LOOPBACK + ":" + s.clientPort())
                .collect(Collectors.joining(","));
    }

    private static int fail(CommandSpec spec, String subcommand, Exception e) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("zk " + subcommand + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        err.flush();
        return 1;
    }
}
