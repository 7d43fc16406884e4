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
package dev.tenure.demo.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The header-receipt deadline of one connection (slowloris): a connection must send a complete request head within
 * the deadline after it opens, and after the first byte of each later request; otherwise it is closed. A connection
 * idle between requests is left to the idle rule. Sits before the HTTP codec (it sees raw bytes); {@link
 * HttpConnection} tells it when a head arrived and when a request ended.
 *
 * <p>Not thread-safe: every method runs on the connection's event loop.
 */
final class HeaderDeadline extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HeaderDeadline.class);

    private final long nanos;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    /** Bytes that arrive now belong to a request head. */
    private boolean inHead = true;

    HeaderDeadline(long nanos) {
        this.nanos = nanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        this.ctx = context;
    }

    @Override
    public void channelActive(ChannelHandlerContext context) throws Exception {
        arm();
        super.channelActive(context);
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) throws Exception {
        if (inHead && timer == null && msg instanceof ByteBuf b && b.isReadable()) {
            arm();
        }
        super.channelRead(context, msg);
    }

    /** A complete head arrived: the deadline is met. */
    void headReceived() {
        cancel();
        inHead = false;
    }

    /** A request's last byte arrived: the next byte starts the next head's deadline. */
    void requestEnded() {
        inHead = true;
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) throws Exception {
        cancel();
        super.channelInactive(context);
    }

    private void arm() {
        if (timer != null || ctx == null) {
            return;
        }
        timer = ctx.executor().schedule(this::expire, nanos, TimeUnit.NANOSECONDS);
    }

    private void expire() {
        timer = null;
        if (inHead) {
            log.debug(
                    "closing HTTP connection {}: no complete request head in time",
                    ctx.channel().remoteAddress());
            ChannelFuture unusedClose = ctx.close(); // not awaited: channelInactive follows
        }
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
