/**
 * For tests: in-memory and fault-injecting stand-ins for the replicator's plug-in points, published so that users
 * of the library can test their own code with them (as Curator ships {@code curator-test}). {@link
 * dev.tenure.replicator.testing.InMemoryReplicaLog} and {@link dev.tenure.replicator.testing.InMemoryPromiseStore}
 * model a log and a promise store without files; {@link dev.tenure.replicator.testing.InMemoryNetwork} connects
 * transports, and the node transports that partitions share, in one process; {@link dev.tenure.replicator.testing.PausableTransport} holds a replica's traffic as a
 * stopped process would. None of them is durable; do not use them in production.
 */
package dev.tenure.replicator.testing;
