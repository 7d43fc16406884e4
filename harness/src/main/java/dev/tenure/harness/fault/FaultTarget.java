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
package dev.tenure.harness.fault;

import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.Links;
import dev.tenure.harness.StatusProbe;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the {@link Nemesis} injects faults into: replica processes, a ZooKeeper process ensemble and the links
 * between them ({@code verify}'s testbed). Implementations say which of their methods any thread may call; the
 * nemesis calls them from one thread.
 */
public interface FaultTarget {
    /** The replicas' ids. */
    List<String> ids();

    /**
     * The live replica that says it leads the highest epoch, if any; for replicas that host several partitions, the
     * node that leads the most partitions now (see {@link #partitionLeaders()}).
     */
    Optional<String> leader();

    /**
     * For replicas that host several partitions: each partition's leader now, by partition id (partitions without a
     * leader absent), as the live replicas' {@code /status} say ({@link StatusProbe#partitionLeadersOf}). Empty for a
     * single log, which is the default.
     */
    default Map<String, StatusProbe.PartitionLeader> partitionLeaders() {
        return Map.of();
    }

    /**
     * For replicas run with the controller: the node whose {@code /status} says it is the active controller, in the
     * highest controller epoch ({@link StatusProbe#controllerOf}); empty without the controller, which is the default.
     */
    default Optional<StatusProbe.ControllerSeen> controller() {
        return Optional.empty();
    }

    /** Replica {@code id}'s current process. */
    ChildProcess replica(String id);

    /** Starts replica {@code id}'s process again, from its files, with the same id and arguments. */
    void startReplica(String id) throws IOException;

    /** Replica {@code id}'s HTTP base URL, where its {@code /status} answers. */
    URI baseUrl(String id);

    /** Replica {@code id}'s data directory: everything it keeps on disk (log, snapshots, promise). */
    Path dataDir(String id);

    /** The number of ZooKeeper servers, numbered {@code 1..n}. */
    int zooKeeperServers();

    /** The ZooKeeper server that leads the quorum now. */
    int zooKeeperQuorumLeader() throws IOException, InterruptedException;

    /** SIGKILLs ZooKeeper server {@code server}. */
    void killZooKeeper(int server) throws IOException, InterruptedException;

    /** Restarts ZooKeeper server {@code server}. */
    void restartZooKeeper(int server) throws IOException, InterruptedException;

    /** Expires replica {@code id}'s ZooKeeper session. */
    void expireSession(String id) throws IOException, InterruptedException;

    /** Cuts replica {@code id} off from ZooKeeper only. */
    void cutZooKeeper(String id);

    /** Cuts the replication links between {@code a} and each of {@code others}, both ways. */
    void cutReplication(String a, Collection<String> others);

    /** The links this target's proxies consult; the nemesis heals them all. */
    Links links();
}
