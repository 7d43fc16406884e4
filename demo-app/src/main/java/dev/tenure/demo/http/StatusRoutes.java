package dev.tenure.demo.http;

import static dev.tenure.demo.http.HttpError.requireMethod;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tenure.demo.kv.KvService;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.Replica;
import dev.tenure.replicator.core.Role;
import java.util.Optional;

/**
 * The operator's routes: {@code GET /status} (this replica's status as JSON), {@code GET /metrics} (Prometheus text)
 * and {@code GET /} (the live status page). Every other request goes to the next router, the key routes.
 *
 * <p>Thread-safe: it keeps no per-request state; every reply is made at once on the calling thread.
 */
final class StatusRoutes implements Router {
    private static final ObjectMapper json = new ObjectMapper();

    private final KvService service;
    private final NodeObservations observations;
    private final Router next;

    StatusRoutes(KvService service, NodeObservations observations, Router next) {
        this.service = service;
        this.observations = observations;
        this.next = next;
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
            default -> {
                return next.route(req);
            }
        }
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
        };
    }
}
