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

import dev.tenure.controller.core.PartitionSet;
import dev.tenure.controller.core.PartitionSets;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The text records of partition sets: a set at {@code P/partition-sets/NAME} and a create request at {@code
 * P/admin/create-partition-set/NAME}.
 *
 * <pre>
 * tenure-partition-set 1
 * partitions=12
 * replicationFactor=3
 * status=CREATING
 * replicas.0=n1,n2,n3
 * ...
 * setting.retention=7d
 * </pre>
 *
 * A request has no {@code status} and no {@code replicas.I}; a refused one has {@code error=REASON}. Nothing read is
 * trusted: a record that does not parse is refused with an {@link IllegalArgumentException} naming the node.
 *
 * <p>Thread-safe (stateless).
 */
public final class PartitionSetRecord {
    /** The first line of every record. */
    public static final String FORMAT = "tenure-partition-set 1";

    private PartitionSetRecord() {}

    /** Encodes a set's record. */
    public static byte[] encode(PartitionSets.SetRecord r) {
        StringBuilder b = header(r.set());
        b.append("status=").append(r.status().name()).append('\n');
        for (int i = 0; i < r.placement().size(); i++) {
            b.append("replicas.")
                    .append(i)
                    .append('=')
                    .append(String.join(",", r.placement().get(i)))
                    .append('\n');
        }
        settings(b, r.set());
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Encodes a create request, refused with {@code error} if present. */
    public static byte[] encodeRequest(PartitionSet set, Optional<String> error) {
        StringBuilder b = header(set);
        error.ifPresent(e -> b.append("error=")
                .append(e.replace('\n', ' ').replace('\r', ' '))
                .append('\n'));
        settings(b, set);
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Decodes a set's record read at {@code path}, whose last element is the set's name.
     *
     * @throws IllegalArgumentException if it is not a valid record
     */
    public static PartitionSets.SetRecord decode(byte[] data, String path) {
        Map<String, String> f = fields(data, path);
        PartitionSet set = set(f, path);
        String status = require(f, "status", path);
        PartitionSets.Status s;
        try {
            s = PartitionSets.Status.valueOf(status);
        } catch (IllegalArgumentException e) {
            throw refused(path, "unknown status " + status);
        }
        List<List<String>> placement = new ArrayList<>();
        for (int i = 0; i < set.partitions(); i++) {
            placement.add(List.of(require(f, "replicas." + i, path).split(",", -1)));
        }
        try {
            return new PartitionSets.SetRecord(set, s, placement);
        } catch (IllegalArgumentException e) {
            throw refused(path, e.getMessage());
        }
    }

    /**
     * Decodes a create request read at {@code path}.
     *
     * @throws IllegalArgumentException if it is not a valid request
     */
    public static PartitionSets.CreateRequest decodeRequest(byte[] data, String path) {
        Map<String, String> f = fields(data, path);
        return new PartitionSets.CreateRequest(set(f, path), Optional.ofNullable(f.get("error")));
    }

    private static StringBuilder header(PartitionSet set) {
        return new StringBuilder(FORMAT)
                .append('\n')
                .append("partitions=")
                .append(set.partitions())
                .append('\n')
                .append("replicationFactor=")
                .append(set.replicationFactor())
                .append('\n');
    }

    private static void settings(StringBuilder b, PartitionSet set) {
        set.settings()
                .forEach((k, v) ->
                        b.append("setting.").append(k).append('=').append(v).append('\n'));
    }

    private static PartitionSet set(Map<String, String> f, String path) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        Map<String, String> settings = new TreeMap<>();
        f.forEach((k, v) -> {
            if (k.startsWith("setting.")) {
                settings.put(k.substring("setting.".length()), v);
            }
        });
        try {
            return new PartitionSet(
                    name,
                    Integer.parseInt(require(f, "partitions", path)),
                    Integer.parseInt(require(f, "replicationFactor", path)),
                    settings);
        } catch (IllegalArgumentException e) {
            throw refused(path, e.getMessage());
        }
    }

    private static Map<String, String> fields(byte[] data, String path) {
        if (data == null) {
            throw refused(path, "no data");
        }
        String text = new String(data, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1);
        if (lines.length == 0 || !lines[0].equals(FORMAT)) {
            throw refused(path, "not a " + FORMAT + " record");
        }
        Map<String, String> f = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            int eq = lines[i].indexOf('=');
            if (eq <= 0 || f.put(lines[i].substring(0, eq), lines[i].substring(eq + 1)) != null) {
                throw refused(path, "bad or repeated line " + (i + 1));
            }
        }
        return f;
    }

    private static String require(Map<String, String> f, String key, String path) {
        String v = f.get(key);
        if (v == null) {
            throw refused(path, "no " + key);
        }
        return v;
    }

    private static IllegalArgumentException refused(String path, String what) {
        return new IllegalArgumentException("invalid partition set record at " + path + ": " + what);
    }
}
