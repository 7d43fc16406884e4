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

/**
 * A committed and applied proposal: its position and what the state machine returned for it. Immutable, but the
 * result is the state machine's object as it returned it.
 *
 * @param epoch the epoch it was written in
 * @param offset its offset
 * @param result the state machine's result, or null
 */
public record Committed(long epoch, long offset, Object result) {}
