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

import com.google.common.base.Preconditions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Fencing for a relational database: a leader's write is applied only if no newer term has written, checked in
 * the same transaction as the write, so a paused or deposed leader that wakes up holding an old {@link
 * LeadershipToken} changes nothing.
 *
 * <p>The fence is one row per fenced resource in a small table ({@code resource VARCHAR PRIMARY KEY, epoch BIGINT}):
 * {@link #admit} runs {@code UPDATE fence SET epoch = ? WHERE resource = ? AND epoch <= ?} as the transaction's
 * first statement. The update locks the row until the transaction ends, so a newer term's transaction and an older
 * one are serialised on it, and the older one then finds a higher epoch and is refused; its own writes are rolled
 * back with it. This is the database form of {@link EpochFence}, and works on any database whose {@code UPDATE}
 * re-reads a row it had to wait for (PostgreSQL, MySQL/InnoDB, H2, Oracle and SQL Server at READ COMMITTED or
 * above).
 *
 * <pre>{@code
 * JdbcFence fence = JdbcFence.forResource("orders");
 * fence.createTableIfMissing(dataSource);
 * fence.inTransaction(dataSource, token, c -> {            // token from the election's listener
 *     try (PreparedStatement s = c.prepareStatement("UPDATE orders SET state = ? WHERE id = ?")) { ... }
 *     return null;
 * });                                                      // FencedException: a newer term wrote first
 * }</pre>
 *
 * <p>Where a table has no single fence row, fence each row instead: keep a {@code fence_epoch} column and write with
 * {@code UPDATE t SET ..., fence_epoch = ? WHERE id = ? AND fence_epoch <= ?}; an update count of 0 means a newer
 * term wrote the row (see {@code docs/recipes.md}).
 *
 * <p>Immutable and thread-safe; it holds no connection. Failure behaviour: a refused epoch throws {@link
 * FencedException} and the transaction is rolled back; a database error is thrown as it is, after a rollback.
 */
public final class JdbcFence {
    /** The default fence table. */
    public static final String DEFAULT_TABLE = "tenure_fence";

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    private final String table;
    private final String resource;

    private JdbcFence(String table, String resource) {
        this.table = table;
        this.resource = resource;
    }

    /**
     * A fence for {@code resource} (for example the election path, or the name of the data it guards) in the
     * default table.
     */
    public static JdbcFence forResource(String resource) {
        Preconditions.checkArgument(
                resource != null && !resource.isEmpty() && resource.length() <= 255,
                "resource must be 1 to 255 characters");
        return new JdbcFence(DEFAULT_TABLE, resource);
    }

    /**
     * The same fence in {@code table}.
     *
     * @throws IllegalArgumentException unless {@code table} is a plain SQL identifier (it is put into statements)
     */
    public JdbcFence inTable(String table) {
        Preconditions.checkArgument(
                table != null && IDENTIFIER.matcher(table).matches(),
                "table must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*), was %s",
                table);
        return new JdbcFence(table, resource);
    }

    /** Creates the fence table if it does not exist (in its own transaction). */
    public void createTableIfMissing(DataSource dataSource) throws SQLException {
        try (Connection c = dataSource.getConnection();
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table
                    + " (resource VARCHAR(255) NOT NULL PRIMARY KEY, epoch BIGINT NOT NULL)");
        }
    }

    /**
     * Admits {@code epoch} within the caller's transaction ({@code connection} with auto-commit off): raises the
     * fence to {@code epoch} if it is lower, and holds the fence row locked until the transaction ends. Call it
     * before the transaction's writes, and commit them in the same transaction.
     *
     * @throws FencedException if a higher epoch has written; the caller must roll back
     * @throws IllegalStateException if {@code connection} is in auto-commit mode (the fence would not cover the
     *     writes)
     */
    public void admit(Connection connection, long epoch) throws SQLException, FencedException {
        Preconditions.checkArgument(epoch > 0, "epoch must be > 0, was %s", epoch);
        if (connection.getAutoCommit()) {
            throw new IllegalStateException("admit needs a transaction: the connection is in auto-commit mode");
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            if (raise(connection, epoch)) {
                return;
            }
            Long current = current(connection);
            if (current != null) {
                throw new FencedException(
                        epoch, current, "epoch " + epoch + " is fenced: epoch " + current + " has written " + resource);
            }
            if (insert(connection, epoch)) {
                return;
            }
            // Another term inserted the row first: its epoch decides, on the next attempt.
        }
        throw new SQLException("the fence row of " + resource + " in " + table + " could not be read or created");
    }

    /**
     * Runs {@code work} in one transaction of a new connection, after admitting {@code token}: commits if both
     * succeed, rolls back otherwise.
     *
     * @throws FencedException if a newer term has written; nothing of {@code work} is applied (it does not run)
     */
    public <T> T inTransaction(DataSource dataSource, LeadershipToken token, SqlWork<T> work)
            throws SQLException, FencedException {
        Preconditions.checkNotNull(token, "token");
        Preconditions.checkNotNull(work, "work");
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                admit(c, token.epoch());
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | FencedException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
                throw e;
            }
        }
    }

    /** The epoch the fence holds now, or 0 if no term has written (outside any transaction of the caller). */
    public long currentEpoch(DataSource dataSource) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            Long current = current(c);
            return current == null ? 0 : current;
        }
    }

    private boolean raise(Connection c, long epoch) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("UPDATE " + table + " SET epoch = ? WHERE resource = ? AND epoch <= ?")) {
            s.setLong(1, epoch);
            s.setString(2, resource);
            s.setLong(3, epoch);
            return s.executeUpdate() == 1;
        }
    }

    private Long current(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT epoch FROM " + table + " WHERE resource = ?")) {
            s.setString(1, resource);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getLong(1) : null;
            }
        }
    }

    private boolean insert(Connection c, long epoch) throws SQLException {
        java.sql.Savepoint before = c.setSavepoint();
        try (PreparedStatement s = c.prepareStatement("INSERT INTO " + table + " (resource, epoch) VALUES (?, ?)")) {
            s.setString(1, resource);
            s.setLong(2, epoch);
            s.executeUpdate();
            return true;
        } catch (SQLException e) {
            if (e.getSQLState() != null && e.getSQLState().startsWith("23")) { // integrity constraint: a duplicate
                c.rollback(before);
                return false;
            }
            throw e;
        }
    }

    @Override
    public String toString() {
        return "JdbcFence[" + table + "/" + resource + "]";
    }

    /** Work done in a fenced transaction. */
    @FunctionalInterface
    public interface SqlWork<T> {
        /** Runs the transaction's writes on {@code connection}; must neither commit nor roll back. */
        T run(Connection connection) throws SQLException;
    }
}
