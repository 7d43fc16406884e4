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
package dev.tenure.replicator.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's control channel: a component beside one node sends opaque control messages to another node over the
 * nodes' replication connections, with no partition between them, once each names the other a control peer; the
 * receiver learns the sender's id from its transport. On loopback sockets and a one-server ZooKeeper.
 */
@Tag("zookeeper")
@Timeout(120)
class ZooKeeperNodeControlTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk =
            ZooKeeperEnsembleExtension.of(ZooKeeperEnsemble.builder().servers(1)); // one server: no quorum needed

    @TempDir
    Path dataDir;

    private final String clusterPath = "/tenure-control/" + UUID.randomUUID();
    private final List<ZooKeeperNode> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        nodes.forEach(ZooKeeperNode::close);
    }

    /** A started node whose control messages go to {@code inbox} as "sender:body". */
    private ZooKeeperNode start(String id, BlockingQueue<String> inbox) throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        ZooKeeperNode node = ZooKeeperNode.builder(client, clusterPath)
                .id(id)
                .dataDir(dataDir.resolve(id))
                .threads(1, 1)
                .controlInbound((from, body) -> inbox.add(from + ":" + new String(body, StandardCharsets.UTF_8)))
                .build();
        nodes.add(node);
        node.start();
        return node;
    }

    /** Sends {@code text} every 50 ms, as a controller would retry, until {@code inbox} receives something. */
    private static String sendUntilReceived(ZooKeeperNode from, String to, String text, BlockingQueue<String> inbox)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            from.sendControl(to, text.getBytes(StandardCharsets.UTF_8));
            String got = inbox.poll(50, TimeUnit.MILLISECONDS);
            if (got != null) {
                return got;
            }
        }
        throw new AssertionError(to + " received no control message from " + from.id() + " within " + WAIT);
    }

    @Test
    void twoNodesWithNoPartitionInCommonExchangeControlMessagesOnceEachNamesTheOtherAControlPeer() throws Exception {
        BlockingQueue<String> at1 = new LinkedBlockingQueue<>();
        BlockingQueue<String> at2 = new LinkedBlockingQueue<>();
        ZooKeeperNode n1 = start("n1", at1);
        ZooKeeperNode n2 = start("n2", at2);

        // Not a control peer yet: dropped at the sender, counted, not thrown.
        long dropped = n1.transport().messagesDropped();
        n1.sendControl("n2", new byte[] {1});
        assertEquals(dropped + 1, n1.transport().messagesDropped());

        n1.controlPeers(List.of("n1", "n2")); // its own id is left out
        assertEquals(Set.of("n2"), n1.controlPeers());
        n2.controlPeers(List.of("n1"));
        assertEquals("n1:leader-and-replicas", sendUntilReceived(n1, "n2", "leader-and-replicas", at2));
        assertEquals("n2:response", sendUntilReceived(n2, "n1", "response", at1));
        assertEquals(0, n1.controlDropped() + n2.controlDropped());
        assertEquals(1, n1.connectedPeers());
    }

    @Test
    void aNodeRefusesTheConnectionOfANodeItDoesNotKnow() throws Exception {
        BlockingQueue<String> at2 = new LinkedBlockingQueue<>();
        ZooKeeperNode n1 = start("n1", new LinkedBlockingQueue<>());
        ZooKeeperNode n2 = start("n2", at2);
        n1.controlPeers(List.of("n2")); // but n2 does not name n1
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (n2.transport().connectionsRefused() == 0) {
            assertTrue(System.nanoTime() < deadline, "n2 never refused n1's hello");
            n1.sendControl("n2", new byte[] {1});
            assertNull(at2.poll(50, TimeUnit.MILLISECONDS), "n2 received nothing from a node it does not know");
        }
        n2.controlPeers(List.of("n1"));
        assertEquals("n1:now", sendUntilReceived(n1, "n2", "now", at2));
    }

    @Test
    void sendControlThrowsBeforeStartAndAfterClose() throws Exception {
        CuratorFramework unstarted = CuratorFrameworkFactory.newClient("127.0.0.1:1", new RetryOneTime(1));
        try {
            ZooKeeperNode node = ZooKeeperNode.builder(unstarted, clusterPath)
                    .id("n1")
                    .dataDir(dataDir.resolve("unstarted"))
                    .build();
            IllegalStateException before =
                    assertThrows(IllegalStateException.class, () -> node.sendControl("n2", new byte[] {1}));
            assertTrue(before.getMessage().contains("not started"), before.getMessage());
            assertEquals("n1", node.id());
            node.controlPeers(List.of("n2")); // before start: kept for the start
            assertEquals(Set.of("n2"), node.controlPeers());
            node.close();
            assertThrows(IllegalStateException.class, () -> node.sendControl("n2", new byte[] {1}));
            assertThrows(IllegalStateException.class, () -> node.controlPeers(List.of("n2")));
        } finally {
            unstarted.close();
        }

        ZooKeeperNode started = start("n3", new LinkedBlockingQueue<>());
        assertThrows(IllegalArgumentException.class, () -> started.sendControl("n3", new byte[] {1}));
        assertThrows(
                IllegalArgumentException.class,
                () -> started.sendControl(
                        "n4", new byte[dev.tenure.replicator.transport.NodeTransport.MAX_CONTROL_BYTES + 1]));
        started.close();
        IllegalStateException after =
                assertThrows(IllegalStateException.class, () -> started.sendControl("n4", new byte[] {1}));
        assertNotNull(after.getMessage());
    }
}
