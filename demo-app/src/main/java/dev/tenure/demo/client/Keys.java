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
package dev.tenure.demo.client;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Key validation and the path encoding the server expects. */
final class Keys {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Keys() {}

    /**
     * The key's UTF-8 bytes, percent-encoded for one path segment: every byte except the RFC 3986 unreserved
     * characters {@code A-Z a-z 0-9 - . _ ~} becomes {@code %XX}, so {@code '/'} is {@code %2F} and a space is
     * {@code %20} (never {@code +}).
     *
     * @throws IllegalArgumentException if the key is empty, longer than {@link KvClient#MAX_KEY_BYTES} bytes
     *     of UTF-8, or not valid Unicode (an unpaired surrogate)
     */
    static String encode(String key) {
        byte[] bytes = utf8(key);
        if (bytes.length == 0 || bytes.length > KvClient.MAX_KEY_BYTES) {
            throw new IllegalArgumentException(
                    "a key must be 1 to " + KvClient.MAX_KEY_BYTES + " bytes of UTF-8, got " + bytes.length);
        }
        StringBuilder out = new StringBuilder(bytes.length * 3);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (isUnreserved(c)) {
                out.append((char) c);
            } else {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return out.toString();
    }

    /** Strict UTF-8: an unpaired surrogate is an error rather than a silent {@code '?'}. */
    static byte[] utf8(String text) {
        try {
            ByteBuffer buf = StandardCharsets.UTF_8
                    .newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(text));
            byte[] bytes = new byte[buf.remaining()];
            buf.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not valid Unicode text (unpaired surrogate?): " + e, e);
        }
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'A' && c <= 'Z')
                || (c >= 'a' && c <= 'z')
                || (c >= '0' && c <= '9')
                || c == '-'
                || c == '.'
                || c == '_'
                || c == '~';
    }
}
