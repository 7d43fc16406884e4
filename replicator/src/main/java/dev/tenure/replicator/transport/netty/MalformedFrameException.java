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
