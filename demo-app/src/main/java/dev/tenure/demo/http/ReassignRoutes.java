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
import com.google.common.base.Splitter;
import dev.tenure.controller.core.PartitionState;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The controller's reassignment routes (docs/demo-app.md, "Reassignment"), in front of the other routes:
 *
 * <ul>
 *   <li>{@code POST /admin/reassign?partition=ID&replicas=A,B,C}: starts moving the partition to that replica set,
 *       preferred leader first; {@code 200} with the partition's state when the controller took the request
 *       (the move goes on in the background), {@code 400 bad_reassignment} (definite) naming what is wrong: an
 *       unknown partition, an empty target, a node named twice, a node not registered, another reassignment in
 *       progress.
 *   <li>{@code GET /admin/reassign?partition=ID}: the partition's state as the controller holds it: {@code replicas},
 *       {@code leader}, {@code leaderEpoch}, {@code configurationVersion}, and while a reassignment is in progress
 *       {@code reassigning} true with {@code phase} ({@code learning} or {@code joint}), {@code targetReplicas},
 *       {@code addingReplicas}, {@code removingReplicas}, {@code learners}, {@code previousReplicas}; {@code 404
 *       no_such_partition} for an unknown id.
 * </ul>
 *
 * A node that is not the controller redirects both ({@code 307} to the URL the controller published), or answers
 * {@code 503 no_controller} (definite) when it knows none; a node without the controller answers {@code 501
 * controller_mode_only} (definite). Thread-safe.
 */
final class ReassignRoutes implements Router {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TIMEOUT_MS = 10_000;

    private final Optional<ReassignmentAdmin> admin;
    private final Router next;

    ReassignRoutes(Optional<ReassignmentAdmin> admin, Router next) {
        this.admin = admin;
        this.next = next;
    }

    @Override
    public Route route(Request req) {
        if (!req.rawPath().equals("/admin/reassign")) {
            return next.route(req);
        }
        if (!req.method().equals("GET")) {
            requireMethod(req.method(), "POST");
        }
        ReassignmentAdmin a = admin.orElseThrow(
                () -> new HttpError(501, "controller_mode_only", "reassignments need --leadership controller")
                        .definite(true));
        if (!a.isController()) {
            Optional<String> url = a.controllerUrl().flatMap(SafeUrls::origin);
            if (url.isEmpty()) {
                throw new HttpError(503, "no_controller", "no controller is known yet")
                        .definite(true)
                        .header("Retry-After", "1");
            }
            ObjectNode body =
                    JSON.createObjectNode().put("error", "not_controller").put("controllerUrl", url.get());
            throw new HttpError(307, body).header("Location", url.get() + req.rawTarget());
        }
        Map<String, String> q = query(req.rawQuery());
        String partition = q.get("partition");
        if (partition == null || partition.isEmpty()) {
            throw new HttpError(400, "partition_required", "name the partition: ?partition=ID").definite(true);
        }
        if (req.method().equals("GET")) {
            return Route.now(body -> {
                PartitionState s = a.states().get(partition);
                if (s == null) {
                    throw new HttpError(404, "no_such_partition", partition).definite(true);
                }
                return Reply.json(200, stateJson(partition, s));
            });
        }
        String replicas = q.get("replicas");
        if (replicas == null) {
            throw new HttpError(400, "replicas_required", "name the target replicas: &replicas=A,B,C").definite(true);
        }
        List<String> target = replicas.isEmpty() ? List.of() : Splitter.on(',').splitToList(replicas);
        return new Route(0, "body_not_allowed", body -> start(a, partition, target));
    }

    private static CompletableFuture<Reply> start(ReassignmentAdmin a, String partition, List<String> target) {
        return a.reassign(partition, target)
                .orTimeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                .handle((s, failure) -> {
                    if (failure == null) {
                        return Reply.json(200, stateJson(partition, s));
                    }
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause()
                            : failure;
                    if (cause instanceof IllegalArgumentException || cause instanceof NullPointerException) {
                        return new HttpError(400, "bad_reassignment", cause.getMessage())
                                .definite(true)
                                .reply();
                    }
                    if (cause instanceof IllegalStateException) {
                        return new HttpError(503, "not_controller", cause.getMessage())
                                .definite(true)
                                .header("Retry-After", "1")
                                .reply();
                    }
                    if (cause instanceof TimeoutException) {
                        return new HttpError(
                                        503,
                                        "timeout",
                                        "the controller did not answer within " + TIMEOUT_MS
                                                + " ms; the reassignment may have started (GET shows it)")
                                .reply();
                    }
                    return new HttpError(500, "reassignment_failed", String.valueOf(cause)).reply();
                });
    }

    /** A partition's state as the routes show it. */
    static ObjectNode stateJson(String partition, PartitionState s) {
        ObjectNode o = JSON.createObjectNode().put("partition", partition);
        ids(o.putArray("replicas"), s.replicas());
        o.put("leader", s.leader().orElse(null));
        o.put("leaderEpoch", s.leaderEpoch());
        o.put("configurationVersion", s.configurationVersion());
        o.put("reassigning", s.reassigning());
        if (s.reassigning()) {
            o.put("phase", s.joint() ? "joint" : "learning");
            ids(o.putArray("targetReplicas"), s.targetReplicas());
            ids(o.putArray("addingReplicas"), s.addingReplicas());
            ids(o.putArray("removingReplicas"), s.removingReplicas());
            ids(o.putArray("learners"), s.learners());
            ids(o.putArray("previousReplicas"), s.previousReplicas());
        }
        return o;
    }

    private static void ids(ArrayNode a, List<String> ids) {
        ids.forEach(a::add);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> m = new HashMap<>();
        if (raw == null) {
            return m;
        }
        for (String kv : Splitter.on('&').split(raw)) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(
                        URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return m;
    }
}
