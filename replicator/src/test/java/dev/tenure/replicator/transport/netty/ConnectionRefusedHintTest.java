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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.Message;
import dev.tenure.replicator.transport.PeerDirectory;
import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Fast failover's transport hint (docs/replication.md, "Fast failover"): a connect refused by the peer's host (nothing
 * listens on its port) is reported with the peer's id; a timeout or an unreachable host is not a refusal.
 */
class ConnectionRefusedHintTest {
    @Test
    void aRefusedConnectIsReportedWithThePeersId() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort(); // closed again at once: nothing listens there any more
        }
        LinkedBlockingQueue<String> refused = new LinkedBlockingQueue<>();
        NettyTransport a = NettyTransport.builder()
                .selfId("a")
                .clusterName("hint")
                .members(List.of("a", "b"))
                .bindAddress(new InetSocketAddress("127.0.0.1", 0))
                .peerDirectory(PeerDirectory.of(Map.of("b", new InetSocketAddress("127.0.0.1", closedPort))))
                .backoff(Duration.ofMillis(20), Duration.ofMillis(100))
                .plaintext()
                .build();
        try {
            a.connectionRefusals(refused::add);
            a.start(m -> {});
            a.send(new Message.AppendAck("a", "b", 1, 0, 0));
            assertEquals("b", refused.poll(30, TimeUnit.SECONDS), "the refused peer is named");
        } finally {
            a.close();
        }
    }

    @Test
    void onlyARefusalCountsNotATimeoutOrAnUnreachableHost() {
        assertTrue(OutboundPeer.refused(new ConnectException("Connection refused: /127.0.0.1:7101")));
        assertFalse(OutboundPeer.refused(new ConnectTimeoutException("connection timed out: /10.0.0.7:7101")));
        assertFalse(OutboundPeer.refused(new ConnectException("No route to host")));
        assertFalse(OutboundPeer.refused(new java.io.IOException("Connection refused")));
        assertFalse(OutboundPeer.refused(null));
    }
}
