package dev.tenure.recipes;

/**
 * An {@link EpochStore} in memory: for tests, or for resources whose state does not outlive the process.
 *
 * <p>Thread-safe: the epoch is a volatile field. Never throws; the value is lost with the process.
 */
public final class InMemoryEpochStore implements EpochStore {
    private volatile long epoch;

    @Override
    public long load() {
        return epoch;
    }

    @Override
    public void store(long epoch) {
        this.epoch = epoch;
    }
}
