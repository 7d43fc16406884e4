package dev.tenure.replicator;

/**
 * When this node last heard from the node of each other replica, on the replica's clock: what a node that hosts many
 * partitions learns from any message or coalesced heartbeat of a peer node, once for all its partitions. A quiet
 * leader ({@link dev.tenure.replicator.core.CoreConfig#quiesce()}) counts it for check-quorum. Must be thread-safe and
 * cheap: it is read on the replica's event thread.
 */
@FunctionalInterface
public interface PeerLiveness {
    /** When the node of {@code replicaId} was last heard from, or {@link Long#MIN_VALUE} if never. */
    long lastHeardNanos(String replicaId);
}
