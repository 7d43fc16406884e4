/*
 * Copyright 2026 The Tenure authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     https://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
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
