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
package dev.tenure.replicator.testing;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.Transport;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Fault injection for demos and tests: while paused, a replica's replication traffic waits in both
 * directions, as a stopped process's socket buffers would; on resume it flows again, late.
 *
 * <p>Thread-safe: {@link #pause} and {@link #resume} may be called from any thread. Held messages may be overtaken by
 * ones sent while {@link #resume} delivers them, and one that races with {@link #resume} stays held until the next one.
 */
public final class PausableTransport implements Transport {
    private final Transport inner;
    private final ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();
    private volatile boolean paused;

    /** Wraps {@code inner}; starts unpaused. */
    public PausableTransport(Transport inner) {
        this.inner = inner;
    }

    @Override
    public void start(Consumer<Message> inbound) throws Exception {
        inner.start(m -> {
            if (paused) {
                held.add(() -> inbound.accept(m));
            } else {
                inbound.accept(m);
            }
        });
    }

    @Override
    public void send(Message m) {
        if (paused) {
            held.add(() -> inner.send(m));
        } else {
            inner.send(m);
        }
    }

    /** Holds traffic in both directions until {@link #resume}. */
    public void pause() {
        paused = true;
    }

    /** Delivers everything held, in order, then lets traffic through. */
    public void resume() {
        paused = false;
        Runnable r;
        while ((r = held.poll()) != null) {
            r.run();
        }
    }

    @Override
    public void close() {
        inner.close();
    }
}
