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
 */
public interface LeadershipListener {
    /**
     * This participant leads; its epoch was minted before this call.
     *
     * @param token the term's fencing token
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
