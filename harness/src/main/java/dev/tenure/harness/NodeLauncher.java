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

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Starts one replica of the demo's key-value service as a child JVM: {@code java -jar demo-app.jar node ...} or
 * {@code java dev.tenure.demo.Main node ...} from this JVM's class path. The one place that builds the {@code node}
 * command's argument list: {@code verify}, the benchmark and the end-to-end tests all start nodes here.
 *
 * <p>Immutable once built, so {@link #start()} may be called again to restart the replica from its files. Thread-safe.
 */
public final class NodeLauncher {
    /** The demo application's main class, for {@link Builder#mainClass()}. */
    public static final String DEMO_MAIN_CLASS = "dev.tenure.demo.Main";
    /** The line prefix a node prints once it serves; the rest of the line is its HTTP URL. */
    static final String SERVING_PREFIX = "replica %s serving at ";

    private final String id;
    private final List<String> nodeArguments;
    private final List<String> jvmOptions;
    private final Path jar;
    private final String mainClass;
    private final Path logFile;
    private final String httpHostPort;
    private final Path dataDir;
    private final boolean awaitServing;
    private final Duration stopGrace;

    private NodeLauncher(Builder b) {
        this.id = b.id;
        this.jvmOptions = List.copyOf(b.jvmOptions);
        this.jar = b.jar;
        this.mainClass = b.mainClass;
        this.logFile = Objects.requireNonNull(b.logFile, "logFile");
        this.httpHostPort = Objects.requireNonNull(b.http, "http");
        this.dataDir = Objects.requireNonNull(b.dataDir, "dataDir");
        this.awaitServing = b.awaitServing;
        this.stopGrace = b.stopGrace;
        List<String> args = new ArrayList<>(List.of(
                "node",
                "--id",
                b.id,
                "--zk",
                Objects.requireNonNull(b.zooKeeper, "zooKeeper"),
                "--data-dir",
                Objects.requireNonNull(b.dataDir, "dataDir").toString(),
                "--http",
                b.http,
                "--repl",
                Objects.requireNonNull(b.repl, "repl"),
                "--replicas",
                String.join(",", b.replicas)));
        if (b.cluster != null) {
            args.addAll(List.of("--cluster", b.cluster));
        }
        if (b.sessionTimeout != null) {
            args.addAll(List.of("--session-timeout-ms", Long.toString(b.sessionTimeout.toMillis())));
        }
        if (b.requestTimeout != null) {
            args.addAll(List.of("--request-timeout-ms", Long.toString(b.requestTimeout.toMillis())));
        }
        args.addAll(b.extraArguments);
        this.nodeArguments = List.copyOf(args);
    }

    /** A builder for replica {@code id}. */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    /** Describes one replica; {@link #build()} checks that the required parts are set. Not thread-safe. */
    public static final class Builder {
        private final String id;
        private String zooKeeper;
        private Path dataDir;
        private String http;
        private String repl;
        private List<String> replicas = List.of();
        private String cluster;
        private Duration sessionTimeout;
        private Duration requestTimeout;
        private final List<String> extraArguments = new ArrayList<>();
        private final List<String> jvmOptions = new ArrayList<>();
        private Path jar;
        private String mainClass = DEMO_MAIN_CLASS;
        private Path logFile;
        private boolean awaitServing;
        private Duration stopGrace = ChildProcess.DEFAULT_STOP_GRACE;

        private Builder(String id) {
            this.id = Objects.requireNonNull(id, "id");
        }

        /** The ZooKeeper connect string (required). */
        public Builder zooKeeper(String connectString) {
            this.zooKeeper = connectString;
            return this;
        }

        /** The directory for the log and the promise (required). */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /** The HTTP listen address {@code HOST:PORT} (required). */
        public Builder http(String hostPort) {
            this.http = hostPort;
            return this;
        }

        /** The replication listen address {@code HOST:PORT} (required). */
        public Builder repl(String hostPort) {
            this.repl = hostPort;
            return this;
        }

        /** Every replica's id, this one's among them (required). */
        public Builder replicas(List<String> ids) {
            this.replicas = List.copyOf(ids);
            return this;
        }

        /** The cluster name (default: the node's). */
        public Builder cluster(String cluster) {
            this.cluster = cluster;
            return this;
        }

        /** The ZooKeeper session timeout (default: the node's). */
        public Builder sessionTimeout(Duration timeout) {
            this.sessionTimeout = timeout;
            return this;
        }

        /** How long a request may wait for its commit (default: the node's). */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = timeout;
            return this;
        }

        /** More {@code node} arguments, after the others. */
        public Builder extraArguments(List<String> arguments) {
            this.extraArguments.addAll(arguments);
            return this;
        }

        /** JVM options; blank ones are skipped. */
        public Builder jvmOptions(List<String> options) {
            this.jvmOptions.addAll(options);
            return this;
        }

        /** Runs {@code java -jar jar} (the shipped demo-app jar). */
        public Builder jar(Path jar) {
            this.jar = Objects.requireNonNull(jar, "jar");
            return this;
        }

        /** Runs {@link #DEMO_MAIN_CLASS} from this JVM's class path (the default). */
        public Builder mainClass() {
            return mainClass(DEMO_MAIN_CLASS);
        }

        /**
         * Runs {@code className} from this JVM's class path: a main that takes the demo's {@code node} command and
         * its arguments (a test's own node, for example).
         */
        public Builder mainClass(String className) {
            this.jar = null;
            this.mainClass = Objects.requireNonNull(className, "className");
            return this;
        }

        /** Where the node's output is appended (required). */
        public Builder logFile(Path logFile) {
            this.logFile = logFile;
            return this;
        }

        /** Whether {@link ChildProcess#awaitReady} waits for the node's "serving" line (default: no, it returns at once). */
        public Builder awaitServing(boolean await) {
            this.awaitServing = await;
            return this;
        }

        /** How long {@link ChildProcess#close()} waits after SIGTERM before SIGKILL (default 10 s; zero: SIGKILL). */
        public Builder stopGrace(Duration grace) {
            this.stopGrace = Objects.requireNonNull(grace, "grace");
            return this;
        }

        /** The launcher; throws {@link IllegalStateException} if the replicas were not set. */
        public NodeLauncher build() {
            if (replicas.isEmpty()) {
                throw new IllegalStateException("set the replicas of " + id);
            }
            return new NodeLauncher(this);
        }
    }

    /** The node's id. */
    public String id() {
        return id;
    }

    /** The {@code node} command and its arguments. */
    public List<String> nodeArguments() {
        return nodeArguments;
    }

    /** The node's data directory ({@code --data-dir}): its log, snapshots and promise. */
    public Path dataDir() {
        return dataDir;
    }

    /** The node's HTTP base URL. */
    public URI url() {
        return URI.create("http://" + httpHostPort);
    }

    /** Starts the node's process (again); returns without waiting unless the builder asked to await serving. */
    public ChildProcess start() throws IOException {
        ChildJvm.Builder jvm =
                ChildJvm.builder("node-" + id).jvmOptions(jvmOptions).arguments(nodeArguments);
        if (jar != null) {
            jvm.jar(jar);
        } else {
            jvm.mainClass(mainClass);
        }
        ChildProcess.Builder b = jvm.process().logFile(logFile).stopGrace(stopGrace);
        if (awaitServing) {
            b.readyPrefix(String.format(SERVING_PREFIX, id));
        }
        return b.start();
    }
}
