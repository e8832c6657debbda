package dev.rpctl.claim;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClaimStatsTest {
    private static ClaimStats stats(long claims, long claimMicros, long waitMicros) {
        return new ClaimStats(Duration.ofMinutes(5), claims, Math.max(1, claims / 10), 3 * claimMicros, waitMicros, claimMicros);
    }

    @Test
    void claims_that_waited_a_tenth_of_their_timed_time_or_more_on_shard_locks_are_warned_about() {
        assertTrue(stats(100, 1_000_000, 100_000).waitsOnShards());
        assertFalse(stats(100, 1_000_000, 99_999).waitsOnShards());
        assertEquals(0.25, stats(100, 1_000_000, 250_000).shardWaitShare(), 1e-9);
    }

    @Test
    void no_claims_in_the_window_is_no_warning_and_no_share() {
        ClaimStats none = new ClaimStats(Duration.ofMinutes(5), 0, 0, 0, 0, 0);
        assertFalse(none.waitsOnShards());
        assertEquals(0, none.shardWaitShare());
        assertEquals(0, none.claimsPerGroup());
        assertEquals(0, none.meanClaimMillis());
    }
}
