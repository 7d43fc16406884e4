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

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.Transport;
import java.util.function.Consumer;

/**
 * <b>Breaks replication on purpose</b>: a transport that answers every append this replica sends with a forged
 * acknowledgement from its follower, as if the follower held the entries durably, so a leader commits (and
 * acknowledges writes) without a majority. It exists only so that the verification harness's own tests can show
 * that its checker catches lost acknowledged writes; the replication core itself has no unsafe mode.
 */
public final class EarlyAcks implements Transport {
    private final Transport inner;
    private volatile Consumer<Message> inbound = m -> {};

    public EarlyAcks(Transport inner) {
        this.inner = inner;
    }

    @Override
    public void start(Consumer<Message> inbound) throws Exception {
        this.inbound = inbound;
        inner.start(inbound);
    }

    @Override
    public void send(Message message) {
        inner.send(message);
        if (message instanceof Message.Append a && !a.entries().isEmpty()) {
            inbound.accept(new Message.AppendAck(
                    a.to(),
                    a.from(),
                    a.epoch(),
                    a.prevOffset() + 1 + a.entries().size(),
                    a.probe()));
        }
    }

    @Override
    public void close() {
        inner.close();
    }
}
