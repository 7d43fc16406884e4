package dev.tenure.replicator;

/** Leader-to-follower log replication; see issue for the design. */
final class Placeholder {
    private Placeholder() {}
}
