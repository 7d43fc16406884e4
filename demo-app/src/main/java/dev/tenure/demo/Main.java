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
package dev.tenure.demo;

import dev.tenure.demo.client.CasCommand;
import dev.tenure.demo.client.DeleteCommand;
import dev.tenure.demo.client.GetCommand;
import dev.tenure.demo.client.MembersCommand;
import dev.tenure.demo.client.PutCommand;
import dev.tenure.demo.client.ReassignCommand;
import dev.tenure.demo.client.SnapshotCommand;
import dev.tenure.demo.client.StatusCommand;
import dev.tenure.demo.node.CertsCommand;
import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import dev.tenure.demo.node.NodeCommand;
import dev.tenure.demo.node.Shutdown;
import dev.tenure.demo.tour.KvTour;
import dev.tenure.demo.verify.VerifyCommand;
import dev.tenure.demo.zk.ZkCommand;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar demo-app.jar}: with no arguments, the embedded demo (an in-process ZooKeeper ensemble
 * and three replicas); subcommands run one replica, the tour, and the client.
 */
@Command(
        name = "demo-app",
        mixinStandardHelpOptions = true,
        description =
                "Tenure's replicated key-value service. Without a subcommand: the embedded 3-replica demo, its keys spread over 6 partitions.",
        subcommands = {
            NodeCommand.class,
            CertsCommand.class,
            Main.TourCommand.class,
            PutCommand.class,
            GetCommand.class,
            DeleteCommand.class,
            CasCommand.class,
            StatusCommand.class,
            SnapshotCommand.class,
            MembersCommand.class,
            ReassignCommand.class,
            ZkCommand.class,
            dev.tenure.demo.sets.SetsCommand.class,
            VerifyCommand.class
        })
public final class Main implements Callable<Integer> {

    /** Exit code of a usage error (bad arguments), on every command: {@code EX_USAGE} of sysexits.h. */
    public static final int EXIT_USAGE = 64;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The command line of every command: {@code --version} prints the build's version everywhere, and bad
     * arguments exit {@link #EXIT_USAGE} everywhere.
     */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        withConventions(cl, new TenureVersion());
        return cl;
    }

    private static void withConventions(CommandLine cl, CommandLine.IVersionProvider version) {
        cl.getCommandSpec().versionProvider(version);
        cl.getCommandSpec().exitCodeOnInvalidInput(EXIT_USAGE);
        for (CommandLine sub : cl.getSubcommands().values()) {
            withConventions(sub, version);
        }
    }

    /** The embedded demo's partitions: two led by each replica once leaders have spread. */
    static final int EMBEDDED_PARTITIONS = 6;

    @Override
    public Integer call() throws Exception {
        try (EmbeddedCluster cluster = new EmbeddedCluster(8081).partitions(EMBEDDED_PARTITIONS)) {
            System.out.println("Starting an in-process ZooKeeper ensemble (3 servers) and 3 replicas on 127.0.0.1,"
                    + " the keys spread over " + EMBEDDED_PARTITIONS + " partitions ...");
            cluster.start();
            System.out.println("ZooKeeper: " + cluster.ensemble().connectString() + "; session timeout 4000 ms, "
                    + cluster.nodes().get(0).fastFailoverText());
            for (KvNode n : cluster.nodes()) {
                System.out.println("replica " + n.id() + ": " + n.url());
            }
            System.out.println("status page: " + cluster.nodes().get(0).url() + "/");
            System.out.println("try: curl -L -X PUT --data-binary hello "
                    + cluster.nodes().get(0).url() + "/kv/greeting");
            System.out.println("Serving until Ctrl-C or SIGTERM.");
            Shutdown.awaitSignal();
            System.out.println("Stopping ...");
        }
        System.out.println("Stopped.");
        return 0;
    }

    /** {@code tour}: the narrated tour of the embedded cluster. */
    @Command(
            name = "tour",
            mixinStandardHelpOptions = true,
            description = "Narrates election, replication, a zombie leader fenced, failover and reads, then exits.")
    static final class TourCommand implements Callable<Integer> {
        @Option(names = "--election-only", description = "narrate the fenced election alone (no key-value store)")
        boolean electionOnly;

        @Override
        public Integer call() throws Exception {
            if (electionOnly) {
                new ElectionTour(System.out).run();
            } else {
                new KvTour(System.out).run();
            }
            return 0;
        }
    }
}
