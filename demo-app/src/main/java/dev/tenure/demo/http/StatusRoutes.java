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
 * {@code GET /} (the live status page) and {@code POST /admin/snapshot} (snapshot this replica now). Every other
 * request goes to the next router, the key routes.
 *
 * <p>{@code POST /admin/snapshot} answers {@code 200 {"offset":O,"epoch":E}} once the snapshot is durable; {@code 501
 * snapshots_unsupported} if the state machine takes none, {@code 500 snapshot_failed} (with the cause as {@code
 * detail}) if it could not be written, {@code 503 replica_failed} on a replica stopped after a failure, each with
 * {@code "applied":false}: no snapshot was taken; {@code 503 timeout} without it when the snapshot is not durable
 * within the snapshot timeout (it may still complete). Any other method is {@code 405}, a body {@code 413}.
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

    /** @param snapshotTimeout how long {@code POST /admin/snapshot} waits for the snapshot to be durable */
    StatusRoutes(KvService service, NodeObservations observations, Router next, Duration snapshotTimeout) {
        this.service = service;
        this.observations = observations;
        this.next = next;
        this.snapshotTimeoutMs = snapshotTimeout.toMillis();
    }

    @Override
    public Route route(Request req) {
        switch (req.rawPath()) {
            case "/status" -> {
                requireMethod(req.method(), "GET");
                return Route.now(body -> Reply.json(200, statusJson()));
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
                return new Route(0, "body_not_allowed", body -> snapshot());
            }
            default -> {
                return next.route(req);
            }
        }
    }

    private CompletableFuture<Reply> snapshot() {
        ensureNotFailed();
        CompletableFuture<SnapshotId> taken;
        try {
            taken = service.takeSnapshot();
        } catch (RejectedExecutionException e) {
            ensureNotFailed(); // stopped since the check above
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
            Optional<Throwable> stopped = service.status().failure();
            if (stopped.isPresent()) {
                return replicaFailed(stopped.get()).reply();
            }
            return new HttpError(500, "snapshot_failed", String.valueOf(cause))
                    .definite(true)
                    .reply();
        });
    }

    private void ensureNotFailed() {
        Optional<Throwable> failure = service.status().failure();
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

    private ObjectNode statusJson() {
        KvService.Status status = service.status();
        Replica.Status s = status.replica();
        Optional<LeaderInfo> leader = service.leader();
        ObjectNode o = json.createObjectNode();
        o.put("id", status.id());
        o.put("url", status.url());
        o.put("role", roleName(s));
        if (s.role() == Role.FAILED) {
            o.put("failure", s.failure());
        } else {
            o.putNull("failure");
        }
        if (leader.isPresent()) {
            o.put("leader", leader.get().id());
            o.put("leaderUrl", leader.get().endpoint());
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
        o.put("keys", status.keys());
        ArrayNode replicas = o.putArray("replicas");
        for (String id : status.replicas()) {
            ObjectNode r = replicas.addObject();
            r.put("id", id);
            String u = status.urls().get(id);
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
        ArrayNode events = o.putArray("events");
        for (NodeObservations.Event e : observations.events()) {
            events.addObject().put("at", e.at().toString()).put("text", e.text());
        }
        return o;
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
