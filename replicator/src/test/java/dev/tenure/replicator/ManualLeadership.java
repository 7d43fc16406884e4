package dev.tenure.replicator;

import java.util.ArrayList;
import java.util.List;

/** Leadership driven by the test: elect and revoke by hand. */
final class ManualLeadership implements Leadership {
    private Events events;
    final List<Long> stepDowns = new ArrayList<>();

    @Override
    public synchronized void start(Events events) {
        this.events = events;
    }

    synchronized void elect(long epoch) {
        events.elected(epoch);
    }

    synchronized void revoke(long epoch) {
        events.revoked(epoch);
    }

    @Override
    public synchronized void stepDown(long epoch) {
        stepDowns.add(epoch);
    }

    @Override
    public void close() {}
}
