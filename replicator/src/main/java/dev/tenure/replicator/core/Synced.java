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

/**
 * What a sync of a {@link ReplicaLog} made durable, as of the moment it finished: entries below {@code endOffset}
 * are durable, and the last of them has {@code epoch}. The two are read together (under the log's lock) so that
 * whoever reports the result to {@link ReplicaCore#logSynced} later can be told apart from a sync overtaken by a
 * truncation. Immutable and thread-safe.
 *
 * @param endOffset the durable end offset
 * @param epoch the epoch of the entry at {@code endOffset - 1} when the sync finished (0 for an empty log)
 */
public record Synced(long endOffset, long epoch) {}
