package dev.tenure.replicator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A test state machine: records every applied payload in order. */
public final class KeyValueMachine implements StateMachine {
    private final List<String> applied = new ArrayList<>();

    @Override
    public synchronized Object apply(long epoch, long offset, byte[] payload) {
        String p = new String(payload, StandardCharsets.UTF_8);
        applied.add(p);
        return "applied " + p + " at " + offset;
    }

    public synchronized List<String> applied() {
        return List.copyOf(applied);
    }
}
