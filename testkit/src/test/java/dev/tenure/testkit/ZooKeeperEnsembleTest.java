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
package dev.tenure.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.util.ServiceUtils;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@Tag("zookeeper")
class ZooKeeperEnsembleTest {
    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private static void sync(CuratorFramework client, String path) throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        client.sync().inBackground((c, e) -> done.countDown()).forPath(path);
        assertTrue(done.await(30, TimeUnit.SECONDS));
    }

    /** The JVM-wide procedure ZooKeeper calls on a fatal server error (it has no getter). */
    private static Object exitProcedure() throws ReflectiveOperationException {
        Field f = ServiceUtils.class.getDeclaredField("systemExitProcedure");
        f.setAccessible(true);
        return f.get(null);
    }

    @Test
    void aFatalServerErrorAfterAStartOrARestartLogsInsteadOfEndingTheTestJvm() throws Exception {
        // Each server start resets the procedure to System.exit; a collision on an election port then ended the
        // whole test JVM with ZooKeeper's exit code 14.
        assertSame(ServiceUtils.LOG_ONLY, exitProcedure(), "after start");
        assertEquals("0", System.getProperty(ZooKeeperEnsemble.ELECTION_PORT_BIND_RETRY), "bind retries unbounded");
        zk.ensemble().killServer(2);
        zk.ensemble().restartServer(2);
        assertSame(ServiceUtils.LOG_ONLY, exitProcedure(), "after restartServer");
        zk.ensemble().stopAll();
        zk.ensemble().restartAll();
        assertSame(ServiceUtils.LOG_ONLY, exitProcedure(), "after restartAll");
    }

    @Test
    void expireSessionRemovesTheClientsEphemeralNodesAtOnce() throws Exception {
        CuratorFramework victim = zk.ensemble().newClient();
        CuratorFramework observer = zk.ensemble().newClient();
        CountDownLatch lost = new CountDownLatch(1);
        victim.getConnectionStateListenable().addListener((c, s) -> {
            if (s == ConnectionState.LOST) {
                lost.countDown();
            }
        });
        long session = victim.getZookeeperClient().getZooKeeper().getSessionId();
        victim.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath("/kit/eph");
        zk.ensemble().expireSession(victim);
        sync(observer, "/kit");
        assertNull(observer.checkExists().forPath("/kit/eph"), "ephemeral node survived the expiry");
        victim.checkExists().forPath("/kit"); // the victim's next contact learns of the expiry
        assertTrue(lost.await(30, TimeUnit.SECONDS), "the client was not told its session was lost");
        assertNotEquals(session, victim.getZookeeperClient().getZooKeeper().getSessionId());
    }

    @Test
    void killingTheQuorumLeaderElectsAnotherAndRestoreBringsItBack() throws Exception {
        int leader = zk.ensemble().killQuorumLeader();
        assertTrue(zk.ensemble().isDown(leader));
        CuratorFramework client = zk.ensemble().newClient();
        client.create().forPath("/kit-after-kill");
        int next = zk.ensemble().quorumLeader();
        assertTrue(next >= 0 && next != leader, "another server leads the quorum: " + next);
        zk.ensemble().restoreAll();
        assertTrue(!zk.ensemble().isDown(leader));
    }

    @Test
    void proxyCutSuspendsTheClientAndHealReconnectsTheSameSession() throws Exception {
        ZooKeeperProxy proxy = zk.ensemble().newProxy();
        CuratorFramework client = zk.ensemble().newClient(zk.ensemble().clientBuilder(proxy));
        long session = client.getZookeeperClient().getZooKeeper().getSessionId();
        CountDownLatch suspended = new CountDownLatch(1);
        CountDownLatch reconnected = new CountDownLatch(1);
        client.getConnectionStateListenable().addListener((c, s) -> {
            if (s == ConnectionState.SUSPENDED) {
                suspended.countDown();
            } else if (s == ConnectionState.RECONNECTED) {
                reconnected.countDown();
            }
        });
        proxy.cut();
        assertTrue(suspended.await(30, TimeUnit.SECONDS));
        assertTrue(proxy.isCut());
        proxy.heal();
        assertTrue(reconnected.await(30, TimeUnit.SECONDS));
        assertEquals(session, client.getZookeeperClient().getZooKeeper().getSessionId());
        proxy.close();
        assertThrows(IllegalStateException.class, proxy::cut);
    }

    @Test
    void serverOfNamesTheServerAClientIsConnectedTo() throws Exception {
        CuratorFramework client = zk.ensemble().newClient();
        int server = zk.ensemble().serverOf(client);
        assertTrue(server >= 0 && server < 3);
        zk.ensemble().killServer(server);
        client.checkExists().forPath("/"); // reconnects elsewhere within the session
        assertNotEquals(server, zk.ensemble().serverOf(client));
    }
}
