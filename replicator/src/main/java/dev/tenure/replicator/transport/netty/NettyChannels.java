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

import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.ThreadFactory;

/**
 * Which Netty transport Tenure's sockets use: the native epoll transport where the platform has it (Linux on
 * x86-64, the library being on the class path as it is through ZooKeeper), Java NIO elsewhere. Native epoll makes
 * fewer system calls per message than NIO's selector (edge-triggered readiness, no selected-key sets, no wake-up
 * pipe on every task), which matters where one message is one write, as for the demo's HTTP answers. The system
 * property {@code tenure.netty.nio=true} forces NIO (to compare the two, or to work around a native problem).
 *
 * <p>An event-loop group and the channel classes must come from the same call's choice: use {@link #current()}
 * once and keep the result. Thread-safe.
 */
public enum NettyChannels {
    /** Linux's native epoll transport. */
    EPOLL,
    /** The JDK's NIO transport. */
    NIO;

    /** The property that forces NIO when set to {@code true}. */
    public static final String FORCE_NIO_PROPERTY = "tenure.netty.nio";

    /** Epoll if available and not disabled by {@value #FORCE_NIO_PROPERTY}, else NIO. */
    public static NettyChannels current() {
        return !Boolean.getBoolean(FORCE_NIO_PROPERTY) && Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** An event-loop group of {@code threads} threads made by {@code threads}' factory. */
    public EventLoopGroup eventLoopGroup(int threads, ThreadFactory factory) {
        return this == EPOLL ? new EpollEventLoopGroup(threads, factory) : new NioEventLoopGroup(threads, factory);
    }

    /** The listening socket class for a {@code ServerBootstrap} on this transport's event loops. */
    public Class<? extends ServerChannel> serverChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** The connecting socket class for a {@code Bootstrap} on this transport's event loops. */
    public Class<? extends SocketChannel> socketChannel() {
        return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
