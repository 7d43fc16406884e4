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

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;

/**
 * Records the terms that participants' listeners see and checks invariants as they arrive: epochs strictly
 * increase across acquisitions, every acquired token was minted before the callback (the epoch node already
 * holds it), and, when exclusivity is checked, no two participants hold a term at once.
 */
final class ElectionHistory {
    record Event(String participant, boolean acquired, LeadershipToken token, RevocationReason reason) {}

    private final List<Event> events = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final Map<String, LeadershipToken> holders = new HashMap<>();
    private final Set<LeadershipToken> checked = new HashSet<>();
    private final String path;
    private boolean checkExclusive;
    private long maxEpoch;

    ElectionHistory(String path) {
        this.path = path;
    }

    synchronized void checkExclusive(boolean check) {
        this.checkExclusive = check;
    }

    /**
     * The listener of one participant. It reads the epoch node through the participant's own client: a
     * ZooKeeper session reads its own writes, so the node must already hold the token's epoch when {@code
     * acquired} runs (mint before notification), with no dependence on how far other servers lag.
     */
    LeadershipListener listenerFor(String participant, CuratorFramework participantClient) {
        return new LeadershipListener() {
            @Override
            public void acquired(LeadershipToken token) {
                record(participant, token, null, Long.MAX_VALUE);
                long minted;
                try {
                    minted = Records.EpochRecord.decode(
                                    participantClient.getData().forPath(path + "/epoch"))
                            .epoch;
                } catch (Exception unreachable) {
                    checked(token);
                    return; // the participant lost ZooKeeper meanwhile: nothing to verify against
                }
                if (minted < token.epoch()) {
                    violation(participant + " heard acquired(" + token + ") before epoch " + token.epoch()
                            + " was minted");
                }
                checked(token);
            }

            @Override
            public void revoked(LeadershipToken token, RevocationReason reason) {
                record(participant, token, reason, -1);
            }
        };
    }

    private synchronized void checked(LeadershipToken token) {
        checked.add(token);
        notifyAll();
    }

    private synchronized void violation(String v) {
        violations.add(v);
    }

    private synchronized void record(String p, LeadershipToken token, RevocationReason reason, long minted) {
        boolean acquired = reason == null;
        events.add(new Event(p, acquired, token, reason));
        if (acquired) {
            if (minted < token.epoch()) {
                violations.add(p + " heard acquired(" + token + ") before epoch " + token.epoch() + " was minted");
            }
            if (token.epoch() <= maxEpoch) {
                violations.add(p + " acquired epoch " + token.epoch() + " after epoch " + maxEpoch);
            }
            maxEpoch = Math.max(maxEpoch, token.epoch());
            if (checkExclusive && !holders.isEmpty()) {
                violations.add(p + " acquired " + token + " while " + holders + " still held a term");
            }
            holders.put(p, token);
        } else {
            if (!token.equals(holders.get(p))) {
                violations.add(p + " revoked " + token + " which it did not hold: " + holders.get(p));
            }
            holders.remove(p);
        }
        notifyAll();
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    synchronized List<Event> events() {
        return List.copyOf(events);
    }

    synchronized long maxEpoch() {
        return maxEpoch;
    }

    /** Waits for an event matching {@code condition} (already recorded or future) and returns it. */
    synchronized Event await(Predicate<Event> condition, Duration timeout, String what)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (Event e : events) {
                if (condition.test(e)) {
                    return e;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException("no event '" + what + "' within " + timeout + "; events: " + events);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    Event awaitAcquired(Predicate<LeadershipToken> condition, Duration timeout)
            throws InterruptedException, TimeoutException {
        return await(e -> e.acquired() && condition.test(e.token()), timeout, "acquired");
    }

    /**
     * Waits until the listener's {@code acquired(token)} has returned, its read of the epoch node done. A test that
     * cuts the participant off from ZooKeeper waits for this first: a read still in flight would hold the
     * participant's leadership thread, and with it the {@code revoked} callback, through the client's retries.
     */
    synchronized void awaitChecked(LeadershipToken token, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!checked.contains(token)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException("acquired(" + token + ") did not return within " + timeout);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    Event awaitRevoked(LeadershipToken token, Duration timeout) throws InterruptedException, TimeoutException {
        return await(e -> !e.acquired() && e.token().equals(token), timeout, "revoked " + token);
    }
}
