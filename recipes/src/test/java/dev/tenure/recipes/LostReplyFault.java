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

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * A Curator {@link ZookeeperFactory} whose handles can lose the reply to a {@code multi}: once armed, the
 * next {@code multi} that succeeds on the server throws {@link KeeperException.ConnectionLossException} to
 * its caller instead of returning, as when the connection drops after the server committed the request.
 * The connection itself stays up, so whatever the client does next reaches the server. Thread-safe.
 */
final class LostReplyFault implements ZookeeperFactory {
    /** Runs after the lost multi committed and before the loss is reported. */
    interface AfterCommit {
        void run() throws Exception;
    }

    private final AtomicInteger armed = new AtomicInteger();
    private final AtomicInteger lost = new AtomicInteger();
    private volatile AfterCommit afterCommit = () -> {};

    /** Loses the reply of the next successful {@code multi}. */
    void loseNextReply() {
        armed.incrementAndGet();
    }

    /** As {@link #loseNextReply()}, running {@code action} between the commit and the reported loss. */
    void loseNextReply(AfterCommit action) {
        afterCommit = action;
        armed.incrementAndGet();
    }

    /** How many replies were lost so far. */
    int lostReplies() {
        return lost.get();
    }

    @Override
    public ZooKeeper newZooKeeper(String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly)
            throws Exception {
        return newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, new ZKClientConfig());
    }

    @Override
    // [try]: ZooKeeper.close() throws InterruptedException; the subclass below only overrides multi().
    @SuppressWarnings("try")
    public ZooKeeper newZooKeeper(
            String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly, ZKClientConfig config)
            throws Exception {
        // Curator's default factory makes a ZooKeeperAdmin; so does this one.
        return new ZooKeeperAdmin(connectString, sessionTimeout, watcher, canBeReadOnly, config) {
            @Override
            public List<OpResult> multi(Iterable<Op> ops) throws InterruptedException, KeeperException {
                List<OpResult> results = super.multi(ops);
                if (armed.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    runElsewhere(afterCommit);
                    lost.incrementAndGet();
                    throw new KeeperException.ConnectionLossException();
                }
                return results;
            }
        };
    }

    /**
     * Runs the action on another thread and waits for it: Curator shares one retry loop among the nested
     * operations of a thread, so a Curator call made inside the caller's multi would end the caller's loop.
     */
    private static void runElsewhere(AfterCommit action) throws InterruptedException {
        try {
            CompletableFuture.runAsync(() -> {
                        try {
                            action.run();
                        } catch (Exception e) {
                            throw new CompletionException(e);
                        }
                    })
                    .get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the action after the lost commit failed", e.getCause());
        }
    }
}
