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

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.common.PathUtils;

/**
 * The ZooKeeper node layout of one election path {@code P}:
 *
 * <pre>
 * P            PERSISTENT  created by Tenure
 * P/epoch      PERSISTENT  the epoch record: current epoch, its leader, the leader's node
 * P/election   CONTAINER   Curator's latch or lock nodes (EPHEMERAL_SEQUENTIAL), one per participant
 * P/suspicions CONTAINER   fast failover: P/suspicions/EPOCH (CONTAINER) / VOTER (EPHEMERAL), who suspects the
 *                          leader of EPOCH (written by the replicator, read by FencedLeaderElection.depose's callers)
 * </pre>
 *
 * The epoch lives outside Curator's container so that reaping or deleting the container never resets it.
 */
final class ElectionPaths {
    static final String EPOCH = "epoch";
    static final String ELECTION = "election";
    static final String SUSPICIONS = "suspicions";

    final String base;
    final String epoch;
    final String election;
    final String suspicions;

    private ElectionPaths(String base) {
        this.base = base;
        this.epoch = ZKPaths.makePath(base, EPOCH);
        this.election = ZKPaths.makePath(base, ELECTION);
        this.suspicions = ZKPaths.makePath(base, SUSPICIONS);
    }

    /**
     * @throws IllegalArgumentException if the path is not a valid ZooKeeper path or is the root
     */
    static ElectionPaths of(String base) {
        Preconditions.checkArgument(base != null, "election path must not be null");
        PathUtils.validatePath(base);
        Preconditions.checkArgument(!base.equals("/"), "election path must not be the root");
        return new ElectionPaths(base);
    }

    String child(String name) {
        return ZKPaths.makePath(election, name);
    }

    /** The sequence number of a latch or lock node name ({@code ...-latch-0000000007}), or -1. */
    static long sequenceOf(String name) {
        int dash = name.lastIndexOf('-');
        String digits = dash < 0 ? name : name.substring(dash + 1);
        if (digits.length() != 10) {
            return -1;
        }
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Participant node names, lowest sequence (the holder) first; names that are not nodes are dropped. */
    static List<String> sortedParticipants(Collection<String> children) {
        List<String> sorted = new ArrayList<>();
        for (String c : children) {
            if (sequenceOf(c) >= 0) {
                sorted.add(c);
            }
        }
        sorted.sort(Comparator.comparingLong(ElectionPaths::sequenceOf));
        return sorted;
    }
}
