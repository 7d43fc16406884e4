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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A node's registration record: round trips, and anything else planted in ZooKeeper is refused. */
@Timeout(60)
class NodeRegistrationRecordTest {
    private static final String PATH = "/c/nodes/n1";

    @Test
    void aRegistrationIsWrittenAsTheDocumentedTextAndReadBack() {
        byte[] data = NodeRegistrationRecord.encode("n1", "[::1]:7001");
        assertEquals("tenure-node 1\nnode=n1\nendpoint=[::1]:7001\n", new String(data, StandardCharsets.UTF_8));
        assertEquals("[::1]:7001", NodeRegistrationRecord.decodeEndpoint(data, "n1", PATH));
    }

    @Test
    void aRecordOfAnotherNodeOrWithABadEndpointIsRefusedNamingTheNode() {
        for (String bad : List.of(
                "tenure-node 1\nnode=n2\nendpoint=h:1\n",
                "tenure-node 2\nnode=n1\nendpoint=h:1\n",
                "tenure-node 1\nnode=n1\nendpoint=h:1",
                "tenure-node 1\nnode=n1\nendpoint=h:1\nextra=1\n",
                "tenure-node 1\nnode=n1\nendpoint=h\n",
                "tenure-node 1\nnode=n1\nendpoint=h:99999\n",
                "tenure-node 1\nnode=n1\nendpoint=-h:1\n",
                "tenure-node 1\nnode=n1\nendpoint=evil host:1\n",
                "")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> NodeRegistrationRecord.decodeEndpoint(bad.getBytes(StandardCharsets.UTF_8), "n1", PATH),
                    bad);
            assertTrue(e.getMessage().contains(PATH), e.getMessage());
        }
    }

    /** A seeded fuzz test: corrupted records decode to a valid endpoint or are refused; nothing else is thrown. */
    @Test
    void corruptedRecordsAreRefusedWithIllegalArgumentExceptionOnly() {
        Random random = new Random(7);
        byte[] valid = NodeRegistrationRecord.encode("n1", "node-1.example:7001");
        for (int i = 0; i < 20_000; i++) {
            byte[] corrupt = valid.clone();
            for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(4) == 0) {
                corrupt = java.util.Arrays.copyOf(corrupt, random.nextInt(corrupt.length));
            }
            try {
                String endpoint = NodeRegistrationRecord.decodeEndpoint(corrupt, "n1", PATH);
                assertArrayEquals(NodeRegistrationRecord.encode("n1", endpoint), corrupt);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().contains(PATH), e.getMessage());
            }
        }
    }
}
