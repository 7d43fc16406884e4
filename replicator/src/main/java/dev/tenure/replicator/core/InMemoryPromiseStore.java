package dev.tenure.replicator.core;

/** A {@link PromiseStore} in memory (durable across simulated crashes, which keep the object). */
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
