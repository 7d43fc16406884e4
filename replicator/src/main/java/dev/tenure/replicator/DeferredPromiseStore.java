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
package dev.tenure.replicator;

import dev.tenure.replicator.core.PromiseStore;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link PromiseStore} whose {@link #store} returns once the promise is written, before it is durable: it is made
 * durable together with other writes, by one force (a node's write-ahead log, where the promises of every partition
 * on the node share the forces of their log appends, as TiKV keeps its raft state in raft-engine).
 *
 * <p>Nothing may act on a promise before it is durable: a replica with such a store holds every action of a step that
 * stored a promise, and of every later step, until {@link #syncAsync()} completes, and then runs them in order
 * (docs/replication.md, "A promise is durable before anything leaves the replica"). The log's writes of those steps go
 * to the same write-ahead log after the promise, so they are never durable without it.
 *
 * <p>Thread-safety as {@link PromiseStore}; {@link #syncAsync()} may be called from any thread.
 */
public interface DeferredPromiseStore extends PromiseStore {
    /**
     * Completes once every promise stored before the call is durable; at once if it is already. Completes
     * exceptionally if it cannot be made durable (the storage failed or closed): the replica must then stop. Never
     * blocks; the future may complete on a storage thread, so its callbacks must be short.
     */
    CompletableFuture<Void> syncAsync();
}
