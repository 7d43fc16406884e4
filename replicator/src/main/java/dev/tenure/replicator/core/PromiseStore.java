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
