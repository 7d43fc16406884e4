package dev.tenure.replicator.transport.netty;

import dev.tenure.replicator.core.Message;

/** What one frame carries: a handshake frame, a protocol message, or a protocol message of a partition. */
sealed interface Frame {
    /** The connecting side's first frame: who it is, and whom it means to reach in which cluster. */
    record Hello(String clusterName, String fromReplicaId, String toReplicaId) implements Frame {}

    /** The accepting side's answer to an unacceptable {@link Hello}, sent just before it closes. */
    record HelloRejected(String reason) implements Frame {}

    /** "Still here": sent on a node transport's outbound connection that had nothing to write for a while. */
    record Ping() implements Frame {}

    /** A replication protocol message. */
    record Protocol(Message message) implements Frame {}

    /** A replication protocol message of one partition (a node transport's frame). */
    record Partitioned(String partition, Message message) implements Frame {}
}
