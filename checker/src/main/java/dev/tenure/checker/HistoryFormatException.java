package dev.tenure.checker;

/**
 * A history that cannot be read or does not make sense: a malformed line, an unknown {@code f} or {@code type}, a
 * completion without an invoke, a second invoke while one is outstanding for the process, time going backwards.
 * The message starts with {@code "line N: "}.
 */
public final class HistoryFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final int lineNumber;

    public HistoryFormatException(int lineNumber, String message) {
        super("line " + lineNumber + ": " + message);
        this.lineNumber = lineNumber;
    }

    public HistoryFormatException(int lineNumber, String message, Throwable cause) {
        super("line " + lineNumber + ": " + message, cause);
        this.lineNumber = lineNumber;
    }

    /** The 1-based line (for an in-memory history: the 1-based event number) the problem was found on. */
    public int lineNumber() {
        return lineNumber;
    }
}
