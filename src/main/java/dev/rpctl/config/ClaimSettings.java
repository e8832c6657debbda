package dev.rpctl.config;

import java.time.Duration;

/** The claim path: write-through to both sides after commit, budget sharding, group commit. */
public record ClaimSettings(int writeThroughRetries, Duration writeThroughTimeout, int budgetShards, int committers) {
}
