package dev.tenure.replicator.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The replication core is plain Java: no sockets, no ZooKeeper, no clocks, no threads. */
class CoreHasNoIoTest {
    private static final List<String> FORBIDDEN = List.of(
            "import io.netty",
            "import org.apache.curator",
            "import org.apache.zookeeper",
            "import java.net",
            "import java.nio.channels",
            "System.currentTimeMillis",
            "System.nanoTime",
            "new Thread",
            "java.util.concurrent");

    @Test
    void coreSourcesImportNoIoAndReadNoClock() throws IOException {
        Path dir = Path.of("src/main/java/dev/tenure/replicator/core");
        List<String> offences;
        try (Stream<Path> files = Files.list(dir)) {
            offences = files.flatMap(f -> {
                        try {
                            String text = Files.readString(f);
                            return FORBIDDEN.stream().filter(text::contains).map(s -> f.getFileName() + ": " + s);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    })
                    .collect(Collectors.toList());
        }
        assertEquals(List.of(), offences);
    }
}
