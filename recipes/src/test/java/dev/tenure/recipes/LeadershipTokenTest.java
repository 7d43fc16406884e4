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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeadershipTokenTest {
    private final LeadershipToken token = new LeadershipToken("/svc/orders", 7, "node:1 ünïcode", 6);

    @Test
    void bytesRoundTrip() {
        assertEquals(token, LeadershipToken.fromBytes(token.toBytes()));
    }

    @Test
    void textRoundTripsAndIsOneLine() {
        String text = token.toText();
        assertFalse(text.contains("\n"));
        assertEquals(token, LeadershipToken.parse(text));
    }

    @Test
    void printsReadably() {
        assertEquals("epoch 7 of /svc/orders (leader node:1 ünïcode)", token.toString());
    }

    @Test
    void ordersByEpoch() {
        List<LeadershipToken> tokens = new ArrayList<>(List.of(
                new LeadershipToken("/p", 3, "a", 3),
                new LeadershipToken("/p", 1, "b", 1),
                new LeadershipToken("/p", 2, "c", 2)));
        Collections.sort(tokens);
        assertEquals(
                List.of(1L, 2L, 3L), tokens.stream().map(LeadershipToken::epoch).toList());
        assertTrue(tokens.get(2).isNewerThan(tokens.get(1)));
        assertEquals(0, token.compareTo(LeadershipToken.parse(token.toText())));
    }

    @Test
    void malformedBytesAndTextAreRejectedWithAReason() {
        byte[] bytes = token.toBytes();
        IllegalArgumentException truncated = assertThrows(
                IllegalArgumentException.class,
                () -> LeadershipToken.fromBytes(Arrays.copyOf(bytes, bytes.length - 3)));
        assertTrue(truncated.getMessage().contains("truncated"));
        byte[] unknown = bytes.clone();
        unknown[0] = 9;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LeadershipToken.fromBytes(unknown))
                .getMessage()
                .contains("format 9"));
        byte[] trailing = Arrays.copyOf(bytes, bytes.length + 1);
        assertThrows(IllegalArgumentException.class, () -> LeadershipToken.fromBytes(trailing));
        assertThrows(IllegalArgumentException.class, () -> LeadershipToken.parse("hello"));
        assertThrows(IllegalArgumentException.class, () -> LeadershipToken.parse("tenure-token:1:x:1:%2Fp:a"));
        assertThrows(IllegalArgumentException.class, () -> LeadershipToken.parse("tenure-token:1:1:1:%2Fp"));
        assertThrows(IllegalArgumentException.class, () -> new LeadershipToken("/p", 0, "a", 1));
        assertThrows(IllegalArgumentException.class, () -> new LeadershipToken("/p", 1, "a", -1));
    }
}
