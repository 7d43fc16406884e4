package dev.tenure.demo.node;

import dev.tenure.testkit.ZooKeeperEnsemble;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The demo in one JVM: an in-process 3-server ZooKeeper ensemble and 3 key-value replicas on loopback,
 * with their data in a temporary directory that is deleted on close.
 */
public final class EmbeddedCluster implements Closeable {
    private static final List<String> IDS = List.of("r1", "r2", "r3");

    private final ZooKeeperEnsemble ensemble = ZooKeeperEnsemble.builder().build();
    private final List<KvNode> nodes = new ArrayList<>();
    private final int firstHttpPort;
    private Path dataDir;

    /** @param firstHttpPort the HTTP port of r1 (r2 and r3 take the next ones); 0 for ephemeral ports */
    public EmbeddedCluster(int firstHttpPort) {
        this.firstHttpPort = firstHttpPort;
    }

    public void start() throws Exception {
        dataDir = Files.createTempDirectory("tenure-demo");
        ensemble.start();
        for (int i = 0; i < IDS.size(); i++) {
            String id = IDS.get(i);
            int port = firstHttpPort == 0 ? 0 : firstHttpPort + i;
            if (port != 0 && !free(port)) {
                port = 0; // taken: fall back to an ephemeral port
            }
            KvNode node = new KvNode(new KvNode.Config(
                    id,
                    ensemble.connectString(),
                    dataDir.resolve(id),
                    new InetSocketAddress("127.0.0.1", port),
                    new InetSocketAddress("127.0.0.1", 0),
                    IDS,
                    null,
                    null,
                    "kv",
                    4000));
            node.start();
            nodes.add(node);
        }
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public List<KvNode> nodes() {
        return List.copyOf(nodes);
    }

    public ZooKeeperEnsemble ensemble() {
        return ensemble;
    }

    @Override
    public void close() {
        for (KvNode n : nodes) {
            n.close();
        }
        ensemble.close();
        if (dataDir != null) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
