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

import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.storage.FilePromiseStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What a failover's promises cost one node (issue 17, runs K7–K8): the promises of {@code partitions} partitions made
 * durable one after another through {@link FilePromiseStore} (each a temporary file, fsync, rename, directory fsync),
 * as a surviving node does for about a third of 1,000 partitions when their leaders move, for {@code rounds} rounds.
 * The files go to a temporary directory under {@code dir} (default: the system's), deleted at the end.
 *
 * <pre>
 * java -cp bench/target/bench.jar dev.tenure.bench.PromiseStoreMain [partitions] [rounds] [dir]
 * </pre>
 */
public final class PromiseStoreMain {
    private PromiseStoreMain() {}

    public static void main(String[] args) throws Exception {
        int partitions = args.length > 0 ? Integer.parseInt(args[0]) : 334;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path parent = args.length > 2 ? Path.of(args[2]) : Path.of(System.getProperty("java.io.tmpdir"));
        Path root = Files.createTempDirectory(parent, "tenure-promises");
        try {
            FilePromiseStore[] stores = new FilePromiseStore[partitions];
            for (int i = 0; i < partitions; i++) {
                Path dir = Files.createDirectories(root.resolve("p" + i));
                stores[i] = new FilePromiseStore(dir.resolve("promise"));
                stores[i].load();
            }
            for (int round = 1; round <= rounds; round++) {
                long start = System.nanoTime();
                for (FilePromiseStore store : stores) {
                    store.store(new Promise(round, "n2"));
                }
                double ms = (System.nanoTime() - start) / 1e6;
                System.out.printf(
                        Locale.ROOT,
                        "round %d: %d promise stores in %.1f ms (%.2f ms each)%n",
                        round,
                        partitions,
                        ms,
                        ms / partitions);
            }
        } finally {
            MoreFiles.deleteRecursively(root, RecursiveDeleteOption.ALLOW_INSECURE);
        }
    }
}
