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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import dev.tenure.demo.client.RetriedPuts;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The embedded cluster's ZooKeeper tree ({@code /tenure/kv}: configuration, endpoints, election and epoch nodes of
 * every partition, advertised URLs) is Tenure's only: a client without the replicas' credential reads every node but
 * changes, creates under or deletes none, while the replicas keep committing writes.
 */
@Timeout(180)
class ZooKeeperTreeIsTenuresOnlyTest {
    @Test
    void anUnauthenticatedClientCanReadButNotChangeAnyNodeWhileTheReplicasKeepCommitting() throws Exception {
        try (EmbeddedCluster cluster = new EmbeddedCluster(0).partitions(2)) {
            cluster.start();
            try (CuratorFramework anonymous =
                    CuratorFrameworkFactory.newClient(cluster.ensemble().connectString(), new RetryOneTime(100))) {
                anonymous.start();
                KvClient client = new KvClient(URI.create(cluster.node("r1").url()), Duration.ofSeconds(30));
                List<String> nodes = new ArrayList<>();
                collect(anonymous, "/tenure/kv", nodes);
                assertTrue(nodes.size() > 10, "the tree: " + nodes);
                int refused = 0;
                int writes = 0;
                for (String node : nodes) {
                    byte[] data = read(anonymous, node); // anyone may read
                    refused += (refusedNoAuth(() -> anonymous.setData().forPath(node, data)));
                    refused += (refusedNoAuth(() -> anonymous.create().forPath(node + "/planted")));
                    if (!node.equals("/tenure/kv")) {
                        refused += (refusedNoAuth(() -> anonymous.delete().forPath(node)));
                    }
                    if (writes < 20) {
                        byte[] value = ("v" + writes).getBytes(StandardCharsets.UTF_8);
                        // It must commit within a minute (RetriedPuts: an unknown outcome is put again).
                        Outcome o = RetriedPuts.putUntilKnown(client, "key-" + writes, value, Duration.ofMinutes(1));
                        assertEquals(
                                Outcome.Kind.OK,
                                o.kind(),
                                "the replicas keep committing while the attacker tries: " + o);
                        writes++;
                    }
                }
                assertEquals(3 * nodes.size() - 1, refused, "every attempt refused with NoAuth");
                List<String> after = new ArrayList<>();
                collect(anonymous, "/tenure/kv", after);
                assertFalse(after.stream().anyMatch(n -> n.endsWith("/planted")), "nothing was planted");
            }
        }
    }

    private interface Attempt {
        void run() throws Exception;
    }

    private static int refusedNoAuth(Attempt a) throws Exception {
        try {
            a.run();
            return 0;
        } catch (KeeperException.NoAuthException refused) {
            return 1;
        } catch (KeeperException.NoNodeException gone) {
            return 1; // an ephemeral election node that went meanwhile: nothing was changed either
        }
    }

    /**
     * The node's data, or nothing for an ephemeral election node that went since the walk (a leadership moved): the
     * attempts on it still run, and each must still change nothing.
     */
    private static byte[] read(CuratorFramework zk, String path) throws Exception {
        try {
            return zk.getData().forPath(path);
        } catch (KeeperException.NoNodeException gone) {
            return new byte[0];
        }
    }

    private static void collect(CuratorFramework zk, String path, List<String> into) throws Exception {
        into.add(path);
        List<String> children;
        try {
            children = zk.getChildren().forPath(path);
        } catch (KeeperException.NoNodeException gone) {
            return;
        }
        for (String c : children) {
            collect(zk, path + "/" + c, into);
        }
    }
}
