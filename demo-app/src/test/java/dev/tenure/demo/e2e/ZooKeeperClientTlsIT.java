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
import dev.tenure.demo.node.ClusterCertificates;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.NodeLauncher;
import dev.tenure.harness.StatusProbe;
import dev.tenure.harness.ZooKeeperProcessEnsemble;
import dev.tenure.testkit.LoopbackPorts;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar against a real ZooKeeper ensemble whose client ports are TLS only (three server processes, as
 * {@code zk start --tls} runs them): a node given the ensemble's client settings with {@code --zk-tls-config} (and
 * the digest credential, which then crosses TLS) becomes leader and serves a write.
 */
class ZooKeeperClientTlsIT {
    @TempDir
    Path dir;

    private ZooKeeperProcessEnsemble zk;
    private ChildProcess node;

    @AfterEach
    void stopEverything() throws Exception {
        if (node != null) {
            node.close();
        }
        if (zk != null) {
            zk.close();
        }
    }

    @Test
    @Timeout(120)
    void aNodeWithTheEnsemblesTlsConfigBecomesLeaderOverTlsAndServesAWrite() throws Exception {
        zk = ZooKeeperProcessEnsemble.builder(dir.resolve("zk"))
                .recordPids()
                .clientTls(ClusterCertificates.writeZooKeeper(dir.resolve("zk").resolve("tls")))
                .build();
        zk.start();
        Path tlsConfig = zk.clientTlsFile().orElseThrow();
        Path auth = Files.writeString(dir.resolve("zk-auth"), "tenure:s3cret\n");
        int http = LoopbackPorts.serverPort();
        node = NodeLauncher.builder("r1")
                .jar(Path.of(System.getProperty("demo.jar")))
                .jvmOptions(List.of("-Xmx256m"))
                .zooKeeper(zk.connectString())
                .dataDir(dir.resolve("data-r1"))
                .http("127.0.0.1:" + http)
                .repl("127.0.0.1:" + LoopbackPorts.serverPort())
                .replicas(List.of("r1"))
                .sessionTimeout(Duration.ofSeconds(4))
                .extraArguments(List.of(
                        "--zk-tls-config",
                        tlsConfig.toString(),
                        "--zk-auth-file",
                        auth.toString(),
                        "--transport-plaintext"))
                .logFile(dir.resolve("r1.out"))
                .stopGrace(Duration.ofSeconds(10))
                .build()
                .start();
        URI url = URI.create("http://127.0.0.1:" + http);
        StatusProbe probe = new StatusProbe(Duration.ofSeconds(2), Duration.ofMillis(50));
        String leader = probe.awaitLeader(() -> Map.of("r1", url), 0, true, Duration.ofSeconds(45))
                .id();
        assertEquals("r1", leader);

        KvClient client = new KvClient(url, Duration.ofSeconds(10));
        Outcome put = client.put("k", "over-tls".getBytes(StandardCharsets.UTF_8));
        assertEquals(Outcome.Kind.OK, put.kind(), put.toString());
        Outcome get = client.get("k", false);
        assertEquals("over-tls", new String(get.value().orElseThrow(), StandardCharsets.UTF_8));
        String log = Files.readString(dir.resolve("r1.out"), StandardCharsets.UTF_8);
        assertTrue(log.contains("replica r1 serving at"), log);
    }
}
