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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.harness.ChildProcess;
import dev.tenure.harness.Links;
import dev.tenure.harness.StatusProbe;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The nemesis against replicas that host several partitions: "the leader" is the node leading the most partitions,
 * and the injection names the partitions the replica it hit led. Link faults only: nothing is started.
 */
class NemesisPartitionsTest {
    /** Three nodes, r2 leading partitions 0, 2 and 3, r1 partition 1; records the links it is asked to cut. */
    private static final class PartitionedTarget implements FaultTarget {
        final Links links = new Links();
        final List<String> cutZooKeeper = new ArrayList<>();
        final List<String> cutReplication = new ArrayList<>();
        final Map<String, StatusProbe.PartitionLeader> leaders = new LinkedHashMap<>();
        Optional<StatusProbe.ControllerSeen> controller = Optional.empty();

        PartitionedTarget() {
            leaders.put("0", new StatusProbe.PartitionLeader("r2", 4));
            leaders.put("1", new StatusProbe.PartitionLeader("r1", 2));
            leaders.put("2", new StatusProbe.PartitionLeader("r2", 3));
            leaders.put("3", new StatusProbe.PartitionLeader("r2", 5));
        }

        @Override
        public List<String> ids() {
            return List.of("r1", "r2", "r3");
        }

        @Override
        public Optional<String> leader() {
            throw new AssertionError("with partitions the nemesis reads the partitions' leaders once");
        }

        @Override
        public Map<String, StatusProbe.PartitionLeader> partitionLeaders() {
            return leaders;
        }

        @Override
        public Optional<StatusProbe.ControllerSeen> controller() {
            return controller;
        }

        @Override
        public ChildProcess replica(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void startReplica(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public URI baseUrl(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Path dataDir(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int zooKeeperServers() {
            return 3;
        }

        @Override
        public int zooKeeperQuorumLeader() {
            return 1;
        }

        @Override
        public void killZooKeeper(int server) {}

        @Override
        public void restartZooKeeper(int server) {}

        @Override
        public void expireSession(String id) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void cutZooKeeper(String id) {
            cutZooKeeper.add(id);
        }

        @Override
        public void cutReplication(String a, Collection<String> others) {
            cutReplication.add(a);
        }

        @Override
        public Links links() {
            return links;
        }
    }

    @Test
    void isolatingTheLeaderIsolatesTheNodeLeadingTheMostPartitionsAndNamesThem() throws Exception {
        PartitionedTarget bed = new PartitionedTarget();
        Nemesis.Injection i =
                new Nemesis(bed, Duration.ofSeconds(4), 1).inject(new FaultPlan.Fault(FaultKind.ISOLATE_REPLICA, true));
        assertEquals(List.of("r2"), bed.cutZooKeeper);
        assertEquals(List.of("r2"), bed.cutReplication);
        assertEquals(Optional.of("r2"), i.target());
        assertEquals(List.of("0", "2", "3"), i.partitionsLedByTarget());
        assertEquals(bed.leaders, i.partitionLeaders());
        assertTrue(i.description().contains("r2 (leader of 3 partitions: 0, 2, 3)"), "names the partitions: " + i);
        i.heal();
    }

    @Test
    void cuttingTheLeaderFromTheOthersCutsTheMostLeadingNodeAndAZooKeeperFaultHitsNoReplica() throws Exception {
        PartitionedTarget bed = new PartitionedTarget();
        bed.leaders.put("0", new StatusProbe.PartitionLeader("r1", 6));
        bed.leaders.put("2", new StatusProbe.PartitionLeader("r1", 7));
        Nemesis nemesis = new Nemesis(bed, Duration.ofSeconds(4), 2);
        Nemesis.Injection cut = nemesis.inject(new FaultPlan.Fault(FaultKind.CUT_LEADER_FROM_FOLLOWERS, true));
        assertEquals(List.of("r1"), bed.cutReplication);
        assertEquals(List.of("0", "1", "2"), cut.partitionsLedByTarget());
        assertTrue(cut.description().contains("r1 (leader of 3 partitions: 0, 1, 2)"), cut.description());

        Nemesis.Injection zk = nemesis.inject(new FaultPlan.Fault(FaultKind.KILL_ZK_LEADER, true));
        assertEquals(Optional.empty(), zk.target());
        assertEquals(List.of(), zk.partitionsLedByTarget());
    }

    @Test
    void aControllerFaultHitsTheNodeNamedControllerNotTheMostLeadingOneAndWithoutAControllerNothingIsInjected()
            throws Exception {
        PartitionedTarget bed = new PartitionedTarget();
        Nemesis nemesis = new Nemesis(bed, Duration.ofSeconds(4), 3);
        Nemesis.Injection none = nemesis.inject(new FaultPlan.Fault(FaultKind.CUT_CONTROLLER_FROM_ZOOKEEPER, true));
        assertEquals(List.of(), bed.cutZooKeeper, "no controller known: nothing cut");
        assertEquals(Optional.empty(), none.controller());
        assertTrue(none.description().contains("not injected"), none.description());

        bed.controller = Optional.of(new StatusProbe.ControllerSeen("r1", 3));
        Nemesis.Injection cut = nemesis.inject(new FaultPlan.Fault(FaultKind.CUT_CONTROLLER_FROM_ZOOKEEPER, true));
        assertEquals(List.of("r1"), bed.cutZooKeeper, "the controller, not r2 which leads the most");
        assertEquals(List.of(), bed.cutReplication, "ZooKeeper only");
        assertEquals(Optional.of(new StatusProbe.ControllerSeen("r1", 3)), cut.controller());
        assertEquals(Optional.of("r1"), cut.target());
        assertEquals(List.of("1"), cut.partitionsLedByTarget());
        assertTrue(cut.description().contains("r1 (controller r1@3; leader of partition 1)"), cut.description());
        assertTrue(cut.hold().compareTo(Duration.ofSeconds(4)) > 0, "past the session timeout: " + cut.hold());
        cut.heal();
    }
}
