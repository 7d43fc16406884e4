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
