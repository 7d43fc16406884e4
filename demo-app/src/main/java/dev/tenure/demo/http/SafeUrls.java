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

import dev.tenure.demo.kv.KvService;
import dev.tenure.recipes.LeaderInfo;
import dev.tenure.replicator.core.Configuration;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

/**
 * The one check every URL read from ZooKeeper (a replica's advertised HTTP URL, a leader's endpoint) passes before it
 * is used: in a {@code 307 Location}, in {@code /status} ({@code url}, {@code leaderUrl}, {@code replicas[].url}) and
 * so on the status page's links and bridge iframes. Anyone who can write to ZooKeeper can plant a URL there; only a
 * plain {@code http} or {@code https} origin with a host and an explicit port is let through, so a {@code
 * javascript:}, {@code data:} or other URL never reaches a browser; a leader's URL is used only if the leader is a
 * member of the replica set ({@link #leaderOrigin}). Thread-safe (stateless).
 */
final class SafeUrls {
    private SafeUrls() {}

    /**
     * The origin {@code scheme://host:port} of {@code url} if it is an {@code http} or {@code https} URL with a host,
     * an explicit port (1..65535) and nothing else (no user info, query or fragment; an empty path or {@code /});
     * else empty.
     */
    static Optional<String> origin(String url) {
        if (url == null || url.isEmpty() || url.length() > 2048) {
            return Optional.empty();
        }
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c <= ' ' || c >= 127) {
                return Optional.empty(); // control characters, spaces (header splitting) and non-ASCII
            }
        }
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return Optional.empty();
        }
        String host = u.getHost();
        int port = u.getPort();
        if (host == null
                || host.isEmpty()
                || port < 1
                || port > 65535
                || u.getRawUserInfo() != null
                || u.getRawQuery() != null
                || u.getRawFragment() != null) {
            return Optional.empty();
        }
        String path = u.getRawPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            return Optional.empty();
        }
        return Optional.of(scheme + "://" + host.toLowerCase(Locale.ROOT) + ":" + port);
    }

    /**
     * Where a request may be sent on to {@code leader}: the {@link #origin} of the endpoint it registered, only if it
     * is a member of this replica's newest configuration (voters, previous voters or learners; the configured replica
     * set before any is known). A participant that is not a member — planted in the election path by someone who can
     * write there — is never redirected to, nor linked, even with a well-formed URL.
     */
    static Optional<String> leaderOrigin(Optional<LeaderInfo> leader, KvService.Status status) {
        if (leader.isEmpty()) {
            return Optional.empty();
        }
        String id = leader.get().id();
        Configuration c = status.replica().configuration();
        boolean member = c != null ? c.contains(id) : status.replicas().contains(id);
        return member ? origin(leader.get().endpoint()) : Optional.empty();
    }

    /** {@link #origin} of {@code url}, or {@code null} when it is not a safe URL. */
    static String orNull(String url) {
        return origin(url).orElse(null);
    }
}
