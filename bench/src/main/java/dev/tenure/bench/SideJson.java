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
