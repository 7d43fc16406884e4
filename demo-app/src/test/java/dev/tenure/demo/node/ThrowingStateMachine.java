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
package dev.tenure.demo.node;

import dev.tenure.replicator.StateMachine;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A replica's state machine that delegates to the key-value store until it is armed, then throws instead of
 * applying the n-th entry after arming: the test side of {@link EmbeddedCluster}'s state-machine seam, for tests in
 * other packages too.
 */
public final class ThrowingStateMachine implements StateMachine {
    private final StateMachine delegate;
    private final AtomicInteger countdown = new AtomicInteger();
    private volatile String message = "";

    private ThrowingStateMachine(StateMachine delegate) {
        this.delegate = delegate;
    }

    /**
     * Wraps the state machine of every replica of {@code cluster} (call before it starts); the returned map is
     * filled, by replica id, as the cluster starts its replicas.
     */
    public static Map<String, ThrowingStateMachine> wrapEvery(EmbeddedCluster cluster) {
        Map<String, ThrowingStateMachine> machines = new ConcurrentHashMap<>();
        cluster.stateMachineWrapper((id, machine) -> {
            ThrowingStateMachine m = new ThrowingStateMachine(machine);
            machines.put(id, m);
            return m;
        });
        return machines;
    }

    /** From now on, throws an {@link IllegalArgumentException} with {@code message} on the {@code n}-th entry. */
    public void throwOnNth(int n, String message) {
        this.message = message;
        countdown.set(n);
    }

    @Override
    public Object apply(long epoch, long offset, byte[] payload) {
        if (countdown.get() > 0 && countdown.decrementAndGet() == 0) {
            throw new IllegalArgumentException(message + " (the entry at offset " + offset + ")");
        }
        return delegate.apply(epoch, offset, payload);
    }

    @Override
    public long appliedOffset() {
        return delegate.appliedOffset();
    }
}
