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

/**
 * An {@link EpochStore} in memory: for tests, or for resources whose state does not outlive the process.
 *
 * <p>Thread-safe: the epoch is a volatile field. Never throws; the value is lost with the process.
 */
public final class InMemoryEpochStore implements EpochStore {
    private volatile long epoch;

    @Override
    public long load() {
        return epoch;
    }

    @Override
    public void store(long epoch) {
        this.epoch = epoch;
    }
}
