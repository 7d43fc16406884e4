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

import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.JdbcFence;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.apache.curator.framework.CuratorFramework;

/**
 * An existing service that adds fenced leader election: every instance runs it, one at a time leads, and only the
 * leader issues invoices — it takes the oldest pending invoice, gives it a number and marks it issued, in one database
 * transaction fenced by its term's epoch. A leader that paused (a GC pause, a stalled VM) and wakes up after another
 * instance took over has its transaction refused by the database and rolled back: the invoice stays pending for the
 * new leader, so no invoice is issued twice or numbered out of order.
 *
 * <p>The service already has a {@link CuratorFramework} and a {@link DataSource}; what leader election adds is the
 * ten lines in {@link #start()} (the README shows them from this file).
 *
 * <p>Thread-safe. Start once, close once; {@link #close()} ends this instance's term (if it leads) and waits up to 10 s
 * for the leader's loop to return.
 */
public final class InvoiceService implements Closeable {
    /** Tells the leader that invoices are pending; the service's own signal (a queue, a notification, a poll). */
    @FunctionalInterface
    public interface Backlog {
        /** Returns when there may be pending invoices. */
        void await() throws InterruptedException;
    }

    private final CuratorFramework client;
    private final DataSource db;
    private final Backlog pending;
    private final JdbcFence fence = JdbcFence.forResource("invoices");
    private FencedLeaderElection election;

    public InvoiceService(CuratorFramework client, DataSource db, Backlog pending) {
        this.client = client;
        this.db = db;
        this.pending = pending;
    }

    /** The service's schema, with the fence's table: a migration run once per database. */
    public static void createSchema(DataSource db) throws SQLException {
        try (Connection c = db.getConnection();
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS invoices (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                    + " customer VARCHAR(100) NOT NULL, number BIGINT, issued_in_epoch BIGINT)");
        }
        JdbcFence.forResource("invoices").createTableIfMissing(db);
    }

    /** Adds a pending invoice (any instance may; only the leader issues). */
    public static void addPending(DataSource db, String customer) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("INSERT INTO invoices (customer) VALUES (?)")) {
            s.setString(1, customer);
            s.executeUpdate();
        }
    }

    /** Joins the election; while this instance leads, it issues pending invoices. */
    public void start() {
        // snippet: fenced-election
        election = FencedLeaderElection.builder(client, "/services/invoices")
                .leader(term -> {
                    while (term.isCurrent()) {
                        pending.await();
                        fence.inTransaction(db, term.token(), c -> issueOldestPending(c, term.epoch()));
                    }
                })
                .build();
        election.start();
        // end snippet
    }

    /** The election, for callers that want its state (tests, metrics). */
    public FencedLeaderElection election() {
        return election;
    }

    /**
     * Numbers the oldest pending invoice and marks it issued in {@code epoch}, inside the fenced transaction. Returns
     * whether there was one.
     */
    private static boolean issueOldestPending(Connection c, long epoch) throws SQLException {
        long id;
        try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT MIN(id) FROM invoices WHERE number IS NULL")) {
            r.next();
            id = r.getLong(1);
            if (r.wasNull()) {
                return false;
            }
        }
        try (PreparedStatement u = c.prepareStatement("UPDATE invoices SET number ="
                + " (SELECT COALESCE(MAX(number), 0) + 1 FROM invoices), issued_in_epoch = ? WHERE id = ?")) {
            u.setLong(1, epoch);
            u.setLong(2, id);
            u.executeUpdate();
        }
        return true;
    }

    @Override
    public void close() {
        if (election != null) {
            election.close(Duration.ofSeconds(10));
        }
    }
}
