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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fast failover, the core's part (docs/replication.md, "Fast failover"): a follower reports its leader suspected
 * after the suspicion timeout of silence, not before the minimum term, once per epoch, and withdraws the suspicion
 * when it hears from the leader again or the epoch moves on.
 */
class FastFailoverTest {
    private static List<Action.LeaderSuspected> suspicions(ScriptedCluster c, String id) {
        return c.actionsOf(id, Action.LeaderSuspected.class);
    }

    private static List<Action.SuspicionCleared> clearances(ScriptedCluster c, String id) {
        return c.actionsOf(id, Action.SuspicionCleared.class);
    }

    private static ScriptedCluster ledByA(long suspicionMs, long minimumTermMs) {
        ScriptedCluster c = ScriptedCluster.withFastFailover(suspicionMs, minimumTermMs, "a", "b", "c");
        c.elect("a", 1);
        c.settle();
        return c;
    }

    @Test
    void aFollowerSuspectsASilentLeaderOnceAfterTheSuspicionTimeout() {
        ScriptedCluster c = ledByA(1000, 0);
        c.processCrash("a");
        for (int i = 0; i < 9; i++) {
            c.tick(100);
        }
        assertEquals(List.of(), suspicions(c, "b"), "900 ms of silence is below the timeout");
        c.tick(100);
        c.tick(100);
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "b"));
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "c"));
        for (int i = 0; i < 50; i++) {
            c.tick(100);
        }
        assertEquals(1, suspicions(c, "b").size(), "reported once per epoch");
    }

    @Test
    void aReplicaHoldingOnlyAFloorSuspectsTheUnknownLeaderOfThatEpochAfterTheSilence() {
        ScriptedCluster c = ScriptedCluster.withFastFailover(500, 0, "a", "b", "c");
        c.preload("c", 5); // restarted after the leader of epoch 5 was elected; it never heard from that leader
        for (int i = 0; i < 4; i++) {
            c.tick(100);
        }
        assertEquals(List.of(), suspicions(c, "c"), "400 ms of silence is below the timeout");
        c.tick(100);
        c.tick(100);
        assertEquals(List.of(new Action.LeaderSuspected(5, "")), suspicions(c, "c"));
        assertEquals(List.of(), suspicions(c, "b"), "a replica with no epoch at all has nothing to suspect");
    }

    @Test
    void aFloorsSuspicionIsWithdrawnWhenTheLeaderOfThatEpochIsHeard() {
        ScriptedCluster c = ScriptedCluster.withFastFailover(500, 0, "a", "b", "c");
        c.preload("c", 5);
        for (int i = 0; i < 6; i++) {
            c.tick(100);
        }
        assertEquals(1, suspicions(c, "c").size());
        c.elect("a", 5);
        c.settle();
        assertEquals(new Promise(5, "a"), c.node("c").promises.load(), "the leader of epoch 5 is followed");
        assertEquals(List.of(new Action.SuspicionCleared(5)), clearances(c, "c"));
    }

    @Test
    void aHealthyLeaderIsNeverSuspected() {
        ScriptedCluster c = ledByA(300, 0);
        for (int i = 0; i < 100; i++) {
            c.tick(100);
        }
        assertEquals(List.of(), suspicions(c, "b"));
        assertEquals(List.of(), suspicions(c, "c"));
    }

    @Test
    void noLeaderIsSuspectedBeforeTheMinimumTerm() {
        ScriptedCluster c = ledByA(500, 3000);
        c.processCrash("a");
        for (int i = 0; i < 29; i++) {
            c.tick(100);
        }
        assertEquals(List.of(), suspicions(c, "b"), "2.9 s into a term with a 3 s minimum");
        c.tick(100);
        c.tick(100);
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "b"));
    }

    @Test
    void hearingFromTheLeaderAgainClearsTheSuspicion() {
        ScriptedCluster c = ledByA(500, 0);
        c.cut("a", "b");
        for (int i = 0; i < 7; i++) {
            c.tick(100);
        }
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "b"));
        assertEquals(List.of(), suspicions(c, "c"), "c still hears the leader");
        c.healAll();
        c.tick(100);
        assertEquals(List.of(new Action.SuspicionCleared(1)), clearances(c, "b"));
        c.cut("a", "b");
        for (int i = 0; i < 7; i++) {
            c.tick(100);
        }
        assertEquals(2, suspicions(c, "b").size(), "suspected again after a new silence");
    }

    @Test
    void withFastFailoverOffNothingIsEverSuspected() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        c.processCrash("a");
        c.connectionRefused("b", "a");
        for (int i = 0; i < 60; i++) {
            c.tick(1000);
        }
        assertEquals(List.of(), suspicions(c, "b"));
        assertEquals(List.of(), suspicions(c, "c"));
    }

    @Test
    void aRefusedConnectionToTheLeaderLetsTheFollowerSuspectAtOnceButNotBeforeTheMinimumTerm() {
        ScriptedCluster c = ledByA(5000, 1000);
        c.processCrash("a");
        c.connectionRefused("b", "c");
        c.connectionRefused("b", "a");
        assertEquals(List.of(), suspicions(c, "b"), "the term is younger than the minimum term");
        for (int i = 0; i < 10; i++) {
            c.tick(100);
        }
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "b"), "at the minimum term");
        assertEquals(List.of(), suspicions(c, "c"), "c was given no hint and the timeout has not passed");
        c.connectionRefused("c", "a");
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "c"), "at once");
    }

    @Test
    void aNewEpochWithdrawsTheSuspicionOfTheOldOne() {
        ScriptedCluster c = ledByA(500, 0);
        c.processCrash("a");
        for (int i = 0; i < 6; i++) {
            c.tick(100);
        }
        assertEquals(1, suspicions(c, "b").size());
        c.elect("b", 2);
        c.settle();
        assertEquals(List.of(new Action.SuspicionCleared(1)), clearances(c, "b"), "elected");
        assertEquals(List.of(new Action.SuspicionCleared(1)), clearances(c, "c"), "promised epoch 2");
        for (int i = 0; i < 20; i++) {
            c.tick(100);
        }
        assertEquals(1, suspicions(c, "c").size(), "b leads and heartbeats: epoch 2 is not suspected");
    }

    @Test
    void aQuietLeaderWhoseNodeIsHeardIsNotSuspected() {
        ScriptedCluster c = ScriptedCluster.withQuiescence("a", "b", "c");
        c.suspicionMs = 500;
        for (String id : List.of("a", "b", "c")) {
            c.processCrash(id);
            c.restart(id);
        }
        c.elect("a", 1);
        c.settle();
        c.propose("a", "x");
        c.settle();
        for (int i = 0; i < 30; i++) {
            c.node("b").core.heard("a", c.now()); // the node transport's ping from a's node
            c.tick(100);
        }
        assertTrue(c.node("a").core.quiescent(), "the leader went quiet");
        assertEquals(List.of(), suspicions(c, "b"), "heard through the node's pings");
        assertEquals(1, suspicions(c, "c").size(), "c hears nothing: a quiet leader is silent");
    }

    @Test
    void aDeadLeadersNodeHeardOnlyBeforeItDiedNeverWithdrawsTheSuspicion() {
        ScriptedCluster c = ledByA(1000, 0);
        long lastHeard = c.now();
        c.processCrash("a");
        for (int i = 0; i < 40; i++) {
            c.node("b").core.heard("a", lastHeard); // the node's last hearing of a's node, reported at every tick
            c.tick(100);
        }
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "b"), "suspected once, kept");
        assertEquals(List.of(), clearances(c, "b"), "a hearing from before the silence is no news");
        c.node("b").core.heard("a", c.now()); // a's node is heard again
        c.tick(100);
        assertEquals(List.of(new Action.SuspicionCleared(1)), clearances(c, "b"), "a later hearing is news");
    }

    @Test
    void aRefusedLeadersNodeHeardOnlyBeforeTheRefusalStaysSuspected() {
        ScriptedCluster c = ledByA(1000, 0);
        long crashedAt = c.now();
        c.processCrash("a");
        c.tick(100);
        c.tick(100);
        c.connectionRefused("b", "a");
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "b"), "at once");
        for (int i = 0; i < 40; i++) {
            // The node heard a's node after b's log last did (a ping, another partition) but before the refusal.
            c.node("b").core.heard("a", crashedAt + 50_000_000L);
            c.tick(100);
        }
        assertEquals(List.of(new Action.LeaderSuspected(1, "a")), suspicions(c, "b"), "suspected once, kept");
        assertEquals(List.of(), clearances(c, "b"), "a hearing from before the refusal is no news");
        c.node("b").core.heard("a", c.now());
        c.tick(100);
        assertEquals(List.of(new Action.SuspicionCleared(1)), clearances(c, "b"), "a hearing after it is");
    }

    @Test
    void learnersNeverSuspect() {
        ScriptedCluster c = ScriptedCluster.withVoters(List.of("a", "b", "c"), "a", "b", "c", "d");
        c.suspicionMs = 500;
        for (String id : List.of("a", "b", "c", "d")) {
            c.processCrash(id);
            c.restart(id);
        }
        Configuration withLearner = new Configuration(1, List.of("a", "b", "c"), List.of(), List.of("d"));
        c.configureAll(withLearner);
        c.elect("a", 2, withLearner);
        c.settle();
        assertEquals(2, c.node("d").core.epoch(), "the learner promised the epoch");
        c.processCrash("a");
        for (int i = 0; i < 20; i++) {
            c.tick(100);
        }
        assertEquals(List.of(), suspicions(c, "d"));
        assertEquals(1, suspicions(c, "b").size());
    }

    @Test
    void aSuspicionTimeoutShorterThanTwoHeartbeatsIsRefused() {
        CoreConfig.Builder b =
                CoreConfig.builder("a", List.of("a", "b", "c")).heartbeatInterval(Duration.ofMillis(100));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> b.fastFailover(Duration.ofMillis(150), Duration.ZERO).build());
        assertTrue(e.getMessage().contains("suspicion timeout"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> b.fastFailover(Duration.ofMillis(500), Duration.ofMillis(-1))
                        .build());
    }
}
