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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An error answer of the key-value API, thrown while a request is routed or handled. Definite errors (400, 405 and
 * 413 by default, or marked with {@link #definite(boolean)}) carry {@code "applied":false}: the request changed
 * nothing. Not thread-safe: built and turned into a {@link Reply} by one thread.
 */
final class HttpError extends RuntimeException {
    private static final Logger log = LoggerFactory.getLogger(HttpError.class);
    private static final ObjectMapper json = new ObjectMapper();
    private static final AtomicLong requestIds = new AtomicLong();

    final int status;
    final String code;
    final String detail;
    private boolean definite;
    private JsonNode body;
    private final Map<String, String> headers = new LinkedHashMap<>();

    HttpError(int status, String code, String detail) {
        super(code, null, false, false);
        this.status = status;
        this.code = code;
        this.detail = detail;
        this.definite = status == 400 || status == 405 || status == 413;
    }

    /** An error with a body of its own (a redirect naming the leader). */
    HttpError(int status, JsonNode body) {
        this(status, body.get("error").asText(), null);
        this.body = body;
    }

    /** Throws 405 {@code method_not_allowed}, allowing {@code method}, unless {@code actual} is {@code method}. */
    static void requireMethod(String actual, String method) {
        if (!actual.equals(method)) {
            throw new HttpError(405, "method_not_allowed", "use " + method).allow(method);
        }
    }

    HttpError definite(boolean d) {
        this.definite = d;
        return this;
    }

    HttpError allow(String methods) {
        return header("Allow", methods);
    }

    HttpError header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    Reply reply() {
        if (body != null) {
            return Reply.json(status, body, headers);
        }
        ObjectNode o = json.createObjectNode().put("error", code);
        if (status == 500) {
            // An internal error's text (exception messages, paths, class names) is logged, never sent.
            String id = requestId();
            log.error("request {} answered 500 {}: {}", id, code, detail);
            o.put("requestId", id);
            o.put("detail", "internal error: see the node's log for request " + id);
        } else if (detail != null) {
            o.put("detail", detail);
        }
        if (definite) {
            o.put("applied", false);
        }
        return Reply.json(status, o, headers);
    }

    /** A new identifier that ties a 500 answer to its log line. */
    static String requestId() {
        return Long.toHexString(System.currentTimeMillis()) + "-" + requestIds.incrementAndGet();
    }
}
