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
package dev.tenure.replicator.transport.netty;

import dev.tenure.replicator.core.Entry;
import dev.tenure.replicator.core.EpochHistory;
import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.core.Message.Append;
import dev.tenure.replicator.core.Message.AppendAck;
import dev.tenure.replicator.core.Message.AppendReject;
import dev.tenure.replicator.core.Message.EpochAck;
import dev.tenure.replicator.core.Message.Fetch;
import dev.tenure.replicator.core.Message.FetchResponse;
import dev.tenure.replicator.core.Message.FetchSnapshot;
import dev.tenure.replicator.core.Message.InstallSnapshot;
import dev.tenure.replicator.core.Message.NewEpoch;
import dev.tenure.replicator.core.Message.Rejected;
import dev.tenure.replicator.core.Message.SnapshotChunk;
import dev.tenure.replicator.core.SnapshotId;
import dev.tenure.replicator.transport.NodeTransport;
import dev.tenure.replicator.transport.PartitionIds;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ByteProcessor;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The wire format of the replication protocol. Stateless and thread-safe.
 *
 * <p>A frame is {@code [length int][version byte][type byte][body]}, where {@code length} counts the bytes after
 * the length field and every integer is big-endian. A string is {@code [byte count unsigned short][UTF-8]} of at
 * most {@link #MAX_STRING_BYTES} bytes; an entry list is {@code [count int]} entries, each {@code [epoch
 * long][offset long][type byte][payload length int][payload]}; an epoch history is {@code [count int]} pairs
 * {@code [epoch long][start offset long]}; a snapshot id is {@code [offset long][epoch long]}, both positive. Bodies,
 * by frame type:
 *
 * <pre>
 *  1 Hello          clusterName str, fromReplicaId str, toReplicaId str
 *  2 HelloRejected  reason str
 *  3 Ping           (no body): a node transport's connection had nothing to write for the ping interval
 * 10 NewEpoch       from str, to str, epoch long
 * 11 EpochAck       from str, to str, epoch long, history, logEnd long
 * 12 Rejected       from str, to str, epoch long, promisedLeader str, rejectedEpoch long
 * 13 Fetch          from str, to str, epoch long, fromOffset long, maxBytes long
 * 14 FetchResponse  from str, to str, epoch long, fromOffset long, entries, logEnd long
 * 15 Append         from str, to str, epoch long, prevOffset long, prevEpoch long, entries, commitOffset long,
 *                   probe long
 * 16 AppendAck      from str, to str, epoch long, matchOffset long, probe long
 * 17 AppendReject   from str, to str, epoch long, logEnd long, probe long
 * 18 InstallSnapshot from str, to str, epoch long, snapshot id, sizeBytes long (&gt; 0)
 * 19 FetchSnapshot  from str, to str, epoch long, snapshot id, position long (&gt;= 0), maxBytes int (&gt; 0)
 * 20 SnapshotChunk  from str, to str, epoch long, snapshot id, position long (&gt;= 0), sizeBytes long (&gt; 0),
 *                   data length int, data, crc int; position + data length &lt;= sizeBytes
 * 30 Partitioned    partition str, then one protocol message as above: its type byte (10..20) and its body
 * 31 Control        body length int (0 to {@link NodeTransport#MAX_CONTROL_BYTES}), body: opaque bytes
 * </pre>
 *
 * <p>A {@code Partitioned} frame carries one protocol message of one partition of a node transport (see {@link
 * dev.tenure.replicator.transport.NodeTransport}); its {@code from} and {@code to} are node ids. The partition
 * id is 1 to 64 characters of {@code [A-Za-z0-9._-]} ({@link PartitionIds}); the message inside cannot be a
 * handshake frame, another {@code Partitioned} frame or a {@code Control} frame. A single-log transport's frames
 * (types 10..20 without a tag) are unchanged by it.
 *
 * <p>A {@code Control} frame carries one opaque message of a node transport's control channel ({@link
 * NodeTransport#sendControl}): no sender field, since the sender is the connection's authenticated peer (the id of
 * its accepted hello). A body length that is negative, above {@link NodeTransport#MAX_CONTROL_BYTES} or beyond the
 * bytes left in the frame is malformed, checked before anything is allocated.
 *
 * <p>A snapshot chunk's CRC is carried, not checked: the receiver checks it and refuses the chunk (a protocol
 * decision, not a malformed frame). Its data is bounded by the frame, so by the transport's largest frame.
 *
 * <p>Decoding checks every length against the bytes left in the frame before reading or allocating, rejects
 * unknown versions and types, invalid UTF-8, invalid entries and epoch histories and trailing bytes, and
 * reports each as a {@link MalformedFrameException}; no other exception escapes it. Encoding throws {@link
 * IllegalArgumentException} for a message that cannot be sent as is (a null field, a string over the limit or
 * not valid UTF-16), so that a message is never altered on the way.
 */
public final class MessageCodec {
    /** The protocol version this codec reads and writes. */
    public static final byte PROTOCOL_VERSION = 1;
    /** Bytes of the length field that starts every frame. */
    public static final int LENGTH_FIELD_BYTES = 4;
    /** The largest string, in UTF-8 bytes. */
    public static final int MAX_STRING_BYTES = 1024;

    static final byte HELLO = 1;
    static final byte HELLO_REJECTED = 2;
    static final byte NEW_EPOCH = 10;
    static final byte EPOCH_ACK = 11;
    static final byte REJECTED = 12;
    static final byte FETCH = 13;
    static final byte FETCH_RESPONSE = 14;
    static final byte APPEND = 15;
    static final byte APPEND_ACK = 16;
    static final byte APPEND_REJECT = 17;
    static final byte INSTALL_SNAPSHOT = 18;
    static final byte FETCH_SNAPSHOT = 19;
    static final byte SNAPSHOT_CHUNK = 20;
    static final byte PARTITIONED = 30;
    static final byte CONTROL = 31;
    static final byte PING = 3;

    /**
     * The most bytes a {@link SnapshotChunk} frame holds besides its data, length field excluded (two strings of
     * the largest size included): a chunk of at most {@code maxFrameBytes - SNAPSHOT_CHUNK_OVERHEAD_BYTES} bytes of
     * data always fits a frame of {@code maxFrameBytes}. A replica should ask for chunks no larger.
     */
    public static final int SNAPSHOT_CHUNK_OVERHEAD_BYTES = 1 + 1 + 2 * (2 + MAX_STRING_BYTES) + 8 + 16 + 8 + 8 + 4 + 4;

    /**
     * The most bytes a partition tag adds to a message's frame: the {@code Partitioned} type byte and the
     * partition id as a string. A partitioned {@link SnapshotChunk} frame holds at most {@link
     * #SNAPSHOT_CHUNK_OVERHEAD_BYTES} {@code + PARTITION_TAG_MAX_BYTES} bytes besides its data.
     */
    public static final int PARTITION_TAG_MAX_BYTES = 1 + 2 + PartitionIds.MAX_LENGTH;

    /** Bytes of a {@code Control} frame besides its body, length field included: version, type, body length. */
    static final int CONTROL_OVERHEAD_BYTES = LENGTH_FIELD_BYTES + 1 + 1 + 4;

    /** A {@link Frame.HelloRejected} reason is cut to this many characters, which always fit a string. */
    static final int MAX_REASON_CHARS = 256;

    private static final int ENTRY_HEADER_BYTES = 8 + 8 + 1 + 4;
    private static final int HISTORY_START_BYTES = 8 + 8;

    private MessageCodec() {}

    // ---- public API: protocol messages ----

    /**
     * Appends the frame of {@code message}, length field included, to {@code out}.
     *
     * @throws IllegalArgumentException if the message cannot be encoded unaltered; {@code out} is then unchanged
     */
    public static void encode(Message message, ByteBuf out) {
        encodeFrame(new Frame.Protocol(message), out);
    }

    /** The frame of {@code message}, length field included. */
    public static byte[] encode(Message message) {
        return encodeFrame(new Frame.Protocol(message));
    }

    /**
     * Decodes one protocol message frame given without its length field (as a length-field frame decoder
     * yields it), reading all of {@code frame}'s readable bytes.
     */
    public static Message decode(ByteBuf frame) throws MalformedFrameException {
        return asMessage(decodeFrame(frame));
    }

    /** Decodes one protocol message frame given whole, length field included. */
    public static Message decode(byte[] frame) throws MalformedFrameException {
        return asMessage(decodeFrame(frame));
    }

    // ---- public API: protocol messages of a partition ----

    /** A protocol message and the partition it belongs to, as a {@code Partitioned} frame carries them. */
    public record PartitionedMessage(String partition, Message message) {}

    /**
     * Appends the {@code Partitioned} frame of {@code message} in {@code partition}, length field included, to
     * {@code out}.
     *
     * @throws IllegalArgumentException if {@code partition} is not a valid partition id or the message cannot be
     *     encoded unaltered; {@code out} is then unchanged
     */
    public static void encode(String partition, Message message, ByteBuf out) {
        encodeFrame(new Frame.Partitioned(partition, message), out);
    }

    /** The {@code Partitioned} frame of {@code message} in {@code partition}, length field included. */
    public static byte[] encode(String partition, Message message) {
        return encodeFrame(new Frame.Partitioned(partition, message));
    }

    /** Decodes one {@code Partitioned} frame given without its length field, reading all of {@code frame}. */
    public static PartitionedMessage decodePartitioned(ByteBuf frame) throws MalformedFrameException {
        return asPartitioned(decodeFrame(frame));
    }

    /** Decodes one {@code Partitioned} frame given whole, length field included. */
    public static PartitionedMessage decodePartitioned(byte[] frame) throws MalformedFrameException {
        return asPartitioned(decodeFrame(frame));
    }

    /** An upper bound of the size of {@code message}'s frame tagged with {@code partition} (length field included). */
    public static long frameSizeUpperBound(String partition, Message message) {
        return frameSizeUpperBound(message) + 1 + maxStringBytes(partition);
    }

    /** A hello frame, length field included: what a connection's opening side sends first. */
    public static byte[] encodeHello(String clusterName, String fromReplicaId, String toReplicaId) {
        return encodeFrame(new Frame.Hello(clusterName, fromReplicaId, toReplicaId));
    }

    /**
     * The sender named by a hello frame given whole, length field included: the replica id a connection's
     * opening side says it is. For tools that sit on a connection (a fault-injecting proxy) and need to know
     * whose connection it is.
     *
     * @throws MalformedFrameException if {@code frame} is not a well-formed hello
     */
    public static String helloSender(byte[] frame) throws MalformedFrameException {
        if (decodeFrame(frame) instanceof Frame.Hello hello) {
            return hello.fromReplicaId();
        }
        throw new MalformedFrameException("not a hello frame");
    }

    /**
     * An upper bound of the frame size of {@code message} in bytes (length field included); cheap, for buffer
     * sizing and queue limits.
     */
    public static long frameSizeUpperBound(Message message) {
        long size = LENGTH_FIELD_BYTES + 2 + 8 * 8 + 8L;
        size += maxStringBytes(message.from()) + maxStringBytes(message.to());
        if (message instanceof Rejected r) {
            size += maxStringBytes(r.promisedLeader());
        } else if (message instanceof EpochAck a && a.history() != null) {
            size += (long) a.history().starts().size() * HISTORY_START_BYTES;
        } else if (message instanceof Append a) {
            size += entriesBytes(a.entries());
        } else if (message instanceof FetchResponse r) {
            size += entriesBytes(r.entries());
        } else if (message instanceof SnapshotChunk c && c.data() != null) {
            size += 4L + c.data().length;
        }
        return size;
    }

    // ---- frames ----

    static long frameSizeUpperBound(Frame frame) {
        if (frame instanceof Frame.Partitioned p) {
            return frameSizeUpperBound(p.partition(), p.message());
        }
        if (frame instanceof Frame.Protocol p) {
            return frameSizeUpperBound(p.message());
        }
        if (frame instanceof Frame.Control c) {
            return CONTROL_OVERHEAD_BYTES + (c.body() == null ? 0L : c.body().length);
        }
        return 256;
    }

    static byte[] encodeFrame(Frame frame) {
        ByteBuf buf = Unpooled.buffer();
        encodeFrame(frame, buf);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    static void encodeFrame(Frame frame, ByteBuf out) {
        if (frame == null) {
            throw new IllegalArgumentException("frame must not be null");
        }
        int start = out.writerIndex();
        try {
            out.writeInt(0);
            out.writeByte(PROTOCOL_VERSION);
            writeBody(frame, out);
        } catch (RuntimeException e) {
            out.writerIndex(start);
            throw e;
        }
        out.setInt(start, out.writerIndex() - start - LENGTH_FIELD_BYTES);
    }

    static Frame decodeFrame(byte[] frame) throws MalformedFrameException {
        if (frame == null) {
            throw new MalformedFrameException("no frame");
        }
        if (frame.length < LENGTH_FIELD_BYTES) {
            throw new MalformedFrameException("truncated length field: " + frame.length + " bytes");
        }
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        int length = buf.readInt();
        if (length != frame.length - LENGTH_FIELD_BYTES) {
            throw new MalformedFrameException(
                    "length field says " + length + " bytes, frame has " + (frame.length - LENGTH_FIELD_BYTES));
        }
        return decodeFrame(buf);
    }

    /** Decodes a frame given without its length field; reads all of {@code in}'s readable bytes. */
    static Frame decodeFrame(ByteBuf in) throws MalformedFrameException {
        if (in == null) {
            throw new MalformedFrameException("no frame");
        }
        try {
            byte version = readByte(in, "protocol version");
            if (version != PROTOCOL_VERSION) {
                throw new MalformedFrameException(
                        "unsupported protocol version " + version + " (this replica speaks " + PROTOCOL_VERSION + ")");
            }
            byte type = readByte(in, "frame type");
            Frame frame = readBody(type, in);
            if (in.isReadable()) {
                throw new MalformedFrameException(
                        in.readableBytes() + " bytes left over after " + frameName(type) + " frame");
            }
            return frame;
        } catch (IndexOutOfBoundsException | IllegalArgumentException | NullPointerException e) {
            // Every read is bounds-checked first; this is a safety net so nothing unchecked escapes.
            throw new MalformedFrameException("undecodable frame: " + e, e);
        }
    }

    static String frameName(byte type) {
        switch (type) {
            case HELLO:
                return "Hello";
            case HELLO_REJECTED:
                return "HelloRejected";
            case PING:
                return "Ping";
            case NEW_EPOCH:
                return "NewEpoch";
            case EPOCH_ACK:
                return "EpochAck";
            case REJECTED:
                return "Rejected";
            case FETCH:
                return "Fetch";
            case FETCH_RESPONSE:
                return "FetchResponse";
            case APPEND:
                return "Append";
            case APPEND_ACK:
                return "AppendAck";
            case APPEND_REJECT:
                return "AppendReject";
            case INSTALL_SNAPSHOT:
                return "InstallSnapshot";
            case FETCH_SNAPSHOT:
                return "FetchSnapshot";
            case SNAPSHOT_CHUNK:
                return "SnapshotChunk";
            case PARTITIONED:
                return "Partitioned";
            case CONTROL:
                return "Control";
            default:
                return "unknown (" + type + ")";
        }
    }

    private static Message asMessage(Frame frame) throws MalformedFrameException {
        if (frame instanceof Frame.Protocol p) {
            return p.message();
        }
        throw new MalformedFrameException(
                "expected a protocol message, got a " + frame.getClass().getSimpleName() + " frame");
    }

    private static PartitionedMessage asPartitioned(Frame frame) throws MalformedFrameException {
        if (frame instanceof Frame.Partitioned p) {
            return new PartitionedMessage(p.partition(), p.message());
        }
        throw new MalformedFrameException(
                "expected a Partitioned frame, got a " + frame.getClass().getSimpleName() + " frame");
    }

    // ---- encoding ----

    private static void writeBody(Frame frame, ByteBuf out) {
        if (frame instanceof Frame.Hello h) {
            out.writeByte(HELLO);
            writeString(out, h.clusterName(), "cluster name");
            writeString(out, h.fromReplicaId(), "from replica id");
            writeString(out, h.toReplicaId(), "to replica id");
        } else if (frame instanceof Frame.HelloRejected r) {
            out.writeByte(HELLO_REJECTED);
            writeString(out, shortened(r.reason()), "reason");
        } else if (frame instanceof Frame.Ping) {
            out.writeByte(PING);
        } else if (frame instanceof Frame.Protocol p) {
            writeMessage(p.message(), out);
        } else if (frame instanceof Frame.Partitioned p) {
            PartitionIds.check(p.partition());
            out.writeByte(PARTITIONED);
            writeString(out, p.partition(), "partition");
            writeMessage(p.message(), out);
        } else if (frame instanceof Frame.Control c) {
            byte[] body = c.body();
            checkEncodable(body != null, "control body must not be null");
            checkEncodable(
                    body.length <= NodeTransport.MAX_CONTROL_BYTES,
                    "control body of " + body.length + " bytes exceeds the maximum of "
                            + NodeTransport.MAX_CONTROL_BYTES + " bytes (NodeTransport.MAX_CONTROL_BYTES)");
            out.writeByte(CONTROL);
            out.writeInt(body.length);
            out.writeBytes(body);
        } else {
            throw new IllegalArgumentException("unknown frame " + frame);
        }
    }

    /** A reason cut to {@link #MAX_REASON_CHARS} characters, never between the halves of a surrogate pair. */
    static String shortened(String reason) {
        if (reason == null) {
            return "";
        }
        if (reason.length() <= MAX_REASON_CHARS) {
            return reason;
        }
        int end = Character.isHighSurrogate(reason.charAt(MAX_REASON_CHARS - 1))
                ? MAX_REASON_CHARS - 1
                : MAX_REASON_CHARS;
        return reason.substring(0, end);
    }

    private static void writeMessage(Message message, ByteBuf out) {
        if (message == null) {
            throw new IllegalArgumentException("message must not be null");
        }
        if (message instanceof NewEpoch m) {
            writeHeader(out, NEW_EPOCH, m);
        } else if (message instanceof EpochAck m) {
            writeHeader(out, EPOCH_ACK, m);
            writeHistory(out, m.history());
            out.writeLong(m.logEnd());
        } else if (message instanceof Rejected m) {
            writeHeader(out, REJECTED, m);
            writeString(out, m.promisedLeader(), "promised leader");
            out.writeLong(m.rejectedEpoch());
        } else if (message instanceof Fetch m) {
            writeHeader(out, FETCH, m);
            out.writeLong(m.fromOffset());
            out.writeLong(m.maxBytes());
        } else if (message instanceof FetchResponse m) {
            writeHeader(out, FETCH_RESPONSE, m);
            out.writeLong(m.fromOffset());
            writeEntries(out, m.entries());
            out.writeLong(m.logEnd());
        } else if (message instanceof Append m) {
            writeHeader(out, APPEND, m);
            out.writeLong(m.prevOffset());
            out.writeLong(m.prevEpoch());
            writeEntries(out, m.entries());
            out.writeLong(m.commitOffset());
            out.writeLong(m.probe());
        } else if (message instanceof AppendAck m) {
            writeHeader(out, APPEND_ACK, m);
            out.writeLong(m.matchOffset());
            out.writeLong(m.probe());
        } else if (message instanceof AppendReject m) {
            writeHeader(out, APPEND_REJECT, m);
            out.writeLong(m.logEnd());
            out.writeLong(m.probe());
        } else if (message instanceof InstallSnapshot m) {
            checkEncodable(m.sizeBytes() > 0, "snapshot size must be > 0, was " + m.sizeBytes());
            writeHeader(out, INSTALL_SNAPSHOT, m);
            writeSnapshotId(out, m.snapshot());
            out.writeLong(m.sizeBytes());
        } else if (message instanceof FetchSnapshot m) {
            checkEncodable(m.position() >= 0, "snapshot position must be >= 0, was " + m.position());
            checkEncodable(m.maxBytes() > 0, "maxBytes must be > 0, was " + m.maxBytes());
            writeHeader(out, FETCH_SNAPSHOT, m);
            writeSnapshotId(out, m.snapshot());
            out.writeLong(m.position());
            out.writeInt(m.maxBytes());
        } else if (message instanceof SnapshotChunk m) {
            checkEncodable(m.data() != null, "chunk data must not be null");
            String problem = chunkProblem(m.position(), m.sizeBytes(), m.data().length);
            checkEncodable(problem == null, problem);
            writeHeader(out, SNAPSHOT_CHUNK, m);
            writeSnapshotId(out, m.snapshot());
            out.writeLong(m.position());
            out.writeLong(m.sizeBytes());
            out.writeInt(m.data().length);
            out.writeBytes(m.data());
            out.writeInt(m.crc());
        } else {
            throw new IllegalArgumentException(
                    "unknown message type " + message.getClass().getName());
        }
    }

    private static void writeHeader(ByteBuf out, byte type, Message m) {
        out.writeByte(type);
        writeString(out, m.from(), "from");
        writeString(out, m.to(), "to");
        out.writeLong(m.epoch());
    }

    private static void checkEncodable(boolean ok, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** What is wrong with a chunk of {@code length} bytes at {@code position} of a file of {@code size}, or null. */
    private static String chunkProblem(long position, long size, int length) {
        if (position < 0) {
            return "chunk position must be >= 0, was " + position;
        }
        if (size <= 0) {
            return "snapshot size must be > 0, was " + size;
        }
        if (length < 0 || position > size - length) {
            return "chunk of " + length + " bytes at position " + position + " runs past the snapshot's " + size
                    + " bytes";
        }
        return null;
    }

    private static void writeSnapshotId(ByteBuf out, SnapshotId id) {
        if (id == null) {
            throw new IllegalArgumentException("snapshot id must not be null");
        }
        out.writeLong(id.offset());
        out.writeLong(id.epoch());
    }

    private static void writeHistory(ByteBuf out, EpochHistory history) {
        if (history == null) {
            throw new IllegalArgumentException("epoch history must not be null");
        }
        List<EpochHistory.Start> starts = history.starts();
        out.writeInt(starts.size());
        for (EpochHistory.Start s : starts) {
            out.writeLong(s.epoch());
            out.writeLong(s.startOffset());
        }
    }

    private static void writeEntries(ByteBuf out, List<Entry> entries) {
        if (entries == null) {
            throw new IllegalArgumentException("entries must not be null");
        }
        out.writeInt(entries.size());
        for (Entry e : entries) {
            if (e == null) {
                throw new IllegalArgumentException("entries must not contain null");
            }
            out.writeLong(e.epoch());
            out.writeLong(e.offset());
            out.writeByte(e.type());
            out.writeInt(e.payload().length);
            out.writeBytes(e.payload());
        }
    }

    private static void writeString(ByteBuf out, String s, String what) {
        if (s == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (ascii(s)) { // the usual case (replica and partition ids): ASCII is its own UTF-8, with no surrogate
            if (s.length() > MAX_STRING_BYTES) {
                throw new IllegalArgumentException(
                        what + " is " + s.length() + " bytes of UTF-8, more than " + MAX_STRING_BYTES);
            }
            out.writeShort(s.length());
            out.writeCharSequence(s, StandardCharsets.US_ASCII);
            return;
        }
        byte[] bytes = utf8(s, what);
        if (bytes.length > MAX_STRING_BYTES) {
            throw new IllegalArgumentException(
                    what + " is " + bytes.length + " bytes of UTF-8, more than " + MAX_STRING_BYTES);
        }
        out.writeShort(bytes.length);
        out.writeBytes(bytes);
    }

    /** Whether every char of {@code s} is ASCII (below 0x80). */
    private static boolean ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /** Strict UTF-8: String.getBytes would silently replace an unpaired surrogate, altering the string. */
    static byte[] utf8(String s, String what) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8
                    .newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            return bytes;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not valid UTF-16 (unpaired surrogate)", e);
        }
    }

    private static long maxStringBytes(String s) {
        return 2 + (s == null ? 0 : 3L * s.length());
    }

    private static long entriesBytes(List<Entry> entries) {
        if (entries == null) {
            return 0;
        }
        long size = 4;
        for (Entry e : entries) {
            size += ENTRY_HEADER_BYTES + (e == null ? 0 : e.payload().length);
        }
        return size;
    }

    // ---- decoding ----

    private static Frame readBody(byte type, ByteBuf in) throws MalformedFrameException {
        switch (type) {
            case HELLO:
                return new Frame.Hello(
                        readString(in, "cluster name"),
                        readString(in, "from replica id"),
                        readString(in, "to replica id"));
            case HELLO_REJECTED:
                return new Frame.HelloRejected(readString(in, "reason"));
            case PING:
                return new Frame.Ping();
            case PARTITIONED: {
                String partition = readString(in, "partition");
                if (!PartitionIds.isValid(partition)) {
                    throw new MalformedFrameException("invalid partition id '" + NettyTransport.printable(partition)
                            + "': must be 1 to " + PartitionIds.MAX_LENGTH + " characters of [A-Za-z0-9._-]");
                }
                byte inner = readByte(in, "partitioned message type");
                if (inner < NEW_EPOCH || inner > SNAPSHOT_CHUNK) {
                    String what = inner == PARTITIONED
                            ? "another Partitioned frame (nested partition tag)"
                            : inner == HELLO || inner == HELLO_REJECTED || inner == PING || inner == CONTROL
                                    ? "a " + frameName(inner) + " frame"
                                    : "unknown frame type " + inner;
                    throw new MalformedFrameException("a Partitioned frame must hold a protocol message, not " + what);
                }
                return new Frame.Partitioned(partition, ((Frame.Protocol) readBody(inner, in)).message());
            }
            case CONTROL: {
                int length = readInt(in, "control body length");
                if (length < 0) {
                    throw new MalformedFrameException("negative control body length " + length);
                }
                if (length > NodeTransport.MAX_CONTROL_BYTES) {
                    throw new MalformedFrameException("control body of " + length + " bytes exceeds the maximum of "
                            + NodeTransport.MAX_CONTROL_BYTES + " bytes");
                }
                need(in, length, "control body");
                byte[] body = new byte[length];
                in.readBytes(body);
                return new Frame.Control(body);
            }
            case NEW_EPOCH:
                return new Frame.Protocol(
                        new NewEpoch(readString(in, "from"), readString(in, "to"), readLong(in, "epoch")));
            case EPOCH_ACK: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                EpochHistory history = readHistory(in);
                return new Frame.Protocol(new EpochAck(from, to, epoch, history, readLong(in, "log end")));
            }
            case REJECTED: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                String promisedLeader = readString(in, "promised leader");
                return new Frame.Protocol(
                        new Rejected(from, to, epoch, promisedLeader, readLong(in, "rejected epoch")));
            }
            case FETCH: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                long fromOffset = readLong(in, "from offset");
                return new Frame.Protocol(new Fetch(from, to, epoch, fromOffset, readLong(in, "max bytes")));
            }
            case FETCH_RESPONSE: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                long fromOffset = readLong(in, "from offset");
                List<Entry> entries = readEntries(in);
                return new Frame.Protocol(
                        new FetchResponse(from, to, epoch, fromOffset, entries, readLong(in, "log end")));
            }
            case APPEND: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                long prevOffset = readLong(in, "prev offset");
                long prevEpoch = readLong(in, "prev epoch");
                List<Entry> entries = readEntries(in);
                long commitOffset = readLong(in, "commit offset");
                return new Frame.Protocol(new Append(
                        from, to, epoch, prevOffset, prevEpoch, entries, commitOffset, readLong(in, "probe")));
            }
            case APPEND_ACK: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                long matchOffset = readLong(in, "match offset");
                return new Frame.Protocol(new AppendAck(from, to, epoch, matchOffset, readLong(in, "probe")));
            }
            case APPEND_REJECT: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                long logEnd = readLong(in, "log end");
                return new Frame.Protocol(new AppendReject(from, to, epoch, logEnd, readLong(in, "probe")));
            }
            case INSTALL_SNAPSHOT: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                SnapshotId snapshot = readSnapshotId(in);
                long size = readLong(in, "snapshot size");
                if (size <= 0) {
                    throw new MalformedFrameException("snapshot size must be > 0, was " + size);
                }
                return new Frame.Protocol(new InstallSnapshot(from, to, epoch, snapshot, size));
            }
            case FETCH_SNAPSHOT: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                SnapshotId snapshot = readSnapshotId(in);
                long position = readLong(in, "snapshot position");
                int maxBytes = readInt(in, "max bytes");
                if (position < 0) {
                    throw new MalformedFrameException("snapshot position must be >= 0, was " + position);
                }
                if (maxBytes <= 0) {
                    throw new MalformedFrameException("maxBytes must be > 0, was " + maxBytes);
                }
                return new Frame.Protocol(new FetchSnapshot(from, to, epoch, snapshot, position, maxBytes));
            }
            case SNAPSHOT_CHUNK: {
                String from = readString(in, "from");
                String to = readString(in, "to");
                long epoch = readLong(in, "epoch");
                SnapshotId snapshot = readSnapshotId(in);
                long position = readLong(in, "chunk position");
                long size = readLong(in, "snapshot size");
                int length = readInt(in, "chunk length");
                if (length < 0) {
                    throw new MalformedFrameException("negative chunk length " + length);
                }
                if (length > in.readableBytes()) {
                    throw new MalformedFrameException("chunk of " + length + " bytes exceeds the " + in.readableBytes()
                            + " bytes left in the frame");
                }
                String problem = chunkProblem(position, size, length);
                if (problem != null) {
                    throw new MalformedFrameException(problem);
                }
                byte[] data = new byte[length];
                in.readBytes(data);
                int crc = readInt(in, "chunk crc");
                return new Frame.Protocol(new SnapshotChunk(from, to, epoch, snapshot, position, size, data, crc));
            }
            default:
                throw new MalformedFrameException("unknown frame type " + type);
        }
    }

    private static SnapshotId readSnapshotId(ByteBuf in) throws MalformedFrameException {
        long offset = readLong(in, "snapshot offset");
        long epoch = readLong(in, "snapshot epoch");
        if (offset <= 0 || epoch <= 0) {
            throw new MalformedFrameException(
                    "invalid snapshot id: offset " + offset + " and epoch " + epoch + " must be > 0");
        }
        return new SnapshotId(offset, epoch);
    }

    private static EpochHistory readHistory(ByteBuf in) throws MalformedFrameException {
        int count = readInt(in, "epoch history size");
        if (count < 0) {
            throw new MalformedFrameException("negative epoch history size " + count);
        }
        if ((long) count * HISTORY_START_BYTES > in.readableBytes()) {
            throw new MalformedFrameException("epoch history of " + count + " starts does not fit the "
                    + in.readableBytes() + " bytes left in the frame");
        }
        List<EpochHistory.Start> starts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            starts.add(new EpochHistory.Start(in.readLong(), in.readLong()));
        }
        try {
            return EpochHistory.of(starts);
        } catch (IllegalArgumentException e) {
            throw new MalformedFrameException("invalid epoch history: " + e.getMessage(), e);
        }
    }

    private static List<Entry> readEntries(ByteBuf in) throws MalformedFrameException {
        int count = readInt(in, "entry count");
        if (count < 0) {
            throw new MalformedFrameException("negative entry count " + count);
        }
        if ((long) count * ENTRY_HEADER_BYTES > in.readableBytes()) {
            throw new MalformedFrameException(
                    count + " entries do not fit the " + in.readableBytes() + " bytes left in the frame");
        }
        List<Entry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String what = "entry " + i + " of " + count;
            long epoch = readLong(in, what);
            long offset = readLong(in, what);
            byte type = readByte(in, what);
            if (type != Entry.DATA && type != Entry.EPOCH_START) {
                throw new MalformedFrameException("unknown type " + type + " of " + what);
            }
            int length = readInt(in, what);
            if (length < 0) {
                throw new MalformedFrameException("negative payload length " + length + " of " + what);
            }
            if (length > in.readableBytes()) {
                throw new MalformedFrameException("payload of " + length + " bytes of " + what + " exceeds the "
                        + in.readableBytes() + " bytes left in the frame");
            }
            byte[] payload = new byte[length];
            in.readBytes(payload);
            try {
                entries.add(new Entry(epoch, offset, type, payload));
            } catch (IllegalArgumentException e) {
                throw new MalformedFrameException("invalid " + what + ": " + e.getMessage(), e);
            }
        }
        return Collections.unmodifiableList(entries);
    }

    /** Goes on while the byte is ASCII (0 to 0x7f, non-negative as a Java byte). */
    private static final ByteProcessor ASCII_BYTE = b -> b >= 0;

    private static String readString(ByteBuf in, String what) throws MalformedFrameException {
        need(in, 2, what + " length");
        int length = in.readUnsignedShort();
        if (length > MAX_STRING_BYTES) {
            throw new MalformedFrameException(what + " of " + length + " bytes exceeds " + MAX_STRING_BYTES);
        }
        need(in, length, what);
        if (in.forEachByte(in.readerIndex(), length, ASCII_BYTE) < 0) { // the usual case: no byte to decode strictly
            String s = in.toString(in.readerIndex(), length, StandardCharsets.US_ASCII);
            in.skipBytes(length);
            return s;
        }
        try {
            String s = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(in.nioBuffer(in.readerIndex(), length))
                    .toString();
            in.skipBytes(length);
            return s;
        } catch (CharacterCodingException e) {
            throw new MalformedFrameException(what + " is not valid UTF-8", e);
        }
    }

    private static byte readByte(ByteBuf in, String what) throws MalformedFrameException {
        need(in, 1, what);
        return in.readByte();
    }

    private static int readInt(ByteBuf in, String what) throws MalformedFrameException {
        need(in, 4, what);
        return in.readInt();
    }

    private static long readLong(ByteBuf in, String what) throws MalformedFrameException {
        need(in, 8, what);
        return in.readLong();
    }

    private static void need(ByteBuf in, int bytes, String what) throws MalformedFrameException {
        if (in.readableBytes() < bytes) {
            throw new MalformedFrameException(
                    "truncated " + what + ": needs " + bytes + " bytes, " + in.readableBytes() + " left");
        }
    }
}
