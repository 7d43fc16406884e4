package dev.tenure.replicator.transport.netty;

/**
 * A frame that does not decode: truncated, a length out of bounds, an unknown protocol version, frame type or
 * entry type, an invalid string, entry or epoch history, or bytes left over. The message says which and
 * where; a transport closes the connection that sent it. Immutable.
 */
public final class MalformedFrameException extends Exception {
    private static final long serialVersionUID = 1L;

    /** A frame that does not decode, for {@code reason}. */
    public MalformedFrameException(String reason) {
        super(reason);
    }

    /** A frame that does not decode, for {@code reason}, found through {@code cause}. */
    public MalformedFrameException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
