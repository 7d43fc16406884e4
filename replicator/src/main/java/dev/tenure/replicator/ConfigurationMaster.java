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
