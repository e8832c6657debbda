package dev.rpctl.config;

import java.time.Duration;

/**
 * The claim path: write-through to both sides after commit, budget sharding, group commit; and
 * how many reads at once fall back to the primary while their side cannot be reached.
 */
public record ClaimSettings(int writeThroughRetries, Duration writeThroughTimeout, int budgetShards, int committers,
                            int maxGroup, int readFallbackConcurrency) {
}
