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
package dev.tenure.bench;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the figures depend on besides the code: processors, JVM, heap, operating system, and the file
 * systems the two sides write to (an fsync on tmpfs costs nothing; on a disk it is most of a write).
 *
 * @param replicaFileSystem type of the file system holding the replicas' data, e.g. {@code ext4}
 * @param zooKeeperFileSystem type of the file system holding ZooKeeper's data (the system temp directory)
 */
record MachineFacts(
        int cores,
        String cpu,
        String jvm,
        long maxHeapBytes,
        String os,
        String replicaDataDir,
        String replicaFileSystem,
        String zooKeeperDataDir,
        String zooKeeperFileSystem) {

    static MachineFacts collect(Path replicaDataDir) {
        Path zkDir = Path.of(System.getProperty("java.io.tmpdir"));
        return new MachineFacts(
                Runtime.getRuntime().availableProcessors(),
                cpuModel(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " ("
                        + System.getProperty("java.vm.vendor") + ")",
                Runtime.getRuntime().maxMemory(),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"),
                replicaDataDir.toString(),
                fileSystem(replicaDataDir),
                zkDir.toString(),
                fileSystem(zkDir));
    }

    private static String fileSystem(Path p) {
        try {
            FileStore store = Files.getFileStore(p);
            return store.type() + " (" + store.name() + ")";
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String cpuModel() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : lines) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: the core count still says something
        }
        return "unknown";
    }
}
