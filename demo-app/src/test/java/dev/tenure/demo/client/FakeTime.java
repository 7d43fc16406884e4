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
package dev.tenure.demo.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/** A clock that only moves when the client sleeps; records the sleeps. Optionally runs an action per sleep. */
final class FakeTime implements Sleeper, LongSupplier {
    private long nanos = 1_000_000_000L;
    private final List<Duration> sleeps = new ArrayList<>();
    private Runnable onSleep = () -> {};

    @Override
    public synchronized void sleep(Duration duration) {
        sleeps.add(duration);
        nanos += duration.toNanos();
        onSleep.run();
    }

    @Override
    public synchronized long getAsLong() {
        return nanos;
    }

    synchronized List<Duration> sleeps() {
        return List.copyOf(sleeps);
    }

    synchronized Duration slept() {
        return sleeps.stream().reduce(Duration.ZERO, Duration::plus);
    }

    synchronized void onSleep(Runnable action) {
        this.onSleep = action;
    }

    KvClient client(java.net.URI url, Duration timeout) {
        return new KvClient(url, timeout, this, this);
    }
}
