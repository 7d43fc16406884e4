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
package dev.tenure.harness;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TCP ports on 127.0.0.1 for servers that must be told their port before they bind it — a child process's command
 * line, a replica's advertised address, a ZooKeeper server's quorum port — and that may bind it again later (a node
 * restarted on its address).
 *
 * <p>A port is drawn at random in [{@value #FIRST}, {@value #END}), below the ephemeral ranges of Linux (32768) and
 * other systems, so no outgoing connection and no bind of port 0 by any process takes it. It is then
 * <b>reserved</b> for the life of this JVM: an exclusive lock on byte {@code PORT} of the file {@code
 * tenure-ports.lock} in the temporary directory, which every JVM drawing through this class respects (the lock ends
 * with the JVM, however it ends; one open file per JVM whatever the number of ports). So two test JVMs that each
 * start servers — parallel test forks, concurrent {@code verify} runs — never draw the same port, even while one of
 * them has a server down and its port unbound between a kill and a restart. A port is never handed out twice in one
 * JVM. A port that cannot be bound right now (another program holds it) is skipped.
 *
 * <p>If the lock file cannot be used (not writable), ports are still drawn below the ephemeral range and checked,
 * without the reservation across processes; this is logged once.
 *
 * <p>Thread-safe.
 */
public final class ServerPorts {
    private static final Logger LOG = LoggerFactory.getLogger(ServerPorts.class);
    private static final String LOOPBACK = "127.0.0.1";
    /** The first port drawn. */
    public static final int FIRST = 20_000;
    /** One past the last port drawn. */
    public static final int END = 32_000;

    private static final int DRAWS = 200;
    private static final String LOCK_FILE = "tenure-ports.lock";
    /** Every port handed out by this JVM, with its lock (empty where the lock file could not be used). */
    private static final Map<Integer, Optional<FileLock>> RESERVED = new ConcurrentHashMap<>();
    /** The lock file of each directory used, open for the JVM's life (closing it would drop its locks). */
    private static final Map<Path, Optional<FileChannel>> LOCK_FILES = new ConcurrentHashMap<>();

    private ServerPorts() {}

    /**
     * A port reserved for this JVM, free on 127.0.0.1 at the time of the call.
     *
     * @throws IOException if {@value #DRAWS} draws found no port that is free, unreserved and bindable
     */
    public static int reserve() throws IOException {
        return reserve(Path.of(System.getProperty("java.io.tmpdir")), FIRST, END);
    }

    /** {@link #reserve()} with the lock file in {@code directory}, drawing in [first, end). */
    static int reserve(Path directory, int first, int end) throws IOException {
        Optional<FileChannel> lockFile = LOCK_FILES.computeIfAbsent(directory, ServerPorts::openLockFile);
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < DRAWS; i++) {
            int port = random.nextInt(first, end);
            if (RESERVED.containsKey(port)) {
                continue;
            }
            FileLock lock = null;
            if (lockFile.isPresent()) {
                try {
                    lock = lockFile.get().tryLock(port, 1, false);
                } catch (OverlappingFileLockException heldHere) {
                    continue; // another thread of this JVM is reserving it
                }
                if (lock == null) {
                    continue; // another JVM holds it
                }
            }
            Optional<FileLock> held = Optional.ofNullable(lock);
            if (RESERVED.putIfAbsent(port, held) != null) {
                if (held.isPresent()) {
                    held.get().release();
                }
                continue;
            }
            if (canBind(port)) {
                return port;
            }
            // Held by a program that does not reserve: it stays reserved here (never handed out); draw again.
        }
        throw new IOException(
                "no free port on " + LOOPBACK + " in [" + first + ", " + end + ") after " + DRAWS + " draws");
    }

    /** Whether this JVM holds {@code port} (handed out by {@link #reserve()}). */
    public static boolean isReserved(int port) {
        return RESERVED.containsKey(port);
    }

    private static Optional<FileChannel> openLockFile(Path directory) {
        Path file = directory.resolve(LOCK_FILE);
        try {
            return Optional.of(FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE));
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "cannot reserve ports through {} ({}); ports are drawn without a reservation across processes",
                    file,
                    e.toString());
            return Optional.empty();
        }
    }

    private static boolean canBind(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            // As a server binding it after us would: a connection of an earlier server in TIME_WAIT does not count.
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(LOOPBACK, port), 1);
            return true;
        } catch (IOException taken) {
            return false;
        }
    }
}
