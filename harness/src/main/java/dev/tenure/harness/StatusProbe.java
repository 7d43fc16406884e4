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
package dev.tenure.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Reads replicas' {@code GET /status} over HTTP and waits on what it says: {@link #awaitLeader} and {@link
 * #awaitApplied}. Both the demo's {@code node} and the benchmark's replica processes answer {@code /status} with the
 * fields of {@link NodeStatus}.
 *
 * <p><b>Partitions.</b> A node that hosts several partitions (the demo's {@code node --partitions P}) says so in a
 * {@code partitions} array, each element with the partition's {@code id}, {@code role}, {@code epoch}, {@code leader}
 * and offsets ({@link NodeStatus#partitions()}); its top-level {@code role} is then {@code node}, never {@code
 * leader}. {@link #partitionLeadersOf} and {@link #awaitPartitionLeaders} read who leads each partition.
 *
 * <p>The waits poll at the probe's interval: another process's state has no event this process can wait on. A
 * replica that does not answer within the request timeout counts as not answering. What a replica says is a
 * snapshot: leadership can move right after a wait returns.
 *
 * <p>Thread-safe. A replica that does not answer yields an empty status, never an exception; the waits throw {@link
 * TimeoutException} naming what the replicas said last.
 */
public final class StatusProbe {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One replica's {@code /status}: {@code id}, {@code role} ({@code leader}, {@code follower}, ..., any case),
     * {@code epoch}, {@code leader} (the id it names as leader, or null), {@code commitOffset}, {@code logEndOffset},
     * {@code appliedOffset}; {@code json} is the whole answer (the optional fields have accessors of their own).
     */
    public record NodeStatus(
            String id,
            String role,
            long epoch,
            Optional<String> leader,
            long commitOffset,
            long logEndOffset,
            long appliedOffset,
            JsonNode json) {
        /** Whether the replica says it leads. */
        public boolean isLeader() {
            return "leader".equalsIgnoreCase(role);
        }

        /**
         * The {@code /status} document this probe reads, with only the fields it needs: for a process that serves
         * {@code /status} to the harness alone (the benchmark's replica process). The demo's {@code /status} is a
         * superset of it (docs/demo-app.md).
         *
         * @param leader the id of the leader it knows, or null
         */
        public static com.fasterxml.jackson.databind.node.ObjectNode document(
                String id,
                String role,
                long epoch,
                String leader,
                long commitOffset,
                long logEndOffset,
                long appliedOffset) {
            com.fasterxml.jackson.databind.node.ObjectNode o = JSON.createObjectNode();
            o.put("id", id);
            o.put("role", role.toLowerCase(java.util.Locale.ROOT));
            o.put("epoch", epoch);
            if (leader == null || leader.isEmpty()) {
                o.putNull("leader");
            } else {
                o.put("leader", leader);
            }
            o.put("commitOffset", commitOffset);
            o.put("logEndOffset", logEndOffset);
            o.put("appliedOffset", appliedOffset);
            return o;
        }

        /**
         * The offset the replica's log starts at ({@code logStartOffset}), or empty if its {@code /status} does not
         * say: above 0 once compaction after a snapshot removed the entries below it, or once it installed a snapshot.
         */
        public OptionalLong logStartOffset() {
            return offsetField(json.path("logStartOffset"));
        }

        /**
         * The offset of the newest snapshot the replica holds ({@code snapshot.offset}, or a flat {@code
         * snapshotOffset}), 0 if it holds none, or empty if its {@code /status} does not say.
         */
        public OptionalLong snapshotOffset() {
            JsonNode nested = json.path("snapshot");
            return nested.isObject() ? offsetField(nested.path("offset")) : offsetField(json.path("snapshotOffset"));
        }

        /**
         * The partitions this node reports in its {@code partitions} array, in its order; empty if it reports none
         * (a single-log node of the benchmark). Elements without an {@code id} are skipped.
         */
        public List<PartitionStatus> partitions() {
            List<PartitionStatus> parts = new ArrayList<>();
            for (JsonNode p : json.path("partitions")) {
                JsonNode pid = p.path("id");
                if (pid.isTextual() || pid.isNumber()) {
                    JsonNode leader = p.path("leader");
                    parts.add(new PartitionStatus(
                            pid.asText(),
                            p.path("role").asText(""),
                            p.path("epoch").asLong(),
                            leader.isTextual() ? Optional.of(leader.asText()) : Optional.empty(),
                            p.path("commitOffset").asLong(),
                            p.path("appliedOffset").asLong(),
                            p.path("logEndOffset").asLong(),
                            p.path("preferredLeader").isTextual()
                                    ? Optional.of(p.path("preferredLeader").asText())
                                    : Optional.empty()));
                }
            }
            return parts;
        }

        /** The ids of the partitions this node says it leads, in its order. */
        public List<String> leading() {
            return partitions().stream()
                    .filter(PartitionStatus::isLeader)
                    .map(PartitionStatus::id)
                    .toList();
        }

        private static OptionalLong offsetField(JsonNode n) {
            return n.isIntegralNumber() ? OptionalLong.of(n.asLong()) : OptionalLong.empty();
        }

        static NodeStatus of(String id, JsonNode s) {
            JsonNode leader = s.path("leader");
            return new NodeStatus(
                    s.path("id").asText(id),
                    s.path("role").asText(""),
                    s.path("epoch").asLong(),
                    leader.isTextual() ? Optional.of(leader.asText()) : Optional.empty(),
                    s.path("commitOffset").asLong(),
                    s.path("logEndOffset").asLong(),
                    s.path("appliedOffset").asLong(),
                    s);
        }

        @Override
        public String toString() {
            return id + "=" + role + "@" + epoch + "(leader " + leader.orElse("-") + ", commit " + commitOffset
                    + ", applied " + appliedOffset + ")";
        }
    }

    /**
     * One partition as one node reports it in {@code /status}'s {@code partitions}.
     *
     * @param id the partition's id
     * @param role this node's role in it ({@code leader}, {@code follower}, ...)
     * @param epoch this node's epoch in it
     * @param leader the node it names as the partition's leader, if any
     * @param commitOffset this node's commit offset in it
     * @param appliedOffset this node's applied offset in it
     * @param logEndOffset this node's log end in it
     * @param preferredLeader the partition's preferred leader as this node knows it (the first of its replica set),
     *     if it reports one
     */
    public record PartitionStatus(
            String id,
            String role,
            long epoch,
            Optional<String> leader,
            long commitOffset,
            long appliedOffset,
            long logEndOffset,
            Optional<String> preferredLeader) {
        /** Whether the node says it leads this partition. */
        public boolean isLeader() {
            return "leader".equalsIgnoreCase(role);
        }
    }

    /**
     * The leader of one partition: the node that says it leads it, and the epoch it leads.
     *
     * @param node the leading node's id
     * @param epoch the partition's epoch on that node
     */
    public record PartitionLeader(String node, long epoch) {
        @Override
        public String toString() {
            return node + "@" + epoch;
        }
    }

    /**
     * The controller as a node's {@code /status} reports it ({@code controller}: {@code controller}, {@code
     * controllerEpoch}, {@code active}; docs/controller.md).
     *
     * @param node the controller's node id
     * @param epoch its controller epoch
     */
    public record ControllerSeen(String node, long epoch) {
        @Override
        public String toString() {
            return node + "@" + epoch;
        }
    }

    /**
     * Among {@code statuses}, the node that says it is the active controller in the highest controller epoch (a
     * deposed controller that has not noticed yet says so in a lower one); empty if none does (a node without the
     * controller reports {@code "mode":"election"} or no {@code controller} at all).
     */
    public static Optional<ControllerSeen> controllerOf(Map<String, NodeStatus> statuses) {
        ControllerSeen best = null;
        for (Map.Entry<String, NodeStatus> e : statuses.entrySet()) {
            JsonNode c = e.getValue().json().path("controller");
            long epoch = c.path("controllerEpoch").asLong();
            if (c.path("active").asBoolean(false) && epoch > 0 && (best == null || epoch > best.epoch())) {
                best = new ControllerSeen(e.getKey(), epoch);
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * Whether every one of {@code statuses} names {@code controller} as the controller, in its epoch: they all applied
     * an assignment of that controller's term (or are it).
     */
    public static boolean controllerAgreed(ControllerSeen controller, Map<String, NodeStatus> statuses) {
        for (NodeStatus s : statuses.values()) {
            JsonNode c = s.json().path("controller");
            if (!controller.node().equals(c.path("controller").asText(null))
                    || c.path("controllerEpoch").asLong() != controller.epoch()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Among {@code statuses}, the leader of each partition any of them reports: the node that says it leads it in
     * the highest epoch (a deposed leader that has not noticed yet says so in a lower one). Partitions nobody says
     * it leads are absent. Ordered by partition id, numerically where the ids are numbers.
     */
    public static Map<String, PartitionLeader> partitionLeadersOf(Map<String, NodeStatus> statuses) {
        Map<String, PartitionLeader> leaders = new TreeMap<>(StatusProbe::comparePartitionIds);
        for (Map.Entry<String, NodeStatus> e : statuses.entrySet()) {
            for (PartitionStatus p : e.getValue().partitions()) {
                if (p.isLeader()) {
                    PartitionLeader known = leaders.get(p.id());
                    if (known == null || p.epoch() > known.epoch()) {
                        leaders.put(p.id(), new PartitionLeader(e.getKey(), p.epoch()));
                    }
                }
            }
        }
        return leaders;
    }

    /**
     * The node that leads the most partitions in {@code leaders} ({@link #partitionLeadersOf}), the first in {@code
     * order} among equals; empty if nobody leads any.
     */
    public static Optional<String> mostLeading(Map<String, PartitionLeader> leaders, List<String> order) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        order.forEach(id -> counts.put(id, 0));
        leaders.values().forEach(l -> counts.merge(l.node(), 1, Integer::sum));
        String best = null;
        int most = 0;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return Optional.ofNullable(best);
    }

    /** The ids of the partitions {@code node} leads in {@code leaders}, in their order. */
    public static List<String> ledBy(String node, Map<String, PartitionLeader> leaders) {
        return leaders.entrySet().stream()
                .filter(e -> e.getValue().node().equals(node))
                .map(Map.Entry::getKey)
                .toList();
    }

    /** Partition ids in numeric order where both are numbers, else as strings. */
    static int comparePartitionIds(String a, String b) {
        boolean an = !a.isEmpty() && a.chars().allMatch(Character::isDigit) && a.length() < 10;
        boolean bn = !b.isEmpty() && b.chars().allMatch(Character::isDigit) && b.length() < 10;
        if (an && bn) {
            return Integer.compare(Integer.parseInt(a), Integer.parseInt(b));
        }
        return a.compareTo(b);
    }

    /**
     * Waits until each of {@code partitions} partitions has a leader every replica asked agrees on: one of them says
     * it leads the partition in the highest epoch reported for it, names itself the partition's leader and has
     * committed an entry there, and every replica asked answers and names it. Returns each partition's leader, by id.
     *
     * @param ask id to base URL of the replicas to ask in a round (read again every round)
     * @param partitions how many partitions there are: the replicas must report that many distinct ids between them
     * @throws TimeoutException naming the partitions without an agreed leader and what was said of them, if that does
     *     not happen within {@code timeout}
     */
    public Map<String, PartitionLeader> awaitPartitionLeaders(
            Supplier<Map<String, URI>> ask, int partitions, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, URI> asked = ask.get();
            Map<String, NodeStatus> statuses = statuses(asked);
            Map<String, PartitionLeader> leaders = partitionLeadersOf(statuses);
            List<String> missing = new ArrayList<>();
            Map<String, List<String>> seen = new TreeMap<>(StatusProbe::comparePartitionIds);
            for (Map.Entry<String, NodeStatus> e : statuses.entrySet()) {
                for (PartitionStatus p : e.getValue().partitions()) {
                    seen.computeIfAbsent(p.id(), k -> new ArrayList<>())
                            .add(e.getKey() + "=" + p.role() + "@" + p.epoch() + "(leader "
                                    + p.leader().orElse("-") + ", commit " + p.commitOffset() + ")");
                }
            }
            for (String id : seen.keySet()) {
                if (!agreed(id, leaders.get(id), statuses)) {
                    missing.add(id);
                }
            }
            boolean everyoneAnswered = statuses.keySet().containsAll(asked.keySet());
            if (everyoneAnswered && missing.isEmpty() && seen.size() == partitions) {
                return leaders;
            }
            if (System.nanoTime() - deadline >= 0) {
                StringBuilder last = new StringBuilder();
                for (String id : missing) {
                    last.append("; partition ").append(id).append(": ").append(String.join(", ", seen.get(id)));
                }
                throw new TimeoutException("no agreed leader of every one of " + partitions + " partitions among "
                        + asked.keySet() + " within " + timeout + " (answered: " + statuses.keySet() + ", partitions"
                        + " reported: " + seen.size() + ", without an agreed leader: " + missing + ")" + last);
            }
            Thread.sleep(pollInterval.toMillis()); // polling other processes' status
        }
    }

    /**
     * Like {@link #awaitPartitionLeaders}, and further until every partition is led by its preferred leader (as the
     * leader itself reports it): the state a node's rebalancing moves towards after a start or a fault, in which
     * leaderships are spread as placed. Returns each partition's leader, by id.
     *
     * @throws TimeoutException naming the partitions led elsewhere than by their preferred leader (or without an
     *     agreed leader), if that does not happen within {@code timeout}
     */
    public Map<String, PartitionLeader> awaitPreferredLeaders(
            Supplier<Map<String, URI>> ask, int partitions, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, PartitionLeader> leaders =
                    awaitPartitionLeaders(ask, partitions, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            Map<String, NodeStatus> statuses = statuses(ask.get());
            List<String> elsewhere = new ArrayList<>();
            leaders.forEach((id, l) -> {
                Optional<String> preferred = Optional.ofNullable(statuses.get(l.node())).stream()
                        .flatMap(s -> s.partitions().stream())
                        .filter(p -> p.id().equals(id))
                        .findFirst()
                        .flatMap(PartitionStatus::preferredLeader);
                if (!preferred.map(l.node()::equals).orElse(false)) {
                    elsewhere.add(id + "=" + l + " (preferred " + preferred.orElse("unknown") + ")");
                }
            });
            if (elsewhere.isEmpty()) {
                return leaders;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new TimeoutException("partitions not led by their preferred leader after " + timeout + ": "
                        + String.join(", ", elsewhere));
            }
            Thread.sleep(pollInterval.toMillis()); // polling other processes' status
        }
    }

    /** Whether {@code leader} leads partition {@code id} with a commit and every status names it. */
    private static boolean agreed(String id, PartitionLeader leader, Map<String, NodeStatus> statuses) {
        if (leader == null) {
            return false;
        }
        for (Map.Entry<String, NodeStatus> e : statuses.entrySet()) {
            Optional<PartitionStatus> p = e.getValue().partitions().stream()
                    .filter(x -> x.id().equals(id))
                    .findFirst();
            if (p.isEmpty() || !p.get().leader().map(leader.node()::equals).orElse(false)) {
                return false;
            }
            if (e.getKey().equals(leader.node())
                    && (!p.get().isLeader() || p.get().commitOffset() <= 0)) {
                return false;
            }
        }
        return true;
    }

    private final HttpClient http;
    private final Duration requestTimeout;
    private final Duration pollInterval;

    /**
     * @param requestTimeout how long one {@code /status} request may take
     * @param pollInterval the pause between two rounds of a wait
     */
    public StatusProbe(Duration requestTimeout, Duration pollInterval) {
        this.requestTimeout = Objects.requireNonNull(requestTimeout, "requestTimeout");
        this.pollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(requestTimeout)
                .build();
    }

    /** Replica {@code id}'s status at {@code base + "/status"}, or empty if it does not answer with JSON in time. */
    public Optional<NodeStatus> status(String id, URI base) throws InterruptedException {
        try {
            HttpResponse<byte[]> r = http.send(
                    HttpRequest.newBuilder(base.resolve("/status"))
                            .timeout(requestTimeout)
                            .build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                return Optional.empty();
            }
            return Optional.of(NodeStatus.of(id, JSON.readTree(r.body())));
        } catch (IOException e) {
            return Optional.empty(); // not answering (starting, stopping, paused)
        }
    }

    /** The statuses of those of {@code nodes} (id to base URL) that answer, in their order. */
    public Map<String, NodeStatus> statuses(Map<String, URI> nodes) throws InterruptedException {
        Map<String, NodeStatus> statuses = new LinkedHashMap<>();
        for (Map.Entry<String, URI> e : nodes.entrySet()) {
            Optional<NodeStatus> s = status(e.getKey(), e.getValue());
            if (s.isPresent()) {
                statuses.put(e.getKey(), s.get());
            }
        }
        return statuses;
    }

    /** Among {@code statuses}, the replica that says it leads the highest epoch, if any. */
    public static Optional<String> leaderOf(Map<String, NodeStatus> statuses) {
        return statuses.entrySet().stream()
                .filter(e -> e.getValue().isLeader())
                .max((a, b) -> Long.compare(a.getValue().epoch(), b.getValue().epoch()))
                .map(Map.Entry::getKey);
    }

    /**
     * Waits until one of the replicas to ask leads an epoch above {@code aboveEpoch}, names itself leader and has
     * committed an entry (so it takes writes); with {@code agreed}, also every replica asked answers and names it
     * leader. The replicas to ask are read again every round (for example those alive and not paused). Returns the
     * leader's status; among several, the one with the highest epoch.
     *
     * @param ask id to base URL of the replicas to ask in a round
     * @param aboveEpoch the leader's epoch must be above this ({@code -1} for any)
     * @param agreed whether every replica asked must answer and name the leader
     * @throws TimeoutException naming what the replicas said last, if that does not happen within {@code timeout}
     */
    public NodeStatus awaitLeader(Supplier<Map<String, URI>> ask, long aboveEpoch, boolean agreed, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no status yet";
        while (true) {
            Map<String, URI> asked = ask.get();
            Map<String, NodeStatus> statuses = statuses(asked);
            Optional<NodeStatus> leader = statuses.values().stream()
                    .filter(s -> s.isLeader()
                            && s.epoch() > aboveEpoch
                            && s.commitOffset() > 0
                            && s.leader().map(s.id()::equals).orElse(false))
                    .max((a, b) -> Long.compare(a.epoch(), b.epoch()));
            if (leader.isPresent()) {
                String id = leader.get().id();
                boolean agreement = !agreed
                        || (statuses.keySet().containsAll(asked.keySet())
                                && statuses.values().stream()
                                        .allMatch(
                                                s -> s.leader().map(id::equals).orElse(false)));
                if (agreement) {
                    return leader.get();
                }
            }
            last = statuses.values().stream().map(NodeStatus::toString).collect(Collectors.joining(", "));
            if (System.nanoTime() - deadline >= 0) {
                throw new TimeoutException("no " + (agreed ? "agreed " : "") + "leader above epoch " + aboveEpoch
                        + " among " + asked.keySet() + " within " + timeout + "; last seen: " + last);
            }
            Thread.sleep(pollInterval.toMillis()); // polling other processes' status
        }
    }

    /**
     * Waits until replica {@code id} has appended and applied at least {@code offset}; returns how long it took.
     *
     * @throws TimeoutException with its last status, if that does not happen within {@code timeout}
     */
    public Duration awaitApplied(String id, URI base, long offset, Duration timeout)
            throws InterruptedException, TimeoutException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (true) {
            Optional<NodeStatus> s = status(id, base);
            if (s.isPresent() && s.get().logEndOffset() >= offset && s.get().appliedOffset() >= offset) {
                return Duration.ofNanos(System.nanoTime() - start);
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new TimeoutException(id + " did not reach offset " + offset + " within " + timeout + ": "
                        + s.map(NodeStatus::toString).orElse("no answer"));
            }
            Thread.sleep(pollInterval.toMillis()); // polling another process's status
        }
    }
}
