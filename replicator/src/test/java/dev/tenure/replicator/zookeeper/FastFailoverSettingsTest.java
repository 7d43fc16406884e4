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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Fast failover's settings: derived from the session timeout by default, explicit, or off, with clear errors. */
class FastFailoverSettingsTest {
    @Test
    void theDefaultSuspectsAfterAThirdOfTheSessionTimeoutWithinItsBounds() {
        FastFailover threeSeconds = FastFailover.fromSessionTimeout().resolve(Duration.ofSeconds(3));
        assertTrue(threeSeconds.enabled());
        assertEquals(Duration.ofSeconds(1), threeSeconds.suspicionTimeout());
        assertEquals(Duration.ofSeconds(1), threeSeconds.minimumTerm());
        assertEquals(Duration.ofSeconds(1), threeSeconds.deposeBackoff());
        assertEquals(Duration.ofSeconds(5), FastFailover.suspicionFor(Duration.ofSeconds(60)), "capped");
        assertEquals(Duration.ofMillis(300), FastFailover.suspicionFor(Duration.ofMillis(600)), "floored");
    }

    @Test
    void explicitSettingsAndOffAreKeptAsGiven() {
        FastFailover explicit = FastFailover.of(Duration.ofMillis(700), Duration.ZERO, Duration.ofSeconds(2));
        assertEquals(explicit, explicit.resolve(Duration.ofSeconds(30)));
        assertEquals(Duration.ofMillis(700), explicit.suspicionTimeout());
        assertFalse(FastFailover.off().resolve(Duration.ofSeconds(3)).enabled());
    }

    @Test
    void badSettingsAreRefusedWithAClearError() {
        IllegalArgumentException zero = assertThrows(
                IllegalArgumentException.class, () -> FastFailover.of(Duration.ZERO, Duration.ZERO, Duration.ZERO));
        assertTrue(zero.getMessage().contains("FastFailover.off()"), zero.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> FastFailover.of(Duration.ofSeconds(1), Duration.ofSeconds(-1), Duration.ZERO));
        assertThrows(
                IllegalArgumentException.class,
                () -> FastFailover.of(Duration.ofSeconds(1), Duration.ZERO, Duration.ofSeconds(-1)));
    }
}
