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

import java.io.Closeable;

/**
 * Where a replica's leadership comes from: normally a fenced election on ZooKeeper ({@link
 * dev.tenure.replicator.zookeeper.ElectionLeadership}); tests can drive it by hand.
 *
 * <p>Implementations must be thread-safe: the replica calls {@link #start} from the thread that starts it (an exception
 * from it is thrown by {@link Replica#start()}), {@link #stepDown} on its event thread and {@link #close} from
 * whichever thread closes or stops it. The replica's {@link Events} may be called on any thread, one call at a time;
 * they only queue the change for the replica's event thread.
 */
public interface Leadership extends Closeable {
    /** Told of terms; calls must be serial and in order (elected before revoked of the same epoch). */
    interface Events {
        /** Elected for {@code epoch}. */
        void elected(long epoch);

        /**
         * Elected for {@code epoch}, under {@code configuration}: the replica set's configuration read from the
         * configuration master after {@code epoch} was minted (docs/replication.md, "Membership change").
         */
        default void elected(long epoch, dev.tenure.replicator.core.Configuration configuration) {
            elected(epoch);
        }

        /** The term of {@code epoch} ended. */
        void revoked(long epoch);

        /**
         * The leadership source is also the configuration master, and holds {@code configuration} now: handed to the
         * replica as {@link dev.tenure.replicator.Replica#configure} would (ignored unless newer than the newest the
         * replica has). A source that mints epochs with changes of the voters gives the configuration of an epoch
         * with {@link #elected(long, dev.tenure.replicator.core.Configuration)}, and the configurations of terms it
         * does not give this replica here (a follower's or a learner's view). Nothing by default.
         */
        default void configured(dev.tenure.replicator.core.Configuration configuration) {}
    }

    /** Starts taking part; terms are reported to {@code events}. */
    void start(Events events) throws Exception;

    /** Gives up the term of {@code epoch} (it was fenced), if it is still current. */
    void stepDown(long epoch);

    /**
     * Fast failover (docs/replication.md, "Fast failover"): this follower suspects {@code leader}, the leader of
     * {@code epoch}; record the suspicion where the other replicas see it and depose the leader of {@code epoch} once
     * a majority of the voters suspect it. Called on the replica's event thread: must not block. Nothing by default
     * (a leadership without fast failover).
     */
    default void suspectLeader(long epoch, String leader) {}

    /** Withdraws this replica's suspicion of the leader of {@code epoch} (see {@link #suspectLeader}); never blocks. */
    default void clearSuspicion(long epoch) {}

    /**
     * Withdraws this replica's suspicion of the leader of {@code epoch}, an epoch this replica has since promised a
     * newer one than: that suspicion can depose nobody any more (a depose of an epoch that is not the latest is
     * refused), so it may be withdrawn at leisure, after the failover's elections. {@link #clearSuspicion} by default;
     * never blocks.
     */
    default void clearSupersededSuspicion(long epoch) {
        clearSuspicion(epoch);
    }

    @Override
    void close();
}
