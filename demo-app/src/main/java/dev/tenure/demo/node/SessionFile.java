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

import dev.tenure.replicator.storage.PrivateFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.zookeeper.ZooKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file holding a replica's current ZooKeeper session id and password, one line {@code SESSION_HEX
 * PASSWORD_HEX}, replaced atomically (temp file, rename) each time a session is established. The verification
 * harness reads it to expire the session as the server would. Test harnesses only: the password is a secret of
 * the session.
 */
public final class SessionFile {
    private static final Logger log = LoggerFactory.getLogger(SessionFile.class);

    /**
     * A ZooKeeper session's credentials.
     *
     * @param id the session id
     * @param password the session password
     */
    @SuppressWarnings("ArrayRecordComponent") // never compared; printing it shows no password, only the array's id
    public record Session(long id, byte[] password) {}

    private SessionFile() {}

    /** Writes {@code file} now (if connected) and after every (re)connection of {@code client}. */
    static void watch(CuratorFramework client, Path file) {
        client.getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.CONNECTED || state == ConnectionState.RECONNECTED) {
                try {
                    ZooKeeper zk = c.getZookeeperClient().getZooKeeper();
                    write(file, new Session(zk.getSessionId(), zk.getSessionPasswd()));
                } catch (Exception e) {
                    log.warn("could not write the session file {}", file, e);
                }
            }
        });
    }

    static void write(Path file, Session session) throws IOException {
        HexFormat hex = HexFormat.of();
        String line = Long.toHexString(session.id()) + " " + hex.formatHex(session.password()) + "\n";
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        // Owner-only: the line is the ZooKeeper session's password (whoever reads it can take the session over).
        Files.deleteIfExists(temp); // a temp file left from before keeps its permissions: create it afresh
        try (FileChannel ch = PrivateFiles.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Reads a session file.
     *
     * @throws IOException if it cannot be read or is not one line of two hex fields
     */
    public static Session read(Path file) throws IOException {
        String line = Files.readString(file, StandardCharsets.US_ASCII).trim();
        String[] parts = line.split(" ", -1);
        try {
            if (parts.length != 2) {
                throw new IllegalArgumentException("expected two fields");
            }
            return new Session(
                    Long.parseUnsignedLong(parts[0], 16), HexFormat.of().parseHex(parts[1]));
        } catch (IllegalArgumentException e) {
            throw new IOException("malformed session file " + file + ": " + e.getMessage(), e);
        }
    }
}
