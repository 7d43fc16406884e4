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

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A command of the replicated key-value store, as it travels in the log: put, delete or compare-and-set.
 * Values and expected values are raw bytes, never text. Not defensively copied: callers must not change the arrays.
 *
 * <p>Encoded compactly as {@code [op byte][key]} followed by, for a put, {@code [value]}; for a delete, nothing; for a
 * compare-and-set, {@code [expect-absent boolean][expect][update]} (an empty {@code expect} when absent). Each
 * {@code [bytes]} is a 4-byte big-endian length then the bytes; the key is UTF-8.
 */
@SuppressWarnings("ArrayRecordComponent") // never compared or printed: encoded, decoded and applied field by field
public record KvCommand(Op op, String key, byte[] value, byte[] expect, boolean expectAbsent) {
    /** The operations, each with its op byte in the encoding (fixed: logs written before must stay readable). */
    public enum Op {
        PUT(0),
        DELETE(1),
        CAS(2);

        private final int code;

        Op(int code) {
            this.code = code;
        }

        /**
         * @throws IllegalArgumentException if no operation has this op byte
         */
        static Op of(int code) {
            for (Op op : values()) {
                if (op.code == code) {
                    return op;
                }
            }
            throw new IllegalArgumentException("unknown key-value operation " + code);
        }
    }

    public static KvCommand put(String key, byte[] value) {
        return new KvCommand(Op.PUT, key, value, null, false);
    }

    public static KvCommand delete(String key) {
        return new KvCommand(Op.DELETE, key, null, null, false);
    }

    /**
     * Replaces the value with {@code update} if its bytes equal {@code expect} ({@code null}: if the key is absent).
     */
    public static KvCommand cas(String key, byte[] expect, byte[] update) {
        return new KvCommand(Op.CAS, key, Objects.requireNonNull(update, "update"), expect, expect == null);
    }

    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + key.length() + (value == null ? 0 : value.length));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(op.code);
            writeBytes(out, key.getBytes(StandardCharsets.UTF_8));
            switch (op) {
                case PUT -> writeBytes(out, value);
                case DELETE -> {}
                case CAS -> {
                    out.writeBoolean(expectAbsent);
                    writeBytes(out, expectAbsent ? new byte[0] : expect);
                    writeBytes(out, value);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * @throws IllegalArgumentException if the bytes are not a command
     */
    public static KvCommand decode(byte[] payload) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(payload))) {
            Op op = Op.of(in.readUnsignedByte());
            String key = new String(readBytes(in), StandardCharsets.UTF_8);
            switch (op) {
                case PUT:
                    return put(key, readBytes(in));
                case DELETE:
                    return delete(key);
                default:
                    boolean absent = in.readBoolean();
                    byte[] expect = readBytes(in);
                    byte[] update = readBytes(in);
                    return cas(key, absent ? null : expect, update);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated key-value command", e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new IOException("bad length " + n);
        }
        return in.readNBytes(n);
    }
}
