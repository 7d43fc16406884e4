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
package dev.tenure.demo;

import dev.tenure.recipes.EpochFence;
import dev.tenure.recipes.FencedException;
import dev.tenure.recipes.FencedLeaderElection;
import dev.tenure.recipes.FileEpochStore;
import dev.tenure.recipes.LeaderDiscovery;
import dev.tenure.recipes.LeadershipListener;
import dev.tenure.recipes.LeadershipToken;
import dev.tenure.recipes.RevocationReason;
import dev.tenure.testkit.ZooKeeperEnsemble;
import dev.tenure.testkit.ZooKeeperProxy;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;

/**
 * A narrated, in-process run of fenced leader election: three participants on a 3-server ZooKeeper
 * ensemble, the leader cut off from ZooKeeper until its session expires, a new leader with a higher epoch,
 * the old leader's late write refused by a fence, and a graceful hand-off.
 */
final class ElectionTour {
    private static final String PATH = "/tenure/demo";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final PrintStream out;

    ElectionTour(PrintStream out) {
        this.out = out;
    }

    /** Runs the tour; returns when it is over, having stopped everything it started. */
    void run() throws Exception {
        Path dataDir = Files.createTempDirectory("tenure-demo");
        try (ZooKeeperEnsemble ensemble = ZooKeeperEnsemble.builder().build()) {
            say("Starting an in-process ZooKeeper ensemble of 3 servers on 127.0.0.1 ...");
            ensemble.start();
            say("  connect string: " + ensemble.connectString());

            // The downstream resource every leader writes to; it keeps the highest epoch on disk.
            EpochFence fence = EpochFence.open(new FileEpochStore(dataDir.resolve("resource.epoch")), PATH);

            ZooKeeperProxy proxy = ensemble.newProxy();
            List<FencedLeaderElection> participants = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                String id = "node-" + i;
                // node-1 reaches ZooKeeper through a proxy, so the tour can cut it off.
                CuratorFramework client = ensemble.newClient(
                        (i == 1 ? ensemble.clientBuilder(proxy) : ensemble.clientBuilder()).sessionTimeoutMs(2000));
                FencedLeaderElection e = FencedLeaderElection.builder(client, PATH)
                        .participantId(id)
                        .endpoint("127.0.0.1:" + (7000 + i))
                        .listener(new LeadershipListener() {
                            @Override
                            public void acquired(LeadershipToken token) {
                                say("  [" + id + "] acquired leadership: epoch " + token.epoch());
                            }

                            @Override
                            public void revoked(LeadershipToken token, RevocationReason reason) {
                                say("  [" + id + "] revoked epoch " + token.epoch() + " (" + reason + ")");
                            }
                        })
                        .build();
                participants.add(e);
                e.start();
                if (i == 1) {
                    e.awaitLeadership(WAIT); // let node-1 lead first, so cutting it off shows a failover
                }
            }
            try (LeaderDiscovery discovery = new LeaderDiscovery(ensemble.newClient(), PATH)) {
                discovery.start();
                FencedLeaderElection first = participants.get(0);
                LeadershipToken t1 = first.awaitLeadership(WAIT);
                say("");
                say("1. Election: " + discovery.awaitLeader(WAIT) + " leads; participants " + discovery.participants());
                fence.admit(t1);
                say("   The leader writes to a fenced resource with epoch " + t1.epoch() + ": accepted.");

                say("");
                say("2. The leader is cut off from ZooKeeper (a partition, or a long GC pause) ...");
                proxy.cut();
                long t1Epoch = t1.epoch();
                dev.tenure.recipes.LeaderInfo next = discovery.awaitLeader(l -> l.epoch() > t1Epoch, WAIT);
                say("   Its session expired; " + next + " took over.");
                FencedLeaderElection second = byId(participants, next.id());
                LeadershipToken t2 = second.awaitLeadership(WAIT);
                fence.admit(t2);
                say("   The new leader writes with epoch " + t2.epoch() + ": accepted.");
                try {
                    fence.admit(t1);
                    throw new IllegalStateException("the fence accepted a stale epoch");
                } catch (FencedException refused) {
                    say("   The old leader's late write with epoch " + t1.epoch() + " is refused: "
                            + refused.getMessage());
                }
                proxy.heal();

                say("");
                say("3. Graceful hand-off: " + second.participantId() + " steps down ...");
                second.stepDown(t2, Duration.ofSeconds(1));
                long t2Epoch = t2.epoch();
                dev.tenure.recipes.LeaderInfo third = discovery.awaitLeader(l -> l.epoch() > t2Epoch, WAIT);
                say("   " + third + " leads now; epochs went " + t1.epoch() + " -> " + t2.epoch() + " -> "
                        + third.epoch() + ", never backwards.");
                Optional<LeadershipToken> t3 = byId(participants, third.id()).currentToken();
                if (t3.isPresent()) {
                    fence.admit(t3.get());
                }
                say("   The resource's highest admitted epoch: " + fence.highestEpoch());
            } finally {
                for (FencedLeaderElection e : participants) {
                    e.close();
                }
            }
            say("");
            say("Done: every participant, client and server is stopped.");
        } finally {
            Files.deleteIfExists(dataDir.resolve("resource.epoch"));
            Files.deleteIfExists(dataDir);
        }
    }

    private static FencedLeaderElection byId(List<FencedLeaderElection> es, String id) {
        return es.stream().filter(e -> e.participantId().equals(id)).findFirst().orElseThrow();
    }

    private synchronized void say(String line) {
        out.println(line);
        out.flush();
    }
}
