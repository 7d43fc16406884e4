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

import com.google.common.base.Splitter;
import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.NodeLauncher;
import dev.tenure.harness.StatusProbe;
import dev.tenure.testkit.LoopbackPorts;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo application's key-value service as it ships: {@code java -jar demo-app.jar node ...} processes, one per
 * replica, on 127.0.0.1, started by {@link NodeLauncher} (load goes through {@link AsyncHttpLoad}). Not thread-safe;
 * {@link #close()} stops every process it started.
 */
final class DemoNodes implements AutoCloseable {
    private final Map<String, ChildProcess> processes = new LinkedHashMap<>();
    private final Map<String, URI> urls = new LinkedHashMap<>();
    private final StatusProbe status = new StatusProbe(Duration.ofSeconds(2), Duration.ofMillis(20));

    private DemoNodes() {}

    static DemoNodes start(
            Path demoJar, List<String> ids, String zkConnect, Path root, int sessionTimeoutMs, String heap)
            throws Exception {
        DemoNodes d = new DemoNodes();
        try {
            for (String id : ids) {
                List<String> jvmOptions = new ArrayList<>(List.of("-Xmx" + heap, "-Xms" + heap));
                // The same extra JVM options as the replica processes (for profiling), "{start}" the node's id.
                for (String x : Splitter.onPattern("\\s+")
                        .omitEmptyStrings()
                        .split(System.getProperty("tenure.bench.replicaJvmOptions", ""))) {
                    jvmOptions.add(x.replace("{start}", id));
                }
                NodeLauncher node = NodeLauncher.builder(id)
                        .jar(demoJar)
                        .jvmOptions(jvmOptions)
                        .zooKeeper(zkConnect)
                        .dataDir(root.resolve(id))
                        .http("127.0.0.1:" + LoopbackPorts.serverPort())
                        .repl("127.0.0.1:" + LoopbackPorts.serverPort())
                        .replicas(ids)
                        .cluster("kvbench")
                        .sessionTimeout(Duration.ofMillis(sessionTimeoutMs))
                        .extraArguments(List.of("--transport-plaintext")) // the benchmark measures plaintext
                        .logFile(root.resolve("logs").resolve("demo-" + id + ".log"))
                        .awaitServing(true)
                        .build();
                d.processes.put(id, node.start());
                d.urls.put(id, node.url());
            }
            for (ChildProcess p : d.processes.values()) {
                p.awaitReady(Duration.ofSeconds(60));
            }
            return d;
        } catch (Exception | Error e) {
            d.close();
            throw e;
        }
    }

    /** The id of the node that leads and has committed its epoch start. */
    String awaitLeader(Duration timeout) throws Exception {
        return status.awaitLeader(() -> urls, -1, false, timeout).id();
    }

    URI url(String id) {
        return urls.get(id);
    }

    List<String> ids() {
        return List.copyOf(urls.keySet());
    }

    List<Long> pids() {
        return processes.values().stream().map(ChildProcess::pid).toList();
    }

    @Override
    public void close() {
        ChildProcess.closeAll(processes.values());
    }
}
