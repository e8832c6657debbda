package dev.rpctl.inspect;

import dev.rpctl.app.App;
import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RawRedis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each kind of divergence, made with plain Redis commands, as inspect reports and repairs it. */
class InspectIT {
    final Rpctl rpctl = Rpctl.withServices();
    App app;
    long activity;
    String key;
    CacheSide sideB;

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    @BeforeEach
    void claimOne() {
        app = Services.app();
        activity = Services.freshActivityId();
        assertEquals(0, rpctl.run("activity", "create", "--activity", Long.toString(activity), "--count", "10",
                "--amount", "1000").exitCode());
        assertEquals(0, rpctl.run("claim", "--activity", Long.toString(activity), "--user", "42", "--request-id", "q1").exitCode());
        key = app.protocol().key(activity, 42);
        sideB = app.side("b");
    }

    @AfterEach
    void close() {
        app.close();
    }

    Rpctl.Result inspect(String... more) {
        String[] base = {"inspect", "--user", "42", "--activity", Long.toString(activity)};
        String[] args = new String[base.length + more.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return rpctl.run(args);
    }

    static String sideLine(Rpctl.Result r, String side) {
        return r.out().lines().filter(l -> l.contains("side " + side)).findFirst().orElseThrow(() -> new AssertionError(r));
    }

    @Test
    void a_fresh_claim_is_consistent_on_both_sides() {
        Rpctl.Result r = inspect();
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(sideLine(r, "a").contains("consistent"), r.out());
        assertTrue(sideLine(r, "b").contains("consistent"), r.out());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "placeholder-but-row-exists, P|0",
            "ahead-of-db, R|9|100|paid|q1|1",
            "stale, R|1|999|paid|q1|1",
            "undecodable, {\"amount\":100}",
            "stale, T|1",
    })
    void a_divergence_is_named_exits_1_and_is_repaired(String verdict, String raw) {
        RawRedis.call(sideB, j -> j.set(key, raw));
        Rpctl.Result r = inspect();
        assertEquals(1, r.exitCode(), r::toString);
        assertTrue(sideLine(r, "b").contains(verdict), r.out());
        assertTrue(sideLine(r, "a").contains("consistent"), r.out());

        Rpctl.Result repaired = inspect("--repair");
        assertEquals(0, repaired.exitCode(), repaired::toString);
        assertTrue(sideLine(repaired, "b").contains("rewrote"), repaired.out());
        assertEquals(app.side("a").get(key), sideB.get(key));
        assertEquals(0, inspect().exitCode());
    }

    @Test
    void a_lease_without_its_ttl_is_stuck() {
        RawRedis.call(sideB, j -> j.set(key, "L|deadbeef"));
        Rpctl.Result r = inspect();
        assertEquals(1, r.exitCode(), r::toString);
        assertTrue(sideLine(r, "b").contains("lease-stuck"), r.out());
        assertEquals(0, inspect("--repair").exitCode());
    }

    @Test
    void an_older_row_after_an_update_is_stale_and_json_says_so() throws Exception {
        try (Connection c = app.primary().connection(); Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE rp_claim SET status = 'refunded', version = version + 1 WHERE activity_id = "
                    + activity + " AND user_id = 42");
        }
        Rpctl.Result r = inspect("--json");
        assertEquals(1, r.exitCode(), r::toString);
        assertTrue(r.out().contains("\"verdict\" : \"stale\""), r.out());
        assertEquals(0, inspect("--repair").exitCode());
        assertTrue(sideB.get(key).startsWith("R|2|100|refunded|q1|"), sideB.get(key));
    }

    @Test
    void a_missing_entry_is_fine() {
        RawRedis.call(sideB, j -> j.del(key));
        Rpctl.Result r = inspect();
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(sideLine(r, "b").contains("missing"), r.out());
    }

    @Test
    void a_side_that_is_down_exits_69_and_still_shows_the_other() {
        Rpctl.Result r = rpctl.with("RPCTL_SIDE_B_NODES", "127.0.0.1:1")
                .run("inspect", "--user", "42", "--activity", Long.toString(activity));
        assertEquals(69, r.exitCode(), r::toString);
        assertTrue(sideLine(r, "a").contains("consistent"), r.out());
        assertTrue(r.err().contains("redis side b at 127.0.0.1:1 is unreachable"), r.err());
    }
}
