package dev.rpctl.inspect;

import dev.rpctl.cache.RawRedis;
import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** inspect --activity A without --user, and inspect --key KEY, against the real sides. */
class KeySurveyIT {
    private final Rpctl rpctl = Rpctl.withServices();
    private App app;
    private String activity;

    @BeforeEach
    void claims() {
        app = Services.app();
        activity = Long.toString(Services.freshActivityId());
        assertEquals(0, rpctl.run("activity", "create", "--activity", activity, "--count", "10", "--amount", "1000").exitCode());
        for (String u : new String[] {"1", "2", "3"}) {
            assertEquals(0, rpctl.run("claim", "--activity", activity, "--user", u).exitCode());
        }
    }

    @AfterEach
    void close() {
        app.close();
    }

    private String key(long user) {
        return app.protocol().key(Long.parseLong(activity), user);
    }

    private static String sideLine(Rpctl.Result r, String side) {
        return r.out().lines().filter(l -> l.startsWith(side + " ")).findFirst().orElseThrow(() -> new AssertionError(r));
    }

    @Test
    void an_activity_without_a_user_is_counted_by_kind_on_each_side_by_scan() {
        RawRedis.call(app.side("b"), j -> j.set(key(50), "P|0"));
        Rpctl.Result r = rpctl.run("inspect", "--activity", activity);
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("3 claims on the primary"), r.out());
        assertTrue(sideLine(r, "a").matches("a\\s+3\\s+3\\s+0\\s+0\\s+0\\s+0\\s+0\\s+.*"), r.out());
        assertTrue(sideLine(r, "b").matches("b\\s+4\\s+3\\s+1\\s+0\\s+0\\s+0\\s+0\\s+.*"), r.out());
    }

    @Test
    void a_row_entry_the_primary_has_no_claim_for_is_an_orphan_and_exits_1() {
        RawRedis.call(app.side("a"), j -> j.set(key(77), "R|1|100|paid||1764324000123"));
        Rpctl.Result r = rpctl.run("inspect", "--activity", activity);
        assertEquals(1, r.exitCode(), r::toString);
        assertTrue(r.out().contains("side a: orphan " + key(77)), r.out());
    }

    @Test
    void any_key_is_decoded_on_each_side_and_a_claim_key_gets_its_verdicts() {
        Rpctl.Result r = rpctl.run("inspect", "--key", key(2));
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(sideLine(r, "a").matches("a\\s+row\\s+1\\s+100\\s+paid\\s+.*"), r.out());
        assertTrue(r.out().contains("consistent"), r.out());
        RawRedis.call(app.side("b"), j -> j.set("some:other:key", "not an entry"));
        Rpctl.Result other = rpctl.run("inspect", "--key", "some:other:key");
        assertEquals(0, other.exitCode(), other::toString);
        assertTrue(sideLine(other, "b").contains("undecodable"), other.out());
        assertTrue(sideLine(other, "a").contains("absent"), other.out());
    }
}
