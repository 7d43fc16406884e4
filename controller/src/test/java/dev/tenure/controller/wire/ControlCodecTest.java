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
package dev.tenure.controller.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tenure.controller.core.LeaderAndReplicas;
import dev.tenure.controller.core.PartitionState;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What {@link ControlCodec} encodes, and what it refuses to decode. */
class ControlCodecTest {
    private static LeaderAndReplicas request(int partitions) {
        Map<String, PartitionState> states = new LinkedHashMap<>();
        for (int i = 0; i < partitions; i++) {
            states.put(
                    "p" + i,
                    i % 3 == 0
                            ? new PartitionState(List.of("n1", "n2", "n3"), Optional.empty(), i, 0, 4)
                            : new PartitionState(List.of("n2", "n1", "n3"), Optional.of("n1"), i + 1, 77, 4));
        }
        return new LeaderAndReplicas(4, "n2", "n1", 77, partitions % 2 == 0, states);
    }

    private static final List<ControlMessage> EXAMPLES = List.of(
            new ControlMessage.Assignment(0, request(0)),
            new ControlMessage.Assignment(9, request(5)),
            new ControlMessage.AssignmentAck(4, 9, "n1", 77, 4, ControlMessage.AssignmentResult.APPLIED),
            new ControlMessage.AssignmentAck(3, 1, "n1", 0, 4, ControlMessage.AssignmentResult.STALE_CONTROLLER_EPOCH),
            new ControlMessage.AssignmentAck(4, 2, "n1", 78, 4, ControlMessage.AssignmentResult.STALE_NODE_EPOCH),
            new ControlMessage.ControlledShutdown("n3", 12),
            new ControlMessage.ControlledShutdownProgress(4, "n3", 12, true, 5, 2),
            new ControlMessage.ControlledShutdownProgress(4, "n3", 12, false, 0, 0),
            new ControlMessage.TermEnded("n2", 8, "orders-7", 31),
            new ControlMessage.StopReplicas(3, 4, "n2", "n1", 77, List.of("orders-0", "orders-11")),
            new ControlMessage.StopReplicas(4, 4, "n2", "n1", 77, List.of()),
            new ControlMessage.Assignment(
                    10,
                    new LeaderAndReplicas(
                            4,
                            "n2",
                            "n4",
                            78,
                            false,
                            Map.of(
                                    "p1",
                                    new PartitionState(List.of("n1", "n2", "n3"), Optional.of("n1"), 6, 77, 4)
                                            .reassignedTo(List.of("n2", "n3", "n4")),
                                    "p2",
                                    new PartitionState(List.of("n1", "n2", "n3"), Optional.of("n1"), 6, 77, 4)
                                            .reassignedTo(List.of("n2", "n3", "n4"))
                                            .joined()))),
            new ControlMessage.ChangeReady("n1", 77, "orders-7", 32, 3));

    @Test
    void everyMessageDecodesToWhatWasEncoded() throws Exception {
        for (ControlMessage m : EXAMPLES) {
            assertEquals(m, ControlCodec.decode(ControlCodec.encode(m)));
        }
        ControlMessage.Assignment big = new ControlMessage.Assignment(1, request(1000));
        byte[] bytes = ControlCodec.encode(big);
        assertTrue(bytes.length < 100_000, "1,000 partitions in " + bytes.length + " bytes");
        assertEquals(big, ControlCodec.decode(bytes));
    }

    @Test
    void anAssignmentWithoutConfigurationsKeepsTheFirstFormatAndOneWithThemTakesTheSecond() throws Exception {
        assertEquals(1, ControlCodec.encode(new ControlMessage.Assignment(9, request(5)))[1]);
        ControlMessage withConfiguration = EXAMPLES.get(EXAMPLES.size() - 2);
        byte[] bytes = ControlCodec.encode(withConfiguration);
        assertEquals(7, bytes[1]);
        assertEquals(withConfiguration, ControlCodec.decode(bytes));
        byte[] asFirst = bytes.clone();
        asFirst[1] = 1; // the same bytes read as the first format: trailing fields are refused, never misread
        assertThrows(ControlCodec.MalformedControlMessageException.class, () -> ControlCodec.decode(asFirst));
        byte[] ready = ControlCodec.encode(EXAMPLES.get(EXAMPLES.size() - 1));
        assertEquals(8, ready[1]);
        byte[] zeroVersion = ready.clone();
        zeroVersion[zeroVersion.length - 1] = 0;
        assertMalformed(zeroVersion, "configurationVersion must be > 0");
    }

    @Test
    void aDeltaSplitsIntoRequestsOfBoundedSizeInOrderAndAFullRequestStaysWhole() {
        LeaderAndReplicas delta = request(25);
        List<LeaderAndReplicas> parts = ControlCodec.split(delta, 10);
        assertEquals(
                List.of(10, 10, 5),
                parts.stream().map(p -> p.partitions().size()).toList());
        Map<String, PartitionState> joined = new LinkedHashMap<>();
        parts.forEach(p -> joined.putAll(p.partitions()));
        assertEquals(List.copyOf(delta.partitions().keySet()), List.copyOf(joined.keySet()));
        LeaderAndReplicas full = request(24);
        assertEquals(List.of(full), ControlCodec.split(full, 10));
    }

    @Test
    void aMessageAboveTheBoundIsRefusedAtEncoding() {
        Map<String, PartitionState> states = new LinkedHashMap<>();
        for (int i = 0; i < 20_000; i++) {
            states.put(
                    "partition-with-a-long-name-" + i,
                    new PartitionState(
                            List.of("node-with-a-long-name-1", "node-with-a-long-name-2", "node-with-a-long-name-3"),
                            Optional.of("node-with-a-long-name-1"),
                            1,
                            1,
                            1));
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ControlCodec.encode(
                        new ControlMessage.Assignment(1, new LeaderAndReplicas(1, "n1", "n2", 1, false, states))));
        assertTrue(e.getMessage().contains("above the bound"), e.getMessage());
    }

    @Test
    void everyTruncationAndTrailingByteIsRefusedWithAClearError() throws Exception {
        for (ControlMessage m : EXAMPLES) {
            byte[] bytes = ControlCodec.encode(m);
            for (int length = 0; length < bytes.length; length++) {
                byte[] cut = Arrays.copyOf(bytes, length);
                assertThrows(
                        ControlCodec.MalformedControlMessageException.class,
                        () -> ControlCodec.decode(cut),
                        m + " cut at " + cut.length);
            }
            byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
            ControlCodec.MalformedControlMessageException e = assertThrows(
                    ControlCodec.MalformedControlMessageException.class, () -> ControlCodec.decode(longer));
            assertTrue(e.getMessage().contains("after the end"), e.getMessage());
        }
    }

    @Test
    void forgedFieldsAreRefusedNamingWhatIsWrong() throws Exception {
        byte[] ack = ControlCodec.encode(EXAMPLES.get(2));
        ack[ack.length - 1] = 9;
        assertMalformed(ack, "unknown assignment result 9");
        byte[] format = ControlCodec.encode(EXAMPLES.get(5));
        format[0] = 7;
        assertMalformed(format, "unknown control message format 7");
        byte[] type = ControlCodec.encode(EXAMPLES.get(5));
        type[1] = 42;
        assertMalformed(type, "unknown control message type 42");
        // An assignment whose partition count claims more than the bytes left.
        byte[] count = ControlCodec.encode(new ControlMessage.Assignment(1, request(1)));
        int countAt = 2 + 8 + 8 + 2 + 2 + 2 + 2 + 8 + 1;
        count[countAt] = 0x7f;
        assertMalformed(count, "does not fit");
        // A leader that is not one of the replicas breaks the record's rule.
        byte[] leader = ControlCodec.encode(new ControlMessage.Assignment(
                1,
                new LeaderAndReplicas(
                        1,
                        "n1",
                        "n2",
                        1,
                        false,
                        Map.of("p", new PartitionState(List.of("n1", "n2"), Optional.of("n2"), 1, 1, 1)))));
        int at = indexOf(leader, new byte[] {1, 0, 2, 'n', '2'}); // hasLeader, "n2"
        leader[at + 4] = '9';
        assertMalformed(leader, "not one of the replicas");
        assertMalformed(new byte[0], "empty");
        assertMalformed(new byte[ControlMessage.MAX_BYTES + 1], "above the bound");
    }

    @Test
    void randomCorruptionIsEitherDecodedIntoAValidMessageOrRefusedNeverAnotherException() {
        Random random = new Random(20261205);
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = ControlCodec.encode(EXAMPLES.get(random.nextInt(EXAMPLES.size())));
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
            try {
                ControlMessage m = ControlCodec.decode(bytes);
                assertEquals(m, ControlCodec.decode(ControlCodec.encode(m)), "a decoded message is a valid one");
            } catch (ControlCodec.MalformedControlMessageException expected) {
                // refused with a message
                assertTrue(
                        expected.getMessage() != null && !expected.getMessage().isEmpty());
            } catch (RuntimeException e) {
                fail("seed 20261205, case " + i + ": " + e, e);
            }
        }
    }

    private static void assertMalformed(byte[] bytes, String says) {
        ControlCodec.MalformedControlMessageException e =
                assertThrows(ControlCodec.MalformedControlMessageException.class, () -> ControlCodec.decode(bytes));
        assertTrue(e.getMessage().contains(says), e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
