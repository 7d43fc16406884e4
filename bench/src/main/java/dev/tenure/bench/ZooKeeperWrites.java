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
package dev.tenure.bench;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;

/**
 * The baseline: the same writes made straight into ZooKeeper through Curator. Writer {@code w} overwrites
 * the data of its own znode {@code BASE/w-w} with {@code setData} in the background (asynchronously), so a
 * write completes once the ZooKeeper quorum has committed it (logged, with {@code fsync} unless disabled,
 * on a majority) and the server the client talks to has applied it.
 */
final class ZooKeeperWrites implements ClosedLoop.Operation {
    private final CuratorFramework client;
    private final String[] paths;

    /** Creates the writers' znodes (empty) under {@code base}, or reuses them. */
    ZooKeeperWrites(CuratorFramework client, String base, int writers) throws Exception {
        this.client = client;
        this.paths = new String[writers];
        for (int w = 0; w < writers; w++) {
            paths[w] = ZKPaths.makePath(base, "w-" + w);
            if (client.checkExists().forPath(paths[w]) == null) {
                client.create().creatingParentsIfNeeded().forPath(paths[w], new byte[0]);
            }
        }
    }

    @Override
    public void start(int writer, byte[] value, ClosedLoop.Completion done) throws Exception {
        client.setData()
                .inBackground((c, event) -> {
                    int rc = event.getResultCode();
                    done.completed(
                            rc == KeeperException.Code.OK.intValue()
                                    ? null
                                    : KeeperException.create(KeeperException.Code.get(rc), event.getPath()));
                })
                .forPath(paths[writer], value);
    }
}
