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
 * The HTTP layer sees the replica only through {@link dev.tenure.demo.kv.KvService}: it imports nothing of the node
 * assembly (ZooKeeper client, metrics, timeline), so {@code http} and {@code node} form no cycle.
 */
class HttpSeesOnlyTheServiceTest {
    private static final List<String> FORBIDDEN =
            List.of("dev.tenure.demo.node", "org.apache.curator", "io.micrometer", "dev.tenure.replicator.zookeeper");

    @Test
    void httpSourcesImportNeitherTheNodeNorItsMachinery() throws IOException {
        Path dir = Path.of("src/main/java/dev/tenure/demo/http");
        List<String> offences;
        try (Stream<Path> files = Files.list(dir)) {
            offences = files.flatMap(f -> {
                        try {
                            String text = Files.readString(f);
                            return FORBIDDEN.stream().filter(text::contains).map(s -> f.getFileName() + ": " + s);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .toList();
        }
        assertEquals(List.of(), offences);
    }
}
