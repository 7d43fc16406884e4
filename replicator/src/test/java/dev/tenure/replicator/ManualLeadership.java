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
package dev.tenure.replicator;

import java.util.ArrayList;
import java.util.List;

/** Leadership driven by the test: elect and revoke by hand. */
final class ManualLeadership implements Leadership {
    private Events events;
    final List<Long> stepDowns = new ArrayList<>();

    @Override
    public synchronized void start(Events events) {
        this.events = events;
    }

    synchronized void elect(long epoch) {
        events.elected(epoch);
    }

    synchronized void revoke(long epoch) {
        events.revoked(epoch);
    }

    @Override
    public synchronized void stepDown(long epoch) {
        stepDowns.add(epoch);
    }

    @Override
    public void close() {}
}
