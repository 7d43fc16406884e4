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
package dev.tenure.demo.http;

import static dev.tenure.demo.http.HttpError.requireMethod;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.demo.kv.KvService;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.SnapshotId;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The operator's routes: {@code GET /status} (this replica's status as JSON), {@code GET /metrics} (Prometheus text),
 * {@code GET /} (the live status page), {@code POST /admin/snapshot} (snapshot this replica now) and the replica
 * set's routes: {@code GET /admin/members} (the configuration) and {@code POST /admin/members/add?id=},
 * {@code /remove?id=}, {@code /replace?old=&new=} (optionally {@code &timeout_ms=} for the new replica's catch-up,
 * default 60 s) and {@code /cancel}. Every other request goes to the next router, the key routes.
 *
 * <p>Add, remove and replace run on the leader: a follower answers 307 to the leader (503 {@code no_leader} when none
 * is known). They answer 200 with the configuration once the change is active; 400 for a bad id or a change that does
 * not fit the replica set, 409 {@code change_in_progress} (another change first) and 409 {@code stalled} (the new
 * replica did not catch up in time: it stays a learner, the voters are unchanged, cancel removes it), each with
 * {@code "applied":false}; 503 {@code timeout} without it when the change is not active within the catch-up timeout
 * plus 60 s (it may still complete). Cancel answers with the configuration it wrote.
 *
 * <p>{@code POST /admin/snapshot} answers {@code 200 {"offset":O,"epoch":E}} once the snapshot is durable; {@code 501
 * snapshots_unsupported} if the state machine takes none, {@code 500 snapshot_failed} (with the cause as {@code
 * detail}) if it could not be written, {@code 503 replica_failed} on a replica stopped after a failure, each with
 * {@code "applied":false}: no snapshot was taken; {@code 503 timeout} without it when the snapshot is not durable
 * within the snapshot timeout (it may still complete). Any other method is {@code 405}, a body {@code 413}.
 *
 * <p><b>Partitions.</b> When the service spreads its keys over several partitions ({@link KvService#partitions()}),
 * {@code /status} describes the node and lists every partition (see {@link #partitionedStatusJson()}), {@code POST
 * /admin/snapshot} snapshots the partition named by {@code ?partition=ID} (400 {@code partition_required} without
 * it, 404 {@code no_such_partition} for an unknown id), and the membership routes answer {@code 501
 * unsupported_with_partitions} with {@code "applied":false}: changing one partition's replica set is not offered yet.
 *
 * <p>Thread-safe: it keeps no per-request state; every reply but a snapshot's is made at once on the calling thread, a
 * snapshot's when the replica's snapshot thread completes it (or on the JDK's timeout thread).
 */
final class StatusRoutes implements Router {
    private static final ObjectMapper json = new ObjectMapper();

    private final KvService service;
    private final NodeObservations observations;
    private final Router next;
    private final long snapshotTimeoutMs;
    private final long activationSlackMs;

    /** @param snapshotTimeout how long {@code POST /admin/snapshot} waits for the snapshot to be durable */
    StatusRoutes(KvService service, NodeObservations observations, Router next, Duration snapshotTimeout) {
        this(service, observations, next, snapshotTimeout, Duration.ofSeconds(60));
    }

    /**
     * @param activationSlack how long past the catch-up timeout a membership change's answer waits for the change to
     *     be activated
     */
    StatusRoutes(
            KvService service,
            NodeObservations observations,
            Router next,
            Duration snapshotTimeout,
            Duration activationSlack) {
        this.service = service;
        this.observations = observations;
        this.next = next;
        this.snapshotTimeoutMs = snapshotTimeout.toMillis();
        this.activationSlackMs = activationSlack.toMillis();
    }

    @Override
    public Route route(Request req) {
        switch (req.rawPath()) {
            case "/status" -> {
                requireMethod(req.method(), "GET");
                return Route.now(body -> Reply.json(200, partitioned() ? partitionedStatusJson() : statusJson()));
            }
            case "/metrics" -> {
                requireMethod(req.method(), "GET");
                return Route.now(body ->
                        Reply.text(200, "text/plain; version=0.0.4; charset=utf-8", observations.scrapeMetrics()));
            }
            case "/" -> {
                requireMethod(req.method(), "GET");
                return Route.now(body -> Reply.of(200, "text/html; charset=utf-8", StatusPage.html()));
            }
            case "/admin/snapshot" -> {
                requireMethod(req.method(), "POST");
                KvService log = partitioned() ? partitionNamed(req) : service;
                return new Route(0, "body_not_allowed", body -> snapshot(log));
            }
            case "/admin/members" -> {
                requireMethod(req.method(), "GET");
                refuseWithPartitions();
                return Route.now(body -> Reply.json(
                        200, configurationJson(service.status().replica().configuration())));
            }
            case "/admin/members/add", "/admin/members/remove", "/admin/members/replace", "/admin/members/cancel" -> {
                requireMethod(req.method(), "POST");
                refuseWithPartitions();
                KvService.MembershipChange change = membershipChange(req);
                if (change.kind() != KvService.MembershipChange.Kind.CANCEL) {
                    ensureLeader(req);
                }
                return new Route(0, "body_not_allowed", body -> changeMembers(change));
            }
            default -> {
                return next.route(req);
            }
        }
    }

    /** Whether the service spreads its keys over several partitions. */
    private boolean partitioned() {
        return service.partitions().size() > 1;
    }

    /** 501 {@code unsupported_with_partitions}, definite, when the service has several partitions. */
    private void refuseWithPartitions() {
        if (partitioned()) {
            throw new HttpError(
                            501,
                            "unsupported_with_partitions",
                            "membership changes of a partitioned cluster are not supported yet")
                    .definite(true);
        }
    }

    /** The partition named by {@code ?partition=ID}; 400 without it, 404 for an id the service does not have. */
    private KvService partitionNamed(Request req) {
        String id = query(req.rawQuery()).get("partition");
        if (id == null) {
            throw new HttpError(400, "partition_required", "name the partition: ?partition=ID").definite(true);
        }
        return service.partitions().stream()
                .filter(p -> p.partitionId().equals(id))
                .findFirst()
                .orElseThrow(() -> new HttpError(404, "no_such_partition", id).definite(true));
    }

    private CompletableFuture<Reply> snapshot(KvService log) {
        ensureNotFailed(log);
        CompletableFuture<SnapshotId> taken;
        try {
            taken = log.takeSnapshot();
        } catch (RejectedExecutionException e) {
            ensureNotFailed(log); // stopped since the check above
            throw new HttpError(503, "replica_failed", "this replica is stopping").definite(true);
        }
        return taken.copy().orTimeout(snapshotTimeoutMs, TimeUnit.MILLISECONDS).handle((id, failure) -> {
            if (failure == null) {
                return Reply.json(
                        200, json.createObjectNode().put("offset", id.offset()).put("epoch", id.epoch()));
            }
            Throwable cause = unwrap(failure);
            if (cause instanceof UnsupportedOperationException) {
                return new HttpError(501, "snapshots_unsupported", cause.getMessage())
                        .definite(true)
                        .reply();
            }
            if (cause instanceof TimeoutException) {
                return new HttpError(
                                503,
                                "timeout",
                                "the snapshot was not durable within " + snapshotTimeoutMs + " ms; it may still be")
                        .reply();
            }
            Optional<Throwable> stopped = log.status().failure();
            if (stopped.isPresent()) {
                return replicaFailed(stopped.get()).reply();
            }
            return new HttpError(500, "snapshot_failed", String.valueOf(cause))
                    .definite(true)
                    .reply();
        });
    }

    /** The largest catch-up timeout a request may ask for. */
    private static final long MAX_CATCH_UP_MS = Duration.ofMinutes(30).toMillis();

    private static final java.util.regex.Pattern REPLICA_ID = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** The change a {@code POST /admin/members/...} asks for; 400 (definite) if its parameters are wrong. */
    private static KvService.MembershipChange membershipChange(Request req) {
        java.util.Map<String, String> q = query(req.rawQuery());
        String op = req.rawPath().substring("/admin/members/".length());
        long timeoutMs = 60_000;
        if (q.containsKey("timeout_ms")) {
            try {
                timeoutMs = Long.parseLong(q.get("timeout_ms"));
            } catch (NumberFormatException e) {
                timeoutMs = -1;
            }
            if (timeoutMs < 1 || timeoutMs > MAX_CATCH_UP_MS) {
                throw new HttpError(400, "bad_timeout", "timeout_ms must be 1.." + MAX_CATCH_UP_MS);
            }
        }
        Duration catchUp = Duration.ofMillis(timeoutMs);
        return switch (op) {
            case "add" ->
                new KvService.MembershipChange(KvService.MembershipChange.Kind.ADD, replicaId(q, "id"), "", catchUp);
            case "remove" ->
                new KvService.MembershipChange(KvService.MembershipChange.Kind.REMOVE, replicaId(q, "id"), "", catchUp);
            case "replace" ->
                new KvService.MembershipChange(
                        KvService.MembershipChange.Kind.REPLACE, replicaId(q, "old"), replicaId(q, "new"), catchUp);
            default -> new KvService.MembershipChange(KvService.MembershipChange.Kind.CANCEL, "", "", catchUp);
        };
    }

    private static String replicaId(java.util.Map<String, String> q, String name) {
        String v = q.get(name);
        if (v == null || !REPLICA_ID.matcher(v).matches()) {
            throw new HttpError(
                    400, "bad_replica_id", name + " must be a replica id (1-64 of A-Z a-z 0-9 . _ -), was " + v);
        }
        return v;
    }

    private static java.util.Map<String, String> query(String raw) {
        java.util.Map<String, String> m = new java.util.HashMap<>();
        if (raw == null) {
            return m;
        }
        for (String kv : com.google.common.base.Splitter.on('&').split(raw)) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(
                        java.net.URLDecoder.decode(kv.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8),
                        java.net.URLDecoder.decode(kv.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return m;
    }

    /** Throws a redirect to the leader (or 503 no_leader) unless this replica leads; both definite. */
    private void ensureLeader(Request req) {
        ensureNotFailed(service);
        Replica.Status s = service.status().replica();
        if (s.role() == Role.LEADER) {
            return;
        }
        Optional<LeaderInfo> leader = service.leader();
        // The endpoint was read from ZooKeeper: only a member's plain http(s) origin is redirected to.
        Optional<String> url = SafeUrls.leaderOrigin(leader, service.status());
        if (leader.isPresent() && !leader.get().id().equals(service.status().id()) && url.isPresent()) {
            ObjectNode body = json.createObjectNode()
                    .put("error", "not_leader")
                    .put("leader", leader.get().id())
                    .put("leaderUrl", url.get());
            throw new HttpError(307, body).header("Location", url.get() + req.rawTarget());
        }
        throw new HttpError(503, "no_leader", null).definite(true).header("Retry-After", "1");
    }

    private CompletableFuture<Reply> changeMembers(KvService.MembershipChange change) {
        CompletableFuture<dev.tenure.replicator.core.Configuration> done;
        try {
            done = service.changeMembers(change);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(
                    new HttpError(500, "membership_failed", String.valueOf(e)).reply());
        }
        long waitMs = change.catchUpTimeout().toMillis() + activationSlackMs;
        return done.copy().orTimeout(waitMs, TimeUnit.MILLISECONDS).handle((c, failure) -> {
            if (failure == null) {
                return Reply.json(200, configurationJson(c));
            }
            Throwable cause = unwrap(failure);
            if (cause instanceof KvService.MembershipRefused r) {
                return switch (r.reason()) {
                    case CHANGE_IN_PROGRESS ->
                        new HttpError(409, "change_in_progress", r.getMessage())
                                .definite(true)
                                .reply();
                    case STALLED ->
                        new HttpError(409, "stalled", r.getMessage())
                                .definite(true)
                                .reply();
                    case BAD_REQUEST ->
                        new HttpError(400, "bad_membership_change", r.getMessage())
                                .definite(true)
                                .reply();
                };
            }
            if (cause instanceof dev.tenure.replicator.ReplicationException.NotLeaderException n) {
                return new HttpError(503, "not_leader", "leadership moved before the change began: " + n.getMessage())
                        .definite(true)
                        .header("Retry-After", "1")
                        .reply();
            }
            if (cause instanceof TimeoutException) {
                return new HttpError(
                                503,
                                "timeout",
                                "the change was not active within " + waitMs + " ms; it may still complete")
                        .reply();
            }
            return new HttpError(500, "membership_failed", String.valueOf(cause)).reply();
        });
    }

    /** A configuration as the membership routes and the status show it. */
    static ObjectNode configurationJson(dev.tenure.replicator.core.Configuration c) {
        ObjectNode o = json.createObjectNode();
        o.put("version", c.version());
        ArrayNode voters = o.putArray("voters");
        c.voters().forEach(voters::add);
        ArrayNode previous = o.putArray("previousVoters");
        c.previousVoters().forEach(previous::add);
        ArrayNode learners = o.putArray("learners");
        c.learners().forEach(learners::add);
        o.put("changeInProgress", c.joint() || !c.learners().isEmpty());
        return o;
    }

    private static void ensureNotFailed(KvService log) {
        Optional<Throwable> failure = log.status().failure();
        if (failure.isPresent()) {
            throw replicaFailed(failure.get());
        }
    }

    private static HttpError replicaFailed(Throwable why) {
        return new HttpError(
                        503,
                        "replica_failed",
                        "this replica stopped after a failure and takes no snapshot until it is restarted: " + why)
                .definite(true);
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /**
     * {@code "fastFailover": {"enabled", "suspicionTimeoutMs", "minimumTermMs", "deposeBackoffMs"}}, or null when the
     * node does not say (not started).
     */
    private void putFastFailover(ObjectNode o) {
        Optional<NodeObservations.Failover> f = observations.fastFailoverStatus();
        if (f.isEmpty()) {
            o.putNull("fastFailover");
            return;
        }
        o.putObject("fastFailover")
                .put("enabled", f.get().enabled())
                .put("suspicionTimeoutMs", f.get().suspicionTimeoutMs())
                .put("minimumTermMs", f.get().minimumTermMs())
                .put("deposeBackoffMs", f.get().deposeBackoffMs());
    }

    /**
     * {@code "controller": {"mode", "controller", "controllerEpoch", "active", "nodeEpoch", "highestControllerEpoch",
     * "nodes"}}: where the partitions' leaders come from ({@code election}: every other field null or false), the
     * active controller's id and epoch as this node knows them, this node's registration epoch and the highest
     * controller epoch it has seen; on the controller, {@code nodes}: every live node with its {@code nodeEpoch} (and
     * {@code shuttingDown}), else null.
     */
    private void putController(ObjectNode o) {
        NodeObservations.ControllerStatus c = observations.controllerStatus();
        ObjectNode n = o.putObject("controller");
        n.put("mode", c.mode());
        n.put("controller", c.controller().orElse(null));
        putPositive(n, "controllerEpoch", c.controllerEpoch());
        n.put("active", c.active());
        putPositive(n, "nodeEpoch", c.nodeEpoch());
        putPositive(n, "highestControllerEpoch", c.highestControllerEpoch());
        if (c.nodes().isEmpty()) {
            n.putNull("nodes");
        } else {
            ArrayNode nodes = n.putArray("nodes");
            for (NodeObservations.ControllerStatus.Member m : c.nodes().get()) {
                nodes.addObject()
                        .put("id", m.id())
                        .put("nodeEpoch", m.nodeEpoch())
                        .put("shuttingDown", m.shuttingDown());
            }
        }
    }

    /** {@code value} under {@code field}, or null when it is not above 0 (not known). */
    private static void putPositive(ObjectNode n, String field, long value) {
        if (value > 0) {
            n.put(field, value);
        } else {
            n.putNull(field);
        }
    }

    private ObjectNode statusJson() {
        KvService.Status status = service.status();
        Replica.Status s = status.replica();
        Optional<LeaderInfo> leader = service.leader();
        ObjectNode o = json.createObjectNode();
        o.put("id", status.id());
        o.put("url", SafeUrls.orNull(status.url()));
        o.put("role", roleName(s));
        if (s.role() == Role.FAILED) {
            o.put("failure", s.failure());
        } else {
            o.putNull("failure");
        }
        if (leader.isPresent()) {
            o.put("leader", leader.get().id());
            o.put("leaderUrl", SafeUrls.leaderOrigin(leader, status).orElse(null));
        } else {
            o.putNull("leader");
            o.putNull("leaderUrl");
        }
        o.put("epoch", s.epoch());
        o.put("commitOffset", s.commitOffset());
        o.put("appliedOffset", status.appliedOffset());
        o.put("logEndOffset", s.logEndOffset());
        o.put("logStartOffset", s.logStartOffset());
        Replica.SnapshotStatus snap = s.snapshot();
        ObjectNode snapshot = o.putObject("snapshot");
        snapshot.put("offset", snap.offset());
        snapshot.put("epoch", snap.epoch());
        snapshot.put("sizeBytes", snap.sizeBytes());
        if (snap.atMillis() > 0) {
            snapshot.put("at", Instant.ofEpochMilli(snap.atMillis()).toString());
        } else {
            snapshot.putNull("at");
        }
        Replica.InstallStatus in = s.install();
        if (in.inProgress()) {
            ObjectNode install = o.putObject("install");
            install.put("source", in.source());
            install.put("offset", in.offset());
            install.put("epoch", in.epoch());
            install.put("receivedBytes", in.receivedBytes());
            install.put("sizeBytes", in.sizeBytes());
        } else {
            o.putNull("install");
        }
        o.set("configuration", configurationJson(s.configuration()));
        o.put("keys", status.keys());
        ArrayNode replicas = o.putArray("replicas");
        for (String id : status.replicas()) {
            ObjectNode r = replicas.addObject();
            r.put("id", id);
            String u = SafeUrls.orNull(status.urls().get(id));
            if (u == null) {
                r.putNull("url");
            } else {
                r.put("url", u);
            }
            if (id.equals(status.id())) {
                r.put("matchOffset", s.logEndOffset());
                r.put("lagMs", 0);
                r.put("connected", true);
                continue;
            }
            Optional<Replica.FollowerStatus> f =
                    s.followers().stream().filter(x -> x.id().equals(id)).findFirst();
            if (f.isPresent() && s.role() == Role.LEADER) {
                r.put("matchOffset", f.get().matchOffset());
                r.put("lagMs", observations.lagMillis(id));
                r.put("connected", f.get().lastHeardMillisAgo() >= 0 && f.get().lastHeardMillisAgo() < 1000);
            } else {
                r.putNull("matchOffset");
                r.putNull("lagMs");
                r.put("connected", u != null);
            }
        }
        o.put("partitionCount", 1);
        o.putArray("partitions").add(partitionJson(service, status));
        putFastFailover(o);
        putController(o);
        ArrayNode events = o.putArray("events");
        for (NodeObservations.Event e : observations.events()) {
            events.addObject().put("at", e.at().toString()).put("text", e.text());
        }
        return o;
    }

    /**
     * {@code /status} of a partitioned node: the node ({@code id}, {@code url}, {@code partitionCount}, {@code
     * partitioning}, {@code leading}: the partitions it leads, {@code replicas}: every node with its URL, {@code
     * events}) and, in {@code partitions}, each partition's id, replica set ({@code preferredLeader} first), leader as
     * discovery sees it, epoch, this node's {@code role} in it and its offsets. The single log's top-level fields are
     * kept as sums or maxima where they add up ({@code commitOffset}, {@code appliedOffset}, {@code logEndOffset} and
     * {@code keys} are sums over the partitions, {@code epoch} the largest), {@code null} where they do not ({@code
     * leader}, {@code configuration}, {@code snapshot}, {@code install}); {@code role} is {@code failed} when a
     * partition failed here, else {@code node}.
     */
    private ObjectNode partitionedStatusJson() {
        java.util.List<KvService> logs = service.partitions();
        ObjectNode o = json.createObjectNode();
        ArrayNode parts = json.createArrayNode();
        ArrayNode leading = json.createArrayNode();
        java.util.Set<String> nodes = new java.util.LinkedHashSet<>();
        java.util.Map<String, String> urls = new java.util.HashMap<>();
        String self = null;
        String url = null;
        String failure = null;
        long epoch = 0;
        long commit = 0;
        long applied = 0;
        long logEnd = 0;
        long keys = 0;
        for (KvService log : logs) {
            KvService.Status status = log.status();
            Replica.Status s = status.replica();
            self = status.id();
            url = status.url();
            urls.putAll(status.urls());
            nodes.addAll(status.replicas());
            parts.add(partitionJson(log, status));
            if (s.role() == Role.FAILED && failure == null) {
                failure = "partition " + log.partitionId() + ": " + s.failure();
            }
            if (s.role() == Role.LEADER) {
                leading.add(log.partitionId());
            }
            epoch = Math.max(epoch, s.epoch());
            commit += s.commitOffset();
            applied += status.appliedOffset();
            logEnd += s.logEndOffset();
            keys += status.keys();
        }
        o.put("id", self);
        o.put("url", SafeUrls.orNull(url));
        o.put("role", failure == null ? "node" : "failed");
        o.put("failure", failure);
        o.put("partitionCount", logs.size());
        o.put("partitioning", "crc32");
        o.set("leading", leading);
        o.putNull("leader");
        o.putNull("leaderUrl");
        o.put("epoch", epoch);
        o.put("commitOffset", commit);
        o.put("appliedOffset", applied);
        o.put("logEndOffset", logEnd);
        o.putNull("logStartOffset");
        o.putNull("snapshot");
        o.putNull("install");
        o.putNull("configuration");
        o.put("keys", keys);
        ArrayNode replicas = o.putArray("replicas");
        for (String id : nodes) {
            ObjectNode r = replicas.addObject();
            r.put("id", id);
            String u = SafeUrls.orNull(urls.get(id));
            if (u == null) {
                r.putNull("url");
            } else {
                r.put("url", u);
            }
            r.putNull("matchOffset");
            r.putNull("lagMs");
            r.put("connected", id.equals(self) || u != null);
        }
        o.set("partitions", parts);
        putFastFailover(o);
        putController(o);
        ArrayNode events = o.putArray("events");
        for (NodeObservations.Event e : observations.events()) {
            events.addObject().put("at", e.at().toString()).put("text", e.text());
        }
        return o;
    }

    /** One partition in {@code /status}'s {@code partitions}, as {@code log} reports it in {@code status}. */
    private static ObjectNode partitionJson(KvService log, KvService.Status status) {
        Replica.Status s = status.replica();
        ObjectNode p = json.createObjectNode();
        p.put("id", log.partitionId());
        ArrayNode replicas = p.putArray("replicas");
        status.replicas().forEach(replicas::add);
        if (status.replicas().isEmpty()) {
            p.putNull("preferredLeader");
        } else {
            p.put("preferredLeader", status.replicas().get(0));
        }
        Optional<LeaderInfo> leader = log.leader();
        if (leader.isPresent()) {
            p.put("leader", leader.get().id());
            p.put("leaderUrl", SafeUrls.leaderOrigin(leader, status).orElse(null));
        } else {
            p.putNull("leader");
            p.putNull("leaderUrl");
        }
        p.put("role", roleName(s));
        p.put("epoch", s.epoch());
        p.put("commitOffset", s.commitOffset());
        p.put("appliedOffset", status.appliedOffset());
        p.put("logEndOffset", s.logEndOffset());
        p.put("logStartOffset", s.logStartOffset());
        p.put("snapshotOffset", s.snapshot().offset());
        p.put("keys", status.keys());
        if (s.role() == Role.FAILED) {
            p.put("failure", s.failure());
        } else {
            p.putNull("failure");
        }
        return p;
    }

    private static String roleName(Replica.Status s) {
        return switch (s.role()) {
            case LEADER -> "leader";
            case RECOVERING -> "recovering";
            case FOLLOWER -> s.leader().isEmpty() ? "offline" : "follower";
            case FAILED -> "failed";
            case REMOVED -> "removed";
        };
    }
}
