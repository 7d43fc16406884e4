package dev.tenure.recipes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
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
    private final CuratorFramework observer;
    private final String path;
    private boolean checkExclusive;
    private long maxEpoch;

    ElectionHistory(CuratorFramework observer, String path) {
        this.observer = observer;
        this.path = path;
    }

    synchronized void checkExclusive(boolean check) {
        this.checkExclusive = check;
    }

    LeadershipListener listenerFor(String participant) {
        return new LeadershipListener() {
            @Override
            public void acquired(LeadershipToken token) throws Exception {
                // ZooKeeper reads may lag the leader's writes unless preceded by a successful sync.
                syncEpochNode();
                long minted = Records.EpochRecord.decode(observer.getData().forPath(path + "/epoch")).epoch;
                record(participant, token, null, minted);
            }

            @Override
            public void revoked(LeadershipToken token, RevocationReason reason) {
                record(participant, token, reason, -1);
            }
        };
    }

    private void syncEpochNode() throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            CountDownLatch synced = new CountDownLatch(1);
            int[] rc = {-1};
            observer.sync()
                    .inBackground((c, e) -> {
                        rc[0] = e.getResultCode();
                        synced.countDown();
                    })
                    .forPath(path + "/epoch");
            if (synced.await(30, TimeUnit.SECONDS) && rc[0] == 0) {
                return;
            }
        }
        throw new TimeoutException("could not sync " + path + "/epoch");
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

    Event awaitRevoked(LeadershipToken token, Duration timeout) throws InterruptedException, TimeoutException {
        return await(e -> !e.acquired() && e.token().equals(token), timeout, "revoked " + token);
    }
}
