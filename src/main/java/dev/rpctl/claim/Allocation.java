package dev.rpctl.claim;

/**
 * How a claim's amount is chosen. FIXED pays total/count to everyone. RANDOM draws uniformly
 * from [1, 2 * remaining/remainingCount] (the "double average" rule), capped so that every claim
 * still to come can be paid at least one cent, and pays the last claim all that is left; the
 * draw runs in the claim procedure, under the budget shard's lock.
 */
public enum Allocation {
    FIXED, RANDOM;

    public static Allocation parse(String s) {
        return valueOf(s.trim().toUpperCase());
    }

    public String label() {
        return name().toLowerCase();
    }
}
