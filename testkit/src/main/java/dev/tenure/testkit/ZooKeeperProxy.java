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
package dev.tenure.testkit;

import com.google.common.base.Preconditions;
import dev.tenure.harness.LinkProxy;
import dev.tenure.harness.Links;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A loopback TCP proxy placed in front of every server of an ensemble, so a test can cut one client off
 * from ZooKeeper without touching the servers or expiring the session by itself. A thin face of the harness's
 * {@link LinkProxy}: {@link #cut()} is its {@link LinkProxy#drop() drop}.
 *
 * <p>Give the client {@link #connectString()} instead of the ensemble's, with Curator's ensemble tracking off
 * ({@link ZooKeeperEnsemble#clientBuilder(ZooKeeperProxy)} does both). {@link #cut()} resets every
 * proxied connection and refuses new ones (the client sees the connection drop at once and goes
 * {@code SUSPENDED}; if the cut lasts longer than the session timeout, the servers expire the session).
 * {@link #heal()} lets connections through again.
 *
 * <p>Thread-safe. Binds to 127.0.0.1 only. {@link #close()} stops every thread it started.
 */
public final class ZooKeeperProxy implements Closeable {
    private final Links links = new Links();
    private final LinkProxy proxy;

    /**
     * Starts a proxy with one listening port per target address.
     *
     * @param targets the servers' client addresses
     * @throws IOException if a loopback port cannot be bound
     */
    public ZooKeeperProxy(List<InetSocketAddress> targets) throws IOException {
        Preconditions.checkArgument(!targets.isEmpty(), "at least one target is required");
        this.proxy = new LinkProxy("zk", targets, LinkProxy.fixed("zk"), links);
    }

    /** The connect string a client uses to reach the ensemble through this proxy. */
    public String connectString() {
        return proxy.connectString();
    }

    /**
     * Resets every proxied connection and refuses new ones until {@link #heal()}.
     *
     * @throws IllegalStateException if closed
     */
    public void cut() {
        proxy.drop();
    }

    /**
     * Lets connections through again after {@link #cut()}.
     *
     * @throws IllegalStateException if closed
     */
    public void heal() {
        proxy.heal();
    }

    /** Whether the proxy is currently cut. */
    public boolean isCut() {
        return proxy.isDropping();
    }

    @Override
    public void close() {
        proxy.close();
        links.close();
    }
}
