package dev.rpctl.claim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The activity cache of ClaimService and the fast-path pauses of OneRoundTrip. */
class ExpiringTest {

    @Test
    void more_distinct_keys_than_its_bound_never_grow_it_past_the_bound() {
        Expiring<Long, String> e = new Expiring<>(ClaimService.ACTIVITY_CACHE_MAX);
        long now = 0;
        for (long key = 0; key < 50L * ClaimService.ACTIVITY_CACHE_MAX; key++) {
            now += 1000;
            // every value still fresh when the next ones arrive: the worst case
            e.put(key, "activity " + key, now + 1_000_000_000L, now);
            assertTrue(e.size() <= ClaimService.ACTIVITY_CACHE_MAX, e.size() + " keys held");
        }
    }

    @Test
    void a_value_lasts_until_its_deadline_and_not_after() {
        Expiring<Long, Boolean> paused = new Expiring<>(OneRoundTrip.PAUSED_MAX);
        paused.put(7L, Boolean.TRUE, 1_000, 0);
        assertEquals(Boolean.TRUE, paused.get(7L, 999));
        assertNull(paused.get(7L, 1_000));
        assertEquals(0, paused.size(), "an expired value is dropped when read");
    }

    @Test
    void expired_values_make_room_before_live_ones_are_forgotten() {
        Expiring<Long, String> e = new Expiring<>(4);
        e.put(1L, "old", 10, 0);
        e.put(2L, "old", 10, 0);
        e.put(3L, "old", 10, 0);
        e.put(4L, "live", 1_000, 0);
        e.put(5L, "new", 1_000, 20);
        assertEquals("live", e.get(4L, 20));
        assertEquals("new", e.get(5L, 20));
        assertEquals(2, e.size());
    }
}
