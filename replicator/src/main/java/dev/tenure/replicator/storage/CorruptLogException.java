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
package dev.tenure.replicator.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The log on disk is damaged before its tail: a record that fails its checksum or header check with more
 * data after it (in particular an intact record at any later byte position, whatever the damaged record's
 * length says), a header announcing a record larger than {@link LogConfig#maxRecordBytes()}, a gap or a
 * repeated offset, or a missing segment file. Opening such a log is refused rather than dropping the data
 * after the damage; the message names the file, the byte position and the offset expected there. Thrown by {@link
 * SegmentedLog#open}, which then opens nothing. Immutable.
 */
public final class CorruptLogException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The damaged segment file. */
    private final Path file;
    /** The byte position of the damage. */
    private final long position;
    /** The offset expected at that position. */
    private final long expectedOffset;

    /**
     * Damage in {@code file} at byte {@code position}, where offset {@code expectedOffset} was expected; {@code
     * problem} says what is wrong.
     */
    public CorruptLogException(Path file, long position, long expectedOffset, String problem) {
        super("corrupt log segment " + file + " at byte position " + position + " (expected offset " + expectedOffset
                + "): " + problem);
        this.file = file;
        this.position = position;
        this.expectedOffset = expectedOffset;
    }

    /** The damaged segment file. */
    public Path file() {
        return file;
    }

    /** The byte position in {@link #file()} of the first bad record. */
    public long position() {
        return position;
    }

    /** The offset the record at {@link #position()} should have had. */
    public long expectedOffset() {
        return expectedOffset;
    }
}
