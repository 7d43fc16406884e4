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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Compare-and-set compares bytes, never decoded text. The commands are built here byte by byte in the log format
 * ({@link KvCommand}'s Javadoc), so these tests also pin that format: a log written before stays readable.
 */
class KvStateMachineTest {
    /** Not UTF-8: 0xC3 starts a two-byte sequence that 0x28 does not continue; 0xFF never occurs in UTF-8. */
    private static final byte[] NOT_UTF8 = {(byte) 0xC3, 0x28, (byte) 0xFF, 0x00};

    private final KvStateMachine store = new KvStateMachine();
    private long offset;

    @Test
    void aCasExpectingNonUtf8BytesEqualToTheCurrentValueReplacesIt() {
        apply(put("k", NOT_UTF8));

        KvStateMachine.CasResult r = (KvStateMachine.CasResult) apply(cas("k", NOT_UTF8.clone(), utf8("next")));

        assertTrue(r.replaced());
        assertArrayEquals(NOT_UTF8, r.current());
        assertArrayEquals(utf8("next"), store.get("k").orElseThrow());
    }

    @Test
    void aCasExpectingBytesThatDifferOnlyWhereBothDecodeToReplacementCharactersFails() {
        byte[] current = utf8("a\uFFFD"); // 61 EF BF BD: valid text whose second character is U+FFFD itself
        apply(put("k", current));

        for (byte[] lookalike :
                new byte[][] {{'a', (byte) 0xFF}, {'a', (byte) 0xFE}, {'a', (byte) 0xEF, (byte) 0xBF}}) {
            assertEquals("a\uFFFD", new String(lookalike, StandardCharsets.UTF_8), "decodes like the current value");
            KvStateMachine.CasResult r = (KvStateMachine.CasResult) apply(cas("k", lookalike, utf8("next")));
            assertFalse(r.replaced(), "expected bytes differ from the current bytes");
            assertArrayEquals(current, r.current());
        }
        assertArrayEquals(current, store.get("k").orElseThrow(), "unchanged");
    }

    @Test
    void aCasUpdateOfNonUtf8BytesIsStoredByteForByte() {
        KvStateMachine.CasResult r = (KvStateMachine.CasResult) apply(cas("k", null, NOT_UTF8));

        assertTrue(r.replaced());
        assertNull(r.current());
        assertArrayEquals(NOT_UTF8, store.get("k").orElseThrow());
    }

    @Test
    void aCasCommandEncodesItsBytesExactlyInTheLogFormat() {
        byte[] payload = cas("k", NOT_UTF8, new byte[] {(byte) 0x80});

        assertArrayEquals(
                payload, KvCommand.cas("k", NOT_UTF8, new byte[] {(byte) 0x80}).encode());
        KvCommand decoded = KvCommand.decode(payload);
        assertArrayEquals(NOT_UTF8, decoded.expect());
        assertArrayEquals(new byte[] {(byte) 0x80}, decoded.value());
        assertFalse(decoded.expectAbsent());
        assertTrue(KvCommand.decode(cas("k", null, new byte[0])).expectAbsent());
    }

    private Object apply(byte[] payload) {
        return store.apply(1, ++offset, payload);
    }

    /** {@code [0][key][value]}. */
    private static byte[] put(String key, byte[] value) {
        return entry(out -> {
            out.writeByte(0);
            bytes(out, utf8(key));
            bytes(out, value);
        });
    }

    /** {@code [2][key][expect absent][expect, empty when absent][update]}. */
    private static byte[] cas(String key, byte[] expectOrNull, byte[] update) {
        return entry(out -> {
            out.writeByte(2);
            bytes(out, utf8(key));
            out.writeBoolean(expectOrNull == null);
            bytes(out, expectOrNull == null ? new byte[0] : expectOrNull);
            bytes(out, update);
        });
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] entry(Writer w) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            w.write(out);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toByteArray();
    }

    /** A 4-byte big-endian length, then the bytes. */
    private static void bytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
