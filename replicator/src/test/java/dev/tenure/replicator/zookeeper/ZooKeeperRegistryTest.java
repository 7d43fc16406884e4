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
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The endpoint registration outlives sessions: it comes back after an expiry and takes over a stale node; closing it
 * deletes it without waiting on ZooKeeper.
 */
@Timeout(120)
@Tag("zookeeper")
class ZooKeeperRegistryTest {
    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private final String clusterPath = "/registry-test/" + UUID.randomUUID();
    private final String endpointPath = ZKPaths.makePath(clusterPath, "endpoints/r1");

    /** Waits until the endpoint node holds {@code address} and belongs to {@code owner}'s current session. */
    private void awaitEndpoint(CuratorFramework reader, CuratorFramework owner, String address) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String seen = "nothing";
        while (System.nanoTime() < deadline) {
            Stat stat = new Stat();
            try {
                byte[] data = reader.getData().storingStatIn(stat).forPath(endpointPath);
                long session = owner.getZookeeperClient().getZooKeeper().getSessionId();
                seen = new String(data, StandardCharsets.UTF_8) + " owned by 0x"
                        + Long.toHexString(stat.getEphemeralOwner()) + " (want 0x" + Long.toHexString(session) + ")";
                if (stat.getEphemeralOwner() == session && address.equals(new String(data, StandardCharsets.UTF_8))) {
                    return;
                }
            } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
                seen = "no node";
            }
            Thread.sleep(50); // polling ZooKeeper
        }
        throw new TimeoutException("endpoint never became " + address + "; last seen: " + seen);
    }

    @Test
    void theEndpointIsPublishedAgainAfterTheSessionExpires() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        CuratorFramework reader = zk.ensemble().newClient();
        try (ZooKeeperRegistry registry = new ZooKeeperRegistry(client, clusterPath)) {
            registry.register("r1", new InetSocketAddress("127.0.0.1", 7001), Duration.ofSeconds(10));
            awaitEndpoint(reader, client, "127.0.0.1:7001");
            zk.ensemble().expireSession(client);
            awaitEndpoint(reader, client, "127.0.0.1:7001");
        }
    }

    @Test
    void aRestartedReplicaTakesOverTheNodeItsPreviousProcessLeft() throws Exception {
        CuratorFramework previous = zk.ensemble().newClient();
        CuratorFramework restarted = zk.ensemble().newClient();
        CuratorFramework reader = zk.ensemble().newClient();
        ZooKeeperRegistry old = new ZooKeeperRegistry(previous, clusterPath);
        old.register("r1", new InetSocketAddress("127.0.0.1", 7001), Duration.ofSeconds(10));
        // The previous process is gone but its session lives on until the servers expire it.
        try (ZooKeeperRegistry registry = new ZooKeeperRegistry(restarted, clusterPath)) {
            registry.register("r1", new InetSocketAddress("127.0.0.1", 7002), Duration.ofSeconds(10));
            // Read through the registering session: another client's server may not have the write yet.
            assertEquals(
                    "127.0.0.1:7002",
                    new String(restarted.getData().forPath(endpointPath), StandardCharsets.UTF_8),
                    "the new address is in ZooKeeper once register returns");
            zk.ensemble().expireSession(previous);
            awaitEndpoint(reader, restarted, "127.0.0.1:7002");
        }
    }

    /** Waits until the endpoint node is gone. */
    private void awaitNoEndpoint(CuratorFramework reader) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (reader.checkExists().forPath(endpointPath) != null) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the endpoint node is still there: " + endpointPath);
            }
            Thread.sleep(50); // polling ZooKeeper
        }
    }

    @Test
    void closingDeletesTheEndpointWhileTheSessionLivesOn() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        CuratorFramework reader = zk.ensemble().newClient();
        ZooKeeperRegistry registry = new ZooKeeperRegistry(client, clusterPath);
        registry.register("r1", new InetSocketAddress("127.0.0.1", 7001), Duration.ofSeconds(10));
        awaitEndpoint(reader, client, "127.0.0.1:7001");
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        registry.close();
        awaitNoEndpoint(reader);
        assertEquals(
                session,
                client.getZookeeperClient().getZooKeeper().getSessionId(),
                "deleted by the close, not by the end of the session");
        assertTrue(client.getZookeeperClient().isConnected(), "the session is still connected");
    }

    @Test
    void closingWhileZooKeeperIsUnreachableReturnsAtOnceAndTheEndpointGoesOnceItIsBack() throws Exception {
        CuratorFramework client = zk.ensemble().newClient(); // connection timeout 5 s
        ZooKeeperRegistry registry = new ZooKeeperRegistry(client, clusterPath);
        registry.register("r1", new InetSocketAddress("127.0.0.1", 7001), Duration.ofSeconds(10));
        awaitEndpoint(client, client, "127.0.0.1:7001");
        zk.ensemble().stopAll();
        long started = System.nanoTime();
        registry.close(); // a foreground delete waited for the connection timeout and its retries: 12-16 s
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(tookMs < 2_000, "close took " + tookMs + " ms while ZooKeeper was down");
        zk.ensemble().restartAll();
        // The guaranteed delete is sent again once the client reconnects (or the session's end takes the node).
        awaitNoEndpoint(zk.ensemble().newClient());
    }

    @Test
    void onlyHostAndPortEndpointsAreUsedAndAnythingElsePlantedInZooKeeperIsIgnored() {
        assertEquals(
                java.util.Optional.of(new InetSocketAddress("127.0.0.1", 7101)),
                ZooKeeperRegistry.parseEndpoint("127.0.0.1:7101"));
        assertEquals(
                java.util.Optional.of(new InetSocketAddress("::1", 7101)),
                ZooKeeperRegistry.parseEndpoint("[::1]:7101"));
        assertEquals(
                7102,
                ZooKeeperRegistry.parseEndpoint("node-2.example:7102")
                        .orElseThrow()
                        .getPort());
        for (String planted : java.util.List.of(
                "",
                "127.0.0.1",
                "127.0.0.1:0",
                "127.0.0.1:65536",
                "127.0.0.1:-1",
                "javascript:alert(1)",
                "http://evil.example:80",
                "evil host:80",
                "a".repeat(400) + ":80",
                "-leading.example:80",
                "x:80:90")) {
            assertEquals(java.util.Optional.empty(), ZooKeeperRegistry.parseEndpoint(planted), planted);
        }
    }
}
