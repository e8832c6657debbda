package dev.rpctl.claim;

import java.time.Duration;

/**
 * What the claims of one activity cost over a window of the last minutes, summed over every
 * process that claimed (each adds its counts to the claim statistics table every few seconds):
 * the claims answered, the groups (transactions) they went in, their time from queued to
 * answered, and, over the claims of the groups that were timed (a sample: at most ten groups of an
 * activity a second and process), that time and the part of it their transactions waited for
 * budget-shard locks.
 */
public record ClaimStats(Duration window, long claims, long groups, long claimMicros, long shardWaitMicros,
                         long timedClaimMicros) {
    /** A share of the claims' time waiting for shard locks from which more shards are worth it. */
    public static final double SHARD_WAIT_WARNING = 0.10;
    /** How long the statistics table keeps a minute's row. */
    public static final int KEPT_DAYS = 7;

    /** The share of the claims' time spent waiting for budget-shard locks, 0-1. */
    public double shardWaitShare() {
        return timedClaimMicros <= 0 ? 0 : Math.min(1, shardWaitMicros / (double) timedClaimMicros);
    }

    public double claimsPerGroup() {
        return groups == 0 ? 0 : claims / (double) groups;
    }

    /** The claims' mean time from queued to answered, in milliseconds. */
    public double meanClaimMillis() {
        return claims == 0 ? 0 : claimMicros / 1000.0 / claims;
    }

    /** Whether the claims waited on shard locks for a noticeable share of their time. */
    public boolean waitsOnShards() {
        return claims > 0 && shardWaitShare() >= SHARD_WAIT_WARNING;
    }
}
