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

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;

/**
 * A process's registration in ZooKeeper — an ephemeral node saying where it can be reached — kept by Curator's
 * {@link PersistentNode} (created again after a session expires; a node left by the same process's previous session
 * is taken over), whose {@link #close()} never waits on ZooKeeper.
 *
 * <p>Curator's {@code PersistentNode.close()} deletes the node in the foreground: while ZooKeeper is unreachable it
 * blocks for the client's connection timeout and more (12–16 s measured), so a process told to stop while its
 * ensemble is down could not stop promptly. Here close stops the node's upkeep at once and sends the delete in the
 * background, guaranteed (Curator retries it after a reconnection while the session lives); a session that ends first
 * takes the ephemeral node with it. A peer therefore sees the registration go one round trip after close while
 * ZooKeeper is reachable, and at the latest when the session ends.
 *
 * <p>Thread-safe, as {@link PersistentNode}: start once; close is idempotent.
 */
public final class RegistrationNode extends PersistentNode {
    private final CuratorFramework client;

    /** An ephemeral node at {@code path} holding {@code data}; {@link #start()} it. */
    public RegistrationNode(CuratorFramework client, String path, byte[] data) {
        super(client, CreateMode.EPHEMERAL, false, path, data);
        this.client = client;
    }

    /** Called by {@link PersistentNode#close()} once the upkeep stopped: the delete goes in the background. */
    @Override
    protected void deleteNode() throws Exception {
        String path = getActualPath();
        if (path != null) {
            client.delete().guaranteed().inBackground().forPath(path);
        }
    }
}
