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
package dev.tenure.controller.zookeeper;

import com.google.common.base.Splitter;
import dev.tenure.controller.core.PartitionState;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The text form of a {@link PartitionState} in its node {@code P/partitions/ID/state}: a format line, then one {@code
 * key=value} per line, each line ending with a newline, in this order:
 *
 * <pre>
 * tenure-partition-state 1
 * replicas=n1,n2,n3
 * leader=n2
 * leaderEpoch=4
 * leaderNodeEpoch=4294967301
 * controllerEpoch=7
 * </pre>
 *
 * {@code leader} is empty for a partition without a leader (then {@code leaderNodeEpoch} is 0). Ids need no escaping:
 * they hold no whitespace, {@code ','} or {@code '='}. A new key, or a change of meaning, takes a new format line.
 *
 * <p>A state whose configuration changed (a reassignment started or done: docs/controller.md, "Reassignment") takes
 * format 2, which adds four keys after those of format 1 (lists empty when there is nothing):
 *
 * <pre>
 * tenure-partition-state 2
 * replicas=n1,n2,n3
 * leader=n2
 * leaderEpoch=5
 * leaderNodeEpoch=4294967301
 * controllerEpoch=7
 * configurationVersion=1
 * targetReplicas=n2,n3,n4
 * learners=n4
 * previousReplicas=
 * </pre>
 *
 * A state at configuration version 0 without a reassignment is written in format 1, so a reader of format 1 reads
 * every state of a cluster that never reassigned a partition.
 *
 * <p>Decoding is strict, since anyone who can write ZooKeeper can plant a state: bytes that are not UTF-8, another
 * format line, a missing, repeated or unknown key, an empty line, a number that is not a canonical non-negative
 * decimal, keys out of order, or a state {@link PartitionState} refuses (no replica, a repeated replica, a leader that is not a
 * replica...) are refused with an {@link IllegalArgumentException} naming the node and what is wrong. Anything
 * accepted encodes back to the same bytes.
 *
 * <p>Stateless and thread-safe.
 */
public final class PartitionStateRecord {
    /** The format line of version 1. */
    public static final String FORMAT = "tenure-partition-state 1";

    /** The format line of version 2: format 1 and the configuration. */
    public static final String FORMAT_2 = "tenure-partition-state 2";

    /** Records larger than this are refused without being parsed (1 MiB: ZooKeeper's default node size limit). */
    static final int MAX_BYTES = 1 << 20;

    private static final List<String> KEYS =
            List.of("replicas", "leader", "leaderEpoch", "leaderNodeEpoch", "controllerEpoch");

    private static final List<String> KEYS_2 = List.of(
            "replicas",
            "leader",
            "leaderEpoch",
            "leaderNodeEpoch",
            "controllerEpoch",
            "configurationVersion",
            "targetReplicas",
            "learners",
            "previousReplicas");

    private PartitionStateRecord() {}

    /** The record of {@code state}, UTF-8. */
    public static byte[] encode(PartitionState state) {
        boolean second = state.configurationVersion() != 0 || state.reassigning();
        String text = (second ? FORMAT_2 : FORMAT) + "\n"
                + "replicas=" + String.join(",", state.replicas()) + "\n"
                + "leader=" + state.leader().orElse("") + "\n"
                + "leaderEpoch=" + state.leaderEpoch() + "\n"
                + "leaderNodeEpoch=" + state.leaderNodeEpoch() + "\n"
                + "controllerEpoch=" + state.controllerEpoch() + "\n";
        if (second) {
            text += "configurationVersion=" + state.configurationVersion() + "\n"
                    + "targetReplicas=" + String.join(",", state.targetReplicas()) + "\n"
                    + "learners=" + String.join(",", state.learners()) + "\n"
                    + "previousReplicas=" + String.join(",", state.previousReplicas()) + "\n";
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Decodes the data of the state node at {@code path}.
     *
     * @param path the node's path, for messages only
     * @throws IllegalArgumentException naming {@code path} and what is wrong, if {@code data} is not a valid record
     */
    public static PartitionState decode(byte[] data, String path) {
        if (data == null) {
            throw refused(path, "it holds no data");
        }
        if (data.length > MAX_BYTES) {
            throw refused(path, "it holds " + data.length + " bytes, more than " + MAX_BYTES);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data))
                    .toString();
        } catch (CharacterCodingException e) {
            throw refused(path, "it is not UTF-8 text");
        }
        if (!text.endsWith("\n")) {
            throw refused(path, "its last line does not end with a newline");
        }
        List<String> lines = Splitter.on('\n').splitToList(text.substring(0, text.length() - 1));
        boolean second = lines.get(0).equals(FORMAT_2);
        if (!lines.get(0).equals(FORMAT) && !second) {
            throw refused(
                    path,
                    "it does not start with \"" + FORMAT + "\" or \"" + FORMAT_2 + "\" but with \""
                            + abbreviate(lines.get(0)) + "\"");
        }
        List<String> keys = second ? KEYS_2 : KEYS;
        Map<String, String> fields = new LinkedHashMap<>();
        Set<String> known = Set.copyOf(keys);
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw refused(path, "line " + (i + 1) + " is not key=value: \"" + abbreviate(line) + "\"");
            }
            String key = line.substring(0, eq);
            if (!known.contains(key)) {
                throw refused(path, "line " + (i + 1) + " has an unknown key \"" + abbreviate(key) + "\"");
            }
            if (fields.put(key, line.substring(eq + 1)) != null) {
                throw refused(path, "the key " + key + " is repeated");
            }
        }
        for (String key : keys) {
            if (!fields.containsKey(key)) {
                throw refused(path, "it lacks the key " + key);
            }
        }
        if (!List.copyOf(fields.keySet()).equals(keys)) {
            throw refused(path, "its keys are not in the order " + keys);
        }
        List<String> replicas = Splitter.on(',').splitToList(fields.get("replicas"));
        String leader = fields.get("leader");
        long leaderEpoch = number(fields, "leaderEpoch", path);
        long leaderNodeEpoch = number(fields, "leaderNodeEpoch", path);
        long controllerEpoch = number(fields, "controllerEpoch", path);
        long configurationVersion = second ? number(fields, "configurationVersion", path) : 0;
        if (second && configurationVersion == 0 && fields.get("targetReplicas").isEmpty()) {
            throw refused(path, "a state of format 2 without a configuration change (it is written in format 1)");
        }
        try {
            if (second) {
                return new PartitionState(
                        replicas,
                        leader.isEmpty() ? Optional.empty() : Optional.of(leader),
                        leaderEpoch,
                        leaderNodeEpoch,
                        controllerEpoch,
                        configurationVersion,
                        ids(fields.get("targetReplicas")),
                        ids(fields.get("learners")),
                        ids(fields.get("previousReplicas")));
            }
            return new PartitionState(
                    replicas,
                    leader.isEmpty() ? Optional.empty() : Optional.of(leader),
                    leaderEpoch,
                    leaderNodeEpoch,
                    controllerEpoch);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw refused(path, e.getMessage());
        }
    }

    /** A comma-separated list of ids; the empty string is the empty list. */
    private static List<String> ids(String text) {
        return text.isEmpty() ? List.of() : Splitter.on(',').splitToList(text);
    }

    /** A canonical non-negative decimal {@code long}: digits only, no sign, no leading zero. */
    private static long number(Map<String, String> fields, String key, String path) {
        String v = fields.get(key);
        if (v.startsWith("-")) {
            throw refused(path, key + " is negative: " + abbreviate(v));
        }
        boolean digits = !v.isEmpty() && v.chars().allMatch(c -> c >= '0' && c <= '9');
        if (!digits || (v.length() > 1 && v.charAt(0) == '0')) {
            throw refused(path, key + " is not a decimal number: \"" + abbreviate(v) + "\"");
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw refused(path, key + " is out of range: " + abbreviate(v));
        }
    }

    private static IllegalArgumentException refused(String path, String what) {
        return new IllegalArgumentException("partition state node " + path + " is malformed: " + what);
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }
}
