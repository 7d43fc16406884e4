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

import java.util.Objects;

/** The current leader of an election path as {@link LeaderDiscovery} sees it. Immutable. */
public final class LeaderInfo {
    private final String id;
    private final String endpoint;
    private final long epoch;

    /** The leader {@code id}, the {@code endpoint} it registered for clients and its {@code epoch}. */
    public LeaderInfo(String id, String endpoint, long epoch) {
        this.id = Objects.requireNonNull(id, "id");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.epoch = epoch;
    }

    /** The leader's participant id. */
    public String id() {
        return id;
    }

    /** The endpoint the leader registered (an opaque string; empty if none). */
    public String endpoint() {
        return endpoint;
    }

    /** The epoch of the leader's current term. */
    public long epoch() {
        return epoch;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof LeaderInfo)) {
            return false;
        }
        LeaderInfo l = (LeaderInfo) o;
        return epoch == l.epoch && id.equals(l.id) && endpoint.equals(l.endpoint);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, endpoint, epoch);
    }

    @Override
    public String toString() {
        return id + (endpoint.isEmpty() ? "" : " at " + endpoint) + " (epoch " + epoch + ")";
    }
}
