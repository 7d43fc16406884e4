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
package dev.tenure.replicator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A test state machine with snapshots: records every applied payload in order; a snapshot is the list, one payload
 * per line. Counts how many entries it applied one by one and how many restores it did, so tests can tell a restore
 * from a replay. Captures by copying the list (fine for a test; the demo's store captures without a copy).
 */
public class SnapshottingMachine implements StateMachine {
    private final List<String> applied = new ArrayList<>();
    private int appliedOneByOne;
    private int restores;
    private long restoredOffset = -1;

    @Override
    public synchronized Object apply(long epoch, long offset, byte[] payload) {
        applied.add(new String(payload, StandardCharsets.UTF_8));
        appliedOneByOne++;
        return null;
    }

    @Override
    public boolean supportsSnapshots() {
        return true;
    }

    @Override
    public synchronized SnapshotWriter snapshot() {
        List<String> captured = List.copyOf(applied);
        return out -> write(captured, out);
    }

    private static void write(List<String> lines, OutputStream out) throws IOException {
        for (String line : lines) {
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public synchronized void restore(long offset, InputStream in) throws IOException {
        applied.clear();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line = r.readLine(); line != null; line = r.readLine()) {
            applied.add(line);
        }
        restores++;
        restoredOffset = offset;
    }

    /** The offset of the last snapshot restored, or -1. */
    public synchronized long restoredOffset() {
        return restoredOffset;
    }

    public synchronized List<String> applied() {
        return List.copyOf(applied);
    }

    /** Entries applied one by one (not restored from a snapshot) since this machine was made. */
    public synchronized int appliedOneByOne() {
        return appliedOneByOne;
    }

    public synchronized int restores() {
        return restores;
    }
}
