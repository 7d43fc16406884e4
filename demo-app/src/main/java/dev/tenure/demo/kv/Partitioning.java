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
package dev.tenure.demo.kv;

import com.google.common.base.Preconditions;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Which partition a key belongs to: partition {@code CRC-32(UTF-8 bytes of the key) mod P}, numbered {@code 0} to
 * {@code P-1}, where CRC-32 is the IEEE 802.3 polynomial of {@link CRC32} (the one of zip and PNG), an unsigned
 * 32-bit value. The function is fixed and documented (docs/demo-app.md) so that any client, in any language, can
 * compute a key's partition; every node of a cluster must use the same {@code P}, which the node checks in
 * ZooKeeper when it starts. Stateless and thread-safe.
 */
public final class Partitioning {
    /**
     * The most partitions the demo serves: every partition adds a few meters labelled with its id to each node's
     * {@code /metrics}, a column to the status page and a leader-discovery watch, so the number is kept bounded.
     */
    public static final int MAX_PARTITIONS = 64;

    private Partitioning() {}

    /** The partition of {@code key} among {@code partitions}: {@code CRC-32(UTF-8(key)) mod partitions}. */
    public static int partitionOf(String key, int partitions) {
        Preconditions.checkArgument(
                partitions >= 1 && partitions <= MAX_PARTITIONS,
                "partitions must be 1..%s, was %s",
                MAX_PARTITIONS,
                partitions);
        CRC32 crc = new CRC32();
        crc.update(key.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % partitions); // getValue() is in [0, 2^32): never negative
    }

    /** The id of partition {@code index}: its number, {@code "0"} to {@code "P-1"}. */
    public static String id(int index) {
        return Integer.toString(index);
    }
}
