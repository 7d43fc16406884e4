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

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.Transport;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** Partitions for any transport: a decorator that loses messages on cut links, in both directions. */
final class CutLinks {
    private final Set<String> cut = ConcurrentHashMap.newKeySet();

    Transport wrap(Transport inner) {
        return new Transport() {
            @Override
            public void start(Consumer<Message> inbound) throws Exception {
                inner.start(m -> {
                    if (!isCut(m)) {
                        inbound.accept(m);
                    }
                });
            }

            @Override
            public void send(Message m) {
                if (!isCut(m)) {
                    inner.send(m);
                }
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }

    private boolean isCut(Message m) {
        return cut.contains(m.from() + ">" + m.to());
    }

    void isolate(String id, Iterable<String> all) {
        for (String o : all) {
            if (!o.equals(id)) {
                cut.add(id + ">" + o);
                cut.add(o + ">" + id);
            }
        }
    }

    void healAll() {
        cut.clear();
    }
}
