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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
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
 * <b>reserved</b> for the life of this JVM: an exclusive lock on the file {@code tenure-ports/PORT} in the temporary
 * directory, which every JVM drawing through this class respects (the lock ends with the JVM, however it ends). So
 * two test JVMs that each start servers — parallel test forks, concurrent {@code verify} runs — never draw the same
 * port, even while one of them has a server down and its port unbound between a kill and a restart. A port is never
 * handed out twice in one JVM. A port that cannot be bound right now (another program holds it) is skipped.
 *
 * <p>If the lock directory cannot be used (not writable), ports are still drawn below the ephemeral range and
 * checked, without the cross-process reservation; this is logged once.
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
    /** Every port handed out by this JVM, with its lock (null where the reservation could not be made). */
    private static final Map<Integer, Reservation> RESERVED = new ConcurrentHashMap<>();

    private static volatile boolean lockDirectoryWarned;

    private ServerPorts() {}

    /**
     * A port reserved for this JVM, free on 127.0.0.1 at the time of the call.
     *
     * @throws IOException if {@value #DRAWS} draws found no port that is free, unreserved and bindable
     */
    public static int reserve() throws IOException {
        return reserve(lockDirectory(), FIRST, END);
    }

    /** {@link #reserve()} with the locks in {@code lockDirectory}, drawing in [first, end). */
    static int reserve(Path lockDirectory, int first, int end) throws IOException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < DRAWS; i++) {
            int port = random.nextInt(first, end);
            if (RESERVED.containsKey(port)) {
                continue;
            }
            Reservation reservation = Reservation.take(lockDirectory, port);
            if (reservation == null) {
                continue; // another JVM holds it
            }
            if (RESERVED.putIfAbsent(port, reservation) != null) {
                reservation.release(); // another thread of this JVM drew the same port meanwhile
                continue;
            }
            if (canBind(port)) {
                return port;
            }
            // Held by a program that does not reserve: keep it reserved here (never handed out), draw again.
        }
        throw new IOException(
                "no free port on " + LOOPBACK + " in [" + first + ", " + end + ") after " + DRAWS + " draws");
    }

    /** Whether this JVM holds {@code port} (handed out by {@link #reserve()}). */
    public static boolean isReserved(int port) {
        return RESERVED.containsKey(port);
    }

    static Path lockDirectory() {
        return Path.of(System.getProperty("java.io.tmpdir"), "tenure-ports");
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

    private static void warnOnce(Path directory, IOException e) {
        if (!lockDirectoryWarned) {
            lockDirectoryWarned = true;
            LOG.warn(
                    "cannot reserve ports through {} ({}); ports are drawn without a reservation across processes",
                    directory,
                    e.toString());
        }
    }

    /** A held lock on a port's file; {@code channel} null when the directory could not be used. */
    private record Reservation(FileChannel channel, FileLock lock) {
        private static final Reservation UNLOCKED = new Reservation(null, null);

        /** The port's reservation, or null if another JVM holds it. */
        static Reservation take(Path directory, int port) {
            FileChannel channel = null;
            try {
                Files.createDirectories(directory);
                channel = FileChannel.open(
                        directory.resolve(Integer.toString(port)), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = channel.tryLock();
                if (lock == null) {
                    channel.close();
                    return null;
                }
                return new Reservation(channel, lock);
            } catch (OverlappingFileLockException heldHere) {
                closeQuietly(channel);
                return null;
            } catch (IOException e) {
                closeQuietly(channel);
                warnOnce(directory, e);
                return UNLOCKED;
            }
        }

        void release() {
            closeQuietly(channel);
        }

        private static void closeQuietly(FileChannel channel) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // Closing releases the lock; a failure to close leaves it to the JVM's exit.
                }
            }
        }
    }
}
