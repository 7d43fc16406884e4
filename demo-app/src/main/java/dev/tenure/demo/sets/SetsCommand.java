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
package dev.tenure.demo.sets;

import dev.tenure.controller.ControllerAdmin;
import dev.tenure.controller.core.PartitionState;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sets}: partition sets (Kafka's topics) of a cluster in controller mode, through {@link ControllerAdmin}.
 *
 * <pre>
 * sets create   --zk ZK [--cluster kv] [--zk-auth-file F] NAME --partitions N --replication-factor R [--setting K=V]...
 * sets delete   --zk ZK [--cluster kv] NAME
 * sets list     --zk ZK [--cluster kv]
 * sets describe --zk ZK [--cluster kv] NAME
 * sets elect-preferred --zk ZK [--cluster kv] [PARTITION...]
 * </pre>
 *
 * <p>Each waits until the operation is done (at most {@code --timeout-s}). Exit codes: 0 done; 1 refused or failed
 * (an unknown or existing name, a replication factor above the registered nodes, no answer in time: the message says
 * which); 64 bad input (a missing or invalid argument).
 */
@Command(
        name = "sets",
        mixinStandardHelpOptions = true,
        exitCodeOnInvalidInput = 64,
        description = "Create, delete, list and describe partition sets, and run a preferred-leader election, on a"
                + " cluster in controller mode (node --leadership controller).",
        subcommands = {
            SetsCommand.Create.class,
            SetsCommand.Delete.class,
            SetsCommand.ListSets.class,
            SetsCommand.Describe.class,
            SetsCommand.ElectPreferred.class
        })
public final class SetsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(
                spec.commandLine(), "Missing subcommand: create, delete, list, describe or elect-preferred");
    }

    /** The cluster to administer. */
    static final class ClusterOptions {
        @Option(names = "--zk", required = true, description = "ZooKeeper connect string")
        String zk;

        @Option(names = "--cluster", defaultValue = "kv", description = "cluster name (default: ${DEFAULT-VALUE})")
        String cluster;

        @Option(
                names = "--zk-auth-file",
                paramLabel = "FILE",
                description = "the cluster's ZooKeeper digest credential user:password, as the nodes were given it"
                        + " (needed to write requests when the nodes run with one); default: the TENURE_ZK_AUTH"
                        + " environment variable, else none")
        java.nio.file.Path zkAuthFile;

        @Option(
                names = "--timeout-s",
                defaultValue = "60",
                paramLabel = "S",
                description = "how long to wait for the operation (default: ${DEFAULT-VALUE})")
        int timeoutS;
    }

    /** One subcommand's run: connects, runs {@code op}, prints, maps failures to exit codes. */
    abstract static class Sub implements Callable<Integer> {
        @Mixin
        ClusterOptions cluster;

        @Spec
        CommandSpec spec;

        abstract CompletableFuture<?> start(ControllerAdmin admin);

        /** Checks the arguments before connecting. @throws IllegalArgumentException naming what is wrong */
        abstract void validate();

        abstract void print(PrintWriter out, Object result);

        @Override
        public Integer call() throws Exception {
            if (cluster.timeoutS < 1) {
                throw new ParameterException(spec.commandLine(), "--timeout-s must be at least 1");
            }
            try {
                validate();
                dev.tenure.controller.zookeeper.ControllerPaths.partitions("/tenure/" + cluster.cluster);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                    .connectString(cluster.zk)
                    .sessionTimeoutMs(10_000)
                    .connectionTimeoutMs(5000)
                    .retryPolicy(new ExponentialBackoffRetry(100, 5, 2000))
                    .ensembleTracker(false);
            dev.tenure.recipes.ZooKeeperAcls acls;
            try {
                acls = acls(cluster);
            } catch (IllegalArgumentException | java.io.IOException e) {
                throw new ParameterException(spec.commandLine(), "bad ZooKeeper credential: " + e.getMessage());
            }
            if (acls != null) {
                acls.configure(builder);
            }
            try (CuratorFramework client = builder.build()) {
                client.start();
                if (!client.blockUntilConnected(cluster.timeoutS, TimeUnit.SECONDS)) {
                    err.println("cannot reach ZooKeeper at " + cluster.zk + " within " + cluster.timeoutS + " s");
                    return 1;
                }
                try (ControllerAdmin admin = ControllerAdmin.builder(client, "/tenure/" + cluster.cluster)
                        .build()) {
                    CompletableFuture<?> f;
                    try {
                        f = start(admin);
                    } catch (IllegalArgumentException e) {
                        throw new ParameterException(spec.commandLine(), e.getMessage());
                    }
                    Object result = f.get(cluster.timeoutS, TimeUnit.SECONDS);
                    print(out, result);
                    out.flush();
                    return 0;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    err.println(
                            cause instanceof NoSuchElementException
                                            || cause instanceof IllegalArgumentException
                                            || cause instanceof IllegalStateException
                                    ? cause.getMessage()
                                    : String.valueOf(cause));
                    return 1;
                } catch (TimeoutException e) {
                    err.println("not done within " + cluster.timeoutS + " s (the controller goes on with it: is a"
                            + " node in controller mode running, and are the nodes holding its replicas up?)");
                    return 1;
                }
            }
        }
    }

    /** The ZooKeeper credential from --zk-auth-file or TENURE_ZK_AUTH, or null. */
    private static dev.tenure.recipes.ZooKeeperAcls acls(ClusterOptions o) throws java.io.IOException {
        return dev.tenure.demo.node.NodeCommand.zooKeeperAcls(o.zkAuthFile);
    }

    private static String states(Map<String, List<String>> replicaSets, Map<String, PartitionState> states) {
        StringBuilder b = new StringBuilder();
        replicaSets.forEach((p, replicas) -> {
            PartitionState s = states.get(p);
            b.append("  ")
                    .append(p)
                    .append(" replicas=")
                    .append(String.join(",", replicas))
                    .append(" leader=")
                    .append(s == null ? "-" : s.leader().orElse("none"))
                    .append(" leaderEpoch=")
                    .append(s == null ? "-" : Long.toString(s.leaderEpoch()))
                    .append('\n');
        });
        return b.toString();
    }

    private static String line(ControllerAdmin.PartitionSetDescription d) {
        return d.set().name() + " partitions=" + d.set().partitions() + " replicationFactor="
                + d.set().replicationFactor() + " status=" + d.status()
                + (d.set().settings().isEmpty() ? "" : " settings=" + d.set().settings());
    }

    /** {@code sets create}. */
    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64,
            description = "Create a partition set and wait" + " until every partition has a leader.")
    static final class Create extends Sub {
        @Parameters(index = "0", paramLabel = "NAME", description = "[A-Za-z0-9._-]{1,48}")
        String name;

        @Option(names = "--partitions", required = true, paramLabel = "N", description = "number of partitions")
        int partitions;

        @Option(
                names = "--replication-factor",
                required = true,
                paramLabel = "R",
                description = "replicas per partition (at most the registered nodes)")
        int replicationFactor;

        @Option(names = "--setting", paramLabel = "K=V", description = "a setting of the set (repeatable)")
        Map<String, String> settings = new TreeMap<>();

        @Override
        void validate() {
            new dev.tenure.controller.core.PartitionSet(name, partitions, replicationFactor, settings);
        }

        @Override
        CompletableFuture<?> start(ControllerAdmin admin) {
            return admin.createPartitionSet(name, partitions, replicationFactor, settings);
        }

        @Override
        void print(PrintWriter out, Object result) {
            ControllerAdmin.PartitionSetDescription d = (ControllerAdmin.PartitionSetDescription) result;
            out.println("created " + line(d));
            out.print(states(d.replicaSets(), d.states()));
        }
    }

    /** {@code sets delete}. */
    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64,
            description = "Delete a partition set and wait until" + " every replica is deleted.")
    static final class Delete extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        void validate() {
            dev.tenure.controller.core.PartitionSet.checkName(name);
        }

        @Override
        CompletableFuture<?> start(ControllerAdmin admin) {
            return admin.deletePartitionSet(name);
        }

        @Override
        void print(PrintWriter out, Object result) {
            out.println("deleted " + name);
        }
    }

    /** {@code sets list}. */
    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64,
            description = "List the partition sets.")
    static final class ListSets extends Sub {
        @Override
        void validate() {}

        @Override
        CompletableFuture<?> start(ControllerAdmin admin) {
            return admin.listPartitionSets();
        }

        @Override
        void print(PrintWriter out, Object result) {
            @SuppressWarnings("unchecked")
            Map<String, ControllerAdmin.PartitionSetDescription> all =
                    (Map<String, ControllerAdmin.PartitionSetDescription>) result;
            all.values().forEach(d -> out.println(line(d)));
        }
    }

    /** {@code sets describe}. */
    @Command(
            name = "describe",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64,
            description = "A partition set and the state of each" + " of its partitions.")
    static final class Describe extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        void validate() {
            dev.tenure.controller.core.PartitionSet.checkName(name);
        }

        @Override
        CompletableFuture<?> start(ControllerAdmin admin) {
            return admin.describe(name);
        }

        @Override
        void print(PrintWriter out, Object result) {
            ControllerAdmin.PartitionSetDescription d = (ControllerAdmin.PartitionSetDescription) result;
            out.println(line(d));
            out.print(states(d.replicaSets(), d.states()));
        }
    }

    /** {@code sets elect-preferred}. */
    @Command(
            name = "elect-preferred",
            mixinStandardHelpOptions = true,
            exitCodeOnInvalidInput = 64,
            description = "Move the partitions named"
                    + " (every partition if none) to their preferred replica, and wait until they are led by it.")
    static final class ElectPreferred extends Sub {
        @Parameters(arity = "0..*", paramLabel = "PARTITION")
        List<String> partitions = List.of();

        @Override
        void validate() {
            partitions.forEach(dev.tenure.controller.zookeeper.ControllerPaths::checkPartitionId);
        }

        @Override
        CompletableFuture<?> start(ControllerAdmin admin) {
            return admin.electPreferredLeaders(partitions);
        }

        @Override
        void print(PrintWriter out, Object result) {
            out.println("preferred leaders elected" + (partitions.isEmpty() ? "" : " for " + partitions));
        }
    }
}
