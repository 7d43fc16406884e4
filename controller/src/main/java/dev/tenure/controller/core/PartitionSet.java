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
package dev.tenure.controller.core;

import com.google.common.base.CharMatcher;
import com.google.common.base.Preconditions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A partition set (Kafka's topic): {@code partitions} partitions named {@code NAME-0} to {@code NAME-(n-1)}, each
 * with {@code replicationFactor} replicas, and free-form settings handed to the nodes' {@code PartitionFactory}.
 *
 * <p>A name is 1 to {@value #MAX_NAME_LENGTH} characters of {@code [A-Za-z0-9._-]}, not {@code .} or {@code ..}, so
 * that every partition id of a set is a valid partition id; a set has at most {@value #MAX_PARTITIONS} partitions.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name the set's name
 * @param partitions how many partitions it has (at least 1)
 * @param replicationFactor how many replicas each partition has (at least 1)
 * @param settings settings of the set, by key (keys and values without line breaks, keys without {@code =})
 */
public record PartitionSet(String name, int partitions, int replicationFactor, Map<String, String> settings) {
    /** The longest name. */
    public static final int MAX_NAME_LENGTH = 48;
    /** The most partitions of one set. */
    public static final int MAX_PARTITIONS = 10_000;

    private static final CharMatcher NAME_CHARS = CharMatcher.inRange('a', 'z')
            .or(CharMatcher.inRange('A', 'Z'))
            .or(CharMatcher.inRange('0', '9'))
            .or(CharMatcher.anyOf("._-"));

    /**
     * Checks and copies.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public PartitionSet {
        checkName(name);
        Preconditions.checkArgument(
                partitions >= 1 && partitions <= MAX_PARTITIONS,
                "a partition set needs 1 to %s partitions, not %s",
                MAX_PARTITIONS,
                partitions);
        Preconditions.checkArgument(
                replicationFactor >= 1, "the replication factor must be at least 1, not %s", replicationFactor);
        settings = java.util.Collections.unmodifiableMap(new TreeMap<>(settings));
        settings.forEach((k, v) -> {
            Preconditions.checkArgument(
                    !k.isEmpty() && CharMatcher.anyOf("=\n\r").matchesNoneOf(k),
                    "setting key '%s' must be non-empty, without '=' or line breaks",
                    k);
            Preconditions.checkArgument(
                    CharMatcher.anyOf("\n\r").matchesNoneOf(v), "setting %s has a line break in its value", k);
        });
    }

    /**
     * Checks a partition set's name.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static String checkName(String name) {
        Preconditions.checkArgument(
                name != null
                        && !name.isEmpty()
                        && name.length() <= MAX_NAME_LENGTH
                        && NAME_CHARS.matchesAllOf(name)
                        && !name.equals(".")
                        && !name.equals(".."),
                "invalid partition set name '%s': 1 to %s characters of [A-Za-z0-9._-], not '.' or '..'",
                name,
                MAX_NAME_LENGTH);
        return name;
    }

    /** The id of partition {@code index} of set {@code name}: {@code name-index}. */
    public static String partitionId(String name, int index) {
        Preconditions.checkArgument(index >= 0, "index must be >= 0, was %s", index);
        return name + "-" + index;
    }

    /** The ids of this set's partitions, in order. */
    public List<String> partitionIds() {
        List<String> ids = new ArrayList<>(partitions);
        for (int i = 0; i < partitions; i++) {
            ids.add(partitionId(name, i));
        }
        return ids;
    }

    /**
     * The name of the set a partition id would belong to ({@code NAME} of {@code NAME-index}), if the id has that
     * form; whether that set exists is another question.
     */
    public static Optional<String> nameOf(String partition) {
        int dash = partition.lastIndexOf('-');
        if (dash <= 0 || dash == partition.length() - 1) {
            return Optional.empty();
        }
        String index = partition.substring(dash + 1);
        String name = partition.substring(0, dash);
        if (!CharMatcher.inRange('0', '9').matchesAllOf(index)
                || (index.length() > 1 && index.charAt(0) == '0')
                || index.length() > 5) {
            return Optional.empty();
        }
        try {
            return Optional.of(checkName(name));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
