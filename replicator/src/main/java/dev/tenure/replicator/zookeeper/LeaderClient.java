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
package dev.tenure.replicator.zookeeper;

import com.google.common.base.Preconditions;
import dev.tenure.recipes.LeaderDiscovery;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.ReplicationException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Sends a proposal to the replica set's current leader over the application's own client protocol, and retries at
 * the next leader while it is certain that no attempt was applied. The leader comes from {@link LeaderDiscovery}
 * (the {@code endpoint} each replica registered, see {@code ZooKeeperReplica.Builder.endpoint}), or from the
 * {@link ReplicationException#leaderEndpoint() leader a refusal names}, whichever is newer news.
 *
 * <p>Retry rule (the client side of "a write that may have been applied is never reported as failed"): an attempt
 * is retried only if its failure is {@link #isDefinitelyNotApplied definite} — a {@link ReplicationException} whose
 * {@link ReplicationException#definitelyNotApplied()} is true (not the leader, fenced, overloaded), or a connection
 * that was refused before anything was sent ({@link ConnectException}). Any other failure — {@link
 * ReplicationException.OutcomeUnknownException}, a timeout or a reset after the request left — completes the result
 * with that failure at once, because retrying could apply the proposal twice. When the deadline passes between
 * definite failures, the result fails with the last of them (so the caller knows it was not applied); a deadline
 * passing while an attempt is in flight does not cut that attempt short.
 *
 * <pre>{@code
 * LeaderClient<Long, Long> client = LeaderClient.builder(replica.discovery(), (leader, delta) -> http.add(leader.endpoint(), delta))
 *         .timeout(Duration.ofSeconds(5))
 *         .build();
 * long total = client.propose(5L).toCompletableFuture().get();
 * }</pre>
 *
 * <p>Thread-safe; holds no threads of its own (back-offs use {@link CompletableFuture#delayedExecutor}); nothing to
 * close — the discovery belongs to the caller, who must keep it started while proposals are in flight.
 *
 * @param <P> what is proposed
 * @param <R> what the leader answers
 */
public final class LeaderClient<P, R> {
    /** Sends one proposal to one leader; the application's client protocol. */
    @FunctionalInterface
    public interface Sender<P, R> {
        /**
         * Sends {@code proposal} to {@code leader} (use its {@link LeaderInfo#endpoint()}). A refusal by the
         * receiving replica should complete the stage with the {@link ReplicationException} it threw, so that the
         * client can tell a definite refusal from an unknown outcome.
         */
        CompletionStage<R> send(LeaderInfo leader, P proposal);
    }

    private final LeaderDiscovery discovery;
    private final Sender<P, R> sender;
    private final Duration timeout;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Predicate<Throwable> definite;
    private final LongSupplier clock;

    private LeaderClient(Builder<P, R> b) {
        this.discovery = b.discovery;
        this.sender = b.sender;
        this.timeout = b.timeout;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.definite = b.definite;
        this.clock = b.clock;
    }

    /** A client that finds the leader with {@code discovery} (started) and sends with {@code sender}. */
    public static <P, R> Builder<P, R> builder(LeaderDiscovery discovery, Sender<P, R> sender) {
        return new Builder<>(discovery, sender);
    }

    /**
     * Whether {@code failure} (or its cause, through {@link CompletionException} and {@link ExecutionException})
     * says the request was certainly not applied: a {@link ReplicationException} that says so, or a refused
     * connection.
     */
    public static boolean isDefinitelyNotApplied(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof ReplicationException r) {
            return r.definitelyNotApplied();
        }
        return t instanceof ConnectException;
    }

    /**
     * Sends {@code proposal} to the current leader, retrying at the next one after definite refusals until the
     * client's timeout. The stage completes with the leader's answer; with the first failure that is not definite
     * (it may have been applied); with the last definite refusal if the timeout passed; or with a {@link
     * TimeoutException} if no leader was known within the timeout (nothing was sent).
     */
    public CompletionStage<R> propose(P proposal) {
        CompletableFuture<R> result = new CompletableFuture<>();
        long deadline = clock.getAsLong() + timeout.toNanos();
        attempt(proposal, Optional.empty(), deadline, initialBackoff, null, result);
        return result;
    }

    private void attempt(
            P proposal,
            Optional<LeaderInfo> named,
            long deadline,
            Duration backoff,
            Throwable lastDefinite,
            CompletableFuture<R> result) {
        Optional<LeaderInfo> discovered;
        try {
            discovered = discovery.leader();
        } catch (IllegalStateException closed) {
            result.completeExceptionally(closed);
            return;
        }
        Optional<LeaderInfo> leader = newest(discovered, named);
        if (leader.isEmpty() || leader.get().endpoint().isEmpty()) {
            retryLater(proposal, Optional.empty(), deadline, backoff, lastDefinite, result);
            return;
        }
        CompletionStage<R> sent;
        try {
            sent = sender.send(leader.get(), proposal);
        } catch (RuntimeException e) {
            result.completeExceptionally(e); // the sender broke its contract; it may have sent
            return;
        }
        sent.whenComplete((answer, failure) -> {
            if (failure == null) {
                result.complete(answer);
            } else if (definite.test(failure)) {
                Throwable cause = unwrap(failure);
                Optional<LeaderInfo> hinted = Optional.empty();
                if (cause instanceof ReplicationException r
                        && !r.leaderEndpoint().isEmpty()) {
                    hinted = Optional.of(new LeaderInfo(r.leaderHint(), r.leaderEndpoint(), 0));
                }
                retryLater(proposal, hinted, deadline, backoff, cause, result);
            } else {
                result.completeExceptionally(unwrap(failure));
            }
        });
    }

    private void retryLater(
            P proposal,
            Optional<LeaderInfo> named,
            long deadline,
            Duration backoff,
            Throwable lastDefinite,
            CompletableFuture<R> result) {
        long left = deadline - clock.getAsLong();
        if (left <= 0) {
            result.completeExceptionally(
                    lastDefinite != null
                            ? lastDefinite
                            : new TimeoutException("no leader with an endpoint was known within " + timeout));
            return;
        }
        long delay = Math.min(backoff.toNanos(), left);
        Duration next = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
        // The first refusal that names a leader is retried there at once (the freshest news); every later retry
        // waits, so two replicas naming each other cannot spin.
        boolean now = named.isPresent() && lastDefinite != null && backoff.equals(initialBackoff);
        Executor later = now ? Runnable::run : CompletableFuture.delayedExecutor(delay, TimeUnit.NANOSECONDS);
        later.execute(() -> attempt(proposal, named, deadline, next, lastDefinite, result));
    }

    /** The named leader if discovery knows none or an older epoch (a refusal's hint has no epoch: 0). */
    private static Optional<LeaderInfo> newest(Optional<LeaderInfo> discovered, Optional<LeaderInfo> named) {
        if (named.isEmpty()) {
            return discovered;
        }
        if (discovered.isEmpty() || discovered.get().id().equals(named.get().id())) {
            return discovered.isPresent() && !discovered.get().endpoint().isEmpty() ? discovered : named;
        }
        return named; // discovery lags the refusal that named another leader
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    /** Builds a {@link LeaderClient}. Not thread-safe. */
    public static final class Builder<P, R> {
        private final LeaderDiscovery discovery;
        private final Sender<P, R> sender;
        private Duration timeout = Duration.ofSeconds(10);
        private Duration initialBackoff = Duration.ofMillis(20);
        private Duration maxBackoff = Duration.ofMillis(500);
        private Predicate<Throwable> definite = LeaderClient::isDefinitelyNotApplied;
        private LongSupplier clock = System::nanoTime;

        private Builder(LeaderDiscovery discovery, Sender<P, R> sender) {
            this.discovery = Preconditions.checkNotNull(discovery, "discovery must not be null");
            this.sender = Preconditions.checkNotNull(sender, "sender must not be null");
        }

        /** How long one {@link #propose} keeps retrying definite refusals; 10 s by default. */
        public Builder<P, R> timeout(Duration timeout) {
            Preconditions.checkArgument(
                    timeout != null && !timeout.isNegative() && !timeout.isZero(), "timeout must be positive");
            this.timeout = timeout;
            return this;
        }

        /** The first and the largest pause between attempts (doubling); 20 ms and 500 ms by default. */
        public Builder<P, R> backoff(Duration initial, Duration max) {
            Preconditions.checkArgument(
                    initial != null && max != null && initial.toNanos() > 0 && max.compareTo(initial) >= 0,
                    "backoff must be positive and initial <= max: %s, %s",
                    initial,
                    max);
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /**
         * Which failures certainly left nothing applied, and so may be retried; {@link #isDefinitelyNotApplied} by
         * default. Widen it only for failures your protocol proves were never delivered; for idempotent proposals
         * any failure could be retried, which this client leaves to the caller.
         */
        public Builder<P, R> retryWhen(Predicate<Throwable> definitelyNotApplied) {
            this.definite = Preconditions.checkNotNull(definitelyNotApplied, "definitelyNotApplied");
            return this;
        }

        /** The nanosecond clock for the deadline ({@link System#nanoTime} by default; for tests). */
        public Builder<P, R> clock(LongSupplier nanoClock) {
            this.clock = Preconditions.checkNotNull(nanoClock, "nanoClock");
            return this;
        }

        /** The client. */
        public LeaderClient<P, R> build() {
            return new LeaderClient<>(this);
        }
    }
}
