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

import dev.tenure.recipes.Records.ParticipantRecord;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.CancelLeadershipException;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.utils.CloseableExecutorService;
import org.apache.curator.utils.ThreadUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A candidacy on Curator's {@link LeaderSelector}. A tenure lasts as long as {@code takeLeadership} runs;
 * it returns when the term ends (the lock is released and the selector re-queues at the tail) or when
 * Curator interrupts it.
 */
final class SelectorCandidacy extends Candidacy {
    private static final Logger log = LoggerFactory.getLogger(SelectorCandidacy.class);

    private final LeaderSelector selector;
    private final AtomicLong tenure = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile CompletableFuture<Void> release = CompletableFuture.completedFuture(null);
    private volatile CountDownLatch exited = new CountDownLatch(0);
    private volatile boolean leading;

    SelectorCandidacy(
            CuratorFramework client,
            ElectionPaths paths,
            ParticipantRecord record,
            Events events,
            Predicate<ConnectionState> cancelsLeadership) {
        super(record, events);
        CloseableExecutorService executor = new CloseableExecutorService(
                Executors.newSingleThreadExecutor(ThreadUtils.newThreadFactory("tenure-selector-" + record.id)), true);
        this.selector = new LeaderSelector(client, paths.election, executor, new LeaderSelectorListener() {
            @Override
            public void takeLeadership(CuratorFramework c) throws Exception {
                lead();
            }

            @Override
            public void stateChanged(CuratorFramework c, ConnectionState newState) {
                if (cancelsLeadership.test(newState)) {
                    throw new CancelLeadershipException(); // Curator interrupts takeLeadership
                }
            }
        });
        this.selector.setId(record.encodeAsText());
        this.selector.autoRequeue();
    }

    private void lead() throws InterruptedException {
        CompletableFuture<Void> r = new CompletableFuture<>();
        CountDownLatch e = new CountDownLatch(1);
        release = r;
        exited = e;
        long t = tenure.incrementAndGet();
        leading = true;
        try {
            events.elected(this, t);
            r.get();
        } catch (ExecutionException impossible) {
            throw new IllegalStateException(impossible);
        } finally {
            leading = false;
            events.deposed(this, t);
            e.countDown();
        }
    }

    @Override
    void start() {
        selector.start();
    }

    @Override
    boolean holds(long t) {
        return !closed.get() && leading && tenure.get() == t;
    }

    @Override
    long currentTenure() {
        return tenure.get();
    }

    @Override
    void termEnded(long t) {
        if (tenure.get() == t) {
            release.complete(null);
        }
    }

    @Override
    void close() {
        if (closed.compareAndSet(false, true)) {
            // Let takeLeadership return by itself first, so the lock is released without an interrupt.
            release.complete(null);
            try {
                if (!exited.await(10, TimeUnit.SECONDS)) {
                    log.warn("leader selector of {} did not release within 10 s", record.id);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                selector.close();
            } catch (Exception e) {
                log.warn("closing the leader selector of {} failed", record.id, e);
            }
        }
    }
}
