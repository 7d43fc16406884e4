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
package dev.tenure.controller;

import com.google.common.base.Preconditions;
import dev.tenure.controller.core.PartitionSet;
import dev.tenure.controller.core.PartitionSets;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.controller.core.VersionedState;
import dev.tenure.controller.zookeeper.ControllerPaths;
import dev.tenure.controller.zookeeper.PartitionSetRecord;
import dev.tenure.controller.zookeeper.PartitionStateStore;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * Administers a controller-mode cluster's partition sets (Kafka's topics) through ZooKeeper, as Kafka's ZooKeeper-era
 * admin tools did: each operation writes a request under {@code P/admin}, the controller carries it out (docs/
 * controller.md, "Partition sets"), and the returned future completes once the operation is done.
 *
 * <pre>{@code
 * try (ControllerAdmin admin = ControllerAdmin.builder(client, "/tenure/orders").build()) {
 *     admin.createPartitionSet("orders", 12, 3, Map.of()).get(60, TimeUnit.SECONDS); // every partition led
 *     admin.deletePartitionSet("orders").get(60, TimeUnit.SECONDS);                  // every replica gone
 * }
 * }</pre>
 *
 * <p><b>Errors.</b> Invalid input (a name that is not {@code [A-Za-z0-9._-]{1,48}}, fewer than one partition or more
 * than {@link PartitionSet#MAX_PARTITIONS}, a replication factor below one) throws {@link IllegalArgumentException} at
 * once and writes nothing. What depends on the cluster fails the future: a replication factor above the registered
 * nodes with {@link IllegalArgumentException}, a name in use with {@link IllegalStateException}, an unknown name with
 * {@link NoSuchElementException}. A request the controller refuses (the cluster changed since the admin checked) fails
 * the future with the controller's reason, and the request is removed.
 *
 * <p><b>Waiting.</b> The futures complete on the admin's thread, which reads ZooKeeper every {@link
 * Builder#pollInterval} until the operation is done; they have no deadline of their own (use {@link
 * CompletableFuture#orTimeout}). A creation waits for a controller, and for every partition to have a leader; a
 * deletion waits for every replica to be deleted, so for every node holding one to be registered. A timed-out future
 * does not undo the request: the controller still carries it out.
 *
 * <p>Thread-safe. {@link #close} is idempotent and fails the futures not completed; calls after it throw {@link
 * IllegalStateException}. The client is the caller's to close.
 */
public final class ControllerAdmin implements Closeable {
    private final CuratorFramework client;
    private final String clusterPath;
    private final Duration pollInterval;
    private final PartitionStateStore states;
    private final ScheduledExecutorService thread;
    /** The futures given out and maybe not completed (guarded by itself; completed ones are pruned). */
    private final List<CompletableFuture<?>> pending = new java.util.ArrayList<>();

    private volatile boolean closed;

    private ControllerAdmin(Builder b) {
        this.client = b.client;
        this.clusterPath = b.clusterPath;
        this.pollInterval = b.pollInterval;
        this.states = new PartitionStateStore(client, clusterPath);
        this.thread = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                new com.google.common.util.concurrent.ThreadFactoryBuilder()
                        .setDaemon(true)
                        .setNameFormat("tenure-controller-admin-%d")
                        .build());
    }

    /** A builder of an admin of the cluster at {@code clusterPath}, through {@code client} (started). */
    public static Builder builder(CuratorFramework client, String clusterPath) {
        return new Builder(client, clusterPath);
    }

    /** Builds a {@link ControllerAdmin}. */
    public static final class Builder {
        private final CuratorFramework client;
        private final String clusterPath;
        private Duration pollInterval = Duration.ofMillis(50);

        private Builder(CuratorFramework client, String clusterPath) {
            this.client = Preconditions.checkNotNull(client, "client");
            this.clusterPath = Preconditions.checkNotNull(clusterPath, "clusterPath");
            ControllerPaths.partitions(clusterPath); // a valid path
        }

        /** How often a waiting operation reads ZooKeeper again; 50 ms by default. */
        public Builder pollInterval(Duration interval) {
            Preconditions.checkArgument(!interval.isNegative() && !interval.isZero(), "interval must be positive");
            this.pollInterval = interval;
            return this;
        }

        /** The admin. */
        public ControllerAdmin build() {
            return new ControllerAdmin(this);
        }
    }

    /**
     * A partition set as ZooKeeper holds it.
     *
     * @param set what it is
     * @param status where its creation or deletion stands
     * @param replicaSets each partition's replica set as placed, preferred leader first, by partition id
     * @param states each partition's state, by partition id (absent for a partition without one yet)
     */
    public record PartitionSetDescription(
            PartitionSet set,
            PartitionSets.Status status,
            Map<String, List<String>> replicaSets,
            Map<String, PartitionState> states) {
        /** Copies. */
        public PartitionSetDescription {
            replicaSets = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(replicaSets));
            states = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(states));
        }

        /** Whether every partition has a leader. */
        public boolean everyPartitionLed() {
            return replicaSets.keySet().stream()
                    .allMatch(
                            p -> states.containsKey(p) && states.get(p).leader().isPresent());
        }
    }

    /**
     * Creates partition set {@code name} of {@code partitions} partitions with {@code replicationFactor} replicas each
     * (Kafka's {@code createTopics}).
     *
     * @return completes once the set is created and every partition has a leader, with its description
     * @throws IllegalArgumentException if the name, the partition count, the replication factor or a setting is not
     *     valid (nothing is written)
     * @throws IllegalStateException if closed
     */
    public CompletableFuture<PartitionSetDescription> createPartitionSet(
            String name, int partitions, int replicationFactor, Map<String, String> settings) {
        checkOpen();
        PartitionSet set = new PartitionSet(name, partitions, replicationFactor, settings);
        return submit(done -> {
            int nodes = children(ControllerPaths.nodes(clusterPath)).size();
            if (replicationFactor > nodes) {
                throw new IllegalArgumentException(
                        "replication factor " + replicationFactor + " is above the " + nodes + " registered nodes");
            }
            if (client.checkExists().forPath(ControllerPaths.partitionSet(clusterPath, name)) != null) {
                throw new IllegalStateException("partition set " + name + " exists");
            }
            String request = ControllerPaths.createRequest(clusterPath, name);
            try {
                client.create()
                        .creatingParentsIfNeeded()
                        .withMode(CreateMode.PERSISTENT)
                        .forPath(request, PartitionSetRecord.encodeRequest(set, Optional.empty()));
            } catch (KeeperException.NodeExistsException e) {
                throw new IllegalStateException("partition set " + name + " is being created already");
            }
            poll(done, () -> {
                Optional<String> refused = refusal(request, true);
                if (refused.isPresent()) {
                    throw refusedError(refused.get());
                }
                if (client.checkExists().forPath(request) != null) {
                    return Optional.empty(); // not taken up yet
                }
                Optional<PartitionSetDescription> d = read(name);
                if (d.isEmpty() || d.get().status() == PartitionSets.Status.DELETING) {
                    throw new IllegalStateException("partition set " + name + " was deleted while being created");
                }
                return d.get().status() == PartitionSets.Status.CREATED
                                && d.get().everyPartitionLed()
                        ? d
                        : Optional.empty();
            });
        });
    }

    /**
     * Deletes partition set {@code name} (Kafka's {@code deleteTopics}): every replica is closed and its data deleted,
     * then the partitions' and the set's ZooKeeper nodes are removed.
     *
     * @return completes once the set and its partitions are gone; fails with {@link NoSuchElementException} if there
     *     is no such set
     * @throws IllegalArgumentException if the name is not valid
     * @throws IllegalStateException if closed
     */
    public CompletableFuture<Void> deletePartitionSet(String name) {
        checkOpen();
        PartitionSet.checkName(name);
        return submit(done -> {
                    Optional<PartitionSetDescription> d = read(name);
                    if (d.isEmpty()) {
                        throw new NoSuchElementException("no partition set " + name);
                    }
                    List<String> ids = d.get().set().partitionIds();
                    String request = ControllerPaths.deleteRequest(clusterPath, name);
                    if (d.get().status() != PartitionSets.Status.DELETING) {
                        try {
                            client.create()
                                    .creatingParentsIfNeeded()
                                    .withMode(CreateMode.PERSISTENT)
                                    .forPath(request, new byte[0]);
                        } catch (KeeperException.NodeExistsException e) {
                            // asked already: wait for the same deletion
                        }
                    }
                    poll(done, () -> {
                        Optional<String> refused = refusal(request, false);
                        if (refused.isPresent()) {
                            throw refusedError(refused.get());
                        }
                        if (client.checkExists().forPath(ControllerPaths.partitionSet(clusterPath, name)) != null) {
                            return Optional.empty();
                        }
                        for (String p : ids) {
                            if (client.checkExists().forPath(ControllerPaths.partition(clusterPath, p)) != null) {
                                return Optional.empty();
                            }
                        }
                        return Optional.of(true);
                    });
                })
                .thenApply(x -> null);
    }

    /** The partition sets, by name, with their partitions' states. @throws IllegalStateException if closed */
    public CompletableFuture<Map<String, PartitionSetDescription>> listPartitionSets() {
        checkOpen();
        return submit(done -> {
            Map<String, PartitionSetDescription> all = new java.util.TreeMap<>();
            for (String name : children(ControllerPaths.partitionSets(clusterPath))) {
                read(name).ifPresent(d -> all.put(name, d));
            }
            done.complete(java.util.Collections.unmodifiableMap(all));
        });
    }

    /**
     * Partition set {@code name} with its partitions' states.
     *
     * @return fails with {@link NoSuchElementException} if there is no such set
     * @throws IllegalArgumentException if the name is not valid
     * @throws IllegalStateException if closed
     */
    public CompletableFuture<PartitionSetDescription> describe(String name) {
        checkOpen();
        PartitionSet.checkName(name);
        return submit(done ->
                done.complete(read(name).orElseThrow(() -> new NoSuchElementException("no partition set " + name))));
    }

    /**
     * Asks the controller to move {@code partitions} (every partition if empty) to their preferred replica (Kafka's
     * preferred-replica election).
     *
     * @return completes once the controller took the request and each of those partitions whose preferred replica is
     *     registered is led by it
     * @throws IllegalArgumentException if a partition id is not valid
     * @throws IllegalStateException if closed
     */
    public CompletableFuture<Void> electPreferredLeaders(Collection<String> partitions) {
        checkOpen();
        List<String> ids = List.copyOf(partitions);
        ids.forEach(ControllerPaths::checkPartitionId);
        String request = ControllerPaths.preferredElection(clusterPath);
        return submit(done -> {
                    boolean[] asked = {false};
                    poll(done, () -> {
                        if (!asked[0]) {
                            try {
                                client.create()
                                        .creatingParentsIfNeeded()
                                        .withMode(CreateMode.PERSISTENT)
                                        .forPath(request, String.join(",", ids).getBytes(StandardCharsets.UTF_8));
                                asked[0] = true;
                            } catch (KeeperException.NodeExistsException e) {
                                return Optional.empty(); // another election asked for: ours once it is taken up
                            }
                        }
                        if (client.checkExists().forPath(request) != null) {
                            return Optional.empty();
                        }
                        Set<String> registered = Set.copyOf(children(ControllerPaths.nodes(clusterPath)));
                        Map<String, VersionedState> all = states.readAll();
                        for (VersionedState s : all.values()) {
                            if (!ids.isEmpty() && !ids.contains(s.partition())) {
                                continue;
                            }
                            String preferred = s.state().preferredLeader();
                            if (registered.contains(preferred)
                                    && !s.state()
                                            .leader()
                                            .map(preferred::equals)
                                            .orElse(false)) {
                                return Optional.empty();
                            }
                        }
                        return Optional.of(true);
                    });
                })
                .thenApply(x -> null);
    }

    /** Stops waiting: futures not completed fail with {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        closed = true;
        thread.shutdownNow();
        List<CompletableFuture<?>> left;
        synchronized (pending) {
            left = List.copyOf(pending);
        }
        for (CompletableFuture<?> f : left) {
            f.completeExceptionally(new IllegalStateException("the admin was closed"));
        }
    }

    private void checkOpen() {
        Preconditions.checkState(!closed, "the admin of %s is closed", clusterPath);
    }

    private Optional<PartitionSetDescription> read(String name) throws Exception {
        String path = ControllerPaths.partitionSet(clusterPath, name);
        byte[] data;
        try {
            data = client.getData().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
        PartitionSets.SetRecord r = PartitionSetRecord.decode(data, path);
        Map<String, PartitionState> found = new LinkedHashMap<>();
        for (String p : r.set().partitionIds()) {
            states.read(p).ifPresent(s -> found.put(p, s.state()));
        }
        return Optional.of(new PartitionSetDescription(r.set(), r.status(), r.replicaSets(), found));
    }

    /** The reason the controller wrote into a request it refused, removing the request; empty if none. */
    private Optional<String> refusal(String request, boolean create) throws Exception {
        byte[] data;
        try {
            data = client.getData().forPath(request);
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        }
        Optional<String> reason;
        if (create) {
            reason = PartitionSetRecord.decodeRequest(data, request).error();
        } else {
            String text = new String(data, StandardCharsets.UTF_8);
            reason = text.startsWith("error=") ? Optional.of(text.substring("error=".length())) : Optional.empty();
        }
        if (reason.isPresent()) {
            try {
                client.delete().forPath(request);
            } catch (KeeperException.NoNodeException e) {
                // removed meanwhile
            }
        }
        return reason;
    }

    private static RuntimeException refusedError(String reason) {
        if (reason.contains(" exists")) {
            return new IllegalStateException(reason);
        }
        if (reason.startsWith("no partition set")) {
            return new NoSuchElementException(reason);
        }
        return new IllegalArgumentException(reason);
    }

    private List<String> children(String path) throws Exception {
        try {
            return client.getChildren().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    @FunctionalInterface
    private interface Step<T> {
        void run(CompletableFuture<T> done) throws Exception;
    }

    @FunctionalInterface
    private interface Check<T> {
        Optional<T> check() throws Exception;
    }

    private <T> CompletableFuture<T> submit(Step<T> step) {
        CompletableFuture<T> done = new CompletableFuture<>();
        synchronized (pending) {
            pending.removeIf(CompletableFuture::isDone);
            pending.add(done);
        }
        try {
            thread.execute(() -> {
                try {
                    step.run(done);
                } catch (Exception e) {
                    done.completeExceptionally(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.completeExceptionally(new IllegalStateException("the admin was closed"));
        }
        return done;
    }

    /** Runs {@code check} now and every poll interval until it gives a value or throws. */
    private <T> void poll(CompletableFuture<T> done, Check<T> check) {
        if (done.isDone() || closed) {
            return;
        }
        try {
            Optional<T> v = check.check();
            if (v.isPresent()) {
                done.complete(v.get());
                return;
            }
        } catch (Exception e) {
            done.completeExceptionally(e);
            return;
        }
        try {
            java.util.concurrent.Future<?> unused =
                    thread.schedule(() -> poll(done, check), pollInterval.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.completeExceptionally(new IllegalStateException("the admin was closed"));
        }
    }

    @Override
    public String toString() {
        return "ControllerAdmin[" + clusterPath + "]";
    }
}
