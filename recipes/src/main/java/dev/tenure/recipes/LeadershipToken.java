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

import com.google.common.base.Preconditions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.Objects;

/**
 * The fencing token of one term of leadership: the epoch, the leader's id, the election path and the
 * version of the epoch node that the mint produced (which fenced ZooKeeper writes check).
 *
 * <p>Epochs are strictly increasing on an election path: a later term always has a greater epoch. A
 * resource that keeps the highest epoch it has seen and refuses lower ones (see {@link EpochFence}) cannot
 * be written by a deposed or paused leader.
 *
 * <p>Immutable and thread-safe. Tokens order by epoch; compare only tokens of one election path.
 * Serialisable to bytes ({@link #toBytes()}) and to text ({@link #toText()}); both forms round-trip.
 */
public final class LeadershipToken implements Comparable<LeadershipToken> {
    private static final byte FORMAT_VERSION = 1;
    private static final String TEXT_PREFIX = "tenure-token:1:";
    private static final Comparator<LeadershipToken> ORDER = Comparator.comparingLong(LeadershipToken::epoch)
            .thenComparing(LeadershipToken::electionPath)
            .thenComparing(LeadershipToken::leaderId)
            .thenComparingInt(LeadershipToken::epochNodeVersion);

    private final String electionPath;
    private final long epoch;
    private final String leaderId;
    private final int epochNodeVersion;

    /**
     * Creates a token. Applications normally receive tokens from {@link FencedLeaderElection} or decode
     * them; this constructor is public for tests and for services that relay tokens.
     */
    public LeadershipToken(String electionPath, long epoch, String leaderId, int epochNodeVersion) {
        this.electionPath = Objects.requireNonNull(electionPath, "electionPath");
        this.leaderId = Objects.requireNonNull(leaderId, "leaderId");
        Preconditions.checkArgument(epoch > 0, "epoch must be > 0, was %s", epoch);
        Preconditions.checkArgument(epochNodeVersion >= 0, "epochNodeVersion must be >= 0, was %s", epochNodeVersion);
        this.epoch = epoch;
        this.epochNodeVersion = epochNodeVersion;
    }

    /** The election path this token belongs to. */
    public String electionPath() {
        return electionPath;
    }

    /** The epoch: strictly greater than that of every earlier term on this election path. */
    public long epoch() {
        return epoch;
    }

    /** The participant id of the leader this token was minted for. */
    public String leaderId() {
        return leaderId;
    }

    /** The version of the epoch node right after this token's mint; fenced ZooKeeper writes check it. */
    public int epochNodeVersion() {
        return epochNodeVersion;
    }

    /** Whether this token's epoch is greater than the other's. */
    public boolean isNewerThan(LeadershipToken other) {
        return epoch > other.epoch;
    }

    /** A compact binary form; see {@link #fromBytes(byte[])}. */
    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT_VERSION);
            out.writeLong(epoch);
            out.writeInt(epochNodeVersion);
            out.writeUTF(electionPath);
            out.writeUTF(leaderId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Decodes {@link #toBytes()}.
     *
     * @throws IllegalArgumentException if the bytes are not a token of a known format
     */
    public static LeadershipToken fromBytes(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            byte version = in.readByte();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("unknown leadership token format " + version);
            }
            long epoch = in.readLong();
            int nodeVersion = in.readInt();
            String path = in.readUTF();
            String id = in.readUTF();
            if (in.available() != 0) {
                throw new IllegalArgumentException("trailing bytes after leadership token");
            }
            return new LeadershipToken(path, epoch, id, nodeVersion);
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated leadership token", e);
        }
    }

    /**
     * A single-line text form, {@code tenure-token:1:EPOCH:VERSION:PATH:ID} with path and id
     * percent-encoded; see {@link #parse(String)}.
     */
    public String toText() {
        return TEXT_PREFIX + epoch + ":" + epochNodeVersion + ":" + encode(electionPath) + ":" + encode(leaderId);
    }

    /**
     * Parses {@link #toText()}.
     *
     * @throws IllegalArgumentException if the text is not a token
     */
    public static LeadershipToken parse(String text) {
        Objects.requireNonNull(text, "text");
        if (!text.startsWith(TEXT_PREFIX)) {
            throw new IllegalArgumentException("not a leadership token: " + text);
        }
        String[] parts = text.substring(TEXT_PREFIX.length()).split(":", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("malformed leadership token: " + text);
        }
        try {
            return new LeadershipToken(
                    decode(parts[2]), Long.parseLong(parts[0]), decode(parts[3]), Integer.parseInt(parts[1]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed leadership token: " + text, e);
        }
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public int compareTo(LeadershipToken other) {
        return ORDER.compare(this, other);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof LeadershipToken)) {
            return false;
        }
        LeadershipToken t = (LeadershipToken) o;
        return epoch == t.epoch
                && epochNodeVersion == t.epochNodeVersion
                && electionPath.equals(t.electionPath)
                && leaderId.equals(t.leaderId);
    }

    @Override
    public int hashCode() {
        return Objects.hash(electionPath, epoch, leaderId, epochNodeVersion);
    }

    @Override
    public String toString() {
        return "epoch " + epoch + " of " + electionPath + " (leader " + leaderId + ")";
    }
}
