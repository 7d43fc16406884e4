package dev.tenure.replicator.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ReplicaLog} in memory that models durability: {@link #sync()} makes the current content
 * durable, {@link #crash()} reverts to the last synced content (appends and truncations since then are
 * lost, as after a power failure). For tests and simulations.
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

    /** Loses everything not synced. */
    public void crash() {
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
