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

import com.google.common.util.concurrent.MoreExecutors;
import dev.tenure.recipes.Records.ParticipantRecord;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A candidacy on Curator's {@link LeaderLatch}. */
final class LatchCandidacy extends Candidacy {
    private static final Logger log = LoggerFactory.getLogger(LatchCandidacy.class);

    private final LeaderLatch latch;
    private final AtomicLong tenure = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();

    LatchCandidacy(CuratorFramework client, ElectionPaths paths, ParticipantRecord record, Events events) {
        super(record, events);
        this.latch = new LeaderLatch(client, paths.election, record.encodeAsText(), LeaderLatch.CloseMode.SILENT);
        this.latch.addListener(
                new LeaderLatchListener() {
                    @Override
                    public void isLeader() {
                        events.elected(LatchCandidacy.this, tenure.incrementAndGet());
                    }

                    @Override
                    public void notLeader() {
                        events.deposed(LatchCandidacy.this, tenure.get());
                    }
                },
                MoreExecutors.directExecutor()); // the events only enqueue
    }

    @Override
    void start() throws Exception {
        latch.start();
    }

    @Override
    boolean holds(long t) {
        return !closed.get() && tenure.get() == t && latch.hasLeadership();
    }

    @Override
    long currentTenure() {
        return tenure.get();
    }

    @Override
    void termEnded(long t) {
        // The latch keeps its node: after a reconnect it may lead again with a new epoch.
    }

    @Override
    void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                latch.close();
            } catch (Exception e) {
                log.warn("closing the leader latch of {} failed", record.id, e);
            }
        }
    }
}
