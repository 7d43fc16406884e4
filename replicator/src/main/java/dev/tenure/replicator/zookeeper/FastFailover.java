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
package dev.tenure.replicator.zookeeper;

import com.google.common.base.Preconditions;
import java.time.Duration;

/**
 * The fast failover settings of a {@link ZooKeeperReplica} or {@link ZooKeeperNode} (docs/replication.md, "Fast
 * failover"): followers that hear nothing from their leader for the suspicion timeout say so in ZooKeeper, and once a
 * majority of the voters suspect it the leader's election node is deleted, so that the next participant leads without
 * waiting for the dead leader's session to expire.
 *
 * <ul>
 *   <li>{@link #fromSessionTimeout()} (the default): derived from the ZooKeeper client's negotiated session timeout
 *       at start: a suspicion timeout of a third of it, within [{@value #MIN_SUSPICION_MILLIS} ms, {@value
 *       #MAX_SUSPICION_MILLIS} ms] (a 3 s session gives 1 s), and a minimum term and a depose back-off equal to the
 *       suspicion timeout.
 *   <li>{@link #of(Duration, Duration, Duration)}: explicit bounds.
 *   <li>{@link #off()}: failover waits for the leader's session to expire, as without this feature.
 * </ul>
 *
 * <p>The trade-off: a leader that stops answering for longer than the suspicion timeout (a stop-the-world GC pause, a
 * frozen VM) is deposed by a majority that lost it, which costs a leader change and fails its writes in flight as
 * outcome unknown; it never costs safety, because the deposed leader's epoch is fenced by the promises of the next.
 * Set the suspicion timeout above the longest pause you expect.
 *
 * <p>Immutable and thread-safe.
 */
public final class FastFailover {
    /** The least suspicion timeout derived from a session timeout. */
    public static final long MIN_SUSPICION_MILLIS = 300;
    /** The largest suspicion timeout derived from a session timeout. */
    public static final long MAX_SUSPICION_MILLIS = 5_000;

    private static final FastFailover OFF = new FastFailover(false, false, Duration.ZERO, Duration.ZERO, Duration.ZERO);
    private static final FastFailover DERIVED =
            new FastFailover(true, true, Duration.ZERO, Duration.ZERO, Duration.ZERO);

    private final boolean enabled;
    private final boolean derived;
    private final Duration suspicionTimeout;
    private final Duration minimumTerm;
    private final Duration deposeBackoff;

    private FastFailover(
            boolean enabled, boolean derived, Duration suspicionTimeout, Duration minimumTerm, Duration deposeBackoff) {
        this.enabled = enabled;
        this.derived = derived;
        this.suspicionTimeout = suspicionTimeout;
        this.minimumTerm = minimumTerm;
        this.deposeBackoff = deposeBackoff;
    }

    /** Off: a dead leader is replaced when its ZooKeeper session expires. */
    public static FastFailover off() {
        return OFF;
    }

    /** On, with bounds derived from the session timeout at start (the default). */
    public static FastFailover fromSessionTimeout() {
        return DERIVED;
    }

    /**
     * On, with explicit bounds.
     *
     * @param suspicionTimeout silence from the leader after which a follower suspects it; at least two heartbeat
     *     intervals (checked when the replica is built)
     * @param minimumTerm no leader is suspected before its term (as a follower saw it begin) lasted this long
     * @param deposeBackoff a replica deposes no leader within this long after its previous depose
     * @throws IllegalArgumentException if a duration is negative or the suspicion timeout is zero
     */
    public static FastFailover of(Duration suspicionTimeout, Duration minimumTerm, Duration deposeBackoff) {
        Preconditions.checkArgument(
                suspicionTimeout != null && !suspicionTimeout.isNegative() && !suspicionTimeout.isZero(),
                "the suspicion timeout must be > 0, was %s (use FastFailover.off() to turn it off)",
                suspicionTimeout);
        Preconditions.checkArgument(
                minimumTerm != null && !minimumTerm.isNegative(), "the minimum term must be >= 0, was %s", minimumTerm);
        Preconditions.checkArgument(
                deposeBackoff != null && !deposeBackoff.isNegative(),
                "the depose back-off must be >= 0, was %s",
                deposeBackoff);
        return new FastFailover(true, false, suspicionTimeout, minimumTerm, deposeBackoff);
    }

    /** The suspicion timeout derived from a session timeout: a third of it, within the bounds above. */
    public static Duration suspicionFor(Duration sessionTimeout) {
        long ms = Math.max(MIN_SUSPICION_MILLIS, Math.min(MAX_SUSPICION_MILLIS, sessionTimeout.toMillis() / 3));
        return Duration.ofMillis(ms);
    }

    /** Whether fast failover is on. */
    public boolean enabled() {
        return enabled;
    }

    /**
     * These settings for a client whose negotiated session timeout is {@code sessionTimeout}: derived ones are
     * computed from it, explicit ones and {@link #off()} returned as they are.
     */
    public FastFailover resolve(Duration sessionTimeout) {
        if (!derived) {
            return this;
        }
        Duration s = suspicionFor(sessionTimeout);
        return new FastFailover(true, false, s, s, s);
    }

    /** The suspicion timeout (zero when off or not yet resolved). */
    public Duration suspicionTimeout() {
        return suspicionTimeout;
    }

    /** The minimum term (zero when off or not yet resolved). */
    public Duration minimumTerm() {
        return minimumTerm;
    }

    /** The depose back-off (zero when off or not yet resolved). */
    public Duration deposeBackoff() {
        return deposeBackoff;
    }

    /** The negotiated session timeout of {@code client}'s current connection, or 3 s if it has none yet. */
    static Duration sessionTimeoutOf(org.apache.curator.framework.CuratorFramework client) {
        int ms = client.getZookeeperClient().getLastNegotiatedSessionTimeoutMs();
        return Duration.ofMillis(ms > 0 ? ms : 3_000);
    }

    @Override
    public String toString() {
        if (!enabled) {
            return "FastFailover{off}";
        }
        if (derived) {
            return "FastFailover{from the session timeout}";
        }
        return "FastFailover{suspicion " + suspicionTimeout + ", minimum term " + minimumTerm + ", back-off "
                + deposeBackoff + "}";
    }
}
