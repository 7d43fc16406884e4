package dev.tenure.replicator.core;

/**
 * Names a snapshot: the state after applying every entry below {@code offset}, whose last entry (at {@code offset -
 * 1}) has {@code epoch} (KIP-630's {@code SnapshotId{EndOffset, Epoch}}; Raft's last included index and term). Two
 * snapshots with the same id hold the same state: entries below a snapshot are committed, and one (epoch, offset)
 * names one entry and the whole prefix before it.
 *
 * <p>Immutable and thread-safe. The constructor throws {@link IllegalArgumentException} unless both are positive.
 *
 * @param offset the first offset not in the snapshot (> 0)
 * @param epoch the epoch of the entry at {@code offset - 1} (> 0)
 */
public record SnapshotId(long offset, long epoch) implements Comparable<SnapshotId> {
    /** Checks that offset and epoch are positive. */
    public SnapshotId {
        if (offset <= 0 || epoch <= 0) {
            throw new IllegalArgumentException("snapshot offset and epoch must be > 0, were " + offset + ", " + epoch);
        }
    }

    @Override
    public int compareTo(SnapshotId o) {
        int c = Long.compare(offset, o.offset);
        return c != 0 ? c : Long.compare(epoch, o.epoch);
    }

    @Override
    public String toString() {
        return epoch + ":" + offset;
    }
}
