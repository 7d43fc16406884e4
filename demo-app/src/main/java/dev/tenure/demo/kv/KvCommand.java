package dev.tenure.demo.kv;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A command of the replicated key-value store, as it travels in the log: put, delete or compare-and-set.
 * Immutable; encoded compactly as {@code [op][key length][key][fields...]}.
 */
public record KvCommand(Op op, String key, byte[] value, String expect, boolean expectAbsent) {
    /** The operations. */
    public enum Op {
        PUT,
        DELETE,
        CAS
    }

    public static KvCommand put(String key, byte[] value) {
        return new KvCommand(Op.PUT, key, value, null, false);
    }

    public static KvCommand delete(String key) {
        return new KvCommand(Op.DELETE, key, null, null, false);
    }

    /** Replaces the value with {@code update} if it equals {@code expect} ({@code null}: if absent). */
    public static KvCommand cas(String key, String expect, String update) {
        return new KvCommand(Op.CAS, key, update.getBytes(StandardCharsets.UTF_8), expect, expect == null);
    }

    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + key.length() + (value == null ? 0 : value.length));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(op.ordinal());
            writeBytes(out, key.getBytes(StandardCharsets.UTF_8));
            switch (op) {
                case PUT -> writeBytes(out, value);
                case DELETE -> {}
                case CAS -> {
                    out.writeBoolean(expectAbsent);
                    writeBytes(out, expectAbsent ? new byte[0] : expect.getBytes(StandardCharsets.UTF_8));
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
            int op = in.readUnsignedByte();
            if (op >= Op.values().length) {
                throw new IllegalArgumentException("unknown key-value operation " + op);
            }
            String key = new String(readBytes(in), StandardCharsets.UTF_8);
            switch (Op.values()[op]) {
                case PUT:
                    return put(key, readBytes(in));
                case DELETE:
                    return delete(key);
                default:
                    boolean absent = in.readBoolean();
                    String expect = new String(readBytes(in), StandardCharsets.UTF_8);
                    String update = new String(readBytes(in), StandardCharsets.UTF_8);
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
