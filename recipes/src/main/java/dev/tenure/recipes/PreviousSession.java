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

import com.google.common.annotations.VisibleForTesting;
import com.google.common.base.Preconditions;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ConnectStringParser;
import org.apache.zookeeper.client.StaticHostProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the ZooKeeper session that this process's previous run left behind, so that its ephemeral nodes — election
 * participants, registrations, suspicions — go when the process comes back rather than when that session expires.
 *
 * <p>A process that dies leaves its session alive on the servers for up to the session timeout: whatever it led
 * stays led by a dead participant until then, and a process restarted within that time finds its own old nodes in
 * the way (Kafka's KIP-380 solves the same problem for brokers with a broker epoch). This recipe keeps the current
 * session's id and password in a file of the process's own data directory, and at the next start it opens a second
 * handle on the session that file names and closes it, which ends that session for every handle: the servers delete
 * its ephemeral nodes and fire their watches, as they would at its expiry, at once.
 *
 * <pre>{@code
 * PreviousSession previous = PreviousSession.builder(client, dataDir.resolve(PreviousSession.FILE_NAME)).build();
 * previous.start(); // ends the previous run's session, then keeps the file current
 * // ... join elections, register ...
 * previous.close(); // stops keeping the file current
 * }</pre>
 *
 * <h2>Only for a process's own data directory</h2>
 *
 * The file names one process's session. Use one file per data directory, and start this only once the process
 * holds that directory (a lock file): two live processes sharing a file would end each other's sessions. Ending a
 * session that another live process still uses costs it its ephemeral nodes, never safety — an election's epochs
 * fence whatever the old session's leader still does (docs/recipes.md).
 *
 * <h2>The file</h2>
 *
 * One line, {@code SESSION_HEX PASSWORD_HEX}, written owner-only (the password lets whoever reads it take the session
 * over), replaced atomically and durably (a temporary file, forced, then a rename and a force of the directory) when
 * the client is connected at start and after every new session; {@link #start()} first deletes the temporary files a
 * run killed mid-write left. A file that cannot be read, or is not one line of two hex fields, is an
 * {@link IOException} from {@link #start()} naming the file; nothing is ended then, and the file is replaced with the
 * current session.
 *
 * <h2>Lifecycle, threads and failures</h2>
 *
 * Start once ({@link IllegalStateException} "Cannot be started more than once"); {@link #close()} is idempotent and
 * only stops keeping the file current. {@link #start()} blocks on ZooKeeper for at most the builder's timeout (10 s
 * by default) twice: for the client's connection and for the second handle's answer; a server that does not answer in
 * time leaves the previous session to its expiry ({@link Outcome#UNANSWERED}). The file is rewritten on Curator's
 * connection-state thread. Thread-safe.
 */
public final class PreviousSession implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(PreviousSession.class);

    /** The file's name in a Tenure node's or replica's data directory. */
    public static final String FILE_NAME = "zookeeper-session";

    /** The suffix of the temporary files the file is written through ({@code FILE.NNN.tmp}). */
    private static final String TEMP_SUFFIX = ".tmp";

    /** What {@link #start()} found. */
    public enum Outcome {
        /** No file: no previous run, or none that connected. */
        NONE,
        /** The file names the client's current session: nothing to end. */
        CURRENT,
        /** The previous session was alive and is ended now, its ephemeral nodes with it. */
        ENDED,
        /** The previous session had ended or expired already. */
        EXPIRED,
        /** ZooKeeper did not answer about the previous session in time: it ends at its expiry. */
        UNANSWERED
    }

    /**
     * A ZooKeeper session's credentials, as the file holds them.
     *
     * @param id the session id
     * @param password the session password
     */
    @SuppressWarnings("ArrayRecordComponent") // never compared; printing it shows no password, only the array's id
    public record Session(long id, byte[] password) {
        @Override
        public String toString() {
            return "Session[0x" + Long.toHexString(id) + "]";
        }
    }

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final CuratorFramework client;
    private final Path file;
    private final Duration timeout;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final AtomicBoolean writeFailed = new AtomicBoolean();
    private final ConnectionStateListener listener = (c, s) -> connectionStateChanged(s);
    /** Held while the file is written: {@link #start()}'s write and the listener's take turns. */
    private final Object writes = new Object();
    /**
     * For tests: runs with {@code "event"} as a connection event passes its first check, and with {@code "write"}
     * before its write, under {@link #writes}; null otherwise.
     */
    @VisibleForTesting
    volatile Consumer<String> listenerSteps;

    private PreviousSession(Builder b) {
        this.client = b.client;
        this.file = b.file;
        this.timeout = b.timeout;
    }

    /** A builder for the session file {@code file} of {@code client}'s process. */
    public static Builder builder(CuratorFramework client, Path file) {
        return new Builder(client, file);
    }

    /** Builds a {@link PreviousSession}. */
    public static final class Builder {
        private final CuratorFramework client;
        private final Path file;
        private Duration timeout = Duration.ofSeconds(10);

        private Builder(CuratorFramework client, Path file) {
            this.client = Preconditions.checkNotNull(client, "client must not be null");
            this.file = Preconditions.checkNotNull(file, "file must not be null");
        }

        /** How long {@link #start()} waits for the connection, and then for ZooKeeper's answer; 10 s by default. */
        public Builder timeout(Duration timeout) {
            Preconditions.checkArgument(
                    !timeout.isNegative() && !timeout.isZero(), "timeout must be > 0, was %s", timeout);
            this.timeout = timeout;
            return this;
        }

        public PreviousSession build() {
            return new PreviousSession(this);
        }
    }

    /**
     * Ends the session the file names unless it is the client's current one, then writes the current session to
     * the file and keeps it current after every new session.
     *
     * @return what was found
     * @throws IOException if the file exists but cannot be read or is malformed (it is replaced all the same), or
     *     the current session cannot be written to it
     * @throws InterruptedException if interrupted while waiting on ZooKeeper
     */
    public Outcome start() throws IOException, InterruptedException {
        Preconditions.checkState(state.compareAndSet(State.LATENT, State.STARTED), "Cannot be started more than once");
        client.blockUntilConnected((int) timeout.toMillis(), TimeUnit.MILLISECONDS);
        deleteStaleTemporaryFiles(file);
        Session current = currentSession();
        Outcome outcome;
        IOException unreadable = null;
        try {
            Session previous = read(file);
            outcome = current != null && previous.id() == current.id() ? Outcome.CURRENT : end(previous);
        } catch (NoSuchFileException none) {
            outcome = Outcome.NONE;
        } catch (IOException e) {
            unreadable = e;
            outcome = Outcome.NONE;
        }
        client.getConnectionStateListenable().addListener(listener);
        // Read again: a connection made meanwhile told the listener before it was added. The listener may write
        // at the same time (an event queued before it was added): the writes take turns, each reading the session
        // it writes, so the file ends with the newest.
        synchronized (writes) {
            Session now = currentSession();
            if (now != null) {
                write(file, now);
            }
        }
        if (unreadable != null) {
            throw unreadable;
        }
        return outcome;
    }

    /**
     * Stops keeping the file current; idempotent. A write of the file begun on a connection event ends before this
     * returns, and none follows it. The file stays, naming the last session.
     */
    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.STARTED) {
            client.getConnectionStateListenable().removeListener(listener);
            synchronized (writes) {
                // A listener's write in flight ends before close returns; one that starts later finds it closed.
            }
        }
    }

    /** The listener: records the session of a new connection. On Curator's event thread; tests call it directly. */
    @VisibleForTesting
    void connectionStateChanged(ConnectionState s) {
        if (state.get() != State.STARTED || !(s == ConnectionState.CONNECTED || s == ConnectionState.RECONNECTED)) {
            return;
        }
        step("event");
        Session current = null;
        try {
            synchronized (writes) {
                if (state.get() != State.STARTED) {
                    return; // closed meanwhile: the file is no longer this instance's to write
                }
                current = currentSession();
                if (current == null) {
                    return;
                }
                step("write");
                write(file, current);
            }
            writeFailed.set(false);
        } catch (IOException e) {
            if (writeFailed.compareAndSet(false, true)) {
                log.warn(
                        "could not record ZooKeeper session {} in {}: a restart will wait for its expiry",
                        current,
                        file,
                        e);
            }
        }
    }

    private void step(String step) {
        Consumer<String> steps = listenerSteps;
        if (steps != null) {
            steps.accept(step);
        }
    }

    /** The client's session now, or null if it has none (not connected). */
    private Session currentSession() {
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            long id = zk.getSessionId();
            return id == 0 ? null : new Session(id, zk.getSessionPasswd());
        } catch (Exception e) {
            return null;
        }
    }

    private Outcome end(Session previous) throws IOException, InterruptedException {
        Outcome outcome =
                end(client.getZookeeperClient().getCurrentConnectionString(), clientConfig(), previous, timeout);
        switch (outcome) {
            case ENDED -> log.info("ended the previous run's ZooKeeper {}: its ephemeral nodes are gone", previous);
            case EXPIRED -> log.info("the previous run's ZooKeeper {} had ended already", previous);
            default ->
                log.warn(
                        "ZooKeeper did not answer about the previous run's {} within {}: it ends at its expiry",
                        previous,
                        timeout);
        }
        return outcome;
    }

    /**
     * Ends {@code session} now if it is alive: opens a second handle on it and closes that handle, which ends the
     * session for every handle (the servers delete its ephemeral nodes and fire their watches, as at its expiry).
     * What a fault-injecting harness uses to expire a session the way the servers do.
     *
     * @param connectString the ensemble, as a ZooKeeper client takes it
     * @param config the client settings (TLS, SASL) to connect with
     * @param timeout how long to wait for the servers' answer, and then for the close's
     * @return {@link Outcome#ENDED}, {@link Outcome#EXPIRED} (it had ended), or {@link Outcome#UNANSWERED}
     * @throws IOException if the connect string is invalid
     * @throws InterruptedException if interrupted while waiting
     */
    public static Outcome end(
            String connectString, org.apache.zookeeper.client.ZKClientConfig config, Session session, Duration timeout)
            throws IOException, InterruptedException {
        CountDownLatch answered = new CountDownLatch(1);
        AtomicReference<Watcher.Event.KeeperState> answer = new AtomicReference<>();
        Watcher watcher = event -> {
            Watcher.Event.KeeperState s = event.getState();
            if (s == Watcher.Event.KeeperState.SyncConnected || s == Watcher.Event.KeeperState.Expired) {
                answer.compareAndSet(null, s);
                answered.countDown();
            }
        };
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        ZooKeeper twin;
        try {
            twin = new ZooKeeper(
                    connectString,
                    timeoutMs,
                    watcher,
                    session.id(),
                    session.password(),
                    false,
                    new StaticHostProvider(new ConnectStringParser(connectString).getServerAddresses()),
                    config);
        } catch (IllegalArgumentException e) {
            throw new IOException("cannot connect to " + connectString + " to end " + session, e);
        }
        try {
            if (!answered.await(timeoutMs, TimeUnit.MILLISECONDS)) {
                return Outcome.UNANSWERED;
            }
            if (answer.get() == Watcher.Event.KeeperState.Expired) {
                return Outcome.EXPIRED;
            }
            // Closing any handle of a session ends it: the servers delete its ephemeral nodes now.
            return twin.close(timeoutMs) ? Outcome.ENDED : Outcome.UNANSWERED;
        } finally {
            twin.close(); // idempotent
        }
    }

    /**
     * The client's own settings (TLS, SASL), for the second handle: without them it could not reach a TLS-only port.
     * The instance is shared for the few seconds the second handle lives; neither handle changes it.
     */
    private org.apache.zookeeper.client.ZKClientConfig clientConfig() {
        try {
            return client.getZookeeperClient().getZooKeeper().getClientConfig();
        } catch (Exception e) {
            return new org.apache.zookeeper.client.ZKClientConfig();
        }
    }

    /**
     * Reads a session file.
     *
     * @throws NoSuchFileException if there is none
     * @throws IOException if it cannot be read or is not one line of two hex fields
     */
    public static Session read(Path file) throws IOException {
        String line = Files.readString(file, StandardCharsets.US_ASCII).trim();
        String[] parts = line.split(" ", -1);
        try {
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                throw new IllegalArgumentException("expected SESSION_HEX PASSWORD_HEX");
            }
            return new Session(
                    Long.parseUnsignedLong(parts[0], 16), HexFormat.of().parseHex(parts[1]));
        } catch (IllegalArgumentException e) {
            throw new IOException("malformed ZooKeeper session file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the temporary files {@link #write} leaves when its process dies mid-write ({@code FILE.NNN.tmp} beside
     * {@code file}, or {@code FILE.tmp} from earlier versions): only this process writes them (one process per data
     * directory), and none of its writes has begun. A file that cannot be deleted is logged and left.
     */
    private static void deleteStaleTemporaryFiles(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        String prefix = file.getFileName() + ".";
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(dir, p -> {
            String name = p.getFileName().toString();
            return name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX);
        })) {
            for (Path p : stale) {
                try {
                    Files.deleteIfExists(p);
                    log.info("deleted {}, left by a run that stopped while writing its session file", p);
                } catch (IOException e) {
                    log.warn("could not delete {}, left by an earlier run", p, e);
                }
            }
        } catch (IOException e) {
            log.warn("could not look for temporary session files left in {}", dir, e);
        }
    }

    /**
     * Replaces {@code file} with {@code session}, owner-only, atomically and durably. Each call writes a temporary
     * file of its own (created afresh, owner-only), forces it, moves it over the file and forces the directory, so
     * writers racing on one file never touch each other's temporary file (the last move wins, whole), and after a
     * power loss the file holds one whole session: the new one once this returned, else the new or the old.
     */
    static void write(Path file, Session session) throws IOException {
        String line = Long.toHexString(session.id()) + " " + HexFormat.of().formatHex(session.password()) + "\n";
        Path dir = file.toAbsolutePath().getParent();
        String prefix = file.getFileName() + ".";
        Path temp = FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                ? Files.createTempFile(
                        dir,
                        prefix,
                        TEMP_SUFFIX,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(dir, prefix, TEMP_SUFFIX);
        try {
            DurableFiles.replace(temp, file, line.getBytes(StandardCharsets.US_ASCII));
        } finally {
            Files.deleteIfExists(temp); // gone after a move; left by a failed write or move otherwise
        }
    }
}
