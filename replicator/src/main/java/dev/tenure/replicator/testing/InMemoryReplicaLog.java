package dev.tenure.replicator.testing;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.ReplicaLog;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ReplicaLog} in memory that models a file in the page cache: {@link #sync()} makes the current
 * content durable; after a process crash the content stays as it is (the page cache survives) and {@link
 * #reopen()} forces it, as {@code SegmentedLog.open} does; {@link #powerLoss()} reverts to the last synced
 * content (appends and truncations since then are lost). For tests and simulations.
 *
 * <p>Not thread-safe.
 */
public final class InMemoryReplicaLog implements ReplicaLog {
    private final List<Entry> entries = new ArrayList<>();
    private EpochHistory history = EpochHistory.empty();
    private final List<Entry> durable = new ArrayList<>();
    /** The lowest offset changed since the last sync. */
    private long dirtyFrom = Long.MAX_VALUE;

    @Override
    public long logEndOffset() {
        return entries.size();
    }

    @Override
    public EpochHistory epochHistory() {
        return history;
    }

    @Override
    public void append(List<Entry> batch) {
        long expected = entries.size();
        long lastEpoch = history.lastEpoch();
        for (Entry e : batch) {
            if (e.offset() != expected++ || e.epoch() < lastEpoch) {
                throw new IllegalArgumentException(
                        "entry " + e + " does not follow " + entries.size() + "@" + lastEpoch);
            }
            lastEpoch = e.epoch();
        }
        dirtyFrom = Math.min(dirtyFrom, entries.size());
        for (Entry e : batch) {
            history = history.withEntry(e.epoch(), e.offset());
            entries.add(e);
        }
    }

    @Override
    public void truncate(long newEnd) {
        if (newEnd < 0 || newEnd > entries.size()) {
            throw new IllegalArgumentException("cannot truncate to " + newEnd + " a log ending at " + entries.size());
        }
        entries.subList((int) newEnd, entries.size()).clear();
        history = history.truncatedTo(newEnd);
        dirtyFrom = Math.min(dirtyFrom, newEnd);
    }

    @Override
    public List<Entry> read(long from, int maxEntries, long maxBytes) {
        List<Entry> batch = new ArrayList<>();
        long bytes = 0;
        for (long o = from; o < entries.size() && batch.size() < maxEntries; o++) {
            Entry e = entries.get((int) o);
            bytes += e.sizeInBytes();
            if (!batch.isEmpty() && bytes > maxBytes) {
                break;
            }
            batch.add(e);
        }
        return batch;
    }

    /** Makes the current content durable; returns the durable end offset. */
    public long sync() {
        if (dirtyFrom != Long.MAX_VALUE) {
            int keep = (int) Math.min(dirtyFrom, durable.size());
            durable.subList(keep, durable.size()).clear();
            durable.addAll(entries.subList(keep, entries.size()));
            dirtyFrom = Long.MAX_VALUE;
        }
        return entries.size();
    }

    /**
     * Opens the log again after a process crash: what the page cache held is read back and forced before the log
     * is used, as {@code SegmentedLog.open} does.
     */
    public void reopen() {
        sync();
    }

    /**
     * Opens the log again without forcing what it finds: the content is read back and counts as clean, but only
     * the last synced content survives a later {@link #powerLoss()}. This is how {@code SegmentedLog.open} behaved
     * before it forced the records it found (issue 12, defect 1); the simulation reintroduces it to show that it
     * catches the acknowledged writes this loses.
     *
     * <p>For mutation tests only: this deliberately reintroduces that defect. A log meant to behave like a correct
     * {@code SegmentedLog} must use {@link #reopen()}.
     */
    public void reopenWithoutForcing() {
        dirtyFrom = Long.MAX_VALUE;
    }

    /** The end of the prefix that is durable and equal to the current content. */
    public long durablePrefix() {
        return Math.min(dirtyFrom, durable.size());
    }

    /** The machine lost power: everything not synced is gone. */
    public void powerLoss() {
        entries.clear();
        history = EpochHistory.empty();
        for (Entry e : durable) {
            history = history.withEntry(e.epoch(), e.offset());
            entries.add(e);
        }
        dirtyFrom = Long.MAX_VALUE;
    }

    /** The entry at {@code offset}. */
    public Entry get(long offset) {
        return entries.get((int) offset);
    }
}
