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
package dev.tenure.replicator;

import java.nio.charset.StandardCharsets;

/**
 * Turns a state machine's commands (or results) into the bytes a log entry carries, and back. Encoding must be
 * deterministic and decoding must accept exactly what encoding produced: every replica decodes the same bytes.
 *
 * <p>Implementations must be thread-safe (commands are encoded on the proposer's threads and decoded on the apply
 * thread). {@link #decode} throws {@link IllegalArgumentException} for bytes it cannot read.
 */
public interface PayloadCodec<T> {
    /** The bytes of {@code value}. */
    byte[] encode(T value);

    /**
     * The value of {@code bytes}.
     *
     * @throws IllegalArgumentException if the bytes are not an encoding of this codec
     */
    T decode(byte[] bytes);

    /** UTF-8 strings. */
    static PayloadCodec<String> utf8() {
        return new PayloadCodec<>() {
            @Override
            public byte[] encode(String value) {
                return value.getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public String decode(byte[] bytes) {
                return new String(bytes, StandardCharsets.UTF_8);
            }
        };
    }

    /** Signed 64-bit integers, big-endian. */
    static PayloadCodec<Long> int64() {
        return new PayloadCodec<>() {
            @Override
            public byte[] encode(Long value) {
                return java.nio.ByteBuffer.allocate(Long.BYTES).putLong(value).array();
            }

            @Override
            public Long decode(byte[] bytes) {
                if (bytes.length != Long.BYTES) {
                    throw new IllegalArgumentException("a 64-bit integer has 8 bytes, not " + bytes.length);
                }
                return java.nio.ByteBuffer.wrap(bytes).getLong();
            }
        };
    }
}
