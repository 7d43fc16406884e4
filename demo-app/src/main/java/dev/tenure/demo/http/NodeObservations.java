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
package dev.tenure.demo.http;

import java.time.Instant;
import java.util.List;

/**
 * What an operator's views of one replica show beyond its {@link dev.tenure.demo.kv.KvService.Status status}: the
 * event timeline and the followers' lag on the status page, and the metrics at {@code /metrics}. Only the status
 * routes use it; the key routes see only the {@link dev.tenure.demo.kv.KvService}.
 *
 * <p>Thread-safe: called from the HTTP event-loop threads, concurrently. Implementations must be fast and must not
 * throw: they report what they have observed so far.
 */
public interface NodeObservations {
    /** Recent events for the status page's timeline, oldest first. */
    List<Event> events();

    /** Milliseconds a follower has been behind (0 when caught up or unknown), from the leader's view. */
    long lagMillis(String follower);

    /** The metrics in the Prometheus text format. */
    String scrapeMetrics();

    /** A recent event for the status page's timeline. */
    record Event(Instant at, String text) {}

    /**
     * This node's fast failover settings as resolved at start (docs/replication.md, "Fast failover"); empty before
     * start or when not known.
     */
    default java.util.Optional<Failover> fastFailoverStatus() {
        return java.util.Optional.empty();
    }

    /**
     * Where this node's partitions take their leaders from, as {@code /status}'s {@code controller} object shows it:
     * {@link ControllerStatus#ELECTION} unless the node runs with the controller.
     */
    default ControllerStatus controllerStatus() {
        return ControllerStatus.ELECTION;
    }

    /**
     * The controller as one node sees it (docs/controller.md).
     *
     * @param mode {@code controller} or {@code election}
     * @param controller the active controller's node id: this node's own if it is the controller, else the one that
     *     sent the newest assignment this node applied; empty if none is known (and in election mode)
     * @param controllerEpoch that controller's epoch (0 if none is known)
     * @param active whether this node is the controller now
     * @param nodeEpoch this node's registration epoch (0 if not registered, and in election mode)
     * @param highestControllerEpoch the highest controller epoch this node has seen (kept across restarts; 0 if none)
     * @param nodes on the controller only: the live nodes it sees, in id order, with their registration epochs
     */
    record ControllerStatus(
            String mode,
            java.util.Optional<String> controller,
            long controllerEpoch,
            boolean active,
            long nodeEpoch,
            long highestControllerEpoch,
            java.util.Optional<List<Member>> nodes) {
        /** Per-partition elections: no controller. */
        public static final ControllerStatus ELECTION = new ControllerStatus(
                "election", java.util.Optional.empty(), 0, false, 0, 0, java.util.Optional.empty());

        /** A node of the controller mode that does not know its controller yet. */
        public static ControllerStatus starting() {
            return new ControllerStatus(
                    "controller", java.util.Optional.empty(), 0, false, 0, 0, java.util.Optional.empty());
        }

        /** Checks and copies. */
        public ControllerStatus {
            java.util.Objects.requireNonNull(mode, "mode");
            java.util.Objects.requireNonNull(controller, "controller");
            nodes = nodes.map(List::copyOf);
        }

        /**
         * A live node as the controller sees it.
         *
         * @param id its id
         * @param nodeEpoch its registration epoch (the czxid of its registration node)
         * @param shuttingDown whether it is in a controlled shutdown
         */
        public record Member(String id, long nodeEpoch, boolean shuttingDown) {}
    }

    /**
     * The controller's reassignments as this node reaches them (docs/controller.md, "Reassignment"); empty unless the
     * node runs with the controller.
     */
    default java.util.Optional<ReassignmentAdmin> reassignmentAdmin() {
        return java.util.Optional.empty();
    }

    /**
     * Fast failover as {@code /status} shows it.
     *
     * @param enabled whether followers depose a leader a majority of them suspect
     * @param suspicionTimeoutMs silence after which a follower suspects its leader (0 when off)
     * @param minimumTermMs no leader is suspected before its term lasted this long (0 when off)
     * @param deposeBackoffMs a replica deposes no leader within this long of its previous depose (0 when off)
     */
    record Failover(boolean enabled, long suspicionTimeoutMs, long minimumTermMs, long deposeBackoffMs) {}
}
