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
package dev.tenure.demo.tour;

import dev.tenure.demo.client.KvClient;
import dev.tenure.demo.client.Outcome;
import dev.tenure.demo.node.EmbeddedCluster;
import dev.tenure.demo.node.KvNode;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * {@code tour}: the embedded cluster, narrated step by step with real operations: election and epoch,
 * writes, the leader paused until its session expires (a zombie), a follower taking over with a higher
 * epoch, the zombie's late write refused, the new leader killed, and every acknowledged value still
 * readable.
 */
public final class KvTour {
    private final PrintStream out;

    public KvTour(PrintStream out) {
        this.out = out;
    }

    public void run() throws Exception {
        try (EmbeddedCluster cluster = new EmbeddedCluster(0)) {
            say("Starting an in-process 3-server ZooKeeper ensemble and replicas r1, r2, r3 on 127.0.0.1 ...");
            cluster.start();
            for (KvNode n : cluster.nodes()) {
                say("  " + n.id() + " at " + n.url());
            }

            KvNode leader = awaitLeader(cluster, 0, null);
            long epoch1 = leader.status().replica().epoch();
            say("");
            say("1. Election: " + leader.id() + " leads with epoch " + epoch1
                    + " (minted in ZooKeeper together with its leadership).");

            KvNode follower = other(cluster, leader);
            KvClient viaFollower = new KvClient(URI.create(follower.url()), Duration.ofSeconds(10));
            List<String> acknowledged = new ArrayList<>();
            say("");
            say("2. Writes, sent to follower " + follower.id() + " (it redirects to the leader):");
            for (int i = 1; i <= 5; i++) {
                String key = "city-" + i;
                Outcome o = viaFollower.put(key, ("value " + i).getBytes(StandardCharsets.UTF_8));
                require(o.kind() == Outcome.Kind.OK, "write " + key + ": " + o);
                acknowledged.add(key);
                say("   PUT " + key + " -> committed at epoch " + o.epoch().orElseThrow() + ", offset "
                        + o.offset().orElseThrow() + " (durable on a majority)");
            }

            say("");
            say("3. " + leader.id() + " stalls (think of a long GC pause): its replication traffic waits, and it");
            say("   accepts one more write, which cannot reach a majority ...");
            cluster.holdReplication(leader.id());
            long endBefore = leader.status().replica().logEndOffset();
            KvClient viaOldLeader = new KvClient(URI.create(leader.url()), Duration.ofSeconds(20));
            CompletableFuture<Outcome> late = CompletableFuture.supplyAsync(
                    () -> viaOldLeader.put("late", "from the zombie".getBytes(StandardCharsets.UTF_8)));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (leader.status().replica().logEndOffset() == endBefore && System.nanoTime() < deadline) {
                Thread.sleep(5); // waiting for the write to enter the old leader's log
            }
            say("   ... then ZooKeeper loses it as well: its session expires after 4 s.");
            cluster.cutFromZooKeeper(leader.id());
            KvNode next = awaitLeader(cluster, epoch1, leader.id());
            long epoch2 = next.status().replica().epoch();
            say("");
            say("4. " + next.id() + " takes over with epoch " + epoch2 + " (higher than " + epoch1
                    + "); it recovered the log from a majority.");

            say("");
            say("5. " + leader.id() + " resumes: its late epoch-" + epoch1 + " appends reach the followers now ...");
            long refusedBefore = refusals(cluster, leader);
            cluster.resume(leader.id());
            Outcome lateOutcome = late.get();
            long waitUntil = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (refusals(cluster, leader) == refusedBefore && System.nanoTime() < waitUntil) {
                Thread.sleep(10); // waiting for the held messages to arrive
            }
            long refused = refusals(cluster, leader) - refusedBefore;
            require(refused > 0, "the followers must refuse the zombie's epoch-" + epoch1 + " messages");
            say("   the followers promised epoch " + epoch2 + " and refused " + refused + " of its epoch-" + epoch1
                    + " messages; the zombie's client was told: " + describe(lateOutcome));
            require(lateOutcome.kind() != Outcome.Kind.OK, "the zombie's write must not be acknowledged");
            Outcome lateRead = new KvClient(URI.create(next.url()), Duration.ofSeconds(10)).get("late", false);
            say("   GET late on the new leader -> "
                    + (lateRead.kind() == Outcome.Kind.NOT_FOUND
                            ? "not found: the late write was never committed"
                            : describe(lateRead)));

            KvClient viaNext = new KvClient(URI.create(next.url()), Duration.ofSeconds(10));
            for (int i = 6; i <= 8; i++) {
                String key = "city-" + i;
                Outcome o = viaNext.put(key, ("value " + i).getBytes(StandardCharsets.UTF_8));
                require(o.kind() == Outcome.Kind.OK, "write " + key + ": " + o);
                acknowledged.add(key);
            }
            say("   3 more writes committed in epoch " + epoch2 + ".");

            say("");
            say("6. " + next.id() + " is killed (stopped abruptly, no hand-off) ...");
            cluster.kill(next.id());
            KvNode third = awaitLeader(cluster, epoch2, next.id());
            say("   " + third.id() + " takes over with epoch "
                    + third.status().replica().epoch() + ".");

            say("");
            say("7. Every acknowledged value is still readable (linearizable reads on " + third.id() + "):");
            KvClient viaThird = new KvClient(URI.create(third.url()), Duration.ofSeconds(10));
            for (String key : acknowledged) {
                Outcome o = viaThird.get(key, false);
                require(o.kind() == Outcome.Kind.OK, "read " + key + ": " + o);
                say("   " + key + " = " + new String(o.value().orElseThrow(), StandardCharsets.UTF_8));
            }
            say("");
            say("Done: " + acknowledged.size() + " acknowledged writes, 3 epochs (" + epoch1 + " -> " + epoch2 + " -> "
                    + third.status().replica().epoch() + "), nothing lost, the zombie fenced. Stopping everything.");
        }
    }

    private static String describe(Outcome o) {
        return switch (o.kind()) {
            case OK -> "ok";
            case NOT_FOUND -> "not found";
            case CAS_FAILED -> "cas failed";
            case DEFINITELY_NOT_APPLIED -> "definitely not applied (HTTP " + o.httpStatus() + ")";
            case UNKNOWN -> "outcome unknown (HTTP " + o.httpStatus() + "), never a false 'ok'";
        };
    }

    private static long refusals(EmbeddedCluster cluster, KvNode except) {
        return cluster.nodes().stream()
                .filter(n -> n != except)
                .mapToLong(KvNode::staleEpochRefusals)
                .sum();
    }

    private static KvNode other(EmbeddedCluster c, KvNode n) {
        return c.nodes().stream().filter(x -> x != n).findFirst().orElseThrow();
    }

    private static KvNode awaitLeader(EmbeddedCluster cluster, long aboveEpoch, String excluding) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (KvNode n : cluster.nodes()) {
                if (n.id().equals(excluding)) {
                    continue;
                }
                try {
                    Replica.Status s = n.status().replica();
                    if (s.role() == Role.LEADER
                            && s.epoch() > aboveEpoch
                            && s.commitOffset() > 0
                            && n.leader().isPresent()
                            && n.leader().get().id().equals(n.id())) {
                        return n;
                    }
                } catch (RuntimeException stopped) {
                    // a killed node
                }
            }
            Thread.sleep(20); // polling status snapshots
        }
        throw new TimeoutException("no leader above epoch " + aboveEpoch);
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("tour failed: " + what);
        }
    }

    private synchronized void say(String line) {
        out.println(line);
        out.flush();
    }
}
