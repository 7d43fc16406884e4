package dev.tenure.demo.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/** A clock that only moves when the client sleeps; records the sleeps. Optionally runs an action per sleep. */
final class FakeTime implements Sleeper, LongSupplier {
    private long nanos = 1_000_000_000L;
    private final List<Duration> sleeps = new ArrayList<>();
    private Runnable onSleep = () -> {};

    @Override
    public synchronized void sleep(Duration duration) {
        sleeps.add(duration);
        nanos += duration.toNanos();
        onSleep.run();
    }

    @Override
    public synchronized long getAsLong() {
        return nanos;
    }

    synchronized List<Duration> sleeps() {
        return List.copyOf(sleeps);
    }

    synchronized Duration slept() {
        return sleeps.stream().reduce(Duration.ZERO, Duration::plus);
    }

    synchronized void onSleep(Runnable action) {
        this.onSleep = action;
    }

    KvClient client(java.net.URI url, Duration timeout) {
        return new KvClient(url, timeout, this, this);
    }
}
