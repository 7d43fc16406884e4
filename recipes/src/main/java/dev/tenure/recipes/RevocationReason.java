package dev.tenure.recipes;

/** Why a term of leadership ended. Immutable and thread-safe. */
public enum RevocationReason {
    /**
     * The connection to ZooKeeper was suspended and the {@link SuspensionPolicy} is {@link
     * SuspensionPolicy#REVOKE}: another participant may lead soon, so this one stops at once.
     */
    CONNECTION_SUSPENDED,
    /** The ZooKeeper session was lost (expired); another participant may already lead. */
    SESSION_LOST,
    /** Curator reported that this participant no longer holds its latch or lock. */
    DEPOSED,
    /** A newer epoch was minted on the election path while this participant believed it led. */
    SUPERSEDED,
    /** The leader stepped down by {@link FencedLeaderElection#stepDown(LeadershipToken)}. */
    STEPPED_DOWN,
    /**
     * The listener's {@link LeadershipListener#acquired(LeadershipToken)} threw: the participant gave the term
     * up, left the election so that another can lead, and rejoins it after the retry backoff.
     */
    LISTENER_FAILED,
    /** The election was closed. */
    CLOSED
}
