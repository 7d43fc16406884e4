package dev.tenure.replicator.testing;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.Transport;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * An in-process network of {@link Transport}s for tests and examples: messages are handed directly to the
 * receiver's inbound consumer (on the sender's thread), links can be cut, and messages can be dropped by a filter.
 *
 * <p>Thread-safe.
 */
public final class InMemoryNetwork {
    private final Map<String, Consumer<Message>> inbound = new ConcurrentHashMap<>();
    private final Set<String> cut = ConcurrentHashMap.newKeySet();
    private volatile Predicate<Message> drop = m -> false;

    /** The transport of replica {@code id} on this network. */
    public Transport transport(String id) {
        return new Transport() {
            @Override
            public void start(Consumer<Message> consumer) {
                if (inbound.putIfAbsent(id, consumer) != null) {
                    throw new IllegalStateException("replica " + id + " is already on the network");
                }
            }

            @Override
            public void send(Message m) {
                if (!m.from().equals(id) || cut.contains(m.from() + ">" + m.to()) || drop.test(m)) {
                    return;
                }
                Consumer<Message> to = inbound.get(m.to());
                if (to != null) {
                    to.accept(m);
                }
            }

            @Override
            public void close() {
                inbound.remove(id);
            }
        };
    }

    /** Cuts both directions between {@code a} and {@code b}. */
    public void cut(String a, String b) {
        cut.add(a + ">" + b);
        cut.add(b + ">" + a);
    }

    /** Cuts {@code id} off from every other replica. */
    public void isolate(String id, Iterable<String> others) {
        for (String o : others) {
            if (!o.equals(id)) {
                cut(id, o);
            }
        }
    }

    /** Restores every cut link and stops dropping messages. */
    public void healAll() {
        cut.clear();
        drop = m -> false;
    }

    /** Drops every message sent from now on that {@code filter} matches (called on the sender's thread). */
    public void drop(Predicate<Message> filter) {
        drop = java.util.Objects.requireNonNull(filter, "filter");
    }
}
