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

import dev.tenure.replicator.core.Message;
import java.io.Closeable;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shares one {@link NodeTransport} among the partitions a node hosts: hands out a {@link Transport} per partition
 * ({@link #partition}) whose messages travel tagged with that partition, and routes every received message to the
 * view of its partition, and only to it.
 *
 * <p><b>Routing rule.</b> A message received for partition {@code p} is handed to the consumer given to the
 * {@link Transport#start start} of the open view of {@code p}, on the transport's thread. If no view of {@code p}
 * is started on this node (it was never opened, is not open yet, or was closed), the message is dropped and
 * counted ({@link #unknownPartitionMessages()}), with a WARN at most once per partition every {@link
 * #DEFAULT_WARN_INTERVAL}; the connection it came on and every other partition are unaffected: the sender
 * retransmits, and is heard once the partition opens. A view's consumer that throws is logged and affects no
 * other partition.
 *
 * <p><b>Views.</b> At most one view of a partition is open at a time: {@link #partition} refuses a second one
 * until the first is closed. A view is started once; closing it (idempotent) unregisters the partition and
 * leaves the node transport running; a closed view drops what it is asked to send and cannot be started again,
 * but a new view of the partition may be opened. A view drops sends before it is started, like a transport.
 *
 * <p><b>Control messages.</b> Control messages that reach the node ({@link NodeTransport#sendControl}) go to the
 * {@link ControlInbound} set with {@link #controlInbound}, on the transport's thread, with the sender the transport
 * authenticated. It may be set (or replaced) at any time, before or after {@link #start()}; set it before {@code
 * start} to miss none. A control message that arrives while none is set is dropped and counted ({@link
 * #controlDropped()}), with a WARN at most once every {@link #DEFAULT_WARN_INTERVAL}. {@link #sendControl} sends
 * through the node transport.
 *
 * <p>Thread-safe. {@link #start()} once; {@link #close()} is idempotent, closes every view and the node
 * transport.
 */
public final class PartitionRouter implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(PartitionRouter.class);

    /** Default least time between two WARN lines about messages for one unknown partition. */
    public static final Duration DEFAULT_WARN_INTERVAL = Duration.ofSeconds(10);

    /** Unknown partitions whose last WARN is remembered; beyond that the memory starts over (bounded). */
    static final int MAX_REMEMBERED_WARNINGS = 1024;

    private enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final NodeTransport transport;
    private final long warnIntervalNanos;
    private final LongSupplier nanoTime;

    /** The open views, started or not, by partition. */
    private final Map<String, View> views = new ConcurrentHashMap<>();
    /** When the last WARN about each unknown partition was logged. */
    private final Map<String, Long> lastWarned = new ConcurrentHashMap<>();

    private final AtomicLong routed = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong warnings = new AtomicLong();
    private final AtomicLong controlRouted = new AtomicLong();
    private final AtomicLong controlDropped = new AtomicLong();
    private final AtomicLong controlWarnings = new AtomicLong();
    /** When the last WARN about a dropped control message was logged (one interval before the start at first). */
    private final AtomicLong lastControlWarned;

    private volatile ControlInbound controlInbound;

    private State state = State.LATENT; // guarded by this
    private volatile boolean closed;

    /** A router over {@code transport}, which it starts in {@link #start()} and closes in {@link #close()}. */
    public PartitionRouter(NodeTransport transport) {
        this(transport, DEFAULT_WARN_INTERVAL, System::nanoTime);
    }

    PartitionRouter(NodeTransport transport, Duration warnInterval, LongSupplier nanoTime) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.warnIntervalNanos = warnInterval.toNanos();
        this.nanoTime = nanoTime;
        this.lastControlWarned = new AtomicLong(nanoTime.getAsLong() - warnIntervalNanos);
    }

    /**
     * Starts the node transport, handing what it receives to this router. Views may be opened and started before
     * or after.
     *
     * @throws IllegalStateException if started before or closed
     * @throws Exception if the transport cannot start (the router is then closed)
     */
    public synchronized void start() throws Exception {
        if (state != State.LATENT) {
            throw new IllegalStateException(
                    state == State.STARTED ? "Cannot be started more than once" : "Cannot be started after close");
        }
        state = State.STARTED;
        try {
            transport.start(new NodeTransport.PartitionInbound() {
                @Override
                public void receive(String partition, Message message) {
                    route(partition, message);
                }

                @Override
                public void control(String fromNode, byte[] body) {
                    routeControl(fromNode, body);
                }
            });
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    /**
     * A view of partition {@code id}: a {@link Transport} whose {@code start} registers its consumer for the
     * partition's messages, whose {@code send} tags each message with the partition, and whose {@code close}
     * unregisters it.
     *
     * @throws IllegalArgumentException if {@code id} is not a valid partition id ({@link PartitionIds})
     * @throws IllegalStateException if a view of {@code id} is open (close it first), or the router is closed
     */
    public synchronized Transport partition(String id) {
        PartitionIds.check(id);
        if (state == State.CLOSED) {
            throw new IllegalStateException("partition router is closed: cannot open partition '" + id + "'");
        }
        View view = new View(id);
        View open = views.putIfAbsent(id, view);
        if (open != null) {
            throw new IllegalStateException("partition '" + id + "' already has an open "
                    + (open.consumer == null ? "" : "and started ") + "view on this node; close it first");
        }
        return view;
    }

    /**
     * Where the control messages that reach this node go from now on, replacing any set before; any time, any
     * thread. See the class comment.
     */
    public void controlInbound(ControlInbound inbound) {
        this.controlInbound = Objects.requireNonNull(inbound, "inbound");
    }

    /**
     * Sends control message {@code body} to node {@code toNode} through the node transport: see {@link
     * NodeTransport#sendControl} (best effort, never blocks, ordered with the partitions' messages to that node;
     * dropped before {@link #start()}).
     *
     * @throws IllegalArgumentException for a body over {@link NodeTransport#MAX_CONTROL_BYTES} or an invalid node id
     * @throws IllegalStateException if the router is closed
     */
    public void sendControl(String toNode, byte[] body) {
        if (closed) {
            NodeTransport.checkControl(toNode, body);
            throw new IllegalStateException("partition router is closed: cannot send a control message to node "
                    + PartitionIds.describe(toNode));
        }
        transport.sendControl(toNode, body);
    }

    /** Control messages received and handed to the {@link ControlInbound}. */
    public long controlRouted() {
        return controlRouted.get();
    }

    /** Control messages received while no {@link ControlInbound} was set, dropped. */
    public long controlDropped() {
        return controlDropped.get();
    }

    /** WARN lines logged about dropped control messages. */
    long controlDroppedWarnings() {
        return controlWarnings.get();
    }

    /** The partitions whose view is started (registered to receive), sorted. */
    public Set<String> partitions() {
        Set<String> ids = new TreeSet<>();
        for (View v : views.values()) {
            if (v.consumer != null && !v.closed) {
                ids.add(v.id);
            }
        }
        return ids;
    }

    /** Messages received and handed to their partition's view. */
    public long messagesRouted() {
        return routed.get();
    }

    /** Messages received for a partition with no started view on this node, dropped. */
    public long unknownPartitionMessages() {
        return unknown.get();
    }

    /** Messages the views handed to the node transport (which may still drop them). */
    public long messagesSent() {
        return sent.get();
    }

    /** Messages a view was asked to send before it was started or after it (or the router) was closed, dropped. */
    public long messagesDropped() {
        return dropped.get();
    }

    /** WARN lines logged about unknown partitions. */
    long unknownPartitionWarnings() {
        return warnings.get();
    }

    /** Closes every view and the node transport. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            closed = true;
            for (View v : views.values()) {
                v.closed = true;
            }
            views.clear();
        }
        transport.close();
    }

    @Override
    public String toString() {
        return "PartitionRouter{" + partitions() + " over " + transport + "}";
    }

    /** The node transport's inbound: on a transport thread. */
    private void route(String partition, Message message) {
        View view = views.get(partition);
        Consumer<Message> consumer = view == null ? null : view.consumer;
        if (consumer == null || view.closed) {
            unknownPartition(partition, message);
            return;
        }
        routed.incrementAndGet();
        try {
            consumer.accept(message);
        } catch (RuntimeException e) {
            LOG.warn("Inbound consumer of partition '{}' failed on {}", partition, summary(message), e);
        }
    }

    /** The node transport's control inbound: on a transport thread. */
    private void routeControl(String fromNode, byte[] body) {
        ControlInbound inbound = controlInbound;
        if (inbound == null) {
            long count = controlDropped.incrementAndGet();
            long now = nanoTime.getAsLong();
            long last = lastControlWarned.get();
            if (now - last >= warnIntervalNanos && lastControlWarned.compareAndSet(last, now)) {
                controlWarnings.incrementAndGet();
                LOG.warn(
                        "Dropping a control message of {} bytes from node {}: no control inbound is set on this node"
                                + " ({} dropped so far; at most one line every {} ms)",
                        body.length,
                        PartitionIds.describe(fromNode),
                        count,
                        warnIntervalNanos / 1_000_000);
            }
            return;
        }
        controlRouted.incrementAndGet();
        try {
            inbound.control(fromNode, body);
        } catch (RuntimeException e) {
            LOG.warn(
                    "Control inbound failed on a control message of {} bytes from node {}",
                    body.length,
                    PartitionIds.describe(fromNode),
                    e);
        }
    }

    private void unknownPartition(String partition, Message message) {
        long count = unknown.incrementAndGet();
        long now = nanoTime.getAsLong();
        Long last = lastWarned.get(partition);
        if (last != null && now - last < warnIntervalNanos) {
            return;
        }
        boolean mine;
        if (last == null) {
            if (lastWarned.size() >= MAX_REMEMBERED_WARNINGS) {
                lastWarned.clear();
            }
            mine = lastWarned.putIfAbsent(partition, now) == null;
        } else {
            mine = lastWarned.replace(partition, last, now);
        }
        if (mine) {
            warnings.incrementAndGet();
            LOG.warn(
                    "Dropping {} from node {} for partition {}: not open on this node"
                            + " ({} messages for unknown partitions so far; at most one line per partition every {} ms)",
                    summary(message),
                    PartitionIds.describe(message.from()),
                    PartitionIds.describe(partition),
                    count,
                    warnIntervalNanos / 1_000_000);
        }
    }

    private static String summary(Message m) {
        return m.getClass().getSimpleName() + "(epoch " + m.epoch() + ")";
    }

    /** One partition's view of the node transport. */
    private final class View implements Transport {
        final String id;
        volatile Consumer<Message> consumer;
        volatile boolean closed;

        View(String id) {
            this.id = id;
        }

        @Override
        public void start(Consumer<Message> inbound) {
            Objects.requireNonNull(inbound, "inbound");
            synchronized (PartitionRouter.this) {
                if (closed) {
                    throw new IllegalStateException("view of partition '" + id + "' is closed: cannot start it");
                }
                if (consumer != null) {
                    throw new IllegalStateException("view of partition '" + id + "' cannot be started more than once");
                }
                consumer = inbound;
                lastWarned.remove(id);
            }
        }

        @Override
        public void inboundBudget(InboundBudget budget) {
            transport.inboundBudget(budget);
        }

        @Override
        public void send(Message message) {
            Objects.requireNonNull(message, "message");
            if (consumer == null || closed || PartitionRouter.this.closed) {
                dropped.incrementAndGet();
                return;
            }
            transport.send(id, message);
            sent.incrementAndGet();
        }

        @Override
        public void close() {
            synchronized (PartitionRouter.this) {
                if (closed) {
                    return;
                }
                closed = true;
                views.remove(id, this);
            }
        }

        @Override
        public String toString() {
            return "partition '" + id + "' of " + transport;
        }
    }
}
