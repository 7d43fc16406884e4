package dev.tenure.replicator.testing;

import dev.tenure.replicator.core.Promise;
import dev.tenure.replicator.core.PromiseStore;

/**
 * A {@link PromiseStore} in memory (durable across simulated crashes, which keep the object). For tests. Not
 * thread-safe: a replica calls it from one thread at a time. {@link #store} throws {@link IllegalStateException},
 * changing nothing, if the epoch would go back.
 */
public final class InMemoryPromiseStore implements PromiseStore {
    private Promise promise = Promise.NONE;

    @Override
    public Promise load() {
        return promise;
    }

    @Override
    public void store(Promise p) {
        if (p.epoch() < promise.epoch()) {
            throw new IllegalStateException("promise would go back from " + promise + " to " + p);
        }
        this.promise = p;
    }
}
