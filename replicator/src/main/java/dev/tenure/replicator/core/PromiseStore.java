package dev.tenure.replicator.core;

import java.io.IOException;

/** Durable storage of a replica's {@link Promise}. {@link #store} is durable when it returns. */
public interface PromiseStore {
    Promise load() throws IOException;

    void store(Promise promise) throws IOException;
}
