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
package dev.tenure.demo.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code reassign start|show} against an embedded cluster of three nodes with the controller (4 partitions, real
 * sockets, in-process ZooKeeper): any node answers (the others redirect to the controller), bad input is refused with
 * exit 1 naming what is wrong, and a reassignment runs to its end.
 */
@Timeout(120)
class ReassignCommandTest {
    private static EmbeddedCluster cluster;

    private ByteArrayOutputStream out = new ByteArrayOutputStream();
    private ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeAll
    static void start() throws Exception {
        cluster = new EmbeddedCluster(0).partitions(4).leadership(KvNode.Leadership.CONTROLLER);
        cluster.start();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private int run(String... args) {
        out = new ByteArrayOutputStream();
        err = new ByteArrayOutputStream();
        ClientEnvironment env = new ClientEnvironment(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                KvClient::new);
        return ClientCommands.run(env, args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Waits until {@code reassign show 0} answers 0 through {@code url} and its line starts with {@code says}. */
    private void awaitShow(String url, String says) throws InterruptedException {
        awaitShow(url, says, "0");
    }

    /** As {@link #awaitShow(String, String)}, for partition {@code partition}. */
    private void awaitShow(String url, String says, String partition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(run("reassign", "show", partition, "--url", url) == 0 && out().startsWith(says))) {
            assertTrue(System.nanoTime() < deadline, "reassign show never said " + says + ": " + out() + err());
            TimeUnit.MILLISECONDS.sleep(100); // polling the controller through the CLI
        }
    }

    private static List<String> urls() {
        return cluster.nodes().stream().map(KvNode::url).toList();
    }

    @Test
    void anyNodeShowsAPartitionsStateThroughTheController() throws Exception {
        for (String url : urls()) {
            awaitShow(url, "0: replicas ");
            assertTrue(out().contains("no reassignment"), out());
        }
    }

    @Test
    void badReassignmentsAreRefusedWithExitOneNamingWhatIsWrong() throws Exception {
        String url = urls().get(0);
        awaitShow(url, "0: replicas ");
        assertEquals(1, run("reassign", "start", "nope", "r1,r2,r3", "--url", url), out());
        assertTrue(err().contains("unknown partition nope"), err());
        assertEquals(1, run("reassign", "start", "0", "r1,r2,r9", "--url", url));
        assertTrue(err().contains("not registered: [r9]"), err());
        assertEquals(1, run("reassign", "start", "0", "r1,r1,r2", "--url", url));
        assertTrue(err().contains("names a node twice"), err());
        assertEquals(1, run("reassign", "start", "0", "r1,,r2", "--url", url));
        assertTrue(err().contains("node id must not be empty"), err());
        assertEquals(64, run("reassign", "start", "0", "--url", url));
        assertTrue(err().contains("start takes the target replicas"), err());
        assertEquals(64, run("reassign", "move", "p0", "--url", url));
        assertEquals(1, run("reassign", "show", "nope", "--url", url));
        assertTrue(err().contains("nope"), err());
    }

    @Test
    void aReassignmentStartedThroughAnyNodeRunsToItsEnd() throws Exception {
        String url = urls().get(2);
        awaitShow(url, "0: replicas ");
        String line = out();
        String replicas = line.substring(line.indexOf("replicas ") + 9, line.indexOf(';'));
        List<String> now = List.of(replicas.split(", "));
        List<String> reversed = new java.util.ArrayList<>(now);
        java.util.Collections.reverse(reversed);
        assertEquals(0, run("reassign", "start", "0", String.join(",", reversed), "--url", url), err());
        awaitShow(url, "0: replicas " + String.join(", ", reversed) + ";");
        assertTrue(out().contains("no reassignment"), out());
    }

    @Test
    void aPartitionShrunkToTwoReplicasThroughTheCliGoesThroughTheJointConfigurationAndTheRemovedNodeDeletesItsCopy()
            throws Exception {
        String url = urls().get(1);
        awaitShow(url, "1: replicas ", "1");
        String line = out();
        List<String> now = List.of(
                line.substring(line.indexOf("replicas ") + 9, line.indexOf(';')).split(", "));
        List<String> kept = now.subList(0, 2);
        String removed = now.get(2);
        assertEquals(0, run("reassign", "start", "1", String.join(",", kept), "--url", url), err());
        long done = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String expected = "1: replicas " + String.join(", ", kept) + ";";
        while (!(run("reassign", "show", "1", "--url", url) == 0
                && out().startsWith(expected)
                && out().contains("no reassignment"))) {
            assertTrue(System.nanoTime() < done, "the shrink never completed: " + out() + err());
            TimeUnit.MILLISECONDS.sleep(100); // polling the controller through the CLI
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        java.nio.file.Path copy = cluster.dataDir(removed).resolve("partitions").resolve("1");
        while (java.nio.file.Files.exists(copy)) {
            assertTrue(System.nanoTime() < deadline, removed + " kept its copy " + copy);
            TimeUnit.MILLISECONDS.sleep(100); // polling the removed node's data directory
        }
        KvClient client = new KvClient(java.net.URI.create(cluster.node(removed).url())); // redirected
        String key = keyIn(1);
        long deadlinePut = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (client.put(key, "v".getBytes(StandardCharsets.UTF_8)).kind() != Outcome.Kind.OK) {
            assertTrue(System.nanoTime() < deadlinePut, "partition 1 takes no write after the shrink");
            TimeUnit.MILLISECONDS.sleep(100); // a change of leader in progress: ask again
        }
    }

    @Test
    void aNodeRemovedFromAKvPartitionAndAddedBackOpensItAgainCatchesUpAndServesIt() throws Exception {
        String url = urls().get(0);
        awaitShow(url, "2: replicas ", "2");
        String line = out();
        List<String> now = List.of(
                line.substring(line.indexOf("replicas ") + 9, line.indexOf(';')).split(", "));
        String removed = now.get(2);
        awaitReassigned(url, "2", now.subList(0, 2));
        KvNode node = cluster.node(removed);
        KvClient client = new KvClient(java.net.URI.create(node.url()));
        String key = keyIn(2);
        byte[] value = "while-away".getBytes(StandardCharsets.UTF_8);
        awaitPut(client, key, value, "after the shrink");
        assertTrue(node.partitions().get(2).get(key).isEmpty(), "the removed node holds no copy of the write");
        awaitReassigned(url, "2", now); // grown back: the removed node is a replica again, last
        dev.tenure.demo.kv.KvService mine = node.partitions().get(2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!mine.get(key).map(v -> java.util.Arrays.equals(v, value)).orElse(false)) {
            assertTrue(System.nanoTime() < deadline, removed + " never caught up on partition 2: " + mine.status());
            TimeUnit.MILLISECONDS.sleep(100); // polling the re-added node's own state machine
        }
        assertTrue(
                java.nio.file.Files.exists(
                        cluster.dataDir(removed).resolve("partitions").resolve("2")),
                "the re-added node keeps its copy again");
        while (!mine.status().replicas().equals(now)) {
            assertTrue(
                    System.nanoTime() < deadline,
                    "its status never listed the partition's replicas " + now + ": " + mine.status());
            TimeUnit.MILLISECONDS.sleep(100); // the node's sampler refreshes the states it applied
        }
        byte[] again = "back".getBytes(StandardCharsets.UTF_8);
        awaitPut(client, key, again, "through " + removed + " after the growth");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!mine.get(key).map(v -> java.util.Arrays.equals(v, again)).orElse(false)) {
            assertTrue(System.nanoTime() < deadline, removed + " does not apply partition 2's new writes");
            TimeUnit.MILLISECONDS.sleep(100); // polling the re-added node's own state machine
        }
    }

    /** Puts {@code value} at {@code key} through {@code client} until it is acknowledged (60 s at most). */
    private static void awaitPut(KvClient client, String key, byte[] value, String when) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Outcome last = client.put(key, value);
        while (last.kind() != Outcome.Kind.OK) {
            assertTrue(System.nanoTime() < deadline, "no write acknowledged " + when + ": " + last);
            TimeUnit.MILLISECONDS.sleep(100); // a change of leader in progress: ask again
            last = client.put(key, value);
        }
    }

    /** Moves {@code partition} to {@code replicas} through {@code url} and waits until the move completed. */
    private void awaitReassigned(String url, String partition, List<String> replicas) throws InterruptedException {
        assertEquals(0, run("reassign", "start", partition, String.join(",", replicas), "--url", url), err());
        long done = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String expected = partition + ": replicas " + String.join(", ", replicas) + ";";
        while (!(run("reassign", "show", partition, "--url", url) == 0
                && out().startsWith(expected)
                && out().contains("no reassignment"))) {
            assertTrue(System.nanoTime() < done, "the move to " + replicas + " never completed: " + out() + err());
            TimeUnit.MILLISECONDS.sleep(100); // polling the controller through the CLI
        }
    }

    /** A key the demo places in partition {@code index} of 4. */
    private static String keyIn(int index) {
        for (int i = 0; ; i++) {
            String k = "k" + i;
            if (dev.tenure.demo.kv.Partitioning.partitionOf(k, 4) == index) {
                return k;
            }
        }
    }
}
