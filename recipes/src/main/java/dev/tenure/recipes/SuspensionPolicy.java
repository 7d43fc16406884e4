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
 * What a leader does when its ZooKeeper connection is {@code SUSPENDED} (Curator's state after a connection
 * loss, before the session is known to be lost). Immutable and thread-safe.
 */
public enum SuspensionPolicy {
    /**
     * Revoke the term at once (the default, and the safe choice): while suspended, the session may expire
     * and another participant may lead. When the connection comes back and this participant still holds
     * its latch or lock, it leads again with a newly minted, greater epoch.
     */
    REVOKE,
    /**
     * Keep the term until the session is {@code LOST}. Fewer hand-offs on flaky networks, but for up to a
     * session timeout this participant can believe it leads while another does: only fencing protects
     * resources then. With {@link ElectionBackend#LEADER_LATCH} the client must be built with Curator's
     * {@code SessionConnectionStateErrorPolicy}, or the latch itself gives up leadership on suspension.
     */
    WAIT_FOR_LOST
}
