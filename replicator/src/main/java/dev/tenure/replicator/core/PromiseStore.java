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
    Promise load() throws IOException;

    void store(Promise promise) throws IOException;
}
