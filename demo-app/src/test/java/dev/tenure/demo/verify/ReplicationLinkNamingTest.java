package dev.tenure.demo.verify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tenure.harness.LinkProxy;
import dev.tenure.harness.Links;
import dev.tenure.replicator.transport.netty.MessageCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The testbed's replication proxies name each connection's link by the sender in the replicas' own hello. */
class ReplicationLinkNamingTest {
    private static final LinkProxy.LinkNamer TO_R1 = LinkProxy.replicationTo("r1", MessageCodec::helloSender);

    @Test
    void aReplicationConnectionIsNamedByTheSenderInItsHello() throws Exception {
        byte[] hello = MessageCodec.encodeHello("kv", "r2", "r1");
        ByteArrayOutputStream consumed = new ByteArrayOutputStream();
        assertEquals(
                Links.replication("r2", "r1"),
                TO_R1.name(new DataInputStream(new ByteArrayInputStream(hello)), consumed));
        assertArrayEquals(hello, consumed.toByteArray(), "every byte read is forwarded first");
    }

    @Test
    void aConnectionWithoutAHelloIsNamedByAnUnknownSender() throws Exception {
        byte[] junk = ByteBuffer.allocate(8).putInt(4).putInt(42).array();
        assertEquals(
                Links.replication("?", "r1"),
                TO_R1.name(new DataInputStream(new ByteArrayInputStream(junk)), new ByteArrayOutputStream()));
    }
}
