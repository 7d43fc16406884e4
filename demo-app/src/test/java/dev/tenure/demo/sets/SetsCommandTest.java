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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.ControllerNode;
import dev.tenure.demo.kv.KvStateMachine;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sets}: partition sets from the command line, against three nodes in controller mode. */
@Tag("zookeeper")
@Timeout(180)
class SetsCommandTest {
    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    @TempDir
    Path dataDir;

    private final List<ControllerNode> nodes = new ArrayList<>();
    private final String cluster = "sets-" + java.util.UUID.randomUUID();

    @BeforeEach
    void startNodes() throws Exception {
        for (String id : List.of("r1", "r2", "r3")) {
            CuratorFramework client = zk.ensemble().newClient(zk.ensemble().clientBuilder());
            ControllerNode n = ControllerNode.builder(client, "/tenure/" + cluster)
                    .id(id)
                    .dataDir(dataDir.resolve(id))
                    .partitionFactory((p, set) -> new KvStateMachine())
                    .node(b -> b.threads(2, 2))
                    .controller(c -> c.rebalanceInterval(Duration.ZERO))
                    .build();
            n.start();
            nodes.add(n);
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (nodes.stream()
                .noneMatch(n -> n.controller().status().active()
                        && n.controller().status().nodes().size() == 3)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no controller seeing the 3 nodes within 60 s");
            }
            Thread.sleep(20); // polling a condition, with a deadline
        }
    }

    @AfterEach
    void stopNodes() {
        nodes.forEach(ControllerNode::close);
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new SetsCommand())
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private String[] with(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add(1, "--zk");
        all.add(2, zk.ensemble().connectString());
        all.add(3, "--cluster");
        all.add(4, cluster);
        return all.toArray(String[]::new);
    }

    @Test
    void aSetIsCreatedListedDescribedElectedAndDeletedFromTheCommandLine() {
        Result created = run(with("create", "orders", "--partitions", "6", "--replication-factor", "3"));
        assertEquals(0, created.exit(), created.toString());
        assertTrue(
                created.out().contains("created orders partitions=6 replicationFactor=3 status=CREATED"),
                created.out());
        assertEquals(
                6, created.out().lines().filter(l -> l.contains("leader=r")).count(), created.out());
        Result list = run(with("list"));
        assertEquals(0, list.exit(), list.toString());
        assertTrue(list.out().contains("orders partitions=6"), list.out());
        Result describe = run(with("describe", "orders"));
        assertEquals(0, describe.exit(), describe.toString());
        assertTrue(describe.out().contains("orders-5 replicas="), describe.out());
        Result elect = run(with("elect-preferred", "orders-0", "orders-1"));
        assertEquals(0, elect.exit(), elect.toString());
        Result deleted = run(with("delete", "orders"));
        assertEquals(0, deleted.exit(), deleted.toString());
        assertEquals("deleted orders", deleted.out().trim());
        Result gone = run(with("describe", "orders"));
        assertEquals(1, gone.exit(), gone.toString());
        assertTrue(gone.err().contains("no partition set orders"), gone.err());
    }

    @Test
    void badInputExitsWith64NamingWhatIsWrongBeforeConnecting() {
        String nowhere = "127.0.0.1:1";
        Result name = run("create", "--zk", nowhere, "a/b", "--partitions", "1", "--replication-factor", "1");
        assertEquals(64, name.exit(), name.toString());
        assertTrue(name.err().contains("invalid partition set name"), name.err());
        Result zero = run("create", "--zk", nowhere, "s", "--partitions", "0", "--replication-factor", "1");
        assertEquals(64, zero.exit(), zero.toString());
        assertTrue(zero.err().contains("partitions"), zero.err());
        Result rf = run("create", "--zk", nowhere, "s", "--partitions", "2", "--replication-factor", "0");
        assertEquals(64, rf.exit(), rf.toString());
        assertTrue(rf.err().contains("replication factor"), rf.err());
        Result missing = run("create", "--zk", nowhere, "s", "--partitions", "2");
        assertEquals(64, missing.exit(), missing.toString());
        assertTrue(missing.err().contains("--replication-factor"), missing.err());
        Result none = run();
        assertEquals(64, none.exit(), none.toString());
        assertTrue(none.err().contains("Missing subcommand"), none.err());
    }

    @Test
    void aRefusedOperationExitsWith1AndSaysWhy() {
        Result tooMany = run(with("create", "big", "--partitions", "2", "--replication-factor", "4"));
        assertEquals(1, tooMany.exit(), tooMany.toString());
        assertTrue(tooMany.err().contains("above the 3 registered nodes"), tooMany.err());
        assertEquals(
                0,
                run(with("create", "dup", "--partitions", "2", "--replication-factor", "2"))
                        .exit());
        Result dup = run(with("create", "dup", "--partitions", "2", "--replication-factor", "2"));
        assertEquals(1, dup.exit(), dup.toString());
        assertTrue(dup.err().contains("partition set dup exists"), dup.err());
        Result unknown = run(with("delete", "nope"));
        assertEquals(1, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().contains("no partition set nope"), unknown.err());
    }
}
