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
