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

import java.util.Objects;

/**
 * A replica's durable promise: it accepts messages of {@code epoch} only from {@code leader}, and none of
 * a lower epoch, also after a restart (HDFS QJM's {@code newEpoch}, Zab's acceptedEpoch).
 *
 * <p>Immutable and thread-safe. The constructor throws {@link IllegalArgumentException} for a negative epoch.
 */
public record Promise(long epoch, String leader) {
    /** No promise yet: epoch 0. */
    public static final Promise NONE = new Promise(0, "");

    /** Checks the epoch and the leader. */
    public Promise {
        Objects.requireNonNull(leader, "leader");
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0");
        }
    }
}
