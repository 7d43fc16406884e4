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
package dev.tenure.replicator.zookeeper;

import com.google.common.base.Splitter;
import dev.tenure.replicator.core.Configuration;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The text form of a {@link Configuration} in its ZooKeeper node: one {@code key=value} per line after a format
 * line, ids comma-separated.
 *
 * <pre>
 * tenure-configuration 1
 * version=3
 * voters=r1,r2,r4
 * previous=r1,r2,r3
 * learners=
 * </pre>
 */
final class ConfigurationRecord {
    static final String FORMAT = "tenure-configuration 1";

    private ConfigurationRecord() {}

    static byte[] encode(Configuration c) {
        String text = FORMAT + "\n"
                + "version=" + c.version() + "\n"
                + "voters=" + String.join(",", c.voters()) + "\n"
                + "previous=" + String.join(",", c.previousVoters()) + "\n"
                + "learners=" + String.join(",", c.learners()) + "\n";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @throws IllegalArgumentException naming the node and what is wrong if {@code data} is not a configuration
     */
    static Configuration decode(byte[] data, String path) {
        if (data == null) {
            throw new IllegalArgumentException("configuration node " + path + " holds no data");
        }
        List<String> lines = Splitter.on('\n').omitEmptyStrings().splitToList(new String(data, StandardCharsets.UTF_8));
        if (lines.isEmpty() || !lines.get(0).equals(FORMAT)) {
            throw new IllegalArgumentException(
                    "configuration node " + path + " does not start with \"" + FORMAT + "\": " + abbreviate(data));
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            int eq = line.indexOf('=');
            if (eq <= 0 || fields.put(line.substring(0, eq), line.substring(eq + 1)) != null) {
                throw new IllegalArgumentException(
                        "configuration node " + path + " has a malformed or repeated line: " + line);
            }
        }
        try {
            return new Configuration(
                    Long.parseLong(require(fields, "version", path)),
                    ids(require(fields, "voters", path)),
                    ids(require(fields, "previous", path)),
                    ids(require(fields, "learners", path)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("configuration node " + path + " is invalid: " + e.getMessage(), e);
        }
    }

    private static String require(Map<String, String> fields, String key, String path) {
        String v = fields.get(key);
        if (v == null) {
            throw new IllegalArgumentException("configuration node " + path + " lacks " + key);
        }
        return v;
    }

    private static List<String> ids(String text) {
        return Splitter.on(',').trimResults().omitEmptyStrings().splitToList(text);
    }

    private static String abbreviate(byte[] data) {
        String s = new String(data, StandardCharsets.UTF_8);
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
