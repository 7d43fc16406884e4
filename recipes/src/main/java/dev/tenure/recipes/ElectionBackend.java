package dev.tenure.recipes;

/** The Curator recipe that orders the participants of a {@link FencedLeaderElection}. Immutable and thread-safe. */
public enum ElectionBackend {
    /**
     * Curator's {@code LeaderLatch}: the participant with the lowest sequential node leads. After a
     * reconnect with the same session, a leader whose node is still first leads again (new epoch).
     */
    LEADER_LATCH,
    /**
     * Curator's {@code LeaderSelector}: a fair lock, first come first served. A participant whose term ends
     * for any reason releases the lock and queues again at the tail.
     */
    LEADER_SELECTOR
}
