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

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.ByteOrder;

/**
 * Splits the byte stream into frames by their length field and strips it. A frame longer than the current
 * limit fails as soon as its length field is read, before any of it is buffered. The limit starts small (a
 * handshake frame is small) and is raised to the configured maximum once the peer's hello is accepted, so an
 * unauthenticated connection cannot make this replica buffer a large frame. Used on one channel only.
 */
final class FrameDecoder extends LengthFieldBasedFrameDecoder {
    /** The largest handshake frame: a Hello of three maximal strings fits. */
    static final int HANDSHAKE_MAX_FRAME_BYTES = 4096;

    private final int maxFrameBytes;
    private int limit;

    FrameDecoder(int maxFrameBytes, boolean handshakeLimitFirst) {
        super(
                maxFrameBytes + MessageCodec.LENGTH_FIELD_BYTES,
                0,
                MessageCodec.LENGTH_FIELD_BYTES,
                0,
                MessageCodec.LENGTH_FIELD_BYTES,
                true);
        this.maxFrameBytes = maxFrameBytes;
        this.limit = handshakeLimitFirst ? Math.min(HANDSHAKE_MAX_FRAME_BYTES, maxFrameBytes) : maxFrameBytes;
    }

    /** Allows frames up to the configured maximum (called on the channel's event loop). */
    void handshakeDone() {
        limit = maxFrameBytes;
    }

    @Override
    protected long getUnadjustedFrameLength(ByteBuf buf, int offset, int length, ByteOrder order) {
        long frameLength = super.getUnadjustedFrameLength(buf, offset, length, order);
        if (frameLength < 0) {
            throw new CorruptedFrameException("negative frame length " + frameLength);
        }
        if (frameLength > limit) {
            throw new TooLongFrameException("frame of " + frameLength + " bytes exceeds the maximum of " + limit
                    + (limit < maxFrameBytes ? " before a hello" : ""));
        }
        return frameLength;
    }
}
