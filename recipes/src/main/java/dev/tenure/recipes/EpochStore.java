package dev.tenure.recipes;

import java.io.IOException;

/**
 * Durable storage of the highest epoch an {@link EpochFence} has admitted.
 *
 * <p>{@link #store(long)} must be durable when it returns (a crash right after it must not lose the
 * value) and atomic (a crash during it leaves the previous or the new value, never a mix).
 *
 * <p>Implementations need not be thread-safe: callers serialise their calls. Both methods throw {@link IOException}
 * when the storage fails; a failed {@link #store(long)} leaves the previous or the new value.
 */
public interface EpochStore {
    /** The stored epoch, or 0 if none was ever stored. */
    long load() throws IOException;

    /** Durably replaces the stored epoch. */
    void store(long epoch) throws IOException;
}
