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

import java.util.Locale;

/**
 * What one ZooKeeper server says about itself when asked with the {@code srvr} four-letter word.
 *
 * <p>The answer is a snapshot: a server can change mode behind the caller's back (a follower becomes
 * {@link #NOT_SERVING} while the quorum re-elects) before the caller acts on it. Immutable and thread-safe.
 */
public enum ZooKeeperServerMode {
    /** Leads the quorum. */
    LEADER,
    /** Follows the quorum leader and serves clients. */
    FOLLOWER,
    /** Serves clients without voting. */
    OBSERVER,
    /** A one-server ensemble: serves clients without a quorum. */
    STANDALONE,
    /** Cut off from the quorum but serving reads (read-only mode). */
    READ_ONLY,
    /** Answers, but is not serving requests: it is looking for (or syncing with) a quorum leader. */
    NOT_SERVING,
    /** Does not answer on its client port: the process is down, still starting, or not ours. */
    NO_ANSWER;

    /** True if the server serves reads and writes. */
    public boolean serving() {
        return this == LEADER || this == FOLLOWER || this == OBSERVER || this == STANDALONE;
    }

    /** True if the server is the one that orders writes: the quorum leader, or a standalone server. */
    public boolean leads() {
        return this == LEADER || this == STANDALONE;
    }

    /** The lower-case name shown by {@code zk status}, for example {@code leader} or {@code no-answer}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Asks the server on {@code 127.0.0.1:clientPort} with {@code srvr}. Never throws: a connection failure
     * or a timeout is {@link #NO_ANSWER}.
     */
    static ZooKeeperServerMode probe(int clientPort, int timeoutMs) {
        return probe(clientPort, timeoutMs, null);
    }

    /** As {@link #probe(int, int)}, over TLS with these client settings unless null. */
    static ZooKeeperServerMode probe(int clientPort, int timeoutMs, org.apache.zookeeper.client.ZKClientConfig tls) {
        return ZooKeeperProcessEnsemble.srvr(clientPort, timeoutMs, tls)
                .map(ZooKeeperServerMode::fromSrvr)
                .orElse(NO_ANSWER);
    }

    /** Reads the {@code Mode:} line of a {@code srvr} answer. */
    public static ZooKeeperServerMode fromSrvr(String answer) {
        if (answer == null || answer.isBlank()) {
            return NO_ANSWER;
        }
        // No Mode line: "This ZooKeeper instance is not currently serving requests".
        return ZooKeeperProcessEnsemble.modeOf(answer)
                .map(ZooKeeperServerMode::fromMode)
                .orElse(NOT_SERVING);
    }

    private static ZooKeeperServerMode fromMode(String mode) {
        switch (mode) {
            case "leader":
                return LEADER;
            case "follower":
                return FOLLOWER;
            case "observer":
                return OBSERVER;
            case "standalone":
                return STANDALONE;
            case "read-only":
                return READ_ONLY;
            default:
                return NOT_SERVING;
        }
    }
}
