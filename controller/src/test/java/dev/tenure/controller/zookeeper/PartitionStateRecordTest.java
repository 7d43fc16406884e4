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

import dev.tenure.controller.core.PartitionState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The partition state's text record: round trips, and refuses every malformed input, naming the node. */
@Timeout(60)
class PartitionStateRecordTest {
    private static final String PATH = "/c/partitions/p1/state";

    private static PartitionState decode(String text) {
        return PartitionStateRecord.decode(text.getBytes(StandardCharsets.UTF_8), PATH);
    }

    private static String refusal(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> decode(text), text);
        assertTrue(e.getMessage().contains(PATH), "the refusal names the node: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void aStateIsWrittenAsTheDocumentedTextAndReadBack() {
        PartitionState s = new PartitionState(List.of("n1", "n2", "n3"), Optional.of("n2"), 4, 4294967301L, 7);
        String text = "tenure-partition-state 1\n"
                + "replicas=n1,n2,n3\n"
                + "leader=n2\n"
                + "leaderEpoch=4\n"
                + "leaderNodeEpoch=4294967301\n"
                + "controllerEpoch=7\n";
        assertEquals(text, new String(PartitionStateRecord.encode(s), StandardCharsets.UTF_8));
        assertEquals(s, decode(text));
    }

    @Test
    void aStateInTheMiddleOfAReassignmentIsWrittenInFormat2AndReadBack() {
        PartitionState s = new PartitionState(
                List.of("n1", "n2", "n3"),
                Optional.of("n2"),
                5,
                4294967301L,
                7,
                1,
                List.of("n2", "n3", "n4"),
                List.of("n4"),
                List.of());
        String text = "tenure-partition-state 2\n"
                + "replicas=n1,n2,n3\n"
                + "leader=n2\n"
                + "leaderEpoch=5\n"
                + "leaderNodeEpoch=4294967301\n"
                + "controllerEpoch=7\n"
                + "configurationVersion=1\n"
                + "targetReplicas=n2,n3,n4\n"
                + "learners=n4\n"
                + "previousReplicas=\n";
        assertEquals(text, new String(PartitionStateRecord.encode(s), StandardCharsets.UTF_8));
        assertEquals(s, decode(text));
        assertEquals(List.of("n4"), s.addingReplicas());
        assertEquals(List.of("n1"), s.removingReplicas());
        PartitionState joint = s.joined();
        assertEquals(joint, decode(new String(PartitionStateRecord.encode(joint), StandardCharsets.UTF_8)));
        assertEquals(List.of("n4"), joint.addingReplicas());
        assertEquals(List.of("n1"), joint.removingReplicas());
        assertTrue(refusal(text.replace("learners=n4", "learners=")).contains("learners"));
        assertTrue(refusal(text.replace("learners=n4", "learners=n1")).contains("learners"));
        assertTrue(refusal(text.replace(
                        "configurationVersion=1\ntargetReplicas=n2,n3,n4\nlearners=n4",
                        "configurationVersion=0\ntargetReplicas=\nlearners="))
                .contains("format 2 without a configuration change"));
        assertTrue(refusal(text.replace("leader=n2", "leader=n4")).contains("not one of the replicas"));
    }

    @Test
    void aStateWithoutALeaderHasAnEmptyLeaderLine() {
        PartitionState s = PartitionState.initial(List.of("a"), 3);
        String text = new String(PartitionStateRecord.encode(s), StandardCharsets.UTF_8);
        assertTrue(text.contains("\nleader=\n"), text);
        assertEquals(s, decode(text));
    }

    @Test
    void everyKindOfMalformedRecordIsRefusedSayingWhatIsWrong() {
        String ok = "tenure-partition-state 1\nreplicas=a,b\nleader=a\nleaderEpoch=1\nleaderNodeEpoch=9\n"
                + "controllerEpoch=2\n";
        assertEquals(Optional.of("a"), decode(ok).leader());
        assertTrue(refusal(ok.replace("tenure-partition-state 1", "tenure-partition-state 3"))
                .contains("start"));
        assertTrue(refusal(ok.replace("tenure-partition-state 1", "tenure-partition-state 2"))
                .contains("lacks the key configurationVersion"));
        assertTrue(refusal(ok.replace("leaderEpoch=1\n", "")).contains("lacks the key leaderEpoch"));
        assertTrue(refusal(ok + "leaderEpoch=1\n").contains("repeated"));
        assertTrue(refusal(ok + "colour=red\n").contains("unknown key"));
        assertTrue(refusal(ok + "\n").contains("line 7"));
        assertTrue(refusal(ok.substring(0, ok.length() - 1)).contains("newline"));
        assertTrue(refusal(ok.replace("leaderEpoch=1", "leaderEpoch=x")).contains("leaderEpoch"));
        assertTrue(refusal(ok.replace("leaderEpoch=1", "leaderEpoch=-1")).contains("negative"));
        assertTrue(
                refusal(ok.replace("controllerEpoch=2", "controllerEpoch=+2")).contains("controllerEpoch"));
        assertTrue(
                refusal(ok.replace("controllerEpoch=2", "controllerEpoch=02")).contains("controllerEpoch"));
        assertTrue(refusal(ok.replace("controllerEpoch=2", "controllerEpoch=99999999999999999999"))
                .contains("out of range"));
        assertTrue(refusal(ok.replace("leader=a", "leader=c")).contains("not one of the replicas"));
        assertTrue(refusal(ok.replace("replicas=a,b", "replicas=a,a")).contains("distinct"));
        refusal(ok.replace("replicas=a,b", "replicas="));
        refusal(ok.replace("replicas=a,b", "replicas=a,,b"));
        refusal(ok.replace("replicas=a,b", "replicas=a, b"));
        refusal(ok.replace("leaderNodeEpoch=9", "leaderNodeEpoch=0")); // a leader needs its node epoch
        refusal(ok.replace("leader=a", "leader=").replace("leaderEpoch=1", "leaderEpoch=0")); // epoch 9, no leader
        refusal(ok.replace("\n", "\r\n"));
        refusal("");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PartitionStateRecord.decode(null, PATH))
                .getMessage()
                .contains(PATH));
        byte[] notUtf8 = ok.getBytes(StandardCharsets.UTF_8);
        notUtf8[30] = (byte) 0xC3;
        notUtf8[31] = (byte) 0x28;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PartitionStateRecord.decode(notUtf8, PATH))
                .getMessage()
                .contains("UTF-8"));
    }

    /** A seeded property test: random states round-trip, byte for byte. */
    @Test
    void randomStatesRoundTrip() {
        Random random = new Random(17);
        for (int i = 0; i < 5_000; i++) {
            PartitionState s = randomState(random);
            byte[] encoded = PartitionStateRecord.encode(s);
            PartitionState decoded = PartitionStateRecord.decode(encoded, PATH);
            assertEquals(s, decoded);
            assertArrayEquals(encoded, PartitionStateRecord.encode(decoded));
        }
    }

    /**
     * A seeded fuzz test: random corruptions of valid records (flipped, inserted, deleted and truncated bytes, swapped
     * lines, planted values) either decode to a state that encodes back to the same bytes or are refused with an
     * {@link IllegalArgumentException} naming the node; nothing else is ever thrown.
     */
    @Test
    void corruptedRecordsDecodeToTheSameBytesOrAreRefusedWithIllegalArgumentException() {
        Random random = new Random(42);
        String[] planted = {"", "-1", "0", "x", ",", "a,,b", "9223372036854775808", "\u0000", "=", "a=b", " ", "é"};
        int refused = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] data = PartitionStateRecord.encode(randomState(random));
            byte[] corrupt = corrupt(data, random, planted);
            try {
                PartitionState decoded = PartitionStateRecord.decode(corrupt, PATH);
                assertArrayEquals(corrupt, PartitionStateRecord.encode(decoded), "accepted only in canonical form");
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().contains(PATH), e.getMessage());
                refused++;
            }
        }
        assertTrue(refused > 10_000, "most corruptions are refused: " + refused);
    }

    private static byte[] corrupt(byte[] data, Random random, String[] planted) {
        byte[] out = data.clone();
        switch (random.nextInt(6)) {
            case 0: // flip a byte
                out[random.nextInt(out.length)] = (byte) random.nextInt(256);
                return out;
            case 1: // truncate
                return java.util.Arrays.copyOf(out, random.nextInt(out.length));
            case 2: { // insert a byte
                int at = random.nextInt(out.length + 1);
                byte[] longer = new byte[out.length + 1];
                System.arraycopy(out, 0, longer, 0, at);
                longer[at] = (byte) random.nextInt(256);
                System.arraycopy(out, at, longer, at + 1, out.length - at);
                return longer;
            }
            case 3: { // swap two lines
                List<String> lines = new ArrayList<>(List.of(new String(out, StandardCharsets.UTF_8).split("\n")));
                java.util.Collections.swap(lines, random.nextInt(lines.size()), random.nextInt(lines.size()));
                return (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
            }
            case 4: { // plant a value
                List<String> lines = new ArrayList<>(List.of(new String(out, StandardCharsets.UTF_8).split("\n")));
                int line = 1 + random.nextInt(lines.size() - 1);
                String key = lines.get(line).substring(0, lines.get(line).indexOf('='));
                lines.set(line, key + "=" + planted[random.nextInt(planted.length)]);
                return (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
            }
            default: { // random bytes
                byte[] noise = new byte[random.nextInt(200)];
                random.nextBytes(noise);
                return noise;
            }
        }
    }

    static PartitionState randomState(Random random) {
        PartitionState s = randomPlainState(random);
        int phase = random.nextInt(4);
        if (phase == 0) {
            return s;
        }
        List<String> target = new ArrayList<>(s.replicas()
                .subList(random.nextInt(s.replicas().size()), s.replicas().size()));
        target.add("t" + random.nextInt(3));
        PartitionState r = s.reassignedTo(target);
        if (phase == 2 && r.reassigning() && !r.joint()) {
            r = r.joined();
        } else if (phase == 3 && r.joint()) {
            r = r.completed();
        }
        return r;
    }

    static PartitionState randomPlainState(Random random) {
        int n = 1 + random.nextInt(5);
        List<String> replicas = new ArrayList<>();
        while (replicas.size() < n) {
            String id = random.nextInt(4) == 0 ? "node-" + random.nextInt(1000) : "n" + random.nextInt(20);
            if (!replicas.contains(id)) {
                replicas.add(id);
            }
        }
        long controllerEpoch = random.nextInt(3) == 0 ? Long.MAX_VALUE - random.nextInt(3) : random.nextInt(1000);
        if (random.nextBoolean()) {
            return new PartitionState(replicas, Optional.empty(), random.nextInt(100), 0, controllerEpoch);
        }
        return new PartitionState(
                replicas,
                Optional.of(replicas.get(random.nextInt(n))),
                1 + random.nextInt(1_000_000),
                1 + (random.nextLong() & Long.MAX_VALUE) % (Long.MAX_VALUE - 1),
                controllerEpoch);
    }
}
