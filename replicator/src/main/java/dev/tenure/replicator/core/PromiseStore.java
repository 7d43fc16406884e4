package dev.tenure.replicator.core;

import java.io.IOException;

/**
 * Durable storage of a replica's {@link Promise}. {@link #store} is durable when it returns.
 *
 * <p>Implementations need not be thread-safe: a replica loads its promise once while it is built and stores it on its
 * event thread. A failure to load fails the replica's construction; a failure to store stops the replica (fail-stop)
 * before the new promise is acted on.
 */
public interface PromiseStore {
    /** The stored promise, or {@link Promise#NONE} if none was stored. */
    Promise load() throws IOException;

    /** Durably replaces the stored promise. */
    void store(Promise promise) throws IOException;
}
