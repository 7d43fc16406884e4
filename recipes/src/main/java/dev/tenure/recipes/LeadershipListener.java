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
package dev.tenure.recipes;

/**
 * Receives the terms of leadership of one {@link FencedLeaderElection} participant.
 *
 * <p>Callbacks run on the election's listener executor, one at a time and in order: {@code acquired(t)}
 * happens before {@code revoked(t, …)}, which happens before the next {@code acquired}. They never run on
 * Curator's or ZooKeeper's threads.
 *
 * <p>Callbacks can arrive late: by the time {@code acquired(t)} runs, the term may already be over. Check
 * {@link FencedLeaderElection#isCurrent(LeadershipToken)} before acting, and hand the token to every
 * resource you touch, so that the resource refuses it once a newer term exists (see {@link EpochFence}).
 *
 * <p>{@code acquired} may do the leader's work itself and return when the term ends (watch {@link
 * FencedLeaderElection#isCurrent(LeadershipToken)} or {@link FencedLeaderElection#revocation(LeadershipToken)}):
 * {@link FencedLeaderElection#close()} and {@link FencedLeaderElection#stepDown(LeadershipToken)} wait for
 * it to return. Both methods default to no-ops, so new events can be added without breaking listeners.
 *
 * <p>If {@code acquired} throws (anything, {@code Error}s included) while its term is current, the term is
 * given up, as Curator's {@code LeaderSelector} gives up leadership when {@code takeLeadership} throws: the
 * exception is logged at ERROR through SLF4J; {@code revoked} follows with {@link
 * RevocationReason#LISTENER_FAILED}; the participant leaves the election, so that another participant can
 * lead (with a higher epoch), and rejoins it at the tail after the election's retry backoff, as {@code
 * LeaderSelector} re-queues with {@code autoRequeue}. The backoff keeps a listener that always throws from
 * spinning through epochs. If the term had already ended, the exception is only logged. An exception from
 * {@code revoked} is logged at ERROR and changes nothing. Implementations need not be thread-safe: callbacks never
 * overlap, and each happens before the next.
 */
public interface LeadershipListener {
    /**
     * This participant leads; its epoch was minted before this call.
     *
     * @param token the term's fencing token
     * @throws Exception to give the term up: it is revoked with {@link RevocationReason#LISTENER_FAILED}
     */
    default void acquired(LeadershipToken token) throws Exception {}

    /**
     * The term of {@code token} is over. Stop acting as leader; outcomes of the work still in flight are
     * unknown, not failed.
     *
     * @param token the ended term's token
     * @param reason why it ended
     */
    default void revoked(LeadershipToken token, RevocationReason reason) throws Exception {}
}
