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

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** A closed loop's figures as JSON, the same fields as a {@link Results.Side} in the RESULT line. */
final class SideJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SideJson() {}

    static ObjectNode of(ClosedLoop.Outcome o) {
        return of(Results.Side.of("", o));
    }

    static ObjectNode of(Results.Side s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("ops", s.ops());
        n.put("ops_per_s", Math.round(s.opsPerSecond() * 10) / 10.0);
        n.put("p50_us", s.p50Micros());
        n.put("p99_us", s.p99Micros());
        n.put("p999_us", s.p999Micros());
        n.put("max_us", s.maxMicros());
        n.put("errors", s.errors());
        n.put("unmeasured_errors", s.unmeasuredErrors());
        if (s.ioStallPercent() >= 0) {
            n.put("io_stall_pct", Math.round(s.ioStallPercent() * 10) / 10.0);
        }
        if (s.firstError() != null) {
            n.put("first_error", s.firstError());
        }
        return n;
    }
}
