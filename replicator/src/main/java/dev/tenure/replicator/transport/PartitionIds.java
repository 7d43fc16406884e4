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
package dev.tenure.replicator.transport;

/**
 * Partition ids: 1 to {@value #MAX_LENGTH} characters of {@code [A-Za-z0-9._-]}. So an id is its own ASCII
 * encoding, fits a file or node name, and prints safely in a log line. Stateless and thread-safe; {@link #check} throws
 * {@link IllegalArgumentException} for an invalid id.
 */
public final class PartitionIds {
    /** The longest partition id, in characters (and bytes). */
    public static final int MAX_LENGTH = 64;

    private PartitionIds() {}

    /** Whether {@code id} is a valid partition id. */
    public static boolean isValid(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '_'
                    || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns {@code id} if it is a valid partition id.
     *
     * @throws IllegalArgumentException otherwise, naming the id (made printable)
     */
    public static String check(String id) {
        if (!isValid(id)) {
            throw new IllegalArgumentException("invalid partition id " + describe(id) + ": must be 1 to " + MAX_LENGTH
                    + " characters of [A-Za-z0-9._-]");
        }
        return id;
    }

    /** {@code id} quoted for a message, control characters replaced and cut to 80 characters. */
    static String describe(String id) {
        if (id == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < id.length() && i < 80; i++) {
            char c = id.charAt(i);
            sb.append(Character.isISOControl(c) ? '?' : c);
        }
        if (id.length() > 80) {
            sb.append("...");
        }
        return sb.append('\'').toString();
    }
}
