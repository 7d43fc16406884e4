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
package dev.tenure.recipes;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Property-based fuzzing of what the recipes read from ZooKeeper and from tokens: the epoch node's record, a
 * participant's record and a token's text and bytes decode or are refused naming the problem ({@link
 * IllegalStateException} "malformed epoch record" from {@link FencedLeaderElection#decodeEpoch}, {@link
 * IllegalArgumentException} otherwise); a decoded epoch is never negative. Anyone who can write ZooKeeper can plant any bytes there.
 */
class RecordsFuzzTest {
    @Provide
    Arbitrary<byte[]> recordLike() {
        Arbitrary<String> values = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(30),
                Arbitraries.of("-1", "9223372036854775807", "9223372036854775808", "0", "1", "", "%", "%zz", "a=b"));
        Arbitrary<String> keys = Arbitraries.of("epoch", "leader", "endpoint", "node", "instance", "id", "format", "x");
        Arbitrary<String> line = net.jqwik.api.Combinators.combine(keys, values).as((k, v) -> k + "=" + v);
        Arbitrary<String> header = Arbitraries.of(
                "tenure-epoch-record\n", "tenure-participant\n", "format=tenure-epoch-record\n", "", "garbage\n");
        return net.jqwik.api.Combinators.combine(header, line.list().ofMaxSize(8))
                .as((h, ls) -> (h + String.join("\n", ls)).getBytes(StandardCharsets.UTF_8));
    }

    @Property
    void anEpochNodeOfArbitraryBytesDecodesToANonNegativeEpochOrIsRefused(@ForAll @Size(max = 300) byte[] bytes) {
        epochDecodesOrIsRefused(bytes);
    }

    @Property
    void anEpochNodeOfRecordShapedBytesDecodesToANonNegativeEpochOrIsRefused(@ForAll("recordLike") byte[] bytes) {
        epochDecodesOrIsRefused(bytes);
    }

    private static void epochDecodesOrIsRefused(byte[] bytes) {
        try {
            assertTrue(FencedLeaderElection.decodeEpoch(bytes) >= 0);
        } catch (IllegalStateException refused) { // decodeEpoch's documented refusal: "malformed epoch record: ..."
            assertTrue(refused.getMessage().startsWith("malformed epoch record: "), refused.getMessage());
        }
    }

    @Property
    void aParticipantRecordOfArbitraryBytesDecodesOrIsRefused(@ForAll("recordLike") byte[] bytes) {
        try {
            assertNotNull(Records.ParticipantRecord.decode(bytes));
        } catch (IllegalArgumentException refused) {
            assertNotNull(refused.getMessage(), "a refusal says why");
        }
    }

    @Property
    void aTokenOfArbitraryTextOrBytesParsesOrIsRefused(@ForAll @Size(max = 200) byte[] bytes) {
        try {
            assertTrue(LeadershipToken.fromBytes(bytes).epoch() >= 0);
        } catch (IllegalArgumentException refused) {
            assertNotNull(refused.getMessage(), "a refusal says why");
        }
        String text = "tenure-token:1:" + new String(bytes, StandardCharsets.ISO_8859_1);
        try {
            assertTrue(LeadershipToken.parse(text).epoch() >= 0);
        } catch (IllegalArgumentException refused) {
            assertNotNull(refused.getMessage(), "a refusal says why");
        }
    }
}
