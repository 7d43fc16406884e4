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

import static dev.tenure.replicator.core.ScriptedCluster.Outcome.COMMITTED;
import static dev.tenure.replicator.core.ScriptedCluster.Outcome.PENDING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Membership change in the core, scripted message by message (docs/replication.md, "Membership change"): joint
 * quorums while a change is in progress, activation, learners, removal.
 */
class MembershipChangeTest {
    private static final Configuration ABC = Configuration.initial(List.of("a", "b", "c"));
    /** Replacing c by d: the voters a, b, d, and while the change is in progress also a majority of a, b, c. */
    private static final Configuration JOINT_ABD =
            new Configuration(1, List.of("a", "b", "d"), ABC.voters(), List.of());

    /** a, b, c created the log; d is a spare outside it. a leads epoch 1 and commits two entries. */
    private static ScriptedCluster running() {
        ScriptedCluster c = ScriptedCluster.withVoters(ABC.voters(), "a", "b", "c", "d");
        c.elect("a", 1);
        c.settle();
        c.propose("a", "x1");
        c.propose("a", "x2");
        c.settle();
        c.tick(200);
        return c;
    }

    @Test
    void jointQuorumsNeedAMajorityOfBothTheVotersAndThePreviousVoters() {
        assertTrue(JOINT_ABD.hasQuorum(id -> List.of("a", "b").contains(id)), "a, b: a majority of both");
        assertFalse(JOINT_ABD.hasQuorum(id -> List.of("a", "d").contains(id)), "a, d: not a majority of a, b, c");
        assertFalse(JOINT_ABD.hasQuorum(id -> List.of("a", "c").contains(id)), "a, c: not a majority of a, b, d");
        assertTrue(JOINT_ABD.hasQuorum(id -> List.of("a", "c", "d").contains(id)));
        assertEquals(
                5,
                JOINT_ABD.quorumOffset(Map.of("a", 9L, "b", 1L, "c", 5L, "d", 7L)),
                "new: a, d hold 7; previous: a, c hold 5; the lower counts");
        assertEquals(7, JOINT_ABD.activated().quorumOffset(Map.of("a", 9L, "b", 1L, "c", 5L, "d", 7L)));
    }

    @Test
    void aConfigurationRefusesOverlappingOrEmptyRoles() {
        assertThrows(IllegalArgumentException.class, () -> new Configuration(0, List.of(), List.of(), List.of()));
        assertThrows(
                IllegalArgumentException.class, () -> new Configuration(1, List.of("a", "b"), List.of(), List.of("b")));
        assertThrows(
                IllegalArgumentException.class, () -> new Configuration(1, List.of("a", "a"), List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Configuration(-1, List.of("a"), List.of(), List.of()));
        assertThrows(IllegalStateException.class, ABC::activated, "nothing to activate");
    }

    @Test
    void aLeaderOfAJointConfigurationNeedsPromisesFromAMajorityOfBothSets() {
        ScriptedCluster c = running();
        c.configureAll(JOINT_ABD);
        c.resign("a");
        c.cut("d", "b");
        c.cut("d", "c");
        c.isolate("b"); // d leads: it reaches a (a majority of a, b, d with itself) but not a majority of a, b, c
        c.elect("d", 3, JOINT_ABD);
        c.settle();
        c.tick(50);
        assertEquals(Role.RECOVERING, c.node("d").core.role(), "d and a are no majority of a, b, c");
        c.healAll();
        c.tick(300); // NewEpoch is repeated
        c.settle();
        assertEquals(Role.LEADER, c.node("d").core.role());
        assertEquals(
                c.node("a").entries(),
                c.node("d").entries().subList(0, c.node("a").entries().size()));
    }

    @Test
    void commitsDuringAChangeNeedAMajorityOfBothSetsAndTheLeaderThenAsksToActivate() {
        ScriptedCluster c = running();
        c.configureAll(JOINT_ABD);
        c.resign("a");
        c.elect("a", 3, JOINT_ABD);
        c.settle();
        c.tick(200);
        assertEquals(Role.LEADER, c.node("a").core.role());
        List<Action.ActivateConfiguration> asks = c.actionsOf("a", Action.ActivateConfiguration.class);
        assertEquals(List.of(new Action.ActivateConfiguration(3, JOINT_ABD)), asks, "asked once, for its epoch");

        c.isolate("b");
        c.isolate("c"); // a and d: a majority of a, b, d only
        long m = c.propose("a", "y");
        c.settle();
        c.tick(200);
        assertEquals(PENDING, c.outcomes.get(m), "no majority of the previous voters holds it");

        c.configureAll(JOINT_ABD.activated()); // the configuration master activated the change
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(m), "activated: a and d are a majority of the voters");
        assertEquals(1, c.actionsOf("a", Action.ActivateConfiguration.class).size(), "asked once");
    }

    @Test
    void aJointLeaderKilledAfterItsPromisesBeforeItsStartCommitsLeavesTheChangeToTheNextAndLosesNothing() {
        ScriptedCluster c = running();
        List<String> committedBefore = c.node("a").entries();
        c.configureAll(JOINT_ABD);
        c.resign("a");
        c.elect("b", 3, JOINT_ABD);
        c.deliverAll(Message.NewEpoch.class);
        for (String id : List.of("a", "c", "d")) {
            c.sync(id); // a promise is answered once the log is durable
        }
        c.deliverAll(Message.EpochAck.class); // b holds its promises from both majorities
        assertTrue(c.node("b").core.role() != Role.FOLLOWER);
        c.hold(m -> true); // what it sends next (a fetch, its epoch-start entry) goes nowhere
        c.processCrash("b");
        assertTrue(c.actionsOf("b", Action.ActivateConfiguration.class).isEmpty(), "b never committed its start");
        c.elect("d", 4, JOINT_ABD); // a voter of the new set leads the next epoch, still joint
        c.settle();
        c.tick(200);
        assertEquals(Role.LEADER, c.node("d").core.role());
        assertEquals(
                List.of(new Action.ActivateConfiguration(4, JOINT_ABD)),
                c.actionsOf("d", Action.ActivateConfiguration.class));
        assertEquals(committedBefore, c.node("d").entries().subList(0, committedBefore.size()), "nothing lost");
    }

    @Test
    void anActivationNeverWrittenIsAskedForAgainByTheNextJointLeader() {
        ScriptedCluster c = running();
        c.configureAll(JOINT_ABD);
        c.resign("a");
        c.elect("a", 3, JOINT_ABD);
        c.settle();
        c.tick(200);
        assertEquals(1, c.actionsOf("a", Action.ActivateConfiguration.class).size());
        long m = c.propose("a", "before-crash");
        c.settle();
        c.tick(200);
        assertEquals(COMMITTED, c.outcomes.get(m));
        c.processCrash("a"); // died before the master was written: the configuration is still joint
        c.elect("b", 4, JOINT_ABD);
        c.settle();
        c.tick(200);
        assertEquals(
                List.of(new Action.ActivateConfiguration(4, JOINT_ABD)),
                c.actionsOf("b", Action.ActivateConfiguration.class));
        assertTrue(
                c.node("b").entries().contains("3:before-crash"),
                c.node("b").entries().toString());
    }

    @Test
    void aLearnerGetsTheLogButNeverCountsAndNeverLeads() {
        ScriptedCluster c = running();
        Configuration withLearner = new Configuration(1, ABC.voters(), List.of(), List.of("d"));
        c.configureAll(withLearner);
        c.settle();
        c.tick(200);
        assertEquals(c.node("a").entries(), c.node("d").entries(), "the learner received the log");

        c.isolate("b");
        c.isolate("c");
        long m = c.propose("a", "y");
        c.settle();
        c.tick(200);
        assertEquals(PENDING, c.outcomes.get(m), "a and the learner are no majority");
        assertEquals(c.node("a").entries(), c.node("d").entries(), "though the learner holds it");

        c.elect("d", 9);
        assertEquals(Role.FOLLOWER, c.node("d").core.role());
        assertEquals(1, c.actionsOf("d", Action.QuorumLost.class).size(), "a learner gives the term up at once");
    }

    @Test
    void aRemovedReplicaStopsAndTheOthersRefuseIt() {
        ScriptedCluster c = running();
        Configuration removeC = new Configuration(1, List.of("a", "b"), ABC.voters(), List.of());
        c.configureAll(removeC);
        c.elect("a", 3, removeC);
        c.settle();
        c.tick(200);
        assertEquals(1, c.actionsOf("a", Action.ActivateConfiguration.class).size());
        Configuration withoutC = removeC.activated();
        c.configureAll(withoutC);
        assertEquals(
                List.of(new Action.Removed(withoutC)), c.actionsOf("c", Action.Removed.class), "c learns it is out");
        // c, restarted with its old data and the configuration it was created with, tries to lead.
        c.restart("c");
        c.elect("c", 7);
        c.settle();
        assertEquals(3, c.node("a").core.epoch(), "a refuses c's NewEpoch: c is no member");
        assertEquals(3, c.node("b").core.epoch());
        assertEquals(Role.LEADER, c.node("a").core.role());
        long m = c.propose("a", "z");
        c.settle();
        c.tick(200);
        assertEquals(COMMITTED, c.outcomes.get(m), "a and b commit on their own");
    }

    @Test
    void aLeaderLeftOutOfTheNewVotersHandsOverOnActivation() {
        ScriptedCluster c = running();
        Configuration replaceA = new Configuration(1, List.of("b", "c", "d"), ABC.voters(), List.of());
        c.configureAll(replaceA);
        c.resign("a");
        c.elect("a", 3, replaceA); // a may lead the joint epoch: it is a previous voter
        c.settle();
        c.tick(200);
        assertEquals(Role.LEADER, c.node("a").core.role());
        assertEquals(1, c.actionsOf("a", Action.ActivateConfiguration.class).size());
        c.configureAll(replaceA.activated());
        assertEquals(Role.FOLLOWER, c.node("a").core.role(), "a is not a voter any more: it steps down");
        assertEquals(1, c.actionsOf("a", Action.Removed.class).size());
        c.elect("d", 4, replaceA.activated());
        c.settle();
        long m = c.propose("d", "after");
        c.settle();
        c.tick(200);
        assertEquals(COMMITTED, c.outcomes.get(m));
        assertEquals(c.node("b").entries(), c.node("d").entries());
    }

    @Test
    void aChangeOfTheVotersDuringATermMakesItsLeaderStepDown() {
        ScriptedCluster c = running();
        long m = c.propose("a", "late");
        c.configure("a", JOINT_ABD); // minted with a newer epoch: this term is over
        assertEquals(Role.FOLLOWER, c.node("a").core.role());
        assertEquals(ScriptedCluster.Outcome.UNKNOWN, c.outcomes.get(m), "in its log: the outcome is unknown");
    }

    @Test
    void anOlderConfigurationIsIgnored() {
        ScriptedCluster c = running();
        Configuration v2 = new Configuration(2, ABC.voters(), List.of(), List.of("d"));
        c.configure("a", v2);
        c.configure("a", new Configuration(1, List.of("a", "b"), List.of(), List.of()));
        assertEquals(v2, c.node("a").core.configuration());
        assertEquals(Role.LEADER, c.node("a").core.role());
    }
}
