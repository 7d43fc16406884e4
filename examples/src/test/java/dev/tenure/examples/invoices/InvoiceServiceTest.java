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
package dev.tenure.examples.invoices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.recipes.JdbcFence;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.testkit.ZooKeeperEnsembleExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The invoice service on an in-process three-server ZooKeeper ensemble (the test kit) and a real embedded database
 * (H2): the test kit expires the leader's session while the leader is paused, the next instance takes over, and the
 * paused leader's fenced write is refused when it wakes up.
 */
class InvoiceServiceTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final ZooKeeperEnsembleExtension zk = ZooKeeperEnsembleExtension.threeServers();

    private final JdbcDataSource db = new JdbcDataSource();
    private final List<InvoiceService> services = new ArrayList<>();

    /** An instance's backlog signal that the test drives: one permit per invoice, and an optional pause. */
    private static final class Steered implements InvoiceService.Backlog {
        final Semaphore permits = new Semaphore(0);
        volatile boolean pauseNext;
        final CountDownLatch paused = new CountDownLatch(1);
        final CountDownLatch resume = new CountDownLatch(1);

        @Override
        public void await() throws InterruptedException {
            permits.acquire();
            if (pauseNext) {
                paused.countDown(); // the leader checked its term and is about to write: a GC pause strikes here
                resume.await();
            }
        }
    }

    @BeforeEach
    void createTheDatabase() throws SQLException {
        db.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
        InvoiceService.createSchema(db);
    }

    @AfterEach
    void closeServices() {
        services.forEach(InvoiceService::close);
    }

    private InvoiceService start(CuratorFramework client, Steered backlog) {
        InvoiceService s = new InvoiceService(client, db, backlog);
        s.start();
        services.add(s);
        return s;
    }

    private static LeadershipToken leads(InvoiceService s) throws Exception {
        return s.election().leadership().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** customer → the epoch it was issued in (null while pending), in invoice-number order, pending last. */
    private List<String> invoices() throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = db.getConnection();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT customer, number, issued_in_epoch FROM invoices" + " ORDER BY number NULLS LAST, id")) {
            while (r.next()) {
                long number = r.getLong(2);
                boolean pending = r.wasNull();
                rows.add(r.getString(1) + (pending ? " pending" : " #" + number + " epoch " + r.getLong(3)));
            }
        }
        return rows;
    }

    private void awaitInvoices(List<String> expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!invoices().equals(expected)) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("invoices are " + invoices() + ", expected " + expected);
            }
            Thread.sleep(10); // polling the database for the leader's commit
        }
    }

    @Test
    void aLeaderPausedPastItsSessionExpiryHasItsWriteRefusedAndTheNextLeaderIssuesTheInvoice() throws Exception {
        CuratorFramework clientA = zk.ensemble().newClient();
        Steered a = new Steered();
        InvoiceService serviceA = start(clientA, a);
        long epochA = leads(serviceA).epoch();
        Steered b = new Steered();
        InvoiceService serviceB = start(zk.ensemble().newClient(), b);

        InvoiceService.addPending(db, "acme");
        a.permits.release();
        awaitInvoices(List.of("acme #1 epoch " + epochA));

        a.pauseNext = true;
        InvoiceService.addPending(db, "globex");
        a.permits.release();
        assertTrue(a.paused.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the leader paused before its write");
        zk.ensemble().expireSession(clientA); // the pause outlasts the session
        long epochB = leads(serviceB).epoch();
        assertTrue(epochB > epochA, "the next term's epoch is higher");
        b.permits.release();
        awaitInvoices(List.of("acme #1 epoch " + epochA, "globex #2 epoch " + epochB));

        InvoiceService.addPending(db, "initech"); // what the old leader would issue if it were not fenced
        a.resume.countDown();
        assertTrue(serviceA.election().close(WAIT), "the old leader's loop returned after its refused write");
        assertEquals(
                List.of("acme #1 epoch " + epochA, "globex #2 epoch " + epochB, "initech pending"),
                invoices(),
                "the old leader's transaction was rolled back");
        assertEquals(epochB, JdbcFence.forResource("invoices").currentEpoch(db));

        b.permits.release();
        awaitInvoices(List.of("acme #1 epoch " + epochA, "globex #2 epoch " + epochB, "initech #3 epoch " + epochB));
    }
}
