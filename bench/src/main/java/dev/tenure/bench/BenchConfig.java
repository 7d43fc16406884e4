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
package dev.tenure.bench;

import com.google.common.base.Preconditions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What one benchmark run does.
 *
 * @param inflight the in-flight levels, each run in turn on both sides (default 1, 64, 256)
 * @param warmup how long each side runs at each level before measuring (default 3 s)
 * @param duration how long each side is measured at each level (default 10 s)
 * @param valueBytes the size of every written value (default 100)
 * @param dataDir where the replicas' files go (a fresh subdirectory, deleted afterwards); null for the
 *     system temp directory
 * @param unsafeNoFsync skip every fsync, on both sides (Tenure's {@code UNSAFE_NO_FSYNC} and ZooKeeper's
 *     {@code zookeeper.forceSync=no}); off by default
 * @param zooKeeperServer which ZooKeeper server the baseline's client connects to (default the quorum
 *     leader)
 */
record BenchConfig(
        List<Integer> inflight,
        Duration warmup,
        Duration duration,
        int valueBytes,
        Path dataDir,
        boolean unsafeNoFsync,
        ZooKeeperServer zooKeeperServer) {

    /**
     * Where the baseline's client connects. The Tenure side proposes on its leader with no network hop, so
     * by default ZooKeeper gets its best case too: a client on the quorum leader, whose writes need no
     * forwarding. A client on a follower is what most ZooKeeper clients get (the follower forwards every
     * write to the leader).
     */
    enum ZooKeeperServer {
        LEADER,
        FOLLOWER
    }

    /** The largest value accepted: well under ZooKeeper's 1 MiB packet limit and Tenure's 1 MiB batch. */
    static final int MAX_VALUE_BYTES = 512 * 1024;

    /** Tenure refuses more than this many outstanding proposals (its default maxPendingProposals). */
    static final int MAX_INFLIGHT = 10_000;

    BenchConfig {
        inflight = List.copyOf(inflight);
        Preconditions.checkArgument(!inflight.isEmpty(), "at least one in-flight level is needed");
        for (int n : inflight) {
            Preconditions.checkArgument(
                    n >= 1 && n <= MAX_INFLIGHT, "in-flight levels must be in 1..%s, was %s", MAX_INFLIGHT, n);
        }
        Preconditions.checkNotNull(zooKeeperServer, "zooKeeperServer");
        Preconditions.checkArgument(!warmup.isNegative(), "warm-up must be >= 0, was %s", warmup);
        Preconditions.checkArgument(
                !duration.isNegative() && !duration.isZero(), "duration must be > 0, was %s", duration);
        Preconditions.checkArgument(
                valueBytes >= 1 && valueBytes <= MAX_VALUE_BYTES,
                "value size must be in 1..%s bytes, was %s",
                MAX_VALUE_BYTES,
                valueBytes);
    }

    int maxInflight() {
        return inflight.stream().mapToInt(Integer::intValue).max().orElseThrow();
    }
}
