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

import com.google.common.base.Preconditions;
import com.google.common.util.concurrent.MoreExecutors;
import dev.tenure.recipes.Records.EpochRecord;
import dev.tenure.recipes.Records.ParticipantRecord;
import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cached, watch-driven view of an election path's current leader (id, endpoint, epoch) and participants,
 * for any process, participant or not.
 *
 * <p>The leader is the participant whose node is first in the election queue <em>and</em> who minted the
 * latest epoch from that node. Between a leader's departure and its successor's mint the view has no
 * leader ({@link Optional#empty()}). The view follows ZooKeeper's watches (a persistent recursive watch
 * through Curator's {@link CuratorCache}), so changes arrive within milliseconds; it can still lag or run
 * ahead of what a participant believes, so it is for routing, never for fencing.
 *
 * <p>Start once, close once. Thread-safe. Listeners run on the given executor (by default Curator's event
 * thread: keep them short) in the order changes were seen.
 */
public final class LeaderDiscovery implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(LeaderDiscovery.class);

    /** Told when the discovered leader changes. */
    public interface Listener {
        /** The leader is now {@code leader} (empty: none known right now). */
        void leaderChanged(Optional<LeaderInfo> leader);
    }

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final ElectionPaths paths;
    private final CuratorCache cache;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final AtomicReference<Optional<LeaderInfo>> leader = new AtomicReference<>(Optional.empty());
    private final List<ListenerEntry> listeners = new CopyOnWriteArrayList<>();
    private final Object monitor = new Object();

    private static final class ListenerEntry {
        final Listener listener;
        final Executor executor;

        ListenerEntry(Listener listener, Executor executor) {
            this.listener = listener;
            this.executor = executor;
        }
    }

    /**
     * @param client a started client
     * @param electionPath the election path, as given to {@link FencedLeaderElection#builder}
     */
    public LeaderDiscovery(CuratorFramework client, String electionPath) {
        Preconditions.checkNotNull(client, "client must not be null");
        this.paths = ElectionPaths.of(electionPath);
        this.cache = CuratorCache.build(client, paths.base);
        this.cache
                .listenable()
                .addListener(CuratorCacheListener.builder()
                        .forAll((type, oldData, data) -> refresh())
                        .forInitialized(this::refresh)
                        .build());
    }

    /** Starts watching. */
    public void start() {
        Preconditions.checkState(state.compareAndSet(State.LATENT, State.STARTED), "Cannot be started more than once");
        cache.start();
    }

    /** Adds a listener called on Curator's event thread. */
    public void addListener(Listener l) {
        addListener(l, MoreExecutors.directExecutor());
    }

    /** Adds a listener called on {@code executor}. */
    public void addListener(Listener l, Executor executor) {
        listeners.add(new ListenerEntry(Objects.requireNonNull(l), MoreExecutors.newSequentialExecutor(executor)));
    }

    /** The current leader, if one is known. */
    public Optional<LeaderInfo> leader() {
        checkStarted();
        return leader.get();
    }

    /** The ids of the participants in the election, in queue order (the leader's candidate first). */
    public List<String> participants() {
        checkStarted();
        return sortedParticipants().stream()
                .map(d -> participant(d).map(p -> p.id).orElse("?"))
                .collect(Collectors.toList());
    }

    /**
     * The endpoint that the participant {@code participantId} registered ({@link
     * FencedLeaderElection.Builder#endpoint}), if it is in the election now and registered a non-empty one. Reads
     * the cache only: it never blocks, so it may be called from any thread, including event threads.
     */
    public Optional<String> endpointOf(String participantId) {
        checkStarted();
        Preconditions.checkNotNull(participantId, "participantId must not be null");
        for (ChildData d : sortedParticipants()) {
            Optional<ParticipantRecord> p = participant(d);
            if (p.isPresent()
                    && p.get().id.equals(participantId)
                    && !p.get().endpoint.isEmpty()) {
                return Optional.of(p.get().endpoint);
            }
        }
        return Optional.empty();
    }

    /**
     * Waits until the discovered leader matches {@code condition}.
     *
     * @throws TimeoutException if it does not within the timeout
     */
    public LeaderInfo awaitLeader(Predicate<LeaderInfo> condition, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (monitor) {
            while (true) {
                checkStarted();
                Optional<LeaderInfo> l = leader.get();
                if (l.isPresent() && condition.test(l.get())) {
                    return l.get();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException(
                            "no matching leader on " + paths.base + " within " + timeout + "; current: " + l);
                }
                TimeUnit.NANOSECONDS.timedWait(monitor, left);
            }
        }
    }

    /** Waits until any leader is known. */
    public LeaderInfo awaitLeader(Duration timeout) throws InterruptedException, TimeoutException {
        return awaitLeader(l -> true, timeout);
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.STARTED) {
            cache.close();
        }
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    private void checkStarted() {
        Preconditions.checkState(state.get() == State.STARTED, "discovery is not started or is closed");
    }

    private List<ChildData> sortedParticipants() {
        Map<String, ChildData> byName = cache.stream()
                .filter(d -> paths.election.equals(
                        ZKPaths.getPathAndNode(d.getPath()).getPath()))
                .collect(Collectors.toMap(d -> ZKPaths.getNodeFromPath(d.getPath()), d -> d, (a, b) -> a));
        List<ChildData> sorted = new ArrayList<>();
        for (String name : ElectionPaths.sortedParticipants(byName.keySet())) {
            sorted.add(byName.get(name));
        }
        return sorted;
    }

    private static Optional<ParticipantRecord> participant(ChildData d) {
        try {
            return Optional.of(ParticipantRecord.decode(d.getData()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private Optional<LeaderInfo> compute() {
        Optional<ChildData> epochNode = cache.get(paths.epoch);
        if (epochNode.isEmpty()) {
            return Optional.empty();
        }
        EpochRecord record;
        try {
            record = EpochRecord.decode(epochNode.get().getData());
        } catch (IllegalArgumentException e) {
            log.warn("epoch node {} holds malformed data: {}", paths.epoch, e.getMessage());
            return Optional.empty();
        }
        List<ChildData> sorted = sortedParticipants();
        if (record.epoch == 0 || sorted.isEmpty()) {
            return Optional.empty();
        }
        ChildData head = sorted.get(0);
        Optional<ParticipantRecord> p = participant(head);
        boolean headMinted = p.isPresent()
                && p.get().instance.equals(record.instance)
                && ZKPaths.getNodeFromPath(head.getPath()).equals(record.participantNode);
        return headMinted
                ? Optional.of(new LeaderInfo(record.leaderId, record.endpoint, record.epoch))
                : Optional.empty();
    }

    private void refresh() {
        if (state.get() != State.STARTED) {
            return;
        }
        Optional<LeaderInfo> now = compute();
        Optional<LeaderInfo> before = leader.getAndSet(now);
        if (!now.equals(before)) {
            synchronized (monitor) {
                monitor.notifyAll();
            }
            for (ListenerEntry e : listeners) {
                e.executor.execute(() -> {
                    try {
                        e.listener.leaderChanged(now);
                    } catch (RuntimeException ex) {
                        log.error("leader discovery listener threw", ex);
                    }
                });
            }
        }
    }
}
