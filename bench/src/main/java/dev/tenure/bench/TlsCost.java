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

import dev.tenure.replicator.Replica;
import dev.tenure.replicator.storage.LogConfig;
import dev.tenure.replicator.transport.netty.tls.TlsContext;
import dev.tenure.replicator.transport.netty.tls.TlsSettings;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.tls.TestCertificates;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code --in-process --tls-cost}: the throughput and latency cost of mutual TLS between the replicas. Two clusters
 * of three in-process replicas on one ZooKeeper ensemble, one replicating in plaintext and one over mutual TLS (TLS
 * 1.3, EC P-256 certificates), measured at each in-flight level one after the other in the same run, with the same
 * warm-up, duration and value size.
 */
final class TlsCost {
    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(60);

    private TlsCost() {}

    static int run(BenchConfig config, PrintWriter progress, PrintWriter out) throws Exception {
        Path root = Files.createTempDirectory("tenure-tls-cost-");
        try {
            TestCertificates.Authority ca = TestCertificates.authority("tenure-bench-ca");
            Map<String, TlsContext> tls = new LinkedHashMap<>();
            for (String id : TenureCluster.IDS) {
                TestCertificates.Files f = ca.issue(id)
                        .dnsNames(id)
                        .ip("127.0.0.1")
                        .build()
                        .writeTo(root.resolve("tls").resolve(id));
                tls.put(id, TlsContext.load(TlsSettings.pem(f.chain(), f.key(), f.ca())));
            }
            LogConfig logConfig = LogConfig.defaults();
            try (ZooKeeperEnsemble zk = ZooKeeperEnsemble.builder().servers(3).build()) {
                zk.start();
                try (TenureCluster plain =
                                TenureCluster.start(zk, root.resolve("plain"), logConfig, "/bench-plain", Map.of());
                        TenureCluster secure =
                                TenureCluster.start(zk, root.resolve("tls"), logConfig, "/bench-tls", tls)) {
                    out.printf(
                            Locale.ROOT,
                            "%-10s %14s %12s %14s %12s %10s%n",
                            "in flight",
                            "plaintext w/s",
                            "p50 ms",
                            "mTLS w/s",
                            "p50 ms",
                            "mTLS/plain");
                    for (int inflight : config.inflight()) {
                        Replica p = plain.awaitLeader(LEADER_TIMEOUT);
                        Results.Side a = Benchmark.measure(
                                "plaintext",
                                inflight,
                                config,
                                progress,
                                (w, value, done) -> ClosedLoop.completeWhenDone(p.propose(value), done));
                        Replica t = secure.awaitLeader(LEADER_TIMEOUT);
                        Results.Side b = Benchmark.measure(
                                "mtls",
                                inflight,
                                config,
                                progress,
                                (w, value, done) -> ClosedLoop.completeWhenDone(t.propose(value), done));
                        out.printf(
                                Locale.ROOT,
                                "%-10d %14.0f %12.3f %14.0f %12.3f %10.2f%n",
                                inflight,
                                a.opsPerSecond(),
                                a.p50Micros() / 1000,
                                b.opsPerSecond(),
                                b.p50Micros() / 1000,
                                b.opsPerSecond() / a.opsPerSecond());
                        out.flush();
                    }
                }
            }
            return 0;
        } finally {
            Benchmark.deleteRecursively(root);
        }
    }
}
