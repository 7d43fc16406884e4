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
package dev.tenure.checker;

/**
 * A history that cannot be read or does not make sense: a malformed line, an unknown {@code f} or {@code type}, a
 * completion without an invoke, a second invoke while one is outstanding for the process, time going backwards.
 * The message starts with {@code "line N: "}. Thrown by {@link HistoryReader}, {@link HistoryChecker#check(
 * java.nio.file.Path)} and {@link HistoryChecker#check(java.io.Reader)}, {@link History.Builder} and {@link
 * HistoryWriter}: reading accepts a history whole or not at all; the builder and the writer refuse the one event.
 * Immutable.
 */
public final class HistoryFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The 1-based line of the problem. */
    private final int lineNumber;

    /** A problem on {@code lineNumber} (1-based); the message gets the prefix {@code "line N: "}. */
    public HistoryFormatException(int lineNumber, String message) {
        super("line " + lineNumber + ": " + message);
        this.lineNumber = lineNumber;
    }

    /** A problem on {@code lineNumber} (1-based) caused by {@code cause}. */
    public HistoryFormatException(int lineNumber, String message, Throwable cause) {
        super("line " + lineNumber + ": " + message, cause);
        this.lineNumber = lineNumber;
    }

    /** The 1-based line (for an in-memory history: the 1-based event number) the problem was found on. */
    public int lineNumber() {
        return lineNumber;
    }
}
