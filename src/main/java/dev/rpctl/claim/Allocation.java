package dev.rpctl.claim;

import java.util.concurrent.ThreadLocalRandom;

/**
 * How a claim's amount is chosen. FIXED pays total/count to everyone. RANDOM draws uniformly
 * from [1, 2 * remaining/remainingCount] (the "double average" rule), capped so that every
 * claim still to come can be paid at least one cent, and pays the last claim all that is left.
 */
public enum Allocation {
    FIXED, RANDOM;

    public static Allocation parse(String s) {
        return valueOf(s.trim().toUpperCase());
    }

    public String label() {
        return name().toLowerCase();
    }

    /** The amount of the next claim of a shard holding remainingCount claims and remainingAmount cents. */
    public long next(long remainingCount, long remainingAmount, long fixedAmount) {
        if (remainingCount <= 0) {
            throw new IllegalStateException("no claim left");
        }
        if (this == FIXED) {
            return fixedAmount;
        }
        if (remainingCount == 1) {
            return remainingAmount;
        }
        long max = Math.max(1, 2 * remainingAmount / remainingCount);
        // everyone after this claim must still get at least one cent
        max = Math.min(max, remainingAmount - (remainingCount - 1));
        return 1 + ThreadLocalRandom.current().nextLong(max);
    }
}
