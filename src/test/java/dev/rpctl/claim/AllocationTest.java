package dev.rpctl.claim;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AllocationTest {
    @RepeatedTest(20)
    void random_allocation_pays_out_exactly_the_budget_with_at_least_one_cent_each() {
        long count = 1000;
        long amount = 5000;
        long paid = 0;
        for (long left = count; left > 0; left--) {
            long a = Allocation.RANDOM.next(left, amount - paid, 0);
            assertTrue(a >= 1, "amount " + a);
            assertTrue(amount - paid - a >= left - 1, "a later claim could not be paid");
            paid += a;
        }
        assertEquals(amount, paid);
    }

    @Test
    void the_tightest_budget_pays_one_cent_each() {
        long paid = 0;
        for (long left = 10; left > 0; left--) {
            long a = Allocation.RANDOM.next(left, 10 - paid, 0);
            assertEquals(1, a);
            paid += a;
        }
    }

    @Test
    void fixed_pays_the_fixed_amount() {
        assertEquals(250, Allocation.FIXED.next(3, 750, 250));
    }
}
