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
package dev.tenure.replicator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.core.CoreConfig;
import dev.tenure.replicator.core.Role;
import dev.tenure.replicator.core.Synced;
import dev.tenure.replicator.testing.InMemoryNetwork;
import dev.tenure.replicator.testing.InMemoryPromiseStore;
import dev.tenure.replicator.testing.InMemoryReplicaLog;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A user's own state machine with typed commands and results: a replicated counter. */
class TypedStateMachineTest {
    private static final List<String> IDS = List.of("r0", "r1", "r2");

    /** The counter: a command adds to the total; the result is the new total. Apply thread only. */
    private static final class Counter implements TypedStateMachine<Long, Long> {
        long total;

        @Override
        public Long apply(long epoch, long offset, Long delta) {
            total += delta;
            return total;
        }
    }

    private final InMemoryNetwork network = new InMemoryNetwork();
    private final Map<String, Replica> replicas = new LinkedHashMap<>();
    private final Map<String, Counter> counters = new LinkedHashMap<>();
    private final Map<String, ManualLeadership> leadership = new LinkedHashMap<>();

    @AfterEach
    void stop() {
        replicas.values().forEach(Replica::close);
    }

    private void start() throws Exception {
        for (String id : IDS) {
            InMemoryReplicaLog log = new InMemoryReplicaLog();
            Counter counter = new Counter();
            ManualLeadership l = new ManualLeadership();
            Replica r = Replica.builder()
                    .config(CoreConfig.builder(id, IDS).build())
                    .log(
                            log,
                            () -> {
                                long end = log.sync();
                                return new Synced(end, end == 0 ? 0 : log.epochAt(end - 1));
                            },
                            true)
                    .promises(new InMemoryPromiseStore())
                    .transport(network.transport(id))
                    .leadership(l)
                    .stateMachine(TypedStateMachine.of(counter, PayloadCodec.int64()))
                    .proposalTimeout(Duration.ofSeconds(5))
                    .build();
            r.start();
            replicas.put(id, r);
            counters.put(id, counter);
            leadership.put(id, l);
        }
        leadership.get("r0").elect(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (replicas.get("r0").status().role() != Role.LEADER) {
            assertTrue(System.nanoTime() < deadline, "r0 never led");
            Thread.sleep(5); // polling a status snapshot
        }
    }

    @Test
    void typedCommandsAreAppliedEverywhereAndTheirTypedResultsReturnToTheProposer() throws Exception {
        start();
        TypedProposer<Long, Long> add = TypedProposer.of(replicas.get("r0"), PayloadCodec.int64(), Long.class);
        TypedProposer.Result<Long> first = add.propose(5L).get(10, TimeUnit.SECONDS);
        TypedProposer.Result<Long> second = add.propose(-2L).get(10, TimeUnit.SECONDS);
        assertEquals(5L, first.result());
        assertEquals(3L, second.result());
        assertTrue(second.offset() > first.offset());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!counters.values().stream().allMatch(c -> c.total == 3)) {
            assertTrue(System.nanoTime() < deadline, "the followers never applied both");
            Thread.sleep(5); // polling the followers' apply threads
        }
    }

    @Test
    void aResultOfAnotherTypeFailsThePromiseClearly() throws Exception {
        start();
        TypedProposer<Long, String> wrong = TypedProposer.of(replicas.get("r0"), PayloadCodec.int64(), String.class);
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> wrong.propose(1L).get(10, TimeUnit.SECONDS));
        assertInstanceOf(ClassCastException.class, e.getCause());
        assertTrue(
                e.getCause().getMessage().contains("java.lang.Long"),
                e.getCause().getMessage());
    }

    @Test
    void aPayloadTheCodecCannotReadStopsTheReplicaInsteadOfBeingSkipped() throws Exception {
        start();
        Replica r0 = replicas.get("r0");
        ExecutionException e = assertThrows(
                ExecutionException.class, () -> r0.propose(new byte[3]).get(10, TimeUnit.SECONDS));
        assertInstanceOf(ReplicationException.class, e.getCause());
        assertEquals(Role.FAILED, r0.status().role());
        assertTrue(
                r0.status().failure().contains("not a command of this state machine"),
                r0.status().failure());
    }

    @Test
    void theBuiltInCodecsRoundTripAndRefuseForeignBytes() {
        assertEquals("héllo", PayloadCodec.utf8().decode(PayloadCodec.utf8().encode("héllo")));
        assertEquals(
                Long.MIN_VALUE, PayloadCodec.int64().decode(PayloadCodec.int64().encode(Long.MIN_VALUE)));
        assertThrows(IllegalArgumentException.class, () -> PayloadCodec.int64().decode(new byte[7]));
    }
}
