package dev.tenure.replicator;

import dev.tenure.replicator.core.Configuration;

/**
 * Where a replica set's configuration lives (ZooKeeper in {@link dev.tenure.replicator.zookeeper.ZooKeeperReplica}):
 * the replica asks it to activate a change once its leader committed its epoch start under the joint rule
 * (docs/replication.md, "Membership change"). The replica learns the master's configurations through {@link
 * Replica#configure}.
 *
 * <p>Called on the replica's configuration thread, never on its event thread, so it may block. A failure only
 * delays the change (see {@link #activate}).
 */
@FunctionalInterface
public interface ConfigurationMaster {
    /** A master whose configuration never changes: there is nothing to activate. */
    ConfigurationMaster NONE = (epoch, joint) -> {};

    /**
     * Replaces {@code joint} by {@code joint.activated()} if {@code joint} is still the current configuration and
     * {@code epoch} still the latest epoch; otherwise does nothing (a later leader asks again, or the change was
     * cancelled). Called on a replica thread of its own, never the event thread; may block.
     *
     * @throws Exception if the master cannot be reached; the replica logs it, and the next leader asks again
     */
    void activate(long epoch, Configuration joint) throws Exception;
}
