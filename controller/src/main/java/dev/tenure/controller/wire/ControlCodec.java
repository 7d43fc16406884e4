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

import dev.tenure.controller.core.LeaderAndReplicas;
import dev.tenure.controller.core.PartitionState;
import dev.tenure.replicator.transport.PartitionIds;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The binary form of a {@link ControlMessage}: a format byte ({@value #FORMAT}), a type byte, then the fields —
 * numbers big-endian, strings as an unsigned 16-bit length and strict UTF-8, booleans as 0 or 1.
 *
 * <p>Decoding is strict and bounded: an unknown format or type, a truncated message, trailing bytes, a string that is
 * not UTF-8 or not a valid id, a count larger than the bytes left could hold, or a field that breaks a record's rule
 * is a {@link MalformedControlMessageException} naming what is wrong; nothing is partly decoded. Stateless and
 * thread-safe.
 *
 * <p><b>Versions.</b> An assignment whose every partition state is at configuration version 0 without a reassignment
 * is encoded as type 1, as before reassignments existed; otherwise as type 7, whose partition states add the
 * configuration version and the target, learner and previous replica lists (each an unsigned byte count and the ids).
 * {@link ControlMessage.ChangeReady} is type 8. A node that does not know a type refuses the message as malformed.
 */
public final class ControlCodec {
    /** The format byte of every message. */
    public static final byte FORMAT = 1;

    private static final byte ASSIGNMENT = 1;
    private static final byte ASSIGNMENT_ACK = 2;
    private static final byte CONTROLLED_SHUTDOWN = 3;
    private static final byte CONTROLLED_SHUTDOWN_PROGRESS = 4;
    private static final byte TERM_ENDED = 5;
    private static final byte STOP_REPLICAS = 6;
    private static final byte ASSIGNMENT_WITH_CONFIGURATIONS = 7;
    private static final byte CHANGE_READY = 8;

    /** A decoded partition state takes at least this many bytes (id, one replica, flags and three longs). */
    private static final int MIN_PARTITION_BYTES = 2 + 1 + 1 + 2 + 1 + 3 * 8;

    private ControlCodec() {}

    /** A message that cannot be decoded. */
    public static final class MalformedControlMessageException extends Exception {
        /** @param message what is wrong */
        public MalformedControlMessageException(String message) {
            super(message);
        }

        private MalformedControlMessageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Encodes {@code message}.
     *
     * @throws IllegalArgumentException if it would take more than {@link ControlMessage#MAX_BYTES} (split an
     *     assignment with {@link #split})
     */
    public static byte[] encode(ControlMessage message) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            if (message instanceof ControlMessage.Assignment a) {
                boolean configurations = a.request().partitions().values().stream()
                        .anyMatch(p -> p.configurationVersion() != 0 || p.reassigning());
                out.writeByte(configurations ? ASSIGNMENT_WITH_CONFIGURATIONS : ASSIGNMENT);
                out.writeLong(a.requestId());
                LeaderAndReplicas r = a.request();
                out.writeLong(r.controllerEpoch());
                writeString(out, r.controller());
                writeString(out, r.node());
                out.writeLong(r.nodeEpoch());
                out.writeBoolean(r.full());
                out.writeInt(r.partitions().size());
                for (Map.Entry<String, PartitionState> e : r.partitions().entrySet()) {
                    writeString(out, e.getKey());
                    PartitionState s = e.getValue();
                    out.writeByte(s.replicas().size());
                    for (String replica : s.replicas()) {
                        writeString(out, replica);
                    }
                    out.writeBoolean(s.leader().isPresent());
                    writeString(out, s.leader().orElse(""));
                    out.writeLong(s.leaderEpoch());
                    out.writeLong(s.leaderNodeEpoch());
                    out.writeLong(s.controllerEpoch());
                    if (configurations) {
                        out.writeLong(s.configurationVersion());
                        writeIds(out, s.targetReplicas());
                        writeIds(out, s.learners());
                        writeIds(out, s.previousReplicas());
                    }
                }
            } else if (message instanceof ControlMessage.AssignmentAck a) {
                out.writeByte(ASSIGNMENT_ACK);
                out.writeLong(a.controllerEpoch());
                out.writeLong(a.requestId());
                writeString(out, a.node());
                out.writeLong(a.nodeEpoch());
                out.writeLong(a.highestControllerEpoch());
                out.writeByte(resultCode(a.result()));
            } else if (message instanceof ControlMessage.ControlledShutdown c) {
                out.writeByte(CONTROLLED_SHUTDOWN);
                writeString(out, c.node());
                out.writeLong(c.nodeEpoch());
            } else if (message instanceof ControlMessage.ControlledShutdownProgress p) {
                out.writeByte(CONTROLLED_SHUTDOWN_PROGRESS);
                out.writeLong(p.controllerEpoch());
                writeString(out, p.node());
                out.writeLong(p.nodeEpoch());
                out.writeBoolean(p.accepted());
                out.writeInt(p.leading());
                out.writeInt(p.movable());
            } else if (message instanceof ControlMessage.TermEnded t) {
                out.writeByte(TERM_ENDED);
                writeString(out, t.node());
                out.writeLong(t.nodeEpoch());
                writeString(out, t.partition());
                out.writeLong(t.leaderEpoch());
            } else if (message instanceof ControlMessage.ChangeReady c) {
                out.writeByte(CHANGE_READY);
                writeString(out, c.node());
                out.writeLong(c.nodeEpoch());
                writeString(out, c.partition());
                out.writeLong(c.leaderEpoch());
                out.writeLong(c.configurationVersion());
            } else if (message instanceof ControlMessage.StopReplicas s) {
                out.writeByte(STOP_REPLICAS);
                out.writeLong(s.requestId());
                out.writeLong(s.controllerEpoch());
                writeString(out, s.controller());
                writeString(out, s.node());
                out.writeLong(s.nodeEpoch());
                out.writeInt(s.partitions().size());
                for (String p : s.partitions()) {
                    writeString(out, p);
                }
            } else {
                throw new IllegalArgumentException("unknown control message " + message);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array stream does not fail
        }
        if (bytes.size() > ControlMessage.MAX_BYTES) {
            throw new IllegalArgumentException("control message of " + bytes.size() + " bytes is above the bound of "
                    + ControlMessage.MAX_BYTES + " bytes; split it");
        }
        return bytes.toByteArray();
    }

    /**
     * {@code request} as requests of at most {@code maxPartitions} partitions each, in order; a full request stays one
     * request (a node must see a full request whole), so its size must fit one message.
     */
    public static List<LeaderAndReplicas> split(LeaderAndReplicas request, int maxPartitions) {
        if (request.full() || request.partitions().size() <= maxPartitions) {
            return List.of(request);
        }
        List<LeaderAndReplicas> parts = new ArrayList<>();
        Map<String, PartitionState> chunk = new LinkedHashMap<>();
        for (Map.Entry<String, PartitionState> e : request.partitions().entrySet()) {
            chunk.put(e.getKey(), e.getValue());
            if (chunk.size() == maxPartitions) {
                parts.add(withPartitions(request, chunk));
                chunk = new LinkedHashMap<>();
            }
        }
        if (!chunk.isEmpty()) {
            parts.add(withPartitions(request, chunk));
        }
        return parts;
    }

    private static LeaderAndReplicas withPartitions(LeaderAndReplicas r, Map<String, PartitionState> partitions) {
        return new LeaderAndReplicas(r.controllerEpoch(), r.controller(), r.node(), r.nodeEpoch(), false, partitions);
    }

    /**
     * Decodes one message.
     *
     * @throws MalformedControlMessageException naming what is wrong
     */
    public static ControlMessage decode(byte[] data) throws MalformedControlMessageException {
        if (data == null || data.length == 0) {
            throw new MalformedControlMessageException("empty control message");
        }
        if (data.length > ControlMessage.MAX_BYTES) {
            throw new MalformedControlMessageException(
                    "control message of " + data.length + " bytes is above the bound of " + ControlMessage.MAX_BYTES);
        }
        ByteBuffer in = ByteBuffer.wrap(data);
        try {
            byte format = in.get();
            if (format != FORMAT) {
                throw new MalformedControlMessageException("unknown control message format " + format);
            }
            byte type = in.get();
            ControlMessage m = switch (type) {
                case ASSIGNMENT -> decodeAssignment(in, false);
                case ASSIGNMENT_WITH_CONFIGURATIONS -> decodeAssignment(in, true);
                case CHANGE_READY ->
                    new ControlMessage.ChangeReady(
                            readString(in), in.getLong(), readString(in), in.getLong(), in.getLong());
                case ASSIGNMENT_ACK ->
                    new ControlMessage.AssignmentAck(
                            in.getLong(), in.getLong(), readString(in), in.getLong(), in.getLong(), result(in.get()));
                case CONTROLLED_SHUTDOWN -> new ControlMessage.ControlledShutdown(readString(in), in.getLong());
                case CONTROLLED_SHUTDOWN_PROGRESS ->
                    new ControlMessage.ControlledShutdownProgress(
                            in.getLong(), readString(in), in.getLong(), readBoolean(in), in.getInt(), in.getInt());
                case TERM_ENDED ->
                    new ControlMessage.TermEnded(readString(in), in.getLong(), readString(in), in.getLong());
                case STOP_REPLICAS -> decodeStopReplicas(in);
                default -> throw new MalformedControlMessageException("unknown control message type " + type);
            };
            if (in.hasRemaining()) {
                throw new MalformedControlMessageException(
                        in.remaining() + " bytes after the end of a control message of type " + type);
            }
            return m;
        } catch (BufferUnderflowException e) {
            throw new MalformedControlMessageException("truncated control message of " + data.length + " bytes", e);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new MalformedControlMessageException("invalid control message: " + e.getMessage(), e);
        }
    }

    private static ControlMessage.Assignment decodeAssignment(ByteBuffer in, boolean configurations)
            throws MalformedControlMessageException {
        long requestId = in.getLong();
        long controllerEpoch = in.getLong();
        String controller = readString(in);
        String node = readString(in);
        long nodeEpoch = in.getLong();
        boolean full = readBoolean(in);
        int count = in.getInt();
        if (count < 0 || (long) count * MIN_PARTITION_BYTES > in.remaining()) {
            throw new MalformedControlMessageException(
                    "partition count " + count + " does not fit in the " + in.remaining() + " bytes left");
        }
        Map<String, PartitionState> partitions = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String id = readString(in);
            if (!PartitionIds.isValid(id)) {
                throw new MalformedControlMessageException("invalid partition id " + id);
            }
            List<String> replicas = readIds(in);
            boolean hasLeader = readBoolean(in);
            String leader = readString(in);
            if (!hasLeader && !leader.isEmpty()) {
                throw new MalformedControlMessageException("partition " + id + " names a leader it says it has not");
            }
            Optional<String> l = hasLeader ? Optional.of(leader) : Optional.empty();
            long leaderEpoch = in.getLong();
            long leaderNodeEpoch = in.getLong();
            long stateControllerEpoch = in.getLong();
            PartitionState s;
            if (configurations) {
                long configurationVersion = in.getLong();
                List<String> target = readIds(in);
                List<String> learners = readIds(in);
                List<String> previous = readIds(in);
                s = new PartitionState(
                        replicas,
                        l,
                        leaderEpoch,
                        leaderNodeEpoch,
                        stateControllerEpoch,
                        configurationVersion,
                        target,
                        learners,
                        previous);
            } else {
                s = new PartitionState(replicas, l, leaderEpoch, leaderNodeEpoch, stateControllerEpoch);
            }
            if (partitions.put(id, s) != null) {
                throw new MalformedControlMessageException("partition " + id + " appears twice");
            }
        }
        return new ControlMessage.Assignment(
                requestId, new LeaderAndReplicas(controllerEpoch, controller, node, nodeEpoch, full, partitions));
    }

    private static ControlMessage.StopReplicas decodeStopReplicas(ByteBuffer in)
            throws MalformedControlMessageException {
        long requestId = in.getLong();
        long controllerEpoch = in.getLong();
        String controller = readString(in);
        String node = readString(in);
        long nodeEpoch = in.getLong();
        int count = in.getInt();
        if (count < 0 || (long) count * 2 > in.remaining()) {
            throw new MalformedControlMessageException(
                    "partition count " + count + " does not fit in the " + in.remaining() + " bytes left");
        }
        List<String> partitions = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            partitions.add(readString(in));
        }
        return new ControlMessage.StopReplicas(requestId, controllerEpoch, controller, node, nodeEpoch, partitions);
    }

    private static int resultCode(ControlMessage.AssignmentResult r) {
        return switch (r) {
            case APPLIED -> 0;
            case STALE_CONTROLLER_EPOCH -> 1;
            case STALE_NODE_EPOCH -> 2;
        };
    }

    private static ControlMessage.AssignmentResult result(byte b) throws MalformedControlMessageException {
        return switch (b) {
            case 0 -> ControlMessage.AssignmentResult.APPLIED;
            case 1 -> ControlMessage.AssignmentResult.STALE_CONTROLLER_EPOCH;
            case 2 -> ControlMessage.AssignmentResult.STALE_NODE_EPOCH;
            default -> throw new MalformedControlMessageException("unknown assignment result " + b);
        };
    }

    private static boolean readBoolean(ByteBuffer in) throws MalformedControlMessageException {
        byte b = in.get();
        if (b != 0 && b != 1) {
            throw new MalformedControlMessageException("boolean byte " + b + " is neither 0 nor 1");
        }
        return b == 1;
    }

    private static void writeIds(DataOutputStream out, List<String> ids) throws IOException {
        if (ids.size() > 0xFF) {
            throw new IllegalArgumentException("a list of " + ids.size() + " node ids is too long");
        }
        out.writeByte(ids.size());
        for (String id : ids) {
            writeString(out, id);
        }
    }

    private static List<String> readIds(ByteBuffer in) throws MalformedControlMessageException {
        int count = Byte.toUnsignedInt(in.get());
        if (count * 2L > in.remaining()) {
            throw new MalformedControlMessageException(
                    "id count " + count + " does not fit in the " + in.remaining() + " bytes left");
        }
        List<String> ids = new ArrayList<>(count);
        for (int r = 0; r < count; r++) {
            ids.add(readString(in));
        }
        return ids;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > 0xFFFF) {
            throw new IllegalArgumentException("string of " + utf8.length + " bytes is too long");
        }
        out.writeShort(utf8.length);
        out.write(utf8);
    }

    private static String readString(ByteBuffer in) throws MalformedControlMessageException {
        int length = Short.toUnsignedInt(in.getShort());
        if (length > in.remaining()) {
            throw new MalformedControlMessageException(
                    "string of " + length + " bytes with " + in.remaining() + " bytes left");
        }
        ByteBuffer slice = in.slice();
        slice.limit(length);
        in.position(in.position() + length);
        try {
            CharBuffer chars = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new MalformedControlMessageException("a string that is not UTF-8", e);
        }
    }
}
