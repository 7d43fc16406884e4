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
package dev.tenure.recipes;

import com.google.common.base.CharMatcher;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The text formats Tenure stores in ZooKeeper: readable with {@code zkCli get}, one {@code key=value} per
 * line, values percent-encoded, a format line first.
 */
final class Records {
    private Records() {}

    /** The data of {@code P/epoch}: the latest minted epoch and the participant it was minted for. */
    static final class EpochRecord {
        static final String FORMAT = "tenure-epoch-record";
        static final EpochRecord INITIAL = new EpochRecord(0, "", "", "", "");

        final long epoch;
        final String leaderId;
        final String endpoint;
        /** The name of the leader's node under {@code P/election} when it minted. */
        final String participantNode;
        /** The minting participant's instance id (distinguishes participants that share an id). */
        final String instance;

        EpochRecord(long epoch, String leaderId, String endpoint, String participantNode, String instance) {
            if (epoch < 0) {
                throw new IllegalArgumentException("epoch must be >= 0, was " + epoch);
            }
            this.epoch = epoch;
            this.leaderId = leaderId;
            this.endpoint = endpoint;
            this.participantNode = participantNode;
            this.instance = instance;
        }

        byte[] encode() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("epoch", Long.toString(epoch));
            m.put("leader", leaderId);
            m.put("endpoint", endpoint);
            m.put("node", participantNode);
            m.put("instance", instance);
            return Records.encode(FORMAT, m);
        }

        /**
         * @throws IllegalArgumentException naming the problem if the data is not an epoch record
         */
        static EpochRecord decode(byte[] data) {
            Map<String, String> m = Records.decode(FORMAT, data);
            long epoch;
            try {
                epoch = Long.parseLong(require(m, "epoch"));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("epoch record has a malformed epoch", e);
            }
            if (epoch < 0) {
                throw new IllegalArgumentException("epoch record has a negative epoch " + epoch);
            }
            return new EpochRecord(
                    epoch, require(m, "leader"), require(m, "endpoint"), require(m, "node"), require(m, "instance"));
        }
    }

    /** The data of one participant's node under {@code P/election}. */
    static final class ParticipantRecord {
        static final String FORMAT = "tenure-participant";

        final String id;
        final String endpoint;
        final String instance;

        ParticipantRecord(String id, String endpoint, String instance) {
            this.id = Objects.requireNonNull(id);
            this.endpoint = Objects.requireNonNull(endpoint);
            this.instance = Objects.requireNonNull(instance);
        }

        String encodeAsText() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("endpoint", endpoint);
            m.put("instance", instance);
            return new String(Records.encode(FORMAT, m), StandardCharsets.UTF_8);
        }

        static ParticipantRecord decode(byte[] data) {
            Map<String, String> m = Records.decode(FORMAT, data);
            return new ParticipantRecord(require(m, "id"), require(m, "endpoint"), require(m, "instance"));
        }
    }

    private static byte[] encode(String format, Map<String, String> fields) {
        StringBuilder sb = new StringBuilder(format).append("=1\n");
        fields.forEach((k, v) ->
                sb.append(k).append('=').append(LeadershipToken.encode(v)).append('\n'));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, String> decode(String format, byte[] data) {
        if (data == null) {
            throw new IllegalArgumentException("no data where a " + format + " was expected");
        }
        String text = new String(data, StandardCharsets.UTF_8);
        // Every line ends with '\n': trailing empty lines are not part of the record.
        String[] lines = CharMatcher.is('\n').trimTrailingFrom(text).split("\n", -1);
        if (lines.length == 0 || !lines[0].equals(format + "=1")) {
            throw new IllegalArgumentException("not a " + format + " (version 1): starts with '"
                    + (lines.length == 0 ? "" : abbreviate(lines[0])) + "'");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int eq = lines[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(format + " line " + (i + 1) + " is malformed");
            }
            m.put(lines[i].substring(0, eq), LeadershipToken.decode(lines[i].substring(eq + 1)));
        }
        return m;
    }

    private static String require(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("record lacks field '" + key + "'");
        }
        return v;
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}
