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
package dev.tenure.demo.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The HTTP layer sees the replica only through {@link dev.tenure.demo.kv.KvService} and, for the operator's routes,
 * {@link NodeObservations}: its sources name nothing of the node assembly (ZooKeeper client, metrics, timeline,
 * replica), so {@code http} and {@code node} form no cycle; the key routes name neither the observations nor the
 * status routes. {@code DemoArchitectureTest} checks the same on the compiled classes.
 */
class HttpSeesOnlyTheServiceTest {
    private static final Path HTTP = Path.of("src/main/java/dev/tenure/demo/http");
    private static final List<String> FORBIDDEN = List.of(
            "dev.tenure.demo.node",
            "org.apache.curator",
            "org.apache.zookeeper",
            "io.micrometer",
            "dev.tenure.replicator.zookeeper",
            "dev.tenure.replicator.storage",
            "dev.tenure.replicator.ReplicaListener",
            "dev.tenure.replicator.StateMachine",
            "KvNode",
            "KvMetrics",
            "EventTimeline");
    private static final List<String> NOT_IN_KEY_ROUTES = List.of("NodeObservations", "StatusRoutes");

    @Test
    void httpSourcesImportNeitherTheNodeNorItsMachinery() throws IOException {
        List<String> offences;
        try (Stream<Path> files = Files.list(HTTP)) {
            offences = files.flatMap(f -> offences(f, FORBIDDEN)).toList();
        }
        assertEquals(List.of(), offences);
    }

    @Test
    void theKeyRoutesSeeOnlyTheService() {
        assertEquals(
                List.of(),
                offences(HTTP.resolve("KvRoutes.java"), NOT_IN_KEY_ROUTES).toList());
    }

    private static Stream<String> offences(Path file, List<String> forbidden) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return forbidden.stream().filter(text::contains).map(s -> file.getFileName() + ": " + s);
    }
}
