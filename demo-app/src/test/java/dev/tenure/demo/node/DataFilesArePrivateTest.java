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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a node writes to disk is readable by its owner only (issue 18): every directory it creates {@code 0700},
 * every file {@code 0600} — logs, write-ahead log, promises, epoch checkpoints, snapshots and the session file ({@code
 * zookeeper-session}) that holds the ZooKeeper session's password. On a file system without POSIX permissions there is nothing to check: each
 * test is then skipped by an explicit assumption.
 */
@Timeout(180)
class DataFilesArePrivateTest {
    @TempDir
    Path tmp;

    @Test
    void everyDirectoryAndFileOfASingleLogNodeIsOwnerOnlyOnPosix() throws Exception {
        checkCluster(1);
    }

    @Test
    void everyDirectoryAndFileOfAPartitionedNodeWithItsWriteAheadLogIsOwnerOnlyOnPosix() throws Exception {
        checkCluster(2);
    }

    private void checkCluster(int partitions) throws Exception {
        assumePosix(tmp);
        List<Path> dataDirs = new ArrayList<>();
        try (EmbeddedCluster cluster = new EmbeddedCluster(0).partitions(partitions)) {
            cluster.start();
            KvClient client = new KvClient(URI.create(cluster.node("r1").url()), Duration.ofSeconds(30));
            for (int i = 0; i < 8; i++) {
                Outcome put = client.put("k" + i, new byte[] {(byte) i});
                // Right after the start a leader may hand its partition over to its preferred replica, and a write in
                // flight then ends unknown (503, allowed by the contract); the same put again is harmless.
                long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
                while (put.kind() == Outcome.Kind.UNKNOWN && System.nanoTime() < deadline) {
                    put = client.put("k" + i, new byte[] {(byte) i});
                }
                assertEquals(200, put.httpStatus(), put.toString());
            }
            for (KvNode n : cluster.nodes()) {
                dataDirs.add(n.config().dataDir());
                if (partitions == 1) {
                    awaitApplied(n);
                    Outcome snap = new KvClient(URI.create(n.url()), Duration.ofSeconds(60)).snapshot();
                    assertEquals(200, snap.httpStatus(), snap.toString()); // a snapshot file, written and renamed
                }
            }
            for (Path dir : dataDirs) {
                assertOwnerOnly(dir);
            }
        }
    }

    /**
     * Waits until {@code node} has applied an entry: a follower learns the commit offset after the leader, so right
     * after the writes it may have applied nothing yet, and a snapshot of nothing is refused.
     */
    private static void awaitApplied(KvNode node) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (node.status().replica().appliedOffset() <= 0) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(node.id() + " never applied an entry");
            }
            Thread.sleep(20); // polling status snapshots
        }
    }

    private static void assertOwnerOnly(Path root) throws IOException {
        List<String> wrong = new ArrayList<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (!Files.exists(p)) {
                    continue; // removed while walking (a temp file renamed)
                }
                String expected = Files.isDirectory(p) ? "rwx------" : "rw-------";
                String actual;
                try {
                    actual = permissions(p);
                } catch (java.nio.file.NoSuchFileException gone) {
                    continue;
                }
                if (!Files.isDirectory(p)) {
                    files++;
                }
                if (!actual.equals(expected)) {
                    wrong.add(root.relativize(p) + " " + actual);
                }
            }
        }
        assertTrue(files > 0, "no files under " + root);
        assertTrue(wrong.isEmpty(), "not owner-only under " + root + ": " + wrong);
    }

    private static String permissions(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static void assumePosix(Path dir) {
        assumeTrue(
                dir.getFileSystem().supportedFileAttributeViews().contains("posix"),
                "skipped: the file system of " + dir + " has no POSIX permissions, so there are none to check");
    }
}
