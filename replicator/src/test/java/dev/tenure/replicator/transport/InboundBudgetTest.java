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
