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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.controller.core.PartitionSet;
import dev.tenure.controller.core.PartitionSets;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The partition-set records in ZooKeeper ({@link PartitionSetRecord}). */
class PartitionSetRecordTest {
    private static final PartitionSet SET = new PartitionSet("orders", 2, 2, Map.of("retention", "7d"));

    @Test
    void aSetAndARequestDecodeToWhatWasEncoded() {
        PartitionSets.SetRecord r = new PartitionSets.SetRecord(
                SET, PartitionSets.Status.DELETING, List.of(List.of("n1", "n2"), List.of("n2", "n1")));
        assertEquals(r, PartitionSetRecord.decode(PartitionSetRecord.encode(r), "/p/partition-sets/orders"));
        assertEquals(
                new PartitionSets.CreateRequest(SET, Optional.of("refused: x")),
                PartitionSetRecord.decodeRequest(
                        PartitionSetRecord.encodeRequest(SET, Optional.of("refused: x")), "/p/r/orders"));
    }

    @Test
    void aRecordThatDoesNotParseIsRefusedNamingItsNode() {
        for (String bad : List.of(
                "",
                "something else\npartitions=1",
                PartitionSetRecord.FORMAT + "\npartitions=1\nreplicationFactor=1\nstatus=BOGUS\nreplicas.0=n1",
                PartitionSetRecord.FORMAT + "\npartitions=2\nreplicationFactor=1\nstatus=CREATED\nreplicas.0=n1",
                PartitionSetRecord.FORMAT + "\npartitions=1\nreplicationFactor=2\nstatus=CREATED\nreplicas.0=n1,n1",
                PartitionSetRecord.FORMAT + "\npartitions=0\nreplicationFactor=1\nstatus=CREATED")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> PartitionSetRecord.decode(
                            bad.replace("\\\n", "\n").getBytes(StandardCharsets.UTF_8), "/p/partition-sets/orders"),
                    bad);
            assertTrue(e.getMessage().contains("/p/partition-sets/orders"), e.getMessage());
        }
    }
}
