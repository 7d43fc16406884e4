package dev.tenure.replicator.transport;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;

/** Where each replica's replication endpoint is; looked up again on every (re)connect. Thread-safe. */
public interface PeerDirectory {
    /** The address of {@code replicaId}'s replication endpoint, or empty if it is not known. */
    Optional<InetSocketAddress> addressOf(String replicaId);

    /** A fixed directory. */
    static PeerDirectory of(Map<String, InetSocketAddress> addresses) {
        Map<String, InetSocketAddress> copy = Map.copyOf(addresses);
        return id -> Optional.ofNullable(copy.get(id));
    }
}
