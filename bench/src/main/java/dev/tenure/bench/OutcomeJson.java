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
package dev.tenure.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Base64;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * A {@link ClosedLoop.Outcome} whole, histogram included, as JSON: how a replica process hands the figures of a
 * load it ran to the benchmark, which merges the slices of one level ({@link Interleaved}) into one histogram.
 * (The summary fields of the RESULT line are {@link SideJson}'s.)
 */
final class OutcomeJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OutcomeJson() {}

    static ObjectNode toJson(ClosedLoop.Outcome o) {
        ObjectNode n = JSON.createObjectNode();
        Histogram h = o.latencies();
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int length = h.encodeIntoCompressedByteBuffer(buf);
        n.put("histogram", Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), length)));
        n.put("errors", o.errors());
        n.put("unmeasured_errors", o.unmeasuredErrors());
        n.put("interval_ns", o.interval().toNanos());
        n.put("io_stall_us", o.ioStallMicros());
        if (o.firstError() != null) {
            n.put("first_error", o.firstError().toString());
        }
        return n;
    }

    /**
     * @throws IllegalArgumentException if {@code n} is not what {@link #toJson} wrote
     */
    static ClosedLoop.Outcome fromJson(JsonNode n) {
        if (!n.path("histogram").isTextual() || !n.path("interval_ns").canConvertToLong()) {
            throw new IllegalArgumentException("not a load outcome: " + n);
        }
        Histogram h;
        try {
            // Sized for any value, not by the range the encoding states: one benchmark run failed on a payload with
            // counts past that range (its cause in the encoding side not found), which would not fit otherwise.
            h = Histogram.decodeFromCompressedByteBuffer(
                    ByteBuffer.wrap(
                            Base64.getDecoder().decode(n.path("histogram").asText())),
                    Long.MAX_VALUE);
        } catch (DataFormatException | RuntimeException e) {
            throw new IllegalArgumentException("corrupt latency histogram in a load outcome", e);
        }
        String first = n.path("first_error").asText(null);
        return new ClosedLoop.Outcome(
                h,
                n.path("errors").asLong(),
                n.path("unmeasured_errors").asLong(),
                Duration.ofNanos(n.path("interval_ns").asLong()),
                first == null ? null : new RemoteFailure(first),
                n.path("io_stall_us").asLong(-1));
    }

    /** A failure seen in another process, by its text. */
    static final class RemoteFailure extends RuntimeException {
        RemoteFailure(String text) {
            super(text, null, false, false);
        }

        // The text is the remote failure's own toString() (its class and message); this class's name before it
        // would misname the failure wherever an outcome's first error is printed.
        @SuppressWarnings("OverrideThrowableToString")
        @Override
        public String toString() {
            return getMessage();
        }
    }
}
