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
package dev.tenure.replicator.transport;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;

/** Where each replica's replication endpoint is; looked up again on every (re)connect. Thread-safe. */
public interface PeerDirectory {
    /** The address of {@code replicaId}'s replication endpoint, or empty if it is not known. */
    Optional<InetSocketAddress> addressOf(String replicaId);

    /** A fixed directory. */
    static PeerDirectory of(Map<String, InetSocketAddress> addresses) {
        Map<String, InetSocketAddress> copy = Map.copyOf(addresses);
        return id -> Optional.ofNullable(copy.get(id));
    }
}
