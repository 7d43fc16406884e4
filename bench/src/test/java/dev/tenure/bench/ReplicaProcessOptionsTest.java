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
package dev.tenure.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tenure.replicator.zookeeper.FastFailover;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReplicaProcessOptionsTest {
    @Test
    void fastFailoverIsTheLibrarysDerivedDefaultUnlessTurnedOffOrGivenASuspicionTimeout() {
        FastFailover byDefault = ReplicaProcessMain.Options.parse("").fastFailover();
        assertTrue(byDefault.enabled());
        assertEquals(
                Duration.ofSeconds(1), byDefault.resolve(Duration.ofSeconds(3)).suspicionTimeout());

        FastFailover on = ReplicaProcessMain.Options.parse("fast_failover=on").fastFailover();
        assertEquals(Duration.ofSeconds(1), on.resolve(Duration.ofSeconds(3)).suspicionTimeout());

        assertFalse(ReplicaProcessMain.Options.parse("fast_failover=off")
                .fastFailover()
                .enabled());

        FastFailover explicit = ReplicaProcessMain.Options.parse("state_machine=kv,fast_failover=750")
                .fastFailover()
                .resolve(Duration.ofSeconds(30));
        assertEquals(Duration.ofMillis(750), explicit.suspicionTimeout());
        assertEquals(Duration.ofMillis(750), explicit.minimumTerm());
        assertEquals(Duration.ofMillis(750), explicit.deposeBackoff());

        assertThrows(IllegalArgumentException.class, () -> ReplicaProcessMain.Options.parse("fast_failover=0"));
        assertThrows(NumberFormatException.class, () -> ReplicaProcessMain.Options.parse("fast_failover=fast"));
    }
}
