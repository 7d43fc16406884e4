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

import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import dev.tenure.controller.core.PartitionSet;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.replicator.zookeeper.ZooKeeperNode;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ControllerNode}'s replicas as the controller assigns them: with a {@link PartitionFactory}, opens every
 * partition whose newest state names this node a replica and that the node does not host (again every second while
 * an open fails); with or without one, closes a replica and deletes its data when a state no longer names this node a
 * replica, or when the controller asks to delete it ({@link dev.tenure.controller.wire.ControlMessage.StopReplicas}).
 * A partition merely missing from a full assignment is never closed: it may be one the application opened that the
 * controller has not read yet.
 *
 * <p>Thread-safe: every change runs on the host's own thread, one at a time (opening waits there for ZooKeeper and the
 * partition's files); calls from the agent never block.
 */
final class ReplicaHosting implements NodeAgent.ReplicaHost, Closeable {
    private static final Logger log = LoggerFactory.getLogger(ReplicaHosting.class);
    private static final long OPEN_TIMEOUT_SECONDS = 60;

    private final String self;
    private final Path partitionsDir;
    private final Supplier<ZooKeeperNode> node;
    private final PartitionFactory factory;
    private final ScheduledExecutorService thread;

    /** The newest state of each partition that names this node a replica (host thread only). */
    private final Map<String, PartitionState> wanted = new TreeMap<>();

    private ScheduledFuture<?> retry;
    private volatile boolean closed;

    /**
     * @param partitionsDir where the node keeps its partitions' directories ({@code dataDir/partitions})
     * @param factory makes the state machines of partitions to open; null to open none
     */
    ReplicaHosting(String self, Path partitionsDir, Supplier<ZooKeeperNode> node, PartitionFactory factory) {
        this.self = self;
        this.partitionsDir = partitionsDir;
        this.node = node;
        this.factory = factory;
        this.thread = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                new com.google.common.util.concurrent.ThreadFactoryBuilder()
                        .setDaemon(true)
                        .setNameFormat(("tenure-replica-host-" + self).replace("%", "%%"))
                        .build());
    }

    @Override
    public void statesChanged(Map<String, Optional<PartitionState>> states) {
        Map<String, Optional<PartitionState>> copy = Map.copyOf(states);
        run(() -> {
            copy.forEach((p, s) -> {
                if (s.isEmpty()) {
                    wanted.remove(p); // not opened any more, and not closed: see the class comment
                } else if (s.get().members().contains(self)) { // a learner too
                    wanted.put(p, s.get());
                } else {
                    wanted.remove(p);
                    delete(p);
                }
            });
            reconcile();
        });
    }

    @Override
    public CompletableFuture<Void> deleteReplicas(List<String> partitions) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<String> copy = List.copyOf(partitions);
        boolean queued = run(() -> {
            try {
                for (String p : copy) {
                    wanted.remove(p);
                    delete(p);
                }
                done.complete(null);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        if (!queued) {
            done.completeExceptionally(new IllegalStateException("node " + self + " is closing"));
        }
        return done;
    }

    /** Closes this node's replica of {@code partition} if it hosts it, and deletes its files. */
    private void delete(String partition) {
        ZooKeeperNode n = node.get();
        Path dir = partitionsDir.resolve(partition);
        try {
            if (n != null) {
                n.deletePartition(partition);
            } else if (Files.exists(dir)) {
                MoreFiles.deleteRecursively(dir, RecursiveDeleteOption.ALLOW_INSECURE);
            }
            log.info("node {}: deleted its replica of partition {} ({})", self, partition, dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot delete " + dir, e);
        }
    }

    /** Opens every wanted partition not hosted yet; if one fails, tries again in a second. */
    private void reconcile() {
        ZooKeeperNode n = node.get();
        if (factory == null || n == null || closed) {
            return;
        }
        List<ZooKeeperNode.PartitionSpec> specs = new ArrayList<>();
        boolean failed = false;
        for (Map.Entry<String, PartitionState> e : wanted.entrySet()) {
            String p = e.getKey();
            if (n.hostsOrOpens(p)) {
                continue; // hosted, or opened by the application right now
            }
            try {
                specs.add(new ZooKeeperNode.PartitionSpec(
                        p, e.getValue().replicas(), factory.newStateMachine(p, PartitionSet.nameOf(p))));
            } catch (Exception ex) {
                failed = true;
                log.warn("node {}: the partition factory failed for {}; trying again: {}", self, p, ex.toString());
            }
        }
        if (!specs.isEmpty()) {
            try {
                List<CompletableFuture<ZooKeeperNode.Partition>> opening = n.openAll(specs);
                for (int i = 0; i < opening.size(); i++) {
                    try {
                        opening.get(i).get(OPEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    } catch (ExecutionException | TimeoutException ex) {
                        if (n.partition(specs.get(i).id()).isPresent()) {
                            continue; // the application opened it meanwhile: hosted all the same
                        }
                        failed = true;
                        Throwable cause = ex instanceof ExecutionException ? ex.getCause() : ex;
                        log.warn(
                                "node {}: cannot open partition {} yet; trying again: {}",
                                self,
                                specs.get(i).id(),
                                String.valueOf(cause));
                    }
                }
                log.info("node {}: opened {} partitions the controller assigned it", self, specs.size());
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            } catch (IllegalStateException ex) {
                return; // the node stopped
            }
        }
        if (failed && (retry == null || retry.isDone()) && !closed) {
            try {
                retry = thread.schedule(this::reconcile, 1, TimeUnit.SECONDS);
            } catch (RejectedExecutionException closing) {
                // closed meanwhile
            }
        }
    }

    private boolean run(Runnable task) {
        if (closed) {
            return false;
        }
        try {
            thread.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.error("node {}: replica host task failed", self, e);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("node {}: the replica host did not stop within 10 s", self);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
