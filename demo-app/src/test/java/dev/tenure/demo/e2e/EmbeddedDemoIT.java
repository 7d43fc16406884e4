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
package dev.tenure.demo.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import dev.tenure.harness.ChildJvm;
import dev.tenure.harness.ChildProcess;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar with no arguments: serves the embedded cluster, and SIGTERM stops it with exit 0. */
class EmbeddedDemoIT {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120)
    void noArgumentsServesThreeReplicasAndSigtermExitsCleanly() throws Exception {
        try (ChildProcess p = ChildJvm.builder("demo")
                .jar(Path.of(System.getProperty("demo.jar")))
                .process()
                .logFile(dir.resolve("demo.out"))
                .readyWhenOutputContains("Serving until")
                .start()) {
            p.awaitReady(Duration.ofSeconds(100));
            List<String> lines = Files.readAllLines(p.logFile(), StandardCharsets.UTF_8);
            List<String> urls = lines.stream()
                    .filter(line -> line.startsWith("replica "))
                    .map(line -> line.substring(line.indexOf("http://")))
                    .toList();
            assertEquals(3, urls.size(), "replica URLs printed: " + lines);
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("status page: http://")), String.valueOf(lines));
            // Right after start a follower may not know the leader yet: it answers 503 "applied":false, which
            // the client retries; the write must end committed.
            Outcome put = new KvClient(URI.create(urls.get(1)), Duration.ofSeconds(20))
                    .put("demo", "works".getBytes(StandardCharsets.UTF_8));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (put.kind() == Outcome.Kind.DEFINITELY_NOT_APPLIED && System.nanoTime() < deadline) {
                put = new KvClient(URI.create(urls.get(1)), Duration.ofSeconds(20))
                        .put("demo", "works".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals(Outcome.Kind.OK, put.kind(), put.toString());
            p.terminate(); // SIGTERM
            assertEquals(0, p.awaitExit(Duration.ofSeconds(60)), "stops with exit 0 after SIGTERM");
        }
    }
}
