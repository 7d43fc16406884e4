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
package dev.tenure.harness;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Which network links are cut. A link is a name: {@code "r1->r2"} is the replication connection replica r1 opens
 * to replica r2 (r1's messages to r2 travel on it), {@code "zk:r1"} is replica r1's link to every ZooKeeper
 * server. {@link LinkProxy proxies} consult it before moving each chunk of bytes. A proxy of its own (testkit's
 * {@code ZooKeeperProxy}) may use a {@code Links} no one cuts.
 *
 * <p>Thread-safe. Waiting threads wake on {@link #heal}, {@link #healAll} and {@link #close}.
 */
public final class Links implements AutoCloseable {
    private final Set<String> cut = new TreeSet<>();
    private boolean closed;

    /** The link carrying {@code from}'s replication messages to {@code to}. */
    public static String replication(String from, String to) {
        return from + "->" + to;
    }

    /** The link between replica {@code replica} and the ZooKeeper ensemble. */
    public static String zooKeeper(String replica) {
        return "zk:" + replica;
    }

    /** Cuts the links: bytes on them stop moving (they are held, not dropped) and new connections hang. */
    public synchronized void cut(Collection<String> links) {
        cut.addAll(links);
    }

    /** Heals the links: held bytes move on. */
    public synchronized void heal(Collection<String> links) {
        cut.removeAll(links);
        notifyAll();
    }

    /** Heals every link. */
    public synchronized void healAll() {
        cut.clear();
        notifyAll();
    }

    /**
     * Waits while {@code link} is cut.
     *
     * @return false if closed while waiting (or before)
     */
    public synchronized boolean awaitOpen(String link) throws InterruptedException {
        while (!closed && cut.contains(link)) {
            wait(TimeUnit.SECONDS.toMillis(1));
        }
        return !closed;
    }

    /** Wakes every waiter for good. */
    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
    }
}
