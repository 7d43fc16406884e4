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
package dev.tenure.replicator.zookeeper;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Property-based fuzzing of the replicator's records in ZooKeeper, which anyone who can write ZooKeeper can plant:
 * the replica set's configuration decodes or is refused with {@link IllegalArgumentException}; a replica's endpoint
 * is used only if it is {@code HOST:PORT}.
 */
class ZooKeeperRecordsFuzzTest {
    @Property
    void aConfigurationNodeOfArbitraryBytesDecodesOrIsRefused(@ForAll @Size(max = 400) byte[] bytes) {
        configurationDecodesOrIsRefused(bytes);
    }

    @Provide
    Arbitrary<byte[]> configurationLike() {
        Arbitrary<String> ids = Arbitraries.of("r1", "r2", "r3", "", " ", "r1,r1", "\u0000", "x".repeat(300));
        Arbitrary<String> numbers = Arbitraries.of("0", "1", "-1", "9223372036854775807", "99999999999999999999", "x");
        Arbitrary<String> keys = Arbitraries.of("version", "voters", "previousVoters", "learners", "epoch", "format");
        Arbitrary<String> line = net.jqwik.api.Combinators.combine(keys, Arbitraries.oneOf(ids, numbers))
                .as((k, v) -> k + "=" + v);
        Arbitrary<String> json = net.jqwik.api.Combinators.combine(
                        numbers, ids.list().ofMaxSize(4), ids.list().ofMaxSize(3))
                .as((v, voters, learners) -> "{\"version\":" + v + ",\"voters\":" + quoted(voters) + ",\"learners\":"
                        + quoted(learners) + "}");
        return Arbitraries.oneOf(
                line.list().ofMaxSize(6).map(ls -> String.join("\n", ls).getBytes(StandardCharsets.UTF_8)),
                json.map(j -> j.getBytes(StandardCharsets.UTF_8)));
    }

    private static String quoted(java.util.List<String> ids) {
        return ids.stream().map(i -> "\"" + i + "\"").collect(java.util.stream.Collectors.joining(",", "[", "]"));
    }

    @Property
    void aConfigurationNodeOfRecordShapedBytesDecodesOrIsRefused(@ForAll("configurationLike") byte[] bytes) {
        configurationDecodesOrIsRefused(bytes);
    }

    private static void configurationDecodesOrIsRefused(byte[] bytes) {
        try {
            assertNotNull(ConfigurationRecord.decode(bytes, "/fuzz/configuration"));
        } catch (IllegalArgumentException refused) {
            assertNotNull(refused.getMessage(), "a refusal says why");
        }
    }

    @Property
    void anEndpointOfArbitraryTextIsUsedOnlyAsHostAndPort(@ForAll @Size(max = 80) String text) {
        ZooKeeperRegistry.parseEndpoint(text).ifPresent(a -> {
            assertTrue(a.getPort() >= 1 && a.getPort() <= 65_535, a.toString());
            assertTrue(text.endsWith(":" + a.getPort()), text + " -> " + a);
        });
    }
}
