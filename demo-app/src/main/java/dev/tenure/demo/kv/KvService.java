package dev.tenure.demo.kv;

import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Committed;
import dev.tenure.replicator.Replica;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What the HTTP layer needs of one replica of the key-value service: propose a command, confirm a read, read the
 * local state machine, and say who this replica is and who leads. The node assembly ({@code KvNode}: ZooKeeper
 * client, replica, HTTP server) provides it; the HTTP layer sees nothing else.
 *
 * <p>Thread-safe: every method may be called from any thread, concurrently. The futures complete on the replica's
 * threads (apply or event thread); callbacks must be short.
 */
public interface KvService {
    /** This replica's id. */
    String id();

    /** This replica's advertised HTTP URL. */
    String url();

    /** The ids of every replica in the set, this one included, in configured order. */
    List<String> replicas();

    /** Proposes an encoded {@link KvCommand}; see {@link Replica#propose} for how the future fails. */
    CompletableFuture<Committed> propose(byte[] command);

    /** Confirms leadership for a linearizable read; see {@link Replica#readBarrier}. */
    CompletableFuture<Long> readBarrier();

    /** The local state machine, for reads (after a barrier for a linearizable read). */
    KvStateMachine store();

    /** The replica's status (role, epoch, offsets, followers, failure). */
    Replica.Status status();

    /** The offset the state machine has applied up to. */
    long appliedOffset();

    /** Why the replica stopped, once it failed. */
    Optional<Throwable> failure();

    /** The leader as discovery sees it (id, HTTP URL, epoch), if any: where to redirect writes. */
    Optional<LeaderInfo> leader();

    /** Known HTTP URLs by replica id. */
    Map<String, String> urls();

    /** Milliseconds a follower has been behind (0 when caught up), from the leader's view. */
    long lagMillis(String follower);

    /** Recent events for the status page's timeline, oldest first. */
    List<Event> events();

    /** The metrics in the Prometheus text format. */
    String scrapeMetrics();

    /** A recent event for the status page's timeline. */
    record Event(Instant at, String text) {}
}
