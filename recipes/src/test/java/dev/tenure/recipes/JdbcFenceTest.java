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
package dev.tenure.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link JdbcFence} against a real embedded database (H2, in memory): a deposed leader's write is refused in its own
 * transaction, whatever the order in which the two terms reach the database.
 */
class JdbcFenceTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk =
            ZooKeeperEnsembleExtension.of(dev.tenure.testkit.ZooKeeperEnsemble.builder()
                    .servers(1)
                    .sessionTimeout(Duration.ofSeconds(10))); // one server: no quorum needed

    private final JdbcDataSource db = new JdbcDataSource();
    private final JdbcFence fence = JdbcFence.forResource("orders");

    @BeforeEach
    void createTables() throws SQLException {
        db.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
        fence.createTableIfMissing(db);
        try (Connection c = db.getConnection()) {
            c.createStatement().execute("CREATE TABLE orders (id INT PRIMARY KEY, state VARCHAR(32))");
            c.createStatement().execute("INSERT INTO orders VALUES (1, 'new')");
        }
    }

    private String state() throws SQLException {
        try (Connection c = db.getConnection();
                ResultSet r = c.createStatement().executeQuery("SELECT state FROM orders WHERE id = 1")) {
            r.next();
            return r.getString(1);
        }
    }

    private static Void setState(Connection c, String state) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE orders SET state = ? WHERE id = 1")) {
            s.setString(1, state);
            s.executeUpdate();
        }
        return null;
    }

    @Test
    @Tag("zookeeper")
    void aPausedOldLeadersWriteIsRefusedOnceTheNextLeaderHasWritten() throws Exception {
        String path = "/tenure-test/" + UUID.randomUUID();
        CuratorFramework oldClient = zk.ensemble().newClient();
        FencedLeaderElection old = FencedLeaderElection.builder(oldClient, path)
                .participantId("old")
                .build();
        FencedLeaderElection next = FencedLeaderElection.builder(zk.ensemble().newClient(), path)
                .participantId("next")
                .build();
        try (old;
                next) {
            old.start();
            LeadershipToken oldToken = old.awaitLeadership(WAIT);
            next.start();
            fence.inTransaction(db, oldToken, c -> setState(c, "paid"));

            // The old leader pauses (a GC pause, a stalled VM) past its session; the next one takes over and writes.
            zk.ensemble().expireSession(oldClient);
            LeadershipToken nextToken = next.awaitLeadership(WAIT);
            assertTrue(nextToken.epoch() > oldToken.epoch());
            fence.inTransaction(db, nextToken, c -> setState(c, "refunded"));

            // The old leader wakes up and writes with the token it still holds: refused, nothing applied.
            FencedException e = assertThrows(
                    FencedException.class, () -> fence.inTransaction(db, oldToken, c -> setState(c, "shipped")));
            assertEquals(oldToken.epoch(), e.presentedEpoch());
            assertEquals(nextToken.epoch(), e.currentEpoch().orElseThrow());
            assertEquals("refunded", state());
            assertEquals(nextToken.epoch(), fence.currentEpoch(db));
        }
    }

    @Test
    void anOlderTermWaitingOnTheNewerTermsOpenTransactionIsRefusedWhenItCommits() throws Exception {
        CountDownLatch newerAdmitted = new CountDownLatch(1);
        CountDownLatch olderStarted = new CountDownLatch(1);
        fence.inTransaction(db, token(1), c -> setState(c, "paid")); // the row exists at epoch 1
        CompletableFuture<Void> newer = CompletableFuture.runAsync(() -> {
            try (Connection c = db.getConnection()) {
                c.setAutoCommit(false);
                fence.admit(c, 3);
                setState(c, "refunded");
                newerAdmitted.countDown();
                // Hold the fence row until the older term's transaction is under way and waiting for it.
                assertTrue(olderStarted.await(30, TimeUnit.SECONDS));
                c.commit();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(newerAdmitted.await(30, TimeUnit.SECONDS));
        CompletableFuture<Void> older = CompletableFuture.runAsync(() -> {
            olderStarted.countDown();
            try {
                fence.inTransaction(db, token(2), c -> setState(c, "shipped"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        newer.get(30, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class, () -> older.get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause().getCause() instanceof FencedException, e.toString());
        assertEquals("refunded", state());
        assertEquals(3, fence.currentEpoch(db));
    }

    @Test
    void aTermWritesAsOftenAsItLikesAndTheFirstWriteCreatesTheFenceRow() throws Exception {
        assertEquals(0, fence.currentEpoch(db));
        fence.inTransaction(db, token(5), c -> setState(c, "a"));
        fence.inTransaction(db, token(5), c -> setState(c, "b"));
        assertEquals("b", state());
        assertEquals(5, fence.currentEpoch(db));
        assertThrows(FencedException.class, () -> fence.inTransaction(db, token(4), c -> setState(c, "c")));
        assertEquals("b", state());
    }

    @Test
    void aFailedTransactionIsRolledBackWithItsFenceRaise() throws Exception {
        assertThrows(
                SQLException.class,
                () -> fence.inTransaction(db, token(7), c -> {
                    setState(c, "half");
                    throw new SQLException("the work failed");
                }));
        assertEquals("new", state());
        assertEquals(0, fence.currentEpoch(db), "the raise is rolled back with the work");
    }

    @Test
    void misuseIsRefusedClearly() throws Exception {
        try (Connection c = db.getConnection()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> fence.admit(c, 1));
            assertTrue(e.getMessage().contains("auto-commit"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> fence.inTable("fence; DROP TABLE orders"));
        assertThrows(IllegalArgumentException.class, () -> JdbcFence.forResource(""));
    }

    @Test
    void rowsCanBeFencedOneByOneWithAnEpochColumn() throws Exception {
        // The documented per-row pattern: UPDATE ... WHERE id = ? AND fence_epoch <= ?
        try (Connection c = db.getConnection()) {
            c.createStatement().execute("ALTER TABLE orders ADD COLUMN fence_epoch BIGINT DEFAULT 0 NOT NULL");
        }
        assertEquals(1, fencedRowUpdate(4, "paid"));
        assertEquals(0, fencedRowUpdate(3, "shipped"), "an older term's update matches no row");
        assertEquals("paid", state());
    }

    private int fencedRowUpdate(long epoch, String state) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "UPDATE orders SET state = ?, fence_epoch = ? WHERE id = 1 AND fence_epoch <= ?")) {
            s.setString(1, state);
            s.setLong(2, epoch);
            s.setLong(3, epoch);
            return s.executeUpdate();
        }
    }

    private static LeadershipToken token(long epoch) {
        return new LeadershipToken("/tenure-test/orders", epoch, "leader-" + epoch, (int) epoch);
    }
}
