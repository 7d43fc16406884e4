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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(30)
class NettyChannelsTest {
    @Test
    void onLinuxOnX8664TheNativeEpollTransportIsChosenUnlessNioIsForced() {
        assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"), "Linux only");
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "x86-64 only (the native library shipped)");
        String before = System.getProperty(NettyChannels.FORCE_NIO_PROPERTY);
        try {
            System.clearProperty(NettyChannels.FORCE_NIO_PROPERTY);
            assertEquals(NettyChannels.EPOLL, NettyChannels.current(), String.valueOf(Epoll.unavailabilityCause()));
            System.setProperty(NettyChannels.FORCE_NIO_PROPERTY, "true");
            assertEquals(NettyChannels.NIO, NettyChannels.current());
        } finally {
            if (before == null) {
                System.clearProperty(NettyChannels.FORCE_NIO_PROPERTY);
            } else {
                System.setProperty(NettyChannels.FORCE_NIO_PROPERTY, before);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(NettyChannels.class)
    void eachTransportCarriesBytesFromItsClientToItsServerAndBack(NettyChannels io) throws Exception {
        assumeTrue(io == NettyChannels.NIO || Epoll.isAvailable(), "native epoll not available here");
        EventLoopGroup group = io.eventLoopGroup(1, new DefaultThreadFactory("channels-test", true));
        try {
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(io.serverChannel())
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ChannelFuture unused = ctx.writeAndFlush(msg); // echo; the client awaits it
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0))
                    .sync()
                    .channel();
            CompletableFuture<String> echoed = new CompletableFuture<>();
            Channel client = new Bootstrap()
                    .group(group)
                    .channel(io.socketChannel())
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, ByteBuf in) {
                                    echoed.complete(in.toString(StandardCharsets.US_ASCII));
                                }
                            });
                        }
                    })
                    .connect(server.localAddress())
                    .sync()
                    .channel();
            ChannelFuture unused = client.writeAndFlush(Unpooled.copiedBuffer("epoch 7", StandardCharsets.US_ASCII));
            assertEquals("epoch 7", echoed.get(10, TimeUnit.SECONDS));
            client.close().sync();
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
