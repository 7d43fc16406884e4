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
package dev.tenure.replicator.transport;

import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the received messages a transport has handed on and its consumer has not yet handled: back-pressure
 * instead of an unbounded inbound queue. A transport takes one unit ({@link #take}) for each message it hands to
 * its consumer; the consumer gives it back ({@link #giveBack}) once it has handled the message (or dropped it).
 * When more than {@link #limit} units are out the budget is exhausted: the transport stops reading from its
 * connections (TCP then holds the senders back) and asks to be called ({@link #whenAvailable}) once the consumer
 * has caught up to half the limit.
 *
 * <p>Thread-safe: units are taken on transport threads and given back on the consumer's threads. A callback runs on
 * the thread that gave back the unit which made the budget available (or on the caller's, at once, if it already
 * is): it must only hand work off.
 */
public final class InboundBudget {
    /** The default limit: 8,192 messages handed on and not yet handled. */
    public static final int DEFAULT_LIMIT = 8192;

    private static final InboundBudget UNLIMITED = new InboundBudget(Integer.MAX_VALUE);

    private final int limit;
    private final int resumeAt;
    private final AtomicInteger out = new AtomicInteger();
    private final List<Runnable> waiting = new ArrayList<>();

    /**
     * A budget of {@code limit} units.
     *
     * @throws IllegalArgumentException if {@code limit < 1}
     */
    public InboundBudget(int limit) {
        Preconditions.checkArgument(limit >= 1, "an inbound budget must allow at least one message, not %s", limit);
        this.limit = limit;
        this.resumeAt = limit / 2;
    }

    /** A budget that is never exhausted, for consumers that handle each message before they return. */
    public static InboundBudget unlimited() {
        return UNLIMITED;
    }

    /** The most units out before the budget is exhausted. */
    public int limit() {
        return limit;
    }

    /** Units taken and not yet given back. */
    public int outstanding() {
        return out.get();
    }

    /** Takes one unit for a message handed to the consumer. */
    public void take() {
        if (this != UNLIMITED) {
            out.incrementAndGet();
        }
    }

    /** Gives back the unit of a message the consumer has handled or dropped. */
    public void giveBack() {
        if (this == UNLIMITED) {
            return;
        }
        int now = out.decrementAndGet();
        if (now == resumeAt) {
            runWaiting();
        }
    }

    /** True while more than {@link #limit} units are out: the transport should stop reading. */
    public boolean exhausted() {
        return out.get() > limit;
    }

    /**
     * Runs {@code callback} once the consumer has caught up to half the limit: at once, on this thread, if it
     * already has, else on the thread that gives back the unit that gets it there.
     */
    public void whenAvailable(Runnable callback) {
        synchronized (waiting) {
            if (out.get() > resumeAt) {
                waiting.add(callback);
                return;
            }
        }
        callback.run();
    }

    private void runWaiting() {
        List<Runnable> ready;
        synchronized (waiting) {
            if (waiting.isEmpty() || out.get() > resumeAt) {
                return;
            }
            ready = new ArrayList<>(waiting);
            waiting.clear();
        }
        ready.forEach(Runnable::run);
    }

    @Override
    public String toString() {
        return this == UNLIMITED ? "InboundBudget[unlimited]" : "InboundBudget[" + out.get() + "/" + limit + "]";
    }
}
