package dev.tenure.recipes;

import java.io.IOException;

/**
 * Durable storage of the highest epoch an {@link EpochFence} has admitted.
 *
 * <p>{@link #store(long)} must be durable when it returns (a crash right after it must not lose the
 * value) and atomic (a crash during it leaves the previous or the new value, never a mix). Called by one
 * thread at a time.
 */
public interface EpochStore {
    /** The stored epoch, or 0 if none was ever stored. */
    long load() throws IOException;

    /** Durably replaces the stored epoch. */
    void store(long epoch) throws IOException;
}
