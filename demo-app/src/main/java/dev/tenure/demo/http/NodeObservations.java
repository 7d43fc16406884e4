package dev.tenure.demo.http;

import java.time.Instant;
import java.util.List;

/**
 * What an operator's views of one replica show beyond its {@link dev.tenure.demo.kv.KvService.Status status}: the
 * event timeline and the followers' lag on the status page, and the metrics at {@code /metrics}. Only the status
 * routes use it; the key routes see only the {@link dev.tenure.demo.kv.KvService}.
 *
 * <p>Thread-safe: called from the HTTP event-loop threads, concurrently. Implementations must be fast and must not
 * throw: they report what they have observed so far.
 */
public interface NodeObservations {
    /** Recent events for the status page's timeline, oldest first. */
    List<Event> events();

    /** Milliseconds a follower has been behind (0 when caught up or unknown), from the leader's view. */
    long lagMillis(String follower);

    /** The metrics in the Prometheus text format. */
    String scrapeMetrics();

    /** A recent event for the status page's timeline. */
    record Event(Instant at, String text) {}
}
