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
package dev.tenure.controller.zookeeper;

import com.google.common.base.Preconditions;
import dev.tenure.controller.core.VersionedState;
import org.apache.zookeeper.KeeperException;

/**
 * The outcome of one {@link dev.tenure.controller.core.StateWrite} sent by {@link PartitionStateStore#write}: exactly
 * one of
 *
 * <ul>
 *   <li>{@link Written}: applied; the state node now has the returned version.
 *   <li>{@link Conflict}: not applied, because the write's own operation failed (the node's version was not the one
 *       expected, it existed already, or it did not exist). Re-read the partition ({@link PartitionStateStore#read})
 *       and decide again.
 *   <li>{@link Fenced}: not applied, because the controller's epoch is no longer the latest: a newer controller
 *       exists. Nothing of the same request was applied; stop acting as controller.
 *   <li>{@link Unknown}: the request was sent and its reply lost (connection loss, session expiry, timeout, interrupt):
 *       it may or may not have been applied. It was not sent again. Never treat it as failed: re-read and decide
 *       from what is there (a later write is fenced and versioned, so deciding again is safe).
 * </ul>
 *
 * Immutable and thread-safe.
 */
public sealed interface WriteOutcome {
    /** The partition written. */
    String partition();

    /**
     * Applied.
     *
     * @param state the state written, with the state node's new version
     */
    record Written(VersionedState state) implements WriteOutcome {
        /** Checks. */
        public Written {
            Preconditions.checkNotNull(state, "state");
        }

        @Override
        public String partition() {
            return state.partition();
        }
    }

    /**
     * Not applied: the write's own operation failed.
     *
     * @param partition the partition
     * @param reason {@code BADVERSION} (another version is there), {@code NODEEXISTS} (a create found a state), {@code
     *     NONODE} (an update found none); another code (for example {@code NOAUTH}) means the write cannot succeed
     *     as it is — a configuration problem
     */
    record Conflict(String partition, KeeperException.Code reason) implements WriteOutcome {
        /** Checks. */
        public Conflict {
            Preconditions.checkNotNull(partition, "partition");
            Preconditions.checkNotNull(reason, "reason");
        }
    }

    /**
     * Not applied: the controller epoch the write was fenced by is no longer the latest.
     *
     * @param partition the partition
     */
    record Fenced(String partition) implements WriteOutcome {
        /** Checks. */
        public Fenced {
            Preconditions.checkNotNull(partition, "partition");
        }
    }

    /**
     * Sent, and the reply lost: applied or not, all or nothing with the other writes of its request. (Also the outcome
     * of a write left unsent when {@link PartitionStateStore#write} was interrupted or gave up waiting for replies.)
     *
     * @param partition the partition
     * @param cause what lost the reply (a {@link KeeperException} such as {@code ConnectionLossException}, an {@link
     *     InterruptedException}, a {@link java.util.concurrent.TimeoutException})
     */
    record Unknown(String partition, Exception cause) implements WriteOutcome {
        /** Checks. */
        public Unknown {
            Preconditions.checkNotNull(partition, "partition");
            Preconditions.checkNotNull(cause, "cause");
        }
    }
}
