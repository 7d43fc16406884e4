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

import java.net.URI;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What one {@link KvClient} call achieved, as far as the client can know. Immutable and thread-safe.
 *
 * <p>The {@link #kind()} is the only field callers must look at; the rest explains it. Every kind except
 * {@link Kind#UNKNOWN} is definite: the server either committed the request or certainly did not apply it.
 */
public final class Outcome {
    /** The classification of a call. */
    public enum Kind {
        /**
         * {@code 200}: a write was committed at {@link #epoch()}/{@link #offset()}, a read returned a value, or a
         * snapshot is durable (its id is {@link #epoch()}/{@link #offset()}).
         */
        OK,
        /** {@code 404 not_found} for a {@code get}: the key has no value. Nothing was applied. */
        NOT_FOUND,
        /** {@code 409 cas_failed}: the key's value was not the expected one; {@link #current()} is what it was. */
        CAS_FAILED,
        /**
         * The request was certainly not applied: refused by the server ({@code 307} that could not be followed,
         * {@code 400}, {@code 404}, {@code 405}, {@code 409}, {@code 413}, {@code 503} with
         * {@code "applied":false}) or never sent (the TCP connection could not be made).
         */
        DEFINITELY_NOT_APPLIED,
        /**
         * The client cannot tell whether a write was applied (timeout, connection reset, {@code 500}, {@code 503}
         * without {@code "applied":false}, any status the contract does not name). A write may have committed;
         * retrying it may apply it twice.
         */
        UNKNOWN;

        /** True for every kind except {@link #UNKNOWN}. */
        public boolean isDefinite() {
            return this != UNKNOWN;
        }
    }

    private final Kind kind;
    private final int httpStatus;
    private final Long epoch;
    private final Long offset;
    private final byte[] value;
    private final String current;
    private final String error;
    private final URI url;

    private Outcome(
            Kind kind, int httpStatus, Long epoch, Long offset, byte[] value, String current, String error, URI url) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.httpStatus = httpStatus;
        this.epoch = epoch;
        this.offset = offset;
        this.value = value;
        this.current = current;
        this.error = error;
        this.url = url;
    }

    static Outcome committed(int status, Long epoch, Long offset, URI url) {
        return new Outcome(Kind.OK, status, epoch, offset, null, null, null, url);
    }

    static Outcome snapshot(int status, Long epoch, Long offset, byte[] document, URI url) {
        return new Outcome(Kind.OK, status, epoch, offset, document, null, null, url);
    }

    static Outcome read(int status, byte[] value, URI url) {
        return new Outcome(Kind.OK, status, null, null, value, null, null, url);
    }

    static Outcome notFound(int status, String error, URI url) {
        return new Outcome(Kind.NOT_FOUND, status, null, null, null, null, error, url);
    }

    static Outcome casFailed(int status, String current, byte[] currentBytes, String error, URI url) {
        return new Outcome(Kind.CAS_FAILED, status, null, null, currentBytes, current, error, url);
    }

    static Outcome notApplied(int status, String error, URI url) {
        return new Outcome(Kind.DEFINITELY_NOT_APPLIED, status, null, null, null, null, error, url);
    }

    static Outcome unknown(int status, String error, URI url) {
        return new Outcome(Kind.UNKNOWN, status, null, null, null, null, error, url);
    }

    public Kind kind() {
        return kind;
    }

    /** The HTTP status of the last response, or -1 if the last attempt got no response. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The epoch a write was committed in (a snapshot's epoch), when the {@code 200} body carried one. */
    public OptionalLong epoch() {
        return epoch == null ? OptionalLong.empty() : OptionalLong.of(epoch);
    }

    /** The log offset a write was committed at (a snapshot's offset), when the {@code 200} body carried one. */
    public OptionalLong offset() {
        return offset == null ? OptionalLong.empty() : OptionalLong.of(offset);
    }

    /**
     * For a successful {@code get}, the raw value; for a successful {@code status} or {@code snapshot}, the JSON
     * document; for
     * {@link Kind#CAS_FAILED}, the exact bytes of the key's value at the time of the comparison (empty when the key
     * was absent), also when they are not text. A copy.
     */
    public Optional<byte[]> value() {
        return value == null ? Optional.empty() : Optional.of(value.clone());
    }

    /**
     * For {@link Kind#CAS_FAILED}, the key's value at the time of the comparison as text; {@code null} when the key
     * was absent, when the value is not valid UTF-8 (then only {@link #value()} has it), and for every other kind.
     */
    public String current() {
        return current;
    }

    /**
     * For every kind except {@link Kind#OK}, a short description: the server's {@code error} code (for example
     * {@code not_leader}, {@code no_leader}) or the transport failure. Empty for {@link Kind#OK}.
     */
    public Optional<String> error() {
        return Optional.ofNullable(error);
    }

    /** The URL of the last request sent (after redirects): the one that answered, or failed to. */
    public URI url() {
        return url;
    }

    @Override
    public String toString() {
        StringBuilder s =
                new StringBuilder("Outcome{").append(kind).append(", status=").append(httpStatus);
        if (epoch != null) {
            s.append(", epoch=").append(epoch);
        }
        if (offset != null) {
            s.append(", offset=").append(offset);
        }
        if (value != null) {
            s.append(", value=").append(value.length).append(" bytes");
        }
        if (kind == Kind.CAS_FAILED) {
            s.append(", current=")
                    .append(
                            current != null
                                    ? '"' + current + '"'
                                    : value == null ? "<absent>" : "<not UTF-8, " + value.length + " bytes>");
        }
        if (error != null) {
            s.append(", error=").append(error);
        }
        return s.append(", url=").append(url).append('}').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Outcome other
                && kind == other.kind
                && httpStatus == other.httpStatus
                && Objects.equals(epoch, other.epoch)
                && Objects.equals(offset, other.offset)
                && Arrays.equals(value, other.value)
                && Objects.equals(current, other.current)
                && Objects.equals(error, other.error)
                && Objects.equals(url, other.url);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, httpStatus, epoch, offset, Arrays.hashCode(value), current, error, url);
    }
}
