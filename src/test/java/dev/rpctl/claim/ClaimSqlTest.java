package dev.rpctl.claim;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The literals the claim path writes into its SQL. */
class ClaimSqlTest {
    private static final DateTimeFormatter REFERENCE =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    @Test
    void timesAreWrittenAsTheServerReadsThem() {
        assertEquals("1970-01-01 00:00:00.000", ClaimSql.sqlMillis(0));
        assertEquals("2026-11-29 03:05:43.007", ClaimSql.sqlMillis(Instant.parse("2026-11-29T03:05:43.007Z").toEpochMilli()));
        assertEquals("2024-02-29 23:59:59.999", ClaimSql.sqlMillis(Instant.parse("2024-02-29T23:59:59.999Z").toEpochMilli()));
        assertEquals("1969-12-31 23:59:59.999", ClaimSql.sqlMillis(-1));
        SplittableRandom random = new SplittableRandom(7);
        long from = Instant.parse("1000-01-01T00:00:00Z").toEpochMilli();
        long to = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
        for (int i = 0; i < 100_000; i++) {
            long t = random.nextLong(from, to + 1);
            assertEquals(REFERENCE.format(Instant.ofEpochMilli(t)), ClaimSql.sqlMillis(t), "at " + t);
        }
        assertThrows(IllegalArgumentException.class, () -> ClaimSql.sqlMillis(from - 1));
    }

    @Test
    void requestIdsAreTheCharactersThatNeedNoQuoting() {
        assertTrue(ClaimSql.isRequestId(""));
        assertTrue(ClaimSql.isRequestId("order-42_retry.1:a"));
        assertTrue(ClaimSql.isRequestId("x".repeat(64)));
        assertFalse(ClaimSql.isRequestId("x".repeat(65)));
        for (String bad : new String[] {"a'b", "a\\b", "a b", "a;b", "a\"b", "é", "a\nb", "a%b"}) {
            assertFalse(ClaimSql.isRequestId(bad), bad);
        }
    }
}
