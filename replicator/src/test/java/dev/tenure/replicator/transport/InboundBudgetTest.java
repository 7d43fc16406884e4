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
package dev.tenure.replicator.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InboundBudgetTest {
    @Test
    void isExhaustedPastItsLimitAndCallsBackOnceTheConsumerIsDownToHalf() {
        InboundBudget budget = new InboundBudget(4);
        for (int i = 0; i < 4; i++) {
            budget.take();
        }
        assertFalse(budget.exhausted(), "at the limit");
        budget.take();
        assertTrue(budget.exhausted(), "past the limit");

        AtomicInteger called = new AtomicInteger();
        budget.whenAvailable(called::incrementAndGet);
        budget.whenAvailable(called::incrementAndGet);
        budget.giveBack(); // 4
        budget.giveBack(); // 3
        assertEquals(0, called.get(), "not yet down to half");
        budget.giveBack(); // 2: half
        assertEquals(2, called.get(), "each waiting callback runs once");
        budget.giveBack();
        assertEquals(2, called.get());

        budget.whenAvailable(called::incrementAndGet);
        assertEquals(3, called.get(), "already available: runs at once");
        assertEquals(1, budget.outstanding());
    }

    @Test
    void theUnlimitedBudgetIsNeverExhaustedAndCountsNothing() {
        InboundBudget unlimited = InboundBudget.unlimited();
        for (int i = 0; i < 10_000; i++) {
            unlimited.take();
        }
        assertFalse(unlimited.exhausted());
        assertEquals(0, unlimited.outstanding());
    }
}
