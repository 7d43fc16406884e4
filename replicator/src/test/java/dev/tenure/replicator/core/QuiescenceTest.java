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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message.Append;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Quiescence (CoreConfig.quiesce): an idle leader stops heartbeating once every follower holds its whole log and
 * knows the commit offset, wakes for anything new, and keeps check-quorum through the driver's node heartbeats.
 */
class QuiescenceTest {
    private static ScriptedCluster idleAfterOneWrite() {
        ScriptedCluster c = ScriptedCluster.withQuiescence("a", "b", "c");
        c.elect("a", 1);
        c.settle();
        long x = c.propose("a", "x");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(x));
        return c;
    }

    /** Ticks {@code ms} on every node and returns the appends the ticks sent (left in flight, then delivered). */
    private static List<Message> appendsOfOneTick(ScriptedCluster c, long ms) {
        c.tickOnly(ms);
        List<Message> sent =
                List.copyOf(c.inflight.stream().filter(Append.class::isInstance).toList());
        c.settle();
        return sent;
    }

    @Test
    void anIdleLeaderGoesQuietOnceEveryFollowerKnowsTheCommitOffset() {
        ScriptedCluster c = idleAfterOneWrite();
        List<Message> quieting = appendsOfOneTick(c, 100);
        assertEquals(2, quieting.size(), "one last heartbeat to each follower: " + quieting);
        for (Message m : quieting) {
            assertEquals(c.node("a").core.commitOffset(), ((Append) m).commitOffset());
        }
        assertTrue(c.node("a").core.quiescent());
        for (int i = 0; i < 20; i++) {
            assertEquals(List.of(), appendsOfOneTick(c, 100), "a quiet leader sends nothing");
        }
        for (String f : List.of("b", "c")) {
            assertEquals(c.node("a").core.commitOffset(), c.node(f).core.commitOffset(), f + " knows the commit");
            assertEquals(List.of("1:", "1:x"), c.node(f).entries());
        }
    }

    @Test
    void aLeaderWithAWriteEveryFewMillisecondsSendsNoHeartbeatBetweenThem() {
        ScriptedCluster c = idleAfterOneWrite();
        for (int i = 0; i < 30; i++) { // a write every 10 ms, each committed before the next tick
            long w = c.propose("a", "w" + i);
            c.settle();
            assertEquals(COMMITTED, c.outcomes.get(w));
            List<Message> sent = appendsOfOneTick(c, 10);
            assertEquals(List.of(), sent, "settled between writes, yet not idle for a heartbeat interval: " + sent);
            assertFalse(c.node("a").core.quiescent());
        }
        assertEquals(2, appendsOfOneTick(c, 100).size(), "idle for an interval: the last heartbeat, once");
        assertTrue(c.node("a").core.quiescent());
    }

    @Test
    void withoutQuiescenceAnIdleLeaderHeartbeatsEveryInterval() {
        ScriptedCluster c = new ScriptedCluster("a", "b", "c");
        c.elect("a", 1);
        c.propose("a", "x");
        c.settle();
        for (int i = 0; i < 5; i++) {
            assertEquals(2, appendsOfOneTick(c, 100).size());
        }
        assertFalse(c.node("a").core.quiescent());
    }

    @Test
    void aQuietLeaderWakesForANewWriteAndGoesQuietAgainWithTheNewCommit() {
        ScriptedCluster c = idleAfterOneWrite();
        appendsOfOneTick(c, 100);
        assertTrue(c.node("a").core.quiescent());
        long y = c.propose("a", "y");
        assertFalse(c.node("a").core.quiescent(), "a proposal wakes it");
        c.settle();
        assertEquals(COMMITTED, c.outcomes.get(y));
        List<Message> quieting = appendsOfOneTick(c, 100);
        assertEquals(2, quieting.size(), "a new last heartbeat carries the new commit offset");
        assertTrue(c.node("a").core.quiescent());
        for (String f : List.of("b", "c")) {
            assertEquals(c.node("a").core.commitOffset(), c.node(f).core.commitOffset());
        }
    }

    @Test
    void aLostLastHeartbeatIsResentUntilTheFollowerAnswersIt() {
        ScriptedCluster c = idleAfterOneWrite();
        c.tickOnly(100);
        List<Message> lost = c.hold(m -> m instanceof Append && m.to().equals("b"));
        assertEquals(1, lost.size());
        c.settle();
        assertFalse(c.node("a").core.quiescent(), "b has not answered the last heartbeat");
        List<Message> again = appendsOfOneTick(c, 100);
        assertEquals(List.of("b"), again.stream().map(Message::to).toList(), "resent to b only");
        assertTrue(c.node("a").core.quiescent());
        assertEquals(c.node("a").core.commitOffset(), c.node("b").core.commitOffset());
    }

    @Test
    void aQuietLeaderKeepsItsTermWhileTheNodesHearFromEachOtherAndGivesItUpWhenTheyDoNot() {
        ScriptedCluster c = idleAfterOneWrite();
        appendsOfOneTick(c, 100);
        for (int s = 0; s < 15; s++) { // 15 s, past the 10 s check-quorum interval
            for (String f : List.of("b", "c")) {
                c.node("a").core.heard(f, c.now());
            }
            c.tick(1000);
        }
        assertTrue(c.actionsOf("a", Action.QuorumLost.class).isEmpty(), "heard through node heartbeats");
        assertEquals(Role.LEADER, c.node("a").core.role());
        for (int s = 0; s < 11; s++) {
            c.node("a").core.heard("b", c.now()); // b and the leader are a majority of three
            c.tick(1000);
        }
        assertTrue(c.actionsOf("a", Action.QuorumLost.class).isEmpty(), "the leader and b are a majority");
        for (int s = 0; s < 11; s++) {
            c.tick(1000); // nobody heard
        }
        assertEquals(List.of(new Action.QuorumLost(1)), c.actionsOf("a", Action.QuorumLost.class));
    }
}
