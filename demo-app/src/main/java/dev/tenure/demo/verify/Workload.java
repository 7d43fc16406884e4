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
package dev.tenure.demo.verify;

import dev.tenure.checker.Event;
import dev.tenure.checker.HistoryWriter;
import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The clients of a verification run: {@code clients} threads, each one process of the history with at most one
 * operation outstanding, doing random linearizable reads, writes, compare-and-sets and deletes on keys {@code k0}
 * … {@code k(keys-1)} through the HTTP API of a random replica (followers redirect to the leader; the client
 * follows). Every value written is unique ({@code pPROCESS.SEQ}), so a read names the write it saw.
 *
 * <p>Each operation is recorded in the {@link HistoryWriter} as an invoke and a completion, mapped from the API's
 * outcome: {@code ok} (committed, or a read's value — absent is null), {@code fail} (definitely not applied,
 * including a cas whose expected value did not match) and {@code info} (unknown: timeout, reset, {@code 5xx}).
 *
 * <p>Randomness is seeded per client (from the run's seed), so the choice of operations, keys and replicas is
 * reproducible; the interleaving with faults and the service's answers are not. Thread-safe: {@link #start()}
 * once, then {@link #stop()} from another thread.
 */
final class Workload {
    /** Fractions of reads, writes and cas operations; the rest are deletes. */
    private static final double READS = 0.4;

    private static final double WRITES = 0.3;
    private static final double CAS = 0.2;

    private final List<URI> replicas;
    private final int clients;
    private final int keys;
    private final long seed;
    private final HistoryWriter history;
    private final Duration requestTimeout;
    private final Duration meanThinkTime;
    private final Map<String, String> lastSeen = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong operations = new AtomicLong();
    private volatile boolean stopping;
    private volatile Throwable failure;

    Workload(
            List<URI> replicas,
            int clients,
            int keys,
            long seed,
            HistoryWriter history,
            Duration requestTimeout,
            Duration meanThinkTime) {
        this.replicas = List.copyOf(replicas);
        this.clients = clients;
        this.keys = keys;
        this.seed = seed;
        this.history = Objects.requireNonNull(history, "history");
        this.requestTimeout = requestTimeout;
        this.meanThinkTime = meanThinkTime;
    }

    /** The key names, {@code k0} … */
    List<String> keys() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            names.add("k" + i);
        }
        return names;
    }

    /** Operations completed so far. */
    long operations() {
        return operations.get();
    }

    void start() {
        for (int process = 0; process < clients; process++) {
            int p = process;
            Thread t = new Thread(() -> runClient(p), "verify-client-" + p);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /**
     * Asks every client to stop after its current operation and waits for them (each is bounded by the client's
     * timeouts and retry budget).
     *
     * @throws IllegalStateException if a client failed (history could not be written)
     */
    void stop() throws InterruptedException {
        stopping = true;
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            if (t.isAlive()) {
                throw new IllegalStateException(t.getName() + " did not stop within 60 s");
            }
        }
        if (failure != null) {
            throw new IllegalStateException("a client failed", failure);
        }
    }

    private void runClient(int process) {
        Random random = new Random(seed * 1_000_003L + process);
        List<KvClient> kv =
                replicas.stream().map(u -> new KvClient(u, requestTimeout)).toList();
        long seq = 0;
        try {
            while (!stopping) {
                KvClient client = kv.get(random.nextInt(kv.size()));
                String key = "k" + random.nextInt(keys);
                double dice = random.nextDouble();
                if (dice < READS) {
                    read(process, client, key);
                } else if (dice < READS + WRITES) {
                    write(process, client, key, "p" + process + "." + seq++);
                } else if (dice < READS + WRITES + CAS) {
                    String expected = random.nextDouble() < 0.8 ? lastSeen.get(key) : null;
                    cas(process, client, key, expected, "p" + process + "." + seq++);
                } else {
                    delete(process, client, key);
                }
                operations.incrementAndGet();
                long think = meanThinkTime.toNanos();
                if (think > 0) {
                    TimeUnit.NANOSECONDS.sleep((long) (random.nextDouble() * 2 * think)); // pacing, not sync
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            failure = e;
        }
    }

    /** One linearizable read; returns the outcome. */
    Outcome read(int process, KvClient client, String key) throws IOException {
        Event invoke = history.record(t -> Event.invoke(process, Event.F.READ, key, null, t));
        Outcome o = client.get(key, false);
        history.record(t -> switch (o.kind()) {
            case OK -> {
                String value = new String(o.value().orElseThrow(), StandardCharsets.UTF_8);
                lastSeen.put(key, value);
                yield invoke.completion(Event.Type.OK, t).withValue(value);
            }
            case NOT_FOUND -> {
                lastSeen.remove(key);
                yield invoke.completion(Event.Type.OK, t).withValue(null);
            }
            case UNKNOWN -> invoke.completion(Event.Type.INFO, t);
            default -> invoke.completion(Event.Type.FAIL, t);
        });
        return o;
    }

    private void write(int process, KvClient client, String key, String value) throws IOException {
        Event invoke = history.record(t -> Event.invoke(process, Event.F.WRITE, key, value, t));
        Outcome o = client.put(key, value.getBytes(StandardCharsets.UTF_8));
        if (o.kind() == Outcome.Kind.OK) {
            lastSeen.put(key, value);
        }
        complete(invoke, o);
    }

    private void cas(int process, KvClient client, String key, String expected, String update) throws IOException {
        Event invoke = history.record(t -> Event.invokeCas(process, key, expected, update, t));
        Outcome o = client.cas(key, expected, update);
        if (o.kind() == Outcome.Kind.OK) {
            lastSeen.put(key, update);
        } else if (o.kind() == Outcome.Kind.CAS_FAILED) {
            if (o.current() == null) {
                lastSeen.remove(key);
            } else {
                lastSeen.put(key, o.current());
            }
        }
        complete(invoke, o);
    }

    private void delete(int process, KvClient client, String key) throws IOException {
        Event invoke = history.record(t -> Event.invoke(process, Event.F.DELETE, key, null, t));
        Outcome o = client.delete(key);
        if (o.kind() == Outcome.Kind.OK) {
            lastSeen.remove(key);
        }
        complete(invoke, o);
    }

    private void complete(Event invoke, Outcome o) throws IOException {
        history.record(t -> switch (o.kind()) {
            case OK -> {
                Event ok = invoke.completion(Event.Type.OK, t);
                yield o.epoch().isPresent() && o.offset().isPresent()
                        ? ok.withPosition(o.epoch().getAsLong(), o.offset().getAsLong())
                        : ok;
            }
            case UNKNOWN -> invoke.completion(Event.Type.INFO, t);
            default -> invoke.completion(Event.Type.FAIL, t); // refused, not found, cas mismatch: not applied
        });
    }

    /**
     * After the run: one linearizable read of every key by process {@code process}, through {@code leaderUrl},
     * retried (each attempt recorded) until it returns a value or absence, for at most {@code budget} overall.
     *
     * @return the keys that could not be read
     */
    List<String> finalReads(int process, URI leaderUrl, Duration budget) throws IOException, InterruptedException {
        KvClient client = new KvClient(leaderUrl, requestTimeout);
        long deadline = System.nanoTime() + budget.toNanos();
        List<String> unread = new ArrayList<>();
        for (String key : keys()) {
            boolean done = false;
            while (!done && System.nanoTime() < deadline) {
                Outcome o = read(process, client, key);
                done = o.kind() == Outcome.Kind.OK || o.kind() == Outcome.Kind.NOT_FOUND;
                if (!done) {
                    Thread.sleep(200); // back-off before the next attempt
                }
            }
            if (!done) {
                unread.add(key);
            }
        }
        return unread;
    }
}
