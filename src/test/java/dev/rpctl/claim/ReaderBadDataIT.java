package dev.rpctl.claim;

import dev.rpctl.Rpctl;
import dev.rpctl.Services;
import dev.rpctl.TestSides;
import dev.rpctl.app.App;
import dev.rpctl.cache.CacheSide;
import dev.rpctl.cache.RawRedis;
import dev.rpctl.config.BadDataPolicy;
import dev.rpctl.errors.RpctlException;
import dev.rpctl.protocol.ClaimRow;
import dev.rpctl.protocol.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reader that meets an undecodable entry follows sync.on-bad-data, and does not go to the primary for it again and again. */
class ReaderBadDataIT {
    App app;
    CacheSide side;
    long activity;

    @BeforeAll
    static void schema() {
        assertEquals(0, Rpctl.withServices().run("db", "init").exitCode());
    }

    void setUp(String kind) {
        app = Services.app();
        side = TestSides.of(kind);
        activity = Services.freshActivityId();
        app.activities().create(new ActivityService.NewActivity(activity, "bad-data", 100, 10_000, Allocation.FIXED, null, null, 1));
    }

    @AfterEach
    void tearDown() {
        side.close();
        app.close();
    }

    ClaimRow claim(long user) {
        try (WriteThrough wt = new WriteThrough(app.protocol(), List.of(side), 1, Duration.ofSeconds(1));
             ClaimService claims = new ClaimService(app.primary(), app.config().mapping(), app.activities(), app.protocol(), wt,
                     Clock.systemUTC(), 2, 128)) {
            return claims.claim(activity, user, "r" + user).row();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void under_skip_the_entry_is_replaced_by_the_primarys_row_once_and_then_read_from_the_side(String kind) {
        setUp(kind);
        ClaimRow row = claim(3);
        String claimed = app.protocol().key(activity, 3);
        String never = app.protocol().key(activity, 4);
        RawRedis.call(side, j -> j.set(claimed, "garbage"));
        RawRedis.call(side, j -> j.set(never, "R|x"));
        ClaimReader reader = new ClaimReader(app.protocol(), side, app.claims(), 8, BadDataPolicy.SKIP);

        ClaimReader.Read first = reader.read(activity, 3);
        assertEquals(ClaimReader.Source.REPAIRED, first.source());
        assertEquals(Optional.of(row.amount()), first.claim().map(ClaimRow::amount));
        assertEquals(Entry.row(row).encode(), side.get(claimed));
        ClaimReader.Read none = reader.read(activity, 4);
        assertEquals(ClaimReader.Source.REPAIRED, none.source());
        assertEquals(Optional.empty(), none.claim());
        assertEquals("P|0", side.get(never));
        for (int i = 0; i < 10; i++) {
            assertEquals(ClaimReader.Source.CACHE, reader.read(activity, 3).source());
            assertEquals(ClaimReader.Source.CACHE, reader.read(activity, 4).source());
        }
        assertEquals(2, reader.undecodable());
    }

    @ParameterizedTest
    @ValueSource(strings = {"single", "cluster"})
    void under_fail_the_read_fails_with_65_naming_the_key_and_leaves_the_value(String kind) {
        setUp(kind);
        claim(5);
        String key = app.protocol().key(activity, 5);
        RawRedis.call(side, j -> j.set(key, "garbage"));
        ClaimReader reader = new ClaimReader(app.protocol(), side, app.claims(), 8, BadDataPolicy.FAIL);
        RpctlException e = assertThrows(RpctlException.class, () -> reader.read(activity, 5));
        assertEquals(65, e.exitCode().code());
        assertTrue(e.getMessage().contains("side a: key " + key + " holds an undecodable cache entry \"garbage\""), e.getMessage());
        assertEquals("garbage", side.get(key));
        assertEquals(1, reader.undecodable());
    }
}
